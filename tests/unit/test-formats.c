/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: the registry of formats (lib/format/registry.c) and the
 * type table (lib/format/types.c).  Each registered format's
 * capabilities and the defaults that follow from its members; every
 * descriptor extent kind has a format; probing real samples of each
 * kind of file (made by vdk_create, and a seSparse header made here);
 * the format chosen for a descriptor extent by its file; and a write
 * out of order to an ordered-only format (streamOptimized) refused
 * through the generic path (vdk_pwrite -> chain -> vdk__ext_pwrite),
 * leaving what was written before intact. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "tap.h"
#include "ops/ops.h"

#include "../tmpdir.h"

static const struct vdk_extent_ops *
fmt (const char *name)
{
  const struct vdk_extent_ops *f = vdk__format_by_name (name);
  if (!f)
    diag ("no format named %s", name);
  return f;
}

static bool
has (const char *name, unsigned caps)
{
  const struct vdk_extent_ops *f = fmt (name);
  return f && (vdk__fmt_caps (f) & caps) == caps;
}

static void
test_table (void)
{
  size_t n = 0;
  bool complete = true;

  for (size_t i = 0; vdk__formats[i]; i++, n++) {
    const struct vdk_extent_ops *f = vdk__formats[i];
    if (!f->name || !f->open || !f->map || !f->close || !f->kinds
        || vdk__format_by_name (f->name) != f) {
      complete = false;
      diag ("format %zu (%s) lacks a required member", i,
            f->name ? f->name : "?");
    }
  }
  is_int (n, 6, "six formats are registered");
  ok (complete, "each has a name, open, map, close and at least one kind");
  for (int k = 0; k < VDK_EXT_KIND_COUNT_; k++)
    ok (vdk__format_for_extent (k, NULL) != NULL, "%s extents have a format",
        vdk__ext_kind_name (k));
  ok (vdk__format_for_extent (VDK_EXT_KIND_COUNT_, NULL) == NULL
      && vdk__format_for_extent (-1, NULL) == NULL,
      "an unknown kind has none");
}

static void
test_caps (void)
{
  ok (has ("sparse", VDK_FMT_WRITABLE | VDK_FMT_CAN_ZERO | VDK_FMT_REWRITABLE)
      && !has ("sparse", VDK_FMT_ORDERED_WRITES)
      && !has ("sparse", VDK_FMT_PREALLOCATED),
      "sparse: writable, zeroes, rewritable, any order, allocates");
  ok (has ("streamOptimized", VDK_FMT_WRITABLE | VDK_FMT_ORDERED_WRITES)
      && !has ("streamOptimized", VDK_FMT_REWRITABLE)
      && !has ("streamOptimized", VDK_FMT_PREALLOCATED),
      "streamOptimized: writable in increasing order only, not rewritable");
  ok (has ("flat", VDK_FMT_WRITABLE | VDK_FMT_PREALLOCATED
           | VDK_FMT_AT_OFFSET)
      && !has ("flat", VDK_FMT_CAN_ZERO) && !has ("flat", VDK_FMT_REWRITABLE),
      "flat: writable, preallocated, at an offset, zeroes by writing");
  ok (has ("zero", VDK_FMT_NO_FILE | VDK_FMT_PREALLOCATED)
      && !has ("zero", VDK_FMT_WRITABLE),
      "zero: no file, not writable");
  ok (has ("vmfsSparse", VDK_FMT_WRITABLE | VDK_FMT_CAN_ZERO)
      && !has ("vmfsSparse", VDK_FMT_REWRITABLE),
      "vmfsSparse (COWD): writable, zeroes, not rewritable");
  ok (!has ("seSparse", VDK_FMT_WRITABLE) && !has ("seSparse",
                                                   VDK_FMT_CAN_ZERO),
      "seSparse: read-only although it has a refusing pwrite");
  ok (fmt ("sparse") && fmt ("sparse")->desc_read
      && fmt ("streamOptimized") && fmt ("streamOptimized")->desc_read
      && !fmt ("vmfsSparse")->desc_read && !fmt ("flat")->desc_read,
      "only the KDMV formats embed a descriptor");
}

static int
fake_pwrite (struct vdk_extent *e, const void *buf, uint64_t len,
             uint64_t off, vdk_fill_fn fill, void *ctx)
{
  return 0;
}

static void
test_defaults (void)
{
  struct vdk_extent_ops bare = { .name = "bare" };
  struct vdk_extent_ops w = { .name = "w", .pwrite = fake_pwrite };
  struct vdk_extent_ops ro = { .name = "ro", .pwrite = fake_pwrite,
    .caps = VDK_FMT_READ_ONLY | VDK_FMT_CAN_TRIM };
  struct vdk_extent_ops claim = { .name = "claim",
    .caps = VDK_FMT_CAN_TRIM | VDK_FMT_ORDERED_WRITES | VDK_FMT_REWRITABLE };

  is_int (vdk__fmt_caps (&bare), 0, "no members: no capabilities");
  is_int (vdk__fmt_caps (&w), VDK_FMT_WRITABLE, "pwrite: writable");
  ok (!(vdk__fmt_caps (&ro) & (VDK_FMT_WRITABLE | VDK_FMT_CAN_TRIM)),
      "READ_ONLY: neither writable nor trimming");
  is_int (vdk__fmt_caps (&claim), VDK_FMT_REWRITABLE,
          "write capabilities without pwrite are dropped");
}

/* What vdk__probe says of a file, and the registered format of it. */
static const struct vdk_extent_ops *
probe_file (const char *path, bool *descriptor)
{
  struct vdk_io *io = vdk__io_open (path, VDK_IO_READONLY);
  const struct vdk_extent_ops *f = NULL;
  char kind = 0;
  if (!io || vdk__probe (io, &kind) == -1) {
    diag ("%s: %s", path, vdk_last_error ());
    vdk__io_close (io);
    return NULL;
  }
  *descriptor = kind == 'D';
  if (kind == 'R')
    f = vdk__format_raw ();
  else if (kind != 'D')
    f = vdk__probe_format (io);
  vdk__io_close (io);
  return f;
}

static int
make (const char *path, int type)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  p.type = type;
  p.capacity = 4 << 20;
  if (vdk_create (path, &p) == -1) {
    diag ("%s: %s", path, vdk_last_error ());
    return -1;
  }
  return 0;
}

static void
test_probe_samples (void)
{
  bool desc = false;

  make (P ("s.vmdk"), VDK_TYPE_MONOLITHIC_SPARSE);
  make (P ("so.vmdk"), VDK_TYPE_STREAM_OPTIMIZED);
  make (P ("f.vmdk"), VDK_TYPE_MONOLITHIC_FLAT);
  make (P ("r.img"), VDK_TYPE_RAW);
  if (vdk_create_child_path (P ("s.vmdk"), P ("c.vmdk"),
                             VDK_TYPE_VMFS_SPARSE, 0) == -1)
    diag ("child: %s", vdk_last_error ());

  ok (probe_file (P ("s.vmdk"), &desc) == fmt ("sparse") && !desc,
      "monolithicSparse file: sparse");
  ok (probe_file (P ("so.vmdk"), &desc) == fmt ("streamOptimized") && !desc,
      "streamOptimized file: streamOptimized");
  ok (probe_file (P ("c-delta.vmdk"), &desc) == fmt ("vmfsSparse") && !desc,
      "COWD redo log: vmfsSparse");
  ok (probe_file (P ("f.vmdk"), &desc) == NULL && desc,
      "descriptor file: a descriptor");
  ok (probe_file (P ("c.vmdk"), &desc) == NULL && desc,
      "vmfsSparse descriptor: a descriptor");
  ok (probe_file (P ("f-flat.vmdk"), &desc) == vdk__format_raw () && !desc,
      "flat data: raw");
  ok (probe_file (P ("r.img"), &desc) == vdk__format_raw () && !desc,
      "raw image: raw");
}

static void
test_probe_sesparse (void)
{
  uint8_t h[4096] = { 0 };
  const struct vdk_extent_ops *se = fmt ("seSparse");

  le64_put (h, 0xcafebabeull);
  le64_put (h + 8, 0x200000001ull);
  ok (se && se->probe && se->probe (h, sizeof h, 1 << 20),
      "seSparse probe accepts its constant header");
  for (size_t i = 0; vdk__formats[i]; i++)
    if (vdk__formats[i] != se && vdk__formats[i]->probe
        && vdk__formats[i]->probe (h, sizeof h, 1 << 20))
      ok (0, "%s also claims a seSparse header", vdk__formats[i]->name);
  le64_put (h + 8, 0x100000001ull);
  ok (!se->probe (h, sizeof h, 1 << 20), "another version is not taken");
  ok (!se->probe (h, 8, 8), "nor a file too short for the header");
}

/* Descriptor extents of kind SPARSE: the file tells sparse from stream. */
static void
test_for_extent (void)
{
  struct vdk_io *s = vdk__io_open (P ("s.vmdk"), VDK_IO_READONLY);
  struct vdk_io *so = vdk__io_open (P ("so.vmdk"), VDK_IO_READONLY);
  struct vdk_io *r = vdk__io_open (P ("r.img"), VDK_IO_READONLY);

  ok (s && vdk__format_for_extent (VDK_EXT_SPARSE, s) == fmt ("sparse"),
      "SPARSE extent in a sparse file: sparse");
  ok (so && vdk__format_for_extent (VDK_EXT_SPARSE, so)
      == fmt ("streamOptimized"), "SPARSE extent in a stream: stream");
  ok (r && vdk__format_for_extent (VDK_EXT_SPARSE, r) == fmt ("sparse"),
      "SPARSE extent in a file of neither: sparse (its open refuses)");
  ok (vdk__format_for_extent (VDK_EXT_VMFS, r) == fmt ("flat")
      && vdk__format_for_extent (VDK_EXT_VMFSRDM, r) == fmt ("flat"),
      "VMFS and RDM extents: flat");
  vdk__io_close (s);
  vdk__io_close (so);
  vdk__io_close (r);
}

static void
test_types (void)
{
  int n = 0;
  bool consistent = true;
  for (int t = VDK_TYPE_RAW; t <= VDK_TYPE_CUSTOM; t++) {
    const struct vdk_type_info *ti = vdk__type_info (t);
    if (!ti)
      continue;
    n++;
    if (vdk__type_from_create_type (ti->name) != t
        || strcmp (vdk_type_name (t), ti->name) != 0)
      consistent = false, diag ("%s does not round-trip", ti->name);
    if ((ti->flags & (VDK_TYPE_F_CREATE | VDK_TYPE_F_CHILD))
        && (!ti->fmt || !ti->fmt->create
            || !vdk__fmt_serves (ti->fmt, ti->kind)))
      consistent = false, diag ("%s is made but its format cannot make it",
                                ti->name);
    if ((ti->flags & VDK_TYPE_F_EMBEDDED) && !ti->fmt->desc_read)
      consistent = false, diag ("%s embeds a descriptor its format cannot "
                                "read", ti->name);
    if ((ti->flags & VDK_TYPE_F_CREATE) && !(ti->flags & VDK_TYPE_F_NO_DESC)
        && !(ti->flags & VDK_TYPE_F_EMBEDDED) && !ti->split_letter
        && !ti->suffix)
      consistent = false, diag ("%s has no name for its data files",
                                ti->name);
  }
  is_int (n, VDK__TYPE_COUNT, "every disk type has a row");
  ok (consistent, "rows agree with their formats");
  ok (vdk__type_info (-1) == NULL && vdk__type_info (1000) == NULL,
      "no row for an unknown type");
}

static void
test_ordered_writes (void)
{
  uint8_t a[65536], b[65536];
  vdk_disk *d;
  int r;

  memset (a, 0xa5, sizeof a);
  if (make (P ("w.vmdk"), VDK_TYPE_STREAM_OPTIMIZED) == -1
      || !(d = vdk_open (P ("w.vmdk"), 0))) {
    ok (0, "stream opens for writing: %s", vdk_last_error ());
    return;
  }
  ok (vdk_pwrite (d, a, sizeof a, 1 << 20) == 0, "write at 1 MiB");
  r = vdk_pwrite (d, a, sizeof a, 0);
  ok (r == -1 && vdk_last_errno () == ENOTSUP
      && strstr (vdk_last_error (), "increasing order"),
      "a write before it is refused: %s", vdk_last_error ());
  ok (vdk_close (d) == 0, "close");
  d = vdk_open (P ("w.vmdk"), VDK_OPEN_READ_ONLY);
  ok (d && vdk_pread (d, b, sizeof b, 1 << 20) == 0
      && memcmp (a, b, sizeof b) == 0, "the first write reads back");
  ok (d && vdk_pread (d, b, sizeof b, 0) == 0 && is_zero (b, sizeof b),
      "the refused one left nothing");
  vdk_close (d);
}

int
main (void)
{
  if (tmpdir_make ("vdk-fmt") == -1)
    return 1;
  test_table ();
  test_caps ();
  test_defaults ();
  test_types ();
  test_probe_samples ();
  test_probe_sesparse ();
  test_for_extent ();
  test_ordered_writes ();
  if (tmpdir_remove () != 0)
    diag ("cleanup failed");
  return tap_done ();
}
