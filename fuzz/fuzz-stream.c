/* Fuzz target: a streamOptimized extent (header, footer, markers, grain
 * directory and tables, compressed grains) opened from memory and read
 * through, then walked by the strict sequential reader.  Every call
 * must succeed or fail cleanly; nothing may crash, hang or touch memory
 * it should not. */
#include <stdio.h>
#include <stdlib.h>

#include "ops/ops.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
read_through (struct vdk_extent *e)
{
  static uint8_t buf[1 << 17];
  uint64_t off = 0;
  int calls = 0;
  while (off < e->length && calls++ < 2048) {
    uint64_t pnum, host;
    int st;
    uint64_t n = MIN (e->length - off, sizeof buf);
    if (vdk__ext_map (e, off, n, &pnum, &st, &host) == -1)
      return;
    if (st == VDK_BLOCK_DATA
        && vdk__ext_pread (e, buf, MIN (pnum, 4096), off) == -1)
      return;
    if (st == VDK_BLOCK_DATA && pnum > 4096 + 100
        && vdk__ext_pread (e, buf, 100, off + 4096) == -1)
      return;                          /* a partial grain too */
    off += pnum;
  }
}

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
    read_through (&e);
  vdk__stream_ops.close (&e);
  vdk__stream_walk (io, &grains, err, sizeof err);
  vdk__io_close (io);
  return 0;
}
