/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Clone / convert: copy the guest-visible contents of an open disk into
 * a new disk of any type vdk can create.
 *
 * The copy asks the source for its allocation (grain tables, SEEK_DATA
 * on flat and raw files) and never reads holes; data runs are read in
 * large chunks and scanned for all-zero blocks, which are not written,
 * so the output stays sparse (a new sparse disk reads zero where nothing
 * was written; a new raw or flat file is created as one host hole).
 * Writes arrive in increasing order, so new grains are laid out
 * contiguously and in LBA order.  Memory use is a few 1 MiB chunk
 * buffers per thread, whatever the disk size. */
#include <errno.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ops/ops.h"

#define CHUNK (1u << 20)          /* bytes read per call */
#define ZERO_BLOCK (64u << 10)    /* granularity of the zero scan */
#define STATUS_MAX (1ull << 30)   /* bytes asked of block_status at once */

static int
source_adapter (vdk_disk *src)
{
  const char *a = src->top->desc
    ? vdk__desc_get (src->top->desc, "ddb.adapterType") : NULL;
  int r = a ? vdk_adapter_from_name (a) : -1;
  return r >= 0 ? r : VDK_ADAPTER_IDE;
}

static uint32_t
source_hw (vdk_disk *src)
{
  const char *h = src->top->desc
    ? vdk__desc_get (src->top->desc, "ddb.virtualHWVersion") : NULL;
  unsigned long v = h ? strtoul (h, NULL, 10) : 0;
  return v > 0 && v < 1000 ? (uint32_t) v : 4;
}

/* Write the non-zero blocks of buf (len bytes at disk offset off). */
static int
write_nonzero (vdk_disk *dst, const uint8_t *buf, uint64_t len, uint64_t off)
{
  uint64_t i = 0;
  while (i < len) {
    uint64_t start, end;
    /* skip zero blocks (block edges aligned to disk offsets) */
    while (i < len) {
      uint64_t n = MIN (len - i, ZERO_BLOCK - (off + i) % ZERO_BLOCK);
      if (!is_zero (buf + i, n))
        break;
      i += n;
    }
    start = i;
    while (i < len) {
      uint64_t n = MIN (len - i, ZERO_BLOCK - (off + i) % ZERO_BLOCK);
      if (is_zero (buf + i, n))
        break;
      i += n;
    }
    end = i;
    if (end > start
        && vdk__link_pwrite (dst->top, buf + start, end - start, off + start)
        == -1)
      return -1;
  }
  return 0;
}

/* Two-stage pipeline: a reader thread walks the source's allocation and
 * fills a ring of chunk buffers; the calling thread scans them for zero
 * blocks and writes.  On two cores the read and write copies overlap.
 * Errors in the reader are carried over with their message, since the
 * error state is per thread. */
#define RING 4

/* A chunk buffer: data read from the source, written to the output.
 * Chunks are 1 MiB, so the zero scan and the write find the bytes the
 * read just copied still in the CPU cache.  (The source used to be
 * mmap()ed to save that copy; on the virtual machines measured, setting
 * up and tearing down the mappings cost more than the copy: 2-2.5x the
 * CPU time of pread into a reused buffer, bench/convert.sh.) */
struct slot {
  uint8_t *buf;
  uint64_t off, len;
};

struct pipe {
  vdk_disk *src;
  bool top_only;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  struct slot ring[RING];
  unsigned head, tail;       /* filled = head - tail */
  bool eof, stop, failed;
  uint64_t scanned;          /* source bytes walked by the reader */
  struct vdk__saved_err err; /* the reader's error, if failed */
};

/* Fill the next slot with source data at off (len bytes). */
static int
put_slot (struct pipe *pp, uint64_t off, uint64_t len)
{
  struct slot *sl;
  pthread_mutex_lock (&pp->lock);
  while (pp->head - pp->tail == RING && !pp->stop)
    pthread_cond_wait (&pp->cond, &pp->lock);
  if (pp->stop) {
    pthread_mutex_unlock (&pp->lock);
    return -1;
  }
  sl = &pp->ring[pp->head % RING];
  pthread_mutex_unlock (&pp->lock);
  /* The slot is ours until head moves past it. */
  if (vdk__link_pread (pp->src->top, sl->buf, len, off) == -1)
    return -1;
  pthread_mutex_lock (&pp->lock);
  sl->off = off, sl->len = len;
  pp->head++;
  pp->scanned = off + len;
  pthread_cond_broadcast (&pp->cond);
  pthread_mutex_unlock (&pp->lock);
  return 0;
}

static void *
reader (void *arg)
{
  struct pipe *pp = arg;
  uint64_t cap = pp->src->top->capacity, off = 0;
  int r = 0;

  vdk__set_call ("vdk_clone");
  while (off < cap && r == 0) {
    uint64_t n;
    int st, depth;
    r = vdk__link_status (pp->src->top, off, MIN (cap - off, STATUS_MAX),
                          pp->top_only, &n, &st, &depth);
    if (r == 0 && st == VDK_BLOCK_DATA) {
      n = MIN (n, CHUNK);
      r = put_slot (pp, off, n);
    }
    off += n;
  }
  pthread_mutex_lock (&pp->lock);
  if (r == -1 && !pp->stop) {
    pp->failed = true;
    vdk__err_save (&pp->err);
  }
  pp->eof = true;
  pp->scanned = cap;
  pthread_cond_broadcast (&pp->cond);
  pthread_mutex_unlock (&pp->lock);
  return NULL;
}

/* Take the next filled slot; NULL at the end. */
static struct slot *
get_slot (struct pipe *pp, uint64_t *scanned)
{
  struct slot *sl = NULL;
  pthread_mutex_lock (&pp->lock);
  while (pp->head == pp->tail && !pp->eof)
    pthread_cond_wait (&pp->cond, &pp->lock);
  if (pp->head != pp->tail)
    sl = &pp->ring[pp->tail % RING];
  *scanned = sl ? sl->off : pp->scanned;
  pthread_mutex_unlock (&pp->lock);
  return sl;
}

static void
release_slot (struct pipe *pp, bool stop)
{
  pthread_mutex_lock (&pp->lock);
  if (stop)
    pp->stop = true;
  else
    pp->tail++;
  pthread_cond_broadcast (&pp->cond);
  pthread_mutex_unlock (&pp->lock);
}

static int
consume (struct pipe *pp, vdk_disk *dst, const struct vdk_clone_params *p)
{
  uint64_t cap = pp->src->top->capacity, at;
  struct slot *sl;

  while ((sl = get_slot (pp, &at)) != NULL) {
    if (write_nonzero (dst, sl->buf, sl->len, sl->off) == -1) {
      release_slot (pp, true);
      return -1;
    }
    at = sl->off + sl->len;
    release_slot (pp, false);
    if (p->progress && p->progress (p->opaque, at, cap)) {
      release_slot (pp, true);
      return vdk__err (ECANCELED, "cancelled");
    }
  }
  if (pp->failed)
    return vdk__err_restore (&pp->err);
  if (p->progress && p->progress (p->opaque, cap, cap))
    return vdk__err (ECANCELED, "cancelled");
  return 0;
}

static int
copy_data (vdk_disk *src, vdk_disk *dst, const struct vdk_clone_params *p)
{
  struct pipe pp = { .src = src,
    .top_only = (p->flags & VDK_CLONE_SINGLE_LINK) != 0 };
  pthread_t th;
  int r = -1;

  pthread_mutex_init (&pp.lock, NULL);
  pthread_cond_init (&pp.cond, NULL);
  for (int i = 0; i < RING; i++)
    if (!(pp.ring[i].buf = aligned_alloc (4096, CHUNK))) {
      vdk__err (ENOMEM, "out of memory");
      goto out;
    }
  if ((errno = pthread_create (&th, NULL, reader, &pp)) != 0) {
    vdk__err (errno, "cannot start a thread: %s", strerror (errno));
    goto out;
  }
  r = consume (&pp, dst, p);
  pthread_join (th, NULL);
out:
  for (int i = 0; i < RING; i++)
    free (pp.ring[i].buf);
  pthread_cond_destroy (&pp.cond);
  pthread_mutex_destroy (&pp.lock);
  return r;
}

/* Flat and raw outputs take writes in any order, so there the copy runs
 * in stripes on every core: each worker takes the next stripe, walks its
 * allocation, reads the data, scans for zeroes and writes, with
 * nothing handed between threads.  (Sparse outputs keep the ordered
 * pipeline above, so their grains stay in LBA order.) */
#define STRIPE (64u << 20)
#define MAX_WORKERS 8

struct par {
  vdk_disk *src, *dst;
  bool top_only;
  uint64_t next, done;       /* atomics: next stripe, bytes walked */
  bool stop;                 /* atomic */
  pthread_mutex_t lock;      /* guards failed and err */
  bool failed;
  struct vdk__saved_err err; /* the first failing thread's error */
};

static int
copy_range (struct par *pp, uint64_t off, uint64_t end, struct slot *sl)
{
  while (off < end) {
    uint64_t n;
    int st, depth;
    if (vdk__link_status (pp->src->top, off, end - off, pp->top_only, &n,
                          &st, &depth) == -1)
      return -1;
    if (st == VDK_BLOCK_DATA) {
      n = MIN (n, CHUNK);
      if (!sl->buf && !(sl->buf = aligned_alloc (4096, CHUNK)))
        return vdk__err (ENOMEM, "out of memory");
      if (vdk__link_pread (pp->src->top, sl->buf, n, off) == -1
          || write_nonzero (pp->dst, sl->buf, n, off) == -1)
        return -1;
    }
    off += n;
    __atomic_add_fetch (&pp->done, n, __ATOMIC_RELAXED);
    if (__atomic_load_n (&pp->stop, __ATOMIC_RELAXED))
      return 0;
  }
  return 0;
}

/* Take stripes until none is left; returns after one stripe if `one`. */
static int
work (struct par *pp, bool one)
{
  uint64_t cap = pp->src->top->capacity;
  struct slot sl = { 0 };
  int r = 0;

  while (r == 0 && !__atomic_load_n (&pp->stop, __ATOMIC_RELAXED)) {
    uint64_t i = __atomic_fetch_add (&pp->next, 1, __ATOMIC_RELAXED);
    if (i >= DIV_ROUND_UP (cap, STRIPE))
      break;
    r = copy_range (pp, i * STRIPE, MIN (cap, (i + 1) * STRIPE), &sl);
    if (one)
      break;
  }
  free (sl.buf);
  if (r == -1) {
    pthread_mutex_lock (&pp->lock);
    if (!pp->failed) {
      pp->failed = true;
      vdk__err_save (&pp->err);
    }
    pthread_mutex_unlock (&pp->lock);
    __atomic_store_n (&pp->stop, true, __ATOMIC_RELAXED);
  }
  return r;
}

static void *
worker (void *arg)
{
  vdk__set_call ("vdk_clone");
  work (arg, false);
  return NULL;
}

/* The calling thread works one stripe at a time and reports progress. */
static int
copy_parallel (vdk_disk *src, vdk_disk *dst, const struct vdk_clone_params *p)
{
  struct par pp = { .src = src, .dst = dst,
    .top_only = (p->flags & VDK_CLONE_SINGLE_LINK) != 0 };
  uint64_t cap = src->top->capacity;
  long cpus = sysconf (_SC_NPROCESSORS_ONLN);
  unsigned n = (unsigned) MIN (MAX (cpus, 1), MAX_WORKERS), started = 0;
  pthread_t th[MAX_WORKERS];
  bool cancelled = false;

  pthread_mutex_init (&pp.lock, NULL);
  for (unsigned i = 1; i < n; i++)
    if (pthread_create (&th[started], NULL, worker, &pp) == 0)
      started++;
  while (!__atomic_load_n (&pp.stop, __ATOMIC_RELAXED)
         && __atomic_load_n (&pp.next, __ATOMIC_RELAXED)
         < DIV_ROUND_UP (cap, STRIPE)) {
    work (&pp, true);
    if (p->progress && p->progress (p->opaque, MIN (cap, pp.done), cap)) {
      cancelled = true;
      __atomic_store_n (&pp.stop, true, __ATOMIC_RELAXED);
    }
  }
  for (unsigned i = 0; i < started; i++)
    pthread_join (th[i], NULL);
  pthread_mutex_destroy (&pp.lock);
  if (pp.failed)
    return vdk__err_restore (&pp.err);
  if (cancelled || (p->progress && p->progress (p->opaque, cap, cap)))
    return vdk__err (ECANCELED, "cancelled");
  return 0;
}

/* Parallel stripes only where writes allocate nothing: a sparse output
 * would be laid out in the order the threads happen to finish, and a
 * stream takes its grains in order only. */
static bool
takes_any_order (vdk_disk *dst)
{
  for (size_t i = 0; i < dst->top->nextents; i++)
    if (!vdk__ext_can (&dst->top->extents[i], VDK_FMT_PREALLOCATED))
      return false;
  return true;
}

/* The compression level, for every extent whose format compresses. */
static int
set_level (vdk_disk *dst, int level)
{
  for (size_t i = 0; i < dst->top->nextents; i++)
    if (vdk__ext_set_level (&dst->top->extents[i], level) == -1)
      return -1;
  return 0;
}

/* The parameters vdk_clone creates its output with (also measure.c). */
int
vdk__check_clone_params (const struct vdk_clone_params *p)
{
  return vdk__check_version ("clone", p, p ? p->version : 0,
                             VDK_CLONE_PARAMS_VERSION) == -1
    || vdk__check_flags ("clone", p->flags, VDK__CLONE_FLAGS) == -1 ? -1 : 0;
}

void
vdk__clone_create_params (vdk_disk *src, const struct vdk_clone_params *p,
                          struct vdk_create_params *cp)
{
  struct vdk_create_params init = VDK_CREATE_PARAMS_INIT;
  *cp = init;
  cp->type = p->type;
  cp->capacity = ROUND_UP (src->top->capacity, SECTOR);
  cp->adapter = p->adapter >= 0 ? p->adapter : source_adapter (src);
  cp->hw_version = p->hw_version ? p->hw_version : source_hw (src);
  if (p->flags & (VDK_CLONE_PREALLOC | VDK_CLONE_PREALLOC_ZEROED))
    cp->flags |= VDK_CREATE_PREALLOC;
  if (p->flags & VDK_CLONE_PREALLOC_ZEROED)
    cp->flags |= VDK_CREATE_PREALLOC_ZEROED;
}

/* Create `spec` as `cp` says and copy src into it.  *created tells
 * whether there is an output to remove after a failure. */
static int
clone_into (vdk_disk *src, const char *spec,
            const struct vdk_clone_params *params,
            const struct vdk_create_params *cp, bool in_order,
            bool *created)
{
  vdk_disk *dst = NULL;
  int r = -1;

  /* A nested public call: its errors report as vdk_clone's. */
  if (vdk_create (spec, cp) == -1)
    return -1;
  *created = true;
  /* The output is what we just made: never probe it (a raw copy of a
   * disk that starts with KDMV is still raw). */
  if (!(dst = vdk__disk_open (spec, cp->type == VDK_TYPE_RAW
                              ? VDK_OPEN_FORMAT_RAW : VDK_OPEN_FORMAT_VMDK)))
    return -1;
  if (params->version >= 2 && params->compress_level
      && set_level (dst, params->compress_level) == -1)
    goto out;
  r = takes_any_order (dst) && !in_order ? copy_parallel (src, dst, params)
    : copy_data (src, dst, params);
  if (r == 0 && vdk__link_flush (dst->top) == -1)
    r = -1;
out:
  {
    bool failed = false;
    vdk__disk_free (dst, &failed);
    if (failed)
      r = -1;
  }
  return r;
}

/* vdk_clone to a descriptor: through a sink store (io/sink.c), in
 * order.  Only one-file outputs written front to back can go there. */
static int
clone_to_fd (vdk_disk *src, const char *dst_path,
             const struct vdk_clone_params *params)
{
  struct vdk_create_params cp;
  struct vdk__sink *sink;
  bool created = false;
  int r;

  vdk__clone_create_params (src, params, &cp);
  if (cp.type != VDK_TYPE_STREAM_OPTIMIZED && cp.type != VDK_TYPE_RAW)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "%s: a %s disk cannot be "
                      "written to a pipe or standard output (only "
                      "streamOptimized and raw are one file written in "
                      "order)", dst_path, vdk_type_name (cp.type));
  if (!(sink = vdk__sink_new (params->out_fd, dst_path)))
    return -1;
  r = clone_into (src, vdk__sink_spec (sink), params, &cp, true, &created);
  if (vdk__sink_finish (sink, r == 0) == -1)
    r = -1;
  return r;
}

/* Into an existing remote export (nbd://...): it is written over, not
 * created.  The whole range is zeroed first (NBD WRITE_ZEROES, no
 * bytes on the wire), then the data is copied as into a flat file. */
static int
clone_into_remote (vdk_disk *src, const char *dst_path,
                   const struct vdk_clone_params *p)
{
  vdk_disk *dst = vdk__remote_open (dst_path, NULL, 0);
  uint64_t cap = src->top->capacity;
  bool failed = false;
  int r = -1;

  if (!dst)
    return -1;
  if (dst->top->capacity < cap)
    vdk__errc (VDK_E_NO_SPACE, ENOSPC, "%s: the export holds %" PRIu64
               " bytes, the disk %" PRIu64, dst_path, dst->top->capacity, cap);
  else if (vdk__link_trim (dst->top, 0, cap, VDK__TRIM_ZERO) == 0
           && copy_parallel (src, dst, p) == 0
           && vdk__link_flush (dst->top) == 0)
    r = 0;
  vdk__disk_free (dst, &failed);
  return r == 0 && failed ? -1 : r;
}

VDK_API int
vdk_clone (vdk_disk *src, const char *dst_path,
           const struct vdk_clone_params *params)
{
  struct vdk_create_params cp = VDK_CREATE_PARAMS_INIT;
  bool created = false;
  int r;

  vdk__set_call ("vdk_clone");
  if (!src || !dst_path)
    return vdk__err (EINVAL, "missing source or destination");
  if (vdk__check_clone_params (params) == -1)
    return -1;
  if (params->version >= 2
      && (params->compress_level < 0 || params->compress_level > 12))
    return vdk__err (EINVAL, "%s: compression level %d is not between 1 and "
                     "12", dst_path, params->compress_level);
  if (params->version >= 3 && params->out_fd >= 0)
    return clone_to_fd (src, dst_path, params);
  if (vdk__remote_name (dst_path))
    return clone_into_remote (src, dst_path, params);
  if ((params->flags & VDK_CLONE_OVERWRITE)
      && lstat (dst_path, &(struct stat) { 0 }) == 0)
    return vdk__clone_replace (src, dst_path, params);
  vdk__clone_create_params (src, params, &cp);
  r = clone_into (src, dst_path, params, &cp, false, &created);
  if (r == -1 && created) {
    struct vdk__saved_err saved;
    vdk__err_save (&saved);
    /* The output is removed by its descriptor alone (vdk_unlink reads
     * no format), so a half-written stream goes too. */
    if (vdk_unlink (dst_path) == -1)
      vdk__warn ("vdk_clone: %s: the partial output could not be removed: "
                 "%s", dst_path, vdk_last_error ());
    vdk__err_restore (&saved);
  }
  return r;
}
