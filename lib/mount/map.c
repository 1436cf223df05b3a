/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Volume maps and the one volume reader.
 *
 * A volume is a tree: leaves are byte ranges on set disks (disk -1 when
 * the disk is missing); inner nodes combine their children:
 *   CONCAT   children one after another (partitions, LVM segments, LDM
 *            spanned volumes, a mirror leg of several ranges);
 *   STRIPED  RAID-0: chunk c of the volume is on child c mod n at row
 *            c / n (dm-stripe; LDM striped volumes; LVM stripes);
 *   MIRROR   every child holds the whole volume;
 *   RAID5    left-symmetric parity (LDM RAID-5, md raid5_ls): in row r
 *            of n columns parity is on column (n-1) - (r mod n) and the
 *            data chunks of the row follow it, wrapping around.
 *
 * Reads and writes recurse from the root; the caller has checked the
 * range against the root size and vdk__vol_map_finish has checked that every
 * child is large enough for the offsets its parent computes, so the
 * recursion cannot leave a leaf.  Nothing here is shared mutable state:
 * any number of threads may read one map at once.  A RAID5 rebuild uses
 * a temporary buffer per call. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mount-internal.h"

struct vdk__vol_map *
vdk__vol_map_leaf (int disk, uint64_t off, uint64_t size)
{
  struct vdk__vol_map *m = calloc (1, sizeof *m);

  if (!m) {
    vdk__err (ENOMEM, "out of memory");
    return NULL;
  }
  m->type = VOL_LEAF;
  m->disk = disk;
  m->off = off;
  m->size = size;
  m->present = m->complete = disk >= 0;
  return m;
}

struct vdk__vol_map *
vdk__vol_map_node (int type, uint64_t chunk)
{
  struct vdk__vol_map *m = calloc (1, sizeof *m);

  if (!m) {
    vdk__err (ENOMEM, "out of memory");
    return NULL;
  }
  m->type = type;
  m->chunk = chunk;
  m->disk = -1;
  return m;
}

int
vdk__vol_map_add (struct vdk__vol_map *m, struct vdk__vol_map *child)
{
  struct vdk__vol_map **c;

  if (!child)
    return -1;
  c = realloc (m->child, (m->n + 1) * sizeof *c);
  if (!c) {
    vdk__vol_map_free (child);
    return vdk__err (ENOMEM, "out of memory");
  }
  m->child = c;
  c[m->n++] = child;
  return 0;
}

void
vdk__vol_map_free (struct vdk__vol_map *m)
{
  if (!m)
    return;
  for (size_t i = 0; i < m->n; i++)
    vdk__vol_map_free (m->child[i]);
  free (m->child);
  free (m->start);
  free (m);
}

struct vdk__vol_map *
vdk__vol_map_clone (const struct vdk__vol_map *m)
{
  struct vdk__vol_map *c = m->type == VOL_LEAF ? vdk__vol_map_leaf (m->disk, m->off,
                                                       m->size)
    : vdk__vol_map_node (m->type, m->chunk);

  if (!c)
    return NULL;
  for (size_t i = 0; i < m->n; i++)
    if (vdk__vol_map_add (c, vdk__vol_map_clone (m->child[i])) == -1) {
      vdk__vol_map_free (c);
      return NULL;
    }
  if (m->type != VOL_LEAF && vdk__vol_map_finish (c) == -1) {
    vdk__vol_map_free (c);
    return NULL;
  }
  return c;
}

static int
finish_concat (struct vdk__vol_map *m)
{
  uint64_t pos = 0;

  m->start = calloc (m->n ? m->n : 1, sizeof *m->start);
  if (!m->start)
    return vdk__err (ENOMEM, "out of memory");
  m->present = m->complete = true;
  for (size_t i = 0; i < m->n; i++) {
    m->start[i] = pos;
    if (ADD_OVERFLOW (pos, m->child[i]->size, &pos))
      return vdk__err (EFSCORRUPTED, "volume size overflows");
    m->present &= m->child[i]->present;
    m->complete &= m->child[i]->complete;
  }
  m->size = pos;
  return 0;
}

/* Striped, RAID5 and mirror children must be of one size. */
static int
check_equal (struct vdk__vol_map *m, uint64_t *col)
{
  if (m->n == 0)
    return vdk__err (EFSCORRUPTED, "volume without members");
  *col = m->child[0]->size;
  for (size_t i = 1; i < m->n; i++)
    if (m->child[i]->size != *col)
      return vdk__err (EFSCORRUPTED, "members differ in size (%" PRIu64
                       " and %" PRIu64 " bytes)", *col, m->child[i]->size);
  if (m->type != VOL_MIRROR
      && (m->chunk == 0 || m->chunk % SECTOR || *col % m->chunk))
    return vdk__err (EFSCORRUPTED, "stripe size %" PRIu64 " does not "
                     "divide the column size %" PRIu64, m->chunk, *col);
  return 0;
}

int
vdk__vol_map_finish (struct vdk__vol_map *m)
{
  uint64_t col = 0;
  size_t missing = 0, present = 0;

  if (m->type == VOL_LEAF)
    return 0;
  if (m->type == VOL_CONCAT)
    return finish_concat (m);
  if (check_equal (m, &col) == -1)
    return -1;
  for (size_t i = 0; i < m->n; i++) {
    present += m->child[i]->present;
    missing += !m->child[i]->complete;
  }
  m->complete = missing == 0;
  switch (m->type) {
  case VOL_STRIPED:
    m->present = present == m->n;
    if (MUL_OVERFLOW (col, (uint64_t) m->n, &m->size))
      return vdk__err (EFSCORRUPTED, "volume size overflows");
    break;
  case VOL_MIRROR:
    m->present = present > 0;
    m->size = col;
    break;
  case VOL_RAID5:
    if (m->n < 3)
      return vdk__err (EFSCORRUPTED, "RAID-5 needs 3 or more columns, not %zu",
                       m->n);
    m->present = present + 1 >= m->n;
    if (MUL_OVERFLOW (col, (uint64_t) (m->n - 1), &m->size))
      return vdk__err (EFSCORRUPTED, "volume size overflows");
    break;
  default:
    return vdk__errc (VDK_E_FAILED, EINVAL, "bad map node type %d", m->type);
  }
  m->degraded = m->present && !m->complete;
  return 0;
}

/* Truncating the root (a volume smaller than its members) is allowed. */

static int map_rw (struct vdk_diskset *set, const struct vdk__vol_map *m,
                   void *buf, uint64_t len, uint64_t off, bool wr);

static int
concat_rw (struct vdk_diskset *set, const struct vdk__vol_map *m, uint8_t *buf,
           uint64_t len, uint64_t off, bool wr)
{
  /* Binary search for the child holding `off`. */
  size_t lo = 0, hi = m->n;
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (m->start[mid] <= off)
      lo = mid;
    else
      hi = mid;
  }
  for (size_t i = lo; len > 0 && i < m->n; i++) {
    uint64_t in = off - m->start[i];
    uint64_t n = MIN (len, m->child[i]->size - in);
    if (n && map_rw (set, m->child[i], buf, n, in, wr) == -1)
      return -1;
    buf += n, off += n, len -= n;
  }
  return len ? vdk__err (EIO, "read past the end of a volume") : 0;
}

static int
striped_rw (struct vdk_diskset *set, const struct vdk__vol_map *m, uint8_t *buf,
            uint64_t len, uint64_t off, bool wr)
{
  while (len > 0) {
    uint64_t chunk = off / m->chunk, in = off % m->chunk;
    uint64_t n = MIN (len, m->chunk - in);
    size_t col = (size_t) (chunk % m->n);
    uint64_t row = chunk / m->n;
    if (map_rw (set, m->child[col], buf, n, row * m->chunk + in, wr) == -1)
      return -1;
    buf += n, off += n, len -= n;
  }
  return 0;
}

static int
mirror_rw (struct vdk_diskset *set, const struct vdk__vol_map *m, uint8_t *buf,
           uint64_t len, uint64_t off, bool wr)
{
  int done = 0;

  for (size_t i = 0; i < m->n; i++) {
    if (!m->child[i]->present)
      continue;
    if (map_rw (set, m->child[i], buf, len, off, wr) == -1) {
      if (wr)
        return -1;
      continue;         /* a read error on one leg: try the next */
    }
    done = 1;
    if (!wr)
      return 0;
  }
  return done ? 0 : vdk__err (EIO, "no mirror leg could be %s",
                              wr ? "written" : "read");
}

/* Rebuild `n` bytes of a missing column at column offset `coff` by
 * XOR of every other column at the same offset. */
static int
raid5_rebuild (struct vdk_diskset *set, const struct vdk__vol_map *m,
               size_t missing, uint8_t *buf, uint64_t n, uint64_t coff)
{
  uint8_t *tmp = malloc (n);

  if (!tmp)
    return vdk__err (ENOMEM, "out of memory");
  memset (buf, 0, n);
  for (size_t c = 0; c < m->n; c++) {
    if (c == missing)
      continue;
    if (map_rw (set, m->child[c], tmp, n, coff, false) == -1) {
      free (tmp);
      return -1;
    }
    for (uint64_t k = 0; k < n; k++)
      buf[k] ^= tmp[k];
  }
  free (tmp);
  return 0;
}

static int
raid5_read (struct vdk_diskset *set, const struct vdk__vol_map *m, uint8_t *buf,
            uint64_t len, uint64_t off)
{
  uint64_t ndata = m->n - 1;

  while (len > 0) {
    uint64_t chunk = off / m->chunk, in = off % m->chunk;
    uint64_t n = MIN (len, m->chunk - in);
    uint64_t row = chunk / ndata, d = chunk % ndata;
    uint64_t parity = (m->n - 1) - row % m->n;
    size_t col = (size_t) ((parity + 1 + d) % m->n);
    uint64_t coff = row * m->chunk + in;
    int r = m->child[col]->present
      ? map_rw (set, m->child[col], buf, n, coff, false)
      : raid5_rebuild (set, m, col, buf, n, coff);
    if (r == -1)
      return -1;
    buf += n, off += n, len -= n;
  }
  return 0;
}

static int
map_rw (struct vdk_diskset *set, const struct vdk__vol_map *m, void *buf,
        uint64_t len, uint64_t off, bool wr)
{
  switch (m->type) {
  case VOL_LEAF:
    if (m->disk < 0)
      return vdk__err (ENXIO, "the data lies on a disk missing from the set");
    return wr ? vdk__vol_write (set, (size_t) m->disk, buf, len, m->off + off)
      : vdk__vol_read (set, (size_t) m->disk, buf, len, m->off + off);
  case VOL_CONCAT:
    return concat_rw (set, m, buf, len, off, wr);
  case VOL_STRIPED:
    return striped_rw (set, m, buf, len, off, wr);
  case VOL_MIRROR:
    return mirror_rw (set, m, buf, len, off, wr);
  case VOL_RAID5:
    if (wr)
      return vdk__err (ENOTSUP, "writing RAID-5 volumes is not supported");
    return raid5_read (set, m, buf, len, off);
  }
  return vdk__errc (VDK_E_FAILED, EINVAL, "bad map node");
}

int
vdk__vol_map_pread (struct vdk_diskset *set, const struct vdk__vol_map *m, void *buf,
              uint64_t len, uint64_t off)
{
  return map_rw (set, m, buf, len, off, false);
}

int
vdk__vol_map_pwrite (struct vdk_diskset *set, const struct vdk__vol_map *m,
               const void *buf, uint64_t len, uint64_t off)
{
  return map_rw (set, m, (void *) buf, len, off, true);
}
