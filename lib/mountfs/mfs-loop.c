/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loop devices: attach a FUSE-exposed volume file, detach, query.
 *
 * Attach follows util-linux (lib/loopdev.c): LOOP_CTL_GET_FREE on
 * /dev/loop-control gives a free N; LOOP_CONFIGURE (Linux 5.8+) sets the
 * backing fd, flags and name in one call, with LOOP_SET_FD +
 * LOOP_SET_STATUS64 as the fallback on EINVAL/ENOTTY/ENOSYS.  EBUSY means
 * another process took that device between the two calls: ask again.
 *
 * Flags: AUTOCLEAR always, so the device frees itself when its last user
 * (the mounted file system, or our own descriptor on a failure path)
 * goes; READ_ONLY unless the mount is writable, and the backing file is
 * then opened O_RDONLY as well.  VDK_LOOP_DIRECT_IO=1 adds
 * LO_FLAGS_DIRECT_IO (benchmarks: avoids caching data twice).
 *
 * Without udev /dev/loopN may be missing although the kernel has it; the
 * node is then made with mknod (block major 7).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "mountfs.h"

#define LOOP_MAJOR_NR 7
#define ATTACH_TRIES 32

static int
open_loop_dev (int nr, bool writable)
{
  char path[32];
  snprintf (path, sizeof path, "/dev/loop%d", nr);
  int flags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC;
  int fd = open (path, flags);
  if (fd == -1 && errno == ENOENT) {
    if (mknod (path, S_IFBLK | 0660, makedev (LOOP_MAJOR_NR, nr)) == -1
        && errno != EEXIST)
      return vdk__err (errno, "%s is missing and cannot be made: %s", path,
                         strerror (errno));
    fd = open (path, flags);
  }
  if (fd == -1)
    return vdk__err (errno, "cannot open %s: %s", path, strerror (errno));
  return fd;
}

static void
fill_info (struct loop_info64 *info, const char *file, bool writable)
{
  memset (info, 0, sizeof *info);
  info->lo_flags = LO_FLAGS_AUTOCLEAR;
  if (!writable)
    info->lo_flags |= LO_FLAGS_READ_ONLY;
  const char *dio = getenv ("VDK_LOOP_DIRECT_IO");
  if (dio != NULL && strcmp (dio, "1") == 0)
    info->lo_flags |= LO_FLAGS_DIRECT_IO;
  snprintf ((char *) info->lo_file_name, LO_NAME_SIZE, "%s", file);
}

/* 0 attached, 1 device busy (try another), -1 failed. */
static int
configure (int lfd, int ffd, const char *file, bool writable)
{
  struct loop_config cfg;
  memset (&cfg, 0, sizeof cfg);
  cfg.fd = (uint32_t) ffd;
  fill_info (&cfg.info, file, writable);
  if (ioctl (lfd, LOOP_CONFIGURE, &cfg) == 0)
    return 0;
  if (errno == EBUSY)
    return 1;
  if (errno != EINVAL && errno != ENOTTY && errno != ENOSYS)
    return vdk__err (errno, "LOOP_CONFIGURE: %s", strerror (errno));
  /* Kernels before 5.8. */
  if (ioctl (lfd, LOOP_SET_FD, ffd) == -1)
    return errno == EBUSY ? 1
      : vdk__err (errno, "LOOP_SET_FD: %s", strerror (errno));
  if (ioctl (lfd, LOOP_SET_STATUS64, &cfg.info) == -1) {
    int e = errno;
    ioctl (lfd, LOOP_CLR_FD, 0);
    return vdk__err (e, "LOOP_SET_STATUS64: %s", strerror (e));
  }
  return 0;
}

static int
attach_with (int ctl, int ffd, const char *file, bool writable, int *loop_fd)
{
  for (int tries = 0; tries < ATTACH_TRIES; tries++) {
    int nr = ioctl (ctl, LOOP_CTL_GET_FREE);
    if (nr == -1)
      return vdk__err (errno, "no free loop device (LOOP_CTL_GET_FREE: %s); "
                         "detach unused ones with losetup -D or raise "
                         "max_loop (modprobe loop max_loop=64)",
                         strerror (errno));
    int lfd = open_loop_dev (nr, writable);
    if (lfd == -1)
      return -1;
    int r = configure (lfd, ffd, file, writable);
    if (r == 0) {
      *loop_fd = lfd;
      return nr;
    }
    close (lfd);
    if (r == -1)
      return -1;
  }
  return vdk__errc (VDK_E_LOCKED, EBUSY, "every free loop device was taken "
                    "by another process "
                     "(%d tries)", ATTACH_TRIES);
}

int
vdk__mfs_loop_attach (const char *file, bool writable, int *loop_fd)
{
  if (vdk__mfs_check_loop () == -1)
    return -1;
  int ctl = open ("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (ctl == -1)
    return vdk__err (errno, "cannot open /dev/loop-control: %s",
                       strerror (errno));
  int ffd = open (file, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (ffd == -1) {
    int e = errno;
    close (ctl);
    return vdk__err (errno, "cannot open %s for the loop device: %s", file,
                       strerror (e));
  }
  int nr = attach_with (ctl, ffd, file, writable, loop_fd);
  /* The device holds its own reference to the file now. */
  close (ffd);
  close (ctl);
  return nr;
}

bool
vdk__mfs_loop_in_use (int loopnr)
{
  char path[64];
  struct stat st;
  snprintf (path, sizeof path, "/sys/block/loop%d/loop/backing_file",
            loopnr);
  if (stat (path, &st) == 0)
    return true;
  if (errno == ENOENT && stat ("/sys/block", &st) == 0)
    return false;
  /* No sysfs: ask the device. */
  snprintf (path, sizeof path, "/dev/loop%d", loopnr);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd == -1)
    return false;
  struct loop_info64 info;
  bool used = ioctl (fd, LOOP_GET_STATUS64, &info) == 0;
  close (fd);
  return used;
}

static void
sleep_ms (int ms)
{
  struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
  nanosleep (&ts, NULL);
}

int
vdk__mfs_loop_detach (int loopnr, int timeout_ms)
{
  if (loopnr < 0)
    return 0;
  if (vdk__mfs_loop_in_use (loopnr)) {
    char path[32];
    snprintf (path, sizeof path, "/dev/loop%d", loopnr);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd != -1) {
      /* On a busy device this only sets autoclear (ENXIO: already free). */
      ioctl (fd, LOOP_CLR_FD, 0);
      close (fd);
    }
  }
  for (int waited = 0; vdk__mfs_loop_in_use (loopnr); waited += 20) {
    if (waited >= timeout_ms) {
      return vdk__errc (VDK_E_LOCKED, EBUSY,
                        "/dev/loop%d is still in use; it detaches itself "
                         "when its last user closes it", loopnr);
    }
    sleep_ms (20);
  }
  return 0;
}
