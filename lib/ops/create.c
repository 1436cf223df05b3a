/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Creating disks: raw, monolithic and split, sparse and flat; children.
 *
 * Facts (docs/vmdk-format.md §1.4, §1.8, §2.4):
 * - twoGbMaxExtent* split at 4192256 sectors (2047 MiB), as VMware and
 *   VirtualBox do; names are NAME-s001.vmdk / NAME-f001.vmdk, flat data
 *   of monolithicFlat is NAME-flat.vmdk.
 * - Geometry as VMware computes it: IDE 16 heads x 63 sectors with
 *   cylinders capped at 16383; SCSI 255 x 63 (cylinders at least 1).
 * - A new sparse extent preallocates all its grain tables (both copies)
 *   as VMware does; they stay holes in the host file until written.
 * - A child is a monolithicSparse link whose descriptor records
 *   parentCID = the parent's CID and a parentFileNameHint relative to
 *   the child's folder.
 * Every file a failed create made is removed again. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/ops.h"

#define SPLIT_SECTORS 4192256u
/* A split disk of 2048 extents is ~4 TiB, twice what VMware's hosted
 * products allow; its descriptor stays far below VDK_DESC_MAX, and every
 * file a failed create made can be tracked and removed. */
#define MAX_SPLIT_EXTENTS 2048u

uint64_t
vdk__split_extent_sectors (void)
{
  return SPLIT_SECTORS;
}

/* Refuse split disks of more than MAX_SPLIT_EXTENTS extents (create and
 * grow), before a single file is made. */
int
vdk__check_split_size (const char *path, uint64_t bytes)
{
  if (DIV_ROUND_UP (bytes / SECTOR, SPLIT_SECTORS) <= MAX_SPLIT_EXTENTS)
    return 0;
  return vdk__errc (VDK_E_INVALID_ARG, EFBIG, "%s: a split disk holds at "
                    "most %u extents of %u sectors (%" PRIu64 " bytes)",
                    path, MAX_SPLIT_EXTENTS,
                   SPLIT_SECTORS,
                   (uint64_t) MAX_SPLIT_EXTENTS * SPLIT_SECTORS * SECTOR);
}

static const char *const adapters[VDK__ADAPTER_COUNT] = {
  "ide", "buslogic", "lsilogic", "pvscsi", "legacyESX",
};

VDK_API const char *
vdk_adapter_name (int adapter)
{
  return adapter >= 0 && adapter < VDK__ADAPTER_COUNT ? adapters[adapter]
    : NULL;
}

VDK_API int
vdk_adapter_from_name (const char *name)
{
  for (int i = 0; name && i < VDK__ADAPTER_COUNT; i++)
    if (strcasecmp (name, adapters[i]) == 0)
      return i;
  return -1;
}

struct vdk_geometry
vdk__geometry_for (uint64_t capacity, int adapter)
{
  struct vdk_geometry g = { 0, 16, 63 };
  uint64_t c;
  if (adapter != VDK_ADAPTER_IDE)
    g.heads = 255;
  c = capacity / ((uint64_t) g.heads * g.sectors);
  if (adapter == VDK_ADAPTER_IDE && c > 16383)
    c = 16383;
  if (c > UINT32_MAX)
    c = UINT32_MAX;
  g.cylinders = c ? (uint32_t) c : 1;
  return g;
}

VDK_API int
vdk_geometry_for (uint64_t capacity, int adapter,
                  struct vdk_geometry **out)
{
  vdk__set_call ("vdk_geometry_for");
  if (!out)
    return vdk__err (EINVAL, "no result pointer");
  *out = NULL;
  if (!vdk_adapter_name (adapter))
    return vdk__err (EINVAL, "unknown adapter type %d", adapter);
  if (!(*out = malloc (sizeof **out)))
    return vdk__err (ENOMEM, "out of memory");
  **out = vdk__geometry_for (capacity, adapter);
  return 0;
}

VDK_API void
vdk_free_geometry (struct vdk_geometry *g)
{
  free (g);
}


static char *
sibling (const char *path, const char *name)
{
  const char *b = vdk__path_base (path);
  size_t dl = (size_t) (b - path), n = dl + strlen (name) + 1;
  char *p = malloc (n);
  if (p) {
    memcpy (p, path, dl);
    strcpy (p + dl, name);
  }
  return p;
}

static int
random_uuid (char out[48])
{
  uint8_t u[16];
  if (vdk__random (u, sizeof u) == -1)
    return -1;
  snprintf (out, 48, "%02x %02x %02x %02x %02x %02x %02x %02x-%02x %02x %02x "
            "%02x %02x %02x %02x %02x", u[0], u[1], u[2], u[3], u[4], u[5],
            u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
  return 0;
}

/* A CID other than the two reserved values (ffffffff: no parent,
 * fffffffe: never written); -1 with the error set. */
static int
new_cid (uint32_t *cid)
{
  do
    if (vdk__random32 (cid) == -1)
      return -1;
  while (*cid >= 0xfffffffeu);
  return 0;
}

/* Physical geometry for `sectors`, by the descriptor's adapter type, as
 * VMware computes it (also used by grow). */
int
vdk__desc_set_geometry (struct vdk_desc *d, uint64_t sectors)
{
  const char *a = vdk__desc_get (d, "ddb.adapterType");
  int adapter = a ? vdk_adapter_from_name (a) : VDK_ADAPTER_IDE;
  struct vdk_geometry g = vdk__geometry_for (sectors, adapter < 0
                                            ? VDK_ADAPTER_IDE : adapter);
  static const char *const keys[] = {
    "ddb.geometry.cylinders", "ddb.geometry.heads", "ddb.geometry.sectors",
  };
  const uint32_t vals[] = { g.cylinders, g.heads, g.sectors };
  char num[32];
  int r = 0;

  for (size_t i = 0; i < ARRAY_SIZE (keys); i++) {
    snprintf (num, sizeof num, "%" PRIu32, vals[i]);
    r |= vdk__desc_set (d, keys[i], num, true);
  }
  return r ? vdk__err (ENOMEM, "out of memory") : 0;
}

/* The header and DDB of a new descriptor (extents added by caller). */
static struct vdk_desc *
new_desc (int type, const struct vdk_create_params *p)
{
  struct vdk_desc *d;
  char num[32], uuid[48];
  uint32_t cid;
  int r = 0;

  if (new_cid (&cid) == -1 || random_uuid (uuid) == -1)
    return NULL;
  if (!(d = vdk__desc_new ())) {
    vdk__err (ENOMEM, "out of memory");
    return NULL;
  }
  r |= vdk__desc_set (d, "version", "1", false);
  vdk__desc_set_cid (d, "CID", cid);
  r |= vdk__desc_set (d, "parentCID", "ffffffff", false);
  r |= vdk__desc_set (d, "createType", vdk_type_name (type), true);
  r |= vdk__desc_set (d, "ddb.adapterType", adapters[p->adapter], true);
  r |= vdk__desc_set_geometry (d, p->capacity / SECTOR);
  r |= vdk__desc_set (d, "ddb.uuid", uuid, true);
  snprintf (num, sizeof num, "%" PRIu32, p->hw_version ? p->hw_version : 4);
  r |= vdk__desc_set (d, "ddb.virtualHWVersion", num, true);
  if (r) {
    vdk__desc_free (d);
    vdk__err (ENOMEM, "out of memory");
    return NULL;
  }
  return d;
}

/* Files made so far, removed if the create fails; progress of the
 * preallocation (bytes). */
struct made {
  char *paths[MAX_SPLIT_EXTENTS + 2];
  size_t n;
  vdk_progress_fn progress;
  void *opaque;
  uint64_t done, total;
  bool zeroed;             /* VDK_CREATE_PREALLOC_ZEROED: write zeroes */
};

#define PREALLOC_STEP ((uint64_t) 64 << 20)
#define ZERO_CHUNK ((size_t) 1 << 20)
#define ANY_PREALLOC (VDK_CREATE_PREALLOC | VDK_CREATE_PREALLOC_ZEROED)

/* Write zeroes over [off, off+n) of a new data file. */
static int
write_zeroes (struct vdk_io *io, const void *zero, uint64_t off, uint64_t n)
{
  while (n > 0) {
    uint64_t k = MIN (n, (uint64_t) ZERO_CHUNK);
    if (vdk__io_pwrite (io, zero, k, off) == -1)
      return -1;
    off += k, n -= k;
  }
  return 0;
}

/* Allocate the blocks of a new flat data file in steps, reporting
 * progress after each: zero-range, which keeps them allocated (VMware's
 * lazily zeroed thick disks), or with `zeroed` zero bytes written
 * (eagerZeroedThick: no block is left for the host to zero later). */
static int
preallocate (struct made *m, struct vdk_io *io, uint64_t bytes, bool zeroed)
{
  CLEANUP_FREE void *zero = zeroed ? calloc (1, ZERO_CHUNK) : NULL;

  if (zeroed && !zero)
    return vdk__err (ENOMEM, "out of memory");
  for (uint64_t off = 0; off < bytes;) {
    uint64_t n = MIN (PREALLOC_STEP, bytes - off);
    if (zeroed ? write_zeroes (io, zero, off, n) == -1
        : vdk__io_punch (io, off, n, true) == -1)
      return vdk__err_prefix ("cannot preallocate");
    off += n, m->done += n;
    if (m->progress && m->progress (m->opaque, m->done, m->total))
      return vdk__errc (VDK_E_CANCELLED, ECANCELED, "%s: cancelled by the "
                        "progress callback", io->path);
  }
  return 0;
}

static struct vdk_io *
make_file (struct made *m, const char *path)
{
  struct vdk_io *io = vdk__io_open (path, VDK_IO_CREATE);
  if (io && m->n < ARRAY_SIZE (m->paths))
    m->paths[m->n++] = strdup (path);
  return io;
}

static void
made_finish (struct made *m, bool failed)
{
  for (size_t i = 0; i < m->n; i++) {
    if (failed && m->paths[i])
      vdk__fs_discard (m->paths[i]);
    free (m->paths[i]);
  }
}

/* One file of a disk: a new, empty extent of format f (a raw image is
 * one of the raw format). */
static int
create_data_file (struct made *m, const char *path,
                  const struct vdk_extent_ops *f,
                  const struct vdk_ext_params *ep)
{
  struct vdk_io *io = make_file (m, path);
  int r;
  if (!io)
    return -1;
  r = vdk__fmt_create (f, io, ep);
  /* VDK_CREATE_PREALLOC (m->total set): formats whose bytes have their
   * place before they are written get their blocks allocated now. */
  if (r == 0 && m->total && (vdk__fmt_caps (f) & VDK_FMT_PREALLOCATED))
    r = preallocate (m, io, ep->sectors * SECTOR, m->zeroed);
  if (r == 0)
    r = vdk__io_flush (io);
  vdk__io_close (io);
  return r;
}

static int
write_new_desc (struct made *m, const char *path, struct vdk_desc *d)
{
  CLEANUP_FREE char *text = vdk__desc_format (d);
  struct vdk_io *io;
  int r;
  if (!text)
    return vdk__err (ENOMEM, "out of memory");
  if (!(io = make_file (m, path)))
    return -1;
  r = vdk__io_pwrite (io, text, strlen (text), 0);
  if (r == 0)
    r = vdk__io_flush (io);
  vdk__io_close (io);
  return r;
}

static struct vdk_ext_params
ext_params (const struct vdk_create_params *p, uint64_t sectors)
{
  return (struct vdk_ext_params) {
    .sectors = sectors, .grain = p->grain_sectors,
    .zeroed_grain = (p->flags & VDK_CREATE_ZEROED_GRAIN) != 0,
  };
}

/* One file with the descriptor embedded: monolithicSparse, or an empty
 * true stream (lib/format/stream-write.c writes the grains later). */
static int
create_embedded (struct made *m, const char *path, struct vdk_desc *d,
                 const struct vdk_create_params *p,
                 const struct vdk_type_info *t)
{
  CLEANUP_FREE char *text = NULL;
  struct vdk_ext_params ep = ext_params (p, p->capacity / SECTOR);

  if (vdk__desc_add_extent (d, VDK_ACCESS_RW, p->capacity / SECTOR,
                            t->kind, vdk__path_base (path), 0,
                            false) == -1
      || !(text = vdk__desc_format (d)))
    return vdk__err (ENOMEM, "out of memory");
  ep.desc = text;
  return create_data_file (m, path, t->fmt, &ep);
}

/* Data files + descriptor: monolithicFlat and vmfs (NAME-flat.vmdk),
 * twoGbMaxExtent* (NAME-s001.vmdk, NAME-f001.vmdk, ...), a vmfsSparse
 * child (NAME-delta.vmdk, as ESX snapshots are laid out). */
static int
create_with_extents (struct made *m, const char *path,
                     const struct vdk_type_info *t, struct vdk_desc *d,
                     const struct vdk_create_params *p)
{
  bool split = (t->flags & VDK_TYPE_F_SPLIT) != 0;
  uint64_t total = p->capacity / SECTOR, each = split ? SPLIT_SECTORS : total;
  CLEANUP_FREE char *stem = vdk__path_stem (path);

  if (!stem)
    return vdk__err (ENOMEM, "out of memory");
  for (uint64_t i = 0, done = 0; done < total; i++) {
    uint64_t n = MIN (each, total - done);
    struct vdk_ext_params ep = ext_params (p, n);
    char name[4096];
    CLEANUP_FREE char *fp = NULL;
    if (split)
      snprintf (name, sizeof name, "%s-%c%03" PRIu64 ".vmdk", stem,
                t->split_letter, i + 1);
    else
      snprintf (name, sizeof name, "%s%s.vmdk", stem, t->suffix);
    if (!(fp = sibling (path, name)))
      return vdk__err (ENOMEM, "out of memory");
    if (create_data_file (m, fp, t->fmt, &ep) == -1
        || vdk__desc_add_extent (d, VDK_ACCESS_RW, n, t->kind, name, 0,
                                 vdk__ext_kind_has_offset (t->kind)) == -1)
      return -1;
    done += n;
  }
  if ((t->flags & VDK_TYPE_F_THIN)
      && vdk__desc_set (d, "ddb.thinProvisioned", "1", true) == -1)
    return vdk__err (ENOMEM, "out of memory");
  return write_new_desc (m, path, d);
}

int
vdk__check_version (const char *what, const void *params, uint32_t version,
                    uint32_t known)
{
  if (!params)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "no %s parameters", what);
  if (version < 1 || version > known)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "%s parameters of version "
                      "%" PRIu32 ": this library knows versions 1 to %"
                      PRIu32 " (initialise them with their _INIT macro)",
                      what, version, known);
  return 0;
}

int
vdk__check_flags (const char *what, unsigned flags, unsigned known)
{
  if (flags & ~known)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "unknown %s flags 0x%x "
                      "(this library knows 0x%x)", what, flags & ~known,
                      known);
  return 0;
}

static int
check_params (const char *path, const struct vdk_create_params *p)
{
  const struct vdk_type_info *t;
  const struct vdk_io_backend *b;
  struct stat st;
  if (vdk__check_version ("create", p, p ? p->version : 0,
                          VDK_CREATE_PARAMS_VERSION) == -1
      || vdk__check_flags ("create", p->flags, VDK__CREATE_FLAGS) == -1)
    return -1;
  t = vdk__type_info (p->type);
  if (p->capacity == 0 || p->capacity % SECTOR
      || p->capacity > (uint64_t) INT64_MAX)
    return vdk__err (EINVAL, "%s: capacity %" PRIu64 " is not a positive "
                     "multiple of 512", path, p->capacity);
  if (p->adapter < 0 || p->adapter >= VDK__ADAPTER_COUNT)
    return vdk__err (EINVAL, "%s: unknown adapter type %d", path, p->adapter);
  if (p->grain_sectors && (!IS_POWER_OF_2 (p->grain_sectors)
                           || p->grain_sectors < 8
                           || p->grain_sectors > 0x200000u))
    return vdk__err (EINVAL, "%s: grain size %" PRIu32 " is not a power of "
                     "two between 8 and 2097152 sectors", path,
                     p->grain_sectors);
  if (t && (t->flags & VDK_TYPE_F_SPLIT)
      && vdk__check_split_size (path, p->capacity) == -1)
    return -1;
  if (t && !(t->flags & VDK_TYPE_F_SPLIT) && t->fmt
      && vdk__fmt_max_sectors (t->fmt)
      && p->capacity / SECTOR > vdk__fmt_max_sectors (t->fmt))
    return vdk__errc (VDK_E_INVALID_ARG, EFBIG, "%s: a %s disk holds at "
                      "most %" PRIu64 " sectors; use twoGbMaxExtentSparse",
                      path, t->name, vdk__fmt_max_sectors (t->fmt));
  if ((b = vdk__io_backend (path)) && (b->flags & VDK_IO_BACKEND_GUEST_VIEW)
      && p->type != VDK_TYPE_RAW)
    return vdk__errc (VDK_E_UNSUPPORTED, ENOTSUP, "%s: holds a raw disk "
                      "only (an RBD image is what a guest sees): create it "
                      "as raw, not %s", path, t ? t->name : "?");
  if (lstat (path, &st) == 0)
    return vdk__err (EEXIST, "%s: file exists", path);
  /* Extent names are made from the base name (d-flat.vmdk): refuse one
   * the descriptor cannot hold before any file exists. */
  if (p->type != VDK_TYPE_RAW && !vdk__desc_name_ok (vdk__path_base (path)))
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "%s: a VMDK descriptor "
                      "cannot name this file (it holds a '\"' or a line "
                      "break, which the descriptor grammar cannot quote)",
                      path);
  return 0;
}

VDK_API int
vdk_create (const char *path, const struct vdk_create_params *params)
{
  const struct vdk_type_info *t;
  struct vdk_create_params p;
  struct made m = { .n = 0 };
  struct vdk_desc *d = NULL;
  int r;

  vdk__set_call ("vdk_create");
  if (!path || check_params (path, params) == -1)
    return path ? -1 : vdk__err (EINVAL, "no file name");
  /* a version-1 caller's struct ends before the progress members */
  memset (&p, 0, sizeof p);
  memcpy (&p, params, params->version >= 2 ? sizeof p
          : offsetof (struct vdk_create_params, progress));
  if (!p.grain_sectors)
    p.grain_sectors = 128;
  m.progress = p.progress, m.opaque = p.opaque;
  if (p.flags & ANY_PREALLOC)
    m.total = p.capacity;
  m.zeroed = (p.flags & VDK_CREATE_PREALLOC_ZEROED) != 0;
  t = vdk__type_info (p.type);
  if (!t || !(t->flags & VDK_TYPE_F_CREATE))
    r = vdk__err (ENOTSUP, "%s: cannot create disks of type %s", path,
                  t ? t->name : "?");
  else if (t->flags & VDK_TYPE_F_NO_DESC) {
    struct vdk_ext_params ep = ext_params (&p, p.capacity / SECTOR);
    r = create_data_file (&m, path, t->fmt, &ep);
  } else if (!(d = new_desc (p.type, &p)))
    r = -1;                     /* error set */
  else if (t->flags & VDK_TYPE_F_EMBEDDED)
    r = create_embedded (&m, path, d, &p, t);
  else
    r = create_with_extents (&m, path, t, d, &p);
  if (r == 0 && p.progress && (m.total == 0 || m.done < m.total)
      && p.progress (p.opaque, m.total ? m.total : p.capacity,
                     m.total ? m.total : p.capacity))
    r = vdk__errc (VDK_E_CANCELLED, ECANCELED, "%s: cancelled by the "
                   "progress callback", path);
  vdk__desc_free (d);
  made_finish (&m, r == -1);
  return r;
}

/* ---- children ---- */

static struct vdk_desc *
child_desc (struct vdk_link *parent, const char *child_path, uint32_t cid)
{
  static const char *const copy_keys[] = {
    "ddb.adapterType", "ddb.geometry.cylinders", "ddb.geometry.heads",
    "ddb.geometry.sectors", "ddb.virtualHWVersion",
  };
  struct vdk_desc *d = vdk__desc_new ();
  CLEANUP_FREE char *cdir = vdk__path_dir (child_path);
  CLEANUP_FREE char *ppath = realpath (parent->path, NULL);
  CLEANUP_FREE char *hint = NULL;
  int r = 0;

  if (!d || !cdir || !ppath || !(hint = vdk__path_relative (cdir, ppath))) {
    vdk__desc_free (d);
    return NULL;
  }
  r |= vdk__desc_set (d, "version", "1", false);
  vdk__desc_set_cid (d, "CID", cid);
  vdk__desc_set_cid (d, "parentCID", parent->desc
                     ? vdk__desc_cid (parent->desc, "CID") : UINT32_MAX);
  r |= vdk__desc_set (d, "createType", "monolithicSparse", true);
  r |= vdk__desc_set (d, "parentFileNameHint", hint, true);
  for (size_t i = 0; parent->desc && i < ARRAY_SIZE (copy_keys); i++) {
    const char *v = vdk__desc_get (parent->desc, copy_keys[i]);
    if (v)
      r |= vdk__desc_set (d, copy_keys[i], v, true);
  }
  if (r) {
    vdk__desc_free (d);
    return NULL;
  }
  return d;
}

static int
create_child_of_link (struct vdk_link *parent, const char *child_path,
                      int type)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  const struct vdk_type_info *t;
  struct made m = { .n = 0 };
  struct vdk_desc *d;
  struct stat st;
  uint32_t cid;
  int r;

  t = vdk__type_info (type == VDK_TYPE_DEFAULT ? VDK_TYPE_MONOLITHIC_SPARSE
                      : type);
  if (!t || !(t->flags & VDK_TYPE_F_CHILD))
    return vdk__errc (VDK_E_UNSUPPORTED, ENOTSUP, "%s: children of type %s "
                      "are not supported (monolithicSparse or vmfsSparse)",
                      child_path, vdk_type_name (type) ? vdk_type_name (type)
                      : "?");
  if (!parent->desc)
    return vdk__err (ENOTSUP, "%s: a raw image cannot be a parent (it has "
                     "no CID); convert it to VMDK first", parent->path);
  if (lstat (child_path, &st) == 0)
    return vdk__err (EEXIST, "%s: file exists", child_path);
  if (!vdk__desc_name_ok (child_path) || !vdk__desc_name_ok (parent->path))
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "%s: a VMDK descriptor "
                      "cannot name the child or its parent (a '\"' or a "
                      "line break in the path, which the descriptor "
                      "grammar cannot quote)", child_path);
  if (new_cid (&cid) == -1)
    return -1;
  if (!(d = child_desc (parent, child_path, cid)))
    return vdk__err (errno ? errno : ENOMEM, "%s: cannot build descriptor",
                     child_path);
  p.capacity = parent->capacity;
  p.grain_sectors = 128;
  if (vdk__desc_set (d, "createType", t->name, true) == -1)
    r = vdk__err (ENOMEM, "out of memory");
  else if (t->flags & VDK_TYPE_F_EMBEDDED)
    r = create_embedded (&m, child_path, d, &p, t);
  else
    r = create_with_extents (&m, child_path, t, d, &p);
  vdk__desc_free (d);
  made_finish (&m, r == -1);
  return r;
}

VDK_API int
vdk_create_child (vdk_disk *parent, const char *child_path, int type)
{
  vdk__set_call ("vdk_create_child");
  if (!parent || !child_path)
    return vdk__err (EINVAL, "no parent or child name");
  if (!parent->top->readonly && vdk__link_flush (parent->top) == -1)
    return -1;
  if (create_child_of_link (parent->top, child_path, type) == -1)
    return -1;
  /* A later write through the parent handle must change its CID again,
   * so that the new child notices. */
  parent->top->began_write = false;
  return 0;
}

VDK_API int
vdk_create_child_path (const char *parent_path, const char *child_path,
                       int type, unsigned open_flags)
{
  vdk_disk *p;
  int r;

  vdk__set_call ("vdk_create_child_path");
  if (vdk__check_open_flags (open_flags) == -1)
    return -1;
  p = vdk__disk_open (parent_path ? parent_path : "",
                      (open_flags | VDK_OPEN_READ_ONLY));
  if (!p)
    return -1;
  r = create_child_of_link (p->top, child_path, type);
  vdk__disk_free (p, NULL);
  return r;
}
