/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the sink io backend (io/sink.c) and vdk_clone's out_fd:
 * bytes go out in offset order; the last 8 MiB stay rewritable and
 * readable; a write, read or truncate below what was sent fails with
 * ESPIPE instead of losing data; a size set beyond the last write goes
 * out as zeroes; a failed send (the reader gone) is reported by finish
 * and sticks; the spec disappears after finish; and vdk_clone refuses
 * types that cannot go to a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "ops/ops.h"

#include "../tmpdir.h"

#define MiB (1024u * 1024u)

/* The reading end of the pipe, drained by a thread into `out`. */
struct reader {
  int fd;
  uint8_t *out;
  size_t cap, got;      /* got: written by the thread, read after join */
};

static void *
read_all (void *arg)
{
  struct reader *r = arg;
  ssize_t n;

  while (r->got < r->cap
         && (n = read (r->fd, r->out + r->got, r->cap - r->got)) > 0)
    __atomic_add_fetch (&r->got, (size_t) n, __ATOMIC_SEQ_CST);
  return NULL;
}

static void
test_order (void)
{
  int p[2];
  struct reader rd = { .cap = 40 * MiB };
  uint8_t *chunk = malloc (MiB), b[4];
  struct vdk__sink *s;
  struct vdk_io *io;
  pthread_t th;
  uint64_t size;

  rd.out = malloc (rd.cap);
  if (!rd.out || !chunk || pipe (p) == -1) {
    ok (0, "pipe");
    return;
  }
  rd.fd = p[0];
  pthread_create (&th, NULL, read_all, &rd);
  s = vdk__sink_new (p[1], "/some/where/out.vmdk");
  ok (s && strcmp (vdk__sink_spec (s), "sink://1/out.vmdk") == 0,
      "the spec names the base name: %s", s ? vdk__sink_spec (s) : "-");
  io = vdk__io_open (vdk__sink_spec (s), VDK_IO_CREATE);
  ok (io != NULL, "the spec opens while the owner holds it");
  memset (chunk, 'h', 512);
  ok (vdk__io_pwrite (io, chunk, 512, 0) == 0, "header written");
  /* Ten MiB of data in order: all but the last 8 MiB have gone out
   * (write returns once the pipe took them). */
  for (unsigned i = 0; i < 10; i++) {
    memset (chunk, 'a' + (int) i, MiB);
    if (vdk__io_pwrite (io, chunk, MiB, MiB + (uint64_t) i * MiB) == -1)
      break;
  }
  ok (vdk__io_pwrite (io, "x", 1, 0) == -1 && errno == ESPIPE,
      "a write below what was sent: ESPIPE");
  ok (vdk__io_pread (io, b, 1, 0) == -1 && errno == ESPIPE,
      "a read below what was sent: ESPIPE");
  ok (vdk__io_truncate (io, 1) == -1 && errno == ESPIPE,
      "a truncate below what was sent: ESPIPE");
  ok (vdk__io_pwrite (io, "TAIL", 4, 10 * MiB) == 0,
      "a write inside the window is taken");
  ok (vdk__io_pread (io, b, 4, 10 * MiB) == 0 && memcmp (b, "TAIL", 4) == 0,
      "... and reads back");
  ok (vdk__io_truncate (io, 12 * MiB) == 0
      && vdk__io_size (io, &size) == 0 && size == 12 * MiB,
      "a truncate beyond the last write sets the size");
  vdk__io_close (io);
  ok (vdk__sink_finish (s, true) == 0, "finish sends the rest");
  close (p[1]);
  pthread_join (th, NULL);
  ok (rd.got == 12 * MiB && rd.out[0] == 'h' && rd.out[MiB] == 'a'
      && rd.out[2 * MiB] == 'b' && memcmp (rd.out + 10 * MiB, "TAIL", 4) == 0
      && rd.out[11 * MiB] == 0 && rd.out[12 * MiB - 1] == 0,
      "12 MiB went out in order, the rewrite and the zeroes of the size "
      "included (%zu)", rd.got);
  ok (vdk__io_open ("sink://1/out.vmdk", 0) == NULL,
      "the spec is gone after finish");
  close (p[0]);
  free (rd.out);
  free (chunk);
}

static void
test_reader_gone (void)
{
  int p[2];
  struct vdk__sink *s;
  struct vdk_io *io;

  if (pipe (p) == -1)
    return;
  close (p[0]);
  s = vdk__sink_new (p[1], "gone.raw");
  io = vdk__io_open (vdk__sink_spec (s), 0);
  ok (io && vdk__io_pwrite (io, "data", 4, 0) == 0,
      "a small write stays in the window");
  vdk__io_close (io);
  int r = vdk__sink_finish (s, true);
  ok (r == -1 && vdk_last_errno () == EPIPE,
      "finish reports the reader gone (EPIPE): %s", vdk_last_error ());
  close (p[1]);
}

static void
test_clone_types (void)
{
  struct vdk_create_params cp = VDK_CREATE_PARAMS_INIT;
  struct vdk_clone_params p = VDK_CLONE_PARAMS_INIT;
  vdk_disk *src;
  int fd = open ("/dev/null", O_WRONLY), r;
  char path[300];

  snprintf (path, sizeof path, "%s/src.raw", dir);
  cp.type = VDK_TYPE_RAW;
  cp.capacity = MiB;
  ok (vdk_create (path, &cp) == 0, "a source");
  src = vdk_open (path, VDK_OPEN_READ_ONLY);
  p.out_fd = fd;
  p.type = VDK_TYPE_MONOLITHIC_SPARSE;
  r = src ? vdk_clone (src, "x.vmdk", &p) : 0;
  ok (r == -1 && vdk_last_error_code () == VDK_E_INVALID_ARG,
      "monolithicSparse to a descriptor is refused: %s", vdk_last_error ());
  p.type = VDK_TYPE_STREAM_OPTIMIZED;
  ok (src && vdk_clone (src, "x.vmdk", &p) == 0,
      "streamOptimized to a descriptor works");
  vdk_close (src);
  close (fd);
}

int
main (void)
{
  signal (SIGPIPE, SIG_IGN);
  if (tmpdir_make ("vdk-sink") == -1) {
    printf ("Bail out! no temporary folder\n");
    return 1;
  }
  vdk_init (NULL, NULL, NULL);
  test_order ();
  test_reader_gone ();
  test_clone_types ();
  tmpdir_remove ();
  return tap_done ();
}
