/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-walk.h - the one map-and-read walk of the extent fuzz targets.
 *
 * fuzz_read_through (e, step, via_format, calls): maps the extent from
 * its start, at most `step` bytes per call (0: to the end, which lets a
 * format answer a long unallocated span at once), at most `calls`
 * calls, and reads each data run: through the format (via_format: the
 * first 4 KiB, and 100 bytes past it, so partial grains are decoded
 * too) or straight from the host offset map returned (up to 4 KiB).
 * Every call must succeed or fail cleanly; the walk stops at the first
 * failure.  Header-only: each target is one translation unit. */
#ifndef VDK_FUZZ_WALK_H
#define VDK_FUZZ_WALK_H

#include "ops/ops.h"

static void
fuzz_read_through (struct vdk_extent *e, uint64_t step, bool via_format,
                   int calls)
{
  static uint8_t buf[4096];
  uint64_t off = 0;

  while (off < e->length && calls-- > 0) {
    uint64_t pnum, host, n = e->length - off;
    int st;
    if (step && n > step)
      n = step;
    if (vdk__ext_map (e, off, n, &pnum, &st, &host) == -1)
      return;
    if (st == VDK_BLOCK_DATA && via_format
        && (vdk__ext_pread (e, buf, MIN (pnum, sizeof buf), off) == -1
            || (pnum > sizeof buf + 100
                && vdk__ext_pread (e, buf, 100, off + sizeof buf) == -1)))
      return;
    if (st == VDK_BLOCK_DATA && !via_format && host != UINT64_MAX
        && vdk__io_pread (e->io, buf, MIN (pnum, sizeof buf), host) == -1)
      return;
    off += pnum;
  }
}

#endif /* VDK_FUZZ_WALK_H */
