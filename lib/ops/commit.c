/* vdk_commit: merge a child's data into its parent (vmware-vdiskmanager
 * -e style, qemu-img commit).
 *
 * Design
 * - The child is opened alone, read-only (shared locks), and its parent
 *   as a disk of its own, writable (exclusive locks on the parent's
 *   files, shared on the grandparents).  Every range the child holds is
 *   written into the parent: DATA as data, ZERO (zeroed grains) as
 *   zeroes; holes are skipped.
 * - The parent's first write gives it a new CID, so its other children
 *   (and any copy of it) refuse it from then on.  The child itself reads
 *   the same over a parent merged in full or in part (its own grains
 *   come first, and commit writes only ranges the child holds), so once
 *   the parent is closed its child's parentCID is set to the CID the
 *   parent has on disk, also when the merge stopped half-way: the
 *   commit can then be run again.  Only if that descriptor write fails
 *   too does the child refuse to open (CID mismatch), with its data
 *   intact.  The child stays a valid (now redundant) link and may be
 *   removed.
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
    if (vdk__link_status (child, off, MIN (child->capacity - off, 1u << 30),
                          true, &pnum, &st, &depth) == -1)
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

/* The parent's path as the chain resolves it (with the CID check). */
static char *
parent_path (const char *child, unsigned open_flags)
{
  struct vdk_disk *d = vdk__disk_open (child, VDK_OPEN_READ_ONLY
                                       | (open_flags
                                          & (VDK_OPEN_ALLOW_EXTERNAL
                                             | VDK__OPEN_FORMATS)));
  char *p = NULL;
  if (!d)
    return NULL;
  if (!d->top->parent)
    vdk__err (EINVAL, "%s: has no parent to commit into", child);
  else if (!(p = strdup (d->top->parent->path)))
    vdk__err (ENOMEM, "out of memory");
  vdk__disk_free (d, NULL);
  return p;
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

/* After the merge: record the parent's CID in the child, if it changed. */
static int
relink_child (const char *child, unsigned open_flags, const char *parent)
{
  struct vdk_link *c;
  uint32_t cid = cid_on_disk (parent);
  int r = 0;
  if (cid == UINT32_MAX)
    return -1;
  if (!(c = vdk__maint_open_link (child, open_flags, false)))
    return -1;
  if (vdk__desc_cid (c->desc, "parentCID") != cid) {
    vdk__desc_set_cid (c->desc, "parentCID", cid);
    r = vdk__link_write_desc (c);
  }
  vdk__link_close (c, NULL);
  return r;
}

VDK_API int
vdk_commit (const char *child, unsigned open_flags, vdk_progress_fn fn,
            void *opaque)
{
  struct maint_progress p = { .fn = fn, .opaque = opaque };
  CLEANUP_FREE char *ppath = NULL;
  struct vdk_link *c = NULL;
  struct vdk_disk *pd = NULL;
  bool failed = false, merging = false;
  int r = -1;

  vdk__set_call ("vdk_commit");
  if (vdk__check_open_flags (open_flags) == -1)
    return -1;
  if (!(ppath = parent_path (child, open_flags))
      || !(c = vdk__maint_open_link (child, open_flags, true))
      || !(pd = vdk__disk_open (ppath, open_flags
                                & VDK_OPEN_ALLOW_EXTERNAL)))
    goto out;
  if (c->capacity > pd->top->capacity) {
    vdk__err (ENOTSUP, "%s: the child (%" PRIu64 " bytes) is larger than "
              "its parent %s (%" PRIu64 " bytes): grow the parent first",
              child, c->capacity, ppath, pd->top->capacity);
    goto out;
  }
  p.total = c->capacity;
  merging = pd->top->desc != NULL;
  if (merge (c, pd->top, &p) == 0)
    r = 0;
out:
  vdk__link_close (c, NULL);
  vdk__disk_free (pd, &failed);
  if (r == 0 && failed)
    r = -1;
  if (merging && r == 0)
    r = relink_child (child, open_flags, ppath);
  else if (merging) {               /* keep the merge's error */
    struct vdk__saved_err saved;
    vdk__err_save (&saved);
    (void) relink_child (child, open_flags, ppath);
    vdk__err_restore (&saved);
  }
  return r;
}
