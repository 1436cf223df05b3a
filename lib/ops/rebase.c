/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdk_rebase: give a child a new parent and keep what the guest sees
 * (qemu-img rebase in its safe mode).
 *
 * Design
 * - The child's chain is opened as one disk, its top link writable
 *   (exclusive locks on the child's files) and the old parents
 *   read-only; the new parent is opened as a disk of its own, read-only.
 *   Both chains may share links (a rebase onto the grandparent drops the
 *   link between): parents hold shared locks only.
 * - Over every range the child does not hold (its holes, which read
 *   through to the old parents) the old chain and the new parent are
 *   read chunk by chunk; where they differ the old bytes are written
 *   into the child.  A chunk of zeroes is written as data, never as
 *   vdk_zero: a zero may be left unallocated when the *old* parent reads
 *   zero there, and that hole would show the new parent afterwards.
 *   Partial grains are completed from the old chain (the child's
 *   parent at the time), so what the child shows never changes.
 * - Only then, after the child is flushed, does its descriptor change:
 *   parentFileNameHint becomes the new parent's path relative to the
 *   child's folder and parentCID the new parent's CID, replaced
 *   atomically.  A crash before that leaves the child on its old parent
 *   with the same contents (only its CID changed); after it, on the new.
 * - The child's first write gives it a new CID; its own children (if
 *   any) then refuse to open, as after any write to a parent.
 * - Progress counts bytes of the child's address space. */
#include <errno.h>
#include <stdio.h>

#include "maint.h"

#define STEP ((uint64_t) 1 << 20)

/* Copy into the child what differs over one of its holes. */
static int
copy_differences (struct vdk_link *child, struct vdk_link *np, uint8_t *a,
                  uint8_t *b, uint64_t off, uint64_t len)
{
  while (len > 0) {
    uint64_t k = MIN (STEP, len);
    if (vdk__maint_read_clipped (child->parent, a, k, off) == -1
        || vdk__maint_read_clipped (np, b, k, off) == -1)
      return -1;
    if (memcmp (a, b, k) != 0 && vdk__link_pwrite (child, a, k, off) == -1)
      return -1;
    off += k, len -= k;
  }
  return 0;
}

static int
copy_all (struct vdk_link *child, struct vdk_link *np,
          struct maint_progress *p)
{
  CLEANUP_FREE uint8_t *a = malloc (STEP);
  CLEANUP_FREE uint8_t *b = malloc (STEP);
  uint64_t off = 0;

  if (!a || !b)
    return vdk__err (ENOMEM, "out of memory");
  while (off < child->capacity) {
    uint64_t pnum;
    int st, depth;
    if (vdk__link_status (child, off, MIN (child->capacity - off, 1u << 30),
                          true, &pnum, &st, &depth) == -1)
      return -1;
    if (st == VDK_BLOCK_HOLE
        && copy_differences (child, np, a, b, off, pnum) == -1)
      return -1;
    if (vdk__maint_progress (p, pnum) == -1)
      return -1;
    off += pnum;
  }
  return vdk__link_flush (child);
}

/* Point the child's descriptor at np. */
static int
relink (struct vdk_link *c, struct vdk_link *np)
{
  CLEANUP_FREE char *real = realpath (np->path, NULL);
  CLEANUP_FREE char *hint = NULL;

  if (!real || !(hint = vdk__path_relative (c->dir, real)))
    return vdk__err (errno ? errno : ENOMEM, "%s: cannot name the parent "
                     "%s", c->path, np->path);
  if (vdk__desc_set (c->desc, "parentFileNameHint", hint, true) == -1)
    return vdk__err (ENOMEM, "out of memory");
  vdk__desc_set_cid (c->desc, "parentCID", vdk__desc_cid (np->desc, "CID"));
  return vdk__link_write_desc (c);
}

/* The new parent must not be the child itself, nor a link above it. */
static int
check_not_in_child (struct vdk_disk *d, struct vdk_disk *np)
{
  CLEANUP_FREE char *c = realpath (d->top->path, NULL);
  for (struct vdk_link *l = np->top; c && l; l = l->parent) {
    CLEANUP_FREE char *p = realpath (l->path, NULL);
    if (p && strcmp (p, c) == 0)
      return vdk__err (EINVAL, "%s: the new parent %s is, or has as a "
                       "parent, the child itself", d->top->path,
                       np->top->path);
  }
  return 0;
}

static int
rebase_open (struct vdk_disk *d, struct vdk_disk *np,
             const struct vdk_rebase_params *p)
{
  struct maint_progress prog = { .fn = p->progress, .opaque = p->opaque };

  if (!d->top->desc || d->top->type == VDK_TYPE_RAW)
    return vdk__err (ENOTSUP, "%s: a raw image cannot have a parent",
                     d->top->path);
  if (!np->top->desc)
    return vdk__err (ENOTSUP, "%s: a raw image cannot be a parent (it has "
                     "no CID); convert it to VMDK first", np->top->path);
  if (check_not_in_child (d, np) == -1)
    return -1;
  prog.total = d->top->capacity;
  if (copy_all (d->top, np->top, &prog) == -1)
    return -1;
  return relink (d->top, np->top);
}

VDK_API int
vdk_rebase (const char *child, const char *new_parent,
            const struct vdk_rebase_params *params)
{
  struct vdk_rebase_params p = VDK_REBASE_PARAMS_INIT;
  struct vdk_disk *d = NULL, *np = NULL;
  bool failed = false;
  int r = -1;

  vdk__set_call ("vdk_rebase");
  if (params
      && (vdk__check_version ("rebase", params, params->version,
                              VDK_REBASE_PARAMS_VERSION) == -1
          || vdk__check_flags ("rebase", params->flags, 0) == -1
          || vdk__check_open_flags (params->open_flags) == -1))
    return -1;
  if (params)
    p = *params;
  if (!child || !new_parent)
    return vdk__err (EINVAL, "no child or parent name");
  /* The format (if any) names the child; the new parent is probed. */
  if (!(np = vdk__disk_open (new_parent, VDK_OPEN_READ_ONLY
                             | (p.open_flags & VDK_OPEN_ALLOW_EXTERNAL))))
    return -1;
  if (!(d = vdk__disk_open (child, p.open_flags
                            & (VDK_OPEN_ALLOW_EXTERNAL
                               | VDK__OPEN_FORMATS))))
    goto out;                   /* the old parents must open: see above */
  r = rebase_open (d, np, &p);
out:
  vdk__disk_free (d, &failed);
  vdk__disk_free (np, NULL);
  if (r == 0 && failed)
    r = -1;
  return r;
}
