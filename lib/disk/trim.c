/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Giving space back: vdk_trim and vdk_zero_ex.
 *
 * Both walk the top link's extents and call vdk__ext_trim (format/
 * extent.c), which hands whole grains to the format's trim member: a
 * grain becomes unallocated where nothing shows through it, or a zeroed
 * grain where the links below hold data (a hole there would expose the
 * parent), and its host blocks are punched.  The format asks what shows
 * through, grain by grain, through struct vdk_below (the parent chain's
 * vdk__link_status), so where the parent is empty a child gives back
 * grains even without zeroed-grain entries.  A link opened alone
 * (SINGLE_LINK) whose descriptor names a parent counts as having data
 * everywhere below: what it would expose is unknown.
 *
 * vdk_trim leaves what it cannot give back alone.  vdk_zero_ex with
 * VDK_ZERO_MAY_TRIM also writes zeroes where deallocating is not
 * possible (partial grains); with VDK_ZERO_FAST a dry pass first makes
 * sure nothing needs writing, and fails with VDK_E_UNSUPPORTED,
 * having changed nothing, if something would.  Without either flag
 * vdk_zero_ex is vdk_zero.
 */
#include <errno.h>

#include "disk/disk.h"

static bool
has_parent (struct vdk_link *l)
{
  return l->parent
    || (l->desc && vdk__desc_get (l->desc, "parentFileNameHint"));
}

/* Does any link below l hold data in [off, off+len)?  ctx is l. */
static int
data_below (void *ctx, uint64_t off, uint64_t len, bool *any)
{
  struct vdk_link *l = ctx, *p = l->parent;

  *any = !p && has_parent (l);        /* not open: assume the worst */
  if (!p || off >= p->capacity)
    return 0;
  len = MIN (len, p->capacity - off);
  while (len > 0 && !*any) {
    uint64_t pnum;
    int st, depth;
    if (vdk__link_status (p, off, len, false, &pnum, &st, &depth) == -1)
      return -1;
    *any = st == VDK_BLOCK_DATA;
    off += pnum, len -= pnum;
  }
  return 0;
}

static int
fill_below (void *ctx, void *buf, uint64_t len, uint64_t off)
{
  struct vdk_link *p = ((struct vdk_link *) ctx)->parent;
  uint64_t n = p && off < p->capacity ? MIN (len, p->capacity - off) : 0;
  if (n && vdk__link_pread (p, buf, n, off) == -1)
    return -1;
  memset ((char *) buf + n, 0, len - n);
  return 0;
}

/* Would a trim (not a zero) of [off, off+len) reach an extent that can
 * give space back?  If not it is a no-op that must not even change the
 * CID (a streamOptimized disk refuses to be written). */
static bool
any_trimmable (struct vdk_link *l, uint64_t off, uint64_t len)
{
  for (size_t i = 0; i < l->nextents; i++) {
    struct vdk_extent *e = &l->extents[i];
    if (e->start < off + len && off < e->start + e->length
        && vdk__ext_can_trim (e))
      return true;
  }
  return false;
}

int
vdk__link_trim (struct vdk_link *l, uint64_t off, uint64_t len, unsigned how)
{
  struct vdk_below below = { data_below, fill_below, l };

  if (!(how & VDK__TRIM_ZERO) && !any_trimmable (l, off, len))
    return 0;
  if (!(how & VDK__TRIM_CHECK) && vdk__link_begin_write (l) == -1)
    return -1;
  while (len > 0) {
    struct vdk_extent *e = vdk__link_extent_at (l, off);
    uint64_t n;
    if (!e)
      return vdk__errc (VDK_E_OUT_OF_RANGE, EINVAL, "%s: trim at %" PRIu64
                        " is past the end", l->path, off);
    n = MIN (len, e->length - (off - e->start));
    if (vdk__ext_trim (e, off - e->start, n, how,
                       has_parent (l) ? &below : NULL) == -1)
      return -1;
    off += n, len -= n;
  }
  return 0;
}

/* ---- public calls ---- */

static int
check_range (vdk_disk *disk, uint64_t offset, uint64_t count)
{
  uint64_t end;
  if (!disk)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "no disk");
  if (ADD_OVERFLOW (offset, count, &end) || end > disk->top->capacity)
    return vdk__errc (VDK_E_OUT_OF_RANGE, EINVAL, "%s: range %" PRIu64
                      "+%" PRIu64 " is beyond the end of the disk (%"
                      PRIu64 " bytes)", disk->top->path, offset, count,
                      disk->top->capacity);
  if (disk->flags & VDK_OPEN_READ_ONLY)
    return vdk__errc (VDK_E_READ_ONLY, EROFS, "%s: disk is opened "
                      "read-only", disk->top->path);
  return 0;
}

VDK_API int
vdk_trim (vdk_disk *disk, uint64_t offset, uint64_t count)
{
  vdk__set_call ("vdk_trim");
  if (check_range (disk, offset, count) == -1)
    return -1;
  return count ? vdk__link_trim (disk->top, offset, count, 0) : 0;
}

VDK_API int
vdk_zero_ex (vdk_disk *disk, uint64_t offset, uint64_t count,
             unsigned flags)
{
  unsigned how = VDK__TRIM_ZERO;

  vdk__set_call ("vdk_zero_ex");
  if (flags & ~(VDK_ZERO_MAY_TRIM | VDK_ZERO_FAST))
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "unknown flags 0x%x",
                      flags & ~(VDK_ZERO_MAY_TRIM | VDK_ZERO_FAST));
  if (check_range (disk, offset, count) == -1)
    return -1;
  if (count == 0)
    return 0;
  if (!(flags & (VDK_ZERO_MAY_TRIM | VDK_ZERO_FAST)))
    return vdk__link_zero (disk->top, count, offset);
  if (!(flags & VDK_ZERO_MAY_TRIM))
    how |= VDK__TRIM_KEEP;
  if (flags & VDK_ZERO_FAST) {
    if (vdk__link_trim (disk->top, offset, count, how | VDK__TRIM_CHECK)
        == -1)
      return -1;
    how |= VDK__TRIM_NOWRITE;
  }
  return vdk__link_trim (disk->top, offset, count, how);
}
