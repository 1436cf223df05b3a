/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The `mem` io backend: stores in memory, for tests and fuzzing.
 *
 * vdk__io_open_mem() makes an anonymous store holding a copy of some
 * bytes (a fuzz input).  Through the registry, "mem://NAME" names a
 * store shared by every open of that name: VDK_IO_CREATE or
 * VDK_IO_TRUNC makes it, and it lives until its last close.  A mem store
 * has no file names (no fs table: renames are refused as a remote
 * store's are) and no locks.  Stores are capped at 16 GiB: tests never
 * need more, and a fuzz input must not make one allocate without
 * bound.  Each store has its own mutex; the list of named stores has
 * one too. */
#include <errno.h>

#include "io/io.h"

#define MEM_MAX ((uint64_t) 1 << 34)

struct mem_store {
  pthread_mutex_t lock;
  uint8_t *data;
  size_t len, cap;
  char *name;                  /* NULL: anonymous */
  int refs;
  struct mem_store *next;
};

static pthread_mutex_t named_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mem_store *named;

static int
mem_pread (struct vdk_io *io, void *buf, size_t n, uint64_t off)
{
  struct mem_store *m = io->priv;
  SCOPED_LOCK (&m->lock);
  size_t have = off < m->len ? MIN ((uint64_t) n, m->len - off) : 0;
  if (have)
    memcpy (buf, m->data + off, have);
  memset ((char *) buf + have, 0, n - have);
  return 0;
}

static int
mem_reserve (struct mem_store *m, uint64_t end)
{
  if (end > MEM_MAX) {
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
  SCOPED_LOCK (&m->lock);
  if (mem_reserve (m, off + n) == -1)
    return -1;
  memcpy (m->data + off, buf, n);
  return 0;
}

static int
mem_flush (struct vdk_io *io)
{
  (void) io;
  return 0;
}

static int
mem_size (struct vdk_io *io, uint64_t *size)
{
  struct mem_store *m = io->priv;
  SCOPED_LOCK (&m->lock);
  *size = m->len;
  return 0;
}

static int
mem_truncate (struct vdk_io *io, uint64_t size)
{
  struct mem_store *m = io->priv;
  SCOPED_LOCK (&m->lock);
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
  SCOPED_LOCK (&m->lock);
  (void) keep;
  if (off < m->len)
    memset (m->data + off, 0, MIN (n, m->len - off));
  return 0;
}

static void
store_free (struct mem_store *m)
{
  pthread_mutex_destroy (&m->lock);
  free (m->data);
  free (m->name);
  free (m);
}

static void
mem_close (struct vdk_io *io)
{
  struct mem_store *m = io->priv, **pp;
  if (!m->name) {
    store_free (m);
    return;
  }
  SCOPED_LOCK (&named_lock);
  if (--m->refs > 0)
    return;
  for (pp = &named; *pp != m; pp = &(*pp)->next)
    ;
  *pp = m->next;
  store_free (m);
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

static struct vdk_io *
wrap (const char *name, struct mem_store *m, bool readonly)
{
  struct vdk_io *io = calloc (1, sizeof *io);
  if (!io || !(io->path = strdup (name))) {
    free (io);
    vdk__err (ENOMEM, "%s: out of memory", name);
    return NULL;
  }
  io->ops = &mem_ops;
  io->priv = m;
  io->readonly = readonly;
  return io;
}

static struct mem_store *
store_new (const char *name)
{
  struct mem_store *m = calloc (1, sizeof *m);
  if (!m || (name && !(m->name = strdup (name)))) {
    free (m);
    return NULL;
  }
  pthread_mutex_init (&m->lock, NULL);
  return m;
}

struct vdk_io *
vdk__io_open_mem (const char *name, const void *data, size_t len)
{
  struct mem_store *m = store_new (NULL);
  struct vdk_io *io = m ? wrap (name, m, false) : NULL;
  if (!io) {
    if (m)
      store_free (m);
    vdk__err (ENOMEM, "%s: out of memory", name);
    return NULL;
  }
  if (len && mem_pwrite (io, data, len, 0) == -1) {
    vdk__io_close (io);
    vdk__err (ENOMEM, "%s: out of memory", name);
    return NULL;
  }
  return io;
}

static struct vdk_io *
mem_open (const char *spec, unsigned flags)
{
  SCOPED_LOCK (&named_lock);
  struct mem_store *m = named;
  struct vdk_io *io;

  while (m && strcmp (m->name, spec) != 0)
    m = m->next;
  if (m && (flags & VDK_IO_CREATE)) {
    vdk__err (EEXIST, "%s: exists", spec);
    return NULL;
  }
  if (!m && !(flags & (VDK_IO_CREATE | VDK_IO_TRUNC))) {
    vdk__err (ENOENT, "%s: no such store", spec);
    return NULL;
  }
  if (!m) {
    if (!(m = store_new (spec))) {
      vdk__err (ENOMEM, "%s: out of memory", spec);
      return NULL;
    }
    m->next = named, named = m;
  } else if (flags & VDK_IO_TRUNC) {
    SCOPED_LOCK (&m->lock);
    m->len = 0;
    memset (m->data, 0, m->cap);
  }
  if ((io = wrap (spec, m, (flags & VDK_IO_READONLY) != 0)))
    m->refs++;
  else if (m->refs == 0) {
    named = m->next;              /* just added at the head */
    store_free (m);
  }
  return io;
}

const struct vdk_io_backend vdk__io_mem_backend = {
  .scheme = "mem",
  .open = mem_open,
};
