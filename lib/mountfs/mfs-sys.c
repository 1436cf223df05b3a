/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What mounting needs from the machine: checks with actionable messages.
 *
 * Every check names what is missing and how to get it, because the
 * person reading the message is at a shell: "modprobe fuse", "run as
 * root", "mkdir -p DIR".  The checks read /dev/fuse, /dev/loop-control
 * and /proc/filesystems; the test suite points them elsewhere with
 * VDK_TEST_SYSROOT (a folder holding dev/ and proc/ look-alikes) to
 * provoke each message without breaking the machine.
 *
 * Also here: vdk__mfs_is_mounted (/proc/self/mountinfo, with its octal
 * escapes).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mountfs.h"

/* /dev/fuse etc., below $VDK_TEST_SYSROOT when the tests set it. */
static const char *
sys_path (const char *path, char *buf, size_t size)
{
  const char *root = getenv ("VDK_TEST_SYSROOT");
  if (root == NULL || *root == 0)
    return path;
  snprintf (buf, size, "%s%s", root, path);
  return buf;
}

/* True if /proc/filesystems lists `name`. */
static bool
kernel_has_fs (const char *name)
{
  char pbuf[4096], line[256];
  FILE *f = fopen (sys_path ("/proc/filesystems", pbuf, sizeof pbuf), "re");
  bool found = false;
  if (f == NULL)
    return false;
  while (!found && fgets (line, sizeof line, f)) {
    char *fs = strchr (line, '\t');
    fs = fs ? fs + 1 : line;
    fs[strcspn (fs, "\r\n")] = 0;
    found = strcmp (fs, name) == 0;
  }
  fclose (f);
  return found;
}

const char *
vdk__mfs_fusermount (void)
{
  static const char *const paths[] = {
    "/usr/bin/fusermount3", "/bin/fusermount3", "/usr/local/bin/fusermount3",
  };
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
    if (access (paths[i], X_OK) == 0)
      return paths[i];
  return NULL;
}

int
vdk__mfs_check_root (void)
{
  if (geteuid () == 0)
    return 0;
  return vdk__errc (VDK_E_ACCESS_DENIED, EPERM,
                    "mounting needs root (loop devices and mount(2) are "
                    "privileged): run it as root, e.g. with sudo");
}

int
vdk__mfs_check_fuse (void)
{
  char pbuf[4096];
  const char *dev = sys_path ("/dev/fuse", pbuf, sizeof pbuf);
  struct stat st;
  bool has_fs = kernel_has_fs ("fuse");
  if (stat (dev, &st) == -1 && !has_fs)
    return vdk__errc (VDK_E_UNSUPPORTED, ENODEV,
                      "FUSE is not available: the fuse module is not "
                       "loaded and %s is missing; load it with "
                       "`modprobe fuse`", dev);
  if (!has_fs)
    return vdk__errc (VDK_E_UNSUPPORTED, ENODEV,
                      "FUSE is not available: the fuse module is not "
                       "loaded (no \"fuse\" in /proc/filesystems); load it "
                       "with `modprobe fuse`");
  if (stat (dev, &st) == -1)
    return vdk__errc (VDK_E_UNSUPPORTED, ENODEV,
                      "%s is missing although the kernel has FUSE: make "
                       "it with `mknod -m 0666 /dev/fuse c 10 229` (in a "
                       "container, pass --device /dev/fuse)", dev);
  int fd = open (dev, O_RDWR | O_CLOEXEC);
  /* A user who cannot open it mounts through libfuse's setuid helper. */
  if (fd == -1 && errno == EACCES && geteuid () != 0
      && vdk__mfs_fusermount () != NULL)
    return 0;
  if (fd == -1) {
    int e = errno;
    return vdk__err (e, "cannot open %s: %s (run as root, or install "
                       "fusermount3; in a container pass --device "
                       "/dev/fuse --cap-add SYS_ADMIN)", dev,
                       strerror (e));
  }
  close (fd);
  return 0;
}

int
vdk__mfs_check_loop (void)
{
  char pbuf[4096];
  const char *ctl = sys_path ("/dev/loop-control", pbuf, sizeof pbuf);
  struct stat st;
  if (stat (ctl, &st) == -1) {
    return vdk__errc (VDK_E_UNSUPPORTED, ENODEV,
                      "no loop device support: %s is missing; load the "
                       "loop module with `modprobe loop` (in a container, "
                       "pass --device /dev/loop-control and /dev/loopN)",
                       ctl);
  }
  if (access (ctl, R_OK | W_OK) == -1)
    return vdk__err (errno, "cannot use %s: %s (loop devices need root)", ctl,
                       strerror (errno));
  return 0;
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void
unescape (char *s)
{
  char *o = s;
  for (char *p = s; *p; p++) {
    if (p[0] == '\\' && p[1] >= '0' && p[1] <= '7' && p[2] && p[3]) {
      *o++ = (char) (((p[1] - '0') << 6) | ((p[2] - '0') << 3) | (p[3] - '0'));
      p += 3;
    } else
      *o++ = *p;
  }
  *o = 0;
}

bool
vdk__mfs_mount_source (const char *dir, char *src, size_t size)
{
  char real[4096], line[8192];
  if (realpath (dir, real) == NULL)
    return false;
  FILE *f = fopen ("/proc/self/mountinfo", "re");
  bool found = false;
  if (f == NULL)
    return false;
  /* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - TYPE SOURCE ..."
   * The last matching line is the mount on top. */
  while (fgets (line, sizeof line, f)) {
    char mnt[4096], source[4096] = "";
    if (sscanf (line, "%*s %*s %*s %*s %4095s", mnt) != 1)
      continue;
    unescape (mnt);
    if (strcmp (mnt, real) != 0)
      continue;
    const char *dash = strstr (line, " - ");
    if (dash)
      sscanf (dash + 3, "%*s %4095s", source);
    unescape (source);
    snprintf (src, size, "%s", source);
    found = true;
  }
  fclose (f);
  return found;
}

bool
vdk__mfs_is_mounted (const char *dir)
{
  char src[4096];
  return vdk__mfs_mount_source (dir, src, sizeof src);
}

/* A mount hides what its folder holds (and a user who mounts onto a
 * full folder by mistake would think the files gone): refuse, as the
 * man page says. */
static int
check_empty (const char *dir, const char *what)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  const char *first = NULL;

  if (d == NULL)
    return vdk__err (errno, "%s %s: %s", what, dir, strerror (errno));
  while (first == NULL && (e = readdir (d)) != NULL)
    if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
      first = e->d_name;
  if (first) {
    vdk__errc (VDK_E_INVALID_ARG, ENOTEMPTY, "%s %s is not empty (it holds "
               "\"%s\"): a mount would hide what it holds; use an empty "
               "folder", what, dir, first);
    closedir (d);
    return -1;
  }
  closedir (d);
  return 0;
}

int
vdk__mfs_check_dir (const char *dir, const char *what)
{
  struct stat st;
  if (stat (dir, &st) == -1) {
    if (errno == ENOENT)
      return vdk__errc (VDK_E_NOT_FOUND, ENOENT,
                        "%s %s does not exist; create it with "
                         "`mkdir -p %s`", what, dir, dir);
    return vdk__err (errno, "%s %s: %s", what, dir, strerror (errno));
  }
  if (!S_ISDIR (st.st_mode)) {
    return vdk__errc (VDK_E_INVALID_ARG, ENOTDIR, "%s %s is not a directory",
                      what, dir);
  }
  if (vdk__mfs_is_mounted (dir)) {
    return vdk__errc (VDK_E_INVALID_ARG, EBUSY,
                      "%s %s is already a mount point; unmount it first "
                       "or choose another folder", what, dir);
  }
  return check_empty (dir, what);
}

static bool
have_ntfs3g (void)
{
  return access ("/sbin/mount.ntfs-3g", X_OK) == 0
    || access ("/usr/sbin/mount.ntfs-3g", X_OK) == 0
    || access ("/bin/ntfs-3g", X_OK) == 0
    || access ("/usr/bin/ntfs-3g", X_OK) == 0;
}

int
vdk__mfs_check_fstype (const char *fstype, bool *use_ntfs3g)
{
  *use_ntfs3g = false;
  if (strcmp (fstype, "swap") == 0 || strcmp (fstype, "LVM2_member") == 0
      || strstr (fstype, "_member") || strcmp (fstype, "crypto_LUKS") == 0)
    return vdk__errc (VDK_E_UNSUPPORTED, ENODEV,
                      "the volume holds %s, not a file system that can "
                       "be mounted (use vdk mount --flat to reach its "
                       "bytes)", fstype);
  if (strcmp (fstype, "ntfs") == 0 || strcmp (fstype, "ntfs-3g") == 0) {
    if (!have_ntfs3g ())
      return vdk__errc (VDK_E_UNSUPPORTED, ENODEV,
                        "NTFS is mounted with ntfs-3g, which is not "
                         "installed: apt-get install ntfs-3g");
    if (!kernel_has_fs ("fuseblk") && !kernel_has_fs ("fuse"))
      return vdk__errc (VDK_E_UNSUPPORTED, ENODEV,
                        "ntfs-3g needs FUSE: load it with `modprobe fuse`");
    *use_ntfs3g = true;
    return 0;
  }
  if (kernel_has_fs (fstype))
    return 0;
  return vdk__errc (VDK_E_UNSUPPORTED, ENODEV,
                    "the kernel does not support %s file systems (not "
                     "in /proc/filesystems): load the module with "
                     "`modprobe %s`, or read the volume file of `vdk mount "
                     "--flat` with a user-space tool%s", fstype, fstype,
                     strcmp (fstype, "vfat") == 0 ? " (mtools: mcopy -i)"
                     : "");
}
