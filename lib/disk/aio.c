/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Asynchronous I/O: vdk_aio_pread/pwrite/read/write and vdk_aio_wait.
 *
 * A request is a struct vdk__aio_req that lives from submission until
 * its completion returns.  Every disk that has seen a request owns a
 * `struct vdk_aio` (made on first use, under one process-wide mutex so
 * two threads submitting the first requests make one):
 * - `outstanding` is a doubly linked list of every request submitted and
 *   not yet completed, in submission order (each carries a sequence
 *   number).  vdk_aio_wait notes the next sequence number and sleeps
 *   until the list's head is at or past it, so it waits for exactly the
 *   requests submitted before it (not for ones other threads keep
 *   adding) and completion order does not matter.
 * - Where a request runs is the disk's `aio_submit` hook.  NULL (local
 *   files) means the worker pool here: AIO_THREADS threads, started on
 *   the first request, take requests from a FIFO queue and run them with
 *   the ordinary vdk_pread/vdk_pwrite/vdk_read/vdk_write, which are safe
 *   on one handle from many threads.  A transport (NBD) installs its own
 *   hook that puts requests in flight on its connection and calls
 *   vdk__aio_complete when each reply arrives.
 * - vdk__aio_complete runs the callback, then free, then unlinks the
 *   request and wakes waiters, so a wait returns only after the
 *   callbacks of what it waited for have returned.
 * - Locking: aio->lock guards the lists, the counters and `stop`; it is
 *   never held while a request runs or a callback is called.  A
 *   thread-local marks the disk whose callback the thread is running, so
 *   vdk_aio_wait and vdk_close called from inside a callback on the same
 *   disk fail instead of deadlocking.
 * - Shutdown (vdk_close): wait for everything outstanding, then stop
 *   and join the workers.  Worker threads block all signals.
 */
#include <errno.h>
#include <stdio.h>

#include "disk/disk.h"
#include "thread.h"

#define AIO_THREADS 4

struct vdk_aio {
  pthread_mutex_t lock;
  pthread_cond_t work;            /* queue non-empty, or stop */
  pthread_cond_t idle;            /* a request left `outstanding` */
  struct vdk__aio_req *head, *tail;     /* outstanding, by seq */
  struct vdk__aio_req *qhead, *qtail;   /* the pool's queue */
  uint64_t next_seq;
  bool stop;
  unsigned nthreads;
  pthread_t threads[AIO_THREADS];
  /* failures since the last vdk_aio_wait, and the first one's error */
  uint64_t failures;
  int first_code, first_errno;
  char first_msg[512];
};

static pthread_mutex_t create_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread struct vdk_disk *in_callback_of;

/* ---- the worker pool (local disks) ---- */

/* Run a request on the calling thread; returns its vdk_error code. */
int
vdk__aio_execute (struct vdk__aio_req *r)
{
  int rc;
  switch (r->op) {
  case 'r': rc = vdk_pread (r->disk, r->buf, r->count, r->offset); break;
  case 'w': rc = vdk_pwrite (r->disk, r->buf, r->count, r->offset); break;
  case 'R': rc = vdk_read (r->disk, r->offset, r->count, r->buf); break;
  default: rc = vdk_write (r->disk, r->offset, r->count, r->buf); break;
  }
  if (rc == 0)
    return VDK_E_OK;
  return vdk_last_error_code () ? vdk_last_error_code () : VDK_E_FAILED;
}

static void *
worker (void *arg)
{
  struct vdk_aio *a = arg;
  for (;;) {
    struct vdk__aio_req *r;
    pthread_mutex_lock (&a->lock);
    while (!a->qhead && !a->stop)
      pthread_cond_wait (&a->work, &a->lock);
    if (!a->qhead) {                /* stop, and nothing left */
      pthread_mutex_unlock (&a->lock);
      return NULL;
    }
    r = a->qhead;
    if (!(a->qhead = r->qnext))
      a->qtail = NULL;
    pthread_mutex_unlock (&a->lock);
    vdk__aio_complete (r, vdk__aio_execute (r));
  }
}

/* Start the workers.  Called with a->lock held. */
static int
start_workers (struct vdk_aio *a)
{
  int e = 0;

  while (a->nthreads < AIO_THREADS
         && (e = vdk__thread_start (&a->threads[a->nthreads], worker,
                                    a)) == 0)
    a->nthreads++;
  if (a->nthreads == 0)
    return vdk__err (e, "cannot start an I/O thread: %s", strerror (e));
  return 0;
}

int
vdk__aio_pool_submit (struct vdk_disk *d, struct vdk__aio_req *r)
{
  struct vdk_aio *a = d->aio;
  SCOPED_LOCK (&a->lock);
  if (a->nthreads == 0 && start_workers (a) == -1)
    return -1;
  r->qnext = NULL;
  if (a->qtail)
    a->qtail->qnext = r;
  else
    a->qhead = r;
  a->qtail = r;
  pthread_cond_signal (&a->work);
  return 0;
}

/* ---- per-disk state ---- */

static struct vdk_aio *
get_aio (struct vdk_disk *d)
{
  struct vdk_aio *a = __atomic_load_n (&d->aio, __ATOMIC_ACQUIRE);
  if (a)
    return a;
  SCOPED_LOCK (&create_lock);
  if ((a = d->aio))
    return a;
  if (!(a = calloc (1, sizeof *a))) {
    vdk__err (ENOMEM, "out of memory");
    return NULL;
  }
  pthread_mutex_init (&a->lock, NULL);
  pthread_cond_init (&a->work, NULL);
  pthread_cond_init (&a->idle, NULL);
  __atomic_store_n (&d->aio, a, __ATOMIC_RELEASE);
  return a;
}

static void
unlink_req (struct vdk_aio *a, struct vdk__aio_req *r)
{
  if (r->prev)
    r->prev->next = r->next;
  else
    a->head = r->next;
  if (r->next)
    r->next->prev = r->prev;
  else
    a->tail = r->prev;
}

void
vdk__aio_complete (struct vdk__aio_req *r, int error)
{
  struct vdk_disk *d = r->disk;
  struct vdk_aio *a = d->aio;
  struct vdk_disk *saved = in_callback_of;

  if (error) {                /* before the callback overwrites it */
    SCOPED_LOCK (&a->lock);
    if (a->failures++ == 0) {
      a->first_code = error;
      a->first_errno = vdk_last_errno ();
      snprintf (a->first_msg, sizeof a->first_msg, "%s", vdk_last_error ());
    }
  }
  in_callback_of = d;
  if (r->done.callback)
    r->done.callback (r->done.user_data, error);
  if (r->done.free)
    r->done.free (r->done.user_data);
  in_callback_of = saved;

  pthread_mutex_lock (&a->lock);
  unlink_req (a, r);
  pthread_cond_broadcast (&a->idle);
  pthread_mutex_unlock (&a->lock);
  free (r);
}

/* Queue a request; on failure free the user data (the contract). */
static int
submit (struct vdk_disk *d, int op, void *buf, uint64_t offset,
        uint64_t count, struct vdk_completion done)
{
  struct vdk__aio_req *r = NULL;
  struct vdk_aio *a;

  if (!d) {
    vdk__errc (VDK_E_INVALID_ARG, EINVAL, "no disk");
    goto fail;
  }
  if (!(a = get_aio (d)))
    goto fail;
  if (!(r = calloc (1, sizeof *r))) {
    vdk__err (ENOMEM, "out of memory");
    goto fail;
  }
  *r = (struct vdk__aio_req) { .disk = d, .op = op, .buf = buf,
                               .offset = offset, .count = count,
                               .done = done };
  pthread_mutex_lock (&a->lock);
  r->seq = a->next_seq++;
  r->prev = a->tail;
  if (a->tail)
    a->tail->next = r;
  else
    a->head = r;
  a->tail = r;
  pthread_mutex_unlock (&a->lock);
  if ((d->aio_submit ? d->aio_submit : vdk__aio_pool_submit) (d, r) == 0)
    return 0;
  pthread_mutex_lock (&a->lock);
  unlink_req (a, r);
  pthread_cond_broadcast (&a->idle);
  pthread_mutex_unlock (&a->lock);
fail:
  free (r);
  if (done.free)
    done.free (done.user_data);
  return -1;
}

/* ---- public calls ---- */

VDK_API int
vdk_aio_pread (vdk_disk *disk, void *buf, size_t count, uint64_t offset,
               struct vdk_completion done)
{
  vdk__set_call ("vdk_aio_pread");
  return submit (disk, 'r', buf, offset, count, done);
}

/* The buffer is only read; the request keeps one pointer type. */
VDK_API int
vdk_aio_pwrite (vdk_disk *disk, const void *buf, size_t count,
                uint64_t offset, struct vdk_completion done)
{
  vdk__set_call ("vdk_aio_pwrite");
  return submit (disk, 'w', (void *) buf, offset, count, done);
}

VDK_API int
vdk_aio_read (vdk_disk *disk, uint64_t sector, uint64_t nsectors, void *buf,
              struct vdk_completion done)
{
  vdk__set_call ("vdk_aio_read");
  return submit (disk, 'R', buf, sector, nsectors, done);
}

VDK_API int
vdk_aio_write (vdk_disk *disk, uint64_t sector, uint64_t nsectors,
               const void *buf, struct vdk_completion done)
{
  vdk__set_call ("vdk_aio_write");
  return submit (disk, 'W', (void *) buf, sector, nsectors, done);
}

/* Wait until every request with seq < target has completed. */
static void
wait_until (struct vdk_aio *a, uint64_t target)
{
  while (a->head && a->head->seq < target)
    pthread_cond_wait (&a->idle, &a->lock);
}

VDK_API int
vdk_aio_wait (vdk_disk *disk)
{
  struct vdk_aio *a;
  uint64_t failures;

  vdk__set_call ("vdk_aio_wait");
  if (!disk)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "no disk");
  if (in_callback_of == disk)
    return vdk__errc (VDK_E_INVALID_ARG, EDEADLK, "%s: called from a "
                      "completion callback of the same disk (it would wait "
                      "for itself)", disk->top->path);
  if (!(a = __atomic_load_n (&disk->aio, __ATOMIC_ACQUIRE)))
    return 0;                        /* nothing was ever submitted */
  SCOPED_LOCK (&a->lock);
  wait_until (a, a->next_seq);
  if ((failures = a->failures) == 0)
    return 0;
  a->failures = 0;
  return vdk__errc (a->first_code, a->first_errno, "%" PRIu64 " request%s "
                    "failed; the first: %s", failures,
                    failures == 1 ? "" : "s", a->first_msg);
}

bool
vdk__aio_in_callback (struct vdk_disk *d)
{
  return d && in_callback_of == d;
}

void
vdk__aio_shutdown (struct vdk_disk *d)
{
  struct vdk_aio *a = d ? d->aio : NULL;
  if (!a)
    return;
  pthread_mutex_lock (&a->lock);
  wait_until (a, UINT64_MAX);
  a->stop = true;
  pthread_cond_broadcast (&a->work);
  pthread_mutex_unlock (&a->lock);
  for (unsigned i = 0; i < a->nthreads; i++)
    pthread_join (a->threads[i], NULL);
  pthread_mutex_destroy (&a->lock);
  pthread_cond_destroy (&a->work);
  pthread_cond_destroy (&a->idle);
  free (a);
  d->aio = NULL;
}
