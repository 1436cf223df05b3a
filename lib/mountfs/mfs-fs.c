/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Mount a file system from a loop device, unmount it.
 *
 * -o text is split into MS_* flags (ro, noexec, nosymfollow, ...: the
 * generic options mount(8) turns into flags) and the file system's own
 * data string, as mount(8) does.  Read-only mounts of
 * journalling file systems add the option that skips journal replay
 * (ext3/4 noload, xfs norecovery, btrfs rescue=nologreplay): replay would
 * have to write to a read-only device.  nosuid,nodev are the default for
 * disk images of unknown origin; "suid"/"dev" turn them off.
 *
 * NTFS goes to ntfs-3g, a FUSE file system, through `mount -t ntfs-3g`
 * (fork + exec; its stdout goes to /dev/null so that a caller reading our
 * output through a pipe does not wait for the ntfs-3g daemon).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mountfs.h"

/* Linux 5.10; older C libraries lack the name. */
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

struct flag_name {
  const char *name;
  unsigned long set, clear;
};

static const struct flag_name flag_names[] = {
  { "ro", MS_RDONLY, 0 },         { "rw", 0, MS_RDONLY },
  { "nosuid", MS_NOSUID, 0 },     { "suid", 0, MS_NOSUID },
  { "nodev", MS_NODEV, 0 },       { "dev", 0, MS_NODEV },
  { "noexec", MS_NOEXEC, 0 },     { "exec", 0, MS_NOEXEC },
  { "sync", MS_SYNCHRONOUS, 0 },  { "async", 0, MS_SYNCHRONOUS },
  { "noatime", MS_NOATIME, 0 },   { "atime", 0, MS_NOATIME },
  { "nodiratime", MS_NODIRATIME, 0 }, { "relatime", MS_RELATIME, 0 },
  { "strictatime", MS_STRICTATIME, 0 }, { "dirsync", MS_DIRSYNC, 0 },
  { "lazytime", MS_LAZYTIME, 0 }, { "defaults", 0, 0 },
  { "nolazytime", 0, MS_LAZYTIME }, { "norelatime", 0, MS_RELATIME },
  { "diratime", 0, MS_NODIRATIME }, { "nostrictatime", 0, MS_STRICTATIME },
  { "nodirsync", 0, MS_DIRSYNC },
  { "iversion", MS_I_VERSION, 0 }, { "noiversion", 0, MS_I_VERSION },
  { "silent", MS_SILENT, 0 },     { "loud", 0, MS_SILENT },
  { "nosymfollow", MS_NOSYMFOLLOW, 0 }, { "symfollow", 0, MS_NOSYMFOLLOW },
};

static void
data_add (char *data, size_t size, const char *opt)
{
  size_t len = strlen (data);
  snprintf (data + len, size - len, "%s%s", len ? "," : "", opt);
}

/* Split `opts` into *flags and `data`. */
static void
split_options (const char *opts, unsigned long *flags, char *data,
               size_t size)
{
  char *copy = strdup (opts ? opts : "");
  char *save = NULL;
  data[0] = 0;
  for (char *o = strtok_r (copy, ",", &save); o; o = strtok_r (NULL, ",",
                                                               &save)) {
    size_t i;
    for (i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
      if (strcmp (o, flag_names[i].name) == 0)
        break;
    if (i < sizeof flag_names / sizeof flag_names[0]) {
      *flags |= flag_names[i].set;
      *flags &= ~flag_names[i].clear;
    } else
      data_add (data, size, o);
  }
  free (copy);
}

static void
add_no_replay (const char *fstype, char *data, size_t size)
{
  const char *opt = NULL;
  if (strcmp (fstype, "ext3") == 0 || strcmp (fstype, "ext4") == 0)
    opt = "noload";
  else if (strcmp (fstype, "xfs") == 0)
    opt = "norecovery";
  else if (strcmp (fstype, "btrfs") == 0)
    opt = "rescue=nologreplay";
  if (opt && strstr (data, opt) == NULL)
    data_add (data, size, opt);
}

static int
mount_ntfs3g (const char *dev, const char *dir, const char *opts,
              bool writable)
{
  char o[4096];
  snprintf (o, sizeof o, "%s%s%s", writable ? "rw" : "ro",
            opts && *opts ? "," : "", opts ? opts : "");
  pid_t pid = fork ();
  if (pid == -1)
    return vdk__err (errno, "fork: %s", strerror (errno));
  if (pid == 0) {
    /* A daemon blocks every signal; mount and ntfs-3g must not inherit
     * that across exec. */
    sigset_t none;
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);
    int null = open ("/dev/null", O_RDWR);
    if (null >= 0)
      dup2 (null, 1);
    execlp ("mount", "mount", "-t", "ntfs-3g", "-o", o, dev, dir,
            (char *) NULL);
    _exit (127);
  }
  int status;
  while (waitpid (pid, &status, 0) == -1 && errno == EINTR)
    ;
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  return vdk__errc (VDK_E_FAILED, EIO,
                    "mount -t ntfs-3g %s %s failed (exit %d); ntfs-3g "
                     "printed why above", dev, dir,
                     WIFEXITED (status) ? WEXITSTATUS (status) : -1);
}

static int
mount_error (const char *dev, const char *dir, const char *fstype, int e)
{
  switch (e) {
  case ENODEV:
    return vdk__errc (VDK_E_UNSUPPORTED, e, "the kernel does not support "
                      "%s file systems: modprobe %s", fstype, fstype);
  case EROFS:
  case EACCES:
    return vdk__errc (VDK_E_READ_ONLY, e, "mount %s on %s: the %s file "
                      "system wants to write (%s); mount it read-only, or "
                      "write to a redo child", dev, dir, fstype,
                      strerror (e));
  case EINVAL:
    return vdk__errc (VDK_E_INVALID_ARG, e, "mount %s on %s as %s failed: "
                      "wrong file system type, bad option or bad superblock "
                      "(dmesg tells which)", dev, dir, fstype);
  default:
    return vdk__err (e, "mount %s on %s as %s: %s", dev, dir, fstype,
                     strerror (e));
  }
}

int
vdk__mfs_mount_fs (int loopnr, const char *dir, const char *fstype,
                const char *opts, bool writable, bool ntfs3g)
{
  char dev[32], data[4096];
  unsigned long flags = MS_NOSUID | MS_NODEV;
  snprintf (dev, sizeof dev, "/dev/loop%d", loopnr);
  if (ntfs3g)
    return mount_ntfs3g (dev, dir, opts, writable);
  split_options (opts, &flags, data, sizeof data);
  if (!writable)
    flags |= MS_RDONLY;
  if (flags & MS_RDONLY)
    add_no_replay (fstype, data, sizeof data);
  if (mount (dev, dir, fstype, flags, data[0] ? data : NULL) == 0)
    return 0;
  return mount_error (dev, dir, fstype, errno);
}

/* A user's FUSE mount: fusermount3 -u (-z: lazily) unmounts it. */
static int
fusermount_u (const char *dir, bool force)
{
  const char *fm = vdk__mfs_fusermount ();
  int status;
  pid_t pid;

  if (fm == NULL || (pid = fork ()) == -1)
    return -1;
  if (pid == 0) {
    int null = open ("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2 (null, STDOUT_FILENO);
      dup2 (null, STDERR_FILENO);
    }
    execl (fm, "fusermount3", force ? "-uqz" : "-uq", "--", dir,
           (char *) NULL);
    _exit (127);
  }
  while (waitpid (pid, &status, 0) == -1)
    if (errno != EINTR)
      return -1;
  return WIFEXITED (status) && WEXITSTATUS (status) == 0 ? 0 : -1;
}

int
vdk__mfs_umount (const char *dir, bool force, const char *what)
{
  if (umount2 (dir, force ? MNT_DETACH : 0) == 0)
    return 0;
  int e = errno;
  if (e == EPERM && geteuid () != 0 && fusermount_u (dir, force) == 0)
    return 0;
  if ((e == EINVAL || e == ENOENT) && !vdk__mfs_is_mounted (dir))
    return 0;
  errno = e;
  if (e == EBUSY)
    return vdk__err (errno,
                     "%s %s is busy: a process has a file open there or "
                     "works in it (fuser -vm %s shows which); close them "
                     "and retry, or unmount with force (vdk umount --force) "
                     "for a lazy unmount", what, dir, dir);
  return vdk__err (errno, "cannot unmount %s %s: %s", what, dir, strerror (e));
}
