/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmfsSparse extents: the ESX redo log ("COWD"), read, written and
 * created as the delta of a child link.
 *
 * Facts (docs/vmdk-format.md §4.1): a 2048-byte little-endian header (magic
 * "COWD", version, flags, capacity u32 sectors, grainSize sectors,
 * gdOffset sectors, numGDEntries, freeSector, ..., uncleanShutdown at
 * byte 1648); a grain directory of numGDEntries u32 sector numbers
 * pointing at grain tables of 4096 u32 entries (16 KiB); an entry of 0
 * is unallocated (read the parent), anything else is the sector of the
 * grain.  Tables are allocated lazily, so GD entries may be 0.  The
 * parent comes from the descriptor (parentFileNameHint), never from the
 * header.  ESX uses 1-sector grains; vdk creates the same.
 *
 * Design (as lib/format/sparse.c, smaller): the GD lives in memory
 * (its size is checked against the file, so bounded by it); grain
 * tables live in an LRU cache written back at flush or eviction, after
 * the data they point to is durable; then the GD; then the header's
 * freeSector.  New grains and tables are appended at the end of the
 * file; a run of new whole grains is one pwrite.  One mutex per extent
 * guards all state; reads of allocated data run in parallel in the core
 * through the host offsets map() returns. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "format/format.h"

enum {
  C_MAGIC = 0, C_VERSION = 4, C_FLAGS = 8, C_CAPACITY = 12, C_GRAIN = 16,
  C_GD = 20, C_NGD = 24, C_FREE = 28, C_GENERATION = 1060, C_NAME = 1064,
  C_UNCLEAN = 1648, C_SIZE = 2048,
};
#define COWD_GTES 4096u                /* entries per grain table, fixed */
#define COWD_GT_BYTES (COWD_GTES * 4u)
#define MAX_GRAIN 0x200000u            /* 1 GiB, QEMU's cap */
#define MAX_GD (32u << 20)             /* QEMU's "L1 size too big" */
#define SLOTS 64u                      /* cached tables: 1 MiB */

struct cslot {
  uint32_t gdi;
  bool valid, dirty;
  uint64_t tick;
  uint32_t *gt;
};

struct cowd {
  uint64_t capacity, grain, ngd, gd_offset;   /* sectors / entries */
  uint64_t grain_bytes, cover_bytes, cap_bytes;
  uint64_t fsize;                    /* allocation pointer, bytes */
  uint64_t data_start;               /* first sector after the GD */
  uint32_t *gd;
  bool gd_dirty, began;
  struct cslot slots[SLOTS];
  uint32_t mru;          /* slot of the last lookup: reads are sequential */
  uint64_t tick;
  uint8_t *scratch;
  pthread_mutex_t lock;
};

/* "PATH: message" errors (format/extent.c). */
#define cerr vdk__ext_err
#define cbad(e, ...) vdk__ext_err (e, EFSCORRUPTED, __VA_ARGS__)

/* Decode and validate the header against a file of fsize bytes. */
static int
decode_header (struct vdk_extent *e, struct cowd *c, const uint8_t *b,
               uint64_t fsize)
{
  uint32_t version = le32_get (b + C_VERSION);
  uint64_t need, gd_end;

  if (le32_get (b + C_MAGIC) != COWD_MAGIC)
    return cbad (e, "not a COWD (vmfsSparse) extent: bad magic");
  c->capacity = le32_get (b + C_CAPACITY);
  c->grain = le32_get (b + C_GRAIN);
  c->gd_offset = le32_get (b + C_GD);
  c->ngd = le32_get (b + C_NGD);
  if (version < 1 || version > 3)
    return cerr (e, ENOTSUP, "COWD header: unsupported version %" PRIu32,
                 version);
  if (c->capacity == 0)
    return cbad (e, "COWD header: capacity is 0");
  if (!IS_POWER_OF_2 (c->grain) || c->grain > MAX_GRAIN)
    return cbad (e, "COWD header: grain size %" PRIu64 " sectors is "
                 "not a power of two up to %u", c->grain, MAX_GRAIN);
  need = DIV_ROUND_UP (c->capacity, COWD_GTES * c->grain);
  if (c->ngd < need || c->ngd > MAX_GD)
    return cbad (e, "COWD header: %" PRIu64 " grain directory "
                 "entries cannot cover %" PRIu64 " sectors (need %" PRIu64
                 ", at most %u)", c->ngd, c->capacity, need, MAX_GD);
  gd_end = c->gd_offset * SECTOR + c->ngd * 4;
  if (c->gd_offset < C_SIZE / SECTOR || gd_end > fsize)
    return cbad (e, "COWD header: grain directory at sector %" PRIu64
                 " (%" PRIu64 " entries) overlaps the header or lies beyond "
                 "end of file (%" PRIu64 " bytes)", c->gd_offset, c->ngd,
                 fsize);
  c->data_start = DIV_ROUND_UP (gd_end, SECTOR);
  return 0;
}

static int
load_gd (struct vdk_extent *e, struct cowd *c)
{
  CLEANUP_FREE uint8_t *raw = malloc (c->ngd * 4);

  if (!raw || !(c->gd = malloc (c->ngd * 4)))
    return cerr (e, ENOMEM, "out of memory for the grain directory");
  if (vdk__io_pread (e->io, raw, c->ngd * 4, c->gd_offset * SECTOR) == -1)
    return -1;
  for (uint64_t i = 0; i < c->ngd; i++) {
    c->gd[i] = le32_get (raw + 4 * i);
    if (c->gd[i] && (c->gd[i] < c->data_start
                     || (uint64_t) c->gd[i] * SECTOR + COWD_GT_BYTES
                     > c->fsize))
      return cbad (e, "grain directory entry %" PRIu64 ": grain "
                   "table at sector %" PRIu32 " lies %s", i, c->gd[i],
                   c->gd[i] < c->data_start ? "inside the metadata"
                   : "beyond end of file");
  }
  return 0;
}

static int
cowd_open (struct vdk_extent *e)
{
  uint8_t hb[C_SIZE];
  struct cowd *c = calloc (1, sizeof *c);
  uint64_t size, freesec;

  if (!c)
    return cerr (e, ENOMEM, "out of memory");
  e->priv = c;
  pthread_mutex_init (&c->lock, NULL);
  if (vdk__io_size (e->io, &size) == -1)
    return -1;
  if (size < C_SIZE)
    return cbad (e, "COWD header truncated (file is %" PRIu64
                 " bytes)", size);
  if (vdk__io_pread (e->io, hb, sizeof hb, 0) == -1)
    return -1;
  c->fsize = ROUND_UP (size, SECTOR);
  if (decode_header (e, c, hb, c->fsize) == -1)
    return -1;
  c->grain_bytes = c->grain * SECTOR;
  c->cover_bytes = c->grain_bytes * COWD_GTES;
  c->cap_bytes = c->capacity * SECTOR;
  /* Allocate at the end of the file: the header's freeSector may lag
   * it after a crash (data is written before metadata), never lead. */
  freesec = le32_get (hb + C_FREE);
  if (freesec * SECTOR > c->fsize)
    return cbad (e, "COWD header: freeSector %" PRIu64 " lies "
                 "beyond end of file (%" PRIu64 " sectors): truncated?",
                 freesec, c->fsize / SECTOR);
  c->fsize = MAX (c->fsize, c->data_start * SECTOR);
  if (e->length != c->cap_bytes)
    vdk__warn ("%s: descriptor gives the extent %" PRIu64 " sectors, its "
               "header %" PRIu64, e->path, e->length / SECTOR, c->capacity);
  /* The grain buffer (up to 1 GiB for a hostile header) and the table
   * slots are allocated on first use: opening costs what the file
   * holds, and a reader never needs the buffer. */
  return load_gd (e, c);
}

static int
write_gt (struct vdk_extent *e, struct cowd *c, struct cslot *sl)
{
  CLEANUP_FREE uint8_t *raw = malloc (COWD_GT_BYTES);
  if (!raw)
    return cerr (e, ENOMEM, "out of memory");
  for (uint32_t i = 0; i < COWD_GTES; i++)
    le32_put (raw + 4 * i, sl->gt[i]);
  if (vdk__io_pwrite (e->io, raw, COWD_GT_BYTES,
                      (uint64_t) c->gd[sl->gdi] * SECTOR) == -1)
    return -1;
  sl->dirty = false;
  return 0;
}

/* Grain table of GD entry gdi (nonzero), cached. */
static uint32_t *
get_gt (struct vdk_extent *e, struct cowd *c, uint32_t gdi, bool dirty)
{
  struct cslot *sl = &c->slots[c->mru];

  /* 512-byte grains: a read looks up the same table thousands of times
   * in a row; the last slot answers without scanning all 64. */
  if (sl->valid && sl->gdi == gdi) {
    sl->tick = ++c->tick;
    sl->dirty |= dirty;
    return sl->gt;
  }
  sl = NULL;
  for (uint32_t i = 0; i < SLOTS; i++) {
    struct cslot *s = &c->slots[i];
    if (s->valid && s->gdi == gdi) {
      s->tick = ++c->tick;
      s->dirty |= dirty;
      c->mru = i;
      return s->gt;
    }
    if (!sl || !s->valid || (sl->valid && s->tick < sl->tick))
      sl = s;
  }
  if (sl->valid && sl->dirty
      && (vdk__io_flush (e->io) == -1 || write_gt (e, c, sl) == -1))
    return NULL;
  sl->valid = false;
  if (!sl->gt && !(sl->gt = malloc (COWD_GT_BYTES))) {
    cerr (e, ENOMEM, "out of memory for grain tables");
    return NULL;
  }
  if (vdk__io_pread (e->io, sl->gt, COWD_GT_BYTES,
                     (uint64_t) c->gd[gdi] * SECTOR) == -1)
    return NULL;
  for (uint32_t i = 0; i < COWD_GTES; i++)
    sl->gt[i] = le32_get ((uint8_t *) &sl->gt[i]);
  sl->gdi = gdi, sl->valid = true, sl->dirty = dirty, sl->tick = ++c->tick;
  c->mru = (uint32_t) (sl - c->slots);
  return sl->gt;
}

/* Entry of grain g (0 = unallocated), checked against the file. */
static int
grain_entry (struct vdk_extent *e, struct cowd *c, uint64_t g, uint32_t *gte)
{
  uint64_t gdi = g / COWD_GTES;
  uint32_t *gt;

  *gte = 0;
  if (c->gd[gdi] == 0)
    return 0;
  if (!(gt = get_gt (e, c, (uint32_t) gdi, false)))
    return -1;
  *gte = gt[g % COWD_GTES];
  if (*gte && (*gte < c->data_start
               || (uint64_t) *gte * SECTOR + c->grain_bytes > c->fsize))
    return cbad (e, "grain %" PRIu64 " at sector %" PRIu32 " lies %s",
                 g, *gte, *gte < c->data_start ? "inside the metadata"
                 : "beyond end of file");
  return 0;
}

static int
cowd_map (struct vdk_extent *e, uint64_t off, uint64_t len, uint64_t *pnum,
          int *state, uint64_t *host)
{
  struct cowd *c = e->priv;
  SCOPED_LOCK (&c->lock);
  uint64_t done = 0, h0 = UINT64_MAX;
  int st0 = -1;

  while (done < len) {
    uint64_t o = off + done, g = o / c->grain_bytes, n, h = UINT64_MAX;
    uint32_t gte = 0;
    int st;
    if (o >= c->cap_bytes || c->gd[g / COWD_GTES] == 0) {
      st = VDK_BLOCK_HOLE;
      n = o >= c->cap_bytes ? len - done
        : c->cover_bytes - o % c->cover_bytes;
    } else {
      if (grain_entry (e, c, g, &gte) == -1)
        return -1;
      st = gte ? VDK_BLOCK_DATA : VDK_BLOCK_HOLE;
      n = c->grain_bytes - o % c->grain_bytes;
      if (gte)
        h = (uint64_t) gte * SECTOR + o % c->grain_bytes;
    }
    if (st0 != -1 && (st != st0 || (st == VDK_BLOCK_DATA && h != h0 + done)))
      break;
    if (st0 == -1)
      st0 = st, h0 = h;
    done += MIN (n, len - done);
  }
  *pnum = done, *state = st0, *host = h0;
  return 0;
}

/* ---- writing ---- */

static int
alloc_bytes (struct vdk_extent *e, struct cowd *c, uint64_t bytes,
             uint64_t *host)
{
  if ((c->fsize + bytes) / SECTOR > UINT32_MAX)
    return cerr (e, EFBIG, "COWD extent is full (2^32 sectors)");
  *host = c->fsize;
  c->fsize += bytes;
  return 0;
}

static int
alloc_gt (struct vdk_extent *e, struct cowd *c, uint32_t gdi)
{
  CLEANUP_FREE uint8_t *zero = calloc (1, COWD_GT_BYTES);
  uint64_t host = 0;

  if (!zero)
    return cerr (e, ENOMEM, "out of memory");
  if (alloc_bytes (e, c, COWD_GT_BYTES, &host) == -1
      || vdk__io_pwrite (e->io, zero, COWD_GT_BYTES, host) == -1)
    return -1;
  c->gd[gdi] = (uint32_t) (host / SECTOR);
  c->gd_dirty = true;
  return 0;
}

/* One step of a write: at most the new-grain run of one table, or the
 * rest of one grain.  *done = bytes consumed. */
static int
write_step (struct vdk_extent *e, struct cowd *c, const uint8_t *buf,
            uint64_t o, uint64_t len, vdk_fill_fn fill, void *ctx,
            uint64_t *done)
{
  uint64_t g = o / c->grain_bytes, gdi = g / COWD_GTES, gi = g % COWD_GTES;
  uint64_t inoff = o % c->grain_bytes, n = MIN (len, c->grain_bytes - inoff);
  uint64_t host = 0, k = 0;
  uint32_t gte, *gt;

  if (c->gd[gdi] == 0 && alloc_gt (e, c, (uint32_t) gdi) == -1)
    return -1;
  if (grain_entry (e, c, g, &gte) == -1
      || !(gt = get_gt (e, c, (uint32_t) gdi, false)))
    return -1;
  if (gte) {
    *done = n;
    return vdk__io_pwrite (e->io, buf, n, (uint64_t) gte * SECTOR + inoff);
  }
  if (inoff == 0 && n == c->grain_bytes) {
    uint64_t max = len / c->grain_bytes;
    while (k < max && gi + k < COWD_GTES && gt[gi + k] == 0)
      k++;
    if (alloc_bytes (e, c, k * c->grain_bytes, &host) == -1
        || vdk__io_pwrite (e->io, buf, k * c->grain_bytes, host) == -1)
      return -1;
    *done = k * c->grain_bytes;
  } else {
    uint64_t valid = MIN (c->grain_bytes, c->cap_bytes - (o - inoff));
    if (!c->scratch && !(c->scratch = malloc (c->grain_bytes)))
      return cerr (e, ENOMEM, "out of memory");
    memset (c->scratch, 0, c->grain_bytes);
    if (fill && fill (ctx, c->scratch, valid, e->start + o - inoff) == -1)
      return -1;
    memcpy (c->scratch + inoff, buf, n);
    if (alloc_bytes (e, c, c->grain_bytes, &host) == -1
        || vdk__io_pwrite (e->io, c->scratch, c->grain_bytes, host) == -1)
      return -1;
    k = 1, *done = n;
  }
  gt = get_gt (e, c, (uint32_t) gdi, true);
  for (uint64_t i = 0; i < k; i++)
    gt[gi + i] = (uint32_t) (host / SECTOR + i * c->grain);
  return 0;
}

static int
cowd_pwrite (struct vdk_extent *e, const void *buf, uint64_t len,
             uint64_t off, vdk_fill_fn fill, void *ctx)
{
  struct cowd *c = e->priv;
  SCOPED_LOCK (&c->lock);
  const uint8_t *p = buf;
  uint64_t done = 0;

  if (off + len > c->cap_bytes)
    return cerr (e, ENOSPC, "write at byte %" PRIu64 " is beyond the COWD "
                 "extent's capacity (%" PRIu64 " sectors)", off, c->capacity);
  while (len > 0) {
    if (write_step (e, c, p, off, len, fill, ctx, &done) == -1)
      return -1;
    p += done, off += done, len -= done;
  }
  return 0;
}

/* Zero: unallocated grains without a parent already read as zero;
 * everything else gets zero bytes written. */
static int
cowd_zero (struct vdk_extent *e, uint64_t off, uint64_t len,
           vdk_fill_fn fill, void *ctx)
{
  static const uint8_t zero[65536];

  while (len > 0) {
    uint64_t n = MIN (len, sizeof zero), pnum, host;
    int st;
    if (cowd_map (e, off, n, &pnum, &st, &host) == -1)
      return -1;
    if ((st != VDK_BLOCK_HOLE || fill)
        && cowd_pwrite (e, zero, pnum, off, fill, ctx) == -1)
      return -1;
    off += pnum, len -= pnum;
  }
  return 0;
}

static int
write_header_fields (struct vdk_extent *e, struct cowd *c)
{
  uint8_t b[4];
  le32_put (b, (uint32_t) (c->fsize / SECTOR));
  return vdk__io_pwrite (e->io, b, 4, C_FREE);
}

static int
cowd_flush (struct vdk_extent *e)
{
  struct cowd *c = e->priv;
  if (!c)                /* never opened (a failed open, a check pass) */
    return vdk__io_flush (e->io);
  SCOPED_LOCK (&c->lock);
  bool any = false;

  if (vdk__io_flush (e->io) == -1)            /* 1. grain data */
    return -1;
  for (uint32_t i = 0; i < SLOTS; i++)        /* 2. grain tables */
    if (c->slots[i].valid && c->slots[i].dirty) {
      if (write_gt (e, c, &c->slots[i]) == -1)
        return -1;
      any = true;
    }
  if (any && vdk__io_flush (e->io) == -1)
    return -1;
  if (c->gd_dirty) {                          /* 3. directory, freeSector */
    CLEANUP_FREE uint8_t *raw = malloc (c->ngd * 4);
    if (!raw)
      return cerr (e, ENOMEM, "out of memory");
    for (uint64_t i = 0; i < c->ngd; i++)
      le32_put (raw + 4 * i, c->gd[i]);
    if (vdk__io_pwrite (e->io, raw, c->ngd * 4, c->gd_offset * SECTOR) == -1)
      return -1;
    c->gd_dirty = false;
  }
  if (c->began && write_header_fields (e, c) == -1)
    return -1;
  return vdk__io_flush (e->io);
}

static int
set_unclean (struct vdk_extent *e, uint32_t v)
{
  uint8_t b[4];
  le32_put (b, v);
  if (vdk__io_pwrite (e->io, b, 4, C_UNCLEAN) == -1)
    return -1;
  return vdk__io_flush (e->io);
}

static int
cowd_begin_write (struct vdk_extent *e)
{
  struct cowd *c = e->priv;
  if (set_unclean (e, 1) == -1)
    return -1;
  c->began = true;
  return 0;
}

static int
cowd_close (struct vdk_extent *e)
{
  struct cowd *c = e->priv;
  int r = 0;
  if (!c)
    return 0;
  if (c->began && c->gd && (cowd_flush (e) == -1 || set_unclean (e, 0) == -1))
    r = -1;
  for (uint32_t i = 0; i < SLOTS; i++)
    free (c->slots[i].gt);
  free (c->gd);
  free (c->scratch);
  pthread_mutex_destroy (&c->lock);
  free (c);
  e->priv = NULL;
  return r;
}

int
vdk__cowd_create (struct vdk_io *io, uint64_t capacity)
{
  uint64_t ngd = DIV_ROUND_UP (capacity, COWD_GTES);
  uint64_t gd_sectors = DIV_ROUND_UP (ngd * 4, SECTOR);
  uint8_t hb[C_SIZE] = { 0 };

  if (capacity == 0 || capacity > UINT32_MAX)
    return vdk__errc (VDK_E_INVALID_ARG, EFBIG, "%s: a vmfsSparse extent "
                      "holds 1 to 2^32-1 sectors, not %" PRIu64, io->path,
                      capacity);
  le32_put (hb + C_MAGIC, COWD_MAGIC);
  le32_put (hb + C_VERSION, 1);
  le32_put (hb + C_FLAGS, 3);
  le32_put (hb + C_CAPACITY, (uint32_t) capacity);
  le32_put (hb + C_GRAIN, 1);
  le32_put (hb + C_GD, C_SIZE / SECTOR);
  le32_put (hb + C_NGD, (uint32_t) ngd);
  le32_put (hb + C_FREE, (uint32_t) (C_SIZE / SECTOR + gd_sectors));
  if (vdk__io_pwrite (io, hb, sizeof hb, 0) == -1)
    return -1;
  /* the GD is all zero: a hole up to freeSector */
  return vdk__io_truncate (io, (C_SIZE / SECTOR + gd_sectors) * SECTOR);
}

static bool
cowd_probe (const uint8_t *buf, size_t len, uint64_t size)
{
  (void) size;
  return len >= 4 && le32_get (buf) == COWD_MAGIC;
}

/* uncleanShutdown, a u32 at byte 1648 of the header. */
static int
cowd_unclean (struct vdk_extent *e, bool *unclean)
{
  uint8_t b[4];
  if (vdk__io_pread (e->io, b, 4, C_UNCLEAN) == -1)
    return -1;
  *unclean = le32_get (b) != 0;
  return 0;
}

static int
cowd_create (struct vdk_io *io, const struct vdk_ext_params *p)
{
  return vdk__cowd_create (io, p->sectors);
}

const struct vdk_extent_ops vdk__cowd_ops = {
  .name = "vmfsSparse",
  .open = cowd_open,
  .map = cowd_map,
  .pwrite = cowd_pwrite,
  .zero = cowd_zero,
  .flush = cowd_flush,
  .begin_write = cowd_begin_write,
  .close = cowd_close,
  .kinds = 1u << VDK_EXT_VMFSSPARSE,
  .probe = cowd_probe,
  .create = cowd_create,
  .unclean = cowd_unclean,
};
