/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The io layer's core: the registry of backends, the choke point every
 * read and write goes through, and the wrappers of the file-system
 * operations table.
 *
 * Registry.  A spec "SCHEME://rest" is served by the backend registered
 * for SCHEME; a spec without a scheme is a path of the `file` backend.
 * The registry is a short array searched from its end, so a later
 * registration of a scheme shadows an earlier one (the crash simulator
 * stands in front of `file` this way) until it is removed.  Adding a
 * backend (nbd, rbd) is one table and one vdk__io_register call.  The
 * registry has its own mutex; opens are not hot.
 *
 * The choke point (vdk__io_pread/pwrite/flush) checks offsets for
 * overflow, refuses writes to read-only stores with EROFS, counts calls
 * and calls vdk__io_fault_hook so tests can inject failures.  The name
 * operations (vdk__fs_*) do the same for renames, unlinks, temporary
 * files and folder syncs, so the fault hook and the crash simulator see
 * every change of a name. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>

#include "io/io.h"

vdk_io_fault_fn vdk__io_fault_hook;

static struct {
  pthread_mutex_t lock;
  const struct vdk_io_backend *b[VDK__IO_MAX_BACKENDS];
  size_t n;
} R = {
  .lock = PTHREAD_MUTEX_INITIALIZER,
#ifdef VDK_HAVE_LIBNBD
  .b = { &vdk__io_file_backend, &vdk__io_mem_backend,
         &vdk__io_nbd_backends[0], &vdk__io_nbd_backends[1],
         &vdk__io_nbd_backends[2], &vdk__io_nbd_backends[3] },
  .n = 6,
#else
  .b = { &vdk__io_file_backend, &vdk__io_mem_backend },
  .n = 2,
#endif
};

/* rbd: names a Ceph image whether or not librbd was there at build
 * time; without it they fail clearly instead of reading as file names. */
#ifdef VDK_HAVE_LIBRBD
static const struct vdk_io_backend *const rbd_backend = &vdk__io_rbd_backend;
#else
static struct vdk_io *
no_rbd_open (const char *spec, unsigned flags)
{
  vdk__errc (VDK_E_UNSUPPORTED, ENOTSUP, "%s: this vdk was built without "
             "librbd (Ceph RBD images)", spec);
  return NULL;
}
static const struct vdk_io_backend no_rbd = {
  .scheme = "rbd", .flags = VDK_IO_BACKEND_OPAQUE, .open = no_rbd_open,
};
static const struct vdk_io_backend *const rbd_backend = &no_rbd;
#endif

int
vdk__io_register (const struct vdk_io_backend *b)
{
  SCOPED_LOCK (&R.lock);
  if (R.n == VDK__IO_MAX_BACKENDS)
    return vdk__errc (VDK_E_FAILED, ENOSPC, "io backend \"%s\": the "
                      "registry is full", b->scheme);
  R.b[R.n++] = b;
  return 0;
}

void
vdk__io_unregister (const struct vdk_io_backend *b)
{
  SCOPED_LOCK (&R.lock);
  for (size_t i = R.n; i-- > 0;)
    if (R.b[i] == b) {
      memmove (&R.b[i], &R.b[i + 1], (R.n - i - 1) * sizeof R.b[0]);
      R.n--;
      return;
    }
}

/* Length of the scheme of "scheme://...", 0 for a plain path. */
static size_t
scheme_len (const char *spec)
{
  size_t i = 0;
  if (!isalpha ((unsigned char) spec[0]))
    return 0;
  while (isalnum ((unsigned char) spec[i]) || spec[i] == '+'
         || spec[i] == '-' || spec[i] == '.')
    i++;
  return strncmp (spec + i, "://", 3) == 0 ? i : 0;
}

/* Does spec start with "SCHEME:" of a backend whose names are
 * "SCHEME:rest" (VDK_IO_BACKEND_OPAQUE)? */
static bool
opaque_match (const struct vdk_io_backend *b, const char *spec)
{
  size_t n = strlen (b->scheme);
  return (b->flags & VDK_IO_BACKEND_OPAQUE)
    && strncasecmp (spec, b->scheme, n) == 0 && spec[n] == ':';
}

/* The backend serving spec, or NULL; sets no error. */
static const struct vdk_io_backend *
lookup (const char *spec)
{
  size_t n = scheme_len (spec);
  const char *scheme = n ? spec : "file";
  SCOPED_LOCK (&R.lock);

  for (size_t i = R.n; i-- > 0;)
    if (opaque_match (R.b[i], spec))
      return R.b[i];
  if (opaque_match (rbd_backend, spec))
    return rbd_backend;
  if (!n)
    n = 4;
  for (size_t i = R.n; i-- > 0;)
    if (strlen (R.b[i]->scheme) == n
        && strncasecmp (R.b[i]->scheme, scheme, n) == 0)
      return R.b[i];
  return NULL;
}

const struct vdk_io_backend *
vdk__io_backend (const char *spec)
{
  const struct vdk_io_backend *b = lookup (spec);
  if (!b)
    vdk__errc (VDK_E_UNSUPPORTED, ENOTSUP, "%s: no io backend serves "
               "\"%.*s://\" (a local file of that name is \"./%s\")", spec,
               (int) scheme_len (spec), spec, spec);
  return b;
}

struct vdk_io *
vdk__io_open (const char *spec, unsigned flags)
{
  const struct vdk_io_backend *b = vdk__io_backend (spec);
  struct vdk_io *io = b ? b->open (spec, flags) : NULL;
  if (io)
    io->guest_view = (b->flags & VDK_IO_BACKEND_GUEST_VIEW) != 0;
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

/* The fault hook's answer for one operation: 0 to go ahead, else the
 * errno to fail with; *short_io is set when the hook asked for a short
 * transfer (a negative answer): half the bytes move, then it fails. */
static int
fault_torn (struct vdk_io *io, const char *path, int op, uint64_t off,
            size_t n, bool *short_io)
{
  int e = vdk__io_fault_hook ? vdk__io_fault_hook (io, path, op, off, n) : 0;
  *short_io = e < 0;
  return e < 0 ? -e : e;
}

/* strerror, except that a dropped connection, and an NBD server that
 * stopped serving this connection, say so plainly. */
const char *
vdk__io_strerror (int e)
{
  return e == ENOTCONN || e == ECONNRESET || e == EPIPE ? "connection lost"
    : e == ESHUTDOWN ? "the server ended access (the ticket expired or was "
                       "revoked, or the server is stopping)"
    : strerror (e);
}

static int
fault (struct vdk_io *io, const char *path, int op, uint64_t off, size_t n)
{
  bool short_io;
  int e = fault_torn (io, path, op, off, n, &short_io);
  if (e != 0)
    return vdk__err (e, "%s: injected fault (%s)", path, strerror (e));
  return 0;
}

/* A short read or write injected by the hook: the first half of the
 * range (whole sectors) moves, as when a device fails mid-request. */
static int
torn (struct vdk_io *io, int op, void *buf, size_t n, uint64_t off, int e)
{
  size_t half = n / 2 & ~(size_t) 511;
  if (half > 0)
    (void) (op == 'r' ? io->ops->pread (io, buf, half, off)
            : io->ops->pwrite (io, buf, half, off));
  return vdk__err (e, "%s: injected short %s of %zu of %zu bytes at offset "
                   "%" PRIu64 " (%s)", io->path, op == 'r' ? "read" : "write",
                   half, n, off, strerror (e));
}

int
vdk__io_pread (struct vdk_io *io, void *buf, size_t n, uint64_t off)
{
  bool short_io;
  int e;

  if (check_range (io, "read", n, off) == -1)
    return -1;
  if ((e = fault_torn (io, io->path, 'r', off, n, &short_io)) != 0)
    return short_io ? torn (io, 'r', buf, n, off, e)
      : vdk__err (e, "%s: injected fault (%s)", io->path, strerror (e));
  __atomic_add_fetch (&io->reads, 1, __ATOMIC_RELAXED);
  if (io->ops->pread (io, buf, n, off) == -1)
    return vdk__err (errno, "%s: read of %zu bytes at offset %" PRIu64
                     ": %s", io->path, n, off, vdk__io_strerror (errno));
  return 0;
}

int
vdk__io_pwrite (struct vdk_io *io, const void *buf, size_t n, uint64_t off)
{
  if (io->readonly)
    return vdk__err (EROFS, "%s: write refused: opened read-only", io->path);
  bool short_io;
  int e;

  if (check_range (io, "write", n, off) == -1)
    return -1;
  __atomic_store_n (&io->written, true, __ATOMIC_RELEASE);
  if ((e = fault_torn (io, io->path, 'w', off, n, &short_io)) != 0)
    return short_io ? torn (io, 'w', (void *) buf, n, off, e)
      : vdk__err (e, "%s: injected fault (%s)", io->path, strerror (e));
  __atomic_add_fetch (&io->writes, 1, __ATOMIC_RELAXED);
  if (io->ops->pwrite (io, buf, n, off) == -1)
    return vdk__err (errno, "%s: write of %zu bytes at offset %" PRIu64
                     ": %s", io->path, n, off, vdk__io_strerror (errno));
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
  if (fault (io, io->path, 'f', 0, 0) == -1) {
    __atomic_store_n (&io->written, true, __ATOMIC_RELEASE);
    return -1;
  }
  if (io->ops->flush (io) == -1) {
    int e = errno;
    __atomic_store_n (&io->written, true, __ATOMIC_RELEASE);
    return vdk__err (e, "%s: flush: %s", io->path, vdk__io_strerror (e));
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
  if (fault (io, io->path, 'z', size, 0) == -1)
    return -1;
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
    return vdk__err (errno, "%s: SEEK_DATA: %s", io->path,
                     vdk__io_strerror (errno));
  return 0;
}

int
vdk__io_block_status (struct vdk_io *io, uint64_t off, uint64_t n,
                      uint64_t *pnum, int *state)
{
  uint64_t data, hole;

  if (n == 0)
    return vdk__err (EINVAL, "%s: block status of an empty range",
                     io->path);
  if (io->ops->block_status) {
    if (io->ops->block_status (io, off, n, pnum, state) == -1)
      return vdk__err (errno, "%s: block status at %" PRIu64 ": %s",
                       io->path, off, vdk__io_strerror (errno));
    if (*pnum == 0 || *pnum > n)         /* the backend broke its word */
      return vdk__err (EIO, "%s: block status at %" PRIu64 " answered "
                       "%" PRIu64 " bytes of %" PRIu64, io->path, off,
                       *pnum, n);
    return 0;
  }
  if (vdk__io_next_data (io, off, &data, &hole) == -1)
    return -1;
  if (data > off) {                      /* a hole */
    *pnum = MIN (n, data - off);
    *state = VDK_BLOCK_ZERO;
  } else if (hole <= off) {              /* past the end */
    *pnum = n;
    *state = VDK_BLOCK_ZERO;
  } else {
    *pnum = MIN (n, hole - off);
    *state = VDK_BLOCK_DATA;
  }
  return 0;
}

int
vdk__io_punch (struct vdk_io *io, uint64_t off, uint64_t n, bool keep)
{
  if (io->readonly)
    return vdk__err (EROFS, "%s: punch refused: opened read-only", io->path);
  if (check_range (io, "punch", n, off) == -1
      || fault (io, io->path, 'p', off, n) == -1)
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

int
vdk__io_lock (struct vdk_io *io, bool exclusive, uint64_t off, uint64_t len)
{
  if (!io->ops->lock || io->ops->lock (io, exclusive, off, len) == 0)
    return 0;
  if (errno == EBUSY)
    return vdk__errc (VDK_E_LOCKED, EBUSY, "%s: disk is in use by another "
                      "process", io->path);
  return vdk__err (errno, "%s: cannot lock: %s", io->path, strerror (errno));
}

/* ---- names ---- */

/* The name operations of the backend serving path, or NULL with the
 * error set. */
static const struct vdk_fs_ops *
fs_of (const char *path, const char *what)
{
  const struct vdk_io_backend *b = vdk__io_backend (path);
  if (b && !b->fs)
    vdk__errc (VDK_E_NOT_SUPPORTED_BY_TRANSPORT, ENOTSUP, "%s: cannot %s: "
               "the %s backend has no file names", path, what, b->scheme);
  return b ? b->fs : NULL;
}

/* Does the backend serving path set the thread's error itself when a
 * name operation fails?  (Then the wrappers keep it.) */
static bool
own_errors (const char *path)
{
  const struct vdk_io_backend *b = lookup (path);
  return b && (b->flags & VDK_IO_BACKEND_OWN_ERRORS);
}

int
vdk__fs_rename (const char *from, const char *to)
{
  const struct vdk_fs_ops *fs = fs_of (from, "rename");
  if (!fs || fault (NULL, from, 'n', 0, 0) == -1)
    return -1;
  if (vdk__io_backend (to) != vdk__io_backend (from))
    return vdk__errc (VDK_E_INVALID_ARG, EXDEV, "%s -> %s: not on one io "
                      "backend", from, to);
  if (fs->rename (from, to) == -1)
    return own_errors (from) ? -1
      : vdk__err (errno, "%s -> %s: %s%s", from, to, strerror (errno),
                     errno == EXDEV ? " (use convert to copy across file "
                     "systems)" : "");
  return 0;
}

int
vdk__fs_unlink (const char *path)
{
  const struct vdk_fs_ops *fs = fs_of (path, "remove it");
  if (!fs || fault (NULL, path, 'u', 0, 0) == -1)
    return -1;
  if (fs->unlink (path) == -1)
    return own_errors (path) ? -1 : vdk__err (errno, "%s: cannot remove "
                                              "it: %s", path,
                                              strerror (errno));
  return 0;
}

int
vdk__fs_remove_snapshots (const char *path)
{
  const struct vdk_fs_ops *fs = fs_of (path, "remove its snapshots");
  if (!fs || !fs->remove_snapshots || fault (NULL, path, 'u', 0, 0) == -1)
    return fs ? (fs->remove_snapshots ? -1 : 0) : -1;
  if (fs->remove_snapshots (path) == -1)
    return own_errors (path) ? -1 : vdk__err (errno, "%s: cannot remove "
                                              "its snapshots: %s", path,
                                              strerror (errno));
  return 0;
}

struct vdk_io *
vdk__fs_create_temp (const char *path, const char *tag, unsigned mode,
                     char **tmp)
{
  const struct vdk_fs_ops *fs = fs_of (path, "create a file beside it");
  if (!fs || fault (NULL, path, 't', 0, 0) == -1)
    return NULL;
  return fs->create_temp (path, tag, mode, tmp);
}

int
vdk__fs_sync_dir (const char *path)
{
  const struct vdk_fs_ops *fs = fs_of (path, "sync its folder");
  if (!fs || fault (NULL, path, 'd', 0, 0) == -1)
    return -1;
  if (fs->sync_dir (path) == -1)
    return own_errors (path) ? -1 : vdk__err (errno, "%s: cannot sync its folder: %s", path,
                     strerror (errno));
  return 0;
}

int
vdk__fs_stat (const char *path, struct vdk_fs_stat *st)
{
  const struct vdk_fs_ops *fs = fs_of (path, "look it up");
  *st = (struct vdk_fs_stat) { 0 };
  if (!fs)
    return -1;
  if (fs->stat (path, st) == -1)
    return own_errors (path) ? -1 : vdk__err (errno, "%s: %s", path, strerror (errno));
  return 0;
}

void
vdk__fs_discard (const char *path)
{
  int e = errno;
  const struct vdk_io_backend *b = lookup (path);
  struct vdk__saved_err saved;
  vdk__err_save (&saved);
  if (b && b->fs)
    b->fs->unlink (path);
  vdk__err_restore (&saved);
  errno = e;
}

int
vdk__fs_replace (const char *path, const void *text, size_t len,
                 unsigned mode)
{
  CLEANUP_FREE char *tmp = NULL;
  struct vdk_io *io = vdk__fs_create_temp (path, ".tmp", mode, &tmp);
  int r;

  if (!io)
    return vdk__err_prefix ("%s: cannot create a temporary file", path);
  r = vdk__io_pwrite (io, text, len, 0) == -1 || vdk__io_flush (io) == -1
    ? -1 : 0;
  vdk__io_close (io);
  if (r == 0 && vdk__fs_rename (tmp, path) == -1)
    r = vdk__err_prefix ("%s: cannot replace it", path);
  if (r == -1) {
    vdk__fs_discard (tmp);
    return -1;
  }
  return vdk__fs_sync_dir (path);
}
