/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The checked wrappers through which the core calls every extent's ops
 * table (vdk__ext_*), and the one error formatter for extents.  Bounds
 * are checked with overflow-safe arithmetic; NOACCESS, RDONLY and
 * read-only opens are enforced here, so no format repeats them.  The
 * defaults of optional members live here too: no code outside
 * lib/format calls through e->ops. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>

#include "format/format.h"

/* An extent's error: "PATH: message", for every format. */
int
vdk__ext_err (struct vdk_extent *e, int errnum, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  return vdk__err (errnum, "%s: %s", e->path ? e->path : e->owner_path, msg);
}

/* ---- checked wrappers ---- */

static int
ext_range (struct vdk_extent *e, const char *what, uint64_t off, uint64_t len)
{
  uint64_t end;
  if (len == 0 || ADD_OVERFLOW (off, len, &end) || end > e->length)
    return vdk__errc (VDK_E_OUT_OF_RANGE, 0, "%s: %s of %" PRIu64
                      " bytes at %" PRIu64 " is outside the extent (%" PRIu64
                      " bytes)",
                     e->path ? e->path : "ZERO extent", what, len, off,
                     e->length);
  return 0;
}

/* NOACCESS, one rule: its range is neither read, nor mapped (as zero
 * or anything else), nor written; every refusal names the extent's file
 * as the descriptor gives it (the file is never opened). */
static int
noaccess (struct vdk_extent *e, const char *what)
{
  return vdk__errc (VDK_E_ACCESS_DENIED, EACCES, "%s: extent \"%s\" is "
                    "NOACCESS: its data cannot be %s", e->owner_path,
                    e->name ? e->name : "", what);
}

int
vdk__ext_map (struct vdk_extent *e, uint64_t off, uint64_t len,
              uint64_t *pnum, int *state, uint64_t *host)
{
  if (ext_range (e, "map", off, len) == -1)
    return -1;
  if (e->access == VDK_ACCESS_NOACCESS)
    return noaccess (e, "read or mapped");
  if (e->ops->map (e, off, len, pnum, state, host) == -1)
    return -1;
  if (*pnum == 0 || *pnum > len)
    return vdk__errc (VDK_E_FAILED, EIO, "%s: internal error: map returned "
                      "%" PRIu64 " bytes for a request of %" PRIu64, e->path,
                      *pnum, len);
  return 0;
}

int
vdk__ext_pread (struct vdk_extent *e, void *buf, uint64_t len, uint64_t off)
{
  if (ext_range (e, "read", off, len) == -1)
    return -1;
  if (e->access == VDK_ACCESS_NOACCESS)
    return noaccess (e, "read or mapped");
  if (!e->ops->pread)
    return vdk__errc (VDK_E_FAILED, EIO, "%s: internal error: no pread",
                      e->path);
  return e->ops->pread (e, buf, len, off);
}

static int
ext_writable (struct vdk_extent *e)
{
  if (e->access == VDK_ACCESS_NOACCESS)
    return noaccess (e, "written");
  if (e->access != VDK_ACCESS_RW)
    return vdk__err (EROFS, "%s: extent \"%s\" is %s", e->owner_path,
                     e->name && *e->name ? e->name : "ZERO",
                     vdk__access_name (e->access));
  if (e->readonly)
    return vdk__err (EROFS, "%s: disk is opened read-only",
                     e->path ? e->path : e->owner_path);
  if (!e->ops->pwrite)
    return vdk__err (EROFS, "%s: %s extents are read-only in vdk",
                     e->path ? e->path : e->owner_path, e->ops->name);
  return 0;
}

int
vdk__ext_pwrite (struct vdk_extent *e, const void *buf, uint64_t len,
                 uint64_t off, vdk_fill_fn fill, void *ctx)
{
  if (ext_range (e, "write", off, len) == -1 || ext_writable (e) == -1)
    return -1;
  return e->ops->pwrite (e, buf, len, off, fill, ctx);
}

int
vdk__ext_zero (struct vdk_extent *e, uint64_t off, uint64_t len,
               vdk_fill_fn fill, void *ctx)
{
  static const uint8_t zero[65536];

  if (ext_range (e, "zero", off, len) == -1 || ext_writable (e) == -1)
    return -1;
  if (e->ops->zero)
    return e->ops->zero (e, off, len, fill, ctx);
  while (len > 0) {
    uint64_t n = MIN (len, sizeof zero);
    if (e->ops->pwrite (e, zero, n, off, fill, ctx) == -1)
      return -1;
    off += n, len -= n;
  }
  return 0;
}

/* Does [off, off+len) read as zero already (no write needed)? */
static int
reads_zero (struct vdk_extent *e, uint64_t off, uint64_t len,
            const struct vdk_below *below, bool *zero)
{
  *zero = true;
  while (len > 0 && *zero) {
    uint64_t pnum, host;
    bool data = false;
    int st;
    if (vdk__ext_map (e, off, len, &pnum, &st, &host) == -1)
      return -1;
    if (st == VDK_BLOCK_HOLE && below
        && below->data (below->ctx, e->start + off, pnum, &data) == -1)
      return -1;
    *zero = st == VDK_BLOCK_ZERO || (st == VDK_BLOCK_HOLE && !data);
    off += pnum, len -= pnum;
  }
  return 0;
}

bool
vdk__ext_can_trim (const struct vdk_extent *e)
{
  return e->ops->trim && e->access == VDK_ACCESS_RW;
}

int
vdk__ext_trim (struct vdk_extent *e, uint64_t off, uint64_t len,
               unsigned how, const struct vdk_below *below)
{
  bool zero;

  if (ext_range (e, "trim", off, len) == -1)
    return -1;
  if (vdk__ext_can_trim (e)) {
    if (!(how & VDK__TRIM_CHECK) && ext_writable (e) == -1)
      return -1;
    return e->ops->trim (e, off, len, how, below);
  }
  if (!(how & VDK__TRIM_ZERO))
    return 0;                     /* nothing this extent can give back */
  if (reads_zero (e, off, len, below, &zero) == -1)
    return -1;
  if (zero)
    return 0;
  if (how & VDK__TRIM_CHECK)
    return vdk__errc (VDK_E_UNSUPPORTED, ENOTSUP, "%s: %s extents cannot "
                      "zero this range without writing zeroes",
                      e->path ? e->path : e->owner_path, e->ops->name);
  return vdk__ext_zero (e, off, len, below ? below->fill : NULL,
                        below ? below->ctx : NULL);
}
int
vdk__ext_open (struct vdk_extent *e)
{
  return e->ops->open ? e->ops->open (e) : 0;
}

/* Safe on an extent whose open never ran, and twice. */
int
vdk__ext_close (struct vdk_extent *e)
{
  int r = e->ops && e->ops->close ? e->ops->close (e) : 0;
  e->priv = NULL;
  return r;
}

int
vdk__ext_flush (struct vdk_extent *e)
{
  if (e->ops->flush)
    return e->ops->flush (e);
  return e->io ? vdk__io_flush (e->io) : 0;
}

int
vdk__ext_begin_write (struct vdk_extent *e)
{
  if (!e->io || e->access != VDK_ACCESS_RW || !e->ops->begin_write)
    return 0;
  return e->ops->begin_write (e);
}

const char *
vdk__ext_format_name (const struct vdk_extent *e)
{
  return e->ops ? e->ops->name : "?";
}

bool
vdk__ext_can (const struct vdk_extent *e, unsigned caps)
{
  return e->ops && (vdk__fmt_caps (e->ops) & caps) == caps;
}

int
vdk__ext_grow (struct vdk_extent *e, uint64_t sectors)
{
  if (!e->ops->grow)
    return vdk__ext_err (e, ENOTSUP, "%s extents cannot grow in place",
                         e->ops->name);
  return e->ops->grow (e, sectors);
}

int
vdk__ext_params (struct vdk_extent *e, struct vdk_ext_params *p)
{
  *p = (struct vdk_ext_params) { .sectors = e->length / SECTOR };
  return e->ops->params ? e->ops->params (e, p) : 0;
}

int
vdk__ext_create_like (const struct vdk_extent *e, struct vdk_io *io,
                      const struct vdk_ext_params *p)
{
  return vdk__fmt_create (e->ops, io, p);
}

int
vdk__ext_desc_read (struct vdk_extent *e, char **text)
{
  *text = NULL;
  return e->io ? vdk__fmt_desc_read (e->ops, e->io, text) : 0;
}

int
vdk__ext_desc_write (struct vdk_extent *e, const char *text)
{
  if (!e->io || !e->ops->desc_write)
    return vdk__ext_err (e, ENOTSUP, "%s extents embed no descriptor",
                         e->ops->name);
  return e->ops->desc_write (e->io, text);
}

uint64_t
vdk__ext_lock_len (const struct vdk_extent *e)
{
  return e->kind == VDK_EXT_FLAT || e->kind == VDK_EXT_VMFS ? e->length : 0;
}

int
vdk__ext_set_level (struct vdk_extent *e, int level)
{
  if (level < 1 || level > 12)
    return vdk__ext_err (e, EINVAL, "compression level %d is not between "
                         "1 and 12", level);
  return e->ops->set_level ? e->ops->set_level (e, level) : 0;
}

int
vdk__ext_unclean (struct vdk_extent *e, bool *unclean)
{
  *unclean = false;
  if (!e->io || !e->ops->unclean)
    return 0;
  return e->ops->unclean (e, unclean);
}

/* The default check of a format without a structure walker (COWD,
 * seSparse): its own reader validates the extent (open checks the
 * header and directory against the file) and maps every byte of it
 * (which checks each table entry it meets).  Whatever either refuses is
 * a problem.  The reader is closed again: the link stays unformatted. */
static int
check_by_reader (struct vdk_extent *e, const struct vdk_check_sink *sink)
{
  uint64_t off = 0, pnum, host;
  int st, r = 0;
  char msg[768];

  if (!e->ops->open || !e->ops->map)
    return 0;
  if (e->ops->open (e) == -1)
    r = -1;
  while (r == 0 && off < e->length) {
    if (e->ops->map (e, off, MIN (e->length - off, (uint64_t) 1 << 30),
                     &pnum, &st, &host) == -1 || pnum == 0)
      r = -1;
    off += pnum;
  }
  if (r == -1) {
    snprintf (msg, sizeof msg, "the %s reader refuses the extent: %s",
              e->ops->name, vdk_last_error ());
    sink->problem (sink->ctx, 0, 0, msg);
  }
  vdk__ext_close (e);
  return 0;
}

int
vdk__ext_check (struct vdk_extent *e, bool repair,
                const struct vdk_check_sink *sink)
{
  if (!e->io)
    return 0;
  return e->ops->check ? e->ops->check (e, repair, sink)
    : check_by_reader (e, sink);
}

