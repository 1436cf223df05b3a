/* FLAT / VMFS extents (plain bytes at an offset in a file or device) and
 * ZERO extents (no file; read as zeroes).
 *
 * A flat extent maps 1:1: extent byte x lives at file_offset + x.  Its
 * allocation comes from the host: SEEK_DATA/SEEK_HOLE tell data from
 * holes, so converting a sparse flat file skips what was never written.
 * A hole in a flat file reads as zero and is reported as ZERO (never as
 * HOLE: a flat link has no parent to fall through to). */
#include <errno.h>

#include "format/format.h"

static int
flat_open (struct vdk_extent *e)
{
  uint64_t size, need;
  if (vdk__io_size (e->io, &size) == -1)
    return -1;
  if (ADD_OVERFLOW (e->file_offset, e->length, &need))
    return vdk__err (EFSCORRUPTED, "%s: extent offset overflows", e->path);
  /* A short file means a lost or truncated extent: refuse rather than
   * invent zeroes (a raw image's extent is the file itself). */
  if (size < need && !e->whole_file)
    return vdk__err (EFSCORRUPTED, "%s: file is %" PRIu64 " bytes, shorter "
                     "than "
                     "its extent in the descriptor (%" PRIu64 " bytes)",
                     e->path, size, need);
  return 0;
}

static int
flat_map (struct vdk_extent *e, uint64_t off, uint64_t len, uint64_t *pnum,
          int *state, uint64_t *host)
{
  uint64_t foff = e->file_offset + off, data, hole;

  if (vdk__io_next_data (e->io, foff, &data, &hole) == -1)
    return -1;
  if (data > foff) {                 /* a hole (or past EOF) */
    *pnum = MIN (len, data - foff);
    *state = VDK_BLOCK_ZERO;
    *host = UINT64_MAX;
    return 0;
  }
  *pnum = MIN (len, hole > foff ? hole - foff : len);
  *state = VDK_BLOCK_DATA;
  *host = foff;
  return 0;
}

static int
flat_pwrite (struct vdk_extent *e, const void *buf, uint64_t len,
             uint64_t off, vdk_fill_fn fill, void *ctx)
{
  return vdk__io_pwrite (e->io, buf, len, e->file_offset + off);
}

/* Punch (or, with KEEP, zero-range) the host bytes.  Where the host
 * file system cannot, a trim does nothing and a zero writes zeroes. */
static int
flat_trim (struct vdk_extent *e, uint64_t off, uint64_t len, unsigned how,
           const struct vdk_below *below)
{
  if (how & VDK__TRIM_CHECK)
    return 0;                     /* decided when it is tried */
  if (vdk__io_punch (e->io, e->file_offset + off, len,
                     (how & VDK__TRIM_KEEP) != 0) == 0)
    return 0;
  if (vdk_last_errno () != ENOTSUP || (how & VDK__TRIM_NOWRITE))
    return -1;
  if (!(how & VDK__TRIM_ZERO))
    return 0;
  return vdk__ext_zero (e, off, len, below ? below->fill : NULL,
                        below ? below->ctx : NULL);
}

static int
flat_flush (struct vdk_extent *e)
{
  return vdk__io_flush (e->io);
}

static void
flat_close (struct vdk_extent *e)
{
}

const struct vdk_extent_ops vdk__flat_ops = {
  .name = "flat",
  .open = flat_open,
  .map = flat_map,
  .pwrite = flat_pwrite,
  .flush = flat_flush,
  .close = flat_close,
  .trim = flat_trim,
};

static int
zero_open (struct vdk_extent *e)
{
  return 0;
}

static int
zero_map (struct vdk_extent *e, uint64_t off, uint64_t len, uint64_t *pnum,
          int *state, uint64_t *host)
{
  *pnum = len;
  *state = VDK_BLOCK_ZERO;
  *host = UINT64_MAX;
  return 0;
}

const struct vdk_extent_ops vdk__zero_ops = {
  .name = "zero",
  .open = zero_open,
  .map = zero_map,
  .close = flat_close,
};
