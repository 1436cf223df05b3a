/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdk_attach: give a child link a new parent (VixDiskLib_Attach,
 * re-parenting as `qemu-img rebase` does).
 *
 * Design
 * - Safe mode (the default) proves the guest-visible contents do not
 *   change.  A new parent whose CID is the child's parentCID is the
 *   parent the child was made from (a CID changes with every write), so
 *   it is accepted as it is: that is how a parent that was renamed or
 *   moved is attached again.  Otherwise, over every range the child does
 *   not hold (its holes, which read through to the parent) the old chain
 *   and the new parent must read the same bytes.  If the old chain
 *   cannot be opened that proof is impossible and attach refuses;
 *   VDK_ATTACH_UNSAFE skips it (the caller knows the new parent holds
 *   the same data).
 * - Then only the child's descriptor changes: parentFileNameHint becomes
 *   the new parent's path relative to the child's folder, and parentCID
 *   the new parent's CID; the descriptor is replaced atomically (or
 *   rewritten in place when embedded).
 * - VDK_ATTACH_DRY_RUN (VixDiskLib_IsAttachPossible) does every check,
 *   the proof and opening the child for writing included, and writes
 *   nothing. */
#include <errno.h>
#include <stdio.h>

#include "maint.h"

#define STEP ((uint64_t) 1 << 20)

static int
compare_holes (struct vdk_link *child, struct vdk_link *np, uint8_t *a,
               uint8_t *b)
{
  uint64_t off = 0;
  while (off < child->capacity) {
    uint64_t pnum;
    int st, depth;
    if (vdk__link_status (child, off, MIN (child->capacity - off, 1u << 30),
                          true, &pnum, &st, &depth) == -1)
      return -1;
    for (uint64_t o = off; st == VDK_BLOCK_HOLE && o < off + pnum;) {
      uint64_t k = MIN (STEP, off + pnum - o);
      if (vdk__maint_read_clipped (child->parent, a, k, o) == -1
          || vdk__maint_read_clipped (np, b, k, o) == -1)
        return -1;
      if (memcmp (a, b, k) != 0)
        return vdk__err (EINVAL, "%s: the new parent %s differs from the "
                         "old parent chain near byte %" PRIu64 ", where the "
                         "child reads through: attaching would change the "
                         "disk's contents",
                         child->path, np->path, o);
      o += k;
    }
    off += pnum;
  }
  return 0;
}

static int
prove_same (const char *child, struct vdk_link *np, unsigned open_flags)
{
  struct vdk_disk *old = vdk__disk_open (child, VDK_OPEN_READ_ONLY
                                         | open_flags);
  CLEANUP_FREE uint8_t *a = malloc (STEP);
  CLEANUP_FREE uint8_t *b = malloc (STEP);
  int r;

  if (!old)
    return vdk__err_prefix ("cannot open the child's current chain to prove "
                            "that its contents stay the same");
  r = a && b ? compare_holes (old->top, np, a, b)
    : vdk__err (ENOMEM, "out of memory");
  vdk__disk_free (old, NULL);
  return r;
}

/* Point the child at np; with dry_run, open it as relink would (for
 * writing: a child in use fails with EBUSY) and change nothing. */
static int
relink (const char *child, struct vdk_link *np, unsigned open_flags,
        bool dry_run)
{
  struct vdk_link *c = vdk__maint_open_link (child, open_flags, false);
  CLEANUP_FREE char *real = realpath (np->path, NULL);
  CLEANUP_FREE char *hint = NULL;
  int r = -1;

  if (!c)
    return -1;
  if (!c->desc)
    vdk__err (ENOTSUP, "%s: a raw image cannot have a parent", child);
  else if (dry_run)
    r = 0;
  else if (!real || !(hint = vdk__path_relative (c->dir, real)))
    vdk__err (ENOMEM, "%s: cannot name the parent", child);
  else if (vdk__desc_set (c->desc, "parentFileNameHint", hint, true) == -1)
    vdk__err (ENOMEM, "out of memory");
  else {
    vdk__desc_set_cid (c->desc, "parentCID",
                       vdk__desc_cid (np->desc, "CID"));
    r = vdk__link_write_desc (c);
  }
  vdk__link_close (c, NULL);
  return r;
}

/* Does the child record `cid` as its parentCID?  (false when it cannot
 * be read: the proof by content then decides.) */
static bool
child_expects (const char *child, unsigned open_flags, uint32_t cid)
{
  struct vdk_link *c = vdk__link_open (child, VDK_OPEN_READ_ONLY
                                       | VDK_OPEN_SINGLE_LINK
                                       | VDK__OPEN_NO_FORMAT | open_flags);
  uint32_t want = c && c->desc ? vdk__desc_cid (c->desc, "parentCID")
    : UINT32_MAX;

  vdk__link_close (c, NULL);
  return want != UINT32_MAX && want == cid;
}

VDK_API int
vdk_attach (const char *child, const char *new_parent, unsigned flags,
            unsigned open_flags)
{
  struct vdk_disk *np;
  int r;

  vdk__set_call ("vdk_attach");
  if (vdk__check_open_flags (open_flags) == -1)
    return -1;
  if (vdk__check_flags ("attach", flags, VDK__ATTACH_FLAGS) == -1)
    return -1;
  /* The format (if any) names the child; the new parent is probed. */
  open_flags &= VDK_OPEN_ALLOW_EXTERNAL | VDK__OPEN_FORMATS;
  if (!child || !new_parent)
    return vdk__err (EINVAL, "no child or parent name");
  if (!(np = vdk__disk_open (new_parent, VDK_OPEN_READ_ONLY
                             | (open_flags & VDK_OPEN_ALLOW_EXTERNAL))))
    return -1;
  if (!np->top->desc)
    r = vdk__err (ENOTSUP, "%s: a raw image cannot be a parent (it has no "
                  "CID); convert it to VMDK first", new_parent);
  else if (!(flags & VDK_ATTACH_UNSAFE)
           && !child_expects (child, open_flags,
                              vdk__desc_cid (np->top->desc, "CID"))
           && prove_same (child, np->top, open_flags) == -1)
    r = -1;
  else
    r = relink (child, np->top, open_flags,
                (flags & VDK_ATTACH_DRY_RUN) != 0);
  vdk__disk_free (np, NULL);
  return r;
}
