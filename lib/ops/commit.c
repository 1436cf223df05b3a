/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdk_commit: merge a child's data into its parent, or into a link
 * further down its chain (vmware-vdiskmanager -e style, qemu-img commit
 * with -b and -d).
 *
 * Design
 * - The chain is opened once read-only to find the base (the parent, or
 *   the link --base names) and closed.  Then the links above the base
 *   (the child and those between) are opened read-only as one chain cut
 *   below them (shared locks), and the base as a disk of its own,
 *   writable (exclusive locks on its files, shared on its parents).
 *   Every range some link above the base holds is written into the base
 *   as that chain reads it: DATA as data, ZERO (zeroed grains) as
 *   zeroes; holes are skipped.
 * - The base's first write gives it a new CID, so its other children
 *   (and any copy of it) refuse it from then on.  When the base is
 *   closed, the child's parentCID is set to the CID the base has on disk
 *   and, with --base, its parentFileNameHint to the base: the child
 *   stays a valid link and shows what it showed.  The links between now
 *   show the merged data over the base; their parentCID no longer
 *   matches and they refuse to open, as a changed parent must.
 * - A commit into the parent that stops half-way relinks the child all
 *   the same: the child reads the same over a parent merged in full or
 *   in part (its own grains come first, and commit writes only ranges
 *   the child holds), so the commit can be run again.  Only if that
 *   descriptor write fails too does the child refuse to open (CID
 *   mismatch), with its data intact.  A commit through several levels
 *   that stops half-way leaves the child on its old chain: the link
 *   above the base then refuses its changed parent (CID mismatch), which
 *   a relink of the child to the half-merged base would hide from the
 *   links between.
 * - VDK_COMMIT_DROP then empties the child: each extent is rewritten
 *   without grains (ops/rewrite.c: new file, fsync, rename), so the
 *   child reads the base and holds no space.  The child is checked
 *   before anything is written: only formats that are rewritten in
 *   place (hosted sparse) can be emptied.
 * - Progress counts bytes of the child's address space. */
#include <errno.h>
#include <stdio.h>

#include "maint.h"

#define STEP ((uint64_t) 4 << 20)

static int
copy_range (struct vdk_link *child, struct vdk_link *parent, uint8_t *buf,
            uint64_t off, uint64_t n, int state)
{
  if (state == VDK_BLOCK_ZERO)
    return vdk__link_zero (parent, n, off);
  while (n > 0) {
    uint64_t k = MIN (n, STEP);
    if (vdk__link_pread (child, buf, k, off) == -1)
      return -1;
    if ((is_zero (buf, k) ? vdk__link_zero (parent, k, off)
         : vdk__link_pwrite (parent, buf, k, off)) == -1)
      return -1;
    off += k, n -= k;
  }
  return 0;
}

static int
merge (struct vdk_link *child, struct vdk_link *parent,
       struct maint_progress *p)
{
  CLEANUP_FREE uint8_t *buf = malloc (STEP);
  uint64_t off = 0;

  if (!buf)
    return vdk__err (ENOMEM, "out of memory");
  while (off < child->capacity) {
    uint64_t pnum;
    int st, depth;
    /* child is the top of the links above the base, cut below them: a
     * HOLE is a range none of them holds. */
    if (vdk__link_status (child, off, MIN (child->capacity - off, 1u << 30),
                          false, &pnum, &st, &depth) == -1)
      return -1;
    if (st != VDK_BLOCK_HOLE
        && copy_range (child, parent, buf, off, pnum, st) == -1)
      return -1;
    if (vdk__maint_progress (p, pnum) == -1)
      return -1;
    off += pnum;
  }
  return vdk__link_flush (parent);
}

/* Find the link to merge into: `base` (a link below the top, compared
 * by real path) or the top's parent.  Its path (as the chain resolved
 * it) in *path, its depth in *depth. */
static int
find_base (struct vdk_disk *d, const char *child, const char *base,
           char **path, int *depth)
{
  CLEANUP_FREE char *want = base ? realpath (base, NULL) : NULL;

  if (!d->top->parent)
    return vdk__err (EINVAL, "%s: has no parent to commit into", child);
  if (base && !want)
    return vdk__err (errno, "%s: %s", base, strerror (errno));
  for (struct vdk_link *l = d->top->parent; l; l = l->parent) {
    CLEANUP_FREE char *have = realpath (l->path, NULL);
    if (!base || (have && strcmp (have, want) == 0)) {
      *depth = l->depth;
      if (!(*path = strdup (l->path)))
        return vdk__err (ENOMEM, "out of memory");
      return 0;
    }
  }
  return vdk__err (EINVAL, "%s: %s is not a link of the child's chain "
                  "", child, base);
}

/* Open the child's chain read-only and cut it above the link at
 * `depth`: what remains is every link whose data goes into the base. */
static struct vdk_disk *
open_upper (const char *child, unsigned open_flags, int depth)
{
  struct vdk_disk *d = vdk__disk_open (child, VDK_OPEN_READ_ONLY
                                       | (open_flags
                                          & (VDK_OPEN_ALLOW_EXTERNAL
                                             | VDK__OPEN_FORMATS)));
  struct vdk_link *l = d ? d->top : NULL;

  while (l && l->depth + 1 < depth)
    l = l->parent;
  if (l && l->parent) {
    struct vdk_link *below = l->parent;
    l->parent = NULL;
    while (below) {
      struct vdk_link *next = below->parent;
      vdk__link_close (below, NULL);
      below = next;
      d->nlinks--;
    }
  }
  return d;
}

/* Is every extent of the child one that --drop can empty (a format
 * that is rewritten in place, as hosted sparse extents are)? */
static int
check_droppable (const char *child, unsigned open_flags)
{
  struct vdk_link *c = vdk__maint_open_link (child, open_flags, true);
  int r = 0;

  if (!c)
    return -1;
  for (size_t i = 0; r == 0 && i < c->nextents; i++)
    if (!c->extents[i].io
        || !vdk__ext_can (&c->extents[i], VDK_FMT_REWRITABLE))
      r = vdk__errc (VDK_E_UNSUPPORTED, ENOTSUP, "%s: a %s child cannot "
                     "be emptied (its %s extents are not rewritten in "
                     "place); commit without --drop and remove it", child,
                     vdk_type_name (c->type) ? vdk_type_name (c->type)
                     : "?", vdk__ext_format_name (&c->extents[i]));
  vdk__link_close (c, NULL);
  return r;
}

/* Empty every extent of the child: rewritten without grains. */
static int
empty_child (const char *child, unsigned open_flags)
{
  struct vdk_link *l = vdk__maint_open_link (child, open_flags, false);
  int r = 0;

  if (!l)
    return -1;
  for (size_t i = 0; r == 0 && i < l->nextents; i++) {
    struct vdk_extent *e = &l->extents[i];
    CLEANUP_FREE char *desc = NULL;
    struct rewrite_opts o = {
      .new_sectors = e->length / SECTOR, .has_parent = true, .empty = true,
    };
    if (l->embedded && !(desc = vdk__maint_desc_text (l)))
      r = -1;
    o.desc = desc;
    if (r == 0)
      r = vdk__rewrite_extent (e, &o);
  }
  vdk__link_close (l, NULL);
  return r;
}

/* The CID in the descriptor of the link at `path` as it is on disk,
 * UINT32_MAX if unreadable. */
static uint32_t
cid_on_disk (const char *path)
{
  struct vdk_link *l = vdk__link_open (path, VDK_OPEN_READ_ONLY
                                       | VDK_OPEN_SINGLE_LINK);
  uint32_t cid = l && l->desc ? vdk__desc_cid (l->desc, "CID") : UINT32_MAX;
  vdk__link_close (l, NULL);
  return cid;
}

/* After the merge: the child's parent is the base at `bpath`, with the
 * CID it has on disk (and, with `hint_base`, its path as the hint). */
static int
relink_child (const char *child, unsigned open_flags, const char *bpath,
              bool hint_base)
{
  struct vdk_link *c;
  CLEANUP_FREE char *real = hint_base ? realpath (bpath, NULL) : NULL;
  CLEANUP_FREE char *hint = NULL;
  const char *base = hint_base ? bpath : NULL;
  uint32_t cid = cid_on_disk (bpath);
  int r = -1;

  if (cid == UINT32_MAX)
    return -1;
  if (!(c = vdk__maint_open_link (child, open_flags, false)))
    return -1;
  if (base && (!real || !(hint = vdk__path_relative (c->dir, real))))
    vdk__err (errno ? errno : ENOMEM, "%s: cannot name the base %s", child,
              base);
  else if (hint && vdk__desc_set (c->desc, "parentFileNameHint", hint,
                                  true) == -1)
    vdk__err (ENOMEM, "out of memory");
  else {
    vdk__desc_set_cid (c->desc, "parentCID", cid);
    r = vdk__link_write_desc (c);
  }
  vdk__link_close (c, NULL);
  return r;
}

/* Learn the base (path, depth), then open the links above it read-only
 * and the base writable. */
static int
open_both (const char *child, const struct vdk_commit_params *p,
           char **bpath, int *depth, struct vdk_disk **upper,
           struct vdk_disk **bd)
{
  struct vdk_disk *d = vdk__disk_open (child, VDK_OPEN_READ_ONLY
                                       | (p->open_flags
                                          & (VDK_OPEN_ALLOW_EXTERNAL
                                             | VDK__OPEN_FORMATS)));
  int r;

  if (!d)
    return -1;
  r = find_base (d, child, p->base, bpath, depth);
  vdk__disk_free (d, NULL);
  if (r == -1 || ((p->flags & VDK_COMMIT_DROP)
                  && check_droppable (child, p->open_flags) == -1))
    return -1;
  if (!(*upper = open_upper (child, p->open_flags, *depth)))
    return -1;
  *bd = vdk__disk_open (*bpath, p->open_flags & VDK_OPEN_ALLOW_EXTERNAL);
  return *bd ? 0 : -1;
}

static int
commit_ex (const char *child, const struct vdk_commit_params *params)
{
  struct maint_progress p = { .fn = params->progress,
                              .opaque = params->opaque };
  CLEANUP_FREE char *bpath = NULL;
  struct vdk_disk *upper = NULL, *bd = NULL;
  bool failed = false, merging = false;
  int depth = 0, r = -1;

  if (open_both (child, params, &bpath, &depth, &upper, &bd) == -1)
    goto out;
  if (upper->top->capacity > bd->top->capacity) {
    vdk__err (ENOTSUP, "%s: the child (%" PRIu64 " bytes) is larger than "
              "%s (%" PRIu64 " bytes): grow that first", child,
              upper->top->capacity, bpath, bd->top->capacity);
    goto out;
  }
  p.total = upper->top->capacity;
  merging = bd->top->desc != NULL;
  if (merge (upper->top, bd->top, &p) == 0)
    r = 0;
out:
  vdk__disk_free (upper, NULL);
  vdk__disk_free (bd, &failed);
  if (r == 0 && failed)
    r = -1;
  if (merging && r == 0)
    r = relink_child (child, params->open_flags, bpath,
                      params->base != NULL);
  else if (merging && depth == 1) {     /* keep the merge's error */
    struct vdk__saved_err saved;
    vdk__err_save (&saved);
    (void) relink_child (child, params->open_flags, bpath, false);
    vdk__err_restore (&saved);
  }
  if (r == 0 && (params->flags & VDK_COMMIT_DROP))
    r = empty_child (child, params->open_flags);
  return r;
}

VDK_API int
vdk_commit_ex (const char *child, const struct vdk_commit_params *params)
{
  struct vdk_commit_params p = VDK_COMMIT_PARAMS_INIT;

  vdk__set_call ("vdk_commit_ex");
  if (params
      && (vdk__check_version ("commit", params, params->version,
                              VDK_COMMIT_PARAMS_VERSION) == -1
          || vdk__check_flags ("commit", params->flags,
                               VDK__COMMIT_FLAGS) == -1))
    return -1;
  if (params)
    p = *params;
  if (vdk__check_open_flags (p.open_flags) == -1)
    return -1;
  if (!child)
    return vdk__err (EINVAL, "no file name");
  return commit_ex (child, &p);
}

VDK_API int
vdk_commit (const char *child, unsigned open_flags, vdk_progress_fn fn,
            void *opaque)
{
  struct vdk_commit_params p = VDK_COMMIT_PARAMS_INIT;

  vdk__set_call ("vdk_commit");
  p.open_flags = open_flags;
  p.progress = fn;
  p.opaque = opaque;
  return vdk_commit_ex (child, &p);
}
