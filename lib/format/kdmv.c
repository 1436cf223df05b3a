/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The registry's part of the two formats stored in KDMV files, hosted
 * sparse (format/sparse.c) and streamOptimized (format/stream*.c):
 * probing, creation parameters, the structure walker behind check and
 * the descriptor of a file that embeds none.
 *
 * Facts (docs/vmdk-format.md §2.1, §3): both start with the 512-byte KDMV
 * header; a stream is told apart by the compressed or markers flag (a
 * true stream, or QEMU's layout of one).  The grain size and the
 * zeroed-grain flag of an existing extent are in its header. */
#include <errno.h>
#include <stdio.h>

#include "format/format.h"

static bool
kdmv_flags (const uint8_t *buf, size_t len, uint32_t *flags)
{
  if (len < 16 || le32_get (buf) != KDMV_MAGIC)
    return false;
  *flags = le32_get (buf + 8);
  return true;
}

bool
vdk__kdmv_probe_sparse (const uint8_t *buf, size_t len, uint64_t size)
{
  uint32_t f;
  (void) size;
  return kdmv_flags (buf, len, &f)
    && !(f & (SPARSE_FLAG_COMPRESSED | SPARSE_FLAG_MARKERS));
}

bool
vdk__kdmv_probe_stream (const uint8_t *buf, size_t len, uint64_t size)
{
  uint32_t f;
  (void) size;
  return kdmv_flags (buf, len, &f)
    && (f & (SPARSE_FLAG_COMPRESSED | SPARSE_FLAG_MARKERS));
}

bool
vdk__stream_probe (struct vdk_io *io)
{
  uint8_t hb[16];
  if (vdk__io_pread (io, hb, sizeof hb, 0) == -1)
    return false;
  return vdk__kdmv_probe_stream (hb, sizeof hb, 0);
}

int
vdk__kdmv_params (struct vdk_extent *e, struct vdk_ext_params *p)
{
  struct sparse_header h;
  if (!e->io)
    return vdk__ext_err (e, EACCES, "extent is not accessible");
  if (vdk__sparse_read_header (e->io, &h) == -1)
    return -1;
  p->grain = (uint32_t) h.grain_size;
  p->zeroed_grain = (h.flags & SPARSE_FLAG_ZERO_GRAIN) != 0;
  return 0;
}

int
vdk__kdmv_unclean (struct vdk_extent *e, bool *unclean)
{
  struct sparse_header h;
  if (vdk__sparse_read_header (e->io, &h) == -1)
    return -1;
  *unclean = h.unclean != 0;
  return 0;
}

int
vdk__kdmv_check (struct vdk_extent *e, bool repair,
                 const struct vdk_check_sink *sink)
{
  return vdk__sparse_check (e->io, e->length / SECTOR, repair, sink);
}

/* A KDMV file without an embedded descriptor is a monolithicSparse
 * disk of one extent: the file itself. */
int
vdk__kdmv_describe (struct vdk_io *io, const char *name,
                    struct vdk_desc **out)
{
  struct sparse_header h;
  struct vdk_desc *d;

  *out = NULL;
  if (vdk__sparse_read_header (io, &h) == -1)
    return -1;
  if (!(d = vdk__desc_new ())
      || vdk__desc_set (d, "version", "1", false) == -1
      || vdk__desc_set (d, "createType", "monolithicSparse", true) == -1
      || vdk__desc_add_extent (d, VDK_ACCESS_RW, h.capacity, VDK_EXT_SPARSE,
                               name, 0, false) == -1) {
    vdk__desc_free (d);
    return vdk__err (ENOMEM, "out of memory");
  }
  *out = d;
  return 0;
}
