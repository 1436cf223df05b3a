/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: a seSparse extent (constant header, volatile header,
 * u64 grain directory and 4096-entry grain tables) opened from memory,
 * mapped through and its data read; then a write is attempted, which
 * the read-only format must refuse.  The extent's size comes from the
 * header's capacity, capped at 2^40 bytes so a run stays short: map
 * skips unallocated directory spans, so even that walk is cheap.
 * Nothing may crash, hang or touch memory it should not. */
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
    .ops = &vdk__sesparse_ops, .link = &link, .kind = VDK_EXT_SESPARSE,
    .path = "fuzz-sesparse.vmdk", .readonly = true,
  };
  struct vdk_io *io = vdk__io_open_mem ("fuzz-sesparse.vmdk", data, size);
  static const uint8_t pattern[512] = { 1, 2, 3 };

  if (!io)
    return 0;
  io->readonly = true;
  e.io = io;
  if (size >= 24)               /* capacity in sectors (u64 field 2) */
    e.length = MIN (le64_get (data + 16), (uint64_t) 1 << 31) * SECTOR;
  if (e.length && vdk__sesparse_ops.open (&e) == 0) {
    fuzz_read_through (&e, 0, false, 4096);
    if (vdk__sesparse_ops.begin_write (&e) == 0)
      vdk__ext_pwrite (&e, pattern, MIN (sizeof pattern, e.length), 0, NULL,
                       NULL);
  }
  vdk__sesparse_ops.close (&e);
  vdk__io_close (io);
  return 0;
}
