/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The FUSE ceiling: the least a FUSE server can do to hand out the bytes
 * of a raw file, for bench/mount.sh to measure `vdk mount --flat` against.
 *
 *   fuse-ceiling [-o MODE,...] RAWFILE DIR
 *
 * Serves one read-only file DIR/disk with the bytes of RAWFILE, made the
 * way vdk's mount folder is made (lib/mountfs/mfs-serve.c): libfuse3's
 * low-level API, the same mount options (allow_other, default_permissions,
 * max_read=1 MiB, ro), conn->max_read and max_readahead of 1 MiB, async
 * reads, the multi-threaded loop with cloned /dev/fuse descriptors.  Each
 * read is one pread(2) of the file, nothing else: no map, no lookup, no
 * lock.  MODE picks how the reply travels, one knob at a time, so the
 * bench can show what each costs (default: the choices vdk makes):
 *   dio       direct_io: requests of the reader's size, no page cache
 *   cache     page cache kept across opens (keep_cache)
 *   splice    reply by splicing from RAWFILE (FUSE_CAP_SPLICE_WRITE and
 *             _MOVE; the data never enters this process)
 *   copy      reply from a buffer (pread, then writev to /dev/fuse)
 *   st        single-threaded loop
 * Runs in the foreground until DIR is unmounted (fusermount3 -u DIR) or
 * SIGINT/SIGTERM.  Not installed, not part of the library: a benchmark
 * instrument, kept minimal on purpose. */
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_READ (1u << 20)

static int data_fd = -1;
static off_t data_size;
static bool opt_dio, opt_cache, opt_splice, opt_st;

static __thread void *tbuf;

static void
fill_stat (fuse_ino_t ino, struct stat *st)
{
  memset (st, 0, sizeof *st);
  st->st_ino = ino;
  st->st_uid = getuid ();
  st->st_gid = getgid ();
  if (ino == 1) {
    st->st_mode = S_IFDIR | 0500;
    st->st_nlink = 2;
  } else {
    st->st_mode = S_IFREG | 0400;
    st->st_nlink = 1;
    st->st_size = data_size;
    st->st_blksize = 4096;
  }
}

static void
op_init (void *userdata, struct fuse_conn_info *conn)
{
  (void) userdata;
  conn->max_read = MAX_READ;
  if (conn->max_readahead < MAX_READ)
    conn->max_readahead = MAX_READ;
  if (conn->capable & FUSE_CAP_ASYNC_READ)
    conn->want |= FUSE_CAP_ASYNC_READ;
  if (opt_splice)
    conn->want |= conn->capable & (FUSE_CAP_SPLICE_WRITE
                                   | FUSE_CAP_SPLICE_MOVE);
  else
    conn->want &= ~(FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
}

static void
op_lookup (fuse_req_t req, fuse_ino_t parent, const char *name)
{
  struct fuse_entry_param e = { .ino = 2, .attr_timeout = 3600,
                                .entry_timeout = 3600 };
  if (parent != 1 || strcmp (name, "disk") != 0) {
    fuse_reply_err (req, ENOENT);
    return;
  }
  fill_stat (2, &e.attr);
  fuse_reply_entry (req, &e);
}

static void
op_getattr (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
  struct stat st;
  (void) fi;
  if (ino != 1 && ino != 2) {
    fuse_reply_err (req, ENOENT);
    return;
  }
  fill_stat (ino, &st);
  fuse_reply_attr (req, &st, 3600);
}

static void
op_readdir (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
            struct fuse_file_info *fi)
{
  static const char *const names[] = { ".", "..", "disk" };
  char buf[512];
  size_t pos = 0;
  (void) fi;
  if (ino != 1) {
    fuse_reply_err (req, ENOTDIR);
    return;
  }
  if (size > sizeof buf)
    size = sizeof buf;
  for (off_t i = off; i < 3; i++) {
    struct stat st = { .st_ino = i == 2 ? 2 : 1,
                       .st_mode = i == 2 ? S_IFREG : S_IFDIR };
    size_t n = fuse_add_direntry (req, buf + pos, size - pos, names[i], &st,
                                  i + 1);
    if (n > size - pos)
      break;
    pos += n;
  }
  fuse_reply_buf (req, buf, pos);
}

static void
op_open (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
  if (ino != 2) {
    fuse_reply_err (req, ino == 1 ? EISDIR : ENOENT);
    return;
  }
  if ((fi->flags & O_ACCMODE) != O_RDONLY) {
    fuse_reply_err (req, EROFS);
    return;
  }
  fi->direct_io = opt_dio;
  fi->keep_cache = opt_cache;
  fuse_reply_open (req, fi);
}

static void
op_read (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
         struct fuse_file_info *fi)
{
  (void) ino;
  (void) fi;
  if (off >= data_size) {
    fuse_reply_buf (req, NULL, 0);
    return;
  }
  if ((off_t) size > data_size - off)
    size = (size_t) (data_size - off);
  if (opt_splice) {
    struct fuse_bufvec bv = FUSE_BUFVEC_INIT (size);
    bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
    bv.buf[0].fd = data_fd;
    bv.buf[0].pos = off;
    fuse_reply_data (req, &bv, FUSE_BUF_SPLICE_MOVE);
    return;
  }
  if (tbuf == NULL && posix_memalign (&tbuf, 4096, MAX_READ) != 0) {
    tbuf = NULL;
    fuse_reply_err (req, ENOMEM);
    return;
  }
  ssize_t n = pread (data_fd, tbuf, size, off);
  if (n < 0)
    fuse_reply_err (req, errno);
  else
    fuse_reply_buf (req, tbuf, (size_t) n);
}

static const struct fuse_lowlevel_ops ops = {
  .init = op_init,
  .lookup = op_lookup,
  .getattr = op_getattr,
  .readdir = op_readdir,
  .open = op_open,
  .read = op_read,
};

static int
parse_modes (char *s)
{
  for (char *t = strtok (s, ","); t; t = strtok (NULL, ",")) {
    if (strcmp (t, "dio") == 0) opt_dio = true;
    else if (strcmp (t, "cache") == 0) opt_cache = true;
    else if (strcmp (t, "splice") == 0) opt_splice = true;
    else if (strcmp (t, "copy") == 0) opt_splice = false;
    else if (strcmp (t, "st") == 0) opt_st = true;
    else {
      fprintf (stderr, "fuse-ceiling: unknown mode %s\n", t);
      return -1;
    }
  }
  return 0;
}

int
main (int argc, char **argv)
{
  char opts[256];
  int a = 1;
  if (argc > 2 && strcmp (argv[1], "-o") == 0) {
    if (parse_modes (argv[2]) == -1)
      return 2;
    a = 3;
  }
  if (argc - a != 2) {
    fprintf (stderr, "usage: fuse-ceiling [-o dio,cache,splice,copy,st] "
             "RAWFILE DIR\n");
    return 2;
  }
  struct stat st;
  data_fd = open (argv[a], O_RDONLY | O_CLOEXEC);
  if (data_fd == -1 || fstat (data_fd, &st) == -1) {
    perror (argv[a]);
    return 1;
  }
  data_size = st.st_size;
  snprintf (opts, sizeof opts, "%sdefault_permissions,max_read=%u,"
            "fsname=ceiling,subtype=ceiling,ro",
            geteuid () == 0 ? "allow_other," : "", MAX_READ);
  char *fargv[] = { argv[0], "-o", opts, NULL };
  struct fuse_args args = FUSE_ARGS_INIT (3, fargv);
  struct fuse_session *se = fuse_session_new (&args, &ops, sizeof ops, NULL);
  if (se == NULL || fuse_set_signal_handlers (se) != 0
      || fuse_session_mount (se, argv[a + 1]) != 0) {
    fprintf (stderr, "fuse-ceiling: cannot mount %s\n", argv[a + 1]);
    return 1;
  }
  int r;
  if (opt_st)
    r = fuse_session_loop (se);
  else {
    struct fuse_loop_config *cfg = fuse_loop_cfg_create ();
    fuse_loop_cfg_set_clone_fd (cfg, 1);
    fuse_loop_cfg_set_max_threads (cfg, 16);
    r = fuse_session_loop_mt (se, cfg);
    fuse_loop_cfg_destroy (cfg);
  }
  fuse_session_unmount (se);
  fuse_remove_signal_handlers (se);
  fuse_session_destroy (se);
  return r < 0 ? 1 : 0;
}
