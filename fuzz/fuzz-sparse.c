/* Fuzz target: a hosted sparse extent (header, grain directory, grain
 * tables, embedded descriptor) opened from memory, then read through.
 * Every read must succeed or fail cleanly; nothing may crash, hang or
 * touch memory it should not. */
#include <stdio.h>
#include <stdlib.h>

#include "ops/ops.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
read_through (struct vdk_extent *e)
{
  uint8_t buf[65536];
  uint64_t off = 0;
  int reads = 0;
  while (off < e->length && reads++ < 4096) {
    uint64_t pnum, host;
    int st;
    uint64_t n = MIN (e->length - off, sizeof buf);
    if (vdk__ext_map (e, off, n, &pnum, &st, &host) == -1)
      return;
    if (st == VDK_BLOCK_DATA && host != UINT64_MAX
        && vdk__io_pread (e->io, buf, MIN (pnum, sizeof buf), host) == -1)
      return;
    off += pnum;
  }
}

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
    read_through (&e);
  vdk__sparse_ops.close (&e);
  vdk__io_close (io);
  return 0;
}
