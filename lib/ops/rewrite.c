/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Rewriting an extent into a new file: the engine under shrink, defrag
 * and grow of the formats that say they can be rewritten
 * (VDK_FMT_REWRITABLE: hosted sparse today).
 *
 * Design
 * - Crash safety by replacement, the simplest order that is obviously
 *   safe: the new extent is written to NAME.vdk-new-XXXXXX in the same
 *   folder, flushed in the sparse writer's own order (data, tables,
 *   directory) and fdatasync'd, then renamed over NAME and the folder is
 *   fsync'd.  Until the rename the old file is untouched; after it the
 *   new file is complete.  A crash leaves at worst the temporary file.
 * - The new extent is made by its format's create with the old one's
 *   parameters (for sparse: all grain tables preallocated right after
 *   the header, both copies) and filled through the checked wrappers
 *   with grains in LBA order, so the result is defragmented: tables
 *   first, then grains in address order, each run of whole grains
 *   written with one pwrite.
 * - States are kept: HOLE stays unallocated (it falls through to a
 *   parent), ZERO (zeroed-grain entry) stays ZERO, DATA is copied.  With
 *   drop_zero (shrink) an all-zero data grain becomes a hole in a link
 *   without parent, a zeroed-grain entry in a child whose extent has
 *   the zeroed-grain flag, and stays data otherwise (a hole would
 *   expose the parent's bytes).
 * - With `empty` (commit --drop) no grain is copied: the new extent is
 *   all holes, its tables preallocated as for a new disk.
 * - The caller holds the link open (with its exclusive lock) for the
 *   whole rewrite; nothing writes through the old extent meanwhile. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maint.h"

#define COPY_CHUNK (1u << 20)
#define MAP_STEP ((uint64_t) 1 << 30)
#define MAX_COPY_GRAIN (64u << 20)   /* one grain is buffered at least */

int
vdk__maint_progress (struct maint_progress *p, uint64_t add)
{
  if (!p)
    return 0;
  p->done += add;
  if (p->fn && p->fn (p->opaque, p->done, p->total))
    return vdk__err (ECANCELED, "cancelled by the progress callback");
  return 0;
}

struct vdk_link *
vdk__maint_open_link (const char *path, unsigned open_flags, bool readonly)
{
  unsigned f = (open_flags & (VDK_OPEN_ALLOW_EXTERNAL | VDK__OPEN_FORMATS))
    | VDK_OPEN_SINGLE_LINK;
  if (!path || !*path) {
    vdk__err (EINVAL, "no file name");
    return NULL;
  }
  if (vdk__check_open_flags (open_flags) == -1)
    return NULL;
  return vdk__link_open (path, readonly ? f | VDK_OPEN_READ_ONLY : f);
}

char *
vdk__maint_desc_text (struct vdk_link *l)
{
  char *t = NULL;
  if (l->embedded) {
    if (vdk__sparse_read_desc (l->extents[0].io, &t) == -1)
      return NULL;
    if (t)
      return t;
  }
  if (!(t = vdk__desc_format (l->desc)))
    vdk__err (ENOMEM, "out of memory");
  return t;
}

struct rw {
  struct vdk_extent *old, ne;
  const struct rewrite_opts *o;
  uint64_t grain;          /* bytes */
  bool zero_grain;
  uint8_t *buf;
  size_t bufsize;
};

/* Write the grains of buf (at off) that are not all zero; zero grains
 * as drop_zero says (see the design note). */
static int
write_dropping_zero (struct rw *w, const uint8_t *buf, uint64_t n,
                     uint64_t off)
{
  uint64_t i = 0;
  while (i < n) {
    uint64_t j = i;
    bool zero = is_zero (buf + i, MIN (w->grain - (off + i) % w->grain,
                                       n - i));
    while (j < n) {                   /* extend a run of the same kind */
      uint64_t k = MIN (w->grain - (off + j) % w->grain, n - j);
      if (is_zero (buf + j, k) != zero)
        break;
      j += k;
    }
    int r = 0;
    if (!zero || (w->o->has_parent && !w->zero_grain))
      r = vdk__ext_pwrite (&w->ne, buf + i, j - i, off + i, NULL, NULL);
    else if (w->o->has_parent)
      r = vdk__ext_zero (&w->ne, off + i, j - i, NULL, NULL);
    if (r == -1)
      return -1;
    i = j;
  }
  return 0;
}

static int
copy_data (struct rw *w, uint64_t off, uint64_t n, uint64_t host)
{
  while (n > 0) {
    uint64_t k = MIN (n, w->bufsize);
    if (host != UINT64_MAX
        ? vdk__io_pread (w->old->io, w->buf, k, host) == -1
        : vdk__ext_pread (w->old, w->buf, k, off) == -1)
      return -1;
    if (w->o->drop_zero ? write_dropping_zero (w, w->buf, k, off) == -1
        : vdk__ext_pwrite (&w->ne, w->buf, k, off, NULL, NULL) == -1)
      return -1;
    off += k, n -= k;
    if (host != UINT64_MAX)
      host += k;
  }
  return 0;
}

static int
copy_all (struct rw *w)
{
  uint64_t len = MIN (w->old->length, w->ne.length), off = 0;
  if (w->o->empty)
    return vdk__maint_progress (w->o->progress, len);
  while (off < len) {
    uint64_t pnum, host;
    int st;
    if (vdk__ext_map (w->old, off, MIN (len - off, MAP_STEP), &pnum, &st,
                      &host) == -1)
      return -1;
    if (st == VDK_BLOCK_DATA && copy_data (w, off, pnum, host) == -1)
      return -1;
    if (st == VDK_BLOCK_ZERO && !(w->o->drop_zero && !w->o->has_parent)
        && vdk__ext_zero (&w->ne, off, pnum, NULL, NULL) == -1)
      return -1;
    if (vdk__maint_progress (w->o->progress, pnum) == -1)
      return -1;
    off += pnum;
  }
  return 0;
}

/* Create the new extent beside the old one (its name in *tmp), of the
 * old one's format, and open it. */
static int
make_new (struct rw *w, const struct vdk_ext_params *op, char **tmp)
{
  struct vdk_ext_params np = *op;
  struct vdk_fs_stat st;
  struct vdk_io *io;

  if (vdk__fs_stat (w->old->path, &st) == -1)
    return -1;
  if (!(io = vdk__fs_create_temp (w->old->path, ".vdk-new-",
                                  st.exists ? st.mode : 0644, tmp)))
    return -1;
  w->ne = (struct vdk_extent) {
    .ops = w->old->ops, .link = w->old->link,
    .owner_path = w->old->owner_path, .kind = w->old->kind,
    .access = VDK_ACCESS_RW, .length = w->o->new_sectors * SECTOR,
    .name = w->old->name, .path = *tmp, .io = io,
  };
  np.sectors = w->o->new_sectors;
  np.desc = w->o->desc;
  if (vdk__ext_create_like (w->old, io, &np) == -1
      || vdk__io_flush (io) == -1)
    return -1;
  return vdk__ext_open (&w->ne);
}

static int
finish (struct rw *w, const char *tmp)
{
  /* Closed before the rename: its clean mark must be on disk first. */
  if (vdk__ext_flush (&w->ne) == -1 || vdk__ext_close (&w->ne) == -1
      || vdk__io_flush (w->ne.io) == -1)
    return -1;
  vdk__io_close (w->ne.io);
  w->ne.io = NULL;
  if (vdk__fs_rename (tmp, w->old->path) == -1)
    return vdk__err_prefix ("%s: cannot replace it", w->old->path);
  return vdk__fs_sync_dir (w->old->path);
}

int
vdk__rewrite_extent (struct vdk_extent *old, const struct rewrite_opts *o)
{
  struct vdk_ext_params op;
  struct rw w = { .old = old, .o = o };
  CLEANUP_FREE char *tmp = NULL;
  int r = -1;

  if (!vdk__ext_can (old, VDK_FMT_REWRITABLE))
    return vdk__err (ENOTSUP, "%s: %s extents are not rewritten in place; "
                     "convert the disk instead", old->path,
                     vdk__ext_format_name (old));
  if (vdk__ext_params (old, &op) == -1)
    return -1;
  w.grain = (uint64_t) (op.grain ? op.grain : 1) * SECTOR;
  w.zero_grain = op.zeroed_grain;
  if (w.grain > MAX_COPY_GRAIN)
    return vdk__err (ENOTSUP, "%s: grains of %" PRIu64 " bytes are too "
                     "large to rewrite", old->path, w.grain);
  w.bufsize = MAX (COPY_CHUNK, w.grain);
  if (!(w.buf = malloc (w.bufsize)))
    return vdk__err (ENOMEM, "out of memory");
  if (make_new (&w, &op, &tmp) == 0 && copy_all (&w) == 0
      && finish (&w, tmp) == 0)
    r = 0;
  if (w.ne.io) {
    vdk__ext_close (&w.ne);
    vdk__io_close (w.ne.io);
  }
  if (r == -1 && tmp)
    vdk__fs_discard (tmp);        /* best effort: check finds leftovers */
  free (w.buf);
  return r;
}

/* Extents whose format allocates: shrink and defrag rewrite them, or
 * refuse if the format cannot be rewritten (a stream, COWD, seSparse). */
static bool
rewrites (struct vdk_extent *e)
{
  return e->io && !vdk__ext_can (e, VDK_FMT_PREALLOCATED);
}

/* Shrink and defrag: rewrite every extent of the link at path that
 * allocates (flat and zero extents have nothing to give back). */
int
vdk__rewrite_link (const char *path, unsigned open_flags, bool drop_zero,
                   vdk_progress_fn fn, void *opaque)
{
  struct maint_progress p = { .fn = fn, .opaque = opaque };
  struct vdk_link *l = vdk__maint_open_link (path, open_flags, false);
  int r = 0;

  if (!l)
    return -1;
  for (size_t i = 0; i < l->nextents; i++)
    if (rewrites (&l->extents[i]))
      p.total += l->extents[i].length;
  for (size_t i = 0; r == 0 && i < l->nextents; i++) {
    struct vdk_extent *e = &l->extents[i];
    CLEANUP_FREE char *desc = NULL;
    struct rewrite_opts o = {
      .new_sectors = e->length / SECTOR, .drop_zero = drop_zero,
      .has_parent = vdk__desc_get (l->desc, "parentFileNameHint") != NULL,
      .progress = &p,
    };
    if (!rewrites (e))
      continue;                 /* flat and zero extents: nothing to do */
    if (l->embedded && !(desc = vdk__maint_desc_text (l)))
      r = -1;
    o.desc = desc;
    if (r == 0)
      r = vdk__rewrite_extent (e, &o);
  }
  vdk__link_close (l, NULL);
  return r;
}

int
vdk__maint_read_clipped (struct vdk_link *l, uint8_t *buf, uint64_t len,
                         uint64_t off)
{
  uint64_t n = l && off < l->capacity ? MIN (len, l->capacity - off) : 0;
  if (n && vdk__link_pread (l, buf, n, off) == -1)
    return -1;
  memset (buf + n, 0, len - n);
  return 0;
}
