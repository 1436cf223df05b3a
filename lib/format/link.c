/* A link: one descriptor (separate, or embedded in a sparse extent) or
 * a raw file, and its extents in address order.  Also the checked
 * wrappers through which the core calls every extent's ops table.
 *
 * Detection (vmdk_format.md §1.1): "KDMV" at offset 0 is a hosted sparse
 * extent whose embedded descriptor names the file itself (we always use
 * the file actually opened, whatever name the descriptor gives);
 * "COWD" is an ESX redo-log extent; text whose first non-comment line
 * is `version=` (or that starts "# Disk DescriptorFile") is a
 * descriptor; anything else is a raw image - unless it is named .vmdk,
 * where guessing "raw" would hide a damaged file.
 *
 * Extent files are resolved through vdk__path_resolve, which confines
 * them to the descriptor's folder unless the caller allowed otherwise. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>

#include "vdk-internal.h"

/* An extent's error: "PATH: message", for every format. */
int
vdk__ext_err (struct vdk_extent *e, int errnum, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  return vdk__err (errnum, "%s: %s", e->path ? e->path : e->link->path, msg);
}

/* ---- checked wrappers ---- */

static int
ext_range (struct vdk_extent *e, const char *what, uint64_t off, uint64_t len)
{
  uint64_t end;
  if (len == 0 || ADD_OVERFLOW (off, len, &end) || end > e->length)
    return vdk__err (EINVAL, "%s: %s of %" PRIu64 " bytes at %" PRIu64
                     " is outside the extent (%" PRIu64 " bytes)",
                     e->path ? e->path : "ZERO extent", what, len, off,
                     e->length);
  return 0;
}

int
vdk__ext_map (struct vdk_extent *e, uint64_t off, uint64_t len,
              uint64_t *pnum, int *state, uint64_t *host)
{
  if (ext_range (e, "map", off, len) == -1)
    return -1;
  if (e->access == VDK_ACCESS_NOACCESS) {
    *pnum = len, *state = VDK_BLOCK_ZERO, *host = UINT64_MAX;
    return 0;
  }
  if (e->ops->map (e, off, len, pnum, state, host) == -1)
    return -1;
  if (*pnum == 0 || *pnum > len)
    return vdk__err (EIO, "%s: internal error: map returned %" PRIu64
                     " bytes for a request of %" PRIu64, e->path, *pnum, len);
  return 0;
}

int
vdk__ext_pread (struct vdk_extent *e, void *buf, uint64_t len, uint64_t off)
{
  if (ext_range (e, "read", off, len) == -1)
    return -1;
  if (e->access == VDK_ACCESS_NOACCESS)
    return vdk__err (EACCES, "%s: extent is NOACCESS", e->path);
  if (!e->ops->pread)
    return vdk__err (EIO, "%s: internal error: no pread", e->path);
  return e->ops->pread (e, buf, len, off);
}

static int
ext_writable (struct vdk_extent *e)
{
  if (e->access != VDK_ACCESS_RW)
    return vdk__err (e->access == VDK_ACCESS_RDONLY ? EROFS : EACCES,
                     "%s: extent is %s", e->path ? e->path : "ZERO",
                     vdk__access_name (e->access));
  if (e->readonly)
    return vdk__err (EROFS, "%s: disk is opened read-only",
                     e->path ? e->path : e->link->path);
  if (!e->ops->pwrite)
    return vdk__err (ENOTSUP, "%s: %s extents are read-only in vdk",
                     e->path ? e->path : e->link->path, e->ops->name);
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

/* ---- probing ---- */

static bool
looks_like_descriptor (const char *t, size_t n)
{
  const char *p = t, *end = t + n;
  if (n >= 21 && strncasecmp (t, "# Disk DescriptorFile", 21) == 0)
    return true;
  while (p < end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
      p++;
    if (p < end && *p == '#') {
      const char *nl = memchr (p, '\n', (size_t) (end - p));
      p = nl ? nl + 1 : end;
      continue;
    }
    if ((size_t) (end - p) < 7 || strncasecmp (p, "version", 7) != 0)
      return false;
    p += 7;
    while (p < end && (*p == ' ' || *p == '\t'))
      p++;
    return p < end && *p == '=';
  }
  return false;
}

int
vdk__probe (struct vdk_io *io, char *kind)
{
  char buf[4096];
  uint64_t size;

  if (vdk__io_size (io, &size) == -1)
    return -1;
  if (size == 0)
    return vdk__err (EINVAL, "%s: file is empty", io->path);
  if (vdk__io_pread (io, buf, sizeof buf, 0) == -1)
    return -1;
  if (size >= 4 && le32_get (buf) == KDMV_MAGIC)
    *kind = 'K';
  else if (size >= 4 && le32_get (buf) == COWD_MAGIC)
    *kind = 'C';
  else if (looks_like_descriptor (buf, (size_t) MIN (size, sizeof buf)))
    *kind = 'D';
  else
    *kind = 'R';
  return 0;
}

/* ---- types ---- */

static const char *const create_types[VDK_TYPE_COUNT_] = {
  "raw", "monolithicSparse", "monolithicFlat", "twoGbMaxExtentSparse",
  "twoGbMaxExtentFlat", "streamOptimized", "vmfs", "vmfsThin", "vmfsSparse",
  "seSparse", "vmfsRawDeviceMap", "vmfsPassthroughRawDeviceMap",
  "fullDevice", "partitionedDevice", "custom",
};

VDK_API const char *
vdk_type_name (int type)
{
  return type >= 0 && type < VDK_TYPE_COUNT_ ? create_types[type] : NULL;
}

int
vdk__type_from_create_type (const char *ct)
{
  static const struct { const char *name; int type; } aliases[] = {
    { "vmfsPreallocated", VDK_TYPE_VMFS },
    { "vmfsEagerZeroedThick", VDK_TYPE_VMFS },
    { "vmfsRaw", VDK_TYPE_VMFS_RDM }, { "vmfsRDM", VDK_TYPE_VMFS_RDM },
    { "vmfsRDMP", VDK_TYPE_VMFS_RDMP },
  };
  for (int i = 0; i < VDK_TYPE_COUNT_; i++)
    if (strcasecmp (ct, create_types[i]) == 0)
      return i;
  for (size_t i = 0; i < ARRAY_SIZE (aliases); i++)
    if (strcasecmp (ct, aliases[i].name) == 0)
      return aliases[i].type;
  return VDK_TYPE_CUSTOM;
}

VDK_API int
vdk_type_from_name (const char *name)
{
  /* vmware-vdiskmanager -t numbers */
  static const int numbers[] = {
    VDK_TYPE_MONOLITHIC_SPARSE, VDK_TYPE_SPLIT_SPARSE,
    VDK_TYPE_MONOLITHIC_FLAT, VDK_TYPE_SPLIT_FLAT, VDK_TYPE_VMFS,
    VDK_TYPE_STREAM_OPTIMIZED, VDK_TYPE_VMFS_THIN,
  };
  if (!name || !*name)
    return -1;
  if (name[1] == 0 && name[0] >= '0' && name[0] <= '6')
    return numbers[name[0] - '0'];
  for (int i = 0; i < VDK_TYPE_COUNT_; i++)
    if (strcasecmp (name, create_types[i]) == 0)
      return i;
  return -1;
}
