/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The `file` io backend: a local file or device read and written with
 * pread/pwrite on a descriptor, with an optional O_DIRECT descriptor,
 * and its name operations (rename, unlink, temporary files, folder
 * sync).
 *
 * Reads past end of file read as zero: sparse files may end before
 * their last grain table, and flat files may be shorter than the
 * descriptor says (that is checked, and reported, at open).
 *
 * What may be opened: a regular file, or a block or character device
 * when the caller allows one (VDK_IO_ALLOW_DEVICE: the disk the user
 * named, or the extents of a device disk opened with external paths
 * allowed).  Nothing else: a FIFO, socket or folder is refused.  The
 * open is non-blocking (a FIFO would otherwise wait for a writer
 * forever) and the type is read from the opened descriptor (fstat), so
 * a name swapped between a check and the open cannot slip through; the
 * O_NONBLOCK flag is cleared once the type is known.
 *
 * O_DIRECT: used only when buffer, offset and length are all aligned to
 * 4096; otherwise, and where the host refuses O_DIRECT (tmpfs), the
 * buffered descriptor serves the call.
 *
 * Locks are OFD locks (fcntl F_OFD_SETLK): they belong to the open file
 * description, so two handles in one process conflict just as two
 * processes do, and they go away with the last close. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/io.h"

struct file {
  int fd, direct_fd;
};

#define FD(io) (((struct file *) (io)->priv)->fd)

#define DIRECT_ALIGN 4096u

/* Read or write all n bytes, retrying short transfers and EINTR; the
 * O_DIRECT descriptor serves aligned calls, and one it refuses (EINVAL)
 * is retried through the page cache.  A read past end of file reads
 * zeroes. */
static int
file_rw (struct vdk_io *io, char *p, size_t n, uint64_t off, bool write)
{
  struct file *f = io->priv;
  int fd = f->fd;

  if (f->direct_fd >= 0 && ((uintptr_t) p | off | n) % DIRECT_ALIGN == 0)
    fd = f->direct_fd;
  while (n > 0) {
    ssize_t r = write ? pwrite (fd, p, n, (off_t) off)
      : pread (fd, p, n, (off_t) off);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      if (fd != f->fd && errno == EINVAL) {
        fd = f->fd;
        continue;
      }
      return -1;
    }
    if (r == 0 && !write) {        /* past EOF: zeroes */
      memset (p, 0, n);
      return 0;
    }
    p += r, n -= (size_t) r, off += (uint64_t) r;
  }
  return 0;
}

static int
file_pread (struct vdk_io *io, void *buf, size_t n, uint64_t off)
{
  return file_rw (io, buf, n, off, false);
}

/* pwrite does not modify the buffer; the cast only serves file_rw. */
static int
file_pwrite (struct vdk_io *io, const void *buf, size_t n, uint64_t off)
{
  return file_rw (io, (char *) buf, n, off, true);
}

static int
file_flush (struct vdk_io *io)
{
  return fdatasync (FD (io));
}

static int
file_size (struct vdk_io *io, uint64_t *size)
{
  struct stat st;
  if (fstat (FD (io), &st) == -1)
    return -1;
  if (S_ISBLK (st.st_mode)) {
    uint64_t sz;
    if (ioctl (FD (io), BLKGETSIZE64, &sz) == -1)
      return -1;
    *size = sz;
    return 0;
  }
  *size = (uint64_t) st.st_size;
  return 0;
}

static int
file_truncate (struct vdk_io *io, uint64_t size)
{
  return ftruncate (FD (io), (off_t) size);
}

static int
file_next_data (struct vdk_io *io, uint64_t off, uint64_t *data,
                uint64_t *hole)
{
  uint64_t size;
  if (file_size (io, &size) == -1)
    return -1;
  if (off >= size) {
    *data = *hole = size;
    return 0;
  }
  off_t d = lseek (FD (io), (off_t) off, SEEK_DATA);
  if (d == -1) {
    if (errno == ENXIO) {       /* only a hole remains */
      *data = *hole = size;
      return 0;
    }
    *data = off, *hole = size;  /* SEEK_DATA unsupported: all data */
    return 0;
  }
  off_t h = lseek (FD (io), d, SEEK_HOLE);
  *data = (uint64_t) d;
  *hole = h == -1 ? size : (uint64_t) h;
  return 0;
}

/* keep: ZERO_RANGE, or where the file system lacks it (tmpfs) a hole
 * allocated again, as qemu's file driver does. */
static int
file_punch (struct vdk_io *io, uint64_t off, uint64_t n, bool keep)
{
  const int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
  if (!keep)
    return fallocate (FD (io), punch, (off_t) off, (off_t) n);
  int r = fallocate (FD (io), FALLOC_FL_ZERO_RANGE, (off_t) off, (off_t) n);
  if (r == 0 || errno != EOPNOTSUPP)
    return r;
  if (fallocate (FD (io), punch, (off_t) off, (off_t) n) == -1)
    return -1;
  return fallocate (FD (io), FALLOC_FL_KEEP_SIZE, (off_t) off, (off_t) n);
}

static void
file_close (struct vdk_io *io)
{
  struct file *f = io->priv;
  if (f->direct_fd >= 0)
    close (f->direct_fd);
  if (f->fd >= 0)
    close (f->fd);
  free (f);
}

static int
file_lock (struct vdk_io *io, bool exclusive, uint64_t off, uint64_t len)
{
  struct flock fl = { .l_type = exclusive ? F_WRLCK : F_RDLCK,
                      .l_whence = SEEK_SET };
  uint64_t end;
  if (len && !ADD_OVERFLOW (off, len, &end) && end <= INT64_MAX)
    fl.l_start = (off_t) off, fl.l_len = (off_t) len;   /* else all */
  if (fcntl (FD (io), F_OFD_SETLK, &fl) == 0)
    return 0;
  if (errno == EAGAIN || errno == EACCES) {
    errno = EBUSY;
    return -1;
  }
  if (errno == EINVAL || errno == ENOLCK || errno == ENOTSUP)
    return 0;                     /* no locks on this file system */
  return -1;
}

static const struct vdk_io_ops file_ops = {
  .name = "file",
  .pread = file_pread,
  .pwrite = file_pwrite,
  .flush = file_flush,
  .size = file_size,
  .truncate = file_truncate,
  .next_data = file_next_data,
  .close = file_close,
  .punch = file_punch,
  .lock = file_lock,
};

static const char *
type_name (mode_t m)
{
  return S_ISBLK (m) ? "a block device" : S_ISCHR (m) ? "a character device"
    : S_ISFIFO (m) ? "a FIFO" : S_ISSOCK (m) ? "a socket"
    : S_ISDIR (m) ? "a folder" : "not a regular file";
}

/* Refuse what is not a regular file (see the design note), then make
 * the descriptor blocking again. */
static int
check_type (const char *path, int fd, unsigned flags, struct stat *st)
{
  int fl;
  if (fstat (fd, st) == -1)
    return vdk__err (errno, "%s: %s", path, strerror (errno));
  if ((S_ISBLK (st->st_mode) || S_ISCHR (st->st_mode))
      && !(flags & VDK_IO_ALLOW_DEVICE))
    return vdk__errc (VDK_E_ACCESS_DENIED, EACCES, "%s: is %s, not a "
                      "regular file: only a fullDevice, partitionedDevice "
                      "or raw device mapping (RDM) disk maps a device, and "
                      "only when external paths are allowed "
                      "(--allow-external-paths, VDK_OPEN_ALLOW_EXTERNAL)",
                      path, type_name (st->st_mode));
  if (!S_ISREG (st->st_mode) && !S_ISBLK (st->st_mode)
      && !S_ISCHR (st->st_mode))
    return vdk__errc (VDK_E_UNSUPPORTED, EINVAL, "%s: is %s, not a disk "
                      "file: refused", path, type_name (st->st_mode));
  if ((fl = fcntl (fd, F_GETFL)) == -1
      || fcntl (fd, F_SETFL, fl & ~O_NONBLOCK) == -1)
    return vdk__err (errno, "%s: %s", path, strerror (errno));
  return 0;
}

/* A store around the open descriptor fd (taken over, closed on error). */
static struct vdk_io *
wrap_fd (const char *path, int fd, unsigned flags)
{
  struct vdk_io *io = calloc (1, sizeof *io);
  struct file *f = calloc (1, sizeof *f);
  if (!io || !f || !(io->path = strdup (path))) {
    free (io), free (f);
    close (fd);
    vdk__err (ENOMEM, "%s: out of memory", path);
    return NULL;
  }
  f->fd = fd;
  f->direct_fd = -1;
  io->ops = &file_ops;
  io->priv = f;
  io->readonly = (flags & VDK_IO_READONLY) != 0;
  return io;
}

/* The O_DIRECT descriptor: the same file (checked by inode, the name may
 * have changed since), or none. */
static void
open_direct (struct vdk_io *io, int oflags, const struct stat *st)
{
  struct file *f = io->priv;
  struct stat st2;
  int fd = open (io->path, (oflags & ~(O_CREAT | O_EXCL | O_TRUNC))
                 | O_DIRECT | O_NONBLOCK);
  if (fd == -1) {
    vdk__info ("%s: O_DIRECT not supported here (%s); using the page cache",
               io->path, strerror (errno));
    return;
  }
  if (fstat (fd, &st2) == -1 || st2.st_dev != st->st_dev
      || st2.st_ino != st->st_ino
      || fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK) == -1) {
    close (fd);
    return;
  }
  f->direct_fd = fd;
}

static struct vdk_io *
file_open (const char *spec, unsigned flags)
{
  int oflags = O_CLOEXEC | ((flags & VDK_IO_READONLY) ? O_RDONLY : O_RDWR);
  const char *path = strncasecmp (spec, "file://", 7) == 0 ? spec + 7 : spec;
  struct vdk_io *io;
  struct stat st;
  int fd;

  if (flags & VDK_IO_CREATE)
    oflags |= O_CREAT | O_EXCL;
  if (flags & VDK_IO_TRUNC)
    oflags |= O_CREAT | O_TRUNC;
  if ((fd = open (path, oflags | O_NONBLOCK, 0644)) == -1) {
    vdk__err (errno, "%s: %s", path, strerror (errno));
    return NULL;
  }
  if (check_type (path, fd, flags, &st) == -1) {
    close (fd);
    return NULL;
  }
  if (!(io = wrap_fd (path, fd, flags)))
    return NULL;
  if (flags & VDK_IO_DIRECT)
    open_direct (io, oflags, &st);
  return io;
}

/* ---- names ---- */

static int
file_rename (const char *from, const char *to)
{
  return rename (from, to);
}

static int
file_unlink (const char *path)
{
  return unlink (path);
}

static struct vdk_io *
file_create_temp (const char *path, const char *tag, unsigned mode,
                  char **tmp)
{
  size_t n = strlen (path) + strlen (tag) + 7;
  char *name = malloc (n);
  struct vdk_io *io;
  int fd;

  if (!name) {
    vdk__err (ENOMEM, "out of memory");
    return NULL;
  }
  snprintf (name, n, "%s%sXXXXXX", path, tag);
  if ((fd = mkostemp (name, O_CLOEXEC)) == -1 || fchmod (fd, mode) == -1) {
    vdk__err (errno, "%s: cannot create a temporary file: %s", path,
              strerror (errno));
    if (fd >= 0)
      close (fd), unlink (name);
    free (name);
    return NULL;
  }
  if (!(io = wrap_fd (name, fd, 0))) {
    unlink (name);
    free (name);
    return NULL;
  }
  *tmp = name;
  return io;
}

/* Folders that refuse fsync (some network file systems) have nothing
 * more to make durable. */
static int
file_sync_dir (const char *path)
{
  CLEANUP_FREE char *copy = strdup (path);
  int fd, r;
  if (!copy)
    return -1;
  if ((fd = open (dirname (copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
    return -1;
  r = fsync (fd);
  if (r == -1 && (errno == EINVAL || errno == ENOTSUP))
    r = 0;
  close (fd);
  return r;
}

static int
file_stat (const char *path, struct vdk_fs_stat *st)
{
  struct stat s;
  if (lstat (path, &s) == -1)
    return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
  st->exists = true;
  st->regular = S_ISREG (s.st_mode);
  st->size = (uint64_t) s.st_size;
  st->mode = s.st_mode & 07777;
  /* what the name leads to holds the data, not the symlink */
  if (S_ISLNK (s.st_mode) && stat (path, &s) == -1)
    return 0;
  st->allocated = (uint64_t) s.st_blocks * 512;
  return 0;
}

static const struct vdk_fs_ops file_fs = {
  .rename = file_rename,
  .unlink = file_unlink,
  .create_temp = file_create_temp,
  .sync_dir = file_sync_dir,
  .stat = file_stat,
};

const struct vdk_io_backend vdk__io_file_backend = {
  .scheme = "file",
  .open = file_open,
  .fs = &file_fs,
};
