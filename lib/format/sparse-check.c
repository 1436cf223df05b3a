/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Checking (and repairing) one hosted sparse extent without trusting it.
 *
 * Facts (docs/vmdk-format.md §2, §3): the header is validated by the same
 * decoder the reader uses (sparse-header.c); the grain directory (GD)
 * and its redundant copy (RGD) hold the sectors of grain tables (GT,
 * numGTEsPerGT u32 entries); a GT entry is 0 (unallocated), 1 with the
 * zeroed-grain flag (zero), or the sector of a grain.  Each GT and each
 * grain must lie inside the file and must not overlap the header, the
 * embedded descriptor, the directories, another table or another grain.
 * RGD/RGTs must say what GD/GTs say (QEMU reads the primary, libvmdk the
 * redundant copy).  A streamOptimized file ends with a footer marker, a
 * footer header and an end-of-stream marker.
 *
 * Design
 * - The walk reads the header, the directories and every table itself:
 *   the extent reader (sparse.c) refuses files with entries past the end,
 *   and check must describe exactly those.  Every number is checked
 *   against the file size before it is used as an offset or a count.
 *   The interval list is bounded by the file's real data, not its
 *   apparent size (a sparse tail of 64 GiB would otherwise let one
 *   table, named by every directory entry, cost gigabytes): intervals
 *   that do not overlap are grains holding an allocated sector, or
 *   grains in holes, each named by a non-zero entry of a table that is
 *   itself real data (128 entries a sector).  More than that and the
 *   overlap is certain, so collecting stops.
 * - Overlaps are found with one sort of all intervals (metadata, tables,
 *   grains) and one sweep.
 * - Repair changes only what needs no guess about data: entries past end
 *   of file are dropped (they read as unallocated, as they already did
 *   for QEMU), a grain cut short by the end of file is completed with
 *   the zeroes it already read as, the redundant tables are rebuilt from
 *   the primary ones, and the unclean-shutdown mark is cleared only when
 *   nothing else is wrong afterwards.  Tables are written before
 *   directories, each step fdatasync'd, the mark last.
 * - Space that no table references (leaked by a crash between writing a
 *   grain and its table) is not corruption: it is reported as a note. */
#include <errno.h>
#include <stdio.h>

#include "format/format.h"

enum iv_kind { IV_META, IV_GD, IV_RGD, IV_GT, IV_RGT, IV_GRAIN };

struct iv {
  uint64_t start, len;     /* sectors */
  uint32_t kind, gdi, gi;
};

struct ck {
  struct vdk_io *io;
  const struct vdk_check_sink *sink;
  bool repair;
  struct sparse_header h;
  uint64_t fsize, fsec, gt_sectors, gd_sectors;
  uint64_t max_iv;         /* intervals that can exist without overlap */
  uint32_t ngd, unfixed;
  uint32_t *gd, *rgd, *gt, *rgt;
  bool gd_changed, rgd_changed, unclean, too_many;
  struct iv *iv;
  size_t niv, capiv;
  unsigned overlaps;
};

static void __attribute__ ((format (printf, 3, 4)))
problem (struct ck *c, bool repairable, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  if (!(repairable && c->repair))
    c->unfixed++;
  c->sink->problem (c->sink->ctx, repairable, repairable && c->repair, msg);
}

static void __attribute__ ((format (printf, 2, 3)))
change (struct ck *c, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  c->sink->change (c->sink->ctx, msg);
}

static int
add_iv (struct ck *c, uint64_t start, uint64_t len, uint32_t kind,
        uint32_t gdi, uint32_t gi)
{
  /* Beyond max_iv (a hostile file repeating one table) stop collecting:
   * the overlap is certain and memory stays bounded by the file's real
   * data (see the design note). */
  if (c->niv > c->max_iv) {
    c->too_many = true;
    return 0;
  }
  if (c->niv == c->capiv) {
    size_t cap = c->capiv ? c->capiv * 2 : 256;
    struct iv *p = realloc (c->iv, cap * sizeof *p);
    if (!p)
      return vdk__err (ENOMEM, "%s: out of memory", c->io->path);
    c->iv = p, c->capiv = cap;
  }
  c->iv[c->niv++] = (struct iv) { start, len, kind, gdi, gi };
  return 0;
}

static int
read_u32s (struct ck *c, uint32_t *out, uint32_t n, uint64_t sector)
{
  uint8_t *raw = (uint8_t *) out;
  if (vdk__io_pread (c->io, raw, (size_t) n * 4, sector * SECTOR) == -1)
    return -1;
  for (uint32_t i = 0; i < n; i++)
    out[i] = le32_get (raw + 4 * i);
  return 0;
}

static int
write_u32s (struct ck *c, const uint32_t *v, uint32_t n, uint64_t sector)
{
  CLEANUP_FREE uint8_t *raw = malloc ((size_t) n * 4);
  if (!raw)
    return vdk__err (ENOMEM, "%s: out of memory", c->io->path);
  for (uint32_t i = 0; i < n; i++)
    le32_put (raw + 4 * i, v[i]);
  return vdk__io_pwrite (c->io, raw, (size_t) n * 4, sector * SECTOR);
}

/* A table at `sector` of gt_sectors: inside the file? */
static bool
table_inside (struct ck *c, uint64_t sector)
{
  return sector + c->gt_sectors <= c->fsec;
}

static const char *
iv_name (const struct iv *v, char *buf, size_t n)
{
  switch (v->kind) {
  case IV_META: snprintf (buf, n, "the header/descriptor"); break;
  case IV_GD: snprintf (buf, n, "the grain directory"); break;
  case IV_RGD: snprintf (buf, n, "the redundant grain directory"); break;
  case IV_GT: snprintf (buf, n, "grain table %" PRIu32, v->gdi); break;
  case IV_RGT: snprintf (buf, n, "redundant grain table %" PRIu32, v->gdi);
    break;
  default:
    snprintf (buf, n, "the grain of table %" PRIu32 " entry %" PRIu32,
              v->gdi, v->gi);
  }
  return buf;
}

/* The data a dropped entry held is gone: say which bytes. */
static void
lost (struct ck *c, uint32_t gdi, uint32_t i)
{
  uint64_t gb = c->h.grain_size * SECTOR;
  uint64_t at = ((uint64_t) gdi * c->h.num_gtes + i) * gb;
  problem (c, false, "data lost: bytes %" PRIu64 "..%" PRIu64 " of the "
           "extent (grain table %" PRIu32 " entry %" PRIu32 ") have no valid "
           "copy and %s", at, at + gb - 1, gdi, i,
           c->repair ? "now read as unallocated" : "cannot be recovered");
}

/* Entry i of the primary table is past the end of the file: take the
 * redundant table's entry when that one is valid (repair restores it),
 * else the grain is lost. */
static void
bad_grain (struct ck *c, uint32_t gdi, uint32_t i, const uint32_t *rgt,
           bool *gt_changed)
{
  uint64_t g = c->gt[i];
  bool zg = (c->h.flags & SPARSE_FLAG_ZERO_GRAIN) != 0;
  uint32_t alt = rgt ? rgt[i] : 0;
  bool alt_ok = alt != 0 && !(alt == 1 && zg) && alt >= c->h.overhead
    && (uint64_t) alt + c->h.grain_size <= c->fsec;

  problem (c, true, "grain table %" PRIu32 " entry %" PRIu32 ": grain at "
           "sector %" PRIu64 " lies beyond end of file (%" PRIu64
           " sectors)%s", gdi, i, g, c->fsec, alt_ok ? "; the redundant "
           "table's entry is intact" : "");
  if (!alt_ok)
    lost (c, gdi, i);
  if (!c->repair)
    return;
  c->gt[i] = alt_ok ? alt : 0, *gt_changed = true;
  if (alt_ok)
    change (c, "grain table %" PRIu32 " entry %" PRIu32 ": restored from "
            "the redundant table (sector %" PRIu32 ", was %" PRIu64 ")", gdi,
            i, alt, g);
  else
    change (c, "grain table %" PRIu32 " entry %" PRIu32 ": dropped (was "
            "sector %" PRIu64 ", past end of file)", gdi, i, g);
}

/* Entries of one primary GT (already read into c->gt; rgt is the
 * redundant table when it was readable, else NULL). */
static int
check_grains (struct ck *c, uint32_t gdi, const uint32_t *rgt,
              bool *gt_changed)
{
  bool zg = (c->h.flags & SPARSE_FLAG_ZERO_GRAIN) != 0;
  /* A compressed grain's length is in its marker: check its first
   * sector only. */
  uint64_t glen = c->h.flags & SPARSE_FLAG_COMPRESSED ? 1 : c->h.grain_size;
  for (uint32_t i = 0; i < c->h.num_gtes; i++) {
    uint64_t g = c->gt[i], end = g + glen;
    if (g == 0 || (g == 1 && zg))
      continue;
    if (g >= c->fsec) {
      bad_grain (c, gdi, i, rgt, gt_changed);
      if (c->gt[i] == 0 || c->gt[i] >= c->fsec)
        continue;               /* dropped, or left for check only */
      g = c->gt[i], end = g + glen;   /* restored: inside the file */
    }
    if (end > c->fsec) {
      problem (c, true, "grain table %" PRIu32 " entry %" PRIu32 ": grain "
               "at sector %" PRIu64 " is cut short by the end of file", gdi,
               i, g);
      if (c->repair) {
        if (vdk__io_truncate (c->io, end * SECTOR) == -1)
          return -1;
        change (c, "extended the file to %" PRIu64 " sectors to complete "
                "the grain at sector %" PRIu64 " (with the zeroes it read "
                "as)", end, g);
        c->fsec = end;
      }
    }
    if (g < c->h.overhead)
      problem (c, false, "grain table %" PRIu32 " entry %" PRIu32 ": grain "
               "at sector %" PRIu64 " lies inside the metadata (before "
               "overHead %" PRIu64 ")", gdi, i, g, c->h.overhead);
    if (add_iv (c, g, glen, IV_GRAIN, gdi, i) == -1)
      return -1;
  }
  return 0;
}

/* Does a table at `sector` overlap the header, the descriptor or a
 * directory?  Such a table is reported (by the sweep) and neither
 * trusted nor written: "repairing" it would overwrite metadata. */
static bool
table_over_meta (const struct ck *c, uint64_t sector)
{
  uint64_t end = sector + c->gt_sectors;
  return sector < 1
    || (c->h.desc_offset && sector < c->h.desc_offset + c->h.desc_size
        && end > c->h.desc_offset)
    || (sector < c->h.gd_offset + c->gd_sectors && end > c->h.gd_offset)
    || (c->rgd && sector < c->h.rgd_offset + c->gd_sectors
        && end > c->h.rgd_offset);
}

/* Is a directory entry's table inside the file?  One past the end is
 * reported here; check_table decides what repair does with it. */
static bool
table_ok (struct ck *c, uint32_t *dir, uint32_t gdi, bool redundant,
          bool *bad)
{
  *bad = false;
  if (dir[gdi] == 0 || table_inside (c, dir[gdi]))
    return dir[gdi] != 0;
  problem (c, true, "%sgrain directory entry %" PRIu32 ": grain table at "
           "sector %" PRIu32 " lies beyond end of file (%" PRIu64 " sectors)",
           redundant ? "redundant " : "", gdi, dir[gdi], c->fsec);
  *bad = true;
  return false;
}

/* Drop a bad directory entry (repair). */
static void
drop_entry (struct ck *c, uint32_t *dir, uint32_t gdi, bool redundant)
{
  change (c, "%sgrain directory entry %" PRIu32 ": dropped (was sector %"
          PRIu32 ", past end of file)", redundant ? "redundant " : "", gdi,
          dir[gdi]);
  dir[gdi] = 0;
  *(redundant ? &c->rgd_changed : &c->gd_changed) = true;
}

/* The primary directory entry is bad, the redundant one intact: repair
 * gives the primary directory a copy of the redundant table at the end
 * of the file (the two copies stay separate, as the format wants). */
static int
restore_gt (struct ck *c, uint32_t gdi)
{
  uint64_t at = c->fsec;
  uint32_t was = c->gd[gdi];

  if (at + c->gt_sectors > UINT32_MAX)
    return vdk__err (ENOSPC, "%s: no room for a restored table",
                     c->io->path);
  if (write_u32s (c, c->rgt, c->h.num_gtes, at) == -1)
    return -1;
  c->fsec += c->gt_sectors;
  c->gd[gdi] = (uint32_t) at, c->gd_changed = true;
  change (c, "grain directory entry %" PRIu32 ": restored from the "
          "redundant directory (its table copied to sector %" PRIu64 ", was "
          "%" PRIu32 ")", gdi, at, was);
  return 0;
}

/* Rebuild redundant table gdi from the primary one (c->gt). */
static int
rebuild_rgt (struct ck *c, uint32_t gdi, bool primary_ok)
{
  if (!primary_ok) {               /* no primary: no redundant either */
    if (c->rgd[gdi]) {
      change (c, "redundant grain directory entry %" PRIu32 ": cleared "
              "(the primary has no table)", gdi);
      c->rgd[gdi] = 0, c->rgd_changed = true;
    }
    return 0;
  }
  if (c->rgd[gdi] == 0) {          /* a new table at the end */
    uint64_t at = c->fsec;
    if (at + c->gt_sectors > UINT32_MAX)
      return vdk__err (EFBIG, "%s: no room for a redundant table",
                       c->io->path);
    c->rgd[gdi] = (uint32_t) at, c->rgd_changed = true;
    c->fsec += c->gt_sectors;
    change (c, "redundant grain table %" PRIu32 ": new table at sector %"
            PRIu64, gdi, at);
  }
  change (c, "redundant grain table %" PRIu32 " (sector %" PRIu32 "): "
          "rewritten from the primary table", gdi, c->rgd[gdi]);
  return write_u32s (c, c->gt, c->h.num_gtes, c->rgd[gdi]);
}

/* The two copies of a table are written one after the other, unsynced
 * between, so a crash in a flush can leave either copy without entries
 * the other has; any entry both have must agree. */
static bool
only_unrecorded (const struct ck *c)
{
  for (uint32_t i = 0; i < c->h.num_gtes; i++)
    if (c->gt[i] != c->rgt[i] && c->gt[i] != 0 && c->rgt[i] != 0)
      return false;
  return true;
}

/* A primary directory entry is bad (past the end): the redundant table
 * replaces it if it is intact, else every grain it held is lost. */
static int
primary_bad (struct ck *c, uint32_t gdi, bool rok, bool *pok)
{
  if (rok) {
    if (read_u32s (c, c->rgt, c->h.num_gtes, c->rgd[gdi]) == -1)
      return -1;
    if (!c->repair)
      return 0;
    if (restore_gt (c, gdi) == -1)
      return -1;
    memcpy (c->gt, c->rgt, (size_t) c->h.num_gtes * 4);
    *pok = true;
    return 0;
  }
  uint64_t span = (uint64_t) c->h.num_gtes * c->h.grain_size * SECTOR;
  uint64_t end = MIN (((uint64_t) gdi + 1) * span, c->h.capacity * SECTOR);
  problem (c, false, "data lost: grain table %" PRIu32 " (bytes %" PRIu64
           "..%" PRIu64 " of the extent) has no valid copy and %s", gdi,
           (uint64_t) gdi * span, end - 1, c->repair
           ? "now reads as unallocated" : "cannot be recovered");
  if (c->repair)
    drop_entry (c, c->gd, gdi, false);
  return 0;
}

static int
check_table (struct ck *c, uint32_t gdi)
{
  bool gt_changed = false, pbad, rbad = false, restored = false;
  bool pok, rok;

  /* Past the interval bound the overlap is certain and repair will not
   * run: walking the remaining tables (one table named by every entry)
   * would only cost time. */
  if (c->too_many)
    return 0;
  pok = table_ok (c, c->gd, gdi, false, &pbad);
  rok = c->rgd && table_ok (c, c->rgd, gdi, true, &rbad);

  if ((pok && table_over_meta (c, c->gd[gdi]))
      || (rok && table_over_meta (c, c->rgd[gdi]))) {
    if (pok && add_iv (c, c->gd[gdi], c->gt_sectors, IV_GT, gdi, 0) == -1)
      return -1;
    if (rok && add_iv (c, c->rgd[gdi], c->gt_sectors, IV_RGT, gdi, 0) == -1)
      return -1;
    c->unfixed++;               /* the sweep names the overlap */
    return 0;
  }
  if (rbad && c->repair)
    drop_entry (c, c->rgd, gdi, true);
  if (pbad) {
    if (primary_bad (c, gdi, rok, &pok) == -1)
      return -1;
    restored = pok;
    if (!pok && !rok)
      return 0;
    if (!pok)                   /* check only: the redundant copy serves */
      return add_iv (c, c->rgd[gdi], c->gt_sectors, IV_RGT, gdi, 0);
  }
  if (rok && !restored
      && read_u32s (c, c->rgt, c->h.num_gtes, c->rgd[gdi]) == -1)
    return -1;
  if (pok && ((!restored
               && read_u32s (c, c->gt, c->h.num_gtes, c->gd[gdi]) == -1)
              || add_iv (c, c->gd[gdi], c->gt_sectors, IV_GT, gdi, 0) == -1
              || check_grains (c, gdi, rok ? c->rgt : NULL,
                               &gt_changed) == -1))
    return -1;
  if (rok && add_iv (c, c->rgd[gdi], c->gt_sectors, IV_RGT, gdi, 0))
    return -1;
  if (gt_changed && write_u32s (c, c->gt, c->h.num_gtes, c->gd[gdi]) == -1)
    return -1;
  if (!c->rgd)
    return 0;
  if (pok != rok || (pok && !gt_changed
                     && memcmp (c->gt, c->rgt,
                                (size_t) c->h.num_gtes * 4) != 0)) {
    if (pok && rok && c->h.unclean && only_unrecorded (c))
      problem (c, true, "grain table %" PRIu32 ": the primary and redundant "
               "copies differ only in entries one of them has not recorded "
               "yet (a flush cut short by the unclean shutdown)", gdi);
    else
      problem (c, true, "grain table %" PRIu32 ": the primary and redundant "
               "copies differ", gdi);
    if (c->repair)
      return rebuild_rgt (c, gdi, pok);
  } else if (gt_changed && c->repair)
    return rebuild_rgt (c, gdi, pok);
  return 0;
}

static int
cmp_iv (const void *a, const void *b)
{
  const struct iv *x = a, *y = b;
  return x->start < y->start ? -1 : x->start > y->start;
}

/* One sweep over the sorted intervals: overlaps and covered space. */
static void
sweep (struct ck *c)
{
  uint64_t end = 0, covered = 0;
  size_t owner = 0;
  char a[96], b[96];

  qsort (c->iv, c->niv, sizeof *c->iv, cmp_iv);
  for (size_t i = 0; i < c->niv; i++) {
    const struct iv *v = &c->iv[i];
    if (i > 0 && v->start < end && c->overlaps++ < 20)
      problem (c, false, "%s (sector %" PRIu64 ") overlaps %s (sector %"
               PRIu64 ")%s", iv_name (v, a, sizeof a), v->start,
               iv_name (&c->iv[owner], b, sizeof b), c->iv[owner].start,
               v->kind == IV_GRAIN && c->iv[owner].kind == IV_GRAIN
               ? ": two entries share a grain" : "");
    if (v->start + v->len > end) {
      uint64_t lo = MAX (MAX (v->start, end), c->h.overhead);
      if (v->start + v->len > lo)
        covered += v->start + v->len - lo;
      end = v->start + v->len, owner = i;
    }
  }
  if (c->overlaps > 20)
    problem (c, false, "%u more overlaps", c->overlaps - 20);
  if (c->too_many && ++c->overlaps)
    problem (c, false, "tables and grains claim more sectors than the file "
             "has: they overlap (not all overlaps are listed)");
  if (c->fsec > c->h.overhead + covered && c->sink->note
      && !(c->h.flags & SPARSE_FLAG_COMPRESSED)) {
    snprintf (a, sizeof a, "%" PRIu64 " sectors of the file are referenced "
              "by no table (leaked space; vdk shrink gives it back)",
              c->fsec - c->h.overhead - covered);
    c->sink->note (c->sink->ctx, a);
  }
}

/* streamOptimized: footer marker, footer header, end-of-stream marker
 * in the last three sectors (docs/vmdk-format.md §3). */
static void
check_stream (struct ck *c)
{
  uint8_t b[3 * 512];
  struct sparse_header fh;
  char msg[256];
  bool ok = false;

  if (c->fsize >= 4 * 512
      && vdk__io_pread (c->io, b, sizeof b, c->fsize / 512 * 512 - sizeof b)
         == 0) {
    ok = le64_get (b) == 1 && le32_get (b + 8) == 0 && le32_get (b + 12) == 3
      && vdk__sparse_header_decode (b + 512, c->fsize, &fh, msg, sizeof msg)
         == 0
      && fh.gd_offset != SPARSE_GD_AT_END && is_zero (b + 1024, 512);
  }
  if (!ok)
    problem (c, false, "streamOptimized extent has no valid footer (footer "
             "marker, footer header with the grain directory, end-of-stream "
             "marker): the file is truncated or was not finished");
}

/* Sectors of real data (SEEK_DATA/SEEK_HOLE; the whole file where the
 * host cannot tell), walked run by run: runs number at most the real
 * data, so the walk costs what the file does. */
static int
real_sectors (struct ck *c, uint64_t *out)
{
  uint64_t off = 0, data, hole, n = 0;

  while (off < c->fsize) {
    if (vdk__io_next_data (c->io, off, &data, &hole) == -1)
      return -1;
    if (data >= c->fsize || hole <= data)
      break;
    hole = MIN (hole, c->fsize);
    n += DIV_ROUND_UP (hole, SECTOR) - data / SECTOR;
    off = hole;
  }
  *out = MIN (n, c->fsec);
  return 0;
}

static int
load_dirs (struct ck *c)
{
  uint64_t real;

  if (real_sectors (c, &real) == -1)
    return -1;
  c->max_iv = MIN (c->fsec, real * 129) + 8;   /* see the design note */
  c->gt_sectors = DIV_ROUND_UP ((uint64_t) c->h.num_gtes * 4, SECTOR);
  c->ngd = (uint32_t) DIV_ROUND_UP (c->h.capacity,
                                    (uint64_t) c->h.num_gtes
                                    * c->h.grain_size);
  c->gd_sectors = DIV_ROUND_UP ((uint64_t) c->ngd * 4, SECTOR);
  c->gd = malloc ((size_t) c->ngd * 4);
  c->gt = malloc ((size_t) c->h.num_gtes * 4);
  c->rgt = malloc ((size_t) c->h.num_gtes * 4);
  if ((c->h.flags & SPARSE_FLAG_RGD) && !(c->rgd = malloc ((size_t) c->ngd * 4)))
    return vdk__err (ENOMEM, "%s: out of memory", c->io->path);
  if (!c->gd || !c->gt || !c->rgt)
    return vdk__err (ENOMEM, "%s: out of memory", c->io->path);
  if (read_u32s (c, c->gd, c->ngd, c->h.gd_offset) == -1
      || (c->rgd && read_u32s (c, c->rgd, c->ngd, c->h.rgd_offset) == -1))
    return -1;
  if (add_iv (c, 0, 1, IV_META, 0, 0) == -1
      || (c->h.desc_offset
          && add_iv (c, c->h.desc_offset, c->h.desc_size, IV_META, 0, 0))
      || add_iv (c, c->h.gd_offset, c->gd_sectors, IV_GD, 0, 0) == -1
      || (c->rgd && add_iv (c, c->h.rgd_offset, c->gd_sectors, IV_RGD, 0, 0)))
    return -1;
  return 0;
}

/* Write back changed directories, then the unclean mark. */
static int
finish_repair (struct ck *c)
{
  uint8_t zero = 0;
  if (vdk__io_flush (c->io) == -1)
    return -1;
  if ((c->gd_changed && write_u32s (c, c->gd, c->ngd, c->h.gd_offset) == -1)
      || (c->rgd_changed
          && write_u32s (c, c->rgd, c->ngd, c->h.rgd_offset) == -1)
      || vdk__io_flush (c->io) == -1)
    return -1;
  if (c->gd_changed)
    change (c, "grain directory rewritten");
  if (c->rgd_changed)
    change (c, "redundant grain directory rewritten");
  if (c->unclean && c->unfixed == 0) {
    if (vdk__io_pwrite (c->io, &zero, 1, SPARSE_UNCLEAN_OFFSET) == -1
        || vdk__io_flush (c->io) == -1)
      return -1;
    change (c, "unclean-shutdown mark cleared (the structure verified "
            "clean)");
  }
  return 0;
}

static int
check_header (struct ck *c, uint64_t desc_sectors, bool *walk)
{
  uint8_t hb[512];
  char msg[256];

  *walk = false;
  if (vdk__io_size (c->io, &c->fsize) == -1)
    return -1;
  c->fsec = DIV_ROUND_UP (c->fsize, SECTOR);
  if (vdk__io_pread (c->io, hb, sizeof hb, 0) == -1)
    return -1;
  if (vdk__sparse_header_decode (hb, c->fsize, &c->h, msg, sizeof msg)
      == -1) {
    problem (c, false, "sparse header: %s", msg);
    return 0;
  }
  /* A header larger than the descriptor's extent is what a grow leaves
   * when it stops between replacing the extent and the descriptor: the
   * descriptor's size is the disk's (the reader sizes its tables by it),
   * the rest is unused.  Smaller: the reader refuses the extent. */
  if (c->h.capacity < desc_sectors)
    problem (c, false, "extent size differs: the descriptor gives %" PRIu64
             " sectors, the sparse header %" PRIu64, desc_sectors,
             c->h.capacity);
  else if (c->h.capacity > desc_sectors && c->sink->note) {
    snprintf (msg, sizeof msg, "the sparse header holds %" PRIu64
              " sectors, the descriptor uses %" PRIu64 " (an interrupted "
              "grow leaves this; the rest reads as nothing and `vdk grow` "
              "can complete it)", c->h.capacity, desc_sectors);
    c->sink->note (c->sink->ctx, msg);
  }
  if (c->h.gd_offset == SPARSE_GD_AT_END) {
    check_stream (c);              /* its tables are found via the footer */
    return 0;
  }
  c->unclean = c->h.unclean != 0;
  if (c->fsec < c->h.overhead)
    problem (c, false, "file is %" PRIu64 " sectors, shorter than its "
             "metadata (overHead %" PRIu64 ")", c->fsec, c->h.overhead);
  *walk = true;
  return 0;
}

static int
walk (struct vdk_io *io, uint64_t desc_sectors, bool repair,
      const struct vdk_check_sink *sink, unsigned *overlaps)
{
  struct ck c = { .io = io, .sink = sink, .repair = repair };
  bool walk;
  int r = -1;

  if (check_header (&c, desc_sectors, &walk) == -1)
    return -1;
  if (!walk)
    return 0;
  if (load_dirs (&c) == -1)
    goto out;
  for (uint32_t i = 0; i < c.ngd; i++)
    if (check_table (&c, i) == -1)
      goto out;
  sweep (&c);
  *overlaps = c.overlaps;
  if (c.unclean)           /* cleared only when nothing else is wrong */
    problem (&c, c.unfixed == 0, "unclean-shutdown mark is set: the disk "
             "was not closed cleanly");
  if (repair && finish_repair (&c) == -1)
    goto out;
  r = 0;
out:
  free (c.gd), free (c.rgd), free (c.gt), free (c.rgt), free (c.iv);
  return r;
}

static void
quiet_problem (void *ctx, int a, int b, const char *t)
{
}

static void
quiet_line (void *ctx, const char *t)
{
}

int
vdk__sparse_check (struct vdk_io *io, uint64_t desc_sectors, bool repair,
                   const struct vdk_check_sink *sink)
{
  static const struct vdk_check_sink quiet = {
    NULL, quiet_problem, quiet_line, quiet_line,
  };
  unsigned overlaps = 0;

  /* Structures that overlap make every write a guess (a table written
   * back could land on a grain): look first, repair only if none. */
  if (repair && walk (io, desc_sectors, false, &quiet, &overlaps) == -1)
    return -1;
  if (overlaps) {
    sink->problem (sink->ctx, 0, 0, "repair not attempted: tables, grains "
                   "or metadata overlap (see below)");
    repair = false;
  }
  return walk (io, desc_sectors, repair, sink, &overlaps);
}
