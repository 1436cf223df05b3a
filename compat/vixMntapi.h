/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vixMntapi.h - VMware VDDK's VixMntapi API, implemented by vdk.
 *
 * vdk's libvixMntapi.so.1 exports the VixMntapi 1.0 calls with the
 * VDDK's names, struct layouts and error codes (VIX_E_MNTAPI_*,
 * 24300-24322, in vixDiskLib.h), over vdk's volume and mount layers
 * (vdk-mount.h).  This header is vdk's own, written from the published
 * facts of that ABI.
 *
 * What vdk does:
 * - OpenDisks opens the named disks with VixDiskLib_Open (several disks
 *   are allowed, so volumes spanning disks are found); CloseDiskSet
 *   closes them.  OpenDiskSet (Windows-only in the VDDK, available here)
 *   borrows disks the caller opened: the caller closes them after
 *   CloseDiskSet.
 * - Volumes are the partitions (MBR, GPT), LVM2 logical volumes, Windows
 *   dynamic (LDM) volumes and whole-disk file systems the set holds;
 *   extended partitions and other containers are not listed.  Volume
 *   handles belong to the set: FreeVolumeHandles frees the array, and
 *   the handles stay valid until CloseDiskSet.
 * - MountVolume mounts the volume's file system through FUSE, a loop
 *   device and the kernel's driver (ntfs-3g for NTFS), served by a
 *   thread of the calling process, on a new folder under /run/vdk (or
 *   $VDK_RUN_DIR); GetVolumeInfo's symbolicLink is that folder.  It needs
 *   root, /dev/fuse and loop devices.  A read-write mount needs disks
 *   opened read-write.  CloseDiskSet dismounts what is still mounted.
 * - GetOsInfo tells what the volumes alone tell (vdk reads no file
 *   system): family WINDOWS or OTHER (Linux), the vendor, the OS folder;
 *   version numbers are 0 when not known.
 * - numGuestMountPoints is always 0 (as in the VDDK on Linux).
 */
#ifndef _VIXMNTAPI_H_
#define _VIXMNTAPI_H_

#include "vixDiskLib.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VIXMNTAPI_MAJOR_VERSION 1
#define VIXMNTAPI_MINOR_VERSION 0

typedef struct VixDiskSetHandleStruct *VixDiskSetHandle;
typedef struct VixVolumeHandleStruct *VixVolumeHandle;

typedef enum {
  VIXMNTAPI_NO_OS = 0,
  VIXMNTAPI_WINDOWS = 1,
  VIXMNTAPI_OTHER = 255
} VixOsFamily;

typedef struct {
  VixOsFamily family;
  uint32 majorVersion;
  uint32 minorVersion;
  Bool osIs64Bit;
  char *vendor;
  char *edition;
  char *osFolder;
} VixOsInfo;

typedef enum {
  VIXMNTAPI_UNKNOWN_VOLTYPE = 0,
  VIXMNTAPI_BASIC_PARTITION = 1,
  VIXMNTAPI_GPT_PARTITION = 2,
  VIXMNTAPI_DYNAMIC_VOLUME = 3,
  VIXMNTAPI_LVM_VOLUME = 4
} VixVolumeType;

typedef struct {
  VixVolumeType type;
  Bool isMounted;
  char *symbolicLink;          /* where the volume is mounted, or NULL */
  size_t numGuestMountPoints;
  char *inGuestMountPoints[1]; /* numGuestMountPoints strings */
} VixVolumeInfo;

typedef struct {
  uint32 openFlags;
  char *mountPath;
} VixDiskSetInfo;

VixError VixMntapi_Init (uint32 majorVersion, uint32 minorVersion,
                         VixDiskLibGenericLogFunc *log,
                         VixDiskLibGenericLogFunc *warn,
                         VixDiskLibGenericLogFunc *panic,
                         const char *libDir, const char *configFile);
void VixMntapi_Exit (void);

VixError VixMntapi_OpenDiskSet (VixDiskLibHandle diskHandles[],
                                size_t numberOfDisks, uint32 openMode,
                                VixDiskSetHandle *handle);
VixError VixMntapi_OpenDisks (VixDiskLibConnection connection,
                              const char *diskNames[], size_t numberOfDisks,
                              uint32 openFlags, VixDiskSetHandle *handle);
VixError VixMntapi_GetDiskSetInfo (VixDiskSetHandle handle,
                                   VixDiskSetInfo **diskSetInfo);
void VixMntapi_FreeDiskSetInfo (VixDiskSetInfo *diskSetInfo);
VixError VixMntapi_CloseDiskSet (VixDiskSetHandle diskSet);

VixError VixMntapi_GetVolumeHandles (VixDiskSetHandle diskSet,
                                     size_t *numberOfVolumes,
                                     VixVolumeHandle *volumeHandles[]);
void VixMntapi_FreeVolumeHandles (VixVolumeHandle *volumeHandles);

VixError VixMntapi_GetOsInfo (VixDiskSetHandle diskSet, VixOsInfo **info);
void VixMntapi_FreeOsInfo (VixOsInfo *info);

VixError VixMntapi_MountVolume (VixVolumeHandle volumeHandle, Bool readOnly);
VixError VixMntapi_DismountVolume (VixVolumeHandle volumeHandle, Bool force);
VixError VixMntapi_GetVolumeInfo (VixVolumeHandle volumeHandle,
                                  VixVolumeInfo **info);
void VixMntapi_FreeVolumeInfo (VixVolumeInfo *info);

#ifdef __cplusplus
}
#endif

#endif /* _VIXMNTAPI_H_ */
