/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A best-effort guess of the installed OS from the scanned volumes
 * alone (VixMntapi's GetOsInfo without reading any file system).
 *
 * Evidence used, all from the volume list:
 *   - Windows: NTFS volumes; a GPT "Microsoft reserved" partition (only
 *     Windows creates one); an LDM dynamic disk; an ESP next to NTFS.
 *     The system volume is the largest NTFS volume that is not labelled
 *     "System Reserved"/"Recovery"; the boot volume is the ESP if any,
 *     else the "System Reserved" volume.
 *   - Linux: ext2/3/4, XFS or btrfs file systems, Linux swap, LVM2.  The
 *     root candidate is an LV named "root" (or ending in "root"), else a
 *     GPT "Linux root (x86-64)" partition (which also tells 64-bit),
 *     else the largest Linux file system; /boot is the ESP, or a small
 *     Linux file system labelled "boot".
 * Each side scores one point per piece of evidence; the higher score
 * wins, ties and zero are "unknown".  Version, edition and the content
 * of /etc/os-release need the file system and are left "" here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mount-internal.h"

struct guess {
  int score;
  const struct vdk_volume_info *system, *boot;
  char evidence[1024];
};

static void
note (struct guess *g, const char *fmt, const char *name)
{
  size_t len = strlen (g->evidence);

  g->score++;
  snprintf (g->evidence + len, sizeof g->evidence - len, fmt, name);
}

static bool
is_linux_fs (const char *t)
{
  return strncmp (t, "ext", 3) == 0 || strcmp (t, "xfs") == 0
    || strcmp (t, "btrfs") == 0;
}

static bool
is_esp (const struct vdk_volume_info *v)
{
  return strcmp (v->part_type, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B") == 0
    || strcmp (v->part_type, "0xef") == 0;
}

static void
guess_windows (const vdk_diskset *set, struct guess *g)
{
  for (size_t i = 0; i < set->nvols; i++) {
    const struct vdk_volume_info *v = &set->vols[i]->info;
    if (strcmp (v->fs_type, "ntfs") == 0) {
      bool aux = strcasecmp (v->fs_label, "System Reserved") == 0
        || strcasecmp (v->fs_label, "Recovery") == 0;
      note (g, "NTFS volume %s\n", v->name);
      if (aux && !g->boot)
        g->boot = v;
      if (!aux && (!g->system || v->size > g->system->size))
        g->system = v;
    }
    if (strcmp (v->part_type, "E3C9E316-0B5C-4DB8-817D-F92DF00215AE") == 0)
      note (g, "Microsoft reserved partition %s\n", v->name);
    if (strcmp (v->kind, "ldm") == 0)
      note (g, "Windows dynamic-disk volume %s\n", v->name);
  }
  for (size_t i = 0; g->system && i < set->nvols; i++)
    if (is_esp (&set->vols[i]->info)) {
      g->boot = &set->vols[i]->info;
      note (g, "EFI system partition %s\n", g->boot->name);
      break;
    }
}

static bool
is_root_lv (const struct vdk_volume_info *v)
{
  const char *slash = strchr (v->name, '/');
  size_t len;

  if (strcmp (v->kind, "lvm") != 0 || !slash)
    return false;
  len = strlen (slash + 1);
  return len >= 4 && strcmp (slash + 1 + len - 4, "root") == 0;
}

static void
guess_linux (const vdk_diskset *set, struct guess *g, int *is64)
{
  const struct vdk_volume_info *largest = NULL, *root = NULL;

  for (size_t i = 0; i < set->nvols; i++) {
    const struct vdk_volume_info *v = &set->vols[i]->info;
    if (is_linux_fs (v->fs_type)) {
      note (g, "Linux file system on %s\n", v->name);
      if (strcasecmp (v->fs_label, "boot") == 0)
        g->boot = v;
      else if (!largest || v->size > largest->size)
        largest = v;
    }
    if (strcmp (v->fs_type, "swap") == 0)
      note (g, "Linux swap on %s\n", v->name);
    if (strcmp (v->kind, "lvm") == 0 && !(v->flags & VDK_VOLUME_HIDDEN))
      note (g, "LVM2 logical volume %s\n", v->name);
    if (is_root_lv (v) && !root)
      root = v;
    if (strcmp (v->part_type, "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709") == 0) {
      root = v;
      *is64 = 1;
    }
  }
  g->system = root ? root : largest;
  for (size_t i = 0; g->system && !g->boot && i < set->nvols; i++)
    if (is_esp (&set->vols[i]->info))
      g->boot = &set->vols[i]->info;
}

static char *
dup_or_empty (const char *s)
{
  return strdup (s ? s : "");
}

VDK_API int
vdk_diskset_os_info (vdk_diskset *set, struct vdk_os_info **info)
{
  struct guess win = { 0 }, lin = { 0 }, *g = NULL;
  struct vdk_os_info *os;
  int is64 = -1;

  vdk__set_call ("vdk_diskset_os_info");
  if (!set || !info)
    return vdk__err (EINVAL, "set and info must not be NULL");
  if (!set->scanned)
    return vdk__err (EINVAL, "the set was not scanned");
  guess_windows (set, &win);
  guess_linux (set, &lin, &is64);
  if (win.score > lin.score && win.system)
    g = &win;
  else if (lin.score > win.score && lin.system)
    g = &lin;
  os = calloc (1, sizeof *os);
  if (!os)
    return vdk__err (ENOMEM, "out of memory");
  os->is_64bit = g == &lin ? is64 : -1;
  os->family = strdup (g == &win ? "windows" : g == &lin ? "linux"
                       : "unknown");
  os->vendor = strdup (g == &win ? "Microsoft" : "");
  os->version = strdup ("");
  os->system_volume = dup_or_empty (g ? g->system->name : NULL);
  os->boot_volume = dup_or_empty (g && g->boot ? g->boot->name : NULL);
  os->os_folder = strdup (g == &win ? "\\Windows" : g == &lin ? "/" : "");
  os->evidence = strdup (g ? g->evidence : "no operating-system evidence "
                         "found on the volumes\n");
  if (!os->family || !os->vendor || !os->version || !os->system_volume
      || !os->boot_volume || !os->os_folder || !os->evidence) {
    vdk_free_os_info (os);
    return vdk__err (ENOMEM, "out of memory");
  }
  *info = os;
  return 0;
}

VDK_API void
vdk_free_os_info (struct vdk_os_info *info)
{
  if (!info)
    return;
  free (info->family);
  free (info->vendor);
  free (info->version);
  free (info->system_volume);
  free (info->boot_volume);
  free (info->os_folder);
  free (info->evidence);
  free (info);
}
