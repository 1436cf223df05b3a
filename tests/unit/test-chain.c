/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: child chains and CID rules through the public API. */
#include <limits.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "vdk.h"

#include "../tmpdir.h"

static uint32_t
cid_of (const char *path, unsigned flags)
{
  vdk_disk *d = vdk_open (path, flags | VDK_OPEN_READ_ONLY);
  struct vdk_info *in = NULL;
  uint32_t c = 0;
  if (d && vdk_get_info (d, &in) == 0)
    c = in->cid;
  vdk_free_info (in);
  vdk_close (d);
  return c;
}

static int
file_equal (const char *a, const char *b)
{
  char cmd[PATH_MAX * 5];
  snprintf (cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
  return system (cmd) == 0;
}

static void
make_base (void)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  uint8_t buf[4096];
  vdk_disk *d;
  p.capacity = 8 << 20;
  ok (vdk_create (P ("base.vmdk"), &p) == 0, "create base");
  d = vdk_open (P ("base.vmdk"), 0);
  memset (buf, 'A', sizeof buf);
  ok (d && vdk_pwrite (d, buf, sizeof buf, 0) == 0, "write base");
  memset (buf, 'B', sizeof buf);
  ok (vdk_pwrite (d, buf, sizeof buf, 1 << 20) == 0, "write base again");
  ok (vdk_close (d) == 0, "close base");
}

static void
test_child (void)
{
  uint8_t buf[4096];
  struct vdk_info *in;
  uint32_t base_cid = cid_of (P ("base.vmdk"), VDK_OPEN_SINGLE_LINK), c1, c2;
  vdk_disk *d;

  ok (vdk_create_child_path (P ("base.vmdk"), P ("child.vmdk"),
                             VDK_TYPE_DEFAULT, 0) == 0,
      "create child");
  d = vdk_open (P ("child.vmdk"), 0);
  ok (d && vdk_get_info (d, &in) == 0, "open child");
  if (!d)
    return;
  is_int (in->parent_cid, base_cid, "parentCID = base CID");
  is_int (in->links, 2, "two links");
  is_str (in->parent_hint, "base.vmdk", "relative hint");
  c1 = in->cid;
  vdk_free_info (in);
  ok (vdk_pread (d, buf, 4096, 0) == 0 && buf[0] == 'A' && buf[4095] == 'A',
      "child reads base data");
  memset (buf, 'C', 100);
  ok (vdk_pwrite (d, buf, 100, 512) == 0, "partial write to child");
  ok (vdk_pwrite (d, buf, 100, 2048) == 0, "second write to child");
  ok (vdk_pread (d, buf, 4096, 0) == 0 && buf[0] == 'A' && buf[512] == 'C'
      && buf[611] == 'C' && buf[612] == 'A' && buf[2048] == 'C',
      "new grain merges base data around the write");
  vdk_close (d);
  c2 = cid_of (P ("child.vmdk"), 0);
  ok (c2 != c1, "first write changed the child's CID");
  is_int (cid_of (P ("base.vmdk"), VDK_OPEN_SINGLE_LINK), base_cid,
          "base CID unchanged by child writes");
  d = vdk_open (P ("child.vmdk"), VDK_OPEN_SINGLE_LINK);
  ok (d && vdk_pread (d, buf, 512, 1 << 20) == 0 && buf[0] == 0,
      "single-link open reads holes as zero");
  vdk_close (d);
}

static void
test_three_levels_and_readonly (void)
{
  char cmd[PATH_MAX * 5];
  uint8_t buf[512];
  vdk_disk *d;
  snprintf (cmd, sizeof cmd, "cp '%s' '%s'", P ("base.vmdk"), P ("base.copy"));
  ok (system (cmd) == 0, "copy of the base");
  ok (vdk_create_child_path (P ("child.vmdk"), P ("grand.vmdk"),
                              VDK_TYPE_DEFAULT, 0) == 0,
      "grandchild");
  d = vdk_open (P ("grand.vmdk"), VDK_OPEN_READ_ONLY);
  ok (d && vdk_pread (d, buf, 512, 512) == 0 && buf[0] == 'C',
      "grandchild reads the child's data");
  ok (vdk_pread (d, buf, 512, 1 << 20) == 0 && buf[0] == 'B',
      "grandchild reads the base's data");
  ok (vdk_pwrite (d, buf, 512, 0) == -1 && vdk_last_errno () == EROFS,
      "read-only handle refuses writes");
  vdk_close (d);
  ok (file_equal (P ("base.vmdk"), P ("base.copy")),
      "parent file untouched by reads through the chain");
  unlink (P ("base.copy"));
}

static void
test_cid_mismatch (void)
{
  uint8_t buf[512] = { 'Z' };
  vdk_disk *d = vdk_open (P ("base.vmdk"), VDK_OPEN_SINGLE_LINK);
  ok (d && vdk_pwrite (d, buf, 512, 4096) == 0, "modify the base directly");
  vdk_close (d);
  d = vdk_open (P ("child.vmdk"), 0);
  ok (d == NULL && vdk_last_error_code () == VDK_E_CID_MISMATCH
      && strstr (vdk_last_error (), "child.vmdk")
      && strstr (vdk_last_error (), "base.vmdk")
      && strstr (vdk_last_error (), "modified"),
      "changed parent refused: %s", vdk_last_error ());
  d = vdk_open (P ("child.vmdk"), VDK_OPEN_NO_CID_CHECK);
  ok (d != NULL, "override opens it");
  vdk_close (d);
}

static void
test_external_hint (void)
{
  char sub[PATH_MAX * 2], cmd[PATH_MAX * 6];
  vdk_disk *d;
  snprintf (sub, sizeof sub, "%s/other", dir);
  mkdir (sub, 0755);
  ok (vdk_create_child_path (P ("base.vmdk"), P ("other/kid.vmdk"),
                             VDK_TYPE_DEFAULT, 0) == 0,
      "child in another folder");
  d = vdk_open (P ("other/kid.vmdk"), 0);
  ok (d == NULL && vdk_last_errno () == EPERM
      && vdk_last_error_code () == VDK_E_ACCESS_DENIED,
      "escaping parent hint refused: %s", vdk_last_error ());
  d = vdk_open (P ("other/kid.vmdk"), VDK_OPEN_ALLOW_EXTERNAL);
  ok (d != NULL, "allowed with VDK_OPEN_ALLOW_EXTERNAL");
  vdk_close (d);
  snprintf (cmd, sizeof cmd, "cp '%s' '%s/base.vmdk'", P ("base.vmdk"), sub);
  ok (system (cmd) == 0, "copy base next to the child");
  d = vdk_open (P ("other/kid.vmdk"), 0);
  ok (d != NULL, "escaping hint found by base name in the child's folder");
  vdk_close (d);
}

int
main (void)
{
  if (tmpdir_make ("vdk-chain") == -1)
    return 1;
  make_base ();
  test_child ();
  test_three_levels_and_readonly ();
  test_cid_mismatch ();
  test_external_hint ();
  tmpdir_remove ();
  return tap_done ();
}
