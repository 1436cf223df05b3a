/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Mounting from a program, with the public headers only (no vdk tool):
 *
 *   mount-lib DISK FILE TEXT DIR
 *
 * opens DISK, lends it to a disk set, finds the ext4 volume, mounts it
 * read-only with vdk_mount_volume on a folder the library makes, reads
 * FILE through the returned path and compares it with TEXT, then checks
 * what a caller relies on: the info of the handle, that the mount is
 * read-only and findable, that a busy mount point refuses a plain
 * unmount with VDK_E_LOCKED and keeps the handle usable, that an unknown
 * volume fails with VDK_E_NOT_FOUND leaving nothing behind, and that after
 * vdk_unmount the folder is gone; then a read-write mount on DIR whose
 * write a second mount reads back; and the disk is still the caller's.
 * TAP output; mount-lib.sh makes the fixture. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vdk.h>
#include <vdk-mount.h>

static int n_tests, n_failed;

static bool
ok (bool cond, const char *what)
{
  n_tests++;
  n_failed += !cond;
  printf ("%sok %d - %s\n", cond ? "" : "not ", n_tests, what);
  if (!cond)
    printf ("#   last error: %s (code %d)\n", vdk_last_error (),
            vdk_last_error_code ());
  fflush (stdout);
  return cond;
}

static const char *
find_ext4 (const vdk_diskset *set)
{
  for (size_t i = 0; i < vdk_volume_count (set); i++) {
    const struct vdk_volume_info *v = vdk_volume_get_info (set, i);
    if (strcmp (v->fs_type, "ext4") == 0)
      return v->name;
  }
  return NULL;
}

static bool
file_has (const char *dir, const char *file, const char *text)
{
  char path[4096], buf[4096];
  snprintf (path, sizeof path, "%s/%s", dir, file);
  FILE *f = fopen (path, "re");
  if (f == NULL)
    return false;
  size_t n = fread (buf, 1, sizeof buf - 1, f);
  fclose (f);
  buf[n] = 0;
  return strncmp (buf, text, strlen (text)) == 0;
}

static void
check_mounted (vdk_mount *m, const char *file, const char *text)
{
  const struct vdk_mount_info *mi = vdk_mount_get_info (m);
  const char *path = vdk_mount_path (m);
  char probe[4096];
  ok (path && path[0] == '/', "the mount has an absolute path");
  ok (file_has (path, file, text), "the file reads back through the path");
  ok (mi->served_here && mi->alive && mi->loop >= 0 && !mi->writable
      && strcmp (mi->fstype, "ext4") == 0,
      "info: served here, alive, a loop device, read-only ext4");
  snprintf (probe, sizeof probe, "%s/new-file", path);
  int fd = open (probe, O_WRONLY | O_CREAT, 0644);
  ok (fd == -1 && errno == EROFS, "the mount refuses writes (EROFS)");
  if (fd >= 0)
    close (fd);
  vdk_mount *found = vdk_mount_find (path);
  ok (found && strcmp (vdk_mount_get_info (found)->id, mi->id) == 0,
      "vdk_mount_find finds it by its path");
  vdk_mount_release (found);
}

static void
check_busy (vdk_mount *m, const char *file)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", vdk_mount_path (m), file);
  int fd = open (path, O_RDONLY);
  ok (vdk_unmount (m, 0) == -1 && vdk_last_error_code () == VDK_E_LOCKED,
      "a busy mount point refuses a plain unmount (VDK_E_LOCKED)");
  char c;
  ok (fd >= 0 && read (fd, &c, 1) == 1, "and stays mounted and readable");
  if (fd >= 0)
    close (fd);
}

static void
check_unknown (vdk_diskset *set)
{
  vdk_mount *m = vdk_mount_volume (set, "no-such-volume", NULL, NULL);
  ok (m == NULL && vdk_last_error_code () == VDK_E_NOT_FOUND,
      "an unknown volume fails with VDK_E_NOT_FOUND");
  vdk_mount **list;
  size_t n = 99;
  ok (vdk_mount_list (&list, &n) == 0 && n == 0,
      "and leaves no mount behind");
  vdk_mount_list_free (list, n);
}

/* Read-write on a folder of the caller's: a file written through one
 * mount is read back through the next. */
static void
check_writable (vdk_diskset *set, const char *vol, const char *dir)
{
  struct vdk_mount_params p = VDK_MOUNT_PARAMS_INIT;
  p.flags = VDK_MOUNT_WRITABLE;
  vdk_mount *m = vdk_mount_volume (set, vol, dir, &p);
  if (!ok (m != NULL, "read-write mount on the caller's folder"))
    return;
  char path[4096];
  snprintf (path, sizeof path, "%s/written.txt", dir);
  FILE *f = fopen (path, "we");
  ok (f && fputs ("written through vdk_mount_volume", f) >= 0
      && fclose (f) == 0, "a file written through the mount");
  ok (vdk_mount_get_info (m)->writable, "info says writable");
  ok (vdk_unmount (m, 0) == 0, "unmounted");
  m = vdk_mount_volume (set, vol, dir, NULL);
  ok (m && file_has (dir, "written.txt", "written through vdk_mount_volume"),
      "a second mount reads the file back");
  ok (m && vdk_unmount (m, 0) == 0, "unmounted again");
}

int
main (int argc, char **argv)
{
  if (argc != 5) {
    fprintf (stderr, "usage: mount-lib DISK FILE TEXT DIR\n");
    return 2;
  }
  vdk_disk *disk = vdk_open (argv[1], 0);
  vdk_diskset *set = vdk_diskset_new ();
  if (!ok (disk && set && vdk_diskset_add_ex (set, disk, argv[1],
                                              VDK_DISKSET_BORROW) == 0
           && vdk_diskset_scan (set, 0) == 0, "disk opened, lent to a set"))
    return 1;
  const char *vol = find_ext4 (set);
  if (!ok (vol != NULL, "the set holds an ext4 volume"))
    return 1;
  check_unknown (set);
  struct vdk_mount_params p = VDK_MOUNT_PARAMS_INIT;
  vdk_mount *m = vdk_mount_volume (set, vol, NULL, &p);
  if (!ok (m != NULL, "vdk_mount_volume mounted it"))
    return 1;
  char path[4096];
  snprintf (path, sizeof path, "%s", vdk_mount_path (m));
  check_mounted (m, argv[2], argv[3]);
  check_busy (m, argv[2]);
  ok (vdk_unmount (m, 0) == 0, "vdk_unmount");
  struct stat st;
  ok (stat (path, &st) == -1 && errno == ENOENT,
      "the folder the library made is gone");
  check_writable (set, vol, argv[4]);
  ok (vdk_diskset_close (set) == 0, "set closed");
  char buf[512];
  ok (vdk_pread (disk, buf, sizeof buf, 0) == 0 && vdk_close (disk) == 0,
      "the borrowed disk still reads, and the caller closes it");
  printf ("1..%d\n", n_tests);
  return n_failed ? 1 : 0;
}
