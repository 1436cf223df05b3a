/* The checked wrappers through which the core calls every extent's ops
 * table (vdk__ext_*), and the one error formatter for extents.  Bounds
 * are checked with overflow-safe arithmetic; NOACCESS, RDONLY and
 * read-only opens are enforced here, so no format repeats them. */
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
