/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* streamOptimized extents: compressed hosted sparse (KDMV with the
 * compressed and markers flags), read through the grain directory.
 *
 * Facts (docs/vmdk-format.md §3):
 * - A true stream has gdOffset = GD_AT_END in its header; the real
 *   header is the footer: file_size-1536 holds a FOOTER marker, -1024
 *   the footer header (which wins over the first one), -512 the EOS
 *   marker.  QEMU's variant keeps RGD/GD and all GTs at the front like
 *   monolithicSparse and has no footer.  Both are read the same way
 *   once the GD is known.
 * - A GT entry is the sector of a grain marker: lba u64, size u32, then
 *   `size` bytes of zlib data (RFC 1950; raw deflate is accepted too)
 *   that inflate to one grain (the disk's last grain may be short).
 *   The marker's LBA must be the grain's, and the size sane.
 *
 * Design
 * - The GD lives in memory (bounded by the file size, checked at open);
 *   grain tables are read into a small LRU cache.  map() reports
 *   allocated grains as DATA with host = UINT64_MAX, so the core calls
 *   pread(), which inflates.
 * - Inflating runs outside the lock, in pooled contexts (a libdeflate
 *   decompressor and buffers each), so several threads can read at
 *   once.  A whole aligned grain inflates straight into the caller's
 *   buffer; a partial read goes through a one-grain cache.
 * - Writing (stream-write.c) is allowed only on a stream that holds no
 *   grain yet, in increasing order.
 * - Locking: s->lock guards the GD, the GT cache, the context pool, the
 *   grain cache and the writer. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "stream.h"

/* "PATH: message" errors (format/extent.c). */
#define serr vdk__ext_err
#define sbad(e, ...) vdk__ext_err (e, EFSCORRUPTED, __VA_ARGS__)

/* The footer: marker, header copy, EOS in the last 1536 bytes. */
static int
read_footer (struct vdk_extent *e, struct stream *s)
{
  uint8_t b[1536];
  struct stream_marker fm, eos;
  struct sparse_header f;
  char msg[256];

  if (s->fsize < 2048 || s->fsize % SECTOR)
    return sbad (e, "stream is truncated: %" PRIu64 " bytes leave "
                 "no room for the footer and end-of-stream marker",
                 s->fsize);
  if (vdk__io_pread (e->io, b, sizeof b, s->fsize - sizeof b) == -1)
    return -1;
  stream_marker_decode (b, &fm);
  stream_marker_decode (b + 1024, &eos);
  if (fm.size != 0 || fm.type != MARKER_FOOTER || eos.val || eos.size
      || eos.type != MARKER_EOS)
    return sbad (e, "stream footer not found (the last 1536 bytes "
                 "hold no footer marker, footer and end-of-stream marker): "
                 "the stream is truncated or incomplete");
  if (vdk__sparse_header_decode (b + 512, s->fsize, &f, msg, sizeof msg)
      == -1)
    return serr (e, errno, "stream footer: %s", msg);
  if (f.gd_offset == SPARSE_GD_AT_END)
    return sbad (e, "stream footer has no grain directory offset");
  if (f.capacity != s->h.capacity || f.grain_size != s->h.grain_size
      || f.num_gtes != s->h.num_gtes)
    return sbad (e, "stream footer disagrees with the header "
                 "(capacity, grain size or grain table size)");
  f.desc_offset = s->h.desc_offset, f.desc_size = s->h.desc_size;
  s->h = f;
  return 0;
}

static int
load_gd (struct vdk_extent *e, struct stream *s)
{
  CLEANUP_FREE uint8_t *raw = malloc ((size_t) s->ngd * 4);

  s->gd = malloc ((size_t) s->ngd * 4);
  if (!raw || !s->gd)
    return serr (e, ENOMEM, "out of memory for the grain directory");
  if (vdk__io_pread (e->io, raw, (size_t) s->ngd * 4,
                     s->h.gd_offset * SECTOR) == -1)
    return -1;
  s->empty = true;
  for (uint32_t i = 0; i < s->ngd; i++) {
    s->gd[i] = le32_get (raw + 4 * i);
    if (s->gd[i] == 0)
      continue;
    s->empty = false;
    if ((uint64_t) s->gd[i] * SECTOR + s->gt_bytes > s->fsize)
      return sbad (e, "grain directory entry %" PRIu32 ": grain "
                   "table at sector %" PRIu32 " lies beyond end of file (%"
                   PRIu64 " sectors)", i, s->gd[i], s->fsize / SECTOR);
  }
  return 0;
}

static int
stream_open (struct vdk_extent *e)
{
  uint8_t hb[512];
  char msg[256];
  struct stream *s = calloc (1, sizeof *s);

  if (!s)
    return serr (e, ENOMEM, "out of memory");
  e->priv = s;
  pthread_mutex_init (&s->lock, NULL);
  s->cache_g = UINT64_MAX;
  s->level = STREAM_DEFAULT_LEVEL;
  if (vdk__io_size (e->io, &s->fsize) == -1
      || vdk__io_pread (e->io, hb, sizeof hb, 0) == -1)
    return -1;
  if (vdk__sparse_header_decode (hb, s->fsize, &s->h, msg, sizeof msg) == -1)
    return serr (e, errno, "%s", msg);
  if (!(s->h.flags & SPARSE_FLAG_COMPRESSED) || s->h.compress != 1)
    return serr (e, ENOTSUP, "sparse extent with markers or GD_AT_END but "
                 "without deflate compression is not supported");
  if (s->h.grain_size > STREAM_MAX_GRAIN_SECTORS)
    return serr (e, ENOTSUP, "stream grain size of %" PRIu64 " sectors is "
                 "larger than the %u supported", s->h.grain_size,
                 STREAM_MAX_GRAIN_SECTORS);
  s->at_end = s->h.gd_offset == SPARSE_GD_AT_END;
  if (s->at_end && read_footer (e, s) == -1)
    return -1;
  s->grain_bytes = s->h.grain_size * SECTOR;
  s->cover_bytes = s->grain_bytes * s->h.num_gtes;
  s->cap_bytes = s->h.capacity * SECTOR;
  s->gt_bytes = s->h.num_gtes * 4;
  s->gt_sectors = DIV_ROUND_UP (s->gt_bytes, SECTOR);
  /* header decode capped the GD at 32M entries and put it in the file */
  s->ngd = (uint32_t) DIV_ROUND_UP (s->cap_bytes, s->cover_bytes);
  s->gd_sectors = DIV_ROUND_UP (s->ngd * 4, SECTOR);
  if (e->length != s->cap_bytes)
    vdk__warn ("%s: descriptor gives the extent %" PRIu64 " sectors, its "
               "header %" PRIu64, e->path, e->length / SECTOR,
               s->h.capacity);
  for (uint32_t i = 0; i < STREAM_GT_SLOTS; i++)
    if (!(s->slots[i].gt = malloc (s->gt_bytes)))
      return serr (e, ENOMEM, "out of memory for grain tables");
  return load_gd (e, s);
}

/* Grain table of GD entry gdi (nonzero), cached. */
static const uint32_t *
get_gt (struct vdk_extent *e, struct stream *s, uint32_t gdi)
{
  struct stream_gt_slot *sl = NULL;
  uint8_t *raw;

  for (uint32_t i = 0; i < STREAM_GT_SLOTS; i++) {
    struct stream_gt_slot *c = &s->slots[i];
    if (c->valid && c->gdi == gdi) {
      c->tick = ++s->tick;
      return c->gt;
    }
    if (!sl || !c->valid || (sl->valid && c->tick < sl->tick))
      sl = c;
  }
  sl->valid = false;
  raw = (uint8_t *) sl->gt;            /* decode in place */
  if (vdk__io_pread (e->io, raw, s->gt_bytes,
                     (uint64_t) s->gd[gdi] * SECTOR) == -1)
    return NULL;
  for (uint32_t i = 0; i < s->h.num_gtes; i++)
    sl->gt[i] = le32_get (raw + 4 * i);
  sl->gdi = gdi, sl->valid = true, sl->tick = ++s->tick;
  return sl->gt;
}

/* State of grain g: *gte its entry; *mem set if the writer holds it. */
static int
lookup (struct vdk_extent *e, struct stream *s, uint64_t g, int *state,
        uint32_t *gte, const uint8_t **mem)
{
  uint64_t gdi = g / s->h.num_gtes;
  const uint32_t *gt;
  int r = 0;

  *gte = 0, *mem = NULL;
  if (g * s->grain_bytes >= s->cap_bytes)
    ;                                  /* past the header's capacity */
  else if (s->w && (r = vdk__stream_w_lookup (e, s, g, gte, mem)) != 0) {
    if (r == -1)
      return -1;
  } else if (s->gd[gdi]) {
    if (!(gt = get_gt (e, s, (uint32_t) gdi)))
      return -1;
    *gte = gt[g % s->h.num_gtes];
  }
  if (*mem)
    *state = VDK_BLOCK_DATA;
  else if (*gte == 0)
    *state = VDK_BLOCK_HOLE;
  else if (*gte == 1 && (s->h.flags & SPARSE_FLAG_ZERO_GRAIN))
    *state = VDK_BLOCK_ZERO;
  else if ((uint64_t) *gte * SECTOR + GRAIN_MARKER_BYTES > s->fsize)
    return sbad (e, "grain %" PRIu64 ": marker at sector %" PRIu32
                 " lies beyond end of file (%" PRIu64 " bytes)", g, *gte,
                 s->fsize);
  else
    *state = VDK_BLOCK_DATA;
  return 0;
}

static int
stream_map (struct vdk_extent *e, uint64_t off, uint64_t len, uint64_t *pnum,
            int *state, uint64_t *host)
{
  struct stream *s = e->priv;
  SCOPED_LOCK (&s->lock);
  uint64_t done = 0;
  int st0 = -1;

  while (done < len) {
    uint64_t o = off + done, g = o / s->grain_bytes, n;
    const uint8_t *mem;
    uint32_t gte;
    int st;
    if (o < s->cap_bytes && !s->w && s->gd[g / s->h.num_gtes] == 0) {
      st = VDK_BLOCK_HOLE;             /* a whole empty table */
      n = s->cover_bytes - o % s->cover_bytes;
    } else {
      if (lookup (e, s, g, &st, &gte, &mem) == -1)
        return -1;
      n = s->grain_bytes - o % s->grain_bytes;
    }
    if (st0 != -1 && st != st0)
      break;
    st0 = st;
    done += MIN (n, len - done);
  }
  *pnum = done, *state = st0, *host = UINT64_MAX;
  return 0;
}

static struct stream_ctx *
get_ctx (struct vdk_extent *e, struct stream *s)
{
  struct stream_ctx *c;
  {
    SCOPED_LOCK (&s->lock);
    if ((c = s->pool) != NULL) {
      s->pool = c->next;
      return c;
    }
  }
  if (!(c = calloc (1, sizeof *c))
      || !(c->d = libdeflate_alloc_decompressor ())
      || !(c->cbuf = malloc (stream_cmax (s->grain_bytes)
                             + GRAIN_MARKER_BYTES))
      || !(c->grain = malloc (s->grain_bytes))) {
    if (c) {
      if (c->d)
        libdeflate_free_decompressor (c->d);
      free (c->cbuf);
      free (c);
    }
    serr (e, ENOMEM, "out of memory for a decompressor");
    return NULL;
  }
  return c;
}

static void
put_ctx (struct stream *s, struct stream_ctx *c)
{
  SCOPED_LOCK (&s->lock);
  c->next = s->pool;
  s->pool = c;
}

/* Read the compressed record of grain g at sector gte into c->cbuf;
 * *csize = its payload size. */
static int
read_record (struct vdk_extent *e, struct stream *s, struct stream_ctx *c,
             uint64_t g, uint32_t gte, uint32_t *csize)
{
  uint64_t pos = (uint64_t) gte * SECTOR, first, end;
  uint64_t cmax = stream_cmax (s->grain_bytes);
  struct stream_marker m;

  /* One read covers the marker and, usually, the whole payload. */
  first = MIN (s->fsize - pos, s->grain_bytes + SECTOR);
  if (vdk__io_pread (e->io, c->cbuf, first, pos) == -1)
    return -1;
  m.val = le64_get (c->cbuf);
  m.size = le32_get (c->cbuf + 8);
  if (m.size == 0)
    return sbad (e, "grain %" PRIu64 ": sector %" PRIu32 " holds a "
                 "metadata marker, not a grain marker", g, gte);
  if (m.val != g * s->h.grain_size)
    return sbad (e, "grain marker at sector %" PRIu32 " is for LBA %"
                 PRIu64 " but the grain table puts it at LBA %" PRIu64,
                 gte, m.val, g * s->h.grain_size);
  if (m.size > cmax)
    return sbad (e, "grain %" PRIu64 ": compressed size %" PRIu32
                 " is larger than the %" PRIu64 " allowed for a grain", g,
                 m.size, cmax);
  end = pos + GRAIN_MARKER_BYTES + m.size;
  if (end > s->fsize)
    return sbad (e, "grain %" PRIu64 ": compressed data (%" PRIu32
                 " bytes at sector %" PRIu32 ") runs past end of file", g,
                 m.size, gte);
  if (end - pos > first
      && vdk__io_pread (e->io, c->cbuf + first, end - pos - first,
                        pos + first) == -1)
    return -1;
  *csize = m.size;
  return 0;
}

/* Inflate grain g (marker at sector gte) into out (grain_bytes). */
static int
inflate_grain (struct vdk_extent *e, struct stream *s, struct stream_ctx *c,
               uint64_t g, uint32_t gte, uint8_t *out)
{
  uint64_t need = MIN (s->grain_bytes, s->cap_bytes - g * s->grain_bytes);
  const uint8_t *in = c->cbuf + GRAIN_MARKER_BYTES;
  size_t got = 0;
  uint32_t csize = 0;
  enum libdeflate_result r;

  if (read_record (e, s, c, g, gte, &csize) == -1)
    return -1;
  r = libdeflate_zlib_decompress (c->d, in, csize, out, s->grain_bytes,
                                  &got);
  if (r == LIBDEFLATE_BAD_DATA)        /* some writers use raw deflate */
    r = libdeflate_deflate_decompress (c->d, in, csize, out, s->grain_bytes,
                                       &got);
  if (r != LIBDEFLATE_SUCCESS)
    return sbad (e, "grain %" PRIu64 " (marker at sector %" PRIu32
                 "): %s", g, gte, r == LIBDEFLATE_INSUFFICIENT_SPACE
                 ? "inflates to more than one grain"
                 : "inflate failed: the compressed data is corrupt");
  if (got < need)
    return sbad (e, "grain %" PRIu64 " (marker at sector %" PRIu32
                 "): inflates to %zu bytes, expected %" PRIu64, g, gte, got,
                 need);
  memset (out + got, 0, s->grain_bytes - got);
  return 0;
}

/* Copy n bytes at inoff of grain g (entry gte, or writer memory). */
static int
read_grain_part (struct vdk_extent *e, struct stream *s, struct stream_ctx *c,
                 uint64_t g, uint8_t *dst, uint64_t inoff, uint64_t n)
{
  const uint8_t *mem;
  uint32_t gte;
  int st;
  {
    SCOPED_LOCK (&s->lock);
    if (lookup (e, s, g, &st, &gte, &mem) == -1)
      return -1;
    if (st != VDK_BLOCK_DATA || mem || s->cache_g == g) {
      if (st != VDK_BLOCK_DATA)
        memset (dst, 0, n);
      else
        memcpy (dst, (mem ? mem : s->cache) + inoff, n);
      return 0;
    }
  }
  if (inoff == 0 && n == s->grain_bytes)
    return inflate_grain (e, s, c, g, gte, dst);
  if (inflate_grain (e, s, c, g, gte, c->grain) == -1)
    return -1;
  memcpy (dst, c->grain + inoff, n);
  SCOPED_LOCK (&s->lock);
  if (s->cache || (s->cache = malloc (s->grain_bytes))) {
    memcpy (s->cache, c->grain, s->grain_bytes);
    s->cache_g = g;
  }
  return 0;
}

static int
stream_pread (struct vdk_extent *e, void *buf, uint64_t len, uint64_t off)
{
  struct stream *s = e->priv;
  struct stream_ctx *c = get_ctx (e, s);
  uint8_t *p = buf;
  int r = 0;

  if (!c)
    return -1;
  while (len > 0 && r == 0) {
    uint64_t g = off / s->grain_bytes, inoff = off % s->grain_bytes;
    uint64_t n = MIN (len, s->grain_bytes - inoff);
    if (off >= s->cap_bytes) {
      memset (p, 0, len);
      break;
    }
    r = read_grain_part (e, s, c, g, p, inoff, n);
    p += n, off += n, len -= n;
  }
  put_ctx (s, c);
  return r;
}

static int
stream_pwrite (struct vdk_extent *e, const void *buf, uint64_t len,
               uint64_t off, vdk_fill_fn fill, void *ctx)
{
  struct stream *s = e->priv;
  SCOPED_LOCK (&s->lock);
  if (!s->w)
    return serr (e, EROFS, "this streamOptimized extent already holds data "
                 "(or uses QEMU's layout): streams are written once, in "
                 "increasing order, right after they are created; convert "
                 "it to another type to modify it");
  return vdk__stream_w_pwrite (e, s, buf, len, off);
}

static int
stream_zero (struct vdk_extent *e, uint64_t off, uint64_t len,
             vdk_fill_fn fill, void *ctx)
{
  struct stream *s = e->priv;
  SCOPED_LOCK (&s->lock);
  if (!s->w)
    return serr (e, EROFS, "this streamOptimized extent already holds data: "
                 "it cannot be written");
  return vdk__stream_w_zero (e, s, off, len);
}

static int
stream_begin_write (struct vdk_extent *e)
{
  struct stream *s = e->priv;
  SCOPED_LOCK (&s->lock);
  if (!s->at_end || !s->empty)
    return serr (e, EROFS, "this streamOptimized extent already holds data "
                 "(or uses QEMU's layout): streams are written once, in "
                 "increasing order, right after they are created; convert "
                 "it to another type to modify it");
  return s->w ? 0 : vdk__stream_w_start (e, s);
}

static int
stream_flush (struct vdk_extent *e)
{
  struct stream *s = e->priv;
  if (!s)                 /* never opened (a failed open, a check pass) */
    return vdk__io_flush (e->io);
  SCOPED_LOCK (&s->lock);
  if (!s->w)
    return 0;
  return vdk__stream_w_flush (e, s);
}

static int
stream_close (struct vdk_extent *e)
{
  struct stream *s = e->priv;
  int r = 0;
  if (!s)
    return 0;
  if (s->w) {
    pthread_mutex_lock (&s->lock);
    r = vdk__stream_w_flush (e, s);
    pthread_mutex_unlock (&s->lock);
    vdk__stream_w_free (s);
  }
  while (s->pool) {
    struct stream_ctx *c = s->pool;
    s->pool = c->next;
    libdeflate_free_decompressor (c->d);
    free (c->cbuf);
    free (c->grain);
    free (c);
  }
  for (uint32_t i = 0; i < STREAM_GT_SLOTS; i++)
    free (s->slots[i].gt);
  free (s->gd);
  free (s->cache);
  pthread_mutex_destroy (&s->lock);
  free (s);
  e->priv = NULL;
  return r;
}

static int
stream_set_level (struct vdk_extent *e, int level)
{
  struct stream *s = e->priv;
  if (!s)
    return vdk__ext_err (e, EINVAL, "not an open streamOptimized extent");
  SCOPED_LOCK (&s->lock);
  s->level = level;
  if (s->w)
    vdk__stream_w_set_level (s, level);
  return 0;
}

static int
stream_create (struct vdk_io *io, const struct vdk_ext_params *p)
{
  return vdk__stream_create (io, p->sectors, p->grain, p->desc);
}

/* Per grain holding data: its marker and deflate's worst case, sector
 * rounded; per region that holds one: a GT marker and the table. */
static uint64_t
stream_copy_bytes (uint64_t grain_bytes, uint64_t grains, uint64_t regions)
{
  struct libdeflate_compressor *z = libdeflate_alloc_compressor (1);
  uint64_t b = grain_bytes + grain_bytes / 8 + 1024;   /* if no memory */
  if (z) {
    b = libdeflate_zlib_compress_bound (z, grain_bytes);
    libdeflate_free_compressor (z);
  }
  return grains * ROUND_UP (12 + b, SECTOR) + regions * (SECTOR + 2048);
}

const struct vdk_extent_ops vdk__stream_ops = {
  .name = "streamOptimized",
  .open = stream_open,
  .map = stream_map,
  .pread = stream_pread,
  .pwrite = stream_pwrite,
  .zero = stream_zero,
  .flush = stream_flush,
  .begin_write = stream_begin_write,
  .close = stream_close,
  .kinds = 1u << VDK_EXT_SPARSE,
  .caps = VDK_FMT_ORDERED_WRITES,
  .probe = vdk__kdmv_probe_stream,
  .create = stream_create,
  .params = vdk__kdmv_params,
  .check = vdk__kdmv_check,
  .desc_read = vdk__sparse_read_desc,
  .desc_write = vdk__sparse_write_desc,
  .describe = vdk__kdmv_describe,
  .set_level = stream_set_level,
  .copy_bytes = stream_copy_bytes,
  .max_sectors = VDK_SPARSE_MAX_SECTORS,
  .unclean = vdk__kdmv_unclean,
};
