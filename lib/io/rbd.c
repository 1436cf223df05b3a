/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The `rbd` io backend: a raw disk stored as a Ceph RBD image, read and
 * written with librbd.  Names and connections: io/rbd-name.c.
 *
 * The store is a guest's view of a disk (VDK_IO_BACKEND_GUEST_VIEW): an
 * RBD image is what a VM sees, so it is raw and never probed.  It has
 * names (stat, remove, rename; the fs table in rbd-name.c) but no
 * folders: descriptors cannot live there.
 *
 * Mapping (librbd calls):
 * - pread/pwrite -> rbd_read/rbd_write; bytes past the end read as
 *   zero, a write past the end fails with ENOSPC (an image grows only by
 *   truncate -> rbd_resize, as vdk_create sizes a new one).
 * - flush -> rbd_flush.  librbd's cache is off unless the
 *   configuration turns it on (rbd-name.c): a write returns once the
 *   OSDs have it, and copies keep several in flight by running writers
 *   on several threads (vdk_clone) or through aio.
 * - punch -> rbd_discard (trim: whole objects are removed, the rest
 *   zeroed: rbd-name.c sets rbd_discard_granularity_bytes to 0 so every
 *   byte given back reads as zero) or, keeping space, rbd_write_zeroes;
 *   in steps of at most 1 GiB (librbd returns the length as an int).
 * - next_data -> rbd_diff_iterate2 from the image's creation
 *   (include_parent, whole_object: with the fast-diff feature the object
 *   map answers without reading data objects), so a thin image's holes
 *   are skipped by map, convert and NBD block status.  Every read asks
 *   for the allocation first (the raw format's map), so one answer of up
 *   to RBD_STATUS_SPAN is cached; a write, zero or trim that reaches
 *   past one cached data run drops it (a generation count stops a reply
 *   asked for before the change from being installed after it).
 * - lock (a writer's open) -> rbd_lock_acquire(EXCLUSIVE) on images with
 *   the exclusive-lock feature, after checking that nobody holds the
 *   lock: a second writer is refused with EBUSY (VDK_E_LOCKED) instead
 *   of librbd's usual hand-over, which would take the lock from a
 *   running VM.  Readers take no lock.
 * - aio -> rbd_aio_read/rbd_aio_write.  librbd completes requests on
 *   its own threads; a callback there that called librbd synchronously
 *   could wait for itself, so completions are queued and a completer
 *   thread of the store (started on the first request, signals blocked)
 *   calls `done` outside every lock.  close waits for every request.
 * - A snapshot (@SNAP) is opened with rbd_open_read_only: the store is
 *   read-only, and reads show the image as it was when the snapshot
 *   was taken, whatever was written since.
 *
 * Locking: s->lock guards the allocation cache and the completion
 * queue; status_lock lets one thread at a time fill the cache.  librbd
 * handles are safe from many threads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "io/rbd.h"
#include "thread.h"

#define RBD_STATUS_SPAN (4ull << 30)   /* allocation asked at once */
#define RBD_CACHE_MAX 65536            /* data runs kept */
#define RBD_STEP (1ull << 30)          /* discard/zero/read/write step */
#define DIFF_FULL (-EOVERFLOW)         /* the callback's "enough" */

struct run {
  uint64_t off, end;
};

struct rbd_areq {
  vdk_io_done_fn done;
  void *ctx;
  int err;
  struct rbd_store *s;
  struct rbd_areq *next;
  uint64_t off, n;
  bool write;
};

struct rbd_store {
  struct rbd_name name;
  struct rbd_conn conn;
  rbd_image_t img;
  bool img_open, locked, writable;
  pthread_mutex_t lock;
  pthread_cond_t cv;             /* completions queued, or stop */
  pthread_cond_t idle;           /* inflight reached 0 */
  /* allocation cache: data runs inside [cstart, cend) */
  uint64_t cstart, cend, gen;
  struct run *runs;
  size_t nruns;
  pthread_mutex_t status_lock;
  /* asynchronous requests */
  bool thread_started, stop;
  pthread_t thread;
  unsigned inflight;
  struct rbd_areq *qhead, *qtail;
};

/* librbd calls return -errno: leave errno set for the choke point. */
static int
fail (int r)
{
  errno = r < 0 ? -r : EIO;
  return -1;
}

/* ---- the allocation cache ---- */

/* A change to [off, off+n): keep the cache if one data run holds it
 * all (the range stays data), else drop it.  s->lock held. */
static void
changed_locked (struct rbd_store *s, uint64_t off, uint64_t n, bool to_data)
{
  if (to_data && s->cend > 0 && off >= s->cstart && off + n <= s->cend)
    for (size_t i = 0; i < s->nruns; i++)
      if (s->runs[i].off <= off && off + n <= s->runs[i].end)
        return;
  s->cstart = s->cend = 0;
  s->nruns = 0;
  s->gen++;
}

/* The same, taking s->lock.  Writes call it before they start and
 * after they end: a cache filled while a write was in flight may hold
 * the hole the write is filling. */
static void
changed (struct rbd_store *s, uint64_t off, uint64_t n, bool to_data)
{
  SCOPED_LOCK (&s->lock);
  changed_locked (s, off, n, to_data);
}

struct diff_ctx {
  struct run *runs;
  size_t n;
  uint64_t reached;              /* the answer holds up to here */
};

static int
diff_cb (uint64_t off, size_t len, int exists, void *arg)
{
  struct diff_ctx *d = arg;
  if (!exists || len == 0)
    return 0;
  if (d->n > 0 && d->runs[d->n - 1].end == off) {
    d->runs[d->n - 1].end = off + len;
    return 0;
  }
  if (d->n == RBD_CACHE_MAX) {
    d->reached = off;            /* nothing beyond this is known */
    return DIFF_FULL;
  }
  d->runs[d->n++] = (struct run) { off, off + len };
  return 0;
}

static int
cmp_run (const void *a, const void *b)
{
  const struct run *x = a, *y = b;
  return x->off < y->off ? -1 : x->off > y->off;
}

/* Ask for the allocation from off on and install it as the cache. */
static int
cache_fill (struct rbd_store *s, uint64_t off, uint64_t size)
{
  struct diff_ctx d = { .reached = MIN (size, off + MIN (size - off,
                                                         RBD_STATUS_SPAN)) };
  uint64_t gen;
  int r;

  SCOPED_LOCK (&s->status_lock);
  if (!(d.runs = malloc (RBD_CACHE_MAX * sizeof *d.runs))) {
    errno = ENOMEM;
    return -1;
  }
  pthread_mutex_lock (&s->lock);
  gen = s->gen;
  pthread_mutex_unlock (&s->lock);
  r = rbdl.rbd_diff_iterate2 (s->img, NULL, off, d.reached - off, 1, 1,
                              diff_cb, &d);
  if (r < 0 && r != DIFF_FULL) {
    free (d.runs);
    return fail (r);
  }
  qsort (d.runs, d.n, sizeof *d.runs, cmp_run);
  pthread_mutex_lock (&s->lock);
  if (s->gen == gen) {
    free (s->runs);
    s->runs = d.runs;
    s->nruns = d.n;
    s->cstart = off;
    s->cend = d.reached;
    d.runs = NULL;
  }
  pthread_mutex_unlock (&s->lock);
  free (d.runs);
  return 0;
}

/* Answer from the cache: 1 if answered, 0 if the cache does not hold
 * off.  s->lock held. */
static int
cache_answer (struct rbd_store *s, uint64_t off, uint64_t size,
              uint64_t *data, uint64_t *hole)
{
  size_t lo = 0, hi = s->nruns;
  if (s->cend == 0 || off < s->cstart || off >= s->cend)
    return 0;
  while (lo < hi) {                   /* first run ending after off */
    size_t mid = (lo + hi) / 2;
    if (s->runs[mid].end <= off)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < s->nruns && s->runs[lo].off < s->cend) {
    *data = MAX (off, s->runs[lo].off);
    *hole = MIN (s->runs[lo].end, size);
    return 1;
  }
  if (s->cend < size)
    return 0;                         /* ask again beyond the cache */
  *data = *hole = size;
  return 1;
}

static int
rbd_io_next_data (struct vdk_io *io, uint64_t off, uint64_t *data,
                  uint64_t *hole)
{
  struct rbd_store *s = io->priv;
  uint64_t size;
  int r;

  if ((r = rbdl.rbd_get_size (s->img, &size)) < 0)
    return fail (r);
  while (off < size) {
    int answered;
    pthread_mutex_lock (&s->lock);
    answered = cache_answer (s, off, size, data, hole);
    if (!answered && s->cend > off && s->cend < size)
      off = s->cend;                  /* all holes up to the cache's end */
    pthread_mutex_unlock (&s->lock);
    if (answered)
      return 0;
    if (cache_fill (s, off, size) == -1)
      return -1;
  }
  *data = *hole = size;
  return 0;
}

/* ---- synchronous I/O ---- */

static int
rbd_io_pread (struct vdk_io *io, void *buf, size_t n, uint64_t off)
{
  struct rbd_store *s = io->priv;
  uint64_t size, have;
  int r;

  if ((r = rbdl.rbd_get_size (s->img, &size)) < 0)
    return fail (r);
  have = off < size ? MIN ((uint64_t) n, size - off) : 0;
  if (have < n)                       /* past the end reads as zero */
    memset ((uint8_t *) buf + have, 0, n - have);
  for (uint64_t done = 0; done < have;) {
    size_t k = (size_t) MIN (have - done, RBD_STEP);
    ssize_t got = rbdl.rbd_read (s->img, off + done, k, (char *) buf + done);
    if (got < 0)
      return fail ((int) got);
    if ((size_t) got < k)             /* the image shrank meanwhile */
      memset ((uint8_t *) buf + done + got, 0, k - (size_t) got);
    done += k;
  }
  return 0;
}

static int
rbd_io_pwrite (struct vdk_io *io, const void *buf, size_t n, uint64_t off)
{
  struct rbd_store *s = io->priv;
  uint64_t size, end;
  int r;

  if ((r = rbdl.rbd_get_size (s->img, &size)) < 0)
    return fail (r);
  if (ADD_OVERFLOW (off, (uint64_t) n, &end) || end > size) {
    errno = ENOSPC;                   /* sized by truncate only */
    return -1;
  }
  changed (s, off, n, true);
  for (uint64_t done = 0; done < n;) {
    size_t k = (size_t) MIN (n - done, RBD_STEP);
    ssize_t put = rbdl.rbd_write (s->img, off + done, k,
                                  (const char *) buf + done);
    if (put < 0)
      return fail ((int) put);
    done += k;
  }
  changed (s, off, n, true);
  return 0;
}

static int
rbd_io_flush (struct vdk_io *io)
{
  int r = rbdl.rbd_flush (((struct rbd_store *) io->priv)->img);
  return r < 0 ? fail (r) : 0;
}

static int
rbd_io_size (struct vdk_io *io, uint64_t *size)
{
  int r = rbdl.rbd_get_size (((struct rbd_store *) io->priv)->img, size);
  return r < 0 ? fail (r) : 0;
}

static int
rbd_io_truncate (struct vdk_io *io, uint64_t size)
{
  struct rbd_store *s = io->priv;
  int r = rbdl.rbd_resize (s->img, size);
  changed (s, 0, UINT64_MAX / 2, false);
  return r < 0 ? fail (r) : 0;
}

static int
rbd_io_punch (struct vdk_io *io, uint64_t off, uint64_t n, bool keep)
{
  struct rbd_store *s = io->priv;
  uint64_t size;
  int r;

  if ((r = rbdl.rbd_get_size (s->img, &size)) < 0)
    return fail (r);
  if (off >= size)
    return 0;
  n = MIN (n, size - off);
  changed (s, off, n, false);
  while (n > 0) {
    uint64_t k = MIN (n, RBD_STEP);
    r = keep ? (int) rbdl.rbd_write_zeroes (s->img, off, (size_t) k, 0, 0)
      : rbdl.rbd_discard (s->img, off, k);
    if (r < 0)
      return fail (r);
    off += k, n -= k;
  }
  changed (s, off, 0, false);
  return 0;
}

/* ---- the exclusive lock ---- */


static int
rbd_io_lock (struct vdk_io *io, bool exclusive, uint64_t off, uint64_t len)
{
  struct rbd_store *s = io->priv;
  rbd_lock_mode_t mode;
  char *owners[4];
  size_t max = ARRAY_SIZE (owners);
  int r;

  if (!exclusive || s->locked)
    return 0;
  r = rbdl.rbd_lock_get_owners (s->img, &mode, owners, &max);
  if (r == -EINVAL)
    return 0;                         /* no exclusive-lock feature */
  if (r == 0 && max > 0) {
    rbdl.rbd_lock_get_owners_cleanup (owners, max);
    errno = EBUSY;
    return -1;
  }
  if (r == -ERANGE) {
    errno = EBUSY;
    return -1;
  }
  if (r < 0 && r != -ENOENT)
    return fail (r);
  if ((r = rbdl.rbd_lock_acquire (s->img, RBD_LOCK_MODE_EXCLUSIVE)) < 0)
    return fail (r == -EROFS || r == -EAGAIN ? -EBUSY : r);
  s->locked = true;
  return 0;
}

/* ---- asynchronous requests ---- */

static void *
completer (void *arg)
{
  struct rbd_store *s = arg;
  pthread_mutex_lock (&s->lock);
  for (;;) {
    struct rbd_areq *a;
    while (!s->qhead && !(s->stop && s->inflight == 0))
      pthread_cond_wait (&s->cv, &s->lock);
    if (!s->qhead)
      break;
    a = s->qhead;
    if (!(s->qhead = a->next))
      s->qtail = NULL;
    pthread_mutex_unlock (&s->lock);
    a->done (a->ctx, a->err);
    free (a);
    pthread_mutex_lock (&s->lock);
    if (--s->inflight == 0)
      pthread_cond_broadcast (&s->idle);
  }
  pthread_mutex_unlock (&s->lock);
  return NULL;
}

/* librbd's callback, on one of its threads: queue only. */
static void
aio_cb (rbd_completion_t c, void *arg)
{
  struct rbd_areq *a = arg;
  struct rbd_store *s = a->s;
  ssize_t r = rbdl.rbd_aio_get_return_value (c);

  rbdl.rbd_aio_release (c);
  a->err = r < 0 ? (int) -r : 0;
  a->next = NULL;
  pthread_mutex_lock (&s->lock);
  if (a->write)
    changed_locked (s, a->off, a->n, true);
  if (s->qtail)
    s->qtail->next = a;
  else
    s->qhead = a;
  s->qtail = a;
  pthread_cond_signal (&s->cv);
  pthread_mutex_unlock (&s->lock);
}

/* Start the completer.  s->lock held. */
static int
start_completer (struct rbd_store *s)
{
  int e = vdk__thread_start (&s->thread, completer, s);

  if (e) {
    errno = e;
    return -1;
  }
  s->thread_started = true;
  return 0;
}

/* One request.  EAGAIN for what this path does not take (past the end,
 * over RBD_STEP): the caller then runs it synchronously. */
static int
rbd_io_aio (struct vdk_io *io, int op, void *buf, size_t n, uint64_t off,
            vdk_io_done_fn done, void *ctx)
{
  struct rbd_store *s = io->priv;
  struct rbd_areq *a;
  rbd_completion_t c;
  uint64_t size, end;
  int r;

  if (n == 0 || n > RBD_STEP || rbdl.rbd_get_size (s->img, &size) < 0
      || ADD_OVERFLOW (off, (uint64_t) n, &end) || end > size) {
    errno = EAGAIN;
    return -1;
  }
  if (!(a = calloc (1, sizeof *a))) {
    errno = ENOMEM;
    return -1;
  }
  *a = (struct rbd_areq) { .done = done, .ctx = ctx, .s = s, .off = off,
                           .n = n, .write = op == 'w' };
  pthread_mutex_lock (&s->lock);
  r = s->thread_started ? 0 : start_completer (s);
  if (r == 0)
    s->inflight++;
  pthread_mutex_unlock (&s->lock);
  if (r == -1 || (r = rbdl.rbd_aio_create_completion (a, aio_cb, &c)) < 0)
    goto refused;
  if (op == 'w')
    changed (s, off, n, true);
  r = op == 'w' ? rbdl.rbd_aio_write (s->img, off, n, buf, c)
    : rbdl.rbd_aio_read (s->img, off, n, buf, c);
  if (r >= 0)
    return 0;
  rbdl.rbd_aio_release (c);
refused:
  pthread_mutex_lock (&s->lock);
  if (a->s && s->thread_started && --s->inflight == 0)
    pthread_cond_broadcast (&s->idle);
  pthread_mutex_unlock (&s->lock);
  free (a);
  return r == -1 ? -1 : fail (r);
}

static const char *
rbd_io_transport (struct vdk_io *io)
{
  return "rbd";
}

/* ---- open and close ---- */

static void
rbd_io_close (struct vdk_io *io)
{
  struct rbd_store *s = io->priv;
  if (!s)
    return;
  if (s->thread_started) {
    pthread_mutex_lock (&s->lock);
    while (s->inflight > 0)
      pthread_cond_wait (&s->idle, &s->lock);
    s->stop = true;
    pthread_cond_broadcast (&s->cv);
    pthread_mutex_unlock (&s->lock);
    pthread_join (s->thread, NULL);
  }
  if (s->img_open) {
    if (s->locked)
      rbdl.rbd_lock_release (s->img);
    rbdl.rbd_close (s->img);
  }
  vdk__rbd_disconnect (&s->conn);
  vdk__rbd_name_free (&s->name);
  pthread_mutex_destroy (&s->lock);
  pthread_mutex_destroy (&s->status_lock);
  pthread_cond_destroy (&s->cv);
  pthread_cond_destroy (&s->idle);
  free (s->runs);
  free (s);
  io->priv = NULL;
}

static const struct vdk_io_ops rbd_ops = {
  .name = "rbd",
  .pread = rbd_io_pread,
  .pwrite = rbd_io_pwrite,
  .flush = rbd_io_flush,
  .size = rbd_io_size,
  .truncate = rbd_io_truncate,
  .next_data = rbd_io_next_data,
  .close = rbd_io_close,
  .punch = rbd_io_punch,
  .lock = rbd_io_lock,
  .transport = rbd_io_transport,
  .aio = rbd_io_aio,
};

/* Create the image (size 0: vdk_create sizes it with truncate), or
 * with VDK_IO_TRUNC empty an existing one. */
static int
create_image (struct rbd_store *s, unsigned flags)
{
  const struct rbd_name *n = &s->name;
  rbd_image_options_t opts;
  int r;

  if (n->snap)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "%s: a snapshot cannot be "
                      "created here", n->display);
  rbdl.rbd_image_options_create (&opts);
  r = rbdl.rbd_create4 (s->conn.ioctx, n->image, 0, opts);
  rbdl.rbd_image_options_destroy (opts);
  if (r == -EEXIST && (flags & VDK_IO_TRUNC))
    return 1;                         /* emptied after opening */
  if (r == -EEXIST)
    return vdk__errc (VDK_E_EXISTS, EEXIST, "%s: the image exists",
                      n->display);
  return r < 0 ? vdk__rbd_err (n, r, "create") : 0;
}

static int
open_image (struct rbd_store *s, unsigned flags)
{
  const struct rbd_name *n = &s->name;
  int trunc = 0, r;

  if ((flags & (VDK_IO_CREATE | VDK_IO_TRUNC))
      && (trunc = create_image (s, flags)) == -1)
    return -1;
  s->writable = !(flags & VDK_IO_READONLY) && !n->snap;
  r = s->writable ? rbdl.rbd_open (s->conn.ioctx, n->image, &s->img, NULL)
    : rbdl.rbd_open_read_only (s->conn.ioctx, n->image, &s->img, n->snap);
  if (r < 0)
    return vdk__rbd_err (n, r, "open");
  s->img_open = true;
  if (trunc && (r = rbdl.rbd_resize (s->img, 0)) < 0)
    return vdk__rbd_err (n, r, "truncate");
  return 0;
}

static struct vdk_io *
rbd_io_open (const char *spec, unsigned flags)
{
  struct vdk_io *io = calloc (1, sizeof *io);
  struct rbd_store *s = calloc (1, sizeof *s);

  if (!io || !s) {
    free (io);
    free (s);
    vdk__err (ENOMEM, "out of memory");
    return NULL;
  }
  pthread_mutex_init (&s->lock, NULL);
  pthread_mutex_init (&s->status_lock, NULL);
  pthread_cond_init (&s->cv, NULL);
  pthread_cond_init (&s->idle, NULL);
  io->ops = &rbd_ops;
  io->priv = s;
  if (vdk__rbd_parse (spec, &s->name) == -1
      || vdk__rbd_connect (&s->name, &s->conn) == -1
      || open_image (s, flags) == -1)
    goto fail;
  if (!(io->path = strdup (s->name.display))) {
    vdk__err (ENOMEM, "out of memory");
    goto fail;
  }
  io->readonly = !s->writable;
  return io;
fail:
  rbd_io_close (io);
  free (io);
  return NULL;
}

const struct vdk_io_backend vdk__io_rbd_backend = {
  .scheme = "rbd",
  .flags = VDK_IO_BACKEND_GUEST_VIEW | VDK_IO_BACKEND_OPAQUE
           | VDK_IO_BACKEND_OWN_ERRORS,
  .open = rbd_io_open,
  .fs = &vdk__rbd_fs_ops,
};
