/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: asynchronous I/O (disk/aio.c).
 *
 * - Hundreds of requests in flight from several threads; every
 *   callback and every free runs exactly once; a wait covers what the
 *   thread submitted before it.
 * - Completion order does not follow submission order: a request made
 *   slow by the io fault hook (it blocks until the fast ones have
 *   completed) is submitted first and completes last.
 * - Errors reach the callback of the request that failed; a wait
 *   reports them once; a refused submission calls free, not callback.
 * - vdk_close with requests in flight waits for them; callbacks may
 *   submit more; wait and close inside a callback are refused.
 * The test links the static library to reach the io fault hook. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tap.h"
#include "io/io.h"

#include "../tmpdir.h"

#define BS 4096u

/* One request's bookkeeping: how often callback and free ran. */
struct req {
  int calls, frees, error, id;
  uint8_t buf[BS];
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void
on_done (void *opaque, int error)
{
  struct req *r = opaque;
  __atomic_add_fetch (&r->calls, 1, __ATOMIC_ACQ_REL);
  __atomic_store_n (&r->error, error, __ATOMIC_RELEASE);
}

static void
on_free (void *opaque)
{
  struct req *r = opaque;
  __atomic_add_fetch (&r->frees, 1, __ATOMIC_ACQ_REL);
}

static struct vdk_completion
comp (struct req *r)
{
  return (struct vdk_completion) { on_done, r, on_free };
}

static vdk_disk *
make_disk (const char *name, int type, uint64_t capacity)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  p.type = type;
  p.capacity = capacity;
  if (vdk_create (P (name), &p) == -1) {
    diag ("create %s: %s", name, vdk_last_error ());
    return NULL;
  }
  return vdk_open (P (name), 0);
}

/* ---- many requests from several threads ---- */

#define THREADS 4
#define PER_THREAD 100
static struct req many[THREADS * PER_THREAD];

struct submitter {
  vdk_disk *d;
  int t, bad_submit, not_done_after_wait, wait_rc;
  bool write;
};

static void *
submit_many (void *arg)
{
  struct submitter *s = arg;
  for (int i = 0; i < PER_THREAD; i++) {
    struct req *r = &many[s->t * PER_THREAD + i];
    uint64_t off = (uint64_t) (s->t * PER_THREAD + i) * BS;
    int rc;
    if (s->write) {
      memset (r->buf, (s->t * PER_THREAD + i) % 251 + 1, BS);
      rc = vdk_aio_pwrite (s->d, r->buf, BS, off, comp (r));
    } else
      rc = vdk_aio_read (s->d, off / 512, BS / 512, r->buf, comp (r));
    s->bad_submit += rc != 0;
  }
  s->wait_rc = vdk_aio_wait (s->d);
  /* everything this thread submitted has completed by now */
  for (int i = 0; i < PER_THREAD; i++)
    s->not_done_after_wait +=
      __atomic_load_n (&many[s->t * PER_THREAD + i].calls,
                       __ATOMIC_ACQUIRE) != 1;
  return NULL;
}

static void
run_many (vdk_disk *d, bool write)
{
  pthread_t th[THREADS];
  struct submitter s[THREADS];
  int bad = 0, late = 0, wait_bad = 0;

  for (int t = 0; t < THREADS; t++) {
    s[t] = (struct submitter) { .d = d, .t = t, .write = write };
    pthread_create (&th[t], NULL, submit_many, &s[t]);
  }
  for (int t = 0; t < THREADS; t++) {
    pthread_join (th[t], NULL);
    bad += s[t].bad_submit, late += s[t].not_done_after_wait;
    wait_bad += s[t].wait_rc != 0;
  }
  is_int (bad, 0, "%s: %d submissions from %d threads accepted",
          write ? "write" : "read", THREADS * PER_THREAD, THREADS);
  is_int (wait_bad, 0, "%s: every thread's vdk_aio_wait returns 0",
          write ? "write" : "read");
  is_int (late, 0, "%s: a thread's requests are complete when its wait "
          "returns", write ? "write" : "read");
}

static void
test_many (void)
{
  vdk_disk *d = make_disk ("many.vmdk", VDK_TYPE_MONOLITHIC_SPARSE, 4 << 20);
  int once = 0, errs = 0, wrong = 0;

  ok (d != NULL, "open a sparse disk");
  if (!d)
    return;
  run_many (d, true);
  for (size_t i = 0; i < ARRAY_SIZE (many); i++)
    once += many[i].calls == 1 && many[i].frees == 1;
  is_int (once, (int) ARRAY_SIZE (many), "every write: callback and free "
          "exactly once");
  memset (many, 0, sizeof many);
  run_many (d, false);
  for (size_t i = 0; i < ARRAY_SIZE (many); i++) {
    uint8_t want = (uint8_t) (i % 251 + 1);
    errs += many[i].error != 0 || many[i].calls != 1 || many[i].frees != 1;
    for (size_t k = 0; k < BS; k++)
      if (many[i].buf[k] != want) {
        wrong++;
        break;
      }
  }
  is_int (errs, 0, "every read completed once without error");
  is_int (wrong, 0, "every read returned what its write wrote");
  ok (vdk_close (d) == 0, "close");
}

/* ---- completion order ---- */

#define NFAST 24
#define SLOW_OFF ((uint64_t) 1 << 20)
static int fast_done, order[NFAST + 1], norder;

static int
slow_hook (struct vdk_io *io, const char *path, int op, uint64_t off,
           size_t n)
{
  struct timespec until;
  (void) io, (void) path, (void) n;
  if (op != 'r' || off != SLOW_OFF)
    return 0;
  clock_gettime (CLOCK_REALTIME, &until);
  until.tv_sec += 60;   /* only a guard against a hang if aio is broken */
  pthread_mutex_lock (&mu);
  while (fast_done < NFAST
         && pthread_cond_timedwait (&cv, &mu, &until) == 0)
    ;
  pthread_mutex_unlock (&mu);
  return 0;
}

static void
on_ordered (void *opaque, int error)
{
  struct req *r = opaque;
  r->error = error;
  r->calls++;
  pthread_mutex_lock (&mu);
  order[norder++] = r->id;
  if (r->id > 0)
    fast_done++;
  pthread_cond_broadcast (&cv);
  pthread_mutex_unlock (&mu);
}

static void
test_order (void)
{
  static struct req r[NFAST + 1];
  static uint8_t fill[2 << 20];
  vdk_disk *d = make_disk ("order.img", VDK_TYPE_RAW, sizeof fill);
  int errs = 0;

  ok (d != NULL, "open a raw disk");
  if (!d)
    return;
  memset (fill, 'x', sizeof fill);
  ok (vdk_pwrite (d, fill, sizeof fill, 0) == 0, "fill it (no holes)");
  vdk__io_fault_hook = slow_hook;
  for (int i = 0; i <= NFAST; i++) {
    r[i].id = i;
    vdk_aio_pread (d, r[i].buf, BS, i == 0 ? SLOW_OFF : (uint64_t) i * BS,
                   (struct vdk_completion) { on_ordered, &r[i], NULL });
  }
  ok (vdk_aio_wait (d) == 0, "wait for the slow and the fast requests");
  vdk__io_fault_hook = NULL;
  for (int i = 0; i <= NFAST; i++)
    errs += r[i].error != 0 || r[i].calls != 1 || r[i].buf[0] != 'x';
  is_int (errs, 0, "all %d reads completed once and read the data",
          NFAST + 1);
  is_int (norder, NFAST + 1, "every completion recorded");
  is_int (order[NFAST], 0, "the slow request, submitted first, completed "
          "last");
  ok (vdk_close (d) == 0, "close");
}

/* ---- errors ---- */

static void
test_errors (void)
{
  static struct req r[6];
  vdk_disk *d = make_disk ("err.vmdk", VDK_TYPE_MONOLITHIC_SPARSE, 1 << 20);
  uint64_t cap = 1 << 20;

  ok (d != NULL, "open");
  if (!d)
    return;
  memset (r, 0, sizeof r);
  vdk_aio_pread (d, r[0].buf, BS, 0, comp (&r[0]));
  vdk_aio_pread (d, r[1].buf, BS, cap - BS / 2, comp (&r[1]));
  vdk_aio_pwrite (d, r[2].buf, BS, BS, comp (&r[2]));
  vdk_aio_read (d, UINT64_MAX / 256, 8, r[3].buf, comp (&r[3]));
  vdk_aio_write (d, cap / 512, 8, r[4].buf, comp (&r[4]));
  is_int (vdk_aio_wait (d), -1, "wait reports that requests failed");
  is_int (vdk_last_error_code (), VDK_E_OUT_OF_RANGE,
          "with the first failure's code");
  diag ("%s", vdk_last_error ());
  is_int (r[0].error, 0, "good read: 0");
  is_int (r[1].error, VDK_E_OUT_OF_RANGE, "read across the end: out of "
          "range, to its own callback");
  is_int (r[2].error, 0, "good write: 0");
  is_int (r[3].error, VDK_E_OUT_OF_RANGE, "sector read whose offset "
          "overflows: out of range");
  is_int (r[4].error, VDK_E_OUT_OF_RANGE, "sector write past the end: out "
          "of range");
  is_int (vdk_aio_wait (d), 0, "the next wait starts afresh");
  ok (vdk_close (d) == 0, "close");

  d = vdk_open (P ("err.vmdk"), VDK_OPEN_READ_ONLY);
  memset (r, 0, sizeof r);
  vdk_aio_pwrite (d, r[0].buf, BS, 0, comp (&r[0]));
  vdk_aio_pread (d, r[1].buf, BS, 0, comp (&r[1]));
  is_int (vdk_aio_wait (d), -1, "read-only: the wait fails");
  is_int (r[0].error, VDK_E_READ_ONLY, "write to a read-only disk: "
          "read-only, to its callback");
  is_int (r[1].error, 0, "the read beside it succeeds");
  ok (vdk_close (d) == 0, "close");

  memset (r, 0, sizeof r);
  is_int (vdk_aio_pread (NULL, r[0].buf, BS, 0, comp (&r[0])), -1,
          "submission without a disk fails");
  ok (r[0].calls == 0 && r[0].frees == 1, "a refused request: free once, "
      "no callback");
  is_int (vdk_aio_wait (NULL), -1, "wait without a disk fails");
}

/* ---- close with requests in flight; callbacks that call back ---- */

static vdk_disk *inner_disk;
static int inner_wait_rc = 1, inner_wait_code, chained;

static void
on_chained (void *opaque, int error)
{
  (void) opaque;
  if (error == 0)
    __atomic_add_fetch (&chained, 1, __ATOMIC_ACQ_REL);
}

static void
on_reentrant (void *opaque, int error)
{
  struct req *r = opaque;
  /* One buffer per request: chained reads run at the same time. */
  static uint8_t bufs[300][BS];
  uint8_t *buf = bufs[r->id];
  on_done (opaque, error);
  if (r->id == 0) {
    inner_wait_rc = vdk_aio_wait (inner_disk);
    inner_wait_code = vdk_last_error_code ();
    is_int (vdk_close (inner_disk), -1, "vdk_close inside a callback is "
            "refused (the disk stays open)");
  }
  vdk_aio_pread (inner_disk, buf, BS, 0,
                 (struct vdk_completion) { on_chained, NULL, NULL });
}

static void
test_close (void)
{
  static struct req r[300];
  vdk_disk *d = make_disk ("close.vmdk", VDK_TYPE_MONOLITHIC_SPARSE, 2 << 20);
  int once = 0, wrong = 0;
  uint8_t got[BS];

  ok (d != NULL, "open");
  if (!d)
    return;
  for (int i = 0; i < 300; i++) {       /* requests are unordered: one */
    memset (r[i].buf, i % 250 + 1, BS); /* place each */
    vdk_aio_pwrite (d, r[i].buf, BS, (uint64_t) i * BS, comp (&r[i]));
  }
  ok (vdk_close (d) == 0, "close with 300 writes in flight");
  for (int i = 0; i < 300; i++)
    once += r[i].calls == 1 && r[i].frees == 1 && r[i].error == 0;
  is_int (once, 300, "close waited: every callback and free ran once, "
          "without error");
  d = vdk_open (P ("close.vmdk"), VDK_OPEN_READ_ONLY);
  for (int i = 0; i < 300; i++)
    if (vdk_pread (d, got, BS, (uint64_t) i * BS) == -1
        || got[0] != i % 250 + 1 || got[BS - 1] != i % 250 + 1)
      wrong++;
  is_int (wrong, 0, "reopened: every write's data is there");
  vdk_close (d);

  inner_disk = d = vdk_open (P ("close.vmdk"), 0);
  memset (r, 0, sizeof r);
  for (int i = 0; i < 50; i++) {
    r[i].id = i;
    vdk_aio_pread (d, r[i].buf, BS, 0,
                   (struct vdk_completion) { on_reentrant, &r[i], on_free });
  }
  ok (vdk_close (d) == 0, "close with callbacks that submit more");
  is_int (inner_wait_rc, -1, "vdk_aio_wait inside a callback is refused");
  is_int (inner_wait_code, VDK_E_INVALID_ARG, "as an invalid call");
  is_int (chained, 50, "requests submitted by callbacks completed before "
          "close returned");
}

int
main (void)
{
  if (tmpdir_make ("vdk-aio") == -1) {
    printf ("1..0 # SKIP cannot make a temporary folder\n");
    return 0;
  }
  test_many ();
  test_order ();
  test_errors ();
  test_close ();
  tmpdir_remove ();
  return tap_done ();
}
