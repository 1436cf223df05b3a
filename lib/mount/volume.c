/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The public volume handle: open a scanned volume by name and read or
 * write it through its map (map.c).
 *
 * A handle holds a pointer to the set's volume (the set keeps it alive:
 * scanning again or closing the set while handles are open is refused)
 * and its own copy of nothing else, so I/O only reads shared immutable
 * data and any number of threads may call pread/pwrite at once; the
 * disks below are thread-safe (vdk.h).
 *
 * Writes: partition, linear and striped volumes write through; mirrors
 * write every present leg; RAID-5 is read-only (a write would need a
 * parity update that is atomic with the data, which we do not attempt).
 * Degraded volumes open read-only: writing one leg of a mirror whose
 * other leg is absent would leave the legs silently different. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mount-internal.h"

struct vdk_volume {
  struct vdk_diskset *set;
  struct vdk__vol *vol;
  bool readonly;
};

static int
check_writable (struct vdk_diskset *set, struct vdk__vol *v)
{
  if (strcmp (v->info.layout, "raid5") == 0)
    return vdk__err (ENOTSUP, "%s: writing RAID-5 volumes is not "
                     "supported; open it read-only", v->info.name);
  if (v->info.degraded)
    return vdk__err (EROFS, "%s: the volume is degraded (%s); open it "
                     "read-only", v->info.name, v->info.problem);
  for (size_t i = 0; i < v->info.nmembers; i++) {
    int d = v->members[i].disk;
    if (d >= 0 && set->disks[d].mem)
      return vdk__err (EROFS, "%s: the set's disk %d is read-only",
                       v->info.name, d + 1);
  }
  return 0;
}

VDK_API vdk_volume *
vdk_volume_open (vdk_diskset *set, const char *name, unsigned flags)
{
  const struct vdk_volume_info *info;
  struct vdk__vol *v;
  vdk_volume *h;

  vdk__set_call ("vdk_volume_open");
  if (!set || !name) {
    vdk__err (EINVAL, "set and name must not be NULL");
    return NULL;
  }
  if (flags & ~VDK_VOLUME_READ_ONLY) {
    vdk__errc (VDK_E_INVALID_ARG, EINVAL, "unknown volume flags 0x%x",
               flags & ~VDK_VOLUME_READ_ONLY);
    return NULL;
  }
  info = vdk__vol_find (set, name);
  if (!info)
    return NULL;
  v = set->vols[info->index];
  if (!v->info.readable || !v->map) {
    vdk__err (ENXIO, "%s: volume cannot be read: %s", v->info.name,
              v->info.problem ? v->info.problem : "no data map");
    return NULL;
  }
  if (!(flags & VDK_VOLUME_READ_ONLY) && check_writable (set, v) == -1)
    return NULL;
  h = calloc (1, sizeof *h);
  if (!h) {
    vdk__err (ENOMEM, "out of memory");
    return NULL;
  }
  h->set = set;
  h->vol = v;
  h->readonly = flags & VDK_VOLUME_READ_ONLY;
  __atomic_add_fetch (&set->open_volumes, 1, __ATOMIC_SEQ_CST);
  return h;
}

VDK_API void
vdk_volume_close (vdk_volume *vol)
{
  if (!vol)
    return;
  __atomic_sub_fetch (&vol->set->open_volumes, 1, __ATOMIC_SEQ_CST);
  free (vol);
}

VDK_API uint64_t
vdk_volume_size (const vdk_volume *vol)
{
  return vol ? vol->vol->info.size : 0;
}

VDK_API const struct vdk_volume_info *
vdk_volume_info (const vdk_volume *vol)
{
  return vol ? &vol->vol->info : NULL;
}

static int
check_io (vdk_volume *vol, size_t count, uint64_t offset)
{
  uint64_t end;

  if (!vol)
    return vdk__err (EINVAL, "volume must not be NULL");
  if (ADD_OVERFLOW (offset, (uint64_t) count, &end)
      || end > vol->vol->info.size)
    return vdk__errc (VDK_E_OUT_OF_RANGE, 0, "%s: range %" PRIu64 "+%zu "
                      "lies beyond the end of the volume (%" PRIu64 " bytes)",
                      vol->vol->info.name, offset, count,
                      vol->vol->info.size);
  return 0;
}

VDK_API int
vdk_volume_pread (vdk_volume *vol, void *buf, size_t count, uint64_t offset)
{
  vdk__set_call ("vdk_volume_pread");
  if (check_io (vol, count, offset) == -1)
    return -1;
  if (vdk__vol_map_pread (vol->set, vol->vol->map, buf, count, offset) == -1)
    return vdk__err_prefix ("%s", vol->vol->info.name);
  return 0;
}

VDK_API int
vdk_volume_pwrite (vdk_volume *vol, const void *buf, size_t count,
                   uint64_t offset)
{
  vdk__set_call ("vdk_volume_pwrite");
  if (check_io (vol, count, offset) == -1)
    return -1;
  if (vol->readonly)
    return vdk__err (EROFS, "%s: volume opened read-only",
                     vol->vol->info.name);
  if (vdk__vol_map_pwrite (vol->set, vol->vol->map, buf, count, offset) == -1)
    return vdk__err_prefix ("%s", vol->vol->info.name);
  return 0;
}

VDK_API int
vdk_volume_flush (vdk_volume *vol)
{
  struct vdk_diskset *set;
  bool *seen;
  int r = 0;

  vdk__set_call ("vdk_volume_flush");
  if (!vol)
    return vdk__err (EINVAL, "volume must not be NULL");
  set = vol->set;
  seen = calloc (set->ndisks ? set->ndisks : 1, sizeof *seen);
  if (!seen)
    return vdk__err (ENOMEM, "out of memory");
  for (size_t i = 0; i < vol->vol->info.nmembers; i++) {
    int d = vol->vol->members[i].disk;
    if (d < 0 || seen[d] || !set->disks[d].disk)
      continue;
    seen[d] = true;
    if (vdk_flush (set->disks[d].disk) == -1)
      r = -1;
  }
  free (seen);
  return r;
}
