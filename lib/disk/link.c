/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Opening, closing and updating one link.
 *
 * A link is built from what vdk__probe found: a raw file becomes one
 * extent of the raw format over itself; a file of a format that embeds
 * its descriptor (hosted sparse, streamOptimized) uses that descriptor,
 * with its single extent bound to the opened file; a separate
 * descriptor lists extent files that are resolved inside the
 * descriptor's folder.  Which format reads an extent is the registry's
 * answer (vdk__format_for_extent); this file never names a format.
 *
 * Descriptor updates: a separate descriptor is replaced atomically (a
 * temporary file in the same folder, fsync, rename, fsync of the
 * folder); an embedded one is rewritten in place inside its reserved
 * sectors, which is one write of at most a few KiB.
 *
 * The first write through a link (vdk__link_begin_write) sets the
 * sparse extents' unclean-shutdown marks and gives the link a new CID:
 * one descriptor update per open, not per write. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk/disk.h"

static bool needs_external (const struct vdk_link *l);

static int
open_extent (struct vdk_link *l, struct vdk_extent *e,
             const struct vdk_desc_extent *de, struct vdk_io *self,
             unsigned flags)
{
  unsigned ioflags = 0;

  e->ops = vdk__format_for_extent (de->kind, NULL);
  if (!e->ops)
    return vdk__err (ENOTSUP, "%s: %s extents are not supported",
                     l->path, vdk__ext_kind_name (de->kind));
  if (de->has_offset && vdk__ext_can (e, VDK_FMT_AT_OFFSET))
    e->file_offset = de->offset * SECTOR;
  if (vdk__ext_can (e, VDK_FMT_NO_FILE) || de->access == VDK_ACCESS_NOACCESS)
    return 0;
  if (self) {
    e->io = self;
    e->path = strdup (self->path);
    return e->path ? 0 : vdk__err (ENOMEM, "out of memory");
  }
  if (!l->dir)
    return vdk__errc (VDK_E_NOT_SUPPORTED_BY_TRANSPORT, ENOTSUP, "%s: a "
                      "descriptor that names extent files is read only from "
                      "a local file", l->path);
  if (!(e->path = vdk__path_resolve (l->dir, de->file, l->allow_external)))
    return vdk__err_prefix ("%s", l->path);
  if (l->readonly || de->access != VDK_ACCESS_RW)
    ioflags |= VDK_IO_READONLY;
  /* Only a device disk maps devices, and only when the user allowed it
   * (needs_external refused the others already); any other extent must
   * be a regular file, whatever the descriptor's folder holds. */
  if (l->allow_external && needs_external (l))
    ioflags |= VDK_IO_ALLOW_DEVICE;
  if (flags & VDK_OPEN_UNBUFFERED)
    ioflags |= VDK_IO_DIRECT;
  e->readonly = (ioflags & VDK_IO_READONLY) != 0;
  /* Extents naming one file (a partitionedDevice's partitions) share
   * one open file: a second open would conflict with the first's lock.
   * Only extents at an offset (flat) may: two sparse extents in one file
   * would each own its metadata (and each cost its own tables: 5000
   * lines naming one small file cost gigabytes). */
  for (struct vdk_extent *p = l->extents; p < e; p++) {
    if (!p->path || strcmp (p->path, e->path) != 0)
      continue;
    if (!vdk__ext_can (p, VDK_FMT_AT_OFFSET)
        || !vdk__ext_can (e, VDK_FMT_AT_OFFSET))
      return vdk__errc (VDK_E_CORRUPT, 0, "%s: extent file \"%s\" is "
                        "named by more than one extent line; only flat "
                        "extents may share a file", l->path, de->file);
    if (p->io && p->readonly == e->readonly) {
      e->io = p->io;
      return 0;
    }
  }
  if (!(e->io = vdk__io_open (e->path, ioflags)))
    return vdk__err_prefix ("%s: extent \"%s\"", l->path, de->file);
  if (l->no_lock)
    return 0;
  /* flat extents lock their byte range: several may share a device */
  return vdk__io_lock (e->io, !e->readonly, e->file_offset,
                       vdk__ext_lock_len (e));
}

/* The extents of l's descriptor; `self` is the opened file when it
 * embeds the descriptor, and `fmt` its format. */
static int
build_extents (struct vdk_link *l, struct vdk_io *self,
               const struct vdk_extent_ops *fmt, unsigned flags)
{
  struct vdk_desc *d = l->desc;
  uint64_t pos = 0;

  if (d->nextents == 0)
    return vdk__err (EFSCORRUPTED, "%s: descriptor lists no extents", l->path);
  if (self && (d->nextents != 1
               || !vdk__fmt_serves (fmt, d->extents[0].kind)))
    return vdk__err (EFSCORRUPTED, "%s: an embedded descriptor must list "
                     "exactly one %s extent (the file itself)", l->path,
                     vdk__ext_kind_name (vdk__fmt_kind (fmt)));
  if (!(l->extents = calloc (d->nextents, sizeof *l->extents)))
    return vdk__err (ENOMEM, "out of memory");
  for (size_t i = 0; i < d->nextents; i++) {
    const struct vdk_desc_extent *de = &d->extents[i];
    struct vdk_extent *e = &l->extents[i];
    l->nextents++;
    e->link = l, e->owner_path = l->path;
    e->kind = de->kind, e->access = de->access;
    e->start = pos;
    e->length = de->sectors * SECTOR;    /* parser capped sectors */
    e->readonly = l->readonly;
    if (!(e->name = de->file ? strdup (de->file) : strdup ("")))
      return vdk__err (ENOMEM, "out of memory");
    if (ADD_OVERFLOW (pos, e->length, &pos) || pos > INT64_MAX)
      return vdk__err (EFSCORRUPTED, "%s: extent sizes add up past 2^63 "
                       "bytes",
                       l->path);
    if (open_extent (l, e, de, self, flags) == -1)
      return -1;
    if (e->io)                  /* the file tells formats of a kind apart */
      e->ops = vdk__format_for_extent (e->kind, e->io);
    if (e->io && !(flags & VDK__OPEN_NO_FORMAT) && vdk__ext_open (e) == -1)
      return strcmp (e->path, l->path) == 0 ? -1   /* already named */
        : vdk__err_prefix ("%s", l->path);
  }
  if (pos == 0)
    return vdk__err (EFSCORRUPTED, "%s: disk has a capacity of 0",
                     l->path);
  l->capacity = pos;
  return 0;
}

/* The descriptor text: embedded in a file of format fmt, or the whole
 * file (fmt NULL). */
static int
load_descriptor (struct vdk_link *l, struct vdk_io *io,
                 const struct vdk_extent_ops *fmt, char **text)
{
  uint64_t size;

  if (fmt)
    return vdk__fmt_desc_read (fmt, io, text);
  if (vdk__io_size (io, &size) == -1)
    return -1;
  if (size > VDK_DESC_MAX)
    return vdk__err (EFSCORRUPTED, "%s: descriptor file is %" PRIu64
                     " bytes, "
                     "more than the %u allowed", l->path, size, VDK_DESC_MAX);
  if (!(*text = malloc (size + 1)))
    return vdk__err (ENOMEM, "out of memory");
  (*text)[size] = 0;
  return vdk__io_pread (io, *text, size, 0);
}

/* Raw device mappings and device disks (docs/vmdk-format.md §4.2): by their
 * type, or by an extent of a kind that only such types use. */
static bool
needs_external (const struct vdk_link *l)
{
  const struct vdk_type_info *t = vdk__type_info (l->type);
  if (t && (t->flags & VDK_TYPE_F_EXTERNAL))
    return true;
  for (size_t i = 0; i < l->desc->nextents; i++)
    if (vdk__ext_kind_external (l->desc->extents[i].kind))
      return true;
  return false;
}

/* A descriptor file (fmt NULL), or a file of format fmt that embeds its
 * descriptor (or gets one made from its header). */
static int
open_vmdk (struct vdk_link *l, struct vdk_io *io,
           const struct vdk_extent_ops *fmt, unsigned flags)
{
  CLEANUP_FREE char *text = NULL;
  char msg[256];
  const char *ct;

  int r = load_descriptor (l, io, fmt, &text);

  if (!fmt)
    vdk__io_close (io);          /* the descriptor is in memory now */
  if (r == -1)
    return -1;
  if (fmt && !text) {
    if (vdk__fmt_describe (fmt, io, vdk__path_base (l->path), &l->desc)
        == -1)
      return vdk__err_prefix ("%s", l->path);
  } else if (!(l->desc = vdk__desc_parse (text, strlen (text), msg,
                                          sizeof msg)))
    return vdk__err (errno, "%s: %s", l->path, msg);
  l->embedded = fmt != NULL;
  ct = vdk__desc_get (l->desc, "createType");
  if (!ct)
    return vdk__err (EFSCORRUPTED, "%s: descriptor has no createType",
                     l->path);
  l->type = vdk__type_from_create_type (ct);
  if (needs_external (l) && !l->allow_external)
    return vdk__err (EPERM, "%s: a %s disk maps a device or file outside "
                     "its folder by design", l->path, ct);
  return build_extents (l, fmt ? io : NULL, fmt, flags);
}

static int
open_raw (struct vdk_link *l, struct vdk_io *io)
{
  uint64_t size;
  if (vdk__io_size (io, &size) == -1)
    return -1;
  l->type = VDK_TYPE_RAW;
  if (!(l->extents = calloc (1, sizeof *l->extents)))
    return vdk__err (ENOMEM, "out of memory");
  l->nextents = 1;
  l->extents[0] = (struct vdk_extent) {
    .ops = vdk__format_raw (), .link = l, .owner_path = l->path,
    .whole_file = true, .kind = vdk__fmt_kind (vdk__format_raw ()),
    .access = VDK_ACCESS_RW, .length = ROUND_UP (size, SECTOR),
    .name = strdup (vdk__path_base (l->path)), .path = strdup (l->path),
    .io = io, .readonly = l->readonly,
  };
  l->capacity = l->extents[0].length;
  if (!l->extents[0].name || !l->extents[0].path)
    return vdk__err (ENOMEM, "out of memory");
  return 0;
}

static bool
has_vmdk_suffix (const char *path)
{
  size_t n = strlen (path);
  return n >= 5 && strcasecmp (path + n - 5, ".vmdk") == 0;
}

/* What the file is taken for: the caller's explicit format, or what
 * its content says.  A file probed as raw remembers that, so writes
 * cannot later make it probe as something else (disk/chain.c). */
static int
choose_kind (struct vdk_link *l, struct vdk_io *io, unsigned flags,
             char *kind)
{
  uint64_t size;

  /* A guest's view of a disk (an NBD export) is raw, whatever it holds:
   * a guest must not make its own disk read as a VMDK. */
  if (io->guest_view) {
    *kind = 'R';
    return 0;
  }
  if (flags & VDK_OPEN_FORMAT_RAW) {
    if (vdk__io_size (io, &size) == -1)
      return -1;
    if (size == 0)
      return vdk__err (ENOTSUP, "%s: file is empty: not a disk", l->path);
    *kind = 'R';
    return 0;
  }
  if (vdk__probe (io, kind) == -1)
    return -1;
  if (*kind == 'C')
    return vdk__errc (VDK_E_UNSUPPORTED, ENOTSUP, "%s: a COWD (vmfsSparse) "
                      "extent: open its descriptor instead", l->path);
  if (*kind == 'R' && (flags & VDK_OPEN_FORMAT_VMDK))
    return vdk__errc (VDK_E_UNSUPPORTED, ENOTSUP, "%s: not a VMDK file: no "
                      "sparse header magic and no descriptor (\"version=\" "
                      "line); it would be read as a raw image", l->path);
  if (*kind == 'R' && has_vmdk_suffix (l->path))
    return vdk__errc (VDK_E_UNSUPPORTED, ENOTSUP, "%s: not a VMDK file: no "
                      "sparse header magic and no descriptor (\"version=\" "
                      "line); open it as raw to read it as a raw image",
                      l->path);
  l->probed_raw = *kind == 'R';
  return 0;
}

struct vdk_link *
vdk__link_open (const char *path, unsigned flags)
{
  struct vdk_link *l = calloc (1, sizeof *l);
  struct vdk_io *io = NULL;
  unsigned ioflags;
  const struct vdk_extent_ops *fmt = NULL;
  char kind;
  int r;

  if (!l || !(l->path = strdup (path))) {
    free (l);
    vdk__err (ENOMEM, "out of memory");
    return NULL;
  }
  pthread_mutex_init (&l->lock, NULL);
  l->readonly = (flags & VDK_OPEN_READ_ONLY) != 0;
  l->allow_external = (flags & VDK_OPEN_ALLOW_EXTERNAL) != 0;
  l->no_lock = (flags & VDK_OPEN_NO_LOCK) && l->readonly;
  /* The user named the top link: it may be a device (a raw disk).  A
   * parent is named by a descriptor and must be a regular file. */
  ioflags = (l->readonly ? VDK_IO_READONLY : 0)
    | (flags & VDK__OPEN_PARENT ? 0 : VDK_IO_ALLOW_DEVICE);
  if (!(io = vdk__io_open (path, ioflags))
      || (!l->no_lock && vdk__io_lock (io, !l->readonly, 0, 0) == -1))
    goto fail;
  /* Only stores with file names have a folder to find extents in (a
   * guest's view, an RBD image, has names but is never a descriptor). */
  if (vdk__io_backend (path)->fs && !io->guest_view
      && !(l->dir = vdk__path_dir (path)))
    goto fail;
  if (choose_kind (l, io, flags, &kind) == -1)
    goto fail;
  if (kind == 'K' && !(fmt = vdk__probe_format (io))) {
    vdk__err (EINVAL, "%s: no format reads this file", path);
    goto fail;
  }
  r = kind == 'R' ? open_raw (l, io) : open_vmdk (l, io, fmt, flags);
  if (kind == 'D' || (l->nextents > 0 && l->extents[0].io == io))
    io = NULL;                  /* closed, or owned by the link */
  if (r == -1)
    goto fail;
  return l;
fail:
  vdk__io_close (io);
  vdk__link_close (l, NULL);
  return NULL;
}

int
vdk__link_flush (struct vdk_link *l)
{
  for (size_t i = 0; i < l->nextents; i++) {
    struct vdk_extent *e = &l->extents[i];
    if (!e->io || e->readonly)
      continue;
    if (vdk__ext_flush (e) == -1)
      return -1;
  }
  return 0;
}

void
vdk__link_close (struct vdk_link *l, bool *flush_failed)
{
  if (!l)
    return;
  /* capacity is set once every extent opened: a link whose open failed
   * (a lock refused, a bad header) wrote nothing and its extents may
   * have no format state to flush. */
  if (!l->readonly && l->capacity && vdk__link_flush (l) == -1
      && flush_failed)
    *flush_failed = true;
  for (size_t i = 0; i < l->nextents; i++) {
    struct vdk_extent *e = &l->extents[i];
    bool shared = false;
    for (size_t j = 0; j < i && e->io; j++)
      shared |= e->io == l->extents[j].io;
    if (e->ops && e->io && vdk__ext_close (e) == -1 && flush_failed)
      *flush_failed = true;
    if (!shared)
      vdk__io_close (e->io);
    free (e->name);
    free (e->path);
  }
  free (l->extents);
  vdk__desc_free (l->desc);
  pthread_mutex_destroy (&l->lock);
  free (l->path);
  free (l->dir);
  free (l);
}

struct vdk_extent *
vdk__link_extent_at (struct vdk_link *l, uint64_t off)
{
  size_t lo = 0, hi = l->nextents;
  while (lo < hi) {                 /* extents are sorted by start */
    size_t mid = lo + (hi - lo) / 2;
    struct vdk_extent *e = &l->extents[mid];
    if (off < e->start)
      hi = mid;
    else if (off >= e->start + e->length)
      lo = mid + 1;
    else
      return e;
  }
  return NULL;
}

int
vdk__link_write_desc (struct vdk_link *l)
{
  CLEANUP_FREE char *text = NULL;
  if (!l->desc)
    return vdk__err (ENOTSUP, "%s: raw disks have no descriptor", l->path);
  if (l->readonly)
    return vdk__err (EROFS, "%s: disk is opened read-only", l->path);
  if (!(text = vdk__desc_format (l->desc)))
    return vdk__err (ENOMEM, "out of memory");
  if (l->embedded)
    return vdk__ext_desc_write (&l->extents[0], text);
  return vdk__fs_replace (l->path, text, strlen (text), 0644);
}

int
vdk__link_begin_write (struct vdk_link *l)
{
  SCOPED_LOCK (&l->lock);
  uint32_t old, cid = 0;

  if (l->began_write)
    return 0;
  if (l->readonly)
    return vdk__err (EROFS, "%s: disk is opened read-only", l->path);
  /* The new CID first: without randomness nothing is marked unclean. */
  if (l->desc) {
    old = vdk__desc_cid (l->desc, "CID");
    do
      if (vdk__random32 (&cid) == -1)
        return -1;
    while (cid == old || cid >= 0xfffffffeu);
  }
  for (size_t i = 0; i < l->nextents; i++) {
    struct vdk_extent *e = &l->extents[i];
    if (vdk__ext_begin_write (e) == -1)
      return -1;
  }
  if (l->desc) {
    vdk__desc_set_cid (l->desc, "CID", cid);
    if (vdk__link_write_desc (l) == -1)
      return -1;
  }
  l->began_write = true;
  return 0;
}
