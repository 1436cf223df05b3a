/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: a hosted sparse extent (header, grain directory, grain
 * tables, embedded descriptor) opened from memory, then read through.
 * Every read must succeed or fail cleanly; nothing may crash, hang or
 * touch memory it should not. */
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
    .ops = &vdk__sparse_ops, .link = &link, .kind = VDK_EXT_SPARSE,
    .path = "fuzz.vmdk", .readonly = true,
  };
  struct vdk_io *io = vdk__io_open_mem ("fuzz.vmdk", data, size);
  char *text = NULL;
  uint8_t hb[512];
  struct sparse_header h;
  char err[256];

  if (!io)
    return 0;
  io->readonly = true;
  e.io = io;
  if (size >= 512) {
    memcpy (hb, data, 512);
    if (vdk__sparse_header_decode (hb, size, &h, err, sizeof err) == 0)
      e.length = MIN (h.capacity, (uint64_t) 1 << 40) * SECTOR;
  }
  if (vdk__sparse_read_desc (io, &text) == 0)
    free (text);
  if (e.length && vdk__sparse_ops.open (&e) == 0)
    fuzz_read_through (&e, 65536, false, 4096);
  vdk__sparse_ops.close (&e);
  vdk__io_close (io);
  return 0;
}
