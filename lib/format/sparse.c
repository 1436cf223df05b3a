/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hosted sparse extents (KDMV): grain lookup, allocation, write-back of
 * grain tables in crash-safe order.
 *
 * Facts (docs/vmdk-format.md §2): a grain directory (GD) of u32 sector
 * numbers points at grain tables (GT) of numGTEsPerGT u32 entries; an
 * entry is 0 (unallocated: read the parent), 1 with the zeroed-grain
 * flag (reads as zero, parent not consulted) or the sector of the
 * grain.  A redundant GD/GT pair (flag bit 1) must be kept identical:
 * libvmdk reads the redundant copy, QEMU the primary.
 *
 * Design
 * - The GD (and RGD) live in memory for the life of the handle: their
 *   size is bounded by the file size, checked at open.
 * - GTs live in a small cache (at most GT_CACHE_SLOTS tables).  Grain
 *   table entries are written back, not through: a new grain's data is
 *   written at once, its GT entry only at flush or eviction.  Flush
 *   order is: fdatasync (data) -> GTs, both copies -> fdatasync -> GD
 *   and RGD if a GT was added -> fdatasync.  So a crash leaves at worst
 *   leaked grains, never an entry pointing at unwritten data, and every
 *   write completed before a successful flush is durable.
 * - New grains and tables are appended at the end of the file.  Runs of
 *   whole new grains are written with one pwrite straight from the
 *   caller's buffer; a partial grain is completed from fill() (the
 *   parent chain) or zeroes first.
 * - Locking: one mutex per extent guards the GD, the cache and the
 *   allocation pointer; map() holds it only while looking up, so reads
 *   of allocated data (done by the core with the host offsets map()
 *   returns) run in parallel.  Writes hold it for their duration.
 */
#include <errno.h>
#include <stdio.h>

#include "format/format.h"

#define GT_CACHE_SLOTS 512u

struct gt_slot {
  uint32_t gdi;
  bool valid, dirty;
  uint64_t tick;
  uint32_t *gt;
};

struct sparse {
  struct sparse_header h;
  uint64_t fsize;          /* bytes; end of allocated space */
  uint64_t grain_bytes, cover_bytes, cap_bytes;
  uint64_t data_start;     /* first sector a grain may occupy */
  uint32_t ngd, gt_bytes;
  uint32_t *gd, *rgd;      /* rgd NULL without a redundant copy */
  bool gd_dirty, zero_grain, began;
  struct gt_slot *slots;
  uint32_t nslots;
  int32_t *slot_of;        /* per GD entry: cache slot or -1 */
  uint64_t tick;
  uint8_t *scratch;        /* one grain, for partial writes */
  struct meta_iv *meta;    /* metadata sectors, sorted by start */
  uint32_t nmeta, capmeta;
  pthread_mutex_t lock;
};

/* Sectors [start, end) holding metadata; maxend = the largest end of
 * this and every earlier interval, so one binary search answers "does
 * [a, b) touch metadata?" even when hostile intervals overlap. */
struct meta_iv {
  uint64_t start, end, maxend;
};

/* "PATH: message" errors (format/extent.c). */
#define serr vdk__ext_err
#define sbad(e, ...) vdk__ext_err (e, EFSCORRUPTED, __VA_ARGS__)

static int
load_gd (struct vdk_extent *e, struct sparse *s, uint64_t off, uint32_t **out,
         const char *what)
{
  uint32_t *gd = malloc ((size_t) s->ngd * 4);
  uint8_t *raw = malloc ((size_t) s->ngd * 4);
  int r = -1;

  if (!gd || !raw) {
    serr (e, ENOMEM, "out of memory for the %s", what);
    goto out;
  }
  if (vdk__io_pread (e->io, raw, (size_t) s->ngd * 4, off * SECTOR) == -1)
    goto out;
  for (uint32_t i = 0; i < s->ngd; i++) {
    uint64_t end;
    gd[i] = le32_get (raw + 4 * i);
    if (gd[i] && (ADD_OVERFLOW ((uint64_t) gd[i] * SECTOR,
                                (uint64_t) s->gt_bytes, &end)
                  || end > s->fsize)) {
      sbad (e, "%s entry %" PRIu32 ": grain table at sector %" PRIu32
            " lies beyond end of file (%" PRIu64 " sectors)", what, i, gd[i],
            s->fsize / SECTOR);
      goto out;
    }
  }
  *out = gd;
  gd = NULL;
  r = 0;
out:
  free (gd);
  free (raw);
  return r;
}

static int
cmp_meta (const void *a, const void *b)
{
  const struct meta_iv *x = a, *y = b;
  return x->start < y->start ? -1 : x->start > y->start;
}

static int
add_meta (struct vdk_extent *e, struct sparse *s, uint64_t start,
          uint64_t len)
{
  if (len == 0)
    return 0;
  if (s->nmeta == s->capmeta) {
    uint32_t cap = s->capmeta ? s->capmeta * 2 : 16;
    struct meta_iv *m = realloc (s->meta, cap * sizeof *m);
    if (!m)
      return serr (e, ENOMEM, "out of memory");
    s->meta = m, s->capmeta = cap;
  }
  s->meta[s->nmeta++] = (struct meta_iv) { start, start + len, 0 };
  return 0;
}

static void
finish_meta (struct sparse *s)
{
  qsort (s->meta, s->nmeta, sizeof *s->meta, cmp_meta);
  for (uint32_t i = 0; i < s->nmeta; i++)
    s->meta[i].maxend = MAX (s->meta[i].end,
                             i ? s->meta[i - 1].maxend : 0);
}

/* Does the grain at sector g overlap the header, the descriptor, a
 * directory or a table?  A write there would destroy metadata (an entry
 * crafted, or damaged, to point at the grain directory): refused before
 * anything is written, whatever overHead says. */
static bool
grain_on_meta (const struct sparse *s, uint64_t g)
{
  uint64_t end = g + s->h.grain_size;
  uint32_t lo = 0, hi = s->nmeta;

  while (lo < hi) {                 /* first interval starting at >= end */
    uint32_t mid = lo + (hi - lo) / 2;
    if (s->meta[mid].start < end)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo > 0 && s->meta[lo - 1].maxend > g;
}

/* Every metadata interval of the extent (all in the file: the header
 * decoder and load_gd checked them). */
static int
collect_meta (struct vdk_extent *e, struct sparse *s)
{
  uint64_t gds = DIV_ROUND_UP ((uint64_t) s->ngd * 4, SECTOR);
  uint64_t gts = DIV_ROUND_UP ((uint64_t) s->gt_bytes, SECTOR);

  if (add_meta (e, s, 0, 1) == -1
      || add_meta (e, s, s->h.desc_offset, s->h.desc_size) == -1
      || add_meta (e, s, s->h.gd_offset, gds) == -1
      || (s->rgd && add_meta (e, s, s->h.rgd_offset, gds) == -1))
    return -1;
  for (uint32_t i = 0; i < s->ngd; i++)
    if ((s->gd[i] && add_meta (e, s, s->gd[i], gts) == -1)
        || (s->rgd && s->rgd[i] && add_meta (e, s, s->rgd[i], gts) == -1))
      return -1;
  finish_meta (s);
  return 0;
}

static int
sparse_open_tables (struct vdk_extent *e, struct sparse *s)
{
  /* Sized by the extent the descriptor gives (never more than the
   * header's capacity, checked by the caller): a header claiming 2^40
   * sectors behind a descriptor line of 2048 would otherwise cost a
   * grain directory of gigabytes for a file of a few KiB.  Entries past
   * the descriptor's size are never read or written. */
  s->ngd = (uint32_t) MAX (1, DIV_ROUND_UP (e->length, s->cover_bytes));
  if (load_gd (e, s, s->h.gd_offset, &s->gd, "grain directory") == -1)
    return -1;
  /* Only writes keep the redundant copy in step; a reader never needs
   * it (and a hostile header's directories cost memory). */
  if ((s->h.flags & SPARSE_FLAG_RGD) && !e->readonly
      && load_gd (e, s, s->h.rgd_offset, &s->rgd,
                  "redundant grain directory") == -1)
    return -1;
  s->nslots = MIN (s->ngd, GT_CACHE_SLOTS);
  s->slots = calloc (s->nslots, sizeof *s->slots);
  s->slot_of = malloc ((size_t) s->ngd * sizeof (int32_t));
  if (!s->slots || !s->slot_of)
    return serr (e, ENOMEM, "out of memory for grain tables");
  for (uint32_t i = 0; i < s->ngd; i++)
    s->slot_of[i] = -1;
  /* Writes check grains against the metadata; read-only opens never
   * write, so they skip the cost. */
  if (!e->readonly && collect_meta (e, s) == -1)
    return -1;
  return 0;                      /* slot tables: allocated on first use */
}

static int
sparse_open (struct vdk_extent *e)
{
  uint8_t hb[512];
  char msg[256];
  struct sparse *s = calloc (1, sizeof *s);

  if (!s)
    return serr (e, ENOMEM, "out of memory");
  e->priv = s;
  pthread_mutex_init (&s->lock, NULL);
  if (vdk__io_size (e->io, &s->fsize) == -1
      || vdk__io_pread (e->io, hb, sizeof hb, 0) == -1)
    return -1;
  if (vdk__sparse_header_decode (hb, s->fsize, &s->h, msg, sizeof msg) == -1)
    return serr (e, errno, "%s", msg);
  if (s->h.flags & (SPARSE_FLAG_COMPRESSED | SPARSE_FLAG_MARKERS)
      || s->h.gd_offset == SPARSE_GD_AT_END)
    return serr (e, ENOTSUP, "compressed (streamOptimized) sparse extents "
                 "are not supported by this extent reader");
  s->fsize = ROUND_UP (s->fsize, SECTOR);
  s->grain_bytes = s->h.grain_size * SECTOR;
  s->cover_bytes = s->grain_bytes * s->h.num_gtes;
  s->cap_bytes = s->h.capacity * SECTOR;
  s->gt_bytes = s->h.num_gtes * 4;
  s->zero_grain = (s->h.flags & SPARSE_FLAG_ZERO_GRAIN) != 0;
  s->data_start = s->h.overhead ? s->h.overhead : 1;
  if (s->fsize < s->h.overhead * SECTOR)
    return sbad (e, "file truncated: %" PRIu64 " bytes, but the "
                 "header says metadata takes %" PRIu64 " sectors", s->fsize,
                 s->h.overhead);
  if (e->length > s->cap_bytes)
    return sbad (e, "descriptor gives the extent %" PRIu64 " sectors "
                 "but its header holds only %" PRIu64, e->length / SECTOR,
                 s->h.capacity);
  if (e->length != s->cap_bytes)
    vdk__warn ("%s: descriptor gives the extent %" PRIu64 " sectors, its "
               "header %" PRIu64, e->path, e->length / SECTOR,
               s->h.capacity);
  return sparse_open_tables (e, s);
}

/* Write one cached GT to both copies (the caller has synced the data
 * it references). */
static int
write_gt (struct vdk_extent *e, struct sparse *s, struct gt_slot *sl)
{
  uint8_t *raw = (uint8_t *) sl->gt;   /* encode in place, then decode */
  int r = 0;

  for (uint32_t i = 0; i < s->h.num_gtes; i++)
    le32_put (raw + 4 * i, sl->gt[i]);
  if (vdk__io_pwrite (e->io, raw, s->gt_bytes,
                      (uint64_t) s->gd[sl->gdi] * SECTOR) == -1)
    r = -1;
  else if (s->rgd && s->rgd[sl->gdi]
           && vdk__io_pwrite (e->io, raw, s->gt_bytes,
                              (uint64_t) s->rgd[sl->gdi] * SECTOR) == -1)
    r = -1;
  for (uint32_t i = 0; i < s->h.num_gtes; i++)
    sl->gt[i] = le32_get (raw + 4 * i);
  if (r == 0)
    sl->dirty = false;
  return r;
}

/* Bytes of grain tables cached by all sparse extents of the process.
 * A slot's table is allocated on first use and only while the total is
 * under the budget; past it an extent reuses its least recently used
 * slot, so a disk of a thousand extents caches a bounded number of
 * tables and memory stays flat in the disk size. */
#define GT_CACHE_BUDGET (8u << 20)
static uint64_t gt_cached_bytes;

static uint32_t
pick_victim (struct sparse *s)
{
  uint32_t fresh = UINT32_MAX, lru = UINT32_MAX;
  for (uint32_t i = 0; i < s->nslots; i++) {
    struct gt_slot *sl = &s->slots[i];
    if (!sl->valid && sl->gt)
      return i;
    if (!sl->valid && fresh == UINT32_MAX)
      fresh = i;
    if (sl->valid && (lru == UINT32_MAX || sl->tick < s->slots[lru].tick))
      lru = i;
  }
  if (fresh != UINT32_MAX
      && (lru == UINT32_MAX
          || __atomic_load_n (&gt_cached_bytes, __ATOMIC_RELAXED)
          + s->gt_bytes <= GT_CACHE_BUDGET))
    return fresh;
  return lru;
}

/* The GT for directory entry gdi (which must be nonzero), cached. */
static uint32_t *
get_gt (struct vdk_extent *e, struct sparse *s, uint32_t gdi)
{
  struct gt_slot *sl;
  uint32_t victim;

  if (s->slot_of[gdi] >= 0) {
    sl = &s->slots[s->slot_of[gdi]];
    sl->tick = ++s->tick;
    return sl->gt;
  }
  victim = pick_victim (s);
  sl = &s->slots[victim];
  if (!sl->gt) {
    if (!(sl->gt = malloc (s->gt_bytes))) {
      serr (e, ENOMEM, "out of memory for grain tables");
      return NULL;
    }
    __atomic_add_fetch (&gt_cached_bytes, s->gt_bytes, __ATOMIC_RELAXED);
  }
  if (sl->valid && sl->dirty
      && (vdk__io_flush (e->io) == -1 || write_gt (e, s, sl) == -1))
    return NULL;
  if (sl->valid)
    s->slot_of[sl->gdi] = -1;
  sl->valid = false;
  if (vdk__io_pread (e->io, sl->gt, s->gt_bytes,
                     (uint64_t) s->gd[gdi] * SECTOR) == -1)
    return NULL;
  for (uint32_t i = 0; i < s->h.num_gtes; i++)
    sl->gt[i] = le32_get ((uint8_t *) &sl->gt[i]);
  sl->gdi = gdi, sl->valid = true, sl->dirty = false, sl->tick = ++s->tick;
  s->slot_of[gdi] = (int32_t) victim;
  return sl->gt;
}

static void
mark_dirty (struct sparse *s, uint32_t gdi)
{
  if (s->slot_of[gdi] < 0)     /* the table was just fetched; never here */
    vdk__panic ("sparse: grain table %" PRIu32 " marked dirty but not "
                "cached", gdi);
  s->slots[s->slot_of[gdi]].dirty = true;
}

/* Classify a GT entry; for data check it lies in the file. */
static int
classify (struct vdk_extent *e, struct sparse *s, uint32_t gte, uint64_t g,
          int *state)
{
  if (gte == 0)
    *state = VDK_BLOCK_HOLE;
  else if (gte == 1 && s->zero_grain)
    *state = VDK_BLOCK_ZERO;
  else if (gte < s->data_start || (uint64_t) gte * SECTOR >= s->fsize)
    return sbad (e, "grain %" PRIu64 " at sector %" PRIu32 " lies %s",
                 g, gte, gte < s->data_start ? "inside the metadata"
                 : "beyond end of file");
  else
    *state = VDK_BLOCK_DATA;
  return 0;
}

/* State of the grain holding byte o; *n = bytes of it from o. */
static int
lookup (struct vdk_extent *e, struct sparse *s, uint64_t o, uint64_t max,
        uint64_t *n, int *state, uint64_t *host)
{
  uint64_t gdi = o / s->cover_bytes, g = o / s->grain_bytes;
  uint64_t inoff = o % s->grain_bytes;
  uint32_t *gt, gte;

  *host = UINT64_MAX;
  if (o >= s->cap_bytes) {             /* past the header's capacity */
    *n = max, *state = VDK_BLOCK_HOLE;
    return 0;
  }
  if (s->gd[gdi] == 0) {
    *n = MIN (max, s->cover_bytes - o % s->cover_bytes);
    *state = VDK_BLOCK_HOLE;
    return 0;
  }
  *n = MIN (max, s->grain_bytes - inoff);
  if (!(gt = get_gt (e, s, (uint32_t) gdi)))
    return -1;
  gte = gt[g % s->h.num_gtes];
  if (classify (e, s, gte, g, state) == -1)
    return -1;
  if (*state == VDK_BLOCK_DATA)
    *host = (uint64_t) gte * SECTOR + inoff;
  return 0;
}

static int
sparse_map (struct vdk_extent *e, uint64_t off, uint64_t len, uint64_t *pnum,
            int *state, uint64_t *host)
{
  struct sparse *s = e->priv;
  SCOPED_LOCK (&s->lock);
  uint64_t done = 0, n, h, h0 = UINT64_MAX;
  int st, st0 = -1;

  while (done < len) {
    if (lookup (e, s, off + done, len - done, &n, &st, &h) == -1)
      return -1;
    if (st0 == -1)
      st0 = st, h0 = h;
    else if (st != st0 || (st == VDK_BLOCK_DATA && h != h0 + done))
      break;
    done += n;
  }
  *pnum = done, *state = st0, *host = h0;
  return 0;
}

static int
alloc_gt (struct vdk_extent *e, struct sparse *s, uint32_t gdi)
{
  uint64_t bytes = ROUND_UP ((uint64_t) s->gt_bytes, SECTOR);
  int copies = s->rgd ? 2 : 1;
  CLEANUP_FREE uint8_t *zero = calloc (1, bytes);

  if (!zero)
    return serr (e, ENOMEM, "out of memory");
  for (int c = 0; c < copies; c++) {
    if (s->fsize / SECTOR + bytes / SECTOR > UINT32_MAX)
      return serr (e, EFBIG, "sparse extent is full (2 TiB of sectors)");
    if (vdk__io_pwrite (e->io, zero, bytes, s->fsize) == -1)
      return -1;
    (c == 0 ? s->gd : s->rgd)[gdi] = (uint32_t) (s->fsize / SECTOR);
    if (add_meta (e, s, s->fsize / SECTOR, bytes / SECTOR) == -1)
      return -1;
    s->fsize += bytes;
  }
  finish_meta (s);          /* appended at the end: a cheap re-sort */
  s->gd_dirty = true;
  return 0;
}

/* Reserve `bytes` at the end of the file for new grains. */
static int
alloc_grains (struct vdk_extent *e, struct sparse *s, uint64_t bytes,
              uint64_t *host)
{
  if ((s->fsize + bytes) / SECTOR > UINT32_MAX)
    return serr (e, EFBIG, "sparse extent is full (2 TiB of sectors)");
  *host = s->fsize;
  s->fsize += bytes;
  return 0;
}

/* Count whole unallocated grains from grain index gi in gt, at most k. */
static uint64_t
run_of_new (struct sparse *s, const uint32_t *gt, uint64_t gi, uint64_t k)
{
  uint64_t n = 0;
  while (n < k && gi + n < s->h.num_gtes
         && (gt[gi + n] == 0 || (gt[gi + n] == 1 && s->zero_grain)))
    n++;
  return n;
}

/* Build a partial grain in s->scratch and write it as a new grain. */
static int
write_partial_new (struct vdk_extent *e, struct sparse *s, uint32_t gte,
                   uint64_t gstart, const void *buf, uint64_t inoff,
                   uint64_t n, vdk_fill_fn fill, void *ctx, uint64_t *host)
{
  uint64_t valid = MIN (s->grain_bytes, e->length - MIN (gstart, e->length));
  /* allocated on first use: a disk of many extents rarely needs it */
  if (!s->scratch && !(s->scratch = malloc (s->grain_bytes)))
    return serr (e, ENOMEM, "out of memory");
  memset (s->scratch, 0, s->grain_bytes);
  if (gte == 0 && fill && valid
      && fill (ctx, s->scratch, valid, e->start + gstart) == -1)
    return -1;
  memcpy (s->scratch + inoff, buf, n);
  if (alloc_grains (e, s, s->grain_bytes, host) == -1)
    return -1;
  return vdk__io_pwrite (e->io, s->scratch, s->grain_bytes, *host);
}

/* Write [o, o+len) of which the first grain lies in one GT. Returns
 * bytes written in *done. */
static int
write_step (struct vdk_extent *e, struct sparse *s, const uint8_t *buf,
            uint64_t o, uint64_t len, vdk_fill_fn fill, void *ctx,
            uint64_t *done)
{
  uint64_t gdi = o / s->cover_bytes, g = o / s->grain_bytes;
  uint64_t gi = g % s->h.num_gtes, inoff = o % s->grain_bytes, host = 0;
  uint64_t n = MIN (len, s->grain_bytes - inoff);
  uint32_t *gt;
  int st;

  if (s->gd[gdi] == 0 && alloc_gt (e, s, (uint32_t) gdi) == -1)
    return -1;
  if (!(gt = get_gt (e, s, (uint32_t) gdi))
      || classify (e, s, gt[gi], g, &st) == -1)
    return -1;
  if (st == VDK_BLOCK_DATA) {
    uint64_t gend = ((uint64_t) gt[gi] + s->h.grain_size) * SECTOR;
    if (grain_on_meta (s, gt[gi]))
      return serr (e, EINVAL, "grain %" PRIu64 " at sector %" PRIu32
                   " overlaps the extent's metadata (header, descriptor, "
                   "grain directory or a grain table): not written; run "
                   "vdk check", g, gt[gi]);
    /* A grain cut short by the end of the file: new grains and tables
     * go after it, not into it. */
    if (gend > s->fsize)
      s->fsize = gend;
    *done = n;
    return vdk__io_pwrite (e->io, buf, n, (uint64_t) gt[gi] * SECTOR + inoff);
  }
  if (inoff == 0 && n == s->grain_bytes) {
    uint64_t k = run_of_new (s, gt, gi, len / s->grain_bytes);
    if (alloc_grains (e, s, k * s->grain_bytes, &host) == -1
        || vdk__io_pwrite (e->io, buf, k * s->grain_bytes, host) == -1)
      return -1;
    for (uint64_t i = 0; i < k; i++)
      gt[gi + i] = (uint32_t) (host / SECTOR + i * s->h.grain_size);
    *done = k * s->grain_bytes;
  } else {
    if (write_partial_new (e, s, gt[gi], o - inoff, buf, inoff, n, fill, ctx,
                           &host) == -1)
      return -1;
    gt[gi] = (uint32_t) (host / SECTOR);
    *done = n;
  }
  mark_dirty (s, (uint32_t) gdi);
  return 0;
}

static int
sparse_pwrite (struct vdk_extent *e, const void *buf, uint64_t len,
               uint64_t off, vdk_fill_fn fill, void *ctx)
{
  struct sparse *s = e->priv;
  SCOPED_LOCK (&s->lock);
  const uint8_t *p = buf;
  uint64_t done = 0;

  if (off + len > s->cap_bytes)
    return serr (e, ENOSPC, "write at byte %" PRIu64 " is beyond the sparse "
                 "extent's capacity (%" PRIu64 " sectors)", off,
                 s->h.capacity);
  while (len > 0) {
    if (write_step (e, s, p, off, len, fill, ctx, &done) == -1)
      return -1;
    p += done, off += done, len -= done;
  }
  return 0;
}

static int
sparse_zero (struct vdk_extent *e, uint64_t off, uint64_t len,
             vdk_fill_fn fill, void *ctx)
{
  struct sparse *s = e->priv;
  CLEANUP_FREE uint8_t *zero = calloc (1, s->grain_bytes);

  if (!zero)
    return serr (e, ENOMEM, "out of memory");
  while (len > 0) {
    uint64_t inoff = off % s->grain_bytes, n = MIN (len, s->grain_bytes - inoff);
    uint64_t gdi = off / s->cover_bytes, gi = (off / s->grain_bytes)
      % s->h.num_gtes;
    bool whole = inoff == 0 && (n == s->grain_bytes
                                || off + n >= s->cap_bytes);
    int r = 1;
    if (whole) {
      SCOPED_LOCK (&s->lock);
      uint32_t *gt = NULL;
      if (s->gd[gdi] == 0 && !fill)
        r = 0;                           /* already reads as zero */
      else if (s->zero_grain) {
        if ((s->gd[gdi] == 0 && alloc_gt (e, s, (uint32_t) gdi) == -1)
            || !(gt = get_gt (e, s, (uint32_t) gdi)))
          return -1;
        gt[gi] = 1;
        mark_dirty (s, (uint32_t) gdi);
        r = 0;
      } else if (!(gt = get_gt (e, s, (uint32_t) gdi)))
        return -1;
      else if (gt[gi] == 0 && !fill)
        r = 0;
    }
    if (r && sparse_pwrite (e, zero, n, off, fill, ctx) == -1)
      return -1;
    off += n, len -= n;
  }
  return 0;
}

/* ---- trim ---- */

enum trim_action { TRIM_NONE, TRIM_SET, TRIM_WRITE };

/* What trimming one grain in state st takes: a new GTE (*gte), maybe
 * punching its host blocks, or writing zeroes. */
static enum trim_action
trim_decide (struct sparse *s, int st, bool whole, bool below, unsigned how,
             uint32_t *gte, bool *punch)
{
  *punch = false;
  if (st == VDK_BLOCK_ZERO || (st == VDK_BLOCK_HOLE && !below))
    return TRIM_NONE;                  /* reads as zero already */
  /* DATA, or a hole that shows the links below: a whole grain becomes a
   * hole or (over data below) a zeroed grain */
  if (whole && (!below || s->zero_grain)) {
    *gte = below ? 1 : 0;   /* a hole would show the parent's data */
    *punch = st == VDK_BLOCK_DATA && !(how & VDK__TRIM_KEEP);
    return TRIM_SET;
  }
  return how & VDK__TRIM_ZERO ? TRIM_WRITE : TRIM_NONE;
}

/* Trim the first grain of [o, o+len), metadata part, under the lock;
 * *n is what it covered (a whole table's span when the table is
 * missing and nothing is to be done there).  Sets *write when zeroes
 * must be written instead. */
static int
trim_grain (struct vdk_extent *e, struct sparse *s, uint64_t o, uint64_t len,
            unsigned how, bool chain, bool below, uint64_t *n, bool *write)
{
  uint64_t gdi = o / s->cover_bytes, g = o / s->grain_bytes;
  uint64_t gi = g % s->h.num_gtes;
  bool whole;
  uint32_t *gt = NULL, gte = 0, old = 0;
  bool punch;
  int st = VDK_BLOCK_HOLE;
  SCOPED_LOCK (&s->lock);

  *write = false;
  if (s->gd[gdi] == 0 && !(how & VDK__TRIM_ZERO)
      && !(chain && s->zero_grain)) {
    *n = MIN (len, s->cover_bytes - o % s->cover_bytes);
    return 0;                     /* a missing table: holes, left alone */
  }
  *n = MIN (len, s->grain_bytes - o % s->grain_bytes);
  whole = o % s->grain_bytes == 0
    && (*n == s->grain_bytes || o + *n >= s->cap_bytes);
  if (s->gd[gdi]
      && (!(gt = get_gt (e, s, (uint32_t) gdi))
          || classify (e, s, old = gt[gi], g, &st) == -1))
    return -1;
  switch (trim_decide (s, st, whole, below, how, &gte, &punch)) {
  case TRIM_NONE:
    return 0;
  case TRIM_WRITE:
    if (how & (VDK__TRIM_CHECK | VDK__TRIM_NOWRITE))
      return serr (e, ENOTSUP, "grain %" PRIu64 " cannot be zeroed without "
                   "writing zeroes (%s)", g, whole ? "the extent has no "
                   "zeroed-grain entries" : "part of a grain");
    *write = true;
    return 0;
  case TRIM_SET:
    break;
  }
  if (how & VDK__TRIM_CHECK)
    return 0;
  if (!gt && ((s->gd[gdi] == 0 && alloc_gt (e, s, (uint32_t) gdi) == -1)
              || !(gt = get_gt (e, s, (uint32_t) gdi))))
    return -1;
  gt[gi] = gte;
  mark_dirty (s, (uint32_t) gdi);
  /* The entry is written back at flush; if a crash comes first it still
   * names the punched grain, which reads as zero: what the trim wanted. */
  if (punch && vdk__io_punch (e->io, (uint64_t) old * SECTOR,
                              s->grain_bytes, false) == -1
      && vdk_last_errno () != ENOTSUP)
    return -1;
  return 0;
}

/* Does a link below hold data in the grain at o (as far as it lies in
 * the extent)?  Asked outside the extent's lock: it reads other links. */
static int
data_below (struct vdk_extent *e, struct sparse *s, uint64_t o,
            const struct vdk_below *below, bool *any)
{
  uint64_t g0 = o - o % s->grain_bytes;
  uint64_t n = MIN (s->grain_bytes, e->length - g0);
  *any = false;
  return below ? below->data (below->ctx, e->start + g0, n, any) : 0;
}

static int
sparse_trim (struct vdk_extent *e, uint64_t off, uint64_t len, unsigned how,
             const struct vdk_below *below)
{
  struct sparse *s = e->priv;
  CLEANUP_FREE uint8_t *zero = NULL;

  while (len > 0) {
    uint64_t n;
    bool write, under;
    if (off >= s->cap_bytes)
      break;                      /* past the header: reads as a hole */
    if (data_below (e, s, off, below, &under) == -1
        || trim_grain (e, s, off, len, how, below != NULL, under, &n,
                       &write) == -1)
      return -1;
    if (write) {
      if (!zero && !(zero = calloc (1, s->grain_bytes)))
        return serr (e, ENOMEM, "out of memory");
      if (sparse_pwrite (e, zero, n, off, below ? below->fill : NULL,
                         below ? below->ctx : NULL) == -1)
        return -1;
    }
    off += n, len -= n;
  }
  return 0;
}

static int
write_gd (struct vdk_extent *e, struct sparse *s, const uint32_t *gd,
          uint64_t off)
{
  CLEANUP_FREE uint8_t *raw = malloc ((size_t) s->ngd * 4);
  if (!raw)
    return serr (e, ENOMEM, "out of memory");
  for (uint32_t i = 0; i < s->ngd; i++)
    le32_put (raw + 4 * i, gd[i]);
  return vdk__io_pwrite (e->io, raw, (size_t) s->ngd * 4, off * SECTOR);
}

static int
sparse_flush (struct vdk_extent *e)
{
  struct sparse *s = e->priv;
  if (!s)                /* never opened (a failed open, a check pass) */
    return vdk__io_flush (e->io);
  SCOPED_LOCK (&s->lock);
  bool any = false;

  if (vdk__io_flush (e->io) == -1)          /* 1. grain data */
    return -1;
  for (uint32_t i = 0; i < s->nslots; i++)  /* 2. grain tables */
    if (s->slots[i].valid && s->slots[i].dirty) {
      if (write_gt (e, s, &s->slots[i]) == -1)
        return -1;
      any = true;
    }
  if (any && vdk__io_flush (e->io) == -1)
    return -1;
  if (s->gd_dirty) {                        /* 3. directories */
    if (write_gd (e, s, s->gd, s->h.gd_offset) == -1
        || (s->rgd && write_gd (e, s, s->rgd, s->h.rgd_offset) == -1)
        || vdk__io_flush (e->io) == -1)
      return -1;
    s->gd_dirty = false;
  }
  return 0;
}

static int
set_unclean (struct vdk_extent *e, uint8_t v)
{
  if (vdk__io_pwrite (e->io, &v, 1, SPARSE_UNCLEAN_OFFSET) == -1)
    return -1;
  return vdk__io_flush (e->io);
}

static int
sparse_begin_write (struct vdk_extent *e)
{
  struct sparse *s = e->priv;
  if (set_unclean (e, 1) == -1)
    return -1;
  s->began = true;
  return 0;
}

static int
sparse_close (struct vdk_extent *e)
{
  struct sparse *s = e->priv;
  int r = 0;
  if (!s)
    return 0;
  if (s->began && s->slots
      && (sparse_flush (e) == -1 || set_unclean (e, 0) == -1))
    r = -1;
  if (s->slots)
    for (uint32_t i = 0; i < s->nslots; i++)
      if (s->slots[i].gt) {
        free (s->slots[i].gt);
        __atomic_sub_fetch (&gt_cached_bytes, s->gt_bytes, __ATOMIC_RELAXED);
      }
  free (s->slots);
  free (s->slot_of);
  free (s->gd);
  free (s->rgd);
  free (s->scratch);
  free (s->meta);
  pthread_mutex_destroy (&s->lock);
  free (s);
  e->priv = NULL;
  return r;
}

/* A new grain is appended whole for each grain holding data. */
static uint64_t
sparse_copy_bytes (uint64_t grain_bytes, uint64_t grains, uint64_t regions)
{
  return grains * grain_bytes;
}

static int
sparse_create (struct vdk_io *io, const struct vdk_ext_params *p)
{
  return vdk__sparse_create (io, p->sectors, p->grain, p->zeroed_grain,
                             p->desc);
}

const struct vdk_extent_ops vdk__sparse_ops = {
  .name = "sparse",
  .open = sparse_open,
  .map = sparse_map,
  .pwrite = sparse_pwrite,
  .zero = sparse_zero,
  .flush = sparse_flush,
  .begin_write = sparse_begin_write,
  .close = sparse_close,
  .trim = sparse_trim,
  .kinds = 1u << VDK_EXT_SPARSE,
  .caps = VDK_FMT_REWRITABLE,
  .probe = vdk__kdmv_probe_sparse,
  .create = sparse_create,
  .params = vdk__kdmv_params,
  .check = vdk__kdmv_check,
  .desc_read = vdk__sparse_read_desc,
  .desc_write = vdk__sparse_write_desc,
  .describe = vdk__kdmv_describe,
  .copy_bytes = sparse_copy_bytes,
  .max_sectors = VDK_SPARSE_MAX_SECTORS,
  .unclean = vdk__kdmv_unclean,
};

/* ---- creation and the embedded descriptor ---- */

int
vdk__sparse_create (struct vdk_io *io, uint64_t capacity, uint32_t grain,
                    bool zeroed_grain, const char *desc)
{
  struct sparse_header h;
  uint8_t hb[512];
  uint64_t dsec = desc ? MAX (20, DIV_ROUND_UP (strlen (desc) + 1, SECTOR))
    : 0;
  uint64_t ngd, gd_sectors;
  CLEANUP_FREE uint8_t *gd = NULL;
  CLEANUP_FREE char *dbuf = NULL;

  if (!IS_POWER_OF_2 (grain) || grain > 0x200000u || capacity == 0)
    return vdk__err (EINVAL, "%s: invalid grain size or capacity", io->path);
  vdk__sparse_layout (&h, capacity, grain, zeroed_grain, dsec);
  ngd = DIV_ROUND_UP (capacity, 512u * (uint64_t) grain);
  gd_sectors = DIV_ROUND_UP (ngd * 4, SECTOR);
  if (h.overhead > UINT32_MAX)
    return vdk__errc (VDK_E_INVALID_ARG, EFBIG, "%s: capacity too large "
                      "for a sparse extent", io->path);
  if (!(gd = calloc (gd_sectors, SECTOR))
      || (dsec && !(dbuf = calloc (dsec, SECTOR))))
    return vdk__err (ENOMEM, "%s: out of memory", io->path);
  vdk__sparse_header_encode (&h, hb);
  if (vdk__io_pwrite (io, hb, sizeof hb, 0) == -1)
    return -1;
  if (dsec) {
    memcpy (dbuf, desc, strlen (desc));
    if (vdk__io_pwrite (io, dbuf, dsec * SECTOR, SECTOR) == -1)
      return -1;
  }
  for (int copy = 0; copy < 2; copy++) {
    uint64_t base = copy ? h.gd_offset : h.rgd_offset;
    for (uint64_t i = 0; i < ngd; i++)
      le32_put (gd + 4 * i, (uint32_t) (base + gd_sectors + 4 * i));
    if (vdk__io_pwrite (io, gd, gd_sectors * SECTOR, base * SECTOR) == -1)
      return -1;
  }
  /* The grain tables are zero: leave them as a hole. */
  return vdk__io_truncate (io, h.overhead * SECTOR);
}

int
vdk__sparse_read_header (struct vdk_io *io, struct sparse_header *h)
{
  uint8_t hb[512];
  uint64_t size;
  char msg[256];
  if (vdk__io_size (io, &size) == -1 || vdk__io_pread (io, hb, 512, 0) == -1)
    return -1;
  if (vdk__sparse_header_decode (hb, size, h, msg, sizeof msg) == -1)
    return vdk__err (errno, "%s: %s", io->path, msg);
  return 0;
}

int
vdk__sparse_read_desc (struct vdk_io *io, char **text)
{
  struct sparse_header h;
  char *t;

  *text = NULL;
  if (vdk__sparse_read_header (io, &h) == -1)
    return -1;
  if (h.desc_offset == 0)
    return 0;
  if (!(t = malloc (h.desc_size * SECTOR + 1)))
    return vdk__err (ENOMEM, "%s: out of memory", io->path);
  if (vdk__io_pread (io, t, h.desc_size * SECTOR, h.desc_offset * SECTOR)
      == -1) {
    free (t);
    return -1;
  }
  t[h.desc_size * SECTOR] = 0;
  *text = t;
  return 0;
}

int
vdk__sparse_write_desc (struct vdk_io *io, const char *text)
{
  struct sparse_header h;
  size_t len = strlen (text);
  CLEANUP_FREE char *buf = NULL;

  if (vdk__sparse_read_header (io, &h) == -1)
    return -1;
  if (h.desc_offset == 0 || len >= h.desc_size * SECTOR)
    return vdk__err (EFBIG, "%s: the descriptor (%zu bytes) does not fit in "
                     "the embedded area (%" PRIu64 " sectors)", io->path, len,
                     h.desc_size);
  if (!(buf = calloc (h.desc_size, SECTOR)))
    return vdk__err (ENOMEM, "%s: out of memory", io->path);
  memcpy (buf, text, len);
  return vdk__io_pwrite (io, buf, h.desc_size * SECTOR,
                         h.desc_offset * SECTOR);
}
