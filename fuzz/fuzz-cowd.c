/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: a vmfsSparse (COWD) extent - 2048-byte header, grain
 * directory, 4096-entry grain tables - opened from memory and read
 * through, then written a little (into a private copy), flushed and
 * closed (for grains up to 64 KiB).  Nothing may crash, hang or touch
 * memory it should not. */
#include <stdio.h>
#include <stdlib.h>

#include "ops/ops.h"
#include "fuzz-walk.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Writes past 16 MiB fail as a full disk would: a hostile free-sector
 * field puts new grains gigabytes out, and the in-memory store would
 * allocate and clear all of that on every run.  The failure paths are
 * worth fuzzing too. */
static int
full_past_16m (struct vdk_io *io, const char *path, int op, uint64_t off,
               size_t n)
{
  (void) io, (void) path;
  return op == 'w' && off + n > (16u << 20) ? ENOSPC : 0;
}

static void
run (const uint8_t *data, size_t size, bool write)
{
  struct vdk_link link = { .path = "fuzz.vmdk", .readonly = !write };
  struct vdk_extent e = {
    .ops = &vdk__cowd_ops, .link = &link, .kind = VDK_EXT_VMFSSPARSE,
    .path = "fuzz-delta.vmdk", .readonly = !write,
  };
  struct vdk_io *io = vdk__io_open_mem ("fuzz-delta.vmdk", data, size);
  static const uint8_t pattern[1536] = { 1, 2, 3 };

  if (!io)
    return;
  io->readonly = !write;
  e.io = io;
  if (size >= 16)     /* capacity in sectors (u32) */
    e.length = (uint64_t) le32_get (data + 12) * SECTOR;
  if (e.length && vdk__cowd_ops.open (&e) == 0) {
    if (!write)
      fuzz_read_through (&e, 1u << 20, false, 2048);
    else if (vdk__cowd_ops.begin_write (&e) == 0) {
      vdk__ext_pwrite (&e, pattern, MIN (sizeof pattern, e.length), 0, NULL,
                       NULL);
      if (e.length > 4096 + 100)
        vdk__ext_pwrite (&e, pattern, 100, e.length - 4096, NULL, NULL);
      vdk__cowd_ops.flush (&e);
    }
  }
  vdk__cowd_ops.close (&e);
  vdk__io_close (io);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  vdk__io_fault_hook = full_past_16m;
  run (data, size, false);
  /* The write pass appends grains to an in-memory copy: a grain of up to
   * 1 GiB (the header's granularity, u32 at 16) made each run allocate
   * and clear that much, which held the target near 200 runs a second.
   * Writes with big grains take the same code paths as small ones. */
  if (size <= (1u << 20) && size >= 20 && le32_get (data + 16) <= 128)
    run (data, size, true);
  return 0;
}
