/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The `sink` io backend: a store whose bytes go out through a file
 * descriptor that cannot seek (a pipe, a socket, a terminal), so that
 * vdk_clone can write a disk to standard output.
 *
 * A sink is made by its owner (vdk__sink_new), which gets its spec,
 * "sink://N/NAME"; the disk layers then create and open that spec like
 * any other store, as often as they like, while the owner holds it.
 * vdk__sink_finish sends what is left and reports the first error.
 *
 * Facts it relies on: the writers that can use a sink append in offset
 * order (streamOptimized, a raw copy), but not strictly: a new disk's
 * header and descriptor are rewritten before the first data lands (the
 * first write's CID change), the stream's tail is written at each flush
 * and overwritten by the next write, and a reader of the new disk reads
 * its header and tail back.  So the sink keeps the last WINDOW bytes of
 * what was written in memory, where they can still change and be read,
 * and sends only what lies before them (a size set by truncate beyond
 * the last write goes out as zeroes at the end).  A write or a read below what
 * was sent is refused (ESPIPE, naming the offset): it is a writer this
 * backend cannot serve, not a data loss.  Gaps read and go out as
 * zeroes.  Memory: WINDOW plus the largest single write.
 *
 * Locking: one mutex per sink guards its window and counters; the list
 * of live sinks has its own. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "io/io.h"

#define WINDOW (8u << 20)

struct vdk__sink {
  pthread_mutex_t lock;
  int fd;
  char *spec;
  uint8_t *buf;          /* bytes [sent, sent + len): written, unsent */
  size_t len, cap;
  uint64_t sent;         /* bytes already written to fd */
  uint64_t size;         /* the store's size; bytes past sent + len (a
                            truncate that extended it) are zeroes */
  int error;             /* errno of a failed send, sticky */
  struct vdk__sink *next;
};

static pthread_mutex_t sinks_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vdk__sink *sinks;
static unsigned sink_serial;

static int
refuse_sent (struct vdk__sink *s, uint64_t off, const char *what)
{
  return vdk__err (ESPIPE, "%s: cannot %s byte %" PRIu64 ": it was sent "
                   "already (a pipe only goes forward)", s->spec, what, off);
}

/* Send [sent, sent + n) and drop it from the window. */
static int
send_front (struct vdk__sink *s, size_t n)
{
  size_t done = 0;

  if (s->error)
    return vdk__err (s->error, "%s: %s", s->spec, strerror (s->error));
  while (done < n) {
    ssize_t r = write (s->fd, s->buf + done, n - done);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0) {
      s->error = r == -1 ? errno : EIO;
      return vdk__err (s->error, "%s: %s", s->spec, strerror (s->error));
    }
    done += (size_t) r;
  }
  memmove (s->buf, s->buf + n, s->len - n);
  s->len -= n;
  s->sent += n;
  return 0;
}

/* Make the window reach `end` (zero-filled). */
static int
grow_to (struct vdk__sink *s, uint64_t end)
{
  size_t need;

  if (end <= s->sent + s->len)
    return 0;
  if (end - s->sent > SIZE_MAX / 2)
    return vdk__err (ENOMEM, "%s: out of memory", s->spec);
  need = (size_t) (end - s->sent);
  if (need > s->cap) {
    size_t cap = MAX (need, s->cap * 2);
    uint8_t *p = realloc (s->buf, cap);
    if (!p)
      return vdk__err (ENOMEM, "%s: out of memory", s->spec);
    s->buf = p, s->cap = cap;
  }
  memset (s->buf + s->len, 0, need - s->len);
  s->len = need;
  return 0;
}

/* Send `n` zero bytes after the window (which must be empty). */
static int
send_zeroes (struct vdk__sink *s, uint64_t n)
{
  while (n > 0) {
    size_t k = (size_t) MIN (n, (uint64_t) WINDOW);
    if (grow_to (s, s->sent + k) == -1 || send_front (s, k) == -1)
      return -1;
    n -= k;
  }
  return 0;
}

static int
sink_pwrite (struct vdk_io *io, const void *data, size_t n, uint64_t off)
{
  struct vdk__sink *s = io->priv;
  SCOPED_LOCK (&s->lock);

  if (off < s->sent)
    return refuse_sent (s, off, "write");
  if (grow_to (s, off + n) == -1)
    return -1;
  memcpy (s->buf + (off - s->sent), data, n);
  s->size = MAX (s->size, off + n);
  if (s->len > WINDOW)
    return send_front (s, s->len - WINDOW);
  return 0;
}

static int
sink_pread (struct vdk_io *io, void *data, size_t n, uint64_t off)
{
  struct vdk__sink *s = io->priv;
  SCOPED_LOCK (&s->lock);
  size_t have;

  if (off < s->sent)
    return refuse_sent (s, off, "read back");
  have = off < s->sent + s->len
    ? (size_t) MIN ((uint64_t) n, s->sent + s->len - off) : 0;
  memcpy (data, s->buf + (off - s->sent), have);
  memset ((uint8_t *) data + have, 0, n - have);
  return 0;
}

static int
sink_flush (struct vdk_io *io)
{
  (void) io;            /* the window may still change: see the top */
  return 0;
}

static int
sink_size (struct vdk_io *io, uint64_t *size)
{
  struct vdk__sink *s = io->priv;
  SCOPED_LOCK (&s->lock);
  *size = s->size;
  return 0;
}

static int
sink_truncate (struct vdk_io *io, uint64_t size)
{
  struct vdk__sink *s = io->priv;
  SCOPED_LOCK (&s->lock);

  if (size < s->sent)
    return refuse_sent (s, size, "truncate to");
  if (size < s->sent + s->len)
    s->len = (size_t) (size - s->sent);
  s->size = size;
  return 0;
}

static void
sink_close (struct vdk_io *io)
{
  (void) io;            /* the owner frees the sink */
}

static const struct vdk_io_ops sink_ops = {
  .name = "sink",
  .pread = sink_pread,
  .pwrite = sink_pwrite,
  .flush = sink_flush,
  .size = sink_size,
  .truncate = sink_truncate,
  .close = sink_close,
};

static struct vdk_io *
sink_open (const char *spec, unsigned flags)
{
  struct vdk__sink *s;
  struct vdk_io *io;

  {
    SCOPED_LOCK (&sinks_lock);
    for (s = sinks; s && strcmp (s->spec, spec) != 0; s = s->next)
      ;
  }
  if (!s) {
    vdk__err (ENOENT, "%s: no such output", spec);
    return NULL;
  }
  if (!(io = calloc (1, sizeof *io)) || !(io->path = strdup (spec))) {
    free (io);
    vdk__err (ENOMEM, "%s: out of memory", spec);
    return NULL;
  }
  io->ops = &sink_ops;
  io->priv = s;
  io->readonly = (flags & VDK_IO_READONLY) != 0;
  if ((flags & VDK_IO_TRUNC) && sink_truncate (io, 0) == -1) {
    free (io->path);
    free (io);
    return NULL;
  }
  return io;
}

static const struct vdk_io_backend sink_backend = {
  .scheme = "sink",
  .open = sink_open,
};

struct vdk__sink *
vdk__sink_new (int fd, const char *name)
{
  const char *base = strrchr (name, '/') ? strrchr (name, '/') + 1 : name;
  struct vdk__sink *s = calloc (1, sizeof *s);
  int n;

  if (!s) {
    vdk__err (ENOMEM, "%s: out of memory", name);
    return NULL;
  }
  SCOPED_LOCK (&sinks_lock);
  if (!sinks && vdk__io_register (&sink_backend) == -1) {
    free (s);
    return NULL;
  }
  n = asprintf (&s->spec, "sink://%u/%s", ++sink_serial,
                *base ? base : "disk.vmdk");
  if (n < 0) {
    free (s);
    if (!sinks)
      vdk__io_unregister (&sink_backend);
    goto oom;
  }
  pthread_mutex_init (&s->lock, NULL);
  s->fd = fd;
  s->next = sinks, sinks = s;
  return s;
oom:
  vdk__err (ENOMEM, "%s: out of memory", name);
  return NULL;
}

const char *
vdk__sink_spec (const struct vdk__sink *s)
{
  return s->spec;
}

int
vdk__sink_finish (struct vdk__sink *s, bool send)
{
  struct vdk__sink **pp;
  int r = 0;

  if (!s)
    return 0;
  if (send && (send_front (s, s->len) == -1
               || send_zeroes (s, s->size - s->sent) == -1))
    r = -1;
  {
    SCOPED_LOCK (&sinks_lock);
    for (pp = &sinks; *pp != s; pp = &(*pp)->next)
      ;
    *pp = s->next;
    if (!sinks)
      vdk__io_unregister (&sink_backend);
  }
  pthread_mutex_destroy (&s->lock);
  free (s->buf);
  free (s->spec);
  free (s);
  return r;
}
