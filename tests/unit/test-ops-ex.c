/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: what the VDDK layer needs besides I/O.
 * - Sector sizes in vdk_info (512/512; 512e reported; 4Kn refused).
 * - vdk_attach with VDK_ATTACH_DRY_RUN answers and changes nothing.
 * - vdk_clone with VDK_CLONE_OVERWRITE replaces a destination (also one
 *   of several files), refuses one in use, leaves no temporary files.
 * - Progress of vdk_create (preallocation) and vdk_grow_ex, cancel, and
 *   callers of the older, smaller parameter structs.
 * - vdk_rebase and vdk_commit_ex: parameters checked (version, flags),
 *   contents kept through a rebase and a commit --base --drop, a base
 *   outside the chain refused, a drop refused before anything is
 *   written; VDK_CREATE_PREALLOC_ZEROED allocates a raw image.
 * - VDK_OPEN_NO_LOCK reads a disk a writer holds, and only read-only. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <dirent.h>

#include "tap.h"
#include "vdk.h"
#include "vdk-common.h"

#include "../tmpdir.h"

static uint8_t buf[1 << 20], got[1 << 20];

static int
create (const char *name, int type, uint64_t capacity, uint8_t fill)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  vdk_disk *d;
  int r;
  p.type = type;
  p.capacity = capacity;
  if (vdk_create (P (name), &p) == -1)
    return -1;
  if (!fill)
    return 0;
  if (!(d = vdk_open (P (name), 0)))
    return -1;
  memset (buf, fill, sizeof buf);
  r = vdk_pwrite (d, buf, sizeof buf, 0);
  return vdk_close (d) == -1 ? -1 : r;
}

static char *
slurp (const char *path, size_t *len)
{
  FILE *f = fopen (path, "rb");
  char *s = NULL;
  size_t cap = 0, n = 0, k;
  while (f && (s = realloc (s, cap += 65536))
         && (k = fread (s + n, 1, cap - n, f)) > 0)
    n += k;
  if (f)
    fclose (f);
  *len = n;
  return s;
}

static int
same_file (const char *a, const char *b)
{
  size_t la, lb;
  char *x = slurp (a, &la), *y = slurp (b, &lb);
  int r = x && y && la == lb && memcmp (x, y, la) == 0;
  free (x), free (y);
  return r;
}

static int
first_byte (const char *name)
{
  vdk_disk *d = vdk_open (P (name), VDK_OPEN_READ_ONLY);
  int r = d && vdk_pread (d, got, 512, 0) == 0 ? got[0] : -1;
  vdk_close (d);
  return r;
}

static void
write_file (const char *path, const char *text)
{
  FILE *f = fopen (path, "w");
  if (f) {
    fputs (text, f);
    fclose (f);
  }
}

/* ---- sector sizes ---- */

static void
test_sector_sizes (void)
{
  struct vdk_info *in = NULL;
  vdk_disk *d;
  char text[1024];
  static const char tmpl[] =
    "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n"
    "createType=\"monolithicFlat\"\nRW 2048 FLAT \"ss-flat.img\" 0\n"
    "ddb.adapterType = \"lsilogic\"\n%s";

  ok (create ("ss.vmdk", VDK_TYPE_MONOLITHIC_SPARSE, 1 << 20, 0) == 0,
      "create");
  d = vdk_open (P ("ss.vmdk"), VDK_OPEN_READ_ONLY);
  ok (d && vdk_get_info (d, &in) == 0, "info");
  is_int (in ? in->logical_sector_size : 0, 512, "logical sector size 512");
  is_int (in ? in->physical_sector_size : 0, 512, "physical sector size "
          "512");
  vdk_free_info (in);
  vdk_close (d);

  ok (create ("ss-flat.img", VDK_TYPE_RAW, 1 << 20, 0) == 0, "a flat file");
  snprintf (text, sizeof text, tmpl,
            "ddb.physicalSectorSize = \"4096\"\n");
  write_file (P ("ss512e.vmdk"), text);
  d = vdk_open (P ("ss512e.vmdk"), VDK_OPEN_READ_ONLY);
  in = NULL;
  ok (d && vdk_get_info (d, &in) == 0, "a 512e disk opens");
  is_int (in ? in->logical_sector_size : 0, 512, "512e: logical 512");
  is_int (in ? in->physical_sector_size : 0, 4096, "512e: physical 4096");
  vdk_free_info (in);
  vdk_close (d);

  snprintf (text, sizeof text, tmpl, "ddb.logicalSectorSize = \"4096\"\n"
            "ddb.physicalSectorSize = \"4096\"\n");
  write_file (P ("ss4kn.vmdk"), text);
  ok (vdk_open (P ("ss4kn.vmdk"), VDK_OPEN_READ_ONLY) == NULL, "a 4Kn disk "
      "is refused");
  is_int (vdk_last_error_code (), VDK_E_UNSUPPORTED, "as unsupported");
  ok (strstr (vdk_last_error (), "4096") != NULL, "naming the sector size: "
      "%s", vdk_last_error ());
}

/* ---- attach dry run ---- */

static void
test_attach_dry_run (void)
{
  struct vdk_clone_params cp = VDK_CLONE_PARAMS_INIT;
  vdk_disk *d, *other;
  size_t n;
  char *before;

  ok (create ("a.vmdk", VDK_TYPE_MONOLITHIC_SPARSE, 4 << 20, 'A') == 0,
      "parent A");
  ok (create ("b.vmdk", VDK_TYPE_MONOLITHIC_SPARSE, 4 << 20, 'B') == 0,
      "parent B, other content");
  d = vdk_open (P ("a.vmdk"), VDK_OPEN_READ_ONLY);
  ok (d && vdk_clone (d, P ("a2.vmdk"), &cp) == 0, "A2, a copy of A");
  vdk_close (d);
  ok (vdk_create_child_path (P ("a.vmdk"), P ("c.vmdk"),
                              VDK_TYPE_DEFAULT, 0) == 0,
      "child C of A");
  before = slurp (P ("c.vmdk"), &n);

  is_int (vdk_attach (P ("c.vmdk"), P ("a2.vmdk"), VDK_ATTACH_DRY_RUN, 0), 0,
          "dry run: attaching C to a copy of A would work");
  ok (same_file (P ("c.vmdk"), P ("c.vmdk")) && before, "(read C)");
  {
    size_t m;
    char *after = slurp (P ("c.vmdk"), &m);
    ok (after && m == n && memcmp (before, after, n) == 0, "C unchanged by "
        "the dry run");
    free (after);
  }
  is_int (vdk_attach (P ("c.vmdk"), P ("b.vmdk"), VDK_ATTACH_DRY_RUN, 0), -1,
          "dry run: attaching C to B would change its contents");
  is_int (vdk_attach (P ("c.vmdk"), P ("b.vmdk"),
                      VDK_ATTACH_DRY_RUN | VDK_ATTACH_UNSAFE, 0), 0,
          "dry run, unsafe: would work");
  other = vdk_open (P ("c.vmdk"), 0);
  ok (other != NULL, "another handle holds C open for writing");
  is_int (vdk_attach (P ("c.vmdk"), P ("a2.vmdk"), VDK_ATTACH_DRY_RUN, 0), -1,
          "dry run: not while C is in use");
  is_int (vdk_last_error_code (), VDK_E_LOCKED, "as locked");
  vdk_close (other);
  {
    size_t m;
    char *after = slurp (P ("c.vmdk"), &m);
    /* the write handle changed nothing: it never wrote */
    ok (after && m == n && memcmp (before, after, n) == 0, "C still "
        "unchanged");
    free (after);
  }
  is_int (vdk_attach (P ("c.vmdk"), P ("a2.vmdk"), 0, 0), 0, "the real "
          "attach works");
  is_int (first_byte ("c.vmdk"), 'A', "C reads A's data through A2");
  free (before);
}

/* ---- clone overwrite ---- */

static int
temp_files_left (void)
{
  DIR *dp = opendir (dir);
  struct dirent *de;
  int n = 0;
  while (dp && (de = readdir (dp)))
    n += strstr (de->d_name, "vdk-clone") != NULL;
  if (dp)
    closedir (dp);
  return n;
}

static void
test_clone_overwrite (void)
{
  struct vdk_clone_params cp = VDK_CLONE_PARAMS_INIT;
  vdk_disk *src, *busy;
  struct stat st;

  ok (create ("src.vmdk", VDK_TYPE_MONOLITHIC_SPARSE, 4 << 20, 'S') == 0,
      "source");
  ok (create ("dst.vmdk", VDK_TYPE_MONOLITHIC_SPARSE, 2 << 20, 'D') == 0,
      "an existing destination");
  src = vdk_open (P ("src.vmdk"), VDK_OPEN_READ_ONLY);
  is_int (vdk_clone (src, P ("dst.vmdk"), &cp), -1, "clone onto it without "
          "the flag fails");
  is_int (vdk_last_error_code (), VDK_E_EXISTS, "as exists");
  cp.flags = VDK_CLONE_OVERWRITE;
  is_int (vdk_clone (src, P ("dst.vmdk"), &cp), 0, "with "
          "VDK_CLONE_OVERWRITE it is replaced");
  is_int (first_byte ("dst.vmdk"), 'S', "the destination holds the source");
  is_int (temp_files_left (), 0, "no temporary files are left");

  busy = vdk_open (P ("dst.vmdk"), 0);
  is_int (vdk_clone (src, P ("dst.vmdk"), &cp), -1, "not while the "
          "destination is open for writing");
  is_int (vdk_last_error_code (), VDK_E_LOCKED, "as locked");
  vdk_close (busy);
  is_int (temp_files_left (), 0, "no temporary files after the refusal");

  ok (create ("split.vmdk", VDK_TYPE_SPLIT_SPARSE, 8 << 20, 'X') == 0,
      "a split destination (two files)");
  is_int (vdk_clone (src, P ("split.vmdk"), &cp), 0, "replaced by a "
          "monolithicSparse copy");
  is_int (first_byte ("split.vmdk"), 'S', "holding the source");
  ok (stat (P ("split-s001.vmdk"), &st) == -1 && errno == ENOENT,
      "the old extent file is gone");
  cp.type = VDK_TYPE_SPLIT_FLAT;
  is_int (vdk_clone (src, P ("dst.vmdk"), &cp), 0, "and back: monolithic "
          "replaced by twoGbMaxExtentFlat");
  is_int (first_byte ("dst.vmdk"), 'S', "holding the source");
  is_int (temp_files_left (), 0, "no temporary files are left");
  vdk_close (src);
}

/* ---- progress ---- */

struct prog {
  int calls, backwards, cancel_at;
  uint64_t last_done, last_total;
};

static int
on_progress (void *opaque, uint64_t done, uint64_t total)
{
  struct prog *p = opaque;
  p->backwards += done < p->last_done || done > total;
  p->last_done = done, p->last_total = total;
  return ++p->calls == p->cancel_at;
}

/* The create parameters as a version-1 caller compiled them. */
struct create_params_v1 {
  uint32_t version;
  int type, adapter;
  uint32_t hw_version;
  uint64_t capacity;
  uint32_t grain_sectors;
  unsigned flags;
};

static void
test_progress (void)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  struct vdk_grow_params g = VDK_GROW_PARAMS_INIT;
  struct create_params_v1 *v1 = calloc (1, sizeof *v1);
  struct prog pr = { 0 };
  struct stat st;
  vdk_disk *d;

  p.type = VDK_TYPE_MONOLITHIC_FLAT;
  p.capacity = 130 << 20;    /* three steps of preallocation */
  p.flags = VDK_CREATE_PREALLOC;
  p.progress = on_progress;
  p.opaque = &pr;
  ok (vdk_create (P ("pre.vmdk"), &p) == 0, "create a preallocated flat disk");
  ok (pr.calls >= 2 && pr.backwards == 0, "progress reported %d times, "
      "never backwards", pr.calls);
  ok (pr.last_done == pr.last_total && pr.last_total == p.capacity, "ending "
      "at the total");
  ok (stat (P ("pre-flat.vmdk"), &st) == 0
      && (uint64_t) st.st_blocks * 512 >= p.capacity, "the data file is "
      "allocated");
  pr = (struct prog) { .cancel_at = 1 };
  is_int (vdk_create (P ("cancel.vmdk"), &p), -1, "a cancelled create fails");
  is_int (vdk_last_error_code (), VDK_E_CANCELLED, "as cancelled");
  ok (stat (P ("cancel.vmdk"), &st) == -1 && stat (P ("cancel-flat.vmdk"),
                                                   &st) == -1,
      "and leaves no files");

  v1->version = 1;
  v1->type = VDK_TYPE_MONOLITHIC_SPARSE;
  v1->capacity = 1 << 20;
  ok (vdk_create (P ("v1.vmdk"), (struct vdk_create_params *) v1) == 0,
      "a version-1 caller's smaller struct still works");
  p.version = 99;
  is_int (vdk_create (P ("v99.vmdk"), &p), -1, "a newer version is refused");
  is_int (vdk_last_error_code (), VDK_E_INVALID_ARG, "as invalid");
  free (v1);

  ok (create ("grow.vmdk", VDK_TYPE_MONOLITHIC_SPARSE, 4 << 20, 'G') == 0,
      "a sparse disk to grow");
  pr = (struct prog) { .cancel_at = 1 };
  g.capacity = 8 << 20;
  g.progress = on_progress;
  g.opaque = &pr;
  is_int (vdk_grow_ex (P ("grow.vmdk"), &g), -1, "a cancelled grow fails");
  is_int (vdk_last_error_code (), VDK_E_CANCELLED, "as cancelled");
  d = vdk_open (P ("grow.vmdk"), VDK_OPEN_READ_ONLY);
  is_int (vdk_capacity (d), 4 << 20, "and the disk keeps its size");
  vdk_close (d);
  pr = (struct prog) { 0 };
  is_int (vdk_grow_ex (P ("grow.vmdk"), &g), 0, "grow with progress");
  ok (pr.calls >= 1 && pr.backwards == 0 && pr.last_done == pr.last_total,
      "progress reported %d times, ending at the total", pr.calls);
  d = vdk_open (P ("grow.vmdk"), VDK_OPEN_READ_ONLY);
  is_int (vdk_capacity (d), 8 << 20, "the disk has its new size");
  ok (d && vdk_pread (d, got, 512, 0) == 0 && got[0] == 'G', "and its data");
  vdk_close (d);
  is_int (vdk_grow (P ("grow.vmdk"), 9 << 20, 0), 0, "vdk_grow still works");
  g.version = 2;
  is_int (vdk_grow_ex (P ("grow.vmdk"), &g), -1, "a newer grow version is "
          "refused");
  g.version = VDK_GROW_PARAMS_VERSION;
  g.flags = 0x100;
  is_int (vdk_grow_ex (P ("grow.vmdk"), &g), -1, "unknown grow flags are "
          "refused");
}

/* A chain base <- mid <- top, 4 MiB, a different byte in each MiB;
 * the expected contents of top in `want`. */
static int
make_chain (uint8_t *want)
{
  struct vdk_disk *d;
  int r = 0;

  if (create ("cb.vmdk", VDK_TYPE_MONOLITHIC_SPARSE, 4 << 20, 0x11) == -1
      || vdk_create_child_path (P ("cb.vmdk"), P ("cm.vmdk"),
                                VDK_TYPE_DEFAULT, 0) == -1
      || !(d = vdk_open (P ("cm.vmdk"), 0)))
    return -1;
  memset (buf, 0x22, 4096);
  r |= vdk_pwrite (d, buf, 4096, (1 << 20) + 100);
  r |= vdk_close (d);
  if (r || vdk_create_child_path (P ("cm.vmdk"), P ("ct.vmdk"),
                                  VDK_TYPE_DEFAULT, 0) == -1
      || !(d = vdk_open (P ("ct.vmdk"), 0)))
    return -1;
  memset (buf, 0x33, 512);
  r |= vdk_pwrite (d, buf, 512, 3 << 20);
  r |= vdk_pread (d, want, 4 << 20, 0);
  r |= vdk_close (d);
  return r ? -1 : 0;
}

static int
reads_as (const char *name, const uint8_t *want)
{
  vdk_disk *d = vdk_open (P (name), VDK_OPEN_READ_ONLY);
  static uint8_t have[4 << 20];
  int r = d ? vdk_pread (d, have, sizeof have, 0) : -1;
  vdk_close (d);
  return r == 0 && memcmp (have, want, sizeof have) == 0;
}

static void
test_rebase_commit (void)
{
  static uint8_t want[4 << 20];
  struct vdk_rebase_params rp = VDK_REBASE_PARAMS_INIT;
  struct vdk_commit_params cp = VDK_COMMIT_PARAMS_INIT;
  struct stat st;

  ok (make_chain (want) == 0, "a chain of three links");
  rp.version = 2;
  is_int (vdk_rebase (P ("ct.vmdk"), P ("cb.vmdk"), &rp), -1,
          "rebase parameters of a newer version are refused");
  is_int (vdk_last_error_code (), VDK_E_INVALID_ARG, "as invalid");
  rp = (struct vdk_rebase_params) VDK_REBASE_PARAMS_INIT;
  rp.flags = 1;
  is_int (vdk_rebase (P ("ct.vmdk"), P ("cb.vmdk"), &rp), -1,
          "unknown rebase flags are refused");
  ok (vdk_rebase (P ("ct.vmdk"), P ("cb.vmdk"), NULL) == 0,
      "rebase top onto the base (default parameters)");
  ok (reads_as ("ct.vmdk", want), "the rebased top reads as before");
  is_int (vdk_rebase (P ("ct.vmdk"), P ("ct.vmdk"), NULL), -1,
          "rebase onto itself is refused");

  cp.flags = 0x80;
  is_int (vdk_commit_ex (P ("ct.vmdk"), &cp), -1,
          "unknown commit flags are refused");
  is_int (vdk_last_error_code (), VDK_E_INVALID_ARG, "as invalid");
  cp = (struct vdk_commit_params) VDK_COMMIT_PARAMS_INIT;
  cp.base = P ("cm.vmdk");
  is_int (vdk_commit_ex (P ("ct.vmdk"), &cp), -1,
          "a base that is not in the chain is refused");
  is_int (vdk_last_error_code (), VDK_E_INVALID_ARG, "as invalid");
  cp.base = P ("cb.vmdk");
  cp.flags = VDK_COMMIT_DROP;
  ok (vdk_commit_ex (P ("ct.vmdk"), &cp) == 0, "commit --base --drop");
  ok (reads_as ("cb.vmdk", want), "the base holds what the top showed");
  ok (reads_as ("ct.vmdk", want), "the emptied top reads the same");
  memset (&st, 0, sizeof st);
  is_int (stat (P ("ct.vmdk"), &st), 0, "the emptied top is there");
  ok (st.st_size > 0 && st.st_size <= 65536, "and holds no grain (%lld "
      "bytes: header and tables)", (long long) st.st_size);
}

static void
test_prealloc_zeroed (void)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  struct stat st;

  p.type = VDK_TYPE_RAW;
  p.capacity = 3 << 20;
  p.flags = VDK_CREATE_PREALLOC_ZEROED;
  ok (vdk_create (P ("z.raw"), &p) == 0, "create a zeroed raw image");
  ok (stat (P ("z.raw"), &st) == 0
      && (uint64_t) st.st_blocks * 512 >= p.capacity, "every block is "
      "allocated");
}

static void
test_no_lock (void)
{
  vdk_disk *w, *r;

  ok (create ("held.vmdk", VDK_TYPE_MONOLITHIC_SPARSE, 1 << 20, 0x5a) == 0,
      "a disk to hold");
  w = vdk_open (P ("held.vmdk"), 0);
  ok (w != NULL, "a writer holds it");
  ok (vdk_open (P ("held.vmdk"), VDK_OPEN_READ_ONLY) == NULL
      && vdk_last_error_code () == VDK_E_LOCKED, "a reader is refused");
  r = vdk_open (P ("held.vmdk"), VDK_OPEN_READ_ONLY | VDK_OPEN_NO_LOCK);
  ok (r != NULL, "a reader without locks opens it");
  ok (r && vdk_pread (r, got, 4096, 0) == 0 && got[0] == 0x5a
      && got[4095] == 0x5a, "and reads what was written");
  vdk_close (r);
  ok (vdk_open (P ("held.vmdk"), VDK_OPEN_NO_LOCK) == NULL
      && vdk_last_error_code () == VDK_E_INVALID_ARG, "no locks for a "
      "writer is refused");
  vdk_close (w);
}

int
main (void)
{
  if (tmpdir_make ("vdk-ops-ex") == -1) {
    printf ("1..0 # SKIP cannot make a temporary folder\n");
    return 0;
  }
  test_sector_sizes ();
  test_attach_dry_run ();
  test_clone_overwrite ();
  test_progress ();
  test_rebase_commit ();
  test_prealloc_zeroed ();
  test_no_lock ();
  tmpdir_remove ();
  return tap_done ();
}
