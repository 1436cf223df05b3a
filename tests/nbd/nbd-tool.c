/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nbd-tool: drives vdk's NBD client through the public API for the
 * shell tests (tests/nbd/test-client.sh, test-auth.sh, test-aio.sh).
 *
 *   nbd-tool open [--server H --port N | --socket S] [--user U]
 *                 [--key-file F | --password HEX] [--certificates DIR]
 *                 [--ticket T] [--transports LIST] [--read-only] [NAME]
 *       open with vdk_open_ex; print "TRANSPORT SIZE" or, on failure,
 *       "error CODE MESSAGE" (exit 1)
 *   nbd-tool aio URI N        N reads of 64 KiB in flight, then a wait:
 *                             checks every callback ran once, data
 *                             matches a synchronous read, a bad request
 *                             fails its own callback only
 *   nbd-tool aio-lost URI PID kill PID (the server) while N requests are
 *                             in flight: every callback must report
 *                             VDK_E_CONNECTION_LOST or success, wait
 *                             fails, and a new handle works after the
 *                             server is back (exit 0 if so)
 *   nbd-tool threads URI T    T threads write their own slices at
 *                             once through one handle, then read back
 *   nbd-tool session URI      open URI and keep it open; for each line
 *                             "read" on standard input read 4 KiB at 0
 *                             and print "ok" or "error CODE MESSAGE";
 *                             end at "quit" or end of input
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vdk.h>

#include "../remote-tool.h"

static int
cmd_open (int argc, char **argv)
{
  static const struct option lo[] = {
    { "server", required_argument, NULL, 's' },
    { "port", required_argument, NULL, 'p' },
    { "socket", required_argument, NULL, 'S' },
    { "user", required_argument, NULL, 'u' },
    { "key-file", required_argument, NULL, 'k' },
    { "password", required_argument, NULL, 'P' },
    { "certificates", required_argument, NULL, 'c' },
    { "ticket", required_argument, NULL, 't' },
    { "transports", required_argument, NULL, 'T' },
    { "read-only", no_argument, NULL, 'r' },
    { "write", no_argument, NULL, 'w' },
    { NULL, 0, NULL, 0 },
  };
  struct vdk_open_params p = VDK_OPEN_PARAMS_INIT;
  int c, write_test = 0;
  vdk_disk *d;

  while ((c = getopt_long (argc, argv, "", lo, NULL)) != -1) {
    switch (c) {
    case 's': p.server = optarg; break;
    case 'p': p.port = (uint32_t) atoi (optarg); break;
    case 'S': p.socket = optarg; break;
    case 'u': p.user = optarg; break;
    case 'k': p.key_file = optarg; break;
    case 'P': p.password = optarg; break;
    case 'c': p.certificates = optarg; break;
    case 't': p.ticket = optarg; break;
    case 'T': p.transports = optarg; break;
    case 'r': p.flags |= VDK_OPEN_READ_ONLY; break;
    case 'w': write_test = 1; break;
    default: return 2;
    }
  }
  d = vdk_open_ex (optind < argc ? argv[optind] : "", &p);
  if (!d)
    return print_error ();
  printf ("%s %" PRIu64 "\n", vdk_get_transport_mode (d), vdk_capacity (d));
  if (write_test) {
    char buf[512] = "written through vdk_open_ex";
    if (vdk_pwrite (d, buf, sizeof buf, 0) == -1) {
      print_error ();
      vdk_close (d);
      return 1;
    }
    printf ("write ok\n");
  }
  return vdk_close (d) == -1 ? print_error () : 0;
}

/* ---- aio ---- */

#define AIO_LEN (64u << 10)

static int
cmd_aio (const char *uri, int n)
{
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  vdk_disk *d = vdk_open (uri, 0);
  struct slot *slots = calloc (n + 1, sizeof *slots);
  uint8_t *bufs = malloc ((size_t) n * AIO_LEN), *want = malloc (AIO_LEN);
  int pending = n + 1, bad = 0, fails = 0;
  uint64_t cap;

  if (!d || !slots || !bufs || !want)
    return print_error ();
  cap = vdk_capacity (d);
  for (int i = 0; i <= n; i++) {
    struct vdk_completion done = { slot_done, &slots[i], NULL };
    slots[i] = (struct slot) { .pending = &pending, .lock = &lock };
    /* the last request reads past the end: only it may fail */
    if (vdk_aio_pread (d, i < n ? bufs + (size_t) i * AIO_LEN : want,
                       AIO_LEN, i < n ? ((uint64_t) i * 7919 * 512)
                       % (cap - AIO_LEN) : cap, done) == -1)
      return print_error ();
  }
  if (vdk_aio_wait (d) == 0) {
    printf ("FAIL aio_wait succeeded though one request failed\n");
    bad++;
  }
  if (pending != 0) {
    printf ("FAIL aio_wait returned with %d requests pending\n", pending);
    bad++;
  }
  for (int i = 0; i <= n; i++) {
    if (slots[i].calls != 1) {
      printf ("FAIL request %d: callback ran %d times\n", i, slots[i].calls);
      bad++;
    }
    if (i < n && slots[i].error) {
      printf ("FAIL request %d failed with %d\n", i, slots[i].error);
      bad++, fails++;
    }
  }
  if (slots[n].error != VDK_E_OUT_OF_RANGE) {
    printf ("FAIL the out-of-range request got %d\n", slots[n].error);
    bad++;
  }
  for (int i = 0; i < n && !fails; i++) {
    uint64_t off = ((uint64_t) i * 7919 * 512) % (cap - AIO_LEN);
    if (vdk_pread (d, want, AIO_LEN, off) == -1)
      return print_error ();
    if (memcmp (want, bufs + (size_t) i * AIO_LEN, AIO_LEN) != 0) {
      printf ("FAIL request %d: data differs from a synchronous read\n", i);
      bad++;
    }
  }
  vdk_close (d);
  printf ("aio %d requests: %s\n", n, bad ? "FAILED" : "ok");
  free (slots), free (bufs), free (want);
  return bad ? 1 : 0;
}

/* vdk.h lets a callback use the synchronous calls: each callback here
 * reads its range again with vdk_pread (on a remote disk it runs on the
 * connection's own thread, which must then move the connection itself)
 * and compares. */
struct nested {
  vdk_disk *d;
  uint8_t *buf;
  uint64_t off;
  int result;            /* 1 same data, -1 failed or differs */
  int *pending;
  pthread_mutex_t *lock;
};

static void
nested_done (void *user_data, int error)
{
  struct nested *x = user_data;
  uint8_t *again = malloc (AIO_LEN);
  int r = -1;
  if (!error && again && vdk_pread (x->d, again, AIO_LEN, x->off) == 0
      && memcmp (again, x->buf, AIO_LEN) == 0)
    r = 1;
  free (again);
  pthread_mutex_lock (x->lock);
  x->result = r;
  (*x->pending)--;
  pthread_mutex_unlock (x->lock);
}

static int
cmd_aio_nested (const char *uri)
{
  enum { N = 8 };
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  vdk_disk *d = vdk_open (uri, VDK_OPEN_READ_ONLY);
  struct nested x[N];
  uint8_t *bufs = malloc ((size_t) N * AIO_LEN);
  int pending = N, good = 0;

  if (!d || !bufs)
    return print_error ();
  for (int i = 0; i < N; i++) {
    x[i] = (struct nested) { d, bufs + (size_t) i * AIO_LEN,
                             (uint64_t) i * 3 * AIO_LEN, 0, &pending,
                             &lock };
    struct vdk_completion done = { nested_done, &x[i], NULL };
    if (vdk_aio_pread (d, x[i].buf, AIO_LEN, x[i].off, done) == -1)
      return print_error ();
  }
  if (vdk_aio_wait (d) == -1)
    return print_error ();
  for (int i = 0; i < N; i++)
    good += x[i].result == 1;
  vdk_close (d);
  free (bufs);
  printf ("synchronous reads inside %d callbacks: %d same\n", N, good);
  return good == N && pending == 0 ? 0 : 1;
}

static int
cmd_aio_lost (const char *uri, pid_t server)
{
  enum { N = 256 };
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  vdk_disk *d = vdk_open (uri, VDK_OPEN_READ_ONLY);
  struct slot *slots = calloc (N, sizeof *slots);
  uint8_t *bufs = malloc ((size_t) N * AIO_LEN);
  int pending = N, lost = 0, ok = 0, other = 0;
  uint64_t cap;

  if (!d || !slots || !bufs)
    return print_error ();
  cap = vdk_capacity (d);
  for (int i = 0; i < N; i++) {
    struct vdk_completion done = { slot_done, &slots[i], NULL };
    slots[i] = (struct slot) { .pending = &pending, .lock = &lock };
    if (i == N / 8)
      kill (server, SIGKILL);        /* the server dies mid-transfer */
    if (vdk_aio_pread (d, bufs + (size_t) i * AIO_LEN, AIO_LEN,
                       ((uint64_t) i * AIO_LEN) % (cap - AIO_LEN), done)
        == -1)
      return print_error ();
  }
  if (vdk_aio_wait (d) == 0) {
    printf ("FAIL aio_wait succeeded after the server died\n");
    return 1;
  }
  printf ("wait: %s %s\n", code_name (vdk_last_error_code ()),
          vdk_last_error ());
  for (int i = 0; i < N; i++) {
    if (slots[i].calls != 1)
      other++;
    else if (slots[i].error == 0)
      ok++;
    else if (slots[i].error == VDK_E_CONNECTION_LOST)
      lost++;
    else
      other++;
  }
  printf ("lost %d ok %d other %d\n", lost, ok, other);
  if (vdk_pread (d, bufs, 512, 0) == 0 ||
      vdk_last_error_code () != VDK_E_CONNECTION_LOST) {
    printf ("FAIL a synchronous read after the loss: %s\n",
            vdk_last_error ());
    other++;
  }
  vdk_close (d);
  free (slots), free (bufs);
  return lost > 0 && other == 0 ? 0 : 1;
}

/* ---- threads writing through one handle (multi-conn) ---- */

struct writer {
  vdk_disk *d;
  int index, threads;
  int failed;
};

#define SLICE (4u << 20)

static void *
writer (void *arg)
{
  struct writer *w = arg;
  uint8_t *buf = malloc (64 << 10);
  for (uint64_t off = 0; buf && off < SLICE; off += 64 << 10) {
    memset (buf, 'A' + w->index, 64 << 10);
    memcpy (buf, &off, sizeof off);
    if (vdk_pwrite (w->d, buf, 64 << 10, (uint64_t) w->index * SLICE + off)
        == -1) {
      w->failed = 1;
      break;
    }
  }
  free (buf);
  return NULL;
}

static int
cmd_threads (const char *uri, int n)
{
  vdk_disk *d = vdk_open (uri, 0);
  struct writer w[16];
  pthread_t th[16];
  uint8_t *buf = malloc (64 << 10), *want = malloc (64 << 10);
  int bad = 0;

  if (!d || !buf || !want || n < 1 || n > 16)
    return print_error ();
  for (int i = 0; i < n; i++) {
    w[i] = (struct writer) { .d = d, .index = i, .threads = n };
    pthread_create (&th[i], NULL, writer, &w[i]);
  }
  for (int i = 0; i < n; i++) {
    pthread_join (th[i], NULL);
    bad += w[i].failed;
  }
  if (bad || vdk_flush (d) == -1)
    return print_error ();
  for (int i = 0; i < n; i++)
    for (uint64_t off = 0; off < SLICE; off += 64 << 10) {
      memset (want, 'A' + i, 64 << 10);
      memcpy (want, &off, sizeof off);
      if (vdk_pread (d, buf, 64 << 10, (uint64_t) i * SLICE + off) == -1)
        return print_error ();
      bad += memcmp (buf, want, 64 << 10) != 0;
    }
  vdk_close (d);
  printf ("threads %d: %s\n", n, bad ? "FAILED" : "ok");
  free (buf), free (want);
  return bad ? 1 : 0;
}

/* ---- one long session ---- */

static int
cmd_session (const char *uri)
{
  vdk_disk *d = vdk_open (uri, VDK_OPEN_READ_ONLY);
  char line[64], buf[4096];

  if (!d)
    return print_error ();
  printf ("open\n");
  fflush (stdout);
  while (fgets (line, sizeof line, stdin) && strcmp (line, "quit\n") != 0) {
    if (vdk_pread (d, buf, sizeof buf, 0) == -1)
      print_error ();
    else
      printf ("ok\n");
    fflush (stdout);
  }
  vdk_close (d);
  return 0;
}

int
main (int argc, char **argv)
{
  if (vdk_init (NULL, NULL, NULL) == -1)
    return print_error ();
  if (argc >= 2 && strcmp (argv[1], "open") == 0)
    return cmd_open (argc - 1, argv + 1);
  if (argc == 4 && strcmp (argv[1], "aio") == 0)
    return cmd_aio (argv[2], atoi (argv[3]));
  if (argc == 3 && strcmp (argv[1], "aio-nested") == 0)
    return cmd_aio_nested (argv[2]);
  if (argc == 4 && strcmp (argv[1], "aio-lost") == 0)
    return cmd_aio_lost (argv[2], (pid_t) atoi (argv[3]));
  if (argc == 4 && strcmp (argv[1], "threads") == 0)
    return cmd_threads (argv[2], atoi (argv[3]));
  if (argc == 3 && strcmp (argv[1], "session") == 0)
    return cmd_session (argv[2]);
  fprintf (stderr, "usage: nbd-tool open|aio|aio-nested|aio-lost|threads|session "
           "...\n");
  return 2;
}
