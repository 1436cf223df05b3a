/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for hostile input at the API (issue 9): names the
 * descriptor grammar cannot hold are refused before any file exists
 * (defect 10), names it can hold round-trip. */
#include <errno.h>
#include <glob.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "tmpdir.h"
#include "ops/ops.h"

static size_t
files_in_dir (void)
{
  glob_t g;
  size_t n = 0;
  char pat[PATH_MAX * 2];
  snprintf (pat, sizeof pat, "%s/*", dir);
  if (glob (pat, 0, NULL, &g) == 0)
    n = g.gl_pathc;
  globfree (&g);
  return n;
}

static void
test_create_names (void)
{
  static const int types[] = {
    VDK_TYPE_MONOLITHIC_FLAT, VDK_TYPE_MONOLITHIC_SPARSE,
    VDK_TYPE_SPLIT_SPARSE, VDK_TYPE_STREAM_OPTIMIZED, VDK_TYPE_VMFS,
  };
  static const char *const bad[] = { "q\"uote.vmdk", "new\nline.vmdk",
                                     "cr\rreturn.vmdk" };
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  p.capacity = 1 << 20;

  for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
    p.type = types[t];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
      size_t before = files_in_dir ();
      int r = vdk_create (P (bad[i]), &p);
      ok (r == -1 && vdk_last_error_code () == VDK_E_INVALID_ARG
          && files_in_dir () == before,
          "%s, name %zu: refused before any file exists",
          vdk_type_name (types[t]), i);
    }
  }
  p.type = VDK_TYPE_MONOLITHIC_FLAT;
  ok (vdk_create (P ("a=b.vmdk"), &p) == 0, "a=b.vmdk created");
  vdk_disk *d = vdk_open (P ("a=b.vmdk"), 0);
  ok (d != NULL, "and reopens (%s)", d ? "" : vdk_last_error ());
  ok (d && vdk_pwrite (d, "hi", 2, 0) == 0, "and takes a write");
  vdk_close (d);
  ok (vdk_rename (P ("a=b.vmdk"), P ("bad\"name.vmdk")) == -1
      && access (P ("a=b.vmdk"), F_OK) == 0
      && access (P ("a=b-flat.vmdk"), F_OK) == 0,
      "rename to an unrepresentable name refused, nothing moved (%s)",
      vdk_last_error ());
  ok (vdk_create_child_path (P ("a=b.vmdk"), P ("c\nhild.vmdk"),
                              VDK_TYPE_DEFAULT, 0) == -1
      && access (P ("c\nhild.vmdk"), F_OK) == -1,
      "child with an unrepresentable name refused");
  ok (vdk_create_child_path (P ("a=b.vmdk"), P ("c=1.vmdk"),
                              VDK_TYPE_DEFAULT, 0) == 0,
      "child named c=1.vmdk of a=b.vmdk made");
  d = vdk_open (P ("c=1.vmdk"), VDK_OPEN_READ_ONLY);
  char buf[2] = { 0 };
  ok (d && vdk_pread (d, buf, 2, 0) == 0 && memcmp (buf, "hi", 2) == 0,
      "the child opens with its parent and reads its data");
  vdk_close (d);
}

/* vdk_unlink_ex / vdk_rename_ex take only format and external flags,
 * and -f raw acts on the one file (issue 9, defect 3 for rm/rename). */
static void
test_files_flags (void)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  p.capacity = 1 << 20;
  p.type = VDK_TYPE_MONOLITHIC_FLAT;
  ok (vdk_create (P ("f.vmdk"), &p) == 0, "f.vmdk created");
  ok (vdk_unlink_ex (P ("f.vmdk"), VDK_OPEN_READ_ONLY) == -1
      && vdk_last_error_code () == VDK_E_INVALID_ARG
      && access (P ("f-flat.vmdk"), F_OK) == 0,
      "unlink_ex with an open flag that does not apply refused");
  ok (vdk_rename_ex (P ("f.vmdk"), P ("g.vmdk"), VDK_OPEN_FORMAT_RAW
                     | VDK_OPEN_FORMAT_VMDK) == -1
      && vdk_last_error_code () == VDK_E_INVALID_ARG
      && access (P ("f.vmdk"), F_OK) == 0,
      "rename_ex with both formats refused");
  ok (vdk_rename_ex (P ("f.vmdk"), P ("g.vmdk"), VDK_OPEN_FORMAT_RAW) == 0
      && access (P ("g.vmdk"), F_OK) == 0
      && access (P ("f-flat.vmdk"), F_OK) == 0
      && access (P ("g-flat.vmdk"), F_OK) == -1,
      "rename_ex -f raw moved the descriptor file alone");
  ok (vdk_unlink_ex (P ("g.vmdk"), VDK_OPEN_FORMAT_RAW) == 0
      && access (P ("g.vmdk"), F_OK) == -1
      && access (P ("f-flat.vmdk"), F_OK) == 0,
      "unlink_ex -f raw removed the descriptor file alone");
  ok (vdk_unlink_ex (P ("f-flat.vmdk"), VDK_OPEN_FORMAT_VMDK) == -1
      && access (P ("f-flat.vmdk"), F_OK) == 0,
      "unlink_ex -f vmdk of a raw file refused (%s)", vdk_last_error ());
  ok (vdk_unlink (P ("f-flat.vmdk")) == -1
      && access (P ("f-flat.vmdk"), F_OK) == 0,
      "unlink of a raw file named .vmdk refused without a format");
  ok (vdk_unlink_ex (P ("f-flat.vmdk"), VDK_OPEN_FORMAT_RAW) == 0
      && access (P ("f-flat.vmdk"), F_OK) == -1, "and removed as raw");
}

/* Keys and values a descriptor line cannot hold are refused by
 * vdk_meta_set and the disk still opens (a \v in a key once made a
 * descriptor that no longer parsed: found by the nbd-desc fuzzer in the
 * remote description, the same class). */
static void
test_meta_keys (void)
{
  static const char *const bad_keys[] = { "ddb.a\vb", "ddb.a\fb",
    "ddb.a\rb", "ddb.a b", "ddb.a=b", "ddb.a\"b", "ddb.a\x7f", "" };
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  p.capacity = 1 << 20;
  p.type = VDK_TYPE_MONOLITHIC_SPARSE;
  ok (vdk_create (P ("m.vmdk"), &p) == 0, "m.vmdk created");
  vdk_disk *d = vdk_open (P ("m.vmdk"), 0);
  for (size_t i = 0; d && i < sizeof bad_keys / sizeof *bad_keys; i++)
    ok (vdk_meta_set (d, bad_keys[i], "1") == -1
        && vdk_last_error_code () == VDK_E_INVALID_ARG,
        "meta key %zu refused", i);
  ok (d && vdk_meta_set (d, "ddb.x", "a\rb") == -1, "value with CR refused");
  ok (d && vdk_meta_set (d, "ddb.x", "a=b c\t#") == 0,
      "a value with '=', blank, tab and '#' taken");
  vdk_close (d);
  d = vdk_open (P ("m.vmdk"), VDK_OPEN_READ_ONLY);
  char *v = NULL;
  int r = d ? vdk_meta_get (d, "ddb.x", &v) : -1;
  ok (r == 0 && v && strcmp (v, "a=b c\t#") == 0,
      "the disk reopens and the value reads back (%s)",
      d ? (v ? v : "none") : vdk_last_error ());
  free (v);
  vdk_close (d);
}

int
main (void)
{
  if (tmpdir_make ("vdk-hostile") == -1)
    return 1;
  vdk__set_call ("test");
  test_create_names ();
  test_files_flags ();
  test_meta_keys ();
  tmpdir_remove ();
  return tap_done ();
}
