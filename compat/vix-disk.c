/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vix-disk.c - VixDiskLib's disk calls: create, open, close, info, I/O,
 * asynchronous I/O and metadata, on vdk's public API.
 *
 * A VixDiskLibHandle wraps one vdk_disk.  Sector I/O maps one to one
 * (VixDiskLib_Read is vdk_read); asynchronous requests become vdk_aio_*
 * requests whose completion calls the VDDK callback with the translated
 * error; Wait is vdk_aio_wait.
 *
 * Metadata follows the VDDK's buffer protocol: the required length
 * counts the terminating NUL (for GetMetadataKeys, every key's NUL and
 * one more at the end), and a buffer that is NULL or too small gets
 * VIX_E_BUFFER_TOOSMALL with *requiredLen set and the buffer untouched.
 * Keys are given without vdk's "ddb." prefix, as the VDDK gives them.
 *
 * Locking: none here.  vdk's handles are thread-safe; a handle's own
 * fields change only in calls the VDDK forbids to overlap with others
 * on the same handle (Close, Shrink, Defragment, Attach, CreateChild). */
#include <stdlib.h>
#include <string.h>

#include "vix-internal.h"

int
vix__progress (void *opaque, uint64_t done, uint64_t total)
{
  struct vix_progress *p = opaque;
  int pct = total ? (int) ((double) done * 100.0 / (double) total) : 100;

  if (pct > 100)
    pct = 100;
  if (p->fn && pct != p->last) {
    p->last = pct;
    (void) p->fn (p->data, pct); /* the VDDK ignores the answer */
  }
  return 0;
}

static VixError
no_handle (const char *call, VixDiskLibHandle h)
{
  return vix__fail (h ? VIX_E_DISK_NOIO : VIX_E_INVALID_ARG, call,
                    h ? "the disk was closed by an earlier call (Attach, "
                        "or a reopen that failed)"
                      : "no disk handle");
}
#define CHECK_HANDLE(call, h) \
  do { if (!(h) || !(h)->disk) return no_handle (call, h); } while (0)

/* ---- Create ---------------------------------------------------------- */

static VixError
create_params (const char *call, const VixDiskLibCreateParams *cp,
               struct vdk_create_params *out, uint32_t *physical)
{
  int type, adapter;
  uint32_t logical = 0;

  if (!cp)
    return vix__fail (VIX_E_INVALID_ARG, call, "no create parameters");
  if ((type = vix__disk_type_to_vdk (cp->diskType)) == -1)
    return vix__fail (VIX_E_INVALID_ARG, call, "unknown disk type %d",
                      (int) cp->diskType);
  if ((adapter = vix__adapter_to_vdk (cp->adapterType)) == -1)
    return vix__fail (VIX_E_INVALID_ARG, call, "unknown adapter type %d",
                      (int) cp->adapterType);
  if (cp->capacity == 0 || cp->capacity > UINT64_MAX / VIXDISKLIB_SECTOR_SIZE)
    return vix__fail (VIX_E_INVALID_ARG, call, "capacity of %llu sectors",
                      (unsigned long long) cp->capacity);
  /* The sector-size fields exist only in 7.0+ callers' structs. */
  *physical = 0;
  if (vix__init_major () >= 7) {
    logical = cp->logicalSectorSize;
    *physical = cp->physicalSectorSize;
  }
  if ((logical != 0 && logical != 512)
      || (*physical != 0 && *physical != 512 && *physical != 4096))
    return vix__fail (VIX_E_HOST_DISK_SECTORSIZE, call,
                      "sector sizes %u/%u: vdk makes disks of 512-byte "
                      "logical sectors (physical 512 or 4096)",
                      (unsigned) logical, (unsigned) *physical);
  out->type = type;
  out->adapter = adapter;
  out->hw_version = cp->hwVersion;
  out->capacity = cp->capacity * VIXDISKLIB_SECTOR_SIZE;
  /* The VDDK's flat types are preallocated (vmware-vdiskmanager calls
   * them so); thin and sparse ones are not. */
  if (type == VDK_TYPE_MONOLITHIC_FLAT || type == VDK_TYPE_SPLIT_FLAT
      || type == VDK_TYPE_VMFS)
    out->flags |= VDK_CREATE_PREALLOC;
  return VIX_OK;
}

/* A 512e disk: physical sectors of 4096 bytes, noted in the DDB. */
static int
set_physical (const char *path, uint32_t physical)
{
  vdk_disk *d;
  int r;

  if (physical != 4096)
    return 0;
  if (!(d = vdk_open (path, 0)))
    return -1;
  r = vdk_meta_set (d, "physicalSectorSize", "4096");
  if (vdk_close (d) == -1)
    r = -1;
  return r;
}

VIX_API VixError
VixDiskLib_Create (const VixDiskLibConnection conn, const char *path,
                   const VixDiskLibCreateParams *cp,
                   VixDiskLibProgressFunc progressFunc, void *progressData)
{
  const char *call = "VixDiskLib_Create";
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  struct vix_progress prog = { progressFunc, progressData, -1 };
  uint32_t physical = 0;
  VixError err;

  if (!path)
    return vix__fail (VIX_E_INVALID_ARG, call, "no path");
  if (conn && conn->remote)
    return vix__fail (VIX_E_NOT_SUPPORTED_ON_REMOTE_OBJECT, call,
                      "%s: disks are created locally (then Clone them)",
                      path);
  if ((err = create_params (call, cp, &p, &physical)) != VIX_OK)
    return err;
  p.progress = vix__progress;
  p.opaque = &prog;
  if (vdk_create (path, &p) == -1)
    return vix__fail_vdk (call);
  if (set_physical (path, physical) == -1)
    return vix__fail_vdk (call);
  vix__progress (&prog, 1, 1);
  return VIX_OK;
}

VIX_API VixError
VixDiskLib_CreateChild (VixDiskLibHandle h, const char *childPath,
                        VixDiskLibDiskType diskType,
                        VixDiskLibProgressFunc progressFunc,
                        void *progressData)
{
  const char *call = "VixDiskLib_CreateChild";
  struct vix_progress prog = { progressFunc, progressData, -1 };
  int type;

  CHECK_HANDLE (call, h);
  if (!childPath)
    return vix__fail (VIX_E_INVALID_ARG, call, "no child path");
  if (diskType == VIXDISKLIB_DISK_SPLIT_SPARSE)
    return vix__fail (VIX_E_NOT_SUPPORTED, call,
                      "%s: vdk makes children as MONOLITHIC_SPARSE or "
                      "VMFS_SPARSE, not SPLIT_SPARSE", childPath);
  if (diskType != VIXDISKLIB_DISK_MONOLITHIC_SPARSE
      && diskType != VIXDISKLIB_DISK_VMFS_SPARSE)
    return vix__fail (VIX_E_INVALID_ARG, call,
                      "%s: a child must be MONOLITHIC_SPARSE, not %s",
                      childPath, vix__disk_type_name (diskType));
  type = vix__disk_type_to_vdk (diskType);
  if (vdk_create_child (h->disk, childPath, type) == -1)
    return vix__fail_vdk (call);
  h->has_child = true;
  vix__progress (&prog, 1, 1);
  return VIX_OK;
}

/* ---- Open, close, info -------------------------------------------- */

VIX_API VixError
VixDiskLib_Open (const VixDiskLibConnection conn, const char *path,
                 uint32 flags, VixDiskLibHandle *out)
{
  const char *call = "VixDiskLib_Open";
  VixDiskLibHandle h;
  unsigned vflags;

  if (!path || !out)
    return vix__fail (VIX_E_INVALID_ARG, call, "no path or no handle");
  *out = NULL;
  if (vix__open_flags_to_vdk (flags, &vflags) == -1)
    return vix__fail (VIX_E_INVALID_ARG, call, "%s: unknown open flags 0x%x",
                      path, (unsigned) flags);
  if (conn && conn->remote && conn->transports && !*conn->transports)
    return vix__fail (VIX_E_NOT_SUPPORTED, call,
                      "%s: none of the transports asked for is one vdk "
                      "offers (nbdssl, nbd)", path);
  if (!(h = calloc (1, sizeof *h)) || !(h->path = strdup (path))) {
    free (h);
    return vix__fail (VIX_E_OUT_OF_MEMORY, call, "out of memory");
  }
  if (!(h->disk = vix__open (conn, path, vflags))) {
    VixError err = vix__fail_vdk (call);
    free (h->path);
    free (h);
    return err;
  }
  h->vdk_flags = vdk_disk_flags (h->disk);
  h->vix_flags = flags;
  h->remote = conn && conn->remote;
  *out = h;
  return VIX_OK;
}

VIX_API VixError
VixDiskLib_Close (VixDiskLibHandle h)
{
  VixError err = VIX_OK;

  if (!h)
    return vix__fail (VIX_E_INVALID_ARG, "VixDiskLib_Close", "no handle");
  if (h->disk && vdk_close (h->disk) == -1)
    err = vix__fail_vdk ("VixDiskLib_Close");
  free (h->path);
  free (h);
  return err;
}

int
vix__reopen (VixDiskLibHandle h)
{
  if (h->disk) {
    int r = vdk_close (h->disk);
    h->disk = NULL;
    if (r == -1)
      return -1;
  }
  if (!(h->disk = vdk_open (h->path, h->vdk_flags)))
    return -1;
  return 0;
}

static void
geometry (VixDiskLibGeometry *out, const struct vdk_geometry *g)
{
  out->cylinders = g->cylinders;
  out->heads = g->heads;
  out->sectors = g->sectors;
}

VIX_API VixError
VixDiskLib_GetInfo (VixDiskLibHandle h, VixDiskLibInfo **out)
{
  const char *call = "VixDiskLib_GetInfo";
  struct vdk_info *vi;
  VixDiskLibInfo *info;

  CHECK_HANDLE (call, h);
  if (!out)
    return vix__fail (VIX_E_INVALID_ARG, call, "no place for the info");
  if (vdk_get_info (h->disk, &vi) == -1)
    return vix__fail_vdk (call);
  if (!(info = calloc (1, sizeof *info))) {
    vdk_free_info (vi);
    return vix__fail (VIX_E_OUT_OF_MEMORY, call, "out of memory");
  }
  geometry (&info->physGeo, vi->physical);
  /* A descriptor without a BIOS geometry means the physical one. */
  geometry (&info->biosGeo, vi->bios->cylinders ? vi->bios : vi->physical);
  info->capacity = vi->capacity / VIXDISKLIB_SECTOR_SIZE;
  info->adapterType = VIXDISKLIB_ADAPTER_UNKNOWN;
  if (vi->adapter >= 0)
    info->adapterType =
      (VixDiskLibAdapterType) vix__adapter_from_vdk (vi->adapter);
  info->numLinks = vi->links;
  info->logicalSectorSize = vi->logical_sector_size;
  info->physicalSectorSize = vi->physical_sector_size;
  if (vi->parent_hint)
    info->parentFileNameHint = strdup (vi->parent_hint);
  if (vi->uuid)
    info->uuid = strdup (vi->uuid);
  if ((vi->parent_hint && !info->parentFileNameHint)
      || (vi->uuid && !info->uuid)) {
    VixDiskLib_FreeInfo (info);
    vdk_free_info (vi);
    return vix__fail (VIX_E_OUT_OF_MEMORY, call, "out of memory");
  }
  vdk_free_info (vi);
  *out = info;
  return VIX_OK;
}

VIX_API void
VixDiskLib_FreeInfo (VixDiskLibInfo *info)
{
  if (!info)
    return;
  free (info->parentFileNameHint);
  free (info->uuid);
  free (info);
}

VIX_API const char *
VixDiskLib_GetTransportMode (VixDiskLibHandle h)
{
  static const char *const modes[] = { "file", "nbdssl", "nbd" };
  const char *m = h && h->disk ? vdk_get_transport_mode (h->disk) : NULL;

  /* Static strings, as the VDDK's are: never vdk's, which the handle
   * owns. */
  for (size_t i = 0; m && i < sizeof modes / sizeof modes[0]; i++)
    if (strcmp (m, modes[i]) == 0)
      return modes[i];
  return h && h->remote ? "nbd" : "file";
}

/* ---- I/O --------------------------------------------------------------- */

static VixError
writable (const char *call, VixDiskLibHandle h)
{
  if (h->has_child)
    return vix__fail (VIX_E_FILE_READ_ONLY, call,
                      "%s has a child (CreateChild): write the child",
                      h->path);
  return VIX_OK;
}

VIX_API VixError
VixDiskLib_Read (VixDiskLibHandle h, VixDiskLibSectorType start,
                 VixDiskLibSectorType n, uint8 *buf)
{
  CHECK_HANDLE ("VixDiskLib_Read", h);
  if (vdk_read (h->disk, start, n, buf) == -1)
    return vix__fail_vdk ("VixDiskLib_Read");
  return VIX_OK;
}

VIX_API VixError
VixDiskLib_Write (VixDiskLibHandle h, VixDiskLibSectorType start,
                  VixDiskLibSectorType n, const uint8 *buf)
{
  VixError err;

  CHECK_HANDLE ("VixDiskLib_Write", h);
  if ((err = writable ("VixDiskLib_Write", h)) != VIX_OK)
    return err;
  if (vdk_write (h->disk, start, n, buf) == -1)
    return vix__fail_vdk ("VixDiskLib_Write");
  return VIX_OK;
}

struct async {
  VixDiskLibCompletionCB cb;
  void *data;
};

static void
async_done (void *user_data, int error)
{
  struct async *a = user_data;
  if (a->cb)
    a->cb (a->data, error ? vix__error_from_vdk (error) : VIX_OK);
}

static VixError
submit (const char *call, VixDiskLibHandle h, VixDiskLibSectorType start,
        VixDiskLibSectorType n, uint8 *rbuf, const uint8 *wbuf,
        VixDiskLibCompletionCB cb, void *data)
{
  struct async *a;
  struct vdk_completion done = { async_done, NULL, free };
  int r;

  if (!(a = malloc (sizeof *a)))
    return vix__fail (VIX_E_OUT_OF_MEMORY, call, "out of memory");
  a->cb = cb;
  a->data = data;
  done.user_data = a;
  r = rbuf ? vdk_aio_read (h->disk, start, n, rbuf, done)
           : vdk_aio_write (h->disk, start, n, wbuf, done);
  if (r == -1)
    return vix__fail_vdk (call); /* the completion freed `a` */
  return VIX_ASYNC;
}

VIX_API VixError
VixDiskLib_ReadAsync (VixDiskLibHandle h, VixDiskLibSectorType start,
                      VixDiskLibSectorType n, uint8 *buf,
                      VixDiskLibCompletionCB cb, void *data)
{
  CHECK_HANDLE ("VixDiskLib_ReadAsync", h);
  if (!buf)
    return vix__fail (VIX_E_INVALID_ARG, "VixDiskLib_ReadAsync", "no buffer");
  return submit ("VixDiskLib_ReadAsync", h, start, n, buf, NULL, cb, data);
}

VIX_API VixError
VixDiskLib_WriteAsync (VixDiskLibHandle h, VixDiskLibSectorType start,
                       VixDiskLibSectorType n, const uint8 *buf,
                       VixDiskLibCompletionCB cb, void *data)
{
  VixError err;

  CHECK_HANDLE ("VixDiskLib_WriteAsync", h);
  if (!buf)
    return vix__fail (VIX_E_INVALID_ARG, "VixDiskLib_WriteAsync",
                      "no buffer");
  if ((err = writable ("VixDiskLib_WriteAsync", h)) != VIX_OK)
    return err;
  return submit ("VixDiskLib_WriteAsync", h, start, n, NULL, buf, cb, data);
}

VIX_API VixError
VixDiskLib_Wait (VixDiskLibHandle h)
{
  CHECK_HANDLE ("VixDiskLib_Wait", h);
  if (vdk_aio_wait (h->disk) == -1)
    return vix__fail_vdk ("VixDiskLib_Wait");
  return VIX_OK;
}

/* The VDDK's Flush waits for asynchronous requests, then syncs. */
VIX_API VixError
VixDiskLib_Flush (VixDiskLibHandle h)
{
  CHECK_HANDLE ("VixDiskLib_Flush", h);
  if (vdk_aio_wait (h->disk) == -1 || vdk_flush (h->disk) == -1)
    return vix__fail_vdk ("VixDiskLib_Flush");
  return VIX_OK;
}

/* ---- Metadata ------------------------------------------------------- */

VIX_API VixError
VixDiskLib_ReadMetadata (VixDiskLibHandle h, const char *key, char *buf,
                         size_t bufLen, size_t *requiredLen)
{
  const char *call = "VixDiskLib_ReadMetadata";
  char *value;
  size_t need;

  CHECK_HANDLE (call, h);
  if (!key)
    return vix__fail (VIX_E_INVALID_ARG, call, "no key");
  if (vdk_meta_get (h->disk, key, &value) == -1)
    return vix__fail_vdk (call);
  need = strlen (value) + 1;
  if (requiredLen)
    *requiredLen = need;
  if (!buf || bufLen < need) {
    free (value);
    return vix__fail (VIX_E_BUFFER_TOOSMALL, call,
                      "%s: the value of %s needs %zu bytes, the buffer has "
                      "%zu", h->path, key, need, buf ? bufLen : 0);
  }
  memcpy (buf, value, need);
  free (value);
  return VIX_OK;
}

VIX_API VixError
VixDiskLib_WriteMetadata (VixDiskLibHandle h, const char *key,
                          const char *val)
{
  CHECK_HANDLE ("VixDiskLib_WriteMetadata", h);
  if (!key || !val)
    return vix__fail (VIX_E_INVALID_ARG, "VixDiskLib_WriteMetadata",
                      "no key or no value");
  if (vdk_meta_set (h->disk, key, val) == -1)
    return vix__fail_vdk ("VixDiskLib_WriteMetadata");
  return VIX_OK;
}

static const char *
strip_ddb (const char *key)
{
  return strncmp (key, "ddb.", 4) == 0 ? key + 4 : key;
}

VIX_API VixError
VixDiskLib_GetMetadataKeys (VixDiskLibHandle h, char *keys, size_t maxLen,
                            size_t *requiredLen)
{
  const char *call = "VixDiskLib_GetMetadataKeys";
  char **k;
  size_t need = 1, at = 0;

  CHECK_HANDLE (call, h);
  if (vdk_meta_keys (h->disk, &k) == -1)
    return vix__fail_vdk (call);
  for (size_t i = 0; k[i]; i++)
    need += strlen (strip_ddb (k[i])) + 1;
  if (requiredLen)
    *requiredLen = need;
  if (!keys || maxLen < need) {
    vdk_free_strings (k);
    return vix__fail (VIX_E_BUFFER_TOOSMALL, call,
                      "%s: the keys need %zu bytes, the buffer has %zu",
                      h->path, need, keys ? maxLen : 0);
  }
  for (size_t i = 0; k[i]; i++) {
    const char *s = strip_ddb (k[i]);
    size_t len = strlen (s) + 1;
    memcpy (keys + at, s, len);
    at += len;
  }
  keys[at] = 0;
  vdk_free_strings (k);
  return VIX_OK;
}
