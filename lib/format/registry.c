/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The registry of formats: one entry per extent format, each a table
 * of its own (struct vdk_extent_ops, format/format.h).  Link opening,
 * create, grow, check and the maintenance operations look formats up
 * here and ask their tables; nothing outside lib/format compares
 * format kinds or table pointers.
 *
 * Adding a format: write its file (open, map, ... and the registry's
 * part: kinds, caps, probe, create, ...), add one line to `vdk__formats`
 * below and, if disks are made of it, one row to the type table in
 * format/types.c.
 *
 * Order matters only where two formats serve one descriptor kind: the
 * first whose probe accepts the file wins, and without a match the
 * first serving the kind is taken (its open says what is wrong). */
#include <errno.h>
#include <strings.h>

#include "format/format.h"

const struct vdk_extent_ops *const vdk__formats[] = {
  &vdk__sparse_ops,
  &vdk__stream_ops,
  &vdk__cowd_ops,
  &vdk__sesparse_ops,
  &vdk__flat_ops,
  &vdk__zero_ops,
  NULL,
};

unsigned
vdk__fmt_caps (const struct vdk_extent_ops *f)
{
  unsigned c = f->caps;
  if (f->pwrite && !(c & VDK_FMT_READ_ONLY))
    c |= VDK_FMT_WRITABLE;
  if (f->zero)
    c |= VDK_FMT_CAN_ZERO;
  if (!(c & VDK_FMT_WRITABLE))
    c &= ~(VDK_FMT_CAN_ZERO | VDK_FMT_CAN_TRIM | VDK_FMT_ORDERED_WRITES);
  return c;
}

const struct vdk_extent_ops *
vdk__format_by_name (const char *name)
{
  for (size_t i = 0; vdk__formats[i]; i++)
    if (strcasecmp (vdk__formats[i]->name, name) == 0)
      return vdk__formats[i];
  return NULL;
}

const struct vdk_extent_ops *
vdk__format_for_extent (int kind, struct vdk_io *io)
{
  const struct vdk_extent_ops *first = NULL;
  uint8_t buf[4096];
  uint64_t size = 0;
  bool have = false;

  if (kind < 0 || kind >= 32)
    return NULL;
  for (size_t i = 0; vdk__formats[i]; i++) {
    const struct vdk_extent_ops *f = vdk__formats[i];
    if (!(f->kinds & (1u << kind)))
      continue;
    if (!first)
      first = f;
    if (!f->probe || !io)
      continue;
    if (!have) {              /* read once, only if a probe needs it */
      if (vdk__io_size (io, &size) == -1
          || vdk__io_pread (io, buf, sizeof buf, 0) == -1)
        return first;         /* the format's open reports the error */
      have = true;
    }
    if (f->probe (buf, (size_t) MIN (size, sizeof buf), size))
      return f;
  }
  return first;
}

const struct vdk_extent_ops *
vdk__format_raw (void)
{
  return &vdk__flat_ops;
}

bool
vdk__fmt_serves (const struct vdk_extent_ops *f, int kind)
{
  return kind >= 0 && kind < 32 && (f->kinds & (1u << kind));
}

int
vdk__fmt_kind (const struct vdk_extent_ops *f)
{
  for (int k = 0; k < VDK_EXT_KIND_COUNT_; k++)
    if (f->kinds & (1u << k))
      return k;
  return -1;
}

int
vdk__fmt_create (const struct vdk_extent_ops *f, struct vdk_io *io,
                 const struct vdk_ext_params *p)
{
  if (!f->create)
    return vdk__err (ENOTSUP, "%s: vdk cannot create %s extents", io->path,
                     f->name);
  return f->create (io, p);
}

int
vdk__fmt_desc_read (const struct vdk_extent_ops *f, struct vdk_io *io,
                    char **text)
{
  *text = NULL;
  return f->desc_read ? f->desc_read (io, text) : 0;
}

int
vdk__fmt_describe (const struct vdk_extent_ops *f, struct vdk_io *io,
                   const char *name, struct vdk_desc **out)
{
  *out = NULL;
  if (!f->describe)
    return vdk__err (EINVAL, "%s: a %s file without descriptor", io->path,
                     f->name);
  return f->describe (io, name, out);
}

uint64_t
vdk__fmt_max_sectors (const struct vdk_extent_ops *f)
{
  return f->max_sectors;
}

uint64_t
vdk__fmt_copy_bytes (const struct vdk_extent_ops *f, uint64_t grain_bytes,
                     uint64_t grains, uint64_t regions)
{
  return f->copy_bytes ? f->copy_bytes (grain_bytes, grains, regions) : 0;
}
