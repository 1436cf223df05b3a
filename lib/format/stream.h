/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private to the streamOptimized extent: lib/format/stream.c (open,
 * lookup, inflate), stream-write.c (the append-only writer and its
 * compression pipeline) and stream-walk.c (the strict sequential
 * reader).  Facts: docs/vmdk-format.md §3. */
#ifndef VDK_FORMAT_STREAM_H
#define VDK_FORMAT_STREAM_H

#include <libdeflate.h>

#include "format/format.h"

/* Metadata marker types (§3.1). */
enum {
  MARKER_EOS = 0, MARKER_GT = 1, MARKER_GD = 2, MARKER_FOOTER = 3,
  MARKER_UNSPECIFIED = 4,
};
#define GRAIN_MARKER_BYTES 12u      /* lba u64, size u32 */
#define STREAM_GT_SLOTS 64u         /* grain tables cached for reads */
/* libdeflate level 3: within a few per cent of zlib -6 (what qemu
 * writes) in size, at about a third of its CPU time. */
#define STREAM_DEFAULT_LEVEL 3
/* Largest grain accepted in a stream: every known writer uses 64 KiB,
 * and each reader context holds about three grains of buffers. */
#define STREAM_MAX_GRAIN_SECTORS 2048u

/* A marker as read: val is the LBA of a grain marker or numSectors of a
 * metadata marker; size 0 tells a metadata marker. */
struct stream_marker {
  uint64_t val;
  uint32_t size;
  uint32_t type;
};

static inline void
stream_marker_decode (const uint8_t *b, struct stream_marker *m)
{
  m->val = le64_get (b);
  m->size = le32_get (b + 8);
  m->type = le32_get (b + 12);
}

/* One metadata marker sector. */
static inline void
stream_marker_encode (uint8_t b[512], uint64_t sectors, uint32_t type)
{
  memset (b, 0, 512);
  le64_put (b, sectors);
  le32_put (b + 12, type);
}

/* Largest compressed payload of one grain we accept: deflate can grow
 * incompressible data a little; 2 x grain + a sector is far beyond any
 * real encoder (§3.3) and still bounds the read buffer. */
static inline uint64_t
stream_cmax (uint64_t grain_bytes)
{
  return 2 * grain_bytes + SECTOR;
}

/* Decompression context: one per concurrent reader, pooled. */
struct stream_ctx {
  struct libdeflate_decompressor *d;
  uint8_t *cbuf;                 /* marker + compressed data */
  uint8_t *grain;                /* one inflated grain */
  struct stream_ctx *next;
};

struct stream_gt_slot {
  uint32_t gdi;
  bool valid;
  uint64_t tick;
  uint32_t *gt;
};

struct stream_writer;

struct stream {
  struct sparse_header h;        /* the footer's copy when GD_AT_END */
  uint64_t fsize;                /* bytes */
  uint64_t grain_bytes, cover_bytes, cap_bytes;
  uint32_t ngd, gt_bytes, gt_sectors, gd_sectors;
  uint32_t *gd;
  bool at_end;                   /* footer stream, not qemu's layout */
  bool empty;                    /* holds no grain: may be written */
  int level;                     /* compression level for writing */
  struct stream_gt_slot slots[STREAM_GT_SLOTS];
  uint64_t tick;
  struct stream_ctx *pool;
  uint8_t *cache;                /* the last grain inflated by a partial */
  uint64_t cache_g;              /* read, or UINT64_MAX */
  pthread_mutex_t lock;          /* everything above */
  struct stream_writer *w;       /* NULL unless writing */
};

/* Writer (stream-write.c).  All called with s->lock held. */
int vdk__stream_w_start (struct vdk_extent *e, struct stream *s);
int vdk__stream_w_pwrite (struct vdk_extent *e, struct stream *s,
                          const uint8_t *buf, uint64_t len, uint64_t off);
int vdk__stream_w_zero (struct vdk_extent *e, struct stream *s,
                        uint64_t off, uint64_t len);
int vdk__stream_w_flush (struct vdk_extent *e, struct stream *s);
void vdk__stream_w_free (struct stream *s);
void vdk__stream_w_set_level (struct stream *s, int level);
/* What the writer knows of grain g: 1 with *gte set (0 = hole) or
 * *data pointing at a grain still in memory; 0 if g lies in a region
 * already written out (use the GD). */
int vdk__stream_w_lookup (struct vdk_extent *e, struct stream *s,
                          uint64_t g, uint32_t *gte, const uint8_t **data);
/* GD marker + GD, footer marker + footer, EOS at byte pos of io (a
 * sector multiple); *end = the byte after EOS. */
int vdk__stream_put_tail (struct vdk_io *io, const struct sparse_header *h,
                          const uint32_t *gd, uint32_t ngd, uint64_t pos,
                          uint64_t *end);

#endif /* VDK_FORMAT_STREAM_H */
