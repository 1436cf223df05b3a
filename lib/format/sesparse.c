/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* seSparse extents (vSphere's space-efficient sparse delta): read-only.
 *
 * Facts (docs/vmdk-format.md §4.3, known from QEMU's read-only driver):
 * - a constant header of u64 fields at offset 0: magic 0xCAFEBABE,
 *   version 0x200000001, capacity, grain size 8 sectors, grain table
 *   size 64 sectors, flags 0, four reserved zeros, then offset/size
 *   pairs (sectors) of the volatile header, journal header, journal,
 *   grain directory, grain tables, free bitmap, backmap and grains;
 * - the volatile header (magic 0xCAFECAFE) must have replay_journal 0,
 *   otherwise the disk is dirty and needs a journal replay;
 * - GD entries are u64: 0 unallocated, otherwise top 32 bits
 *   0x10000000 and a table index in the low 32; table sector =
 *   grain_tables_offset + index * 64;
 * - GT entries are u64 tagged by the top nibble: 0 unallocated (all
 *   zero), 1 unmapped and 2 zero (both read zero), 3 allocated with the
 *   grain index in bits 48-59 (low part) and 0-47 (shifted left 12);
 *   data sector = grains_offset + index * 8.
 * Writing is refused with a "read-only format" error before anything
 * is touched (begin_write fails, so the CID is not changed either).
 * Costs follow the data, not the claims: the grain directory read is
 * the part the extent's size needs (the descriptor's size or the
 * header's capacity, whichever is smaller), and map steps over an
 * unallocated directory entry's 16 MiB at once, so an empty 64 TiB disk
 * maps in milliseconds, not a minute of 4 KiB steps.
 * Locking: one mutex guards the one-table cache. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "format/format.h"

#define SE_MAGIC 0xcafebabeull
#define SE_VERSION 0x200000001ull
#define SE_VMAGIC 0xcafecafeull
#define SE_GTES 4096u                 /* 64 sectors of u64 */
#define SE_GT_BYTES (SE_GTES * 8u)
#define SE_GRAIN 8u
#define MAX_GD (32u << 20)

/* u64 index of each field in the constant header */
enum {
  F_MAGIC, F_VERSION, F_CAPACITY, F_GRAIN, F_GTSIZE, F_FLAGS, F_RES1,
  F_RES4 = F_RES1 + 3, F_VOL_OFF, F_VOL_SIZE, F_JH_OFF, F_JH_SIZE, F_J_OFF,
  F_J_SIZE, F_GD_OFF, F_GD_SIZE, F_GT_OFF, F_GT_SIZE, F_FB_OFF, F_FB_SIZE,
  F_BM_OFF, F_BM_SIZE, F_GRAINS_OFF, F_GRAINS_SIZE,
};

struct sesparse {
  uint64_t capacity, ngd, gd_off, gt_off, grains_off;   /* sectors */
  uint64_t fsize;
  uint64_t *gd;
  uint64_t cached_gdi;
  uint64_t *gt;
  pthread_mutex_t lock;
};

/* "PATH: message" errors (format/extent.c). */
#define seerr vdk__ext_err
#define sebad(e, ...) vdk__ext_err (e, EFSCORRUPTED, __VA_ARGS__)

static bool
in_file (uint64_t sector, uint64_t bytes, uint64_t fsize)
{
  uint64_t off, end;
  return !MUL_OVERFLOW (sector, (uint64_t) SECTOR, &off)
    && !ADD_OVERFLOW (off, bytes, &end) && end <= fsize;
}

static int
check_header (struct vdk_extent *e, struct sesparse *se, const uint64_t *f)
{
  if (f[F_MAGIC] != SE_MAGIC)
    return sebad (e, "seSparse header: bad magic");
  if (f[F_VERSION] != SE_VERSION)
    return seerr (e, ENOTSUP, "seSparse header: unsupported version %#"
                  PRIx64, f[F_VERSION]);
  if (f[F_GRAIN] != SE_GRAIN || f[F_GTSIZE] != SE_GTES * 8 / SECTOR
      || f[F_FLAGS] || f[F_RES1] || f[F_RES1 + 1] || f[F_RES1 + 2]
      || f[F_RES4])
    return seerr (e, ENOTSUP, "seSparse header: unsupported grain size %"
                  PRIu64 ", table size %" PRIu64 " or flags %" PRIx64,
                  f[F_GRAIN], f[F_GTSIZE], f[F_FLAGS]);
  if (f[F_GD_SIZE] == 0 || f[F_GD_SIZE] > MAX_GD / 64)
    return sebad (e, "seSparse header: grain directory of %" PRIu64
                  " sectors is empty or too large", f[F_GD_SIZE]);
  se->capacity = f[F_CAPACITY];
  se->ngd = f[F_GD_SIZE] * SECTOR / 8;
  se->gd_off = f[F_GD_OFF], se->gt_off = f[F_GT_OFF];
  se->grains_off = f[F_GRAINS_OFF];
  if (se->capacity == 0 || se->capacity > INT64_MAX / SECTOR
      || DIV_ROUND_UP (se->capacity, (uint64_t) SE_GTES * SE_GRAIN) > se->ngd)
    return sebad (e, "seSparse header: capacity %" PRIu64 " sectors "
                  "does not fit its grain directory (%" PRIu64 " entries)",
                  se->capacity, se->ngd);
  if (!in_file (se->gd_off, se->ngd * 8, se->fsize))
    return sebad (e, "seSparse header: grain directory at sector %"
                  PRIu64 " (%" PRIu64 " sectors) lies beyond end of file",
                  se->gd_off, f[F_GD_SIZE]);
  if (!in_file (f[F_VOL_OFF], SECTOR, se->fsize))
    return sebad (e, "seSparse header: volatile header beyond end "
                  "of file");
  return 0;
}

static int
sesparse_open (struct vdk_extent *e)
{
  uint8_t b[512];
  uint64_t f[64];
  struct sesparse *se = calloc (1, sizeof *se);

  if (!se)
    return seerr (e, ENOMEM, "out of memory");
  e->priv = se;
  pthread_mutex_init (&se->lock, NULL);
  se->cached_gdi = UINT64_MAX;
  if (vdk__io_size (e->io, &se->fsize) == -1)
    return -1;
  if (se->fsize < 1024)
    return sebad (e, "seSparse header truncated");
  if (vdk__io_pread (e->io, b, sizeof b, 0) == -1)
    return -1;
  for (int i = 0; i < 64; i++)
    f[i] = le64_get (b + 8 * i);
  if (check_header (e, se, f) == -1)
    return -1;
  if (vdk__io_pread (e->io, b, sizeof b, f[F_VOL_OFF] * SECTOR) == -1)
    return -1;
  if (le64_get (b) != SE_VMAGIC)
    return sebad (e, "seSparse volatile header: bad magic");
  if (le64_get (b + 24) != 0)
    return seerr (e, ENOTSUP, "seSparse disk is dirty: its journal needs "
                  "replaying, which vdk does not support");
  if (e->length != se->capacity * SECTOR)
    vdk__warn ("%s: descriptor gives the extent %" PRIu64 " sectors, its "
               "header %" PRIu64, e->path, e->length / SECTOR, se->capacity);
  /* Only the entries the extent can reach (see the design note). */
  se->ngd = MIN (se->ngd, MAX (1, DIV_ROUND_UP (MIN (e->length / SECTOR,
                                                     se->capacity),
                                                (uint64_t) SE_GTES
                                                * SE_GRAIN)));
  if (!(se->gd = malloc (se->ngd * 8)) || !(se->gt = malloc (SE_GT_BYTES)))
    return seerr (e, ENOMEM, "out of memory");
  if (vdk__io_pread (e->io, se->gd, se->ngd * 8, se->gd_off * SECTOR) == -1)
    return -1;
  for (uint64_t i = 0; i < se->ngd; i++)
    se->gd[i] = le64_get (&se->gd[i]);
  return 0;
}

/* State of grain g: DATA with *host, ZERO or HOLE; *no_table when its
 * whole directory entry is unallocated. */
static int
lookup (struct vdk_extent *e, struct sesparse *se, uint64_t g, int *state,
        uint64_t *host, bool *no_table)
{
  uint64_t gdi = g / SE_GTES, v, idx, gts;

  *host = UINT64_MAX;
  *state = VDK_BLOCK_HOLE;
  *no_table = gdi >= se->ngd || se->gd[gdi] == 0;
  if (*no_table)
    return 0;
  if (se->gd[gdi] >> 32 != 0x10000000u)
    return sebad (e, "grain directory entry %" PRIu64 " (%#" PRIx64
                  ") is not a table reference", gdi, se->gd[gdi]);
  if (se->cached_gdi != gdi) {
    gts = se->gt_off + (se->gd[gdi] & 0xffffffffu) * (SE_GT_BYTES / SECTOR);
    if (!in_file (gts, SE_GT_BYTES, se->fsize))
      return sebad (e, "grain table %" PRIu64 " lies beyond end of "
                    "file", gdi);
    se->cached_gdi = UINT64_MAX;
    if (vdk__io_pread (e->io, se->gt, SE_GT_BYTES, gts * SECTOR) == -1)
      return -1;
    for (uint32_t i = 0; i < SE_GTES; i++)
      se->gt[i] = le64_get (&se->gt[i]);
    se->cached_gdi = gdi;
  }
  v = se->gt[g % SE_GTES];
  switch (v >> 60) {
  case 0:
    if (v != 0)
      return sebad (e, "grain %" PRIu64 ": bad entry %#" PRIx64, g,
                    v);
    return 0;
  case 1: case 2:
    *state = VDK_BLOCK_ZERO;
    return 0;
  case 3:
    idx = ((v & 0x0fff000000000000ull) >> 48)
      | ((v & 0x0000ffffffffffffull) << 12);
    *host = (se->grains_off + idx * SE_GRAIN) * SECTOR;
    if (idx > (UINT64_MAX / SECTOR - se->grains_off) / SE_GRAIN
        || !in_file (se->grains_off + idx * SE_GRAIN, SE_GRAIN * SECTOR,
                     se->fsize))
      return sebad (e, "grain %" PRIu64 " lies beyond end of file",
                    g);
    *state = VDK_BLOCK_DATA;
    return 0;
  default:
    return sebad (e, "grain %" PRIu64 ": invalid entry %#" PRIx64,
                  g, v);
  }
}

static int
sesparse_map (struct vdk_extent *e, uint64_t off, uint64_t len,
              uint64_t *pnum, int *state, uint64_t *host)
{
  struct sesparse *se = e->priv;
  SCOPED_LOCK (&se->lock);
  const uint64_t gb = SE_GRAIN * SECTOR;
  uint64_t done = 0, h0 = UINT64_MAX;
  int st0 = -1;

  while (done < len) {
    uint64_t o = off + done, h, step = gb - o % gb;
    bool no_table = false;
    int st;
    if (o >= se->capacity * SECTOR)
      st = VDK_BLOCK_HOLE, h = UINT64_MAX, step = len - done;
    else if (lookup (e, se, o / gb, &st, &h, &no_table) == -1)
      return -1;
    if (no_table)               /* the entry's whole span at once */
      step = (uint64_t) SE_GTES * gb - o % ((uint64_t) SE_GTES * gb);
    if (h != UINT64_MAX)
      h += o % gb;
    if (st0 != -1 && (st != st0 || (st == VDK_BLOCK_DATA && h != h0 + done)))
      break;
    if (st0 == -1)
      st0 = st, h0 = h;
    done += MIN (step, len - done);
  }
  *pnum = done, *state = st0, *host = h0;
  return 0;
}

static int
sesparse_begin_write (struct vdk_extent *e)
{
  return seerr (e, EROFS, "seSparse is a read-only format in vdk: writes "
                "are not supported (convert the disk to write it)");
}

static int
sesparse_pwrite (struct vdk_extent *e, const void *buf, uint64_t len,
                 uint64_t off, vdk_fill_fn fill, void *ctx)
{
  return sesparse_begin_write (e);
}

static int
sesparse_close (struct vdk_extent *e)
{
  struct sesparse *se = e->priv;
  if (!se)
    return 0;
  free (se->gd);
  free (se->gt);
  pthread_mutex_destroy (&se->lock);
  free (se);
  e->priv = NULL;
  return 0;
}

/* The constant header's magic and version: the first two u64. */
static bool
sesparse_probe (const uint8_t *buf, size_t len, uint64_t size)
{
  (void) size;
  return len >= 16 && le64_get (buf) == SE_MAGIC
    && le64_get (buf + 8) == SE_VERSION;
}

const struct vdk_extent_ops vdk__sesparse_ops = {
  .name = "seSparse",
  .open = sesparse_open,
  .map = sesparse_map,
  .pwrite = sesparse_pwrite,
  .begin_write = sesparse_begin_write,
  .close = sesparse_close,
  .kinds = 1u << VDK_EXT_SESPARSE,
  .caps = VDK_FMT_READ_ONLY,
  .probe = sesparse_probe,
};
