/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vixmntapi.c - VixMntapi 1.0 on vdk's volume and mount layers.
 *
 * A disk set is a vdk_diskset that borrows the vdk disks behind
 * VixDiskLib handles (VDK_DISKSET_BORROW): OpenDisks opens those handles
 * itself (through the exported VixDiskLib_Open) and closes them at
 * CloseDiskSet, OpenDiskSet borrows the caller's.  The set is scanned
 * once, when it is made; its volumes (containers left out) get one
 * handle each, owned by the set, so a handle stays valid whatever the
 * caller does with the array GetVolumeHandles gave it.
 *
 * MountVolume is vdk_mount_volume: the mount is served by a thread of
 * this process on the caller's set, on a new folder in the mount's state
 * folder, and lives until DismountVolume (vdk_unmount) or CloseDiskSet.
 *
 * libvixMntapi uses libvixDiskLib's exported calls and, being built
 * from the same tree, looks inside its handles (vix-internal.h) for the
 * vdk_disk.  Errors use VixMntapi's codes where one fits (24300-24322)
 * and vdk's translation otherwise.  Locking: none; a set and its volumes
 * must not be used from two threads at once, as in the VDDK. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vdk-mount.h"
#include "vix-internal.h"
#include "vixMntapi.h"

struct VixVolumeHandleStruct {
  struct VixDiskSetHandleStruct *set;
  char *name;        /* the volume's name in the vdk set */
  VixVolumeType type;
  vdk_mount *mount;  /* NULL while not mounted */
};

struct VixDiskSetHandleStruct {
  vdk_diskset *set;
  VixDiskLibHandle *owned; /* opened by OpenDisks, closed with the set */
  size_t nowned;
  uint32 open_flags;
  size_t nvols;
  struct VixVolumeHandleStruct *vols;
};

static const char *const MNT_CALL = "VixMntapi";

VIX_API VixError
VixMntapi_Init (uint32 majorVersion, uint32 minorVersion,
                VixDiskLibGenericLogFunc *log, VixDiskLibGenericLogFunc *warn,
                VixDiskLibGenericLogFunc *panic, const char *libDir,
                const char *configFile)
{
  (void) minorVersion;
  (void) libDir;
  (void) configFile; /* tmpDirectory: vdk's mounts live under /run/vdk */
  if (majorVersion != VIXMNTAPI_MAJOR_VERSION)
    return vix__fail (VIX_E_MNTAPI_INCOMPATIBLE_VERSION, "VixMntapi_Init",
                      "version %u: this library is VixMntapi %d",
                      (unsigned) majorVersion, VIXMNTAPI_MAJOR_VERSION);
  /* VixDiskLib_InitEx already gave vdk the log sinks; set them only if
   * it has not (NULL keeps vdk's defaults). */
  if (log || warn || panic)
    vdk_init (log, warn, panic);
  return VIX_OK;
}

VIX_API void
VixMntapi_Exit (void)
{
}

static VixVolumeType
volume_type (const char *kind)
{
  if (strcmp (kind, "mbr") == 0)
    return VIXMNTAPI_BASIC_PARTITION;
  if (strcmp (kind, "gpt") == 0)
    return VIXMNTAPI_GPT_PARTITION;
  if (strcmp (kind, "ldm") == 0)
    return VIXMNTAPI_DYNAMIC_VOLUME;
  if (strcmp (kind, "lvm") == 0)
    return VIXMNTAPI_LVM_VOLUME;
  return VIXMNTAPI_UNKNOWN_VOLTYPE;
}

/* Scan the set and make the volume handles. */
static VixError
scan (struct VixDiskSetHandleStruct *s)
{
  size_t n;

  if (vdk_diskset_scan (s->set, 0) == -1)
    return vix__fail (VIX_E_MNTAPI_OPEN_FAILURE, MNT_CALL, "%s",
                      vdk_last_error ());
  n = vdk_volume_count (s->set);
  if (!(s->vols = calloc (n ? n : 1, sizeof *s->vols)))
    return vix__fail (VIX_E_OUT_OF_MEMORY, MNT_CALL, "out of memory");
  for (size_t i = 0; i < n; i++) {
    const struct vdk_volume_info *vi = vdk_volume_get_info (s->set, i);
    struct VixVolumeHandleStruct *v = &s->vols[s->nvols];
    if (!vi || (vi->flags & VDK_VOLUME_CONTAINER))
      continue;
    if (!(v->name = strdup (vi->name)))
      return vix__fail (VIX_E_OUT_OF_MEMORY, MNT_CALL, "out of memory");
    v->set = s;
    v->type = volume_type (vi->kind);
    s->nvols++;
  }
  return VIX_OK;
}

static void
set_free (struct VixDiskSetHandleStruct *s)
{
  for (size_t i = 0; i < s->nvols; i++) {
    if (s->vols[i].mount)
      vdk_unmount (s->vols[i].mount, VDK_UNMOUNT_FORCE);
    free (s->vols[i].name);
  }
  free (s->vols);
  vdk_diskset_close (s->set);
  for (size_t i = 0; i < s->nowned; i++)
    VixDiskLib_Close (s->owned[i]);
  free (s->owned);
  free (s);
}

/* A set over `n` handles, borrowing their disks. */
static VixError
set_make (VixDiskLibHandle *h, size_t n, uint32 flags,
          struct VixDiskSetHandleStruct **out)
{
  struct VixDiskSetHandleStruct *s = calloc (1, sizeof *s);
  VixError err;

  if (!s || !(s->set = vdk_diskset_new ())) {
    free (s);
    return vix__fail (VIX_E_OUT_OF_MEMORY, MNT_CALL, "out of memory");
  }
  s->open_flags = flags;
  for (size_t i = 0; i < n; i++) {
    if (!h[i] || !h[i]->disk) {
      set_free (s);
      return vix__fail (VIX_E_INVALID_ARG, MNT_CALL, "disk %zu is not open",
                        i + 1);
    }
    if (vdk_diskset_add_ex (s->set, h[i]->disk, h[i]->path,
                            VDK_DISKSET_BORROW) == -1) {
      err = vix__fail_vdk (MNT_CALL);
      set_free (s);
      return err;
    }
  }
  if ((err = scan (s)) != VIX_OK) {
    set_free (s);
    return err;
  }
  *out = s;
  return VIX_OK;
}

VIX_API VixError
VixMntapi_OpenDiskSet (VixDiskLibHandle diskHandles[], size_t numberOfDisks,
                       uint32 openMode, VixDiskSetHandle *handle)
{
  if (!diskHandles || numberOfDisks == 0 || !handle)
    return vix__fail (VIX_E_INVALID_ARG, "VixMntapi_OpenDiskSet",
                      "no disks or no place for the set");
  *handle = NULL;
  return set_make (diskHandles, numberOfDisks, openMode, handle);
}

VIX_API VixError
VixMntapi_OpenDisks (VixDiskLibConnection connection,
                     const char *diskNames[], size_t numberOfDisks,
                     uint32 openFlags, VixDiskSetHandle *handle)
{
  VixDiskLibHandle *h;
  VixError err = VIX_OK;
  size_t opened = 0;

  if (!diskNames || numberOfDisks == 0 || !handle)
    return vix__fail (VIX_E_INVALID_ARG, "VixMntapi_OpenDisks",
                      "no disks or no place for the set");
  *handle = NULL;
  if (!(h = calloc (numberOfDisks, sizeof *h)))
    return vix__fail (VIX_E_OUT_OF_MEMORY, "VixMntapi_OpenDisks",
                      "out of memory");
  for (; opened < numberOfDisks && err == VIX_OK; opened++)
    err = VixDiskLib_Open (connection, diskNames[opened], openFlags,
                           &h[opened]);
  if (err == VIX_OK)
    err = set_make (h, numberOfDisks, openFlags, handle);
  if (err != VIX_OK) {
    for (size_t i = 0; i < opened; i++)
      if (h[i])
        VixDiskLib_Close (h[i]);
    free (h);
    return err;
  }
  (*handle)->owned = h;
  (*handle)->nowned = numberOfDisks;
  return VIX_OK;
}

VIX_API VixError
VixMntapi_GetDiskSetInfo (VixDiskSetHandle s, VixDiskSetInfo **out)
{
  VixDiskSetInfo *info;

  if (!s || !out)
    return vix__fail (VIX_E_INVALID_ARG, "VixMntapi_GetDiskSetInfo",
                      "no set or no place for the info");
  if (!(info = calloc (1, sizeof *info)))
    return vix__fail (VIX_E_OUT_OF_MEMORY, "VixMntapi_GetDiskSetInfo",
                      "out of memory");
  info->openFlags = s->open_flags;
  /* The mount path of the first mounted volume, else NULL. */
  for (size_t i = 0; i < s->nvols && !info->mountPath; i++)
    if (s->vols[i].mount
        && !(info->mountPath = strdup (vdk_mount_path (s->vols[i].mount)))) {
      free (info);
      return vix__fail (VIX_E_OUT_OF_MEMORY, "VixMntapi_GetDiskSetInfo",
                        "out of memory");
    }
  *out = info;
  return VIX_OK;
}

VIX_API void
VixMntapi_FreeDiskSetInfo (VixDiskSetInfo *info)
{
  if (!info)
    return;
  free (info->mountPath);
  free (info);
}

VIX_API VixError
VixMntapi_CloseDiskSet (VixDiskSetHandle s)
{
  if (!s)
    return vix__fail (VIX_E_INVALID_ARG, "VixMntapi_CloseDiskSet", "no set");
  set_free (s);
  return VIX_OK;
}

/* ---- Volumes ------------------------------------------------------- */

VIX_API VixError
VixMntapi_GetVolumeHandles (VixDiskSetHandle s, size_t *numberOfVolumes,
                            VixVolumeHandle *volumeHandles[])
{
  VixVolumeHandle *arr;

  if (!s || !numberOfVolumes || !volumeHandles)
    return vix__fail (VIX_E_INVALID_ARG, "VixMntapi_GetVolumeHandles",
                      "no set or no place for the handles");
  if (!(arr = calloc (s->nvols + 1, sizeof *arr)))
    return vix__fail (VIX_E_OUT_OF_MEMORY, "VixMntapi_GetVolumeHandles",
                      "out of memory");
  for (size_t i = 0; i < s->nvols; i++)
    arr[i] = &s->vols[i];
  *numberOfVolumes = s->nvols;
  *volumeHandles = arr;
  return VIX_OK;
}

/* The handles themselves belong to the set. */
VIX_API void
VixMntapi_FreeVolumeHandles (VixVolumeHandle *volumeHandles)
{
  free (volumeHandles);
}

/* The VixMntapi code for a failed mount or unmount. */
static VixError
mount_error (const char *call, const char *name)
{
  VixError err;

  switch (vdk_last_error_code ()) {
  case VDK_E_UNSUPPORTED: err = VIX_E_MNTAPI_NO_DRIVER; break;
  case VDK_E_READ_ONLY: err = VIX_E_MNTAPI_VOLUME_NOT_WRITABLE; break;
  case VDK_E_NOT_FOUND: err = VIX_E_MNTAPI_ITEM_NOT_FOUND; break;
  case VDK_E_LOCKED: err = VIX_E_OBJECT_IS_BUSY; break;
  case VDK_E_ACCESS_DENIED:
  case VDK_E_IO:
  case VDK_E_FAILED: err = VIX_E_MNTAPI_OS_ERROR; break;
  default: err = vix__error_from_vdk (vdk_last_error_code ()); break;
  }
  return vix__fail (err, call, "volume %s: %s", name, vdk_last_error ());
}

VIX_API VixError
VixMntapi_MountVolume (VixVolumeHandle v, Bool readOnly)
{
  struct vdk_mount_params p = VDK_MOUNT_PARAMS_INIT;
  const char *call = "VixMntapi_MountVolume";

  if (!v)
    return vix__fail (VIX_E_INVALID_ARG, call, "no volume");
  if (v->mount)
    return vix__fail (VIX_E_MNTAPI_VOLUME_ALREADY_MOUNTED, call,
                      "volume %s is mounted on %s", v->name,
                      vdk_mount_path (v->mount));
  if (!readOnly) {
    if (v->set->open_flags & VIXDISKLIB_FLAG_OPEN_READ_ONLY)
      return vix__fail (VIX_E_MNTAPI_VOLUME_NOT_WRITABLE, call,
                        "volume %s: the disks were opened read-only",
                        v->name);
    p.flags |= VDK_MOUNT_WRITABLE;
  }
  if (!(v->mount = vdk_mount_volume (v->set->set, v->name, NULL, &p)))
    return mount_error (call, v->name);
  return VIX_OK;
}

VIX_API VixError
VixMntapi_DismountVolume (VixVolumeHandle v, Bool force)
{
  const char *call = "VixMntapi_DismountVolume";

  if (!v)
    return vix__fail (VIX_E_INVALID_ARG, call, "no volume");
  if (!v->mount)
    return vix__fail (VIX_E_MNTAPI_VOLUME_NOT_MOUNTED, call,
                      "volume %s is not mounted", v->name);
  if (vdk_unmount (v->mount, force ? VDK_UNMOUNT_FORCE : 0) == -1)
    return mount_error (call, v->name); /* the handle stays valid */
  v->mount = NULL;
  return VIX_OK;
}

VIX_API VixError
VixMntapi_GetVolumeInfo (VixVolumeHandle v, VixVolumeInfo **out)
{
  VixVolumeInfo *info;

  if (!v || !out)
    return vix__fail (VIX_E_INVALID_ARG, "VixMntapi_GetVolumeInfo",
                      "no volume or no place for the info");
  if (!(info = calloc (1, sizeof *info)))
    return vix__fail (VIX_E_OUT_OF_MEMORY, "VixMntapi_GetVolumeInfo",
                      "out of memory");
  info->type = v->type;
  info->isMounted = v->mount != NULL;
  if (v->mount
      && !(info->symbolicLink = strdup (vdk_mount_path (v->mount)))) {
    free (info);
    return vix__fail (VIX_E_OUT_OF_MEMORY, "VixMntapi_GetVolumeInfo",
                      "out of memory");
  }
  *out = info;
  return VIX_OK;
}

VIX_API void
VixMntapi_FreeVolumeInfo (VixVolumeInfo *info)
{
  if (!info)
    return;
  free (info->symbolicLink);
  free (info);
}

/* ---- Operating system ------------------------------------------------ */

static char *
dup_or_null (const char *s)
{
  return s && *s ? strdup (s) : NULL;
}

VIX_API VixError
VixMntapi_GetOsInfo (VixDiskSetHandle s, VixOsInfo **out)
{
  struct vdk_os_info *oi;
  VixOsInfo *info;
  unsigned major = 0, minor = 0;

  if (!s || !out)
    return vix__fail (VIX_E_INVALID_ARG, "VixMntapi_GetOsInfo",
                      "no set or no place for the info");
  if (vdk_diskset_os_info (s->set, &oi) == -1)
    return vix__fail_vdk ("VixMntapi_GetOsInfo");
  if (!(info = calloc (1, sizeof *info))) {
    vdk_free_os_info (oi);
    return vix__fail (VIX_E_OUT_OF_MEMORY, "VixMntapi_GetOsInfo",
                      "out of memory");
  }
  if (strcmp (oi->family, "windows") == 0)
    info->family = VIXMNTAPI_WINDOWS;
  else if (strcmp (oi->family, "unknown") == 0)
    info->family = VIXMNTAPI_NO_OS;
  else
    info->family = VIXMNTAPI_OTHER;
  if (sscanf (oi->version, "%u.%u", &major, &minor) >= 1) {
    info->majorVersion = major;
    info->minorVersion = minor;
  }
  info->osIs64Bit = oi->is_64bit == 1;
  info->vendor = dup_or_null (oi->vendor);
  info->edition = NULL;
  info->osFolder = dup_or_null (oi->os_folder);
  vdk_free_os_info (oi);
  *out = info;
  return VIX_OK;
}

VIX_API void
VixMntapi_FreeOsInfo (VixOsInfo *info)
{
  if (!info)
    return;
  free (info->vendor);
  free (info->edition);
  free (info->osFolder);
  free (info);
}
