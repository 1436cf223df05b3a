/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The public disk calls: open, close, I/O, flush, block status.
 *
 * Each names itself for error messages, checks its range against the
 * capacity with overflow-safe arithmetic, and hands over to the chain
 * (disk/chain.c).  Byte I/O may start and end anywhere: the formats
 * complete partial grains themselves, so no read-modify-write happens
 * here. */
#include <errno.h>
#include <stdio.h>

#include "disk/disk.h"

int
vdk__check_open_flags (unsigned flags)
{
  if (flags & ~VDK__OPEN_PUBLIC)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "unknown open flags 0x%x "
                      "(this library knows 0x%x)", flags & ~VDK__OPEN_PUBLIC,
                      VDK__OPEN_PUBLIC);
  if ((flags & VDK__OPEN_FORMATS) == VDK__OPEN_FORMATS)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "open flags ask for both "
                      "the raw and the VMDK format");
  if ((flags & VDK_OPEN_NO_LOCK) && !(flags & VDK_OPEN_READ_ONLY))
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "an open without locks "
                      "must be read-only");
  return 0;
}

/* A disk whose store has its own transport (rbd): name it, and let
 * asynchronous requests go to the store's aio path. */
static vdk_disk *
adopt_transport (vdk_disk *d)
{
  struct vdk_io *io = d && d->top->nextents == 1 ? d->top->extents[0].io
    : NULL;
  if (io && io->ops->transport) {
    d->transport = io->ops->transport (io);
    if (io->ops->aio)
      d->aio_submit = vdk__remote_aio_submit;
  }
  return d;
}

static vdk_disk *
open_checked (const char *path, unsigned flags)
{
  if (!path || !*path) {
    vdk__errc (VDK_E_INVALID_ARG, EINVAL, "no file name");
    return NULL;
  }
  if (vdk__check_open_flags (flags) == -1)
    return NULL;
  if (vdk__remote_name (path))
    return vdk__remote_open (path, NULL, flags);
  return adopt_transport (vdk__disk_open (path, flags));
}

/* Append ":key=value" to *spec, '\\' and ':' escaped; -1 on ENOMEM. */
static int
add_option (char **spec, const char *key, const char *value)
{
  size_t n = strlen (*spec), k = strlen (key), v = strlen (value);
  char *s = realloc (*spec, n + k + 2 * v + 3), *o;
  if (!s)
    return vdk__err (ENOMEM, "out of memory");
  o = s + n;
  *o++ = ':';
  memcpy (o, key, k);
  o += k;
  *o++ = '=';
  for (; *value; value++) {
    if (*value == ':' || *value == '\\')
      *o++ = '\\';
    *o++ = *value;
  }
  *o = '\0';
  *spec = s;
  return 0;
}

/* The Ceph fields of version 2 as options of an rbd: name (malloc'd
 * into *spec), or NULL in *spec when there are none. */
static int
ceph_spec (const char *path, const struct vdk_open_params *p, char **spec)
{
  char t[16];
  *spec = NULL;
  if (p->version < 2 || (!p->ceph_conf && !p->ceph_id && !p->ceph_keyring
                         && !p->connect_timeout))
    return 0;
  if (!path || strncasecmp (path, "rbd:", 4) != 0)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "%s: Ceph parameters "
                      "given for a disk that is not an rbd: name",
                      path ? path : "");
  snprintf (t, sizeof t, "%" PRIu32, p->connect_timeout);
  if (!(*spec = strdup (path))
      || (p->ceph_conf && add_option (spec, "conf", p->ceph_conf) == -1)
      || (p->ceph_id && add_option (spec, "id", p->ceph_id) == -1)
      || (p->ceph_keyring
          && add_option (spec, "keyring", p->ceph_keyring) == -1)
      || (p->connect_timeout && add_option (spec, "timeout", t) == -1)) {
    free (*spec);
    *spec = NULL;
    return vdk__err (ENOMEM, "out of memory");
  }
  return 0;
}

VDK_API vdk_disk *
vdk_open (const char *path, unsigned flags)
{
  vdk__set_call ("vdk_open");
  return open_checked (path, flags);
}

/* The format field as open flags; -1 for a value this library does not
 * know, or one that contradicts a format flag. */
static int
format_flags (const struct vdk_open_params *p, unsigned *flags)
{
  unsigned want;
  switch (p->format) {
  case VDK_FORMAT_AUTO: want = 0; break;
  case VDK_FORMAT_RAW: want = VDK_OPEN_FORMAT_RAW; break;
  case VDK_FORMAT_VMDK: want = VDK_OPEN_FORMAT_VMDK; break;
  default:
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "unknown format %d",
                      p->format);
  }
  if (want && (p->flags & VDK__OPEN_FORMATS)
      && (p->flags & VDK__OPEN_FORMATS) != want)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "the format (%d) and the "
                      "format open flag disagree", p->format);
  *flags = p->flags | want;
  return 0;
}

VDK_API vdk_disk *
vdk_open_ex (const char *path, const struct vdk_open_params *p)
{
  unsigned flags = 0;
  char *spec;

  vdk__set_call ("vdk_open_ex");
  if (!p) {
    vdk__errc (VDK_E_INVALID_ARG, EINVAL, "no open parameters");
    return NULL;
  }
  if (p->version < 1 || p->version > VDK_OPEN_PARAMS_VERSION) {
    vdk__errc (VDK_E_INVALID_ARG, EINVAL, "open parameters version %u "
               "(this library knows 1 to %d)", p->version,
               VDK_OPEN_PARAMS_VERSION);
    return NULL;
  }
  if (format_flags (p, &flags) == -1)
    return NULL;
  if (p->server || p->socket || p->transports) {
    if ((!path || !*path) && !p->ticket && !p->server && !p->socket) {
      vdk__errc (VDK_E_INVALID_ARG, EINVAL, "no file name");
      return NULL;
    }
    if (vdk__check_open_flags (flags) == -1)
      return NULL;
    return vdk__remote_open (path ? path : "", p, flags);
  }
  if (ceph_spec (path, p, &spec) == -1)
    return NULL;
  if (spec) {
    vdk_disk *d = open_checked (spec, flags);
    free (spec);
    return d;
  }
  return open_checked (path, flags);
}

VDK_API const char *
vdk_disk_path (vdk_disk *disk)
{
  return disk ? disk->top->path : NULL;
}

VDK_API unsigned
vdk_disk_flags (vdk_disk *disk)
{
  return disk ? disk->flags & VDK__OPEN_PUBLIC : 0;
}

VDK_API const char *
vdk_get_transport_mode (vdk_disk *disk)
{
  if (!disk)
    return NULL;
  return disk->transport ? disk->transport : "file";
}

VDK_API int
vdk_close (vdk_disk *disk)
{
  bool failed = false;
  vdk__set_call ("vdk_close");
  if (vdk__aio_in_callback (disk))
    return vdk__errc (VDK_E_INVALID_ARG, EDEADLK, "%s: called from a "
                      "completion callback of the same disk; the disk "
                      "stays open", disk->top->path);
  vdk__aio_shutdown (disk);     /* waits for requests in flight */
  vdk__disk_free (disk, &failed);
  return failed ? -1 : 0;
}

VDK_API uint64_t
vdk_capacity (vdk_disk *disk)
{
  return disk ? disk->top->capacity : 0;
}

static int
check_io (vdk_disk *disk, const void *buf, uint64_t count, uint64_t offset)
{
  uint64_t end;
  if (!disk || (!buf && count))
    return vdk__err (EINVAL, "no disk or buffer");
  if (ADD_OVERFLOW (offset, count, &end) || end > disk->top->capacity)
    return vdk__errc (VDK_E_OUT_OF_RANGE, EINVAL, "%s: range %" PRIu64
                      "+%" PRIu64 " is beyond "
                     "the end of the disk (%" PRIu64 " bytes)",
                     disk->top->path, offset, count, disk->top->capacity);
  return 0;
}

static int
check_write (vdk_disk *disk)
{
  if (disk->flags & VDK_OPEN_READ_ONLY)
    return vdk__err (EROFS, "%s: disk is opened read-only", disk->top->path);
  return 0;
}

VDK_API int
vdk_pread (vdk_disk *disk, void *buf, size_t count, uint64_t offset)
{
  vdk__set_call ("vdk_pread");
  if (check_io (disk, buf, count, offset) == -1)
    return -1;
  return count ? vdk__link_pread (disk->top, buf, count, offset) : 0;
}

VDK_API int
vdk_pwrite (vdk_disk *disk, const void *buf, size_t count, uint64_t offset)
{
  vdk__set_call ("vdk_pwrite");
  if (check_io (disk, buf, count, offset) == -1 || check_write (disk) == -1)
    return -1;
  return count ? vdk__link_pwrite (disk->top, buf, count, offset) : 0;
}

static int
sectors_to_bytes (uint64_t sector, uint64_t n, uint64_t *off, uint64_t *len)
{
  if (MUL_OVERFLOW (sector, (uint64_t) SECTOR, off)
      || MUL_OVERFLOW (n, (uint64_t) SECTOR, len) || *len > SIZE_MAX)
    return vdk__errc (VDK_E_OUT_OF_RANGE, EINVAL, "sector range %" PRIu64
                      "+%" PRIu64 " overflows", sector, n);
  return 0;
}

VDK_API int
vdk_read (vdk_disk *disk, uint64_t sector, uint64_t nsectors, void *buf)
{
  uint64_t off = 0, len = 0;
  vdk__set_call ("vdk_read");
  if (sectors_to_bytes (sector, nsectors, &off, &len) == -1
      || check_io (disk, buf, len, off) == -1)
    return -1;
  return len ? vdk__link_pread (disk->top, buf, len, off) : 0;
}

VDK_API int
vdk_write (vdk_disk *disk, uint64_t sector, uint64_t nsectors,
           const void *buf)
{
  uint64_t off = 0, len = 0;
  vdk__set_call ("vdk_write");
  if (sectors_to_bytes (sector, nsectors, &off, &len) == -1
      || check_io (disk, buf, len, off) == -1 || check_write (disk) == -1)
    return -1;
  return len ? vdk__link_pwrite (disk->top, buf, len, off) : 0;
}

VDK_API int
vdk_zero (vdk_disk *disk, uint64_t offset, uint64_t count)
{
  vdk__set_call ("vdk_zero");
  if (check_io (disk, "", count, offset) == -1 || check_write (disk) == -1)
    return -1;
  return count ? vdk__link_zero (disk->top, count, offset) : 0;
}

VDK_API int
vdk_flush (vdk_disk *disk)
{
  vdk__set_call ("vdk_flush");
  if (!disk)
    return vdk__err (EINVAL, "no disk");
  if (disk->flags & VDK_OPEN_READ_ONLY)
    return 0;
  return vdk__link_flush (disk->top);
}

VDK_API int
vdk_block_status (vdk_disk *disk, uint64_t offset, uint64_t count,
                  int top_only, uint64_t *len, int *state, int *depth)
{
  int dummy;
  vdk__set_call ("vdk_block_status");
  if (check_io (disk, "", count, offset) == -1)
    return -1;
  if (count == 0)
    return vdk__err (EINVAL, "empty range");
  return vdk__link_status (disk->top, offset, count, top_only != 0, len,
                           state, depth ? depth : &dummy);
}
