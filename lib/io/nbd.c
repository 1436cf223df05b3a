/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The `nbd` io backend: a remote disk read and written with libnbd.
 *
 * Schemes nbd://, nbds://, nbd+unix://, nbds+unix:// (the spec is the
 * URI, given to nbd_connect_uri as is; tls-psk-file and
 * tls-certificates in its query are allowed).  The store is a guest's
 * view of a disk (VDK_IO_BACKEND_GUEST_VIEW): a vdk server resolves the
 * chain, the client sees one flat export.  It has no file names (no fs
 * table), so descriptor updates, rename and unlink fail with
 * VDK_E_NOT_SUPPORTED_BY_TRANSPORT.
 *
 * Mapping.  pread/pwrite -> NBD READ/WRITE in requests of at most the
 * server's maximum (32 MiB at most); a request not aligned to the
 * server's minimum block size is widened (reads) or read-modified-
 * written (writes; not atomic against an overlapping write from
 * another thread, like a disk's own sector RMW).  flush -> FLUSH.
 * punch -> WRITE_ZEROES (NO_HOLE when the blocks must stay).
 * block_status -> BLOCK_STATUS base:allocation, as the server says it:
 * HOLE|ZERO is a hole, ZERO alone allocated zeroes, anything without
 * ZERO data (HOLE alone does not promise zeroes).  (No next_data: an
 * NBD store is a guest's view, always a raw link, which asks
 * block_status.)  Every read asks `map` first, so
 * the last block-status reply is cached and answers the next questions.
 * One thread at a time fills it (status_lock), into a spare buffer that
 * is swapped in under the store's lock; every write, zero or trim drops
 * the cache before it is sent and again when it completes, and a reply
 * is installed only if no drop happened while it was asked for (a
 * generation count), so a read that follows a completed write never
 * sees the old status.
 *
 * Connections.  The first connection asks for the export's full
 * information (its description carries vdk's disk information, see
 * plugins/nbdkit/describe.c).  When the server advertises multi-conn,
 * more connections (at most NBD_MAX_CONNS) are opened when every one
 * is busy, and asynchronous requests are spread over them.
 *
 * One thread drives every connection.  libnbd's synchronous calls poll
 * the socket themselves, and one that runs beside another thread
 * driving the same handle can miss its own reply (the other thread
 * reads it between the call's check and its poll) and wait forever.
 * So every command here is issued with libnbd's aio calls, and a
 * dispatcher thread (started at open) polls every connection's socket
 * and an eventfd that submitters poke, and moves libnbd's state
 * machine.  A synchronous operation issues its command and sleeps on a
 * condition variable until the completion callback wakes it, so calls
 * from many threads are in flight on a connection at once.  libnbd
 * calls completion callbacks with the handle lock held, where calling
 * libnbd again would deadlock: the callbacks only record the result
 * (and wake a waiter, or queue an asynchronous request on a done list,
 * whose `done` the dispatcher then calls outside every lock).  A
 * connection that dies completes everything in flight on it with
 * ENOTCONN ("connection lost").
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <libnbd.h>

#include "io/io.h"
#include "thread.h"

#define NBD_MAX_CONNS 4
#define NBD_MAX_REQUEST (32u << 20)
/* Block status is asked for this much at a time (the wire length is
 * 32 bits). */
#define NBD_STATUS_SPAN (1ull << 30)
/* Cached extents at most (one reply of vdk's plugin is up to 16384). */
#define NBD_CACHE_MAX 65536

struct nbd_areq {
  bool write;
  vdk_io_done_fn done;
  void *ctx;
  int err;
  struct nbd_store *s;
  struct nbd_conn *c;
  struct nbd_areq *next;
};

struct nbd_conn {
  struct nbd_handle *h;
  unsigned busy;                 /* commands in flight (s->lock) */
};

struct nbd_cache_ext {
  uint64_t end;                  /* exclusive */
  uint8_t state;                 /* VDK_BLOCK_DATA, _ZERO or _HOLE */
};

struct nbd_store {
  char *uri;
  pthread_mutex_t lock;          /* conns[] growth, cache, done list */
  struct nbd_conn conns[NBD_MAX_CONNS];
  unsigned nconns;
  bool multi_conn, can_flush, can_zero, has_status, tls;
  bool growing, grow_failed;     /* a connection being added; one refused */
  uint32_t min_block, max_req;
  uint64_t size;
  char *description;
  /* block status cache: extents from cache_start to the last's end */
  uint64_t cache_start;
  struct nbd_cache_ext *cache, *spare;
  size_t ncache;
  uint64_t gen;                  /* bumped by every drop */
  pthread_mutex_t status_lock;   /* one filler at a time; owns spare */
  /* asynchronous requests */
  bool thread_started, stop;
  pthread_t thread;
  int wake_fd;
  unsigned inflight;
  struct nbd_areq *done_head, *done_tail;
};

/* ---- errors ---- */

static bool
conn_dead (struct nbd_handle *h)
{
  return nbd_aio_is_dead (h) > 0 || nbd_aio_is_closed (h) > 0;
}

/* Set errno after a failed libnbd call: ENOTCONN once the connection is
 * gone, whatever libnbd said. */
static int
nbd_failed (struct nbd_handle *h)
{
  int e = nbd_get_errno ();
  errno = conn_dead (h) ? ENOTCONN : e ? e : EIO;
  return -1;
}

/* ---- connections ---- */

static struct nbd_handle *
connect_one (const char *uri, bool full_info)
{
  struct nbd_handle *h = nbd_create ();
  if (!h)
    return NULL;
  if (nbd_set_uri_allow_local_file (h, true) == -1
      || nbd_add_meta_context (h, LIBNBD_CONTEXT_BASE_ALLOCATION) == -1
      || (full_info && nbd_set_full_info (h, true) == -1)
      || nbd_connect_uri (h, uri) == -1) {
    nbd_close (h);
    return NULL;
  }
  return h;
}

/* Least busy connection; with multi-conn a new one when all are busy. */
static struct nbd_conn *
conn_get (struct nbd_store *s)
{
  struct nbd_conn *best;
  struct nbd_handle *h;

  pthread_mutex_lock (&s->lock);
  best = &s->conns[0];
  for (unsigned i = 1; i < s->nconns; i++)
    if (s->conns[i].busy < best->busy)
      best = &s->conns[i];
  /* Connect outside the lock (a TLS handshake takes milliseconds that
   * every other request would wait), one at a time, and stop trying
   * after a refusal: the connections there are carry on. */
  if (best->busy > 0 && s->multi_conn && s->nconns < NBD_MAX_CONNS
      && !s->growing && !s->grow_failed) {
    s->growing = true;
    pthread_mutex_unlock (&s->lock);
    h = connect_one (s->uri, false);
    pthread_mutex_lock (&s->lock);
    s->growing = false;
    if (!h)
      s->grow_failed = true;
    else {
      best = &s->conns[s->nconns];
      best->h = h;
      best->busy = 0;
      s->nconns++;
    }
  }
  best->busy++;
  pthread_mutex_unlock (&s->lock);
  return best;
}

static void
conn_put (struct nbd_store *s, struct nbd_conn *c)
{
  pthread_mutex_lock (&s->lock);
  c->busy--;
  pthread_mutex_unlock (&s->lock);
}

static void
cache_drop (struct nbd_store *s)
{
  pthread_mutex_lock (&s->lock);
  s->ncache = 0;
  s->gen++;
  pthread_mutex_unlock (&s->lock);
}

/* ---- the synchronous operations ---- */

/* A synchronous command in flight: the completion callback fills it
 * and wakes the thread that issued it. */
struct waiter {
  pthread_mutex_t m;
  pthread_cond_t cv;
  bool done;
  int err;
  struct nbd_handle *h;
};

static int
waiter_cb (void *user_data, int *error)
{
  struct waiter *w = user_data;
  pthread_mutex_lock (&w->m);
  w->err = *error ? (conn_dead (w->h) ? ENOTCONN : *error) : 0;
  w->done = true;
  pthread_cond_signal (&w->cv);
  pthread_mutex_unlock (&w->m);
  return 1;
}

static int status_cb (void *user_data, const char *context, uint64_t offset,
                      uint32_t *entries, size_t nr, int *error);

/* Issue one command with libnbd's aio calls; -1 if libnbd refused it
 * (the callback then never runs). */
static int64_t
issue (struct nbd_handle *h, int op, void *buf, uint64_t n, uint64_t off,
       nbd_completion_callback cb, void *status_ctx)
{
  switch (op) {
  case 'r': return nbd_aio_pread (h, buf, n, off, cb, 0);
  case 'w': return nbd_aio_pwrite (h, buf, n, off, cb, 0);
  case 'z': return nbd_aio_zero (h, n, off, cb, 0);
  case 'Z': return nbd_aio_zero (h, n, off, cb, LIBNBD_CMD_FLAG_NO_HOLE);
  case 's':
    return nbd_aio_block_status (h, n, off, (nbd_extent_callback) {
                                   .callback = status_cb,
                                   .user_data = status_ctx }, cb, 0);
  default: return nbd_aio_flush (h, cb, 0);
  }
}

static void wake (struct nbd_store *s);
static void dispatch_once (struct nbd_store *s);

/* One command, waited for.  -1 with errno on failure.  Commands that
 * change data drop the status cache before and after. */
static int
nbd_sync (struct nbd_store *s, int op, void *buf, uint64_t n, uint64_t off,
          void *status_ctx)
{
  struct nbd_conn *c;
  struct waiter w = { .m = PTHREAD_MUTEX_INITIALIZER,
                      .cv = PTHREAD_COND_INITIALIZER };
  nbd_completion_callback cb = { .callback = waiter_cb, .user_data = &w };
  int r = 0;

  if (op == 'w' || op == 'z' || op == 'Z')
    cache_drop (s);
  c = conn_get (s);
  w.h = c->h;

  if (issue (c->h, op, buf, n, off, cb, status_ctx) == -1)
    r = nbd_failed (c->h);
  else {
    /* On the dispatcher itself (a synchronous call from an aio
     * callback, which vdk.h allows) nobody else moves libnbd: drive it
     * here until the reply is in. */
    bool self = s->thread_started && pthread_equal (pthread_self (),
                                                    s->thread);
    if (!self)
      wake (s);
    pthread_mutex_lock (&w.m);
    while (!w.done) {
      if (self) {
        pthread_mutex_unlock (&w.m);
        dispatch_once (s);
        pthread_mutex_lock (&w.m);
      } else
        pthread_cond_wait (&w.cv, &w.m);
    }
    pthread_mutex_unlock (&w.m);
    if (self)     /* what the rounds here finished (and the wake fd they
                   * consumed) must not wait for the next event */
      wake (s);
    if (w.err) {
      errno = w.err;
      r = -1;
    }
  }
  conn_put (s, c);
  if (op == 'w' || op == 'z' || op == 'Z')
    cache_drop (s);
  pthread_cond_destroy (&w.cv);
  pthread_mutex_destroy (&w.m);
  return r;
}

/* Aligned requests over [off, off+n), split at max_req. */
static int
nbd_span (struct nbd_store *s, int op, uint8_t *buf, uint64_t n, uint64_t off)
{
  uint64_t step = op == 'z' || op == 'Z' ? NBD_STATUS_SPAN : s->max_req;
  while (n > 0) {
    uint64_t len = MIN (n, step);
    if (nbd_sync (s, op, buf, len, off, NULL) == -1)
      return -1;
    n -= len;
    off += len;
    if (buf)
      buf += len;
  }
  return 0;
}

/* Read or write [off, off+n) where the ends may be unaligned: the
 * partial blocks at each end go through a bounce block. */
static int
nbd_rw (struct nbd_store *s, bool write, uint8_t *buf, uint64_t n,
        uint64_t off)
{
  uint64_t mb = s->min_block, head = off % mb, mid;
  CLEANUP_FREE uint8_t *blk = NULL;

  if (mb == 1 || (head == 0 && n % mb == 0))
    return nbd_span (s, write ? 'w' : 'r', buf, n, off);
  if (!(blk = malloc (mb))) {
    errno = ENOMEM;
    return -1;
  }
  while (n > 0) {
    uint64_t start = off - off % mb, in = off - start;
    uint64_t len = MIN (n, mb - in);
    if (in == 0 && n >= mb) {            /* the aligned middle */
      mid = n - n % mb;
      if (nbd_span (s, write ? 'w' : 'r', buf, mid, off) == -1)
        return -1;
      len = mid;
    } else {
      if (nbd_sync (s, 'r', blk, mb, start, NULL) == -1)
        return -1;
      if (write) {
        memcpy (blk + in, buf, len);
        if (nbd_sync (s, 'w', blk, mb, start, NULL) == -1)
          return -1;
      } else
        memcpy (buf, blk + in, len);
    }
    buf += len, off += len, n -= len;
  }
  return 0;
}

static int
nbd_io_pread (struct vdk_io *io, void *buf, size_t n, uint64_t off)
{
  struct nbd_store *s = io->priv;
  uint64_t have = off < s->size ? MIN ((uint64_t) n, s->size - off) : 0;
  if (have < n)                          /* past the end reads as zero */
    memset ((uint8_t *) buf + have, 0, n - have);
  return have ? nbd_rw (s, false, buf, have, off) : 0;
}

static int
nbd_io_pwrite (struct vdk_io *io, const void *buf, size_t n, uint64_t off)
{
  struct nbd_store *s = io->priv;
  uint64_t end;
  if (ADD_OVERFLOW (off, (uint64_t) n, &end) || end > s->size) {
    errno = ENOSPC;                      /* an export cannot grow */
    return -1;
  }
  return nbd_rw (s, true, (uint8_t *) buf, n, off);
}

static int
nbd_io_flush (struct vdk_io *io)
{
  struct nbd_store *s = io->priv;
  /* With several connections, multi-conn means a flush on one covers
   * writes completed on all. */
  return s->can_flush ? nbd_sync (s, 'f', NULL, 0, 0, NULL) : 0;
}

static int
nbd_io_size (struct vdk_io *io, uint64_t *size)
{
  *size = ((struct nbd_store *) io->priv)->size;
  return 0;
}

static int
nbd_io_punch (struct vdk_io *io, uint64_t off, uint64_t n, bool keep)
{
  struct nbd_store *s = io->priv;
  uint64_t mb = s->min_block, head, tail;
  if (!s->can_zero) {
    errno = EOPNOTSUPP;
    return -1;
  }
  /* Unaligned ends are written as zeroes (less than a block each). */
  head = MIN (n, (mb - off % mb) % mb);
  if (head) {
    CLEANUP_FREE uint8_t *z = calloc (1, head);
    if (!z || nbd_rw (s, true, z, head, off) == -1)
      return -1;
    off += head, n -= head;
  }
  tail = n % mb;
  if (n - tail && nbd_span (s, keep ? 'Z' : 'z', NULL, n - tail, off) == -1)
    return -1;
  if (tail) {
    CLEANUP_FREE uint8_t *z = calloc (1, tail);
    if (!z || nbd_rw (s, true, z, tail, off + n - tail) == -1)
      return -1;
  }
  return 0;
}

/* ---- block status ---- */

struct status_ctx {
  struct nbd_cache_ext *ext;
  size_t n, cap;
  uint64_t pos;
};

/* base:allocation flags as a vdk state.  HOLE alone (unallocated but
 * not known to read as zero) must be read: DATA. */
static uint8_t
status_state (uint32_t flags)
{
  if (!(flags & LIBNBD_STATE_ZERO))
    return VDK_BLOCK_DATA;
  return flags & LIBNBD_STATE_HOLE ? VDK_BLOCK_HOLE : VDK_BLOCK_ZERO;
}

static int
status_cb (void *user_data, const char *context, uint64_t offset,
           uint32_t *entries, size_t nr, int *error)
{
  struct status_ctx *sc = user_data;
  if (strcmp (context, LIBNBD_CONTEXT_BASE_ALLOCATION) != 0)
    return 0;
  sc->pos = offset;
  for (size_t i = 0; i + 1 < nr && sc->n < sc->cap; i += 2) {
    if (entries[i] == 0)                 /* a malformed reply: stop */
      break;
    sc->pos += entries[i];
    sc->ext[sc->n].end = sc->pos;
    sc->ext[sc->n].state = status_state (entries[i + 1]);
    sc->n++;
  }
  return 0;
}

/* Ask the server for the status from off on and install the reply as
 * the cache, unless a write dropped the cache meanwhile. */
static int
cache_fill (struct nbd_store *s, uint64_t off)
{
  struct status_ctx sc = { .cap = NBD_CACHE_MAX };
  uint64_t gen;
  int r = -1;

  pthread_mutex_lock (&s->status_lock);
  if (!s->spare && !(s->spare = malloc (NBD_CACHE_MAX * sizeof *s->spare))) {
    errno = ENOMEM;
    goto out;
  }
  sc.ext = s->spare;
  pthread_mutex_lock (&s->lock);
  gen = s->gen;
  pthread_mutex_unlock (&s->lock);
  if (nbd_sync (s, 's', NULL, MIN (s->size - off, NBD_STATUS_SPAN), off,
                &sc) == -1)
    goto out;
  /* Clamp a last extent that runs past the end of the export. */
  while (sc.n > 1 && sc.ext[sc.n - 2].end >= s->size)
    sc.n--;
  if (sc.n > 0 && sc.ext[sc.n - 1].end > s->size)
    sc.ext[sc.n - 1].end = s->size;
  if (sc.n == 0 || sc.ext[0].end <= off) {
    errno = EIO;                         /* the server said nothing */
    goto out;
  }
  pthread_mutex_lock (&s->lock);
  if (s->gen == gen) {
    struct nbd_cache_ext *t = s->cache;
    s->cache = s->spare;
    s->spare = t;
    s->cache_start = off;
    s->ncache = sc.n;
  }
  pthread_mutex_unlock (&s->lock);
  r = 0;
out:
  pthread_mutex_unlock (&s->status_lock);
  return r;
}

/* Index of the cached extent holding off, or -1.  s->lock held. */
static ssize_t
cache_find (struct nbd_store *s, uint64_t off)
{
  size_t lo = 0, hi = s->ncache;
  if (!s->ncache || off < s->cache_start || off >= s->cache[hi - 1].end)
    return -1;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (s->cache[mid].end <= off)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* The run of one state at off, from the cache: 1 if answered (runs
 * of one state that the cache splits are joined), 0 if the cache does
 * not hold off.  s->lock held. */
static int
cache_status (struct nbd_store *s, uint64_t off, uint64_t n, uint64_t *pnum,
              int *state)
{
  ssize_t i = cache_find (s, off);
  uint64_t end;
  if (i == -1)
    return 0;
  *state = s->cache[i].state;
  while ((size_t) i + 1 < s->ncache && s->cache[i + 1].state == *state)
    i++;
  end = s->cache[i].end;
  *pnum = MIN (n, end - off);
  return 1;
}

static int
nbd_io_block_status (struct vdk_io *io, uint64_t off, uint64_t n,
                     uint64_t *pnum, int *state)
{
  struct nbd_store *s = io->priv;

  if (off >= s->size) {                  /* past the end reads as zero */
    *pnum = n;
    *state = VDK_BLOCK_ZERO;
    return 0;
  }
  if (!s->has_status) {                  /* the server cannot tell */
    *pnum = MIN (n, s->size - off);
    *state = VDK_BLOCK_DATA;
    return 0;
  }
  for (;;) {
    int answered;
    pthread_mutex_lock (&s->lock);
    answered = cache_status (s, off, n, pnum, state);
    pthread_mutex_unlock (&s->lock);
    if (answered)
      return 0;
    if (cache_fill (s, off) == -1)
      return -1;
  }
}

/* ---- asynchronous requests ---- */

static void
wake (struct nbd_store *s)
{
  uint64_t one = 1;
  ssize_t r = write (s->wake_fd, &one, sizeof one);
  (void) r;                     /* a full counter wakes the thread too */
}

/* libnbd's completion callback: with the handle lock held, so it only
 * queues the request for the dispatcher. */
static int
areq_complete (void *user_data, int *error)
{
  struct nbd_areq *a = user_data;
  struct nbd_store *s = a->s;

  a->err = *error ? (conn_dead (a->c->h) ? ENOTCONN : *error) : 0;
  pthread_mutex_lock (&s->lock);
  a->c->busy--;
  if (a->write) {                /* see the cache rules above */
    s->ncache = 0;
    s->gen++;
  }
  a->next = NULL;
  if (s->done_tail)
    s->done_tail->next = a;
  else
    s->done_head = a;
  s->done_tail = a;
  pthread_mutex_unlock (&s->lock);
  wake (s);
  return 1;
}

/* Call `done` for every finished request, outside all locks. */
static void
drain_done (struct nbd_store *s)
{
  struct nbd_areq *a;
  pthread_mutex_lock (&s->lock);
  a = s->done_head;
  s->done_head = s->done_tail = NULL;
  pthread_mutex_unlock (&s->lock);
  while (a) {
    struct nbd_areq *next = a->next;
    a->done (a->ctx, a->err);
    pthread_mutex_lock (&s->lock);
    s->inflight--;
    pthread_mutex_unlock (&s->lock);
    free (a);
    a = next;
  }
}

/* One round: poll every live connection and the wake fd, then let
 * libnbd move. */
static void
dispatch_once (struct nbd_store *s)
{
  struct pollfd fds[NBD_MAX_CONNS + 1];
  struct nbd_handle *hs[NBD_MAX_CONNS];
  unsigned n = 0, nconns;
  uint64_t count;

  pthread_mutex_lock (&s->lock);
  nconns = s->nconns;
  for (unsigned i = 0; i < nconns; i++)
    hs[i] = s->conns[i].h;
  pthread_mutex_unlock (&s->lock);
  fds[n++] = (struct pollfd) { .fd = s->wake_fd, .events = POLLIN };
  for (unsigned i = 0; i < nconns; i++) {
    unsigned dir = conn_dead (hs[i]) ? 0 : nbd_aio_get_direction (hs[i]);
    fds[n++] = (struct pollfd) {
      .fd = dir ? nbd_aio_get_fd (hs[i]) : -1,
      .events = ((dir & LIBNBD_AIO_DIRECTION_READ) ? POLLIN : 0)
                | ((dir & LIBNBD_AIO_DIRECTION_WRITE) ? POLLOUT : 0) };
  }
  if (poll (fds, n, -1) == -1)
    return;
  if (fds[0].revents & POLLIN && read (s->wake_fd, &count, sizeof count))
    { /* consumed */ }
  for (unsigned i = 0; i < nconns; i++) {
    short re = fds[i + 1].revents;
    if (re & (POLLIN | POLLHUP | POLLERR))
      nbd_aio_notify_read (hs[i]);
    else if (re & POLLOUT)
      nbd_aio_notify_write (hs[i]);
  }
}

static void *
dispatcher (void *arg)
{
  struct nbd_store *s = arg;
  for (;;) {
    bool stop;
    dispatch_once (s);
    drain_done (s);
    pthread_mutex_lock (&s->lock);
    stop = s->stop && s->inflight == 0;
    pthread_mutex_unlock (&s->lock);
    if (stop)
      return NULL;
  }
}

static int
start_dispatcher (struct nbd_store *s)
{
  int e = vdk__thread_start (&s->thread, dispatcher, s);

  if (e) {
    errno = e;
    return -1;
  }
  s->thread_started = true;
  return 0;
}

/* Submit one request.  -1 with errno EAGAIN for a request this path
 * does not take (unaligned, too large, past the end): the caller runs
 * it synchronously.  ENOTCONN when the connection is gone. */
static int
nbd_io_aio (struct vdk_io *io, int op, void *buf, size_t n, uint64_t off,
            vdk_io_done_fn done, void *ctx)
{
  struct nbd_store *s = io->priv;
  struct nbd_areq *a;
  struct nbd_conn *c;
  nbd_completion_callback cb;
  uint64_t end;
  int64_t cookie;

  if (n == 0 || n > s->max_req || off % s->min_block || n % s->min_block
      || ADD_OVERFLOW (off, (uint64_t) n, &end) || end > s->size) {
    errno = EAGAIN;
    return -1;
  }
  if (!(a = calloc (1, sizeof *a))) {
    errno = ENOMEM;
    return -1;
  }
  c = conn_get (s);                     /* busy until it completes */
  pthread_mutex_lock (&s->lock);
  s->inflight++;
  pthread_mutex_unlock (&s->lock);
  *a = (struct nbd_areq) { .write = op == 'w', .done = done, .ctx = ctx,
                           .s = s, .c = c };
  cb = (nbd_completion_callback) { .callback = areq_complete,
                                   .user_data = a };
  if (op == 'w') {
    cache_drop (s);
    cookie = nbd_aio_pwrite (c->h, buf, n, off, cb, 0);
  } else
    cookie = nbd_aio_pread (c->h, buf, n, off, cb, 0);
  if (cookie == -1) {
    /* libnbd did not take it: the callback will not run. */
    nbd_failed (c->h);
    pthread_mutex_lock (&s->lock);
    s->inflight--;
    pthread_mutex_unlock (&s->lock);
    conn_put (s, c);
    free (a);
    return -1;
  }
  wake (s);
  return 0;
}

/* ---- remote information ---- */

static const char *
nbd_io_description (struct vdk_io *io)
{
  return ((struct nbd_store *) io->priv)->description;
}

static const char *
nbd_io_transport (struct vdk_io *io)
{
  return ((struct nbd_store *) io->priv)->tls ? "nbdssl" : "nbd";
}

/* ---- open and close ---- */

static void
nbd_io_close (struct vdk_io *io)
{
  struct nbd_store *s = io->priv;
  if (!s)
    return;
  if (s->thread_started) {
    pthread_mutex_lock (&s->lock);
    s->stop = true;
    pthread_mutex_unlock (&s->lock);
    wake (s);
    pthread_join (s->thread, NULL);
  }
  for (unsigned i = 0; i < s->nconns; i++) {
    if (!conn_dead (s->conns[i].h))
      nbd_shutdown (s->conns[i].h, 0);
    nbd_close (s->conns[i].h);
  }
  if (s->wake_fd >= 0)
    close (s->wake_fd);
  pthread_mutex_destroy (&s->lock);
  pthread_mutex_destroy (&s->status_lock);
  free (s->cache);
  free (s->spare);
  free (s->description);
  free (s->uri);
  free (s);
}

static const struct vdk_io_ops nbd_ops = {
  .name = "nbd",
  .pread = nbd_io_pread,
  .pwrite = nbd_io_pwrite,
  .flush = nbd_io_flush,
  .size = nbd_io_size,
  .close = nbd_io_close,
  .punch = nbd_io_punch,
  .description = nbd_io_description,
  .transport = nbd_io_transport,
  .aio = nbd_io_aio,
  .block_status = nbd_io_block_status,
};

/* Why a connection could not be made, as a vdk error code: libnbd
 * reports all of these with one errno or another, so its message
 * decides (the words are libnbd's and GnuTLS's). */
static int
connect_error_code (const char *msg, int e)
{
  if (strstr (msg, "requires TLS") || strstr (msg, "refused TLS")
      || strstr (msg, "TLS is not supported"))
    return VDK_E_TLS;
  if (strstr (msg, "gnutls") || strstr (msg, "PSK") || strstr (msg, "psk")
      || strstr (msg, "certificate"))
    return VDK_E_AUTH;
  if (strstr (msg, "has no export")
      || (e == ENOENT && strstr (msg, "handshake")))
    return VDK_E_NOT_FOUND;
  return VDK_E_CONNECT;          /* refused, unreachable, timed out, ... */
}

static int
first_connection (struct nbd_store *s, const char *spec)
{
  struct nbd_handle *h = connect_one (spec, true);
  int64_t size, v;

  if (!h) {
    const char *msg = nbd_get_error () ? nbd_get_error () : "unknown error";
    int e = nbd_get_errno ();
    int code = connect_error_code (msg, e);
    return vdk__errc (code, 0, "%s: %s", spec, msg);
  }
  s->conns[0].h = h;
  s->nconns = 1;
  if ((size = nbd_get_size (h)) < 0)
    return vdk__errc (VDK_E_IO, EIO, "%s: %s", spec, nbd_get_error ());
  s->size = size;
  s->multi_conn = nbd_can_multi_conn (h) == 1;
  s->can_flush = nbd_can_flush (h) == 1;
  s->can_zero = nbd_can_zero (h) == 1;
  s->has_status = nbd_can_meta_context (h, LIBNBD_CONTEXT_BASE_ALLOCATION)
    == 1;
  s->tls = nbd_get_tls_negotiated (h) == 1;
  v = nbd_get_block_size (h, LIBNBD_SIZE_MINIMUM);
  s->min_block = v > 0 && v <= 65536 && IS_POWER_OF_2 (v) ? v : 1;
  v = nbd_get_block_size (h, LIBNBD_SIZE_MAXIMUM);
  s->max_req = v >= s->min_block && v < NBD_MAX_REQUEST
    ? v - v % s->min_block : NBD_MAX_REQUEST;
  s->description = nbd_get_export_description (h);  /* caller frees it */
  return 0;
}

static struct vdk_io *
nbd_io_open (const char *spec, unsigned flags)
{
  struct vdk_io *io;
  struct nbd_store *s;

  if (flags & (VDK_IO_CREATE | VDK_IO_TRUNC)) {
    vdk__errc (VDK_E_NOT_SUPPORTED_BY_TRANSPORT, ENOTSUP, "%s: an export "
               "cannot be created or truncated", spec);
    return NULL;
  }
  io = calloc (1, sizeof *io);
  s = calloc (1, sizeof *s);
  if (!io || !s || !(io->path = strdup (spec))
      || !(s->uri = strdup (spec))) {
    vdk__err (ENOMEM, "out of memory");
    goto fail;
  }
  pthread_mutex_init (&s->lock, NULL);
  pthread_mutex_init (&s->status_lock, NULL);
  s->wake_fd = -1;
  io->ops = &nbd_ops;
  io->priv = s;
  if (first_connection (s, spec) == -1)
    goto fail;
  if ((s->wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
    vdk__err (errno, "eventfd: %s", strerror (errno));
    goto fail;
  }
  if (start_dispatcher (s) == -1) {
    vdk__err (errno, "cannot start the connection thread: %s",
              strerror (errno));
    goto fail;
  }
  io->readonly = (flags & VDK_IO_READONLY) || nbd_is_read_only (s->conns[0].h)
    == 1;
  return io;
fail:
  if (io && io->priv)
    nbd_io_close (io);
  else
    free (s);
  if (io)
    free (io->path);
  free (io);
  return NULL;
}

#define NBD_BACKEND(name) \
  { .scheme = name, .flags = VDK_IO_BACKEND_GUEST_VIEW, \
    .open = nbd_io_open, .fs = NULL }
const struct vdk_io_backend vdk__io_nbd_backends[4] = {
  NBD_BACKEND ("nbd"), NBD_BACKEND ("nbds"), NBD_BACKEND ("nbd+unix"),
  NBD_BACKEND ("nbds+unix"),
};
