/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The volume API (include/vdk-mount.h) in a library built without it.
 *
 * libvdk exports the same symbols whatever it was configured with
 * (lib/libvdk.map lists them), so a program linked against one build
 * runs against another.  When the volume layer is not built (no
 * libblkid or libfuse3: meson -Dmount=disabled), lib/meson.build
 * compiles this file instead of the rest of lib/mount/: every call
 * fails with VDK_E_UNSUPPORTED and says why, and the calls that return
 * a count or a pointer return 0 or NULL.  Keep it in step with
 * vdk-mount.h: the symbols test (tests/unit/symbols.sh) compares the
 * exported set with the map in every configuration CI builds. */
#include "mount/mount-internal.h"

#define NOT_BUILT "volumes are not built into this libvdk (it was " \
  "configured without libblkid/libfuse3)"

static int
not_built (const char *call)
{
  vdk__set_call (call);
  return vdk__errc (VDK_E_UNSUPPORTED, ENOTSUP, NOT_BUILT);
}

VDK_API vdk_diskset *
vdk_diskset_new (void)
{
  not_built ("vdk_diskset_new");
  return NULL;
}

VDK_API int
vdk_diskset_add (vdk_diskset *set, vdk_disk *disk, const char *name)
{
  return not_built ("vdk_diskset_add");
}

VDK_API int
vdk_diskset_add_ex (vdk_diskset *set, vdk_disk *disk, const char *name,
                    unsigned flags)
{
  return not_built ("vdk_diskset_add_ex");
}

VDK_API vdk_diskset *
vdk_diskset_open (const char *const *paths, size_t n, unsigned open_flags)
{
  not_built ("vdk_diskset_open");
  return NULL;
}

VDK_API int
vdk_diskset_close (vdk_diskset *set)
{
  return set ? not_built ("vdk_diskset_close") : 0;
}

VDK_API size_t
vdk_diskset_count (const vdk_diskset *set)
{
  return 0;
}

VDK_API vdk_disk *
vdk_diskset_disk (vdk_diskset *set, size_t i)
{
  return NULL;
}

VDK_API const struct vdk_disk_layout *
vdk_diskset_disk_layout (const vdk_diskset *set, size_t i)
{
  return NULL;
}

VDK_API int
vdk_diskset_scan (vdk_diskset *set, unsigned flags)
{
  return not_built ("vdk_diskset_scan");
}

VDK_API size_t
vdk_diskset_warning_count (const vdk_diskset *set)
{
  return 0;
}

VDK_API const char *
vdk_diskset_warning (const vdk_diskset *set, size_t i)
{
  return NULL;
}

VDK_API size_t
vdk_volume_count (const vdk_diskset *set)
{
  return 0;
}

VDK_API const struct vdk_volume_info *
vdk_volume_get_info (const vdk_diskset *set, size_t i)
{
  return NULL;
}

VDK_API const struct vdk_volume_info *
vdk_volume_find (const vdk_diskset *set, const char *name)
{
  not_built ("vdk_volume_find");
  return NULL;
}

VDK_API vdk_volume *
vdk_volume_open (vdk_diskset *set, const char *name, unsigned flags)
{
  not_built ("vdk_volume_open");
  return NULL;
}

VDK_API void
vdk_volume_close (vdk_volume *vol)
{
}

VDK_API uint64_t
vdk_volume_size (const vdk_volume *vol)
{
  return 0;
}

VDK_API const struct vdk_volume_info *
vdk_volume_info (const vdk_volume *vol)
{
  return NULL;
}

VDK_API int
vdk_volume_pread (vdk_volume *vol, void *buf, size_t count, uint64_t offset)
{
  return not_built ("vdk_volume_pread");
}

VDK_API int
vdk_volume_pwrite (vdk_volume *vol, const void *buf, size_t count,
                   uint64_t offset)
{
  return not_built ("vdk_volume_pwrite");
}

VDK_API int
vdk_volume_flush (vdk_volume *vol)
{
  return not_built ("vdk_volume_flush");
}

VDK_API int
vdk_diskset_os_info (vdk_diskset *set, struct vdk_os_info **info)
{
  if (info)
    *info = NULL;
  return not_built ("vdk_diskset_os_info");
}

VDK_API void
vdk_free_os_info (struct vdk_os_info *info)
{
}

/* ---- mounting (lib/mountfs) ----------------------------------------- */

VDK_API vdk_mount *
vdk_mount_volume (vdk_diskset *set, const char *volume,
                  const char *mountpoint,
                  const struct vdk_mount_params *params)
{
  not_built ("vdk_mount_volume");
  return NULL;
}

VDK_API vdk_mount *
vdk_mount_daemon (const char *const *paths, size_t n, const char *volume,
                  const char *mountpoint,
                  const struct vdk_mount_params *params)
{
  not_built ("vdk_mount_daemon");
  return NULL;
}

VDK_API const struct vdk_mount_info *
vdk_mount_get_info (const vdk_mount *m)
{
  return NULL;
}

VDK_API const char *
vdk_mount_path (const vdk_mount *m)
{
  return NULL;
}

VDK_API vdk_mount *
vdk_mount_find (const char *path)
{
  not_built ("vdk_mount_find");
  return NULL;
}

VDK_API int
vdk_mount_list (vdk_mount ***mounts, size_t *n)
{
  return not_built ("vdk_mount_list");
}

VDK_API void
vdk_mount_list_free (vdk_mount **mounts, size_t n)
{
}

VDK_API int
vdk_unmount (vdk_mount *m, unsigned flags)
{
  return not_built ("vdk_unmount");
}

VDK_API void
vdk_mount_release (vdk_mount *m)
{
}

VDK_API int
vdk_mount_cleanup (unsigned *cleaned, unsigned *in_use)
{
  return not_built ("vdk_mount_cleanup");
}
