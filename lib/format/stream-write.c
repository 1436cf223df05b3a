/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing a streamOptimized extent: a true stream, appended in order,
 * with grains compressed on all cores.
 *
 * Facts (docs/vmdk-format.md §3.2): after the header and the embedded
 * descriptor, from overHead on: for each grain-table region in LBA
 * order its compressed grains (all-zero grains omitted), then a GT
 * marker and the table (regions without grains omitted, GD entry 0);
 * then the GD marker and GD, the footer marker and footer (the header
 * with the real gdOffset), and EOS.  Every record is sector aligned.
 * Grains are written whole (QEMU's reader rejects short ones).
 *
 * Design
 * - Writes are accepted only at or after the end of the previous one
 *   (next_off): the order a streaming consumer needs.  Bytes of a grain
 *   not written read as zero.
 * - The caller's thread copies grains into jobs of JOB_BYTES of grains
 *   (the last grain of the job being filled may still be partial).  A full job is queued; worker threads (one per core)
 *   compress jobs into ready-to-write records; the caller's thread
 *   writes finished jobs strictly in job order, keeping the grain
 *   table of the current region in memory and appending it when the
 *   stream moves to the next region.  A ring of jobs bounds memory.
 * - flush queues the job being filled, writes everything, then the
 *   metadata tail (the current region's table, GD, footer, EOS) after
 *   the last grain without moving the append point: the file is a valid
 *   stream after every flush, and the next write overwrites the tail.
 *   A grain flushed while partial is reopened if a later write lands
 *   in it (its record is dropped and rewritten).
 * - Errors in a worker stick: every later call fails with the message.
 * - Locking: the caller holds s->lock (see stream.c); w->lock and
 *   w->cond guard the job states between the caller and the workers. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "stream.h"

#define serr vdk__ext_err
#define JOB_BYTES (512u << 10)   /* input bytes per job */
#define MAX_WORKERS 16u

enum { J_FREE, J_FILL, J_QUEUED, J_BUSY, J_DONE };

struct sjob {
  int state;
  uint32_t n;
  uint64_t *g;                   /* grain numbers, increasing */
  uint32_t *rec;                 /* record bytes, 0 = omitted (zero) */
  uint8_t *in, *out;
  bool failed;
};

struct stream_writer {
  int level;
  uint32_t job_grains;
  size_t rec_max;                /* bytes of one record at most */
  uint64_t next_off;             /* writes start here or later */
  uint64_t tail;                 /* byte offset of the next record */
  uint32_t cur_gdi;              /* region being written */
  uint32_t *cur_gt;
  /* a grain flushed while partial, reopened by a later write */
  uint64_t reopen_g, reopen_pos;
  uint8_t *reopen;
  struct sjob *jobs;
  uint32_t njobs;
  uint64_t submitted, emitted, taken; /* job sequence numbers */
  bool filling;                  /* jobs[submitted % njobs] is filling */
  pthread_t th[MAX_WORKERS];
  uint32_t nworkers;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool stop;
  bool failed;                   /* sticky: err is raised by every call */
  struct vdk__saved_err err;
};

/* ---- workers ---- */

/* A worker's compressors: the chosen level, level 0 (stored blocks, a
 * valid zlib stream at memcpy speed) and level 1 for samples. */
struct zset {
  int level;
  struct libdeflate_compressor *c, *store, *fast;
};

/* Incompressible grains (random data, compressed or encrypted files)
 * cost a full deflate pass for nothing.  Two 4 KiB samples (start and
 * middle) are tried at level 1 first; if neither shrinks by 1/32 the
 * grain is stored.  Only speed and size depend on this guess. */
#define SAMPLE 4096u

static bool
incompressible (struct zset *z, const uint8_t *in, size_t n)
{
  uint8_t tmp[SAMPLE];
  size_t k = MIN (n, SAMPLE);
  if (n < 2 * SAMPLE)
    return false;
  return libdeflate_deflate_compress (z->fast, in, k, tmp, k - k / 32) == 0
    && libdeflate_deflate_compress (z->fast, in + n / 2, k, tmp,
                                    k - k / 32) == 0;
}

static void
compress_job (struct stream *s, struct sjob *j, struct zset *z)
{
  struct stream_writer *w = s->w;
  size_t at = 0;

  for (uint32_t i = 0; i < j->n; i++) {
    const uint8_t *in = j->in + (size_t) i * s->grain_bytes;
    uint8_t *o = j->out + at;
    size_t cs;
    if (is_zero (in, s->grain_bytes)) {
      j->rec[i] = 0;
      continue;
    }
    cs = libdeflate_zlib_compress (incompressible (z, in, s->grain_bytes)
                                   ? z->store : z->c, in, s->grain_bytes,
                                   o + GRAIN_MARKER_BYTES,
                                   w->rec_max - GRAIN_MARKER_BYTES);
    if (cs == 0) {
      j->failed = true;
      return;
    }
    le64_put (o, j->g[i] * s->h.grain_size);
    le32_put (o + 8, (uint32_t) cs);
    j->rec[i] = (uint32_t) ROUND_UP (GRAIN_MARKER_BYTES + cs, SECTOR);
    memset (o + GRAIN_MARKER_BYTES + cs, 0,
            j->rec[i] - GRAIN_MARKER_BYTES - cs);
    at += j->rec[i];
  }
}

static void
zset_free (struct zset *z)
{
  if (z->c)
    libdeflate_free_compressor (z->c);
  if (z->store)
    libdeflate_free_compressor (z->store);
  if (z->fast)
    libdeflate_free_compressor (z->fast);
}

/* Ready the compressors for `level`; false if out of memory. */
static bool
zset_ready (struct zset *z, int level)
{
  if (z->level != level) {
    if (z->c)
      libdeflate_free_compressor (z->c);
    z->level = level;
    z->c = libdeflate_alloc_compressor (level);
  }
  if (!z->store)
    z->store = libdeflate_alloc_compressor (0);
  if (!z->fast)
    z->fast = libdeflate_alloc_compressor (1);
  return z->c && z->store && z->fast;
}

static void *
worker (void *arg)
{
  struct stream *s = arg;
  struct stream_writer *w = s->w;
  struct zset z = { .level = -1 };

  pthread_mutex_lock (&w->lock);
  for (;;) {
    struct sjob *j;
    bool ready;
    while (!w->stop && w->taken == w->submitted)
      pthread_cond_wait (&w->cond, &w->lock);
    if (w->stop)
      break;
    j = &w->jobs[w->taken++ % w->njobs];
    j->state = J_BUSY;
    ready = zset_ready (&z, w->level);
    pthread_mutex_unlock (&w->lock);
    if (ready)
      compress_job (s, j, &z);
    else
      j->failed = true;
    pthread_mutex_lock (&w->lock);
    j->state = J_DONE;
    pthread_cond_broadcast (&w->cond);
  }
  pthread_mutex_unlock (&w->lock);
  zset_free (&z);
  return NULL;
}

/* ---- writing records in order ---- */

static int
check_room (struct vdk_extent *e, uint64_t end)
{
  if (end / SECTOR > UINT32_MAX)
    return serr (e, EFBIG, "stream is full: grain tables address at most "
                 "2^32 sectors (2 TiB) of file");
  return 0;
}

static int finish_region (struct vdk_extent *e, struct stream *s);

static int
put_run (struct vdk_extent *e, struct stream *s, const uint8_t *p, size_t n)
{
  struct stream_writer *w = s->w;
  if (n == 0)
    return 0;
  if (check_room (e, w->tail + n) == -1
      || vdk__io_pwrite (e->io, p, n, w->tail) == -1)
    return -1;
  w->tail += n;
  s->fsize = MAX (s->fsize, w->tail);
  return 0;
}

/* Write the records of a compressed job; runs of records inside one
 * region go out in one pwrite. */
static int
emit_job (struct vdk_extent *e, struct stream *s, struct sjob *j)
{
  struct stream_writer *w = s->w;
  const uint8_t *run = j->out;
  size_t at = 0, runlen = 0;

  for (uint32_t i = 0; i < j->n; i++) {
    uint32_t gdi = (uint32_t) (j->g[i] / s->h.num_gtes);
    if (j->g[i] == w->reopen_g)
      w->reopen_pos = j->rec[i] ? w->tail + runlen : UINT64_MAX;
    if (!j->rec[i])
      continue;
    if (gdi != w->cur_gdi) {
      if (put_run (e, s, run, runlen) == -1 || finish_region (e, s) == -1)
        return -1;
      w->cur_gdi = gdi;
      run = j->out + at, runlen = 0;
    }
    w->cur_gt[j->g[i] % s->h.num_gtes] =
      (uint32_t) ((w->tail + runlen) / SECTOR);
    runlen += j->rec[i], at += j->rec[i];
  }
  return put_run (e, s, run, runlen);
}

static int
sticky (struct vdk_extent *e, struct stream_writer *w)
{
  if (!w->failed)
    return 0;
  return vdk__err_restore (&w->err);
}

static void
set_sticky (struct stream_writer *w)
{
  if (!w->failed) {
    w->failed = true;
    vdk__err_save (&w->err);
  }
}

/* Write finished jobs in order; with `all`, wait for every queued one. */
static int
emit_ready (struct vdk_extent *e, struct stream *s, bool all)
{
  struct stream_writer *w = s->w;
  int r = 0;

  pthread_mutex_lock (&w->lock);
  while (w->emitted < w->submitted && r == 0) {
    struct sjob *j = &w->jobs[w->emitted % w->njobs];
    if (j->state != J_DONE) {
      if (!all)
        break;
      pthread_cond_wait (&w->cond, &w->lock);
      continue;
    }
    pthread_mutex_unlock (&w->lock);
    if (j->failed)
      r = serr (e, EIO, "compressing grains failed");
    else
      r = emit_job (e, s, j);
    pthread_mutex_lock (&w->lock);
    j->state = J_FREE;
    w->emitted++;
  }
  pthread_mutex_unlock (&w->lock);
  if (r == -1)
    set_sticky (w);
  return r;
}

static void
submit (struct stream_writer *w)
{
  pthread_mutex_lock (&w->lock);
  w->jobs[w->submitted % w->njobs].state = J_QUEUED;
  w->submitted++;
  w->filling = false;
  pthread_cond_broadcast (&w->cond);
  pthread_mutex_unlock (&w->lock);
}

/* The job being filled, starting one (and making room) if needed. */
static struct sjob *
filling_job (struct vdk_extent *e, struct stream *s)
{
  struct stream_writer *w = s->w;
  struct sjob *j;

  if (w->filling)
    return &w->jobs[w->submitted % w->njobs];
  for (;;) {
    if (emit_ready (e, s, false) == -1)
      return NULL;
    pthread_mutex_lock (&w->lock);
    if (w->submitted - w->emitted < w->njobs) {
      pthread_mutex_unlock (&w->lock);
      break;
    }
    while (w->jobs[w->emitted % w->njobs].state != J_DONE)
      pthread_cond_wait (&w->cond, &w->lock);
    pthread_mutex_unlock (&w->lock);
  }
  j = &w->jobs[w->submitted % w->njobs];
  j->state = J_FILL, j->n = 0, j->failed = false;
  w->filling = true;
  return j;
}

/* Drop the record of a grain flushed while partial; its data comes back
 * into the job being filled. */
static int
reopen_grain (struct vdk_extent *e, struct stream *s, uint8_t *slot)
{
  struct stream_writer *w = s->w;
  memcpy (slot, w->reopen, s->grain_bytes);
  if (w->reopen_pos != UINT64_MAX) {
    w->tail = w->reopen_pos;
    w->cur_gt[w->reopen_g % s->h.num_gtes] = 0;
  }
  w->reopen_g = UINT64_MAX;
  return 0;
}

/* Buffer for grain g inside the job being filled. */
static uint8_t *
grain_slot (struct vdk_extent *e, struct stream *s, uint64_t g, bool whole)
{
  struct stream_writer *w = s->w;
  struct sjob *j = w->filling ? &w->jobs[w->submitted % w->njobs] : NULL;
  uint8_t *slot;

  if (j && j->n && j->g[j->n - 1] == g)
    return j->in + (size_t) (j->n - 1) * s->grain_bytes;
  if (j && j->n == w->job_grains)
    submit (w);
  if (!(j = filling_job (e, s)))
    return NULL;
  slot = j->in + (size_t) j->n * s->grain_bytes;
  j->g[j->n++] = g;
  if (g == w->reopen_g)
    reopen_grain (e, s, slot);
  else if (!whole)
    memset (slot, 0, s->grain_bytes);
  if (g > w->reopen_g)
    w->reopen_g = UINT64_MAX;
  return slot;
}

static int
check_order (struct vdk_extent *e, struct stream_writer *w, uint64_t off)
{
  if (off < w->next_off)
    return serr (e, ENOTSUP, "streamOptimized disks are written in "
                 "increasing order only (append): a write at byte %" PRIu64
                 " comes before byte %" PRIu64 ", the end of what was "
                 "already written", off, w->next_off);
  return 0;
}

int
vdk__stream_w_pwrite (struct vdk_extent *e, struct stream *s,
                      const uint8_t *buf, uint64_t len, uint64_t off)
{
  struct stream_writer *w = s->w;

  if (sticky (e, w) == -1 || check_order (e, w, off) == -1)
    return -1;
  if (off + len > s->cap_bytes)
    return serr (e, ENOSPC, "write at byte %" PRIu64 " is beyond the "
                 "stream's capacity", off);
  while (len > 0) {
    uint64_t g = off / s->grain_bytes, inoff = off % s->grain_bytes;
    uint64_t n = MIN (len, s->grain_bytes - inoff);
    uint8_t *slot = grain_slot (e, s, g, n == s->grain_bytes);
    if (!slot)
      return -1;
    memcpy (slot + inoff, buf, n);
    buf += n, off += n, len -= n;
    w->next_off = off;
  }
  return 0;
}

int
vdk__stream_w_zero (struct vdk_extent *e, struct stream *s, uint64_t off,
                    uint64_t len)
{
  struct stream_writer *w = s->w;
  /* Unwritten bytes of a grain are zero already, and grains never
   * written read as zero: only the order needs checking. */
  if (sticky (e, w) == -1 || check_order (e, w, off) == -1)
    return -1;
  w->next_off = off + len;
  return 0;
}

/* ---- flush: the metadata tail ---- */

/* Marker + grain table of gt at byte pos; *bytes = its size. */
static int
put_gt (struct vdk_extent *e, struct stream *s, const uint32_t *gt,
        uint64_t pos, size_t *bytes)
{
  CLEANUP_FREE uint8_t *b = NULL;

  *bytes = SECTOR + (size_t) s->gt_sectors * SECTOR;
  if (!(b = calloc (1, *bytes)))
    return serr (e, ENOMEM, "out of memory");
  stream_marker_encode (b, s->gt_sectors, MARKER_GT);
  for (uint32_t i = 0; i < s->h.num_gtes; i++)
    le32_put (b + SECTOR + 4 * i, gt[i]);
  if (check_room (e, pos + *bytes) == -1)
    return -1;
  return vdk__io_pwrite (e->io, b, *bytes, pos);
}

/* Append the current region's GT marker and table; set its GD entry. */
static int
finish_region (struct vdk_extent *e, struct stream *s)
{
  struct stream_writer *w = s->w;
  bool any = false;
  size_t bytes;

  for (uint32_t i = 0; i < s->h.num_gtes && !any; i++)
    any = w->cur_gt[i] != 0;
  if (w->cur_gdi == UINT32_MAX || !any)
    return 0;
  if (put_gt (e, s, w->cur_gt, w->tail, &bytes) == -1)
    return -1;
  s->gd[w->cur_gdi] = (uint32_t) (w->tail / SECTOR + 1);
  w->tail += bytes;
  memset (w->cur_gt, 0, s->gt_bytes);
  return 0;
}

int
vdk__stream_put_tail (struct vdk_io *io, const struct sparse_header *h,
                      const uint32_t *gd, uint32_t ngd, uint64_t pos,
                      uint64_t *end)
{
  uint64_t gd_sectors = DIV_ROUND_UP ((uint64_t) ngd * 4, SECTOR);
  size_t n = SECTOR + gd_sectors * SECTOR + 3 * SECTOR;
  struct sparse_header f = *h;
  CLEANUP_FREE uint8_t *b = calloc (1, n);
  uint8_t *p = b;

  if (!b)
    return vdk__err (ENOMEM, "%s: out of memory", io->path);
  stream_marker_encode (p, gd_sectors, MARKER_GD);
  for (uint32_t i = 0; i < ngd; i++)
    le32_put (p + SECTOR + 4 * i, gd[i]);
  p += SECTOR + gd_sectors * SECTOR;
  stream_marker_encode (p, 1, MARKER_FOOTER);
  f.gd_offset = pos / SECTOR + 1;
  f.rgd_offset = 0;
  f.unclean = 0;
  vdk__sparse_header_encode (&f, p + SECTOR);
  /* EOS: the last sector stays zero */
  if ((pos + n) / SECTOR > UINT32_MAX)
    return vdk__err (EFBIG, "%s: stream is full (2 TiB of file)", io->path);
  if (vdk__io_pwrite (io, b, n, pos) == -1)
    return -1;
  *end = pos + n;
  return 0;
}

/* Keep a copy of a partial last grain, reopened by a later write. */
static int
keep_partial (struct vdk_extent *e, struct stream *s, struct sjob *j)
{
  struct stream_writer *w = s->w;
  uint64_t g = j->g[j->n - 1];

  if (w->next_off >= (g + 1) * s->grain_bytes
      || w->next_off >= s->cap_bytes)
    return 0;                          /* complete: never reopened */
  if (!w->reopen && !(w->reopen = malloc (s->grain_bytes)))
    return serr (e, ENOMEM, "out of memory");
  memcpy (w->reopen, j->in + (size_t) (j->n - 1) * s->grain_bytes,
          s->grain_bytes);
  w->reopen_g = g;
  w->reopen_pos = UINT64_MAX;
  return 0;
}

static int
write_tail (struct vdk_extent *e, struct stream *s)
{
  struct stream_writer *w = s->w;
  CLEANUP_FREE uint32_t *gd = malloc ((size_t) s->ngd * 4);
  uint64_t pos = w->tail, end;
  size_t bytes;
  bool any = false;

  if (!gd)
    return serr (e, ENOMEM, "out of memory");
  memcpy (gd, s->gd, (size_t) s->ngd * 4);
  for (uint32_t i = 0; i < s->h.num_gtes && !any; i++)
    any = w->cur_gt[i] != 0;
  if (any) {
    if (put_gt (e, s, w->cur_gt, pos, &bytes) == -1)
      return -1;
    gd[w->cur_gdi] = (uint32_t) (pos / SECTOR + 1);
    pos += bytes;
  }
  if (vdk__stream_put_tail (e->io, &s->h, gd, s->ngd, pos, &end) == -1
      || vdk__io_truncate (e->io, end) == -1)
    return -1;
  s->fsize = end;
  return vdk__io_flush (e->io);
}

int
vdk__stream_w_flush (struct vdk_extent *e, struct stream *s)
{
  struct stream_writer *w = s->w;

  if (sticky (e, w) == -1)
    return -1;
  if (w->filling) {
    struct sjob *j = &w->jobs[w->submitted % w->njobs];
    if (j->n == 0) {
      j->state = J_FREE;
      w->filling = false;
    } else {
      if (keep_partial (e, s, j) == -1)
        return -1;
      submit (w);
    }
  }
  if (emit_ready (e, s, true) == -1 || write_tail (e, s) == -1) {
    set_sticky (w);
    return -1;
  }
  return 0;
}

int
vdk__stream_w_lookup (struct vdk_extent *e, struct stream *s, uint64_t g,
                      uint32_t *gte, const uint8_t **data)
{
  struct stream_writer *w = s->w;
  uint32_t gdi = (uint32_t) (g / s->h.num_gtes);

  if (w->filling) {
    struct sjob *j = &w->jobs[w->submitted % w->njobs];
    for (uint32_t i = 0; i < j->n; i++)
      if (j->g[i] == g) {
        *data = j->in + (size_t) i * s->grain_bytes;
        return 1;
      }
  }
  if (w->submitted > w->emitted && emit_ready (e, s, true) == -1)
    return -1;
  if (w->cur_gdi == UINT32_MAX || gdi > w->cur_gdi)
    return 1;                          /* not written: a hole */
  if (gdi == w->cur_gdi) {
    *gte = w->cur_gt[g % s->h.num_gtes];
    return 1;
  }
  return 0;
}

/* ---- start and stop ---- */

static int
alloc_jobs (struct vdk_extent *e, struct stream *s, struct stream_writer *w)
{
  struct libdeflate_compressor *c = libdeflate_alloc_compressor (1);

  if (!c)
    return serr (e, ENOMEM, "out of memory for a compressor");
  w->rec_max = ROUND_UP (GRAIN_MARKER_BYTES
                         + libdeflate_zlib_compress_bound (c, s->grain_bytes),
                         SECTOR);
  libdeflate_free_compressor (c);
  w->job_grains = (uint32_t) MAX (1, JOB_BYTES / s->grain_bytes);
  if (!(w->jobs = calloc (w->njobs, sizeof *w->jobs))
      || !(w->cur_gt = calloc (1, s->gt_bytes)))
    return serr (e, ENOMEM, "out of memory");
  for (uint32_t i = 0; i < w->njobs; i++) {
    struct sjob *j = &w->jobs[i];
    if (!(j->g = calloc (w->job_grains, sizeof *j->g))
        || !(j->rec = calloc (w->job_grains, sizeof *j->rec))
        || !(j->in = malloc ((size_t) w->job_grains * s->grain_bytes))
        || !(j->out = malloc ((size_t) w->job_grains * w->rec_max)))
      return serr (e, ENOMEM, "out of memory for compression buffers");
  }
  return 0;
}

int
vdk__stream_w_start (struct vdk_extent *e, struct stream *s)
{
  struct stream_writer *w = calloc (1, sizeof *w);
  long cpus = sysconf (_SC_NPROCESSORS_ONLN);
  uint64_t start = MAX (MAX (s->h.overhead, 1),
                        s->h.desc_offset + s->h.desc_size);

  if (!w)
    return serr (e, ENOMEM, "out of memory");
  s->w = w;
  pthread_mutex_init (&w->lock, NULL);
  pthread_cond_init (&w->cond, NULL);
  w->level = s->level;
  w->cur_gdi = UINT32_MAX;
  w->reopen_g = UINT64_MAX;
  w->tail = start * SECTOR;
  w->nworkers = (uint32_t) MIN (MAX (cpus, 1), (long) MAX_WORKERS);
  w->njobs = 2 * w->nworkers + 2;
  if (alloc_jobs (e, s, w) == -1)
    goto fail;
  for (uint32_t i = 0; i < w->nworkers; i++)
    if ((errno = pthread_create (&w->th[i], NULL, worker, s)) != 0) {
      serr (e, errno, "cannot start a compression thread: %s",
            strerror (errno));
      w->nworkers = i;
      goto fail;
    }
  return 0;
fail:
  vdk__stream_w_free (s);
  return -1;
}

void
vdk__stream_w_free (struct stream *s)
{
  struct stream_writer *w = s->w;
  if (!w)
    return;
  pthread_mutex_lock (&w->lock);
  w->stop = true;
  pthread_cond_broadcast (&w->cond);
  pthread_mutex_unlock (&w->lock);
  for (uint32_t i = 0; i < w->nworkers; i++)
    pthread_join (w->th[i], NULL);
  for (uint32_t i = 0; w->jobs && i < w->njobs; i++) {
    free (w->jobs[i].g);
    free (w->jobs[i].rec);
    free (w->jobs[i].in);
    free (w->jobs[i].out);
  }
  free (w->jobs);
  free (w->cur_gt);
  free (w->reopen);
  pthread_cond_destroy (&w->cond);
  pthread_mutex_destroy (&w->lock);
  free (w);
  s->w = NULL;
}

void
vdk__stream_w_set_level (struct stream *s, int level)
{
  pthread_mutex_lock (&s->w->lock);
  s->w->level = level;
  pthread_mutex_unlock (&s->w->lock);
}

/* ---- creation ---- */

int
vdk__stream_create (struct vdk_io *io, uint64_t capacity, uint32_t grain,
                    const char *desc)
{
  uint64_t dsec = desc ? MAX (20, DIV_ROUND_UP (strlen (desc) + 1, SECTOR))
    : 0;
  uint64_t ngd = DIV_ROUND_UP (capacity, 512u * (uint64_t) grain), end;
  struct sparse_header h = {
    .version = 3, .capacity = capacity, .grain_size = grain,
    .flags = SPARSE_FLAG_NL_VALID | SPARSE_FLAG_COMPRESSED
      | SPARSE_FLAG_MARKERS,
    .desc_offset = dsec ? 1 : 0, .desc_size = dsec, .num_gtes = 512,
    .gd_offset = SPARSE_GD_AT_END, .compress = 1,
  };
  uint8_t hb[512];
  CLEANUP_FREE uint32_t *gd = calloc (ngd ? ngd : 1, 4);
  CLEANUP_FREE char *dbuf = dsec ? calloc (dsec, SECTOR) : NULL;

  if (!IS_POWER_OF_2 (grain) || grain > STREAM_MAX_GRAIN_SECTORS
      || capacity == 0
      || ngd > (32u << 20))
    return vdk__err (EINVAL, "%s: invalid grain size or capacity for a "
                     "stream", io->path);
  if (!gd || (dsec && !dbuf))
    return vdk__err (ENOMEM, "%s: out of memory", io->path);
  h.overhead = ROUND_UP (1 + dsec, grain);
  vdk__sparse_header_encode (&h, hb);
  if (vdk__io_pwrite (io, hb, sizeof hb, 0) == -1)
    return -1;
  if (dsec) {
    memcpy (dbuf, desc, strlen (desc));
    if (vdk__io_pwrite (io, dbuf, dsec * SECTOR, SECTOR) == -1)
      return -1;
  }
  if (vdk__stream_put_tail (io, &h, gd, (uint32_t) ngd, h.overhead * SECTOR,
                            &end) == -1)
    return -1;
  return vdk__io_truncate (io, end);
}
