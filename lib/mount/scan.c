/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The scan: runs the parsers over a set in a fixed order and names the
 * volumes they found.
 *
 * Order and why:
 *   1. partition tables of every disk (MBR, which hands protective MBRs
 *      to GPT) - later passes look inside partitions;
 *   2. LVM2 PVs on whole disks without a table and in partitions, then
 *      the VGs they form (a VG may span disks);
 *   3. LDM: MBR disks whose first slot is 0x42 and GPT disks with an LDM
 *      metadata partition;
 *   4. a whole disk with none of the above may hold a bare file system:
 *      it is listed as "disk" when blkid finds something there;
 *   5. names ("N" or "D:N" for partitions, see vdk-mount.h) and blkid.
 * A parser that meets damaged metadata records a warning and lets the
 * scan go on; only I/O and memory errors stop the scan. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mount-internal.h"

static int
add_whole_disk (struct vdk_diskset *set, size_t d)
{
  struct vdk__vol *v = vdk__vol_new (set, "disk", "partition");

  if (!v)
    return -1;
  v->set_disk = (int) d;
  return vdk__vol_set_map (v, vdk__vol_map_leaf ((int) d, 0, set->disks[d].size));
}

static int
name_partition (struct vdk_diskset *set, struct vdk__vol *v)
{
  bool multi = set->ndisks > 1;
  int dn = v->set_disk + 1;
  char parent[64];

  if (strcmp (v->info.kind, "disk") == 0)
    return multi ? vdk__vol_str (v, &v->info.name, "%d:disk", dn)
      : vdk__vol_str (v, &v->info.name, "disk");
  if (multi && v->info.parent[0]) {
    snprintf (parent, sizeof parent, "%d:%s", dn, v->info.parent);
    if (vdk__vol_str (v, &v->info.parent, "%s", parent) == -1)
      return -1;
  }
  return multi ? vdk__vol_str (v, &v->info.name, "%d:%d", dn, v->part_number)
    : vdk__vol_str (v, &v->info.name, "%d", v->part_number);
}

/* LDM names are unique within a disk group only. */
static int
name_ldm_collisions (struct vdk_diskset *set)
{
  for (size_t i = 0; i < set->nvols; i++) {
    struct vdk__vol *a = set->vols[i];
    bool clash = false;
    if (strcmp (a->info.kind, "ldm") != 0 || strchr (a->info.name, '/'))
      continue;
    for (size_t j = 0; j < set->nvols; j++) {
      struct vdk__vol *b = set->vols[j];
      if (j != i && strcmp (b->info.kind, "ldm") == 0
          && strcmp (b->info.group, a->info.group) != 0
          && (strcmp (b->info.name, a->info.name) == 0
              || (strchr (b->info.name, '/')
                  && strcmp (strchr (b->info.name, '/') + 1,
                             a->info.name) == 0)))
        clash = true;
    }
    if (clash && vdk__vol_str (a, &a->info.name, "%s/%s", a->info.group,
                             a->info.name) == -1)
      return -1;
  }
  return 0;
}

/* The partition holding every member of an LVM LV (a PV in a partition),
 * or NULL. */
static const struct vdk__vol *
lv_partition (const struct vdk_diskset *set, const struct vdk__vol *lv)
{
  const struct vdk__vol *hit = NULL;

  for (size_t k = 0; k < lv->info.nmembers; k++) {
    const struct vdk_volume_member *mb = &lv->members[k];
    const struct vdk__vol *in = NULL;
    for (size_t i = 0; mb->disk >= 0 && i < set->nvols && !in; i++) {
      const struct vdk__vol *p = set->vols[i];
      if (p->set_disk == mb->disk && (p->info.flags & VDK_VOLUME_CONTAINER)
          && strcmp (p->info.kind, "disk") != 0
          && p->info.start <= mb->offset
          && mb->offset - p->info.start < p->info.size)
        in = p;
    }
    if (!in || (hit && hit != in))
      return NULL;
    hit = in;
  }
  return hit;
}

static int
name_volumes (struct vdk_diskset *set)
{
  for (size_t i = 0; i < set->nvols; i++) {
    struct vdk__vol *v = set->vols[i];
    if ((strcmp (v->info.kind, "mbr") == 0 || strcmp (v->info.kind, "gpt") == 0
         || strcmp (v->info.kind, "disk") == 0)
        && name_partition (set, v) == -1)
      return -1;
  }
  for (size_t i = 0; i < set->nvols; i++) {
    struct vdk__vol *v = set->vols[i];
    const struct vdk__vol *p = strcmp (v->info.kind, "lvm") == 0
      ? lv_partition (set, v) : NULL;
    if (p && vdk__vol_str (v, &v->info.parent, "%s", p->info.name) == -1)
      return -1;
  }
  return name_ldm_collisions (set);
}

/* Whole-disk candidates where blkid found nothing are not volumes. */
static void
drop_empty_disks (struct vdk_diskset *set, bool probed)
{
  size_t k = 0;

  for (size_t i = 0; i < set->nvols; i++) {
    struct vdk__vol *v = set->vols[i];
    if (strcmp (v->info.kind, "disk") == 0
        && (!probed || v->info.fs_type[0] == 0)) {
      vdk__vol_free (v);
      continue;
    }
    v->info.index = k;
    set->vols[k++] = v;
  }
  set->nvols = k;
}

static int
scan_all (struct vdk_diskset *set, unsigned flags)
{
  for (size_t d = 0; d < set->ndisks; d++)
    if (vdk__vol_scan_mbr (set, d) == -1)
      return -1;
  if (!(flags & VDK_SCAN_NO_LVM) && vdk__vol_scan_lvm (set) == -1)
    return -1;
  if (!(flags & VDK_SCAN_NO_LDM) && vdk__vol_scan_ldm (set) == -1)
    return -1;
  for (size_t d = 0; d < set->ndisks; d++) {
    struct vdk__vol_disk *md = &set->disks[d];
    if (!md->has_table && !md->layout.lvm_pv && !md->layout.ldm
        && add_whole_disk (set, d) == -1)
      return -1;
  }
  if (name_volumes (set) == -1)
    return -1;
  if (!(flags & VDK_SCAN_NO_FS))
    vdk__vol_probe_volumes (set);
  drop_empty_disks (set, !(flags & VDK_SCAN_NO_FS));
  return 0;
}

VDK_API int
vdk_diskset_scan (vdk_diskset *set, unsigned flags)
{
  const unsigned SCAN_FLAGS = VDK_SCAN_NO_FS | VDK_SCAN_NO_LVM
    | VDK_SCAN_NO_LDM;
  vdk__set_call ("vdk_diskset_scan");
  if (!set)
    return vdk__err (EINVAL, "set must not be NULL");
  if (flags & ~SCAN_FLAGS)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "unknown scan flags 0x%x",
                      flags & ~SCAN_FLAGS);
  if (set->open_volumes)
    return vdk__err (EBUSY, "%u volumes of the set are open",
                     set->open_volumes);
  vdk__vol_set_clear_volumes (set);
  if (scan_all (set, flags) == -1) {
    vdk__vol_set_clear_volumes (set);
    return -1;
  }
  set->scanned = true;
  return 0;
}

/* "N" in a multi-disk set: the one "D:N" that matches, if only one. */
static const struct vdk_volume_info *
find_suffix (const vdk_diskset *set, const char *name, bool *ambiguous)
{
  const struct vdk_volume_info *hit = NULL;
  size_t len = strlen (name);

  for (size_t i = 0; i < set->nvols; i++) {
    const char *n = set->vols[i]->info.name, *colon = strchr (n, ':');
    if (colon && strlen (colon + 1) == len && strcmp (colon + 1, name) == 0) {
      if (hit) {
        *ambiguous = true;
        return NULL;
      }
      hit = &set->vols[i]->info;
    }
  }
  return hit;
}

VDK_API const struct vdk_volume_info *
vdk_volume_find (const vdk_diskset *set, const char *name)
{
  vdk__set_call ("vdk_volume_find");
  return vdk__vol_find (set, name);
}

/* "UUID=..." (file system UUID, any case), "LABEL=..." (file system
 * label), "PARTUUID=..." and "PARTLABEL=..." as mount(8) and fstab
 * take them; NULL with *tagged false when `name` has no such tag. */
static const struct vdk_volume_info *
find_tagged (const vdk_diskset *set, const char *name, bool *tagged)
{
  static const struct { const char *tag; size_t off; bool icase; } tags[] = {
    { "UUID=", offsetof (struct vdk_volume_info, fs_uuid), true },
    { "LABEL=", offsetof (struct vdk_volume_info, fs_label), false },
    { "PARTUUID=", offsetof (struct vdk_volume_info, uuid), true },
    { "PARTLABEL=", offsetof (struct vdk_volume_info, part_label), false },
  };
  const struct vdk_volume_info *hit = NULL;

  *tagged = false;
  for (size_t t = 0; t < sizeof tags / sizeof tags[0]; t++) {
    size_t n = strlen (tags[t].tag);
    const char *want = name + n;
    if (strncmp (name, tags[t].tag, n) != 0)
      continue;
    *tagged = true;
    for (size_t i = 0; i < set->nvols; i++) {
      const struct vdk_volume_info *v = &set->vols[i]->info;
      const char *have = *(const char *const *) (const void *)
        ((const char *) v + tags[t].off);
      if (v->flags & VDK_VOLUME_HIDDEN || !*want || !have
          || (tags[t].icase ? strcasecmp (have, want) : strcmp (have, want)))
        continue;
      if (hit) {
        vdk__err (ENOENT, "%s names volumes %s and %s; name one of them",
                  name, hit->name, v->name);
        return NULL;
      }
      hit = v;
    }
    if (!hit)
      vdk__err (ENOENT, "no volume has %s (vdk volumes lists the file "
                "systems' labels and UUIDs)", name);
  }
  return hit;
}

const struct vdk_volume_info *
vdk__vol_find (const vdk_diskset *set, const char *name)
{
  const struct vdk_volume_info *hit;
  bool tagged;

  if (!set || !name || !name[0]) {
    vdk__err (EINVAL, "no volume name given");
    return NULL;
  }
  hit = find_tagged (set, name, &tagged);
  if (tagged)
    return hit;
  for (size_t i = 0; i < set->nvols; i++)
    if (strcmp (set->vols[i]->info.name, name) == 0)
      return &set->vols[i]->info;
  for (size_t i = 0; i < set->nvols; i++)
    if (set->vols[i]->info.uuid[0]
        && strcasecmp (set->vols[i]->info.uuid, name) == 0)
      return &set->vols[i]->info;
  /* "1:N" names partition N in a one-disk set, where it is just "N". */
  if (set->ndisks == 1 && strncmp (name, "1:", 2) == 0)
    for (size_t i = 0; i < set->nvols; i++)
      if (strcmp (set->vols[i]->info.name, name + 2) == 0)
        return &set->vols[i]->info;
  bool ambiguous = false;
  hit = find_suffix (set, name, &ambiguous);
  if (ambiguous)
    vdk__err (ENOENT, "\"%s\" names a partition on several disks; say "
              "\"D:%s\" (D = disk number)", name, name);
  else if (!hit)
    vdk__err (ENOENT, "no volume named \"%s\"%s", name,
              set->scanned ? "" : " (the set was not scanned)");
  return hit;
}
