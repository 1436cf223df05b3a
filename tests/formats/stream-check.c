/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stream-check FILE...: the strict sequential stream reader
 * (vdk__stream_walk) as a command, for the shell tests.  Walks each
 * file's markers from overHead to EOS as a streaming consumer would and
 * prints "FILE: ok, N grains" or "FILE: <why not>".  Exit 0 if every
 * file is a valid true stream, 1 otherwise. */
#include <stdio.h>

#include "ops/ops.h"

int
main (int argc, char **argv)
{
  int bad = 0;

  if (argc < 2) {
    fprintf (stderr, "usage: stream-check FILE...\n");
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    struct vdk_io *io = vdk__io_open (argv[i], VDK_IO_READONLY);
    uint64_t grains = 0;
    char err[512];
    if (!io) {
      printf ("%s: %s\n", argv[i], vdk_last_error ());
      bad = 1;
      continue;
    }
    if (vdk__stream_walk (io, &grains, err, sizeof err) == 0)
      printf ("%s: ok, %" PRIu64 " grains\n", argv[i], grains);
    else {
      printf ("%s: %s\n", argv[i], err);
      bad = 1;
    }
    vdk__io_close (io);
  }
  return bad;
}
