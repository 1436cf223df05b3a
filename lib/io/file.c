/* Byte stores: the `file` backend (pread/pwrite on a descriptor, with
 * an optional O_DIRECT descriptor), the `mem` backend (tests, fuzzing)
 * and the choke point every format calls through.
 *
 * The choke point (vdk__io_pread/pwrite/flush) checks offsets for
 * overflow, refuses writes to read-only stores with EROFS, counts calls
 * and calls vdk__io_fault_hook so tests can inject failures.  Backends
 * zero-fill reads past end of file: sparse files may end before their
 * last grain table, and flat files may be shorter than the descriptor
 * says (that is checked, and reported, at open).
 *
 * O_DIRECT: used only when buffer, offset and length are all aligned to
 * 4096; otherwise, and where the host refuses O_DIRECT (tmpfs), the
 * buffered descriptor serves the call. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/io.h"

vdk_io_fault_fn vdk__io_fault_hook;
vdk_io_open_fn vdk__io_open_hook;

#define DIRECT_ALIGN 4096u

/* Read or write all n bytes, retrying short transfers and EINTR; the
 * O_DIRECT descriptor serves aligned calls, and one it refuses (EINVAL)
 * is retried through the page cache.  A read past end of file reads
 * zeroes. */
static int
file_rw (struct vdk_io *io, char *p, size_t n, uint64_t off, bool write)
{
  int fd = io->fd;

  if (io->direct_fd >= 0 && ((uintptr_t) p | off | n) % DIRECT_ALIGN == 0)
    fd = io->direct_fd;
  while (n > 0) {
    ssize_t r = write ? pwrite (fd, p, n, (off_t) off)
      : pread (fd, p, n, (off_t) off);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      if (fd != io->fd && errno == EINVAL) {
        fd = io->fd;
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
  return fdatasync (io->fd);
}

static int
file_size (struct vdk_io *io, uint64_t *size)
{
  struct stat st;
  if (fstat (io->fd, &st) == -1)
    return -1;
  if (S_ISBLK (st.st_mode)) {
    uint64_t sz;
    if (ioctl (io->fd, BLKGETSIZE64, &sz) == -1)
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
  return ftruncate (io->fd, (off_t) size);
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
  off_t d = lseek (io->fd, (off_t) off, SEEK_DATA);
  if (d == -1) {
    if (errno == ENXIO) {       /* only a hole remains */
      *data = *hole = size;
      return 0;
    }
    *data = off, *hole = size;  /* SEEK_DATA unsupported: all data */
    return 0;
  }
  off_t h = lseek (io->fd, d, SEEK_HOLE);
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
    return fallocate (io->fd, punch, (off_t) off, (off_t) n);
  int r = fallocate (io->fd, FALLOC_FL_ZERO_RANGE, (off_t) off, (off_t) n);
  if (r == 0 || errno != EOPNOTSUPP)
    return r;
  if (fallocate (io->fd, punch, (off_t) off, (off_t) n) == -1)
    return -1;
  return fallocate (io->fd, FALLOC_FL_KEEP_SIZE, (off_t) off, (off_t) n);
}

static void
file_close (struct vdk_io *io)
{
  if (io->direct_fd >= 0)
    close (io->direct_fd);
  if (io->fd >= 0)
    close (io->fd);
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
};

struct vdk_io *
vdk__io_open_file (const char *path, unsigned flags)
{
  if (vdk__io_open_hook)
    return vdk__io_open_hook (path, flags);
  return vdk__io_open_file_real (path, flags);
}

/* OFD locks belong to the open file description, so two handles in one
 * process conflict just as two processes do; they go away with the
 * last close of the descriptor. */
int
vdk__io_lock (struct vdk_io *io, bool exclusive, uint64_t off, uint64_t len)
{
  struct flock fl = { .l_type = exclusive ? F_WRLCK : F_RDLCK,
                      .l_whence = SEEK_SET };
  uint64_t end;
  if (io->fd < 0)
    return 0;
  if (len && !ADD_OVERFLOW (off, len, &end) && end <= INT64_MAX)
    fl.l_start = (off_t) off, fl.l_len = (off_t) len;   /* else all */
  if (fcntl (io->fd, F_OFD_SETLK, &fl) == 0)
    return 0;
  if (errno == EAGAIN || errno == EACCES)
    return vdk__err (EBUSY, "%s: disk is in use by another process",
                     io->path);
  if (errno == EINVAL || errno == ENOLCK || errno == ENOTSUP)
    return 0;                     /* no locks on this file system */
  return vdk__err (errno, "%s: cannot lock: %s", io->path, strerror (errno));
}

struct vdk_io *
vdk__io_open_file_real (const char *path, unsigned flags)
{
  int oflags = O_CLOEXEC | ((flags & VDK_IO_READONLY) ? O_RDONLY : O_RDWR);
  struct vdk_io *io;

  if (flags & VDK_IO_CREATE)
    oflags |= O_CREAT | O_EXCL;
  if (flags & VDK_IO_TRUNC)
    oflags |= O_CREAT | O_TRUNC;
  io = calloc (1, sizeof *io);
  if (!io || !(io->path = strdup (path))) {
    free (io);
    vdk__err (ENOMEM, "%s: out of memory", path);
    return NULL;
  }
  io->ops = &file_ops;
  io->readonly = (flags & VDK_IO_READONLY) != 0;
  io->direct_fd = -1;
  io->fd = open (path, oflags, 0644);
  if (io->fd == -1) {
    int e = errno;
    vdk__err (e, "%s: %s", path, strerror (e));
    free (io->path);
    free (io);
    return NULL;
  }
  if (flags & VDK_IO_DIRECT) {
    io->direct_fd = open (path, (oflags & ~(O_CREAT | O_EXCL | O_TRUNC))
                          | O_DIRECT);
    if (io->direct_fd == -1)
      vdk__info ("%s: O_DIRECT not supported here (%s); using the page cache",
                 path, strerror (errno));
  }
  return io;
}

/* ---- mem backend ---- */

struct mem_store {
  uint8_t *data;
  size_t len, cap;
};

static int
mem_pread (struct vdk_io *io, void *buf, size_t n, uint64_t off)
{
  struct mem_store *m = io->priv;
  size_t have = off < m->len ? MIN ((uint64_t) n, m->len - off) : 0;
  if (have)
    memcpy (buf, m->data + off, have);
  memset ((char *) buf + have, 0, n - have);
  return 0;
}

static int
mem_reserve (struct mem_store *m, uint64_t end)
{
  if (end > ((uint64_t) 1 << 34)) {     /* tests only: 16 GiB is absurd */
    errno = EFBIG;
    return -1;
  }
  if (end > m->cap) {
    size_t cap = MAX ((size_t) end, m->cap * 2);
    uint8_t *p = realloc (m->data, cap);
    if (!p)
      return -1;
    memset (p + m->cap, 0, cap - m->cap);
    m->data = p, m->cap = cap;
  }
  if (end > m->len)
    m->len = (size_t) end;
  return 0;
}

static int
mem_pwrite (struct vdk_io *io, const void *buf, size_t n, uint64_t off)
{
  struct mem_store *m = io->priv;
  if (mem_reserve (m, off + n) == -1)
    return -1;
  memcpy (m->data + off, buf, n);
  return 0;
}

static int
mem_flush (struct vdk_io *io)
{
  return 0;
}

static int
mem_size (struct vdk_io *io, uint64_t *size)
{
  *size = ((struct mem_store *) io->priv)->len;
  return 0;
}

static int
mem_truncate (struct vdk_io *io, uint64_t size)
{
  struct mem_store *m = io->priv;
  if (size <= m->len) {
    memset (m->data + size, 0, m->len - size);
    m->len = (size_t) size;
    return 0;
  }
  return mem_reserve (m, size);
}

static int
mem_punch (struct vdk_io *io, uint64_t off, uint64_t n, bool keep)
{
  struct mem_store *m = io->priv;
  (void) keep;
  if (off < m->len)
    memset (m->data + off, 0, MIN (n, m->len - off));
  return 0;
}

static void
mem_close (struct vdk_io *io)
{
  struct mem_store *m = io->priv;
  free (m->data);
  free (m);
}

static const struct vdk_io_ops mem_ops = {
  .name = "mem",
  .pread = mem_pread,
  .pwrite = mem_pwrite,
  .flush = mem_flush,
  .size = mem_size,
  .truncate = mem_truncate,
  .close = mem_close,
  .punch = mem_punch,
};

struct vdk_io *
vdk__io_open_mem (const char *name, const void *data, size_t len)
{
  struct vdk_io *io = calloc (1, sizeof *io);
  struct mem_store *m = calloc (1, sizeof *m);
  if (!io || !m || !(io->path = strdup (name))) {
    free (io), free (m);
    vdk__err (ENOMEM, "%s: out of memory", name);
    return NULL;
  }
  io->ops = &mem_ops;
  io->priv = m;
  io->fd = io->direct_fd = -1;
  if (len && mem_pwrite (io, data, len, 0) == -1) {
    vdk__io_close (io);
    vdk__err (ENOMEM, "%s: out of memory", name);
    return NULL;
  }
  return io;
}

void
vdk__io_close (struct vdk_io *io)
{
  if (!io)
    return;
  io->ops->close (io);
  free (io->path);
  free (io);
}

/* ---- the choke point ---- */

static int
check_range (struct vdk_io *io, const char *what, size_t n, uint64_t off)
{
  uint64_t end;
  if (ADD_OVERFLOW (off, (uint64_t) n, &end) || end > INT64_MAX)
    return vdk__err (EINVAL, "%s: %s of %zu bytes at offset %" PRIu64
                     " overflows", io->path, what, n, off);
  return 0;
}

static int
fault (struct vdk_io *io, int op, uint64_t off, size_t n)
{
  int e;
  if (vdk__io_fault_hook && (e = vdk__io_fault_hook (io, op, off, n)) != 0)
    return vdk__err (e, "%s: injected fault (%s)", io->path, strerror (e));
  return 0;
}

int
vdk__io_pread (struct vdk_io *io, void *buf, size_t n, uint64_t off)
{
  if (check_range (io, "read", n, off) == -1 || fault (io, 'r', off, n) == -1)
    return -1;
  __atomic_add_fetch (&io->reads, 1, __ATOMIC_RELAXED);
  if (io->ops->pread (io, buf, n, off) == -1)
    return vdk__err (errno, "%s: read of %zu bytes at offset %" PRIu64
                     ": %s", io->path, n, off, strerror (errno));
  return 0;
}

int
vdk__io_pwrite (struct vdk_io *io, const void *buf, size_t n, uint64_t off)
{
  if (io->readonly)
    return vdk__err (EROFS, "%s: write refused: opened read-only", io->path);
  if (check_range (io, "write", n, off) == -1 || fault (io, 'w', off, n) == -1)
    return -1;
  __atomic_add_fetch (&io->writes, 1, __ATOMIC_RELAXED);
  __atomic_store_n (&io->written, true, __ATOMIC_RELEASE);
  if (io->ops->pwrite (io, buf, n, off) == -1)
    return vdk__err (errno, "%s: write of %zu bytes at offset %" PRIu64
                     ": %s", io->path, n, off, strerror (errno));
  return 0;
}

int
vdk__io_flush (struct vdk_io *io)
{
  /* Clear the mark before syncing: a write that lands during the sync
   * sets it again, so the next flush cannot skip it. */
  if (io->readonly || !__atomic_exchange_n (&io->written, false,
                                            __ATOMIC_ACQ_REL))
    return 0;
  if (fault (io, 'f', 0, 0) == -1) {
    __atomic_store_n (&io->written, true, __ATOMIC_RELEASE);
    return -1;
  }
  if (io->ops->flush (io) == -1) {
    int e = errno;
    __atomic_store_n (&io->written, true, __ATOMIC_RELEASE);
    return vdk__err (e, "%s: flush: %s", io->path, strerror (e));
  }
  __atomic_add_fetch (&io->flushes, 1, __ATOMIC_RELAXED);
  return 0;
}

int
vdk__io_size (struct vdk_io *io, uint64_t *size)
{
  if (io->ops->size (io, size) == -1)
    return vdk__err (errno, "%s: cannot get size: %s", io->path,
                     strerror (errno));
  return 0;
}

int
vdk__io_truncate (struct vdk_io *io, uint64_t size)
{
  if (io->readonly)
    return vdk__err (EROFS, "%s: truncate refused: opened read-only",
                     io->path);
  if (!io->ops->truncate)
    return vdk__err (ENOTSUP, "%s: cannot truncate", io->path);
  __atomic_store_n (&io->written, true, __ATOMIC_RELEASE);
  if (io->ops->truncate (io, size) == -1)
    return vdk__err (errno, "%s: truncate to %" PRIu64 ": %s", io->path,
                     size, strerror (errno));
  return 0;
}

int
vdk__io_next_data (struct vdk_io *io, uint64_t off, uint64_t *data,
                   uint64_t *hole)
{
  uint64_t size;
  if (!io->ops->next_data) {
    if (vdk__io_size (io, &size) == -1)
      return -1;
    *data = MIN (off, size);
    *hole = size;
    return 0;
  }
  if (io->ops->next_data (io, off, data, hole) == -1)
    return vdk__err (errno, "%s: SEEK_DATA: %s", io->path, strerror (errno));
  return 0;
}

int
vdk__io_punch (struct vdk_io *io, uint64_t off, uint64_t n, bool keep)
{
  if (io->readonly)
    return vdk__err (EROFS, "%s: punch refused: opened read-only", io->path);
  if (check_range (io, "punch", n, off) == -1 || fault (io, 'p', off, n) == -1)
    return -1;
  if (!io->ops->punch)
    return vdk__err (ENOTSUP, "%s: the %s store cannot punch holes",
                     io->path, io->ops->name);
  __atomic_store_n (&io->written, true, __ATOMIC_RELEASE);
  if (io->ops->punch (io, off, n, keep) == -1) {
    int e = errno;
    if (e == EOPNOTSUPP || e == ENOSYS)
      return vdk__err (ENOTSUP, "%s: the file system cannot %s", io->path,
                       keep ? "zero a range without writing" : "punch holes");
    return vdk__err (e, "%s: punch of %" PRIu64 " bytes at offset %" PRIu64
                     ": %s", io->path, n, off, strerror (e));
  }
  return 0;
}
