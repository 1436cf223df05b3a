/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* FUSE folder with one file per whole disk and per volume.
 *
 * libfuse3 low-level API: the folder is inode 1, file i is inode 2 + i.
 * The set of files never changes while mounted, so attributes and entries
 * are cached by the kernel for an hour and opens keep the page cache.
 *
 * Hot path: a read asks the file's pread callback (vdk_pread or a volume
 * reader) to write straight into a per-thread buffer, which is handed to
 * fuse_reply_buf (libfuse writev()s it to /dev/fuse: no copy in user
 * space).  The buffer grows to the largest request once per thread and
 * is then reused, so 1 MiB reads do not mmap/munmap on every call.
 *
 * Threads: fuse_session_loop_mt with cloned /dev/fuse descriptors, so
 * the loop device's parallel requests are served in parallel; the
 * callbacks keep no shared mutable state (files[] is read-only, the
 * handles are thread-safe by contract of vdk.h).  The loop runs in a
 * thread of its own, started with every signal blocked (libfuse's
 * workers inherit that), so a library caller's signal handlers never
 * run on them; no signal handlers are installed.  The loop ends when
 * the FUSE folder is unmounted (the kernel then fails reads of
 * /dev/fuse with ENODEV).  A forced stop that cannot wait for the last
 * user of a lazily unmounted folder aborts the kernel connection
 * (/sys/fs/fuse/connections/N/abort), which fails every pending request.
 *
 * fallocate: punch-hole and zero-range (the loop driver's discard and
 * write-zeroes) go to vdk__mfs_file_punch/_zero, so fstrim in a mounted
 * file system gives grains back; plain allocation is refused.
 *
 * Caching.  A read-only flat folder (the whole-disk files a user reads
 * with cat, dd, a backup tool) goes through the kernel's page cache,
 * kept across opens (keep_cache: nothing can change the bytes while it
 * is mounted), with the FUSE device's readahead raised from the
 * kernel's 128 KiB to max_read (root only: /sys/class/bdi/0:N/
 * read_ahead_kb; the kernel takes the smaller of the daemon's
 * max_readahead and that knob), so a sequential reader gets max_read
 * requests and a second read never reaches this process.  A folder
 * under a loop device and a writable one use direct_io: the kernel
 * sends reads of the caller's size (up to max_read) and copies the
 * reply straight into the caller's buffer; the file system above the
 * loop device caches already, and in a writable folder a disk file and
 * a volume file overlap, so no cache may hold stale bytes.  Measured
 * with bench/mount.sh against the ceiling (bench/fuse-ceiling.c) on an
 * idle machine, copying 1 GiB out of ext4: direct_io 0.44 s (ceiling
 * 0.35 s), page cache 0.55 s (ceiling 0.41 s).  Under heavy load (load
 * average 10 on 2 cores) the order flipped and direct_io cost several
 * times the daemon CPU; the idle figure decides here.
 * VDK_FUSE_DIRECT_IO=1 or 0 forces one or the other (measurements).
 *
 * Replies travel by writev from a buffer.  Splicing from the extent
 * file would save a copy for data, but libfuse's splice path needs a
 * pipe larger than the default pipe-max-size for 1 MiB replies and
 * falls back to a slow per-request buffer (measured: 10x slower).
 *
 * Access: allow_other (mount option) lets the loop driver and ntfs-3g
 * reach the files whatever their credentials; the folder and files are
 * owner-only (0500, 0400/0600) because they hold whole disks, which
 * other local users must not read through an open FUSE mount.
 *
 * Sizes: max_read defaults to 1 MiB (kernel option and conn->max_read);
 * writes are up to conn->max_write (1 MiB with libfuse 3.14 on 4.20+).
 */
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "mountfs.h"
#include "thread.h"

#define ROOT_INO 1
#define CACHE_SECONDS 3600.0
#define DEFAULT_MAX_READ (1u << 20)

struct vdk__mfs_server {
  struct fuse_session *se;
  struct vdk__mfs_file *files;
  size_t nfiles;
  bool writable;
  bool direct_io;          /* else the page cache, kept across opens */
  unsigned max_read;
  int ready_fd;            /* write end: one byte when INIT was answered */
  void *zeros;             /* max_read bytes of zeros, shared read-only */
  char dir[4096];          /* the FUSE folder */
  pthread_t thread;
  bool started;
  bool done;               /* the loop has ended (atomic) */
  unsigned conn;           /* /sys/fs/fuse/connections/N */
};

static pthread_key_t buf_key;
static pthread_once_t buf_once = PTHREAD_ONCE_INIT;

struct thread_buf {
  size_t size;
  void *data;
};

static void
thread_buf_free (void *p)
{
  struct thread_buf *tb = p;
  free (tb->data);
  free (tb);
}

static void
buf_key_init (void)
{
  pthread_key_create (&buf_key, thread_buf_free);
}

/* This thread's read buffer, at least `size` bytes; NULL if out of memory. */
static void *
thread_buf_get (size_t size)
{
  pthread_once (&buf_once, buf_key_init);
  struct thread_buf *tb = pthread_getspecific (buf_key);
  if (tb == NULL) {
    tb = calloc (1, sizeof *tb);
    if (tb == NULL || pthread_setspecific (buf_key, tb) != 0) {
      free (tb);
      return NULL;
    }
  }
  if (tb->size < size) {
    void *p = NULL;
    if (posix_memalign (&p, 4096, size) != 0)
      return NULL;
    free (tb->data);
    tb->data = p;
    tb->size = size;
  }
  return tb->data;
}

static struct vdk__mfs_file *
file_of (struct vdk__mfs_server *srv, fuse_ino_t ino)
{
  if (ino < 2 || ino - 2 >= srv->nfiles)
    return NULL;
  return &srv->files[ino - 2];
}

static void
fill_stat (struct vdk__mfs_server *srv, fuse_ino_t ino, struct stat *st)
{
  memset (st, 0, sizeof *st);
  st->st_ino = ino;
  st->st_uid = getuid ();
  st->st_gid = getgid ();
  if (ino == ROOT_INO) {
    st->st_mode = S_IFDIR | 0500;
    st->st_nlink = 2;
    return;
  }
  struct vdk__mfs_file *f = file_of (srv, ino);
  st->st_mode = S_IFREG | (srv->writable && f->writable ? 0600 : 0400);
  st->st_nlink = 1;
  st->st_size = (off_t) f->size;
  st->st_blksize = 4096;
  st->st_blocks = (blkcnt_t) ((f->size + 511) / 512);
}

static void
op_init (void *userdata, struct fuse_conn_info *conn)
{
  struct vdk__mfs_server *srv = userdata;
  conn->max_read = srv->max_read;
  if (conn->max_readahead < srv->max_read)
    conn->max_readahead = srv->max_read;
  if (conn->capable & FUSE_CAP_ASYNC_READ)
    conn->want |= FUSE_CAP_ASYNC_READ;
  int fd = __atomic_exchange_n (&srv->ready_fd, -1, __ATOMIC_SEQ_CST);
  if (fd >= 0) {
    char ok = 1;
    ssize_t r = write (fd, &ok, 1);
    (void) r;
    close (fd);
  }
}

static void
op_lookup (fuse_req_t req, fuse_ino_t parent, const char *name)
{
  struct vdk__mfs_server *srv = fuse_req_userdata (req);
  if (parent != ROOT_INO) {
    fuse_reply_err (req, ENOENT);
    return;
  }
  for (size_t i = 0; i < srv->nfiles; i++) {
    if (strcmp (srv->files[i].name, name) == 0) {
      struct fuse_entry_param e = { .ino = 2 + i,
                                    .attr_timeout = CACHE_SECONDS,
                                    .entry_timeout = CACHE_SECONDS };
      fill_stat (srv, e.ino, &e.attr);
      fuse_reply_entry (req, &e);
      return;
    }
  }
  fuse_reply_err (req, ENOENT);
}

static void
op_getattr (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
  struct vdk__mfs_server *srv = fuse_req_userdata (req);
  struct stat st;
  if (ino != ROOT_INO && file_of (srv, ino) == NULL) {
    fuse_reply_err (req, ENOENT);
    return;
  }
  fill_stat (srv, ino, &st);
  fuse_reply_attr (req, &st, CACHE_SECONDS);
}

/* Add one entry to a readdir reply; false when the buffer is full. */
static bool
dir_add (fuse_req_t req, char *buf, size_t size, size_t *pos,
         const char *name, fuse_ino_t ino, off_t next)
{
  struct stat st = { .st_ino = ino,
                     .st_mode = ino == ROOT_INO ? S_IFDIR : S_IFREG };
  size_t need = fuse_add_direntry (req, buf + *pos, size - *pos, name, &st,
                                   next);
  if (need > size - *pos)
    return false;
  *pos += need;
  return true;
}

static void
op_readdir (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
            struct fuse_file_info *fi)
{
  struct vdk__mfs_server *srv = fuse_req_userdata (req);
  if (ino != ROOT_INO) {
    fuse_reply_err (req, ENOTDIR);
    return;
  }
  char *buf = malloc (size);
  if (buf == NULL) {
    fuse_reply_err (req, ENOMEM);
    return;
  }
  size_t pos = 0;
  /* Offsets: 0 ".", 1 "..", 2 + i file i. */
  for (off_t i = off; i < (off_t) srv->nfiles + 2; i++) {
    const char *name = i == 0 ? "." : i == 1 ? ".." : srv->files[i - 2].name;
    fuse_ino_t e_ino = i < 2 ? ROOT_INO : (fuse_ino_t) i;
    if (!dir_add (req, buf, size, &pos, name, e_ino, i + 1))
      break;
  }
  fuse_reply_buf (req, buf, pos);
  free (buf);
}

static void
op_open (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
  struct vdk__mfs_server *srv = fuse_req_userdata (req);
  if (file_of (srv, ino) == NULL) {
    fuse_reply_err (req, ino == ROOT_INO ? EISDIR : ENOENT);
    return;
  }
  if ((fi->flags & O_ACCMODE) != O_RDONLY && !srv->writable) {
    fuse_reply_err (req, EROFS);
    return;
  }
  /* Keep the page cache across opens only while nothing can change the
   * bytes: in a writable folder a disk file and a volume file overlap. */
  fi->keep_cache = !srv->direct_io && !srv->writable;
  fi->direct_io = srv->direct_io;
  fuse_reply_open (req, fi);
}

static void
op_read (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
         struct fuse_file_info *fi)
{
  struct vdk__mfs_server *srv = fuse_req_userdata (req);
  struct vdk__mfs_file *f = file_of (srv, ino);
  if (f == NULL || off < 0) {
    fuse_reply_err (req, EINVAL);
    return;
  }
  if ((uint64_t) off >= f->size || size == 0) {
    fuse_reply_buf (req, NULL, 0);
    return;
  }
  size_t n = (size_t) MIN ((uint64_t) size, f->size - (uint64_t) off);
  if (n <= srv->max_read && vdk__mfs_file_is_zero (f, n, (uint64_t) off)) {
    fuse_reply_buf (req, srv->zeros, n);
    return;
  }
  void *buf = thread_buf_get (n);
  if (buf == NULL) {
    fuse_reply_err (req, ENOMEM);
    return;
  }
  if (vdk__mfs_file_pread (f, buf, n, (uint64_t) off) == -1) {
    fuse_reply_err (req, errno ? errno : EIO);
    return;
  }
  fuse_reply_buf (req, buf, n);
}

static void
op_write (fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
          off_t off, struct fuse_file_info *fi)
{
  struct vdk__mfs_server *srv = fuse_req_userdata (req);
  struct vdk__mfs_file *f = file_of (srv, ino);
  if (f == NULL || off < 0) {
    fuse_reply_err (req, EINVAL);
    return;
  }
  if (!srv->writable || !f->writable) {
    fuse_reply_err (req, EROFS);
    return;
  }
  if ((uint64_t) off >= f->size) {
    fuse_reply_err (req, size == 0 ? 0 : ENOSPC);
    return;
  }
  size_t n = (size_t) MIN ((uint64_t) size, f->size - (uint64_t) off);
  if (vdk__mfs_file_pwrite (f, buf, n, (uint64_t) off) == -1) {
    fuse_reply_err (req, errno ? errno : EIO);
    return;
  }
  fuse_reply_write (req, n);
}

static void
op_fsync (fuse_req_t req, fuse_ino_t ino, int datasync,
          struct fuse_file_info *fi)
{
  struct vdk__mfs_server *srv = fuse_req_userdata (req);
  struct vdk__mfs_file *f = file_of (srv, ino);
  int err = 0;
  if (f != NULL && srv->writable && f->writable
      && vdk__mfs_file_flush (f) == -1)
    err = errno ? errno : EIO;
  fuse_reply_err (req, err);
}

static void
op_flush (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
  /* close(2) of a file; durability is fsync's job and the daemon's on
   * exit, so this does not sync. */
  fuse_reply_err (req, 0);
}

/* The loop driver's discard is PUNCH_HOLE|KEEP_SIZE, its write-zeroes
 * ZERO_RANGE|KEEP_SIZE (or PUNCH_HOLE without REQ_NOUNMAP).  The files
 * have a fixed size, so KEEP_SIZE is required and plain allocation (mode
 * 0) is refused: there is nothing to preallocate that a write would not
 * allocate anyway. */
static void
op_fallocate (fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
              off_t len, struct fuse_file_info *fi)
{
  struct vdk__mfs_server *srv = fuse_req_userdata (req);
  struct vdk__mfs_file *f = file_of (srv, ino);
  int op = mode & ~FALLOC_FL_KEEP_SIZE;
  if (f == NULL || off < 0 || len <= 0) {
    fuse_reply_err (req, EINVAL);
    return;
  }
  if (!(mode & FALLOC_FL_KEEP_SIZE)
      || (op != FALLOC_FL_PUNCH_HOLE && op != FALLOC_FL_ZERO_RANGE)) {
    fuse_reply_err (req, EOPNOTSUPP);
    return;
  }
  if (!srv->writable || !f->writable) {
    fuse_reply_err (req, EROFS);
    return;
  }
  if ((uint64_t) off >= f->size) {
    fuse_reply_err (req, 0);
    return;
  }
  uint64_t n = MIN ((uint64_t) len, f->size - (uint64_t) off);
  int r = op == FALLOC_FL_PUNCH_HOLE
    ? vdk__mfs_file_punch (f, (uint64_t) off, n)
    : vdk__mfs_file_zero (f, (uint64_t) off, n);
  fuse_reply_err (req, r == -1 ? (errno ? errno : EIO) : 0);
}

static void
op_statfs (fuse_req_t req, fuse_ino_t ino)
{
  struct statvfs sv = { .f_bsize = 4096, .f_frsize = 4096,
                        .f_namemax = 63 };
  fuse_reply_statfs (req, &sv);
}

static const struct fuse_lowlevel_ops ops = {
  .init = op_init,
  .lookup = op_lookup,
  .getattr = op_getattr,
  .readdir = op_readdir,
  .open = op_open,
  .read = op_read,
  .write = op_write,
  .flush = op_flush,
  .fsync = op_fsync,
  .fallocate = op_fallocate,
  .statfs = op_statfs,
};

/* "allow_other,max_read=N,fsname=vdk,subtype=vdk[,ro]"; allow_other
 * because the loop driver's kernel threads must reach the files, as
 * vmware-mount does.  A user who is not root mounts only flat folders,
 * for herself: allow_other would need user_allow_other in
 * /etc/fuse.conf. */
static int
mount_options (char *buf, size_t size, bool writable, unsigned max_read)
{
  int n = snprintf (buf, size,
                    "%sdefault_permissions,max_read=%u,"
                    "fsname=vdk,subtype=vdk%s",
                    geteuid () == 0 ? "allow_other," : "", max_read,
                    writable ? "" : ",ro");
  return n > 0 && (size_t) n < size ? 0 : -1;
}

static void
server_free_mem (struct vdk__mfs_server *srv)
{
  if (srv->ready_fd >= 0)
    close (srv->ready_fd);
  free (srv->zeros);
  free (srv);
}

struct vdk__mfs_server *
vdk__mfs_server_mount (const char *dir, struct vdk__mfs_files *files,
                       bool writable, bool cached, unsigned max_read)
{
  struct vdk__mfs_server *srv = calloc (1, sizeof *srv);
  char opts[256];
  if (srv == NULL) {
    vdk__errc (VDK_E_NO_MEMORY, ENOMEM, "out of memory");
    return NULL;
  }
  srv->files = files->f;
  srv->nfiles = files->n;
  srv->writable = writable;
  srv->max_read = max_read ? max_read : DEFAULT_MAX_READ;
  srv->ready_fd = -1;
  snprintf (srv->dir, sizeof srv->dir, "%s", dir);
  srv->zeros = calloc (1, srv->max_read);
  if (srv->zeros == NULL) {
    server_free_mem (srv);
    vdk__errc (VDK_E_NO_MEMORY, ENOMEM, "out of memory");
    return NULL;
  }
  const char *dio = getenv ("VDK_FUSE_DIRECT_IO");
  srv->direct_io = dio && *dio ? strcmp (dio, "0") != 0 : !cached;
  mount_options (opts, sizeof opts, writable, srv->max_read);
  char *argv[] = { "vdk", "-o", opts, NULL };
  struct fuse_args args = FUSE_ARGS_INIT (3, argv);
  srv->se = fuse_session_new (&args, &ops, sizeof ops, srv);
  if (srv->se == NULL) {
    server_free_mem (srv);
    vdk__errc (VDK_E_FAILED, EINVAL, "cannot create a FUSE session "
               "(libfuse refused the options)");
    return NULL;
  }
  if (fuse_session_mount (srv->se, dir) != 0) {
    int e = errno ? errno : ENODEV;
    fuse_session_destroy (srv->se);
    server_free_mem (srv);
    vdk__err (e, "cannot mount the FUSE folder %s: %s (is the fuse module "
              "loaded? modprobe fuse)", dir, strerror (e));
    return NULL;
  }
  return srv;
}

/* Let readahead ask for max_read at once (see "Caching" above).  Best
 * effort: a user who is not root keeps the kernel's 128 KiB. */
static void
raise_readahead (struct vdk__mfs_server *srv, dev_t dev)
{
  char path[128], kb[32];
  snprintf (path, sizeof path, "/sys/class/bdi/%u:%u/read_ahead_kb",
            major (dev), minor (dev));
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    int n = snprintf (kb, sizeof kb, "%u", srv->max_read / 1024);
    ssize_t r = write (fd, kb, (size_t) n);
    (void) r;
    close (fd);
  }
}

static void *
serve_thread (void *arg)
{
  struct vdk__mfs_server *srv = arg;
  struct fuse_loop_config *cfg = fuse_loop_cfg_create ();
  if (cfg != NULL) {
    fuse_loop_cfg_set_clone_fd (cfg, 1);
    fuse_loop_cfg_set_max_threads (cfg, 16);
    fuse_session_loop_mt (srv->se, cfg);
    fuse_loop_cfg_destroy (cfg);
  }
  /* Wakes a start still waiting for INIT (EOF instead of the byte). */
  int fd = __atomic_exchange_n (&srv->ready_fd, -1, __ATOMIC_SEQ_CST);
  if (fd >= 0)
    close (fd);
  __atomic_store_n (&srv->done, true, __ATOMIC_RELEASE);
  return NULL;
}

int
vdk__mfs_server_start (struct vdk__mfs_server *srv)
{
  int p[2];
  if (pipe2 (p, O_CLOEXEC) == -1)
    return vdk__err (errno, "pipe: %s", strerror (errno));
  srv->ready_fd = p[1];
  int e = vdk__thread_start (&srv->thread, serve_thread, srv);
  if (e != 0) {
    close (p[0]);
    close (p[1]);
    srv->ready_fd = -1;
    return vdk__err (e, "cannot start the FUSE thread: %s", strerror (e));
  }
  srv->started = true;
  char ok = 0;
  ssize_t r;
  while ((r = read (p[0], &ok, 1)) == -1 && errno == EINTR)
    ;
  close (p[0]);
  if (r != 1 || ok != 1)
    return vdk__errc (VDK_E_FAILED, EIO, "the FUSE folder %s was not "
                      "served (the kernel's INIT never came)", srv->dir);
  struct stat st;
  if (stat (srv->dir, &st) == 0) {
    srv->conn = minor (st.st_dev);
    if (!srv->direct_io)
      raise_readahead (srv, st.st_dev);
  }
  return 0;
}

bool
vdk__mfs_server_done (struct vdk__mfs_server *srv)
{
  return !srv->started || __atomic_load_n (&srv->done, __ATOMIC_ACQUIRE);
}

/* Fail every request of the connection; the loop then ends. */
static void
abort_connection (struct vdk__mfs_server *srv)
{
  char path[128];
  snprintf (path, sizeof path, "/sys/fs/fuse/connections/%u/abort",
            srv->conn);
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t r = write (fd, "1", 1);
    (void) r;
    close (fd);
  }
  fuse_session_exit (srv->se);
}

void
vdk__mfs_server_join (struct vdk__mfs_server *srv, int timeout_ms)
{
  struct timespec ts = { 0, 20 * 1000000L };
  if (!srv->started)
    return;
  for (int waited = 0; timeout_ms >= 0 && !vdk__mfs_server_done (srv);
       waited += 20) {
    if (waited >= timeout_ms) {
      abort_connection (srv);
      break;
    }
    nanosleep (&ts, NULL);
  }
  pthread_join (srv->thread, NULL);
  srv->started = false;
}

void
vdk__mfs_server_free (struct vdk__mfs_server *srv)
{
  if (srv == NULL)
    return;
  if (srv->started) {
    /* Still serving: unmount lazily, and stop waiting for users. */
    vdk__mfs_umount (srv->dir, true, "FUSE folder");
    vdk__mfs_server_join (srv, 0);
  } else if (vdk__mfs_is_mounted (srv->dir))
    vdk__mfs_umount (srv->dir, true, "FUSE folder");
  fuse_session_destroy (srv->se);
  server_free_mem (srv);
}
