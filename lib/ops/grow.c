/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdk_grow: make a disk larger (vmware-vdiskmanager -x, VixDiskLib_Grow).
 *
 * Facts (docs/vmdk-format.md §1.4, §2): the capacity of a link is the sum of
 * its extents; a sparse extent's capacity is also in its header, and its
 * grain directory was sized for it, so a sparse extent cannot grow in
 * place; split types hold at most 4192256 sectors per extent.
 *
 * Design
 * - The new layout is decided in memory first: the last extent grows
 *   (up to the split limit for split types), then new extents are
 *   added (NAME-s00N.vmdk / NAME-f00N.vmdk), and the geometry in the
 *   DDB is recomputed for the new size as VMware does.
 * - Files are then changed in an order where a crash (or a failure)
 *   leaves the old disk readable as it was: new extent files first
 *   (complete and fsync'd; the old descriptor names none of them), then
 *   the last extent (a flat file is extended; a sparse one is rewritten
 *   into a new file renamed over the old, ops/rewrite.c, with the new
 *   descriptor embedded when it lives there), and the separate
 *   descriptor last, replaced atomically.  Stopped before that, the
 *   last extent is larger than the descriptor says: readers size it by
 *   the descriptor, check notes it, and a second grow completes it.
 * - The CID stays: the old contents are unchanged and the new space
 *   reads as zero. */
#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>

#include "maint.h"

/* Create one new extent file of `sectors` for a split disk of type t,
 * made like the last extent (`like`: grain size, zeroed grains). */
static int
add_extent (struct vdk_link *l, const struct vdk_type_info *t,
            uint64_t sectors, const struct vdk_ext_params *like)
{
  CLEANUP_FREE char *stem = vdk__path_stem (l->path);
  CLEANUP_FREE char *path = NULL;
  struct vdk_ext_params p = *like;
  char name[512];
  struct vdk_io *io;
  int r;

  if (!stem)
    return vdk__err (ENOMEM, "out of memory");
  snprintf (name, sizeof name, "%s-%c%03zu.vmdk", stem, t->split_letter,
            l->desc->nextents + 1);
  if (!(path = vdk__path_resolve (l->dir, name, false)))
    return -1;
  if (!(io = vdk__io_open (path, VDK_IO_CREATE)))
    return -1;
  p.sectors = sectors, p.desc = NULL;
  r = vdk__fmt_create (t->fmt, io, &p);
  if (r == 0)
    r = vdk__io_flush (io);
  vdk__io_close (io);
  if (r == 0)
    r = vdk__desc_add_extent (l->desc, VDK_ACCESS_RW, sectors, t->kind, name,
                              0, vdk__ext_kind_has_offset (t->kind));
  if (r == -1)
    vdk__fs_discard (path);
  return r;
}

/* Grow the last extent's file to `sectors` (its descriptor entry is
 * already updated): in place where the format can, else by rewrite. */
static int
grow_last (struct vdk_link *l, struct vdk_extent *e, uint64_t sectors,
           struct maint_progress *progress)
{
  if (vdk__ext_can (e, VDK_FMT_REWRITABLE)) {
    CLEANUP_FREE char *desc = NULL;
    struct rewrite_opts o = {
      .new_sectors = sectors,
      .has_parent = vdk__desc_get (l->desc, "parentFileNameHint") != NULL,
      .progress = progress,
    };
    progress->total = e->length;
    if (l->embedded && !(desc = vdk__desc_format (l->desc)))
      return vdk__err (ENOMEM, "out of memory");
    o.desc = desc;
    return vdk__rewrite_extent (e, &o);
  }
  return vdk__ext_grow (e, sectors);
}

static int
grow_link (struct vdk_link *l, const struct vdk_type_info *t,
           uint64_t newcap, struct maint_progress *progress)
{
  bool split = t && (t->flags & VDK_TYPE_F_SPLIT);
  uint64_t limit = split ? vdk__split_extent_sectors () : UINT64_MAX / SECTOR;
  size_t last = l->nextents - 1;
  struct vdk_extent *e = &l->extents[last];
  uint64_t want = (newcap - l->capacity) / SECTOR, grow;
  uint64_t old = l->desc->extents[last].sectors, sectors;
  struct vdk_ext_params like;

  if (vdk__ext_params (e, &like) == -1)
    return -1;
  if (!like.grain)
    like.grain = 128;
  grow = MIN (want, limit > old ? limit - old : 0);
  sectors = old + grow;
  l->desc->extents[last].sectors = sectors;  /* add_extent reallocates */
  want -= grow;
  while (want > 0) {
    uint64_t n = MIN (want, limit);
    if (!split)
      return vdk__err (ENOTSUP, "%s: cannot grow this extent", l->path);
    if (add_extent (l, t, n, &like) == -1)
      return -1;
    want -= n;
  }
  if (vdk__desc_set_geometry (l->desc, newcap / SECTOR) == -1
      || (grow && grow_last (l, e, sectors, progress) == -1))
    return -1;
  return l->embedded ? 0 : vdk__link_write_desc (l);
}

static int
grow (const char *path, uint64_t newcap, unsigned open_flags,
      struct maint_progress *progress)
{
  const struct vdk_type_info *t;
  struct vdk_link *l;
  int r;

  if (newcap == 0 || newcap % SECTOR || newcap > (uint64_t) INT64_MAX)
    return vdk__err (EINVAL, "%s: new size %" PRIu64 " is not a positive "
                     "multiple of 512", path ? path : "", newcap);
  if (!(l = vdk__maint_open_link (path, open_flags, false)))
    return -1;
  t = vdk__type_info (l->type);
  if (newcap < l->capacity)
    r = vdk__err (EINVAL, "%s: new size %" PRIu64 " is smaller than the "
                  "disk (%" PRIu64 " bytes); disks only grow", path, newcap,
                  l->capacity);
  else if (newcap == l->capacity)
    r = 0;
  else if (t && (t->flags & VDK_TYPE_F_SPLIT)
           && vdk__check_split_size (path, newcap) == -1)
    r = -1;
  else if (!t || !(t->flags & VDK_TYPE_F_GROW))
    r = vdk__err (ENOTSUP, "%s: cannot grow a %s disk", path,
                  vdk_type_name (l->type));
  else if (!l->desc)                   /* a raw image: the file itself */
    r = vdk__ext_grow (&l->extents[0], newcap / SECTOR);
  else
    r = grow_link (l, t, newcap, progress);
  vdk__link_close (l, NULL);
  /* the end, once (a cancel now comes too late to matter) */
  if (r == 0 && progress->fn
      && (progress->total == 0 || progress->done < progress->total)) {
    uint64_t total = progress->total ? progress->total : newcap;
    (void) progress->fn (progress->opaque, total, total);
  }
  return r;
}

VDK_API int
vdk_grow (const char *path, uint64_t newcap, unsigned open_flags)
{
  struct maint_progress p = { .fn = NULL };
  vdk__set_call ("vdk_grow");
  return grow (path, newcap, open_flags, &p);
}

VDK_API int
vdk_grow_ex (const char *path, const struct vdk_grow_params *params)
{
  struct maint_progress p = { .fn = NULL };

  vdk__set_call ("vdk_grow_ex");
  if (!params || params->version < 1
      || params->version > VDK_GROW_PARAMS_VERSION)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "grow parameters of "
                      "version %" PRIu32 " (this library knows 1 to %d)",
                      params ? params->version : 0, VDK_GROW_PARAMS_VERSION);
  if (params->flags)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "unknown grow flags 0x%x",
                      params->flags);
  p.fn = params->progress, p.opaque = params->opaque;
  return grow (path, params->capacity, params->open_flags, &p);
}
