/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rbd-tool: drives vdk's rbd backend through the public API for the
 * shell tests (tests/rbd/).
 *
 *   rbd-tool open [--read-only] [--conf F] [--id ID] [--keyring F]
 *                 [--timeout S] NAME
 *       vdk_open_ex (the Ceph fields of version 2 when given); prints
 *       "TRANSPORT SIZE", or "error CODE MESSAGE" and exits 1
 *   rbd-tool aio NAME N
 *       N writes of 64 KiB in flight at once (each its own pattern),
 *       a wait, then N reads in flight and a wait: every callback ran
 *       exactly once, one request past the end failed alone
 *       (OUT_OF_RANGE), the reads return what was written and so do
 *       synchronous reads
 *   rbd-tool punch NAME trim|zero OFFSET LENGTH
 *       vdk_trim or vdk_zero of the range
 */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdk.h>

#include "../remote-tool.h"

static int
cmd_open (int argc, char **argv)
{
  static const struct option lo[] = {
    { "read-only", no_argument, NULL, 'r' },
    { "conf", required_argument, NULL, 'c' },
    { "id", required_argument, NULL, 'i' },
    { "keyring", required_argument, NULL, 'k' },
    { "timeout", required_argument, NULL, 't' },
    { NULL, 0, NULL, 0 },
  };
  struct vdk_open_params p = VDK_OPEN_PARAMS_INIT;
  vdk_disk *d;
  char buf[512];
  int c;

  while ((c = getopt_long (argc, argv, "", lo, NULL)) != -1) {
    switch (c) {
    case 'r': p.flags |= VDK_OPEN_READ_ONLY; break;
    case 'c': p.ceph_conf = optarg; break;
    case 'i': p.ceph_id = optarg; break;
    case 'k': p.ceph_keyring = optarg; break;
    case 't': p.connect_timeout = (uint32_t) atoi (optarg); break;
    default: return 2;
    }
  }
  if (optind + 1 != argc)
    return 2;
  if (!(d = vdk_open_ex (argv[optind], &p)))
    return print_error ();
  if (vdk_pread (d, buf, sizeof buf, 0) == -1) {
    print_error ();
    vdk_close (d);
    return 1;
  }
  printf ("%s %" PRIu64 "\n", vdk_get_transport_mode (d), vdk_capacity (d));
  return vdk_close (d) == -1 ? print_error () : 0;
}

/* ---- aio ---- */

#define AIO_LEN (64u << 10)

static void
fill (uint8_t *buf, int i)
{
  uint32_t v = (uint32_t) i * 2654435761u;
  for (size_t k = 0; k < AIO_LEN; k += 4, v = v * 1103515245u + 12345u)
    memcpy (buf + k, &v, 4);
}

/* Submit n requests (and one past the end) of op 'r' or 'w'; wait;
 * count what went wrong. */
static int
round_trip (vdk_disk *d, int op, uint8_t *bufs, int n)
{
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  struct slot *slots = calloc ((size_t) n + 1, sizeof *slots);
  uint8_t extra[AIO_LEN];
  int pending = n + 1, bad = 0;
  uint64_t cap = vdk_capacity (d);

  if (!slots)
    return 1;
  for (int i = 0; i <= n; i++) {
    struct vdk_completion done = { slot_done, &slots[i], NULL };
    uint8_t *b = i < n ? bufs + (size_t) i * AIO_LEN : extra;
    uint64_t off = i < n ? (uint64_t) i * AIO_LEN : cap;
    int r;
    slots[i] = (struct slot) { .pending = &pending, .lock = &lock };
    if (op == 'w' && i == n)
      memset (extra, 0, sizeof extra);
    r = op == 'w' ? vdk_aio_pwrite (d, b, AIO_LEN, off, done)
      : vdk_aio_pread (d, b, AIO_LEN, off, done);
    if (r == -1) {
      free (slots);
      return print_error ();
    }
  }
  if (vdk_aio_wait (d) == 0)
    printf ("FAIL %c: aio_wait succeeded though one request failed\n", op),
      bad++;
  if (pending != 0)
    printf ("FAIL %c: aio_wait returned with %d pending\n", op, pending),
      bad++;
  for (int i = 0; i <= n; i++) {
    if (slots[i].calls != 1)
      printf ("FAIL %c %d: callback ran %d times\n", op, i, slots[i].calls),
        bad++;
    if (i < n && slots[i].error)
      printf ("FAIL %c %d: error %d\n", op, i, slots[i].error), bad++;
  }
  if (slots[n].error != VDK_E_OUT_OF_RANGE)
    printf ("FAIL %c: the request past the end got %d\n", op,
            slots[n].error), bad++;
  free (slots);
  return bad;
}

static int
cmd_aio (const char *name, int n)
{
  vdk_disk *d = vdk_open (name, 0);
  uint8_t *bufs = malloc ((size_t) n * AIO_LEN), *want = malloc (AIO_LEN);
  int bad = 0;

  if (!d || !bufs || !want)
    return print_error ();
  if (vdk_capacity (d) < (uint64_t) n * AIO_LEN) {
    printf ("FAIL the image is too small for %d requests\n", n);
    return 1;
  }
  for (int i = 0; i < n; i++)
    fill (bufs + (size_t) i * AIO_LEN, i);
  bad += round_trip (d, 'w', bufs, n);
  if (vdk_flush (d) == -1)
    return print_error ();
  memset (bufs, 0xee, (size_t) n * AIO_LEN);
  bad += round_trip (d, 'r', bufs, n);
  for (int i = 0; i < n; i++) {
    fill (want, i);
    if (memcmp (want, bufs + (size_t) i * AIO_LEN, AIO_LEN) != 0)
      printf ("FAIL read %d: not what was written\n", i), bad++;
    if (vdk_pread (d, bufs + (size_t) i * AIO_LEN, AIO_LEN,
                   (uint64_t) i * AIO_LEN) == -1)
      return print_error ();
    if (memcmp (want, bufs + (size_t) i * AIO_LEN, AIO_LEN) != 0)
      printf ("FAIL sync read %d: not what was written\n", i), bad++;
  }
  if (vdk_close (d) == -1)
    return print_error ();
  printf ("aio %d writes and %d reads in flight: %s\n", n, n,
          bad ? "FAILED" : "ok");
  free (bufs);
  free (want);
  return bad ? 1 : 0;
}

static int
cmd_punch (const char *name, const char *how, const char *off,
           const char *len)
{
  vdk_disk *d = vdk_open (name, 0);
  uint64_t o = strtoull (off, NULL, 0), n = strtoull (len, NULL, 0);
  int r;

  if (!d)
    return print_error ();
  r = strcmp (how, "trim") == 0 ? vdk_trim (d, o, n) : vdk_zero (d, o, n);
  if (r == -1) {
    print_error ();
    vdk_close (d);
    return 1;
  }
  return vdk_close (d) == -1 ? print_error () : 0;
}

int
main (int argc, char **argv)
{
  if (argc >= 2 && strcmp (argv[1], "open") == 0)
    return cmd_open (argc - 1, argv + 1);
  if (argc == 4 && strcmp (argv[1], "aio") == 0)
    return cmd_aio (argv[2], atoi (argv[3]));
  if (argc == 6 && strcmp (argv[1], "punch") == 0)
    return cmd_punch (argv[2], argv[3], argv[4], argv[5]);
  fprintf (stderr, "usage: rbd-tool open [OPTIONS] NAME | aio NAME N | "
           "punch NAME trim|zero OFFSET LENGTH\n");
  return 2;
}
