/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* FLAT / VMFS extents (plain bytes at an offset in a file or device) and
 * ZERO extents (no file; read as zeroes).
 *
 * A flat extent maps 1:1: extent byte x lives at file_offset + x.  Its
 * allocation comes from the host: SEEK_DATA/SEEK_HOLE tell data from
 * holes, so converting a sparse flat file skips what was never written.
 * A hole in a flat file reads as zero and is reported as ZERO (never as
 * HOLE: a flat link has no parent to fall through to).  The one
 * exception is a raw image on a store that knows allocation itself (an
 * NBD export, whose server reports holes): its HOLE is passed on, which
 * is safe because a raw link never has a parent. */
#include <errno.h>
#include <stdio.h>

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
  uint64_t foff = e->file_offset + off;

  if (vdk__io_block_status (e->io, foff, len, pnum, state) == -1)
    return -1;
  /* Only a raw image's store may say HOLE (an NBD export the server
   * knows unallocated): a raw link has no parent, so it reads as zero
   * like ZERO, and `vdk map` shows what the server said.  An extent
   * named by a descriptor is a part of its link, never see-through. */
  if (*state == VDK_BLOCK_HOLE && !e->whole_file)
    *state = VDK_BLOCK_ZERO;
  *host = *state == VDK_BLOCK_DATA ? foff : UINT64_MAX;
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

static int
flat_close (struct vdk_extent *e)
{
  return 0;
}

static int
flat_create (struct vdk_io *io, const struct vdk_ext_params *p)
{
  return vdk__io_truncate (io, p->sectors * SECTOR);
}

/* A file shorter than its extent is extended (the new part reads as
 * zero).  Raw device mappings are left alone: the device's size is not
 * ours to change. */
static int
flat_grow (struct vdk_extent *e, uint64_t sectors)
{
  uint64_t size, need;
  if (e->kind == VDK_EXT_VMFSRDM || e->kind == VDK_EXT_VMFSRAW)
    return 0;
  if (!e->io)
    return vdk__ext_err (e, EACCES, "extent is not accessible");
  if (sectors > UINT64_MAX / SECTOR
      || ADD_OVERFLOW (e->file_offset, sectors * SECTOR, &need))
    return vdk__ext_err (e, EINVAL, "extent offset overflows");
  if (vdk__io_size (e->io, &size) == -1)
    return -1;
  if (size < need && (vdk__io_truncate (e->io, need) == -1
                      || vdk__io_flush (e->io) == -1))
    return -1;
  return 0;
}

/* The one thing to check in plain bytes: the file holds the extent. */
static int
flat_check (struct vdk_extent *e, bool repair,
            const struct vdk_check_sink *sink)
{
  uint64_t size, need;
  char msg[256];
  if (vdk__io_size (e->io, &size) == -1)
    return -1;
  if (ADD_OVERFLOW (e->file_offset, e->length, &need) || size >= need
      || e->whole_file)
    return 0;
  snprintf (msg, sizeof msg, "extent size differs: the file is %" PRIu64
            " bytes, the descriptor needs %" PRIu64, size, need);
  if (e->kind == VDK_EXT_VMFSRDM || e->kind == VDK_EXT_VMFSRAW) {
    sink->problem (sink->ctx, 0, 0, msg);   /* a device: not ours to grow */
    return 0;
  }
  sink->problem (sink->ctx, 1, repair, msg);
  if (!repair)
    return 0;
  if (vdk__io_truncate (e->io, need) == -1 || vdk__io_flush (e->io) == -1)
    return -1;
  snprintf (msg, sizeof msg, "extended the file to %" PRIu64 " bytes (the "
            "missing part read as zeroes and still does)", need);
  sink->change (sink->ctx, msg);
  return 0;
}

const struct vdk_extent_ops vdk__flat_ops = {
  .name = "flat",
  .open = flat_open,
  .map = flat_map,
  .pwrite = flat_pwrite,
  .flush = flat_flush,
  .close = flat_close,
  .trim = flat_trim,
  .kinds = 1u << VDK_EXT_FLAT | 1u << VDK_EXT_VMFS | 1u << VDK_EXT_VMFSRDM
    | 1u << VDK_EXT_VMFSRAW,
  .caps = VDK_FMT_PREALLOCATED | VDK_FMT_AT_OFFSET,
  .create = flat_create,
  .grow = flat_grow,
  .check = flat_check,
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

/* The descriptor says it all. */
static int
zero_grow (struct vdk_extent *e, uint64_t sectors)
{
  return 0;
}

const struct vdk_extent_ops vdk__zero_ops = {
  .name = "zero",
  .open = zero_open,
  .map = zero_map,
  .close = flat_close,
  .kinds = 1u << VDK_EXT_ZERO,
  .caps = VDK_FMT_PREALLOCATED | VDK_FMT_NO_FILE,
  .grow = zero_grow,
};
