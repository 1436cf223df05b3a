/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mnt-sample.c - a VixMntapi program, written only against
 * compat/vixMntapi.h and vixDiskLib.h, run against vdk's libraries.
 *
 *   mnt-sample DISK FILE CONTENT
 *
 * DISK holds an ext4 partition with FILE (whose first line is CONTENT).
 * The canonical order of the VDDK's documentation: InitEx, Mntapi_Init,
 * Connect, OpenDisks, GetOsInfo, GetVolumeHandles, MountVolume
 * read-only, GetVolumeInfo, read the file through symbolicLink,
 * DismountVolume, CloseDiskSet.  Then a borrowing OpenDiskSet over a
 * handle the program opened read-write: a file written through a
 * read-write mount is read back after the set is closed and opened
 * again.  Output is TAP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vixMntapi.h"

#define is_vix(got, want, ...) is_int (VIX_ERROR_CODE (got), want, __VA_ARGS__)

static int
read_line (const char *dir, const char *file, char *buf, size_t n)
{
  char path[4096];
  FILE *f;
  snprintf (path, sizeof path, "%s/%s", dir, file);
  if (!(f = fopen (path, "r")))
    return -1;
  if (!fgets (buf, (int) n, f))
    buf[0] = 0;
  fclose (f);
  buf[strcspn (buf, "\n")] = 0;
  return 0;
}

/* The first volume of a set, with its info checked; NULL if none. */
static VixVolumeHandle
first_volume (VixDiskSetHandle set, VixVolumeHandle **arr)
{
  size_t n = 0;
  VixVolumeInfo *vi = NULL;

  is_vix (VixMntapi_GetVolumeHandles (set, &n, arr), VIX_OK,
          "GetVolumeHandles");
  if (!ok (n >= 1, "one volume or more (%zu)", n))
    return NULL;
  is_vix (VixMntapi_GetVolumeInfo ((*arr)[0], &vi), VIX_OK, "GetVolumeInfo");
  if (vi) {
    is_int (vi->type, VIXMNTAPI_BASIC_PARTITION, "an MBR partition is basic");
    ok (!vi->isMounted && !vi->symbolicLink, "not mounted yet");
    VixMntapi_FreeVolumeInfo (vi);
  }
  return (*arr)[0];
}

/* Mount `v`, return its path (malloc'd) or NULL. */
static char *
mount (VixVolumeHandle v, Bool ro)
{
  VixVolumeInfo *vi = NULL;
  char *path = NULL;
  VixError err = VixMntapi_MountVolume (v, ro);

  is_vix (err, VIX_OK, "MountVolume %s", ro ? "read-only" : "read-write");
  if (err != VIX_OK) {
    char *t = VixDiskLib_GetErrorText (err, NULL);
    diag ("%s", t ? t : "?");
    VixDiskLib_FreeErrorText (t);
    return NULL;
  }
  is_vix (VixMntapi_GetVolumeInfo (v, &vi), VIX_OK, "GetVolumeInfo mounted");
  if (vi && ok (vi->isMounted && vi->symbolicLink, "isMounted, symbolicLink"))
    path = strdup (vi->symbolicLink);
  VixMntapi_FreeVolumeInfo (vi);
  return path;
}

static void
read_only_pass (VixDiskLibConnection c, const char *disk, const char *file,
                const char *content)
{
  VixDiskSetHandle set = NULL;
  VixDiskSetInfo *si = NULL;
  VixOsInfo *os = NULL;
  VixVolumeHandle *arr = NULL, v;
  const char *names[] = { disk };
  char line[256], *path;

  is_vix (VixMntapi_OpenDisks (c, names, 1, VIXDISKLIB_FLAG_OPEN_READ_ONLY,
                               &set), VIX_OK, "OpenDisks read-only");
  if (!set)
    return;
  is_vix (VixMntapi_GetDiskSetInfo (set, &si), VIX_OK, "GetDiskSetInfo");
  if (si)
    is_int (si->openFlags, VIXDISKLIB_FLAG_OPEN_READ_ONLY, "openFlags kept");
  VixMntapi_FreeDiskSetInfo (si);
  is_vix (VixMntapi_GetOsInfo (set, &os), VIX_OK, "GetOsInfo");
  if (os)
    is_int (os->family, VIXMNTAPI_OTHER, "a Linux disk is family OTHER");
  VixMntapi_FreeOsInfo (os);
  if ((v = first_volume (set, &arr))) {
    is_vix (VixMntapi_DismountVolume (v, FALSE),
            VIX_E_MNTAPI_VOLUME_NOT_MOUNTED, "Dismount before Mount");
    is_vix (VixMntapi_MountVolume (v, FALSE),
            VIX_E_MNTAPI_VOLUME_NOT_WRITABLE,
            "a read-write mount of read-only disks is refused");
    if ((path = mount (v, TRUE))) {
      ok (read_line (path, file, line, sizeof line) == 0
          && strcmp (line, content) == 0, "%s read through %s", file, path);
      is_vix (VixMntapi_MountVolume (v, TRUE),
              VIX_E_MNTAPI_VOLUME_ALREADY_MOUNTED, "Mount twice");
      is_vix (VixMntapi_DismountVolume (v, FALSE), VIX_OK, "DismountVolume");
      ok (read_line (path, file, line, sizeof line) == -1,
          "the file is gone after DismountVolume");
      free (path);
    }
  }
  VixMntapi_FreeVolumeHandles (arr);
  is_vix (VixMntapi_CloseDiskSet (set), VIX_OK, "CloseDiskSet");
}

/* OpenDiskSet borrows the caller's read-write handle. */
static void
borrow_pass (VixDiskLibConnection c, const char *disk)
{
  VixDiskLibHandle h = NULL;
  VixDiskSetHandle set = NULL;
  VixVolumeHandle *arr = NULL, v;
  uint8 sector[512];
  char line[256], *path;

  is_vix (VixDiskLib_Open (c, disk, 0, &h), VIX_OK, "Open read-write");
  if (!h)
    return;
  is_vix (VixMntapi_OpenDiskSet (&h, 1, 0, &set), VIX_OK, "OpenDiskSet");
  if (set && (v = first_volume (set, &arr)) && (path = mount (v, FALSE))) {
    char p[4096];
    FILE *f;
    snprintf (p, sizeof p, "%s/written.txt", path);
    ok ((f = fopen (p, "w")) && fputs ("written by mnt-sample\n", f) >= 0
        && fclose (f) == 0, "write a file through the read-write mount");
    is_vix (VixMntapi_DismountVolume (v, FALSE), VIX_OK, "Dismount rw");
    free (path);
  }
  VixMntapi_FreeVolumeHandles (arr);
  if (set)
    is_vix (VixMntapi_CloseDiskSet (set), VIX_OK, "CloseDiskSet (borrowed)");
  is_vix (VixDiskLib_Read (h, 0, 1, sector), VIX_OK,
          "the borrowed handle still reads after CloseDiskSet");
  is_vix (VixDiskLib_Close (h), VIX_OK, "the caller closes its handle");

  /* What the rw mount wrote is on the disk. */
  const char *names[] = { disk };
  set = NULL;
  arr = NULL;
  VixMntapi_OpenDisks (c, names, 1, VIXDISKLIB_FLAG_OPEN_READ_ONLY, &set);
  if (set && (v = first_volume (set, &arr)) && (path = mount (v, TRUE))) {
    ok (read_line (path, "written.txt", line, sizeof line) == 0
        && strcmp (line, "written by mnt-sample") == 0,
        "the written file is there after reopening");
    VixMntapi_DismountVolume (v, TRUE);
    free (path);
  }
  VixMntapi_FreeVolumeHandles (arr);
  VixMntapi_CloseDiskSet (set);
}

int
main (int argc, char **argv)
{
  VixDiskLibConnection c;

  if (argc != 4) {
    printf ("Bail out! usage: mnt-sample DISK FILE CONTENT\n");
    return 1;
  }
  is_vix (VixDiskLib_InitEx (8, 0, NULL, NULL, NULL, NULL, NULL), VIX_OK,
          "VixDiskLib_InitEx");
  is_vix (VixMntapi_Init (2, 0, NULL, NULL, NULL, NULL, NULL),
          VIX_E_MNTAPI_INCOMPATIBLE_VERSION, "VixMntapi_Init 2.0 is refused");
  is_vix (VixMntapi_Init (VIXMNTAPI_MAJOR_VERSION, VIXMNTAPI_MINOR_VERSION,
                          NULL, NULL, NULL, NULL, NULL), VIX_OK,
          "VixMntapi_Init");
  is_vix (VixDiskLib_Connect (NULL, &c), VIX_OK, "Connect");
  read_only_pass (c, argv[1], argv[2], argv[3]);
  borrow_pass (c, argv[1]);
  VixDiskLib_Disconnect (c);
  VixMntapi_Exit ();
  VixDiskLib_Exit ();
  return tap_done ();
}
