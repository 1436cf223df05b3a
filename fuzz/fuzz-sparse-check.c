/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the check/repair walker (format/sparse-check.c) on a
 * hosted sparse extent held in memory: first a read-only check, then a
 * repair of a writable copy and a second check of the repaired bytes.
 * Nothing may crash, hang, allocate without bound or touch memory it
 * should not; repair must not fail on its own writes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ops/ops.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
on_problem (void *ctx, int repairable, int repaired, const char *text)
{
  (*(int *) ctx)++;
}

static void
on_line (void *ctx, const char *text)
{
}

/* The store cannot grow past 32 MiB: repair extends a file to complete
 * a grain cut short by its end, and a hostile grain size (up to 1 GiB)
 * made the in-memory store allocate and clear all of it (a 9 KiB input
 * took 2.7 s and 550 MB).  On a real file that growth is a sparse
 * truncate; here it fails as a full disk would, which fuzzes that
 * error path too. */
static int
full_past_32m (struct vdk_io *io, const char *path, int op, uint64_t off,
               size_t n)
{
  (void) io, (void) path;
  return (op == 'z' || op == 'w') && off + n > (32u << 20) ? ENOSPC : 0;
}

static uint64_t
desc_sectors (const uint8_t *data, size_t size)
{
  struct sparse_header h;
  char err[256];
  if (size < 512
      || vdk__sparse_header_decode (data, size, &h, err, sizeof err) == -1)
    return 0;
  return h.capacity;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  int problems = 0;
  struct vdk_check_sink sink = { &problems, on_problem, on_line, on_line };
  struct vdk_io *io;
  uint64_t ds = desc_sectors (data, size);

  if (size > (16u << 20))
    return 0;                           /* the check reads whole tables */
  vdk__io_fault_hook = full_past_32m;
  if ((io = vdk__io_open_mem ("fuzz.vmdk", data, size))) {
    io->readonly = true;
    vdk__sparse_check (io, ds, false, &sink);
    vdk__io_close (io);
  }
  if ((io = vdk__io_open_mem ("fuzz.vmdk", data, size))) {
    if (vdk__sparse_check (io, ds, true, &sink) == 0)
      vdk__sparse_check (io, ds, false, &sink);
    vdk__io_close (io);
  }
  return 0;
}
