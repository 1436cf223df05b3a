/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A crash-simulating io backend for tests, after SQLite's test6.c.
 *
 * vdk__crash_install() registers a wrapper in front of the `file`
 * backend, so every file a link opens (extents, raw images, descriptors)
 * is served from memory: `cur` is what reads see, `durable` what the
 * file held at its last flush, and `log` the writes (and truncates)
 * since then, in order.  A flush makes cur durable and empties the log,
 * exactly the promise of fdatasync.
 *
 * Names.  Renames and unlinks go through the wrapper's file-system
 * table.  They happen on the real file system at once (so lookups by
 * name agree with what vdk did), but what they replace or remove is
 * kept under a backup name, and the operation is recorded until a sync
 * of its folder makes it durable (a journaled file system commits name
 * changes in order, so a sync makes every earlier one durable too).
 * Temporary files are created for real, empty, and then served from
 * memory like any other file.
 *
 * After `crash_after` writes (counted over all files; a rename, unlink
 * or folder sync counts as one) the machine "stops": that operation and
 * every later one fails with EIO.  The test then calls
 * vdk__crash_now(mode): the recorded name changes are undone, all of
 * them (DROP_ALL), all but a random prefix (SUBSET, TORN) or none
 * (KEEP_ALL), and each file that was written is written back under the
 * name it then has, as it could be after a power cut: the durable
 * state plus none of the logged writes (DROP_ALL), a random subset of
 * them (SUBSET), random 512-byte sectors of each (TORN), or all of them
 * (KEEP_ALL).  Files that were never written through the layer are left
 * alone; such a file is reloaded from disk when it is opened again.
 *
 * Everything is guarded by one mutex; it is a test tool, not fast. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/io.h"

#define MAX_FILE ((size_t) 1 << 30)   /* tests use small disks */

struct op {
  uint64_t off, len;      /* a write; or a truncate to `len` (data NULL) */
  uint8_t *data;
};

struct cfile {
  char *path;
  uint8_t *durable, *cur;
  size_t dlen, clen, ccap;
  struct op *log;
  size_t nlog, caplog;
  bool written;
  bool gone;              /* its name was removed for good */
  int refs;
  struct cfile *next;
};

/* A rename (to set) or unlink not yet made durable; bak is where the
 * file it replaced or removed is kept, or NULL. */
struct nsop {
  char *from, *to, *bak;
};

static struct {
  pthread_mutex_t lock;
  uint64_t crash_after, writes;
  bool dead;
  uint32_t rng, nbak;
  struct cfile *files;
  struct nsop *ops;
  size_t nops, capops;
} C = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint32_t
rnd (void)
{
  C.rng ^= C.rng << 13, C.rng ^= C.rng >> 17, C.rng ^= C.rng << 5;
  return C.rng;
}

static int
grow (uint8_t **buf, size_t *cap, size_t need)
{
  if (need > MAX_FILE) {
    errno = EFBIG;
    return -1;
  }
  if (need > *cap) {
    size_t n = MAX (need, *cap * 2);
    uint8_t *p = realloc (*buf, n);
    if (!p)
      return -1;
    memset (p + *cap, 0, n - *cap);
    *buf = p, *cap = n;
  }
  return 0;
}

static void
free_file (struct cfile *f)
{
  for (size_t i = 0; i < f->nlog; i++)
    free (f->log[i].data);
  free (f->log), free (f->durable), free (f->cur), free (f->path), free (f);
}

static struct cfile *
load (const char *path, bool trunc)
{
  struct cfile *f = calloc (1, sizeof *f);
  int fd = trunc ? -1 : open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  off_t size = fd >= 0 ? lseek (fd, 0, SEEK_END) : 0;

  if (!f || !(f->path = strdup (path)) || size < 0
      || grow (&f->cur, &f->ccap, (size_t) size + 1) == -1
      || (size && pread (fd, f->cur, (size_t) size, 0) != size)
      || !(f->durable = malloc ((size_t) size + 1))) {
    if (fd >= 0)
      close (fd);
    if (f)
      free_file (f);
    return NULL;
  }
  if (fd >= 0)
    close (fd);
  f->clen = f->dlen = (size_t) size;
  memcpy (f->durable, f->cur, f->clen);
  return f;
}

static bool
stopped (void)
{
  if (C.dead) {
    errno = EIO;
    return true;
  }
  return false;
}

/* Count a write; the one past crash_after stops the machine. */
static bool
count_write (void)
{
  if (stopped ())
    return true;
  if (C.crash_after && C.writes >= C.crash_after) {
    C.dead = true;
    errno = EIO;
    return true;
  }
  C.writes++;
  return false;
}

static int
log_op (struct cfile *f, uint64_t off, uint64_t len, const void *data)
{
  struct op o = { off, len, NULL };
  if (data && !(o.data = malloc (len ? len : 1)))
    return -1;
  if (data)
    memcpy (o.data, data, len);
  if (f->nlog == f->caplog) {
    size_t n = f->caplog ? f->caplog * 2 : 64;
    struct op *p = realloc (f->log, n * sizeof *p);
    if (!p) {
      free (o.data);
      return -1;
    }
    f->log = p, f->caplog = n;
  }
  f->log[f->nlog++] = o;
  f->written = true;
  return 0;
}

static int
c_pread (struct vdk_io *io, void *buf, size_t n, uint64_t off)
{
  struct cfile *f = io->priv;
  SCOPED_LOCK (&C.lock);
  size_t have = off < f->clen ? MIN ((uint64_t) n, f->clen - off) : 0;
  if (stopped ())
    return -1;
  if (have)
    memcpy (buf, f->cur + off, have);
  memset ((char *) buf + have, 0, n - have);
  return 0;
}

static int
c_pwrite (struct vdk_io *io, const void *buf, size_t n, uint64_t off)
{
  struct cfile *f = io->priv;
  SCOPED_LOCK (&C.lock);
  if (count_write () || grow (&f->cur, &f->ccap, off + n) == -1
      || log_op (f, off, n, buf) == -1)
    return -1;
  memcpy (f->cur + off, buf, n);
  f->clen = MAX (f->clen, (size_t) (off + n));
  return 0;
}

static int
c_truncate (struct vdk_io *io, uint64_t size)
{
  struct cfile *f = io->priv;
  SCOPED_LOCK (&C.lock);
  if (count_write () || grow (&f->cur, &f->ccap, size) == -1
      || log_op (f, 0, size, NULL) == -1)
    return -1;
  if (size < f->clen)
    memset (f->cur + size, 0, f->clen - size);
  f->clen = (size_t) size;
  return 0;
}

static int
c_flush (struct vdk_io *io)
{
  struct cfile *f = io->priv;
  SCOPED_LOCK (&C.lock);
  uint8_t *d;
  if (stopped () || !(d = malloc (f->clen + 1)))
    return -1;
  memcpy (d, f->cur, f->clen);
  free (f->durable);
  f->durable = d, f->dlen = f->clen;
  for (size_t i = 0; i < f->nlog; i++)
    free (f->log[i].data);
  f->nlog = 0;
  return 0;
}

static int
c_size (struct vdk_io *io, uint64_t *size)
{
  SCOPED_LOCK (&C.lock);
  *size = ((struct cfile *) io->priv)->clen;
  return 0;
}

static void
c_close (struct vdk_io *io)
{
  SCOPED_LOCK (&C.lock);
  ((struct cfile *) io->priv)->refs--;
}

static const struct vdk_io_ops crash_ops = {
  .name = "crash",
  .pread = c_pread,
  .pwrite = c_pwrite,
  .flush = c_flush,
  .size = c_size,
  .truncate = c_truncate,
  .close = c_close,
};

static struct cfile *
find_file (const char *path, unsigned flags)
{
  struct cfile **pp = &C.files, *f;
  for (; (f = *pp); pp = &f->next)
    if (!f->gone && strcmp (f->path, path) == 0)
      break;
  if (f && !f->written && f->refs == 0) {   /* may have changed on disk */
    *pp = f->next;
    free_file (f);
    f = NULL;
  }
  if (!f) {
    if (!(flags & (VDK_IO_CREATE | VDK_IO_TRUNC)) && access (path, F_OK))
      return NULL;
    if (!(f = load (path, (flags & VDK_IO_TRUNC) != 0)))
      return NULL;
    f->next = C.files, C.files = f;
  }
  return f;
}

/* Serve the file at path from memory; C.lock held. */
static struct vdk_io *
open_locked (const char *path, unsigned flags)
{
  struct vdk_io *io = calloc (1, sizeof *io);
  struct cfile *f = io ? find_file (path, flags) : NULL;

  if (!f || !(io->path = strdup (path))) {
    int e = errno ? errno : ENOMEM;
    free (io);
    vdk__err (e, "%s: %s", path, strerror (e));
    return NULL;
  }
  f->refs++;
  io->ops = &crash_ops;
  io->priv = f;
  io->readonly = (flags & VDK_IO_READONLY) != 0;
  return io;
}

static struct vdk_io *
crash_open (const char *path, unsigned flags)
{
  SCOPED_LOCK (&C.lock);
  return open_locked (path, flags);
}

/* ---- names ---- */

static struct cfile *
file_named (const char *path)
{
  for (struct cfile *f = C.files; f; f = f->next)
    if (!f->gone && strcmp (f->path, path) == 0)
      return f;
  return NULL;
}

/* Rename for real and let the file's record follow. */
static int
move (const char *from, const char *to)
{
  struct cfile *f = file_named (from);
  char *p;
  if (rename (from, to) == -1)
    return -1;
  if (f && (p = strdup (to))) {
    free (f->path);
    f->path = p;
  }
  return 0;
}

/* Keep what stands at path under a new backup name (*bak), or set
 * *bak NULL when nothing stands there. */
static int
back_up (const char *path, char **bak)
{
  struct stat st;
  size_t n = strlen (path) + 32;
  *bak = NULL;
  if (lstat (path, &st) == -1)
    return errno == ENOENT ? 0 : -1;
  if (!(*bak = malloc (n)))
    return -1;
  snprintf (*bak, n, "%s.crash-bak-%u", path, C.nbak++);
  if (move (path, *bak) == -1) {
    free (*bak);
    *bak = NULL;
    return -1;
  }
  return 0;
}

static int
record (const char *from, const char *to, char *bak)
{
  struct nsop o = { strdup (from), to ? strdup (to) : NULL, bak };
  if (C.nops == C.capops) {
    size_t n = C.capops ? C.capops * 2 : 16;
    struct nsop *p = realloc (C.ops, n * sizeof *p);
    if (!p)
      return -1;
    C.ops = p, C.capops = n;
  }
  C.ops[C.nops++] = o;
  return 0;
}

static int
c_rename (const char *from, const char *to)
{
  SCOPED_LOCK (&C.lock);
  char *bak;
  if (count_write () || back_up (to, &bak) == -1)
    return -1;
  if (move (from, to) == -1) {
    int e = errno;
    if (bak)
      move (bak, to);
    free (bak);
    errno = e;
    return -1;
  }
  return record (from, to, bak);
}

static int
c_unlink (const char *path)
{
  SCOPED_LOCK (&C.lock);
  char *bak;
  if (count_write () || back_up (path, &bak) == -1)
    return -1;
  if (!bak) {
    errno = ENOENT;
    return -1;
  }
  return record (path, NULL, bak);
}

/* The name change is durable: what it replaced is gone for good. */
static void
commit (struct nsop *o)
{
  struct cfile *f = o->bak ? file_named (o->bak) : NULL;
  if (o->bak)
    unlink (o->bak);
  if (f)
    f->gone = true;
  free (o->from), free (o->to), free (o->bak);
}

/* Lost in the crash: put the names back as they were. */
static void
undo (struct nsop *o)
{
  if (o->to)
    move (o->to, o->from);
  if (o->bak)
    move (o->bak, o->to ? o->to : o->from);
  free (o->from), free (o->to), free (o->bak);
}

static bool
in_dir (const char *path, const char *dir)
{
  CLEANUP_FREE char *copy = strdup (path);
  return copy && strcmp (dirname (copy), dir) == 0;
}

/* Everything up to the last change in path's folder becomes durable. */
static int
c_sync_dir (const char *path)
{
  SCOPED_LOCK (&C.lock);
  CLEANUP_FREE char *copy = strdup (path);
  const char *dir = copy ? dirname (copy) : NULL;
  size_t last = 0;

  if (!dir || count_write ())
    return -1;
  for (size_t i = 0; i < C.nops; i++)
    if (in_dir (C.ops[i].to ? C.ops[i].to : C.ops[i].from, dir))
      last = i + 1;
  for (size_t i = 0; i < last; i++)
    commit (&C.ops[i]);
  memmove (C.ops, C.ops + last, (C.nops - last) * sizeof *C.ops);
  C.nops -= last;
  return 0;
}

/* A real, empty temporary file (the file backend picks the name),
 * served from memory from then on. */
static struct vdk_io *
c_create_temp (const char *path, const char *tag, unsigned mode, char **tmp)
{
  struct vdk_io *io = vdk__io_file_backend.fs->create_temp (path, tag, mode,
                                                             tmp);
  SCOPED_LOCK (&C.lock);
  if (!io)
    return NULL;
  vdk__io_close (io);
  if (stopped () || !(io = open_locked (*tmp, VDK_IO_TRUNC))) {
    unlink (*tmp);
    free (*tmp);
    *tmp = NULL;
    vdk__err (EIO, "%s: cannot create a temporary file", path);
    return NULL;
  }
  return io;
}

static int
c_stat (const char *path, struct vdk_fs_stat *st)
{
  return vdk__io_file_backend.fs->stat (path, st);
}

static const struct vdk_fs_ops crash_fs = {
  .rename = c_rename,
  .unlink = c_unlink,
  .create_temp = c_create_temp,
  .sync_dir = c_sync_dir,
  .stat = c_stat,
};

static const struct vdk_io_backend crash_backend = {
  .scheme = "file",
  .open = crash_open,
  .fs = &crash_fs,
};

void
vdk__crash_install (uint64_t crash_after, uint32_t seed)
{
  vdk__crash_uninstall ();
  {
    SCOPED_LOCK (&C.lock);
    C.crash_after = crash_after;
    C.writes = 0;
    C.dead = false;
    C.rng = seed ? seed : 1;
  }
  vdk__io_register (&crash_backend);
}

uint64_t
vdk__crash_writes (void)
{
  SCOPED_LOCK (&C.lock);
  return C.writes;
}

/* Apply op o to buf (what survives depends on mode). */
static int
replay (uint8_t **buf, size_t *len, size_t *cap, const struct op *o, int mode)
{
  if (mode == VDK_CRASH_DROP_ALL || (mode == VDK_CRASH_SUBSET && rnd () & 1))
    return 0;
  if (!o->data) {                          /* truncate */
    if (mode == VDK_CRASH_TORN && rnd () & 1)
      return 0;
    if (grow (buf, cap, o->len) == -1)
      return -1;
    if (o->len < *len)
      memset (*buf + o->len, 0, *len - o->len);
    *len = o->len;
    return 0;
  }
  if (grow (buf, cap, o->off + o->len) == -1)
    return -1;
  for (uint64_t s = 0; s < o->len; s += SECTOR) {
    uint64_t n = MIN ((uint64_t) SECTOR, o->len - s);
    if (mode == VDK_CRASH_TORN && rnd () & 1)
      continue;
    memcpy (*buf + o->off + s, o->data + s, n);
    *len = MAX (*len, (size_t) (o->off + s + n));
  }
  return 0;
}

static int
write_back (struct cfile *f, int mode)
{
  size_t len = f->dlen, cap = f->dlen + 1;
  uint8_t *buf = malloc (cap);
  int fd, r = -1;

  if (!buf)
    return -1;
  memcpy (buf, f->durable, len);
  for (size_t i = 0; i < f->nlog; i++)
    if (replay (&buf, &len, &cap, &f->log[i], mode) == -1)
      goto out;
  fd = open (f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0 && pwrite (fd, buf, len, 0) == (ssize_t) len
      && fsync (fd) == 0)
    r = 0;
  if (fd >= 0)
    close (fd);
out:
  free (buf);
  return r;
}

int
vdk__crash_now (int mode)
{
  SCOPED_LOCK (&C.lock);
  size_t keep = mode == VDK_CRASH_DROP_ALL ? 0
    : mode == VDK_CRASH_KEEP_ALL ? C.nops : rnd () % (C.nops + 1);

  C.dead = true;
  for (size_t i = C.nops; i-- > keep;)
    undo (&C.ops[i]);
  for (size_t i = 0; i < keep; i++)
    commit (&C.ops[i]);
  C.nops = 0;
  for (struct cfile *f = C.files; f; f = f->next)
    if (f->written && !f->gone && write_back (f, mode) == -1)
      return vdk__err (errno, "%s: crash write-back failed: %s", f->path,
                       strerror (errno));
  return 0;
}

/* Without a crash, every name change stands. */
void
vdk__crash_uninstall (void)
{
  vdk__io_unregister (&crash_backend);
  SCOPED_LOCK (&C.lock);
  for (size_t i = 0; i < C.nops; i++)
    commit (&C.ops[i]);
  free (C.ops);
  C.ops = NULL;
  C.nops = C.capops = 0;
  while (C.files) {
    struct cfile *f = C.files;
    C.files = f->next;
    free_file (f);
  }
  C.dead = false;
}
