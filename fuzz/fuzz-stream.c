/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: a streamOptimized extent (header, footer, markers, grain
 * directory and tables, compressed grains) opened from memory and read
 * through, then walked by the strict sequential reader.  Every call
 * must succeed or fail cleanly; nothing may crash, hang or touch memory
 * it should not. */
#include <stdio.h>
#include <stdlib.h>

#include "ops/ops.h"
#include "fuzz-walk.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct vdk_link link = { .path = "fuzz.vmdk", .readonly = true };
  struct vdk_extent e = {
    .ops = &vdk__stream_ops, .link = &link, .kind = VDK_EXT_SPARSE,
    .path = "fuzz.vmdk", .readonly = true,
  };
  struct vdk_io *io = vdk__io_open_mem ("fuzz.vmdk", data, size);
  uint64_t grains;
  char err[512];

  if (!io)
    return 0;
  io->readonly = true;
  e.io = io;
  if (size >= 20)     /* capacity in sectors; cap the walk at 1 TiB */
    e.length = MIN (le64_get (data + 12), (uint64_t) 1 << 31) * SECTOR;
  if (e.length && vdk__stream_probe (io) && vdk__stream_ops.open (&e) == 0)
    fuzz_read_through (&e, 1u << 17, true, 2048);
  vdk__stream_ops.close (&e);
  vdk__stream_walk (io, &grains, err, sizeof err);
  vdk__io_close (io);
  return 0;
}
