/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The strict sequential stream reader: walks a streamOptimized file
 * from overHead to EOS as a streaming consumer (an OVF importer,
 * VirtualBox's sequential mode) reads it, without seeking back.
 *
 * Rules checked (docs/vmdk-format.md §3.1-3.2): the header is version >= 1
 * with compressed + markers flags and GD_AT_END; every record starts on
 * a sector; grain markers carry LBAs on grain boundaries, strictly
 * increasing, inside the capacity, with a sane size, and their data
 * inflates to a grain; a GT marker (numSectors = the table's sectors)
 * follows the grains of exactly one region and its table lists exactly
 * those grains; empty tables are omitted; the GD marker comes after the
 * last table and its directory lists exactly the tables seen; then the
 * footer marker (numSectors 1) and a footer header with that GD offset;
 * then EOS as the last sector of the file.  Type 4 ("unspecified",
 * seen in vSphere files) is skipped.
 *
 * Memory: the expected GD (4 bytes per entry; the GD must fit in the
 * file, so this is bounded by the file size) and one grain table. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "stream.h"

struct walk {
  struct vdk_io *io;
  struct sparse_header h;
  uint64_t fsize, pos, grain_bytes, last_lba;
  uint32_t ngd, gt_sectors, gd_sectors;
  uint32_t *gd_exp;             /* GT sector per region, from GT markers */
  uint32_t *pend;               /* grain sectors of the open region */
  int64_t region;               /* open region, -1 if none */
  uint64_t gd_at;               /* sector of the GD, 0 before it */
  bool footer;
  uint64_t grains;
  struct libdeflate_decompressor *d;
  uint8_t *cbuf, *gbuf;
  char *err;
  size_t errlen;
};

static int __attribute__ ((format (printf, 2, 3)))
werr (struct walk *w, const char *fmt, ...)
{
  char msg[384];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  snprintf (w->err, w->errlen, "at byte %" PRIu64 ": %s", w->pos, msg);
  return -1;
}

static int
walk_grain (struct walk *w, const struct stream_marker *m)
{
  uint64_t g = m->val / w->h.grain_size, gdi = g / w->h.num_gtes;
  uint64_t cmax = stream_cmax (w->grain_bytes), end;
  size_t got;

  if (w->gd_at)
    return werr (w, "grain marker after the grain directory");
  if (m->val % w->h.grain_size || m->val >= w->h.capacity)
    return werr (w, "grain marker LBA %" PRIu64 " is not a grain start "
                 "inside the capacity", m->val);
  if (w->last_lba != UINT64_MAX && m->val <= w->last_lba)
    return werr (w, "grain LBA %" PRIu64 " out of order (after LBA %" PRIu64
                 ")", m->val, w->last_lba);
  if (m->size > cmax || ADD_OVERFLOW (w->pos + GRAIN_MARKER_BYTES, m->size,
                                      &end) || end > w->fsize)
    return werr (w, "grain of LBA %" PRIu64 ": compressed size %" PRIu32
                 " is implausible or runs past end of file", m->val, m->size);
  if (w->region >= 0 && (uint64_t) w->region != gdi)
    return werr (w, "grain of LBA %" PRIu64 " starts region %" PRIu64
                 " before region %" PRId64 " got its grain table", m->val,
                 gdi, w->region);
  if (vdk__io_pread (w->io, w->cbuf, m->size, w->pos + GRAIN_MARKER_BYTES)
      == -1)
    return werr (w, "read failed");
  if (libdeflate_zlib_decompress (w->d, w->cbuf, m->size, w->gbuf,
                                  w->grain_bytes, &got) != LIBDEFLATE_SUCCESS
      || got < MIN (w->grain_bytes, (w->h.capacity - m->val) * SECTOR))
    return werr (w, "grain of LBA %" PRIu64 " does not inflate (zlib) to "
                 "one grain", m->val);
  w->region = (int64_t) gdi;
  w->pend[g % w->h.num_gtes] = (uint32_t) (w->pos / SECTOR);
  w->last_lba = m->val;
  w->grains++;
  w->pos = ROUND_UP (end, SECTOR);
  return 0;
}

/* Read n little-endian u32 at byte off and compare with want. */
static int
same_table (struct walk *w, uint64_t off, const uint32_t *want, uint32_t n,
            const char *what)
{
  for (uint32_t i = 0; i < n; i += 128) {
    uint8_t b[512];
    uint32_t k = MIN (128u, n - i);
    if (vdk__io_pread (w->io, b, SECTOR, off + (uint64_t) i * 4) == -1)
      return werr (w, "read failed");
    for (uint32_t j = 0; j < k; j++)
      if (le32_get (b + 4 * j) != want[i + j])
        return werr (w, "%s entry %" PRIu32 " is %" PRIu32 ", but the "
                     "stream so far says %" PRIu32, what, i + j,
                     le32_get (b + 4 * j), want[i + j]);
  }
  return 0;
}

static int
walk_table (struct walk *w, const struct stream_marker *m)
{
  if (m->type == MARKER_GT) {
    if (m->val != w->gt_sectors || w->region < 0 || w->gd_at)
      return werr (w, "grain table marker (%" PRIu64 " sectors) %s", m->val,
                   m->val != w->gt_sectors ? "has the wrong size"
                   : w->gd_at ? "after the grain directory"
                   : "without grains before it (empty tables are omitted)");
    if (same_table (w, w->pos + SECTOR, w->pend, w->h.num_gtes,
                    "grain table") == -1)
      return -1;
    w->gd_exp[w->region] = (uint32_t) (w->pos / SECTOR + 1);
    memset (w->pend, 0, (size_t) w->h.num_gtes * 4);
    w->region = -1;
    w->pos += SECTOR + (uint64_t) w->gt_sectors * SECTOR;
    return 0;
  }
  if (m->val != w->gd_sectors || w->region >= 0 || w->gd_at)
    return werr (w, "grain directory marker (%" PRIu64 " sectors) %s",
                 m->val, m->val != w->gd_sectors ? "has the wrong size"
                 : w->gd_at ? "appears twice"
                 : "follows grains that have no grain table");
  if (same_table (w, w->pos + SECTOR, w->gd_exp, w->ngd,
                  "grain directory") == -1)
    return -1;
  w->gd_at = w->pos / SECTOR + 1;
  w->pos += SECTOR + (uint64_t) w->gd_sectors * SECTOR;
  return 0;
}

static int
walk_footer (struct walk *w, const struct stream_marker *m)
{
  uint8_t b[512];
  struct sparse_header f;
  char msg[256];

  if (m->val != 1 || !w->gd_at || w->footer)
    return werr (w, "footer marker %s", m->val != 1 ? "has the wrong size"
                 : w->footer ? "appears twice"
                 : "before the grain directory");
  if (vdk__io_pread (w->io, b, SECTOR, w->pos + SECTOR) == -1)
    return werr (w, "read failed");
  if (vdk__sparse_header_decode (b, w->fsize, &f, msg, sizeof msg) == -1)
    return werr (w, "footer: %s", msg);
  if (f.gd_offset != w->gd_at || f.capacity != w->h.capacity
      || f.grain_size != w->h.grain_size || f.num_gtes != w->h.num_gtes)
    return werr (w, "footer header does not match the header and the grain "
                 "directory (gdOffset %" PRIu64 ", expected %" PRIu64 ")",
                 f.gd_offset, w->gd_at);
  w->footer = true;
  w->pos += 2 * SECTOR;
  return 0;
}

static int
walk_markers (struct walk *w)
{
  for (;;) {
    uint8_t b[16];
    struct stream_marker m;
    int r;
    if (w->pos + SECTOR > w->fsize)
      return werr (w, "stream ends without an end-of-stream marker "
                   "(truncated?)");
    if (vdk__io_pread (w->io, b, sizeof b, w->pos) == -1)
      return werr (w, "read failed");
    stream_marker_decode (b, &m);
    if (m.size)
      r = walk_grain (w, &m);
    else if (m.type == MARKER_GT || m.type == MARKER_GD)
      r = walk_table (w, &m);
    else if (m.type == MARKER_FOOTER)
      r = walk_footer (w, &m);
    else if (m.type == MARKER_UNSPECIFIED) {
      if (m.val > (w->fsize - w->pos) / SECTOR)
        return werr (w, "marker of type 4 runs past end of file");
      w->pos += SECTOR + m.val * SECTOR;
      r = 0;
    } else if (m.type == MARKER_EOS && m.val == 0) {
      if (!w->footer)
        return werr (w, "end-of-stream marker before the footer");
      if (w->pos + SECTOR != w->fsize)
        return werr (w, "data after the end-of-stream marker");
      return 0;
    } else
      return werr (w, "unknown marker type %" PRIu32, m.type);
    if (r == -1)
      return -1;
  }
}

static int
walk_open (struct walk *w)
{
  uint8_t hb[512];
  char msg[256];

  if (vdk__io_size (w->io, &w->fsize) == -1
      || vdk__io_pread (w->io, hb, sizeof hb, 0) == -1)
    return werr (w, "cannot read the header");
  if (vdk__sparse_header_decode (hb, w->fsize, &w->h, msg, sizeof msg) == -1)
    return werr (w, "%s", msg);
  if ((w->h.flags & (SPARSE_FLAG_COMPRESSED | SPARSE_FLAG_MARKERS))
      != (SPARSE_FLAG_COMPRESSED | SPARSE_FLAG_MARKERS)
      || w->h.gd_offset != SPARSE_GD_AT_END || w->h.compress != 1)
    return werr (w, "not a true stream (needs compressed and markers flags, "
                 "deflate and gdOffset = GD_AT_END)");
  if (w->h.grain_size > STREAM_MAX_GRAIN_SECTORS)
    return werr (w, "grain size of %" PRIu64 " sectors is too large",
                 w->h.grain_size);
  w->grain_bytes = w->h.grain_size * SECTOR;
  w->ngd = (uint32_t) DIV_ROUND_UP (w->h.capacity, (uint64_t) w->h.num_gtes
                                    * w->h.grain_size);
  if ((uint64_t) w->ngd * 4 > w->fsize)
    return werr (w, "a grain directory of %" PRIu32 " entries cannot fit "
                 "in the file", w->ngd);
  w->gt_sectors = DIV_ROUND_UP (w->h.num_gtes * 4, SECTOR);
  w->gd_sectors = DIV_ROUND_UP (w->ngd * 4, SECTOR);
  w->pos = MAX (MAX (w->h.overhead, 1), w->h.desc_offset + w->h.desc_size)
    * SECTOR;
  if (!(w->gd_exp = calloc (w->ngd, 4))
      || !(w->pend = calloc (w->h.num_gtes, 4))
      || !(w->d = libdeflate_alloc_decompressor ())
      || !(w->cbuf = malloc (stream_cmax (w->grain_bytes)))
      || !(w->gbuf = malloc (w->grain_bytes)))
    return werr (w, "out of memory");
  return 0;
}

int
vdk__stream_walk (struct vdk_io *io, uint64_t *grains, char *err,
                  size_t errlen)
{
  struct walk w = { .io = io, .region = -1, .last_lba = UINT64_MAX,
                    .err = err, .errlen = errlen };
  int r = walk_open (&w);

  if (r == 0)
    r = walk_markers (&w);
  if (r == 0 && grains)
    *grains = w.grains;
  free (w.gd_exp);
  free (w.pend);
  if (w.d)
    libdeflate_free_decompressor (w.d);
  free (w.cbuf);
  free (w.gbuf);
  return r;
}
