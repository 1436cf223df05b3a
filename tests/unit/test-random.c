/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: CIDs and UUIDs come from getrandom(2) or /dev/urandom and
 * never from a predictable generator (issue 9, defect 13).  The tests
 * replace getrandom with a failing one (vdk__getrandom_hook) and point
 * the fallback device elsewhere (vdk__urandom_path). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "../tmpdir.h"
#include "ops/ops.h"

static ssize_t
no_getrandom (void *buf, size_t len)
{
  (void) buf, (void) len;
  errno = ENOSYS;
  return -1;
}

static int
cid_of (const char *path, uint32_t *cid, char **uuid)
{
  vdk_disk *d = vdk_open (path, VDK_OPEN_READ_ONLY);
  struct vdk_info *info;
  if (!d || vdk_get_info (d, &info) == -1) {
    vdk_close (d);
    return -1;
  }
  *cid = info->cid;
  *uuid = info->uuid ? strdup (info->uuid) : NULL;
  vdk_free_info (info);
  return vdk_close (d);
}

static void
fallback_device (void)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  uint32_t c1 = 0, c2 = 0;
  char *u1 = NULL, *u2 = NULL;

  p.capacity = 1 << 20;
  vdk__getrandom_hook = no_getrandom;
  ok (vdk_create (P ("a.vmdk"), &p) == 0 && vdk_create (P ("b.vmdk"), &p) == 0,
      "without getrandom, create uses %s (%s)", vdk__urandom_path,
      vdk_last_error ());
  ok (cid_of (P ("a.vmdk"), &c1, &u1) == 0 && cid_of (P ("b.vmdk"), &c2, &u2) == 0,
      "both disks open");
  ok (c1 != c2, "two disks get different CIDs (%08x, %08x)", c1, c2);
  ok (u1 && u2 && strcmp (u1, u2) != 0, "and different UUIDs");
  free (u1), free (u2);
  vdk__getrandom_hook = NULL;
}

static void
no_source (void)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  struct stat st;
  vdk_disk *d;
  static const char buf[512] = "x";

  p.capacity = 1 << 20;
  vdk__getrandom_hook = no_getrandom;
  static char nodev[PATH_MAX * 2];
  snprintf (nodev, sizeof nodev, "%s", P ("no-such-device"));
  vdk__urandom_path = nodev;
  int r = vdk_create (P ("c.vmdk"), &p);
  ok (r == -1 && strstr (vdk_last_error (), "random") != NULL,
      "no random source: create fails clearly (%s)", vdk_last_error ());
  ok (lstat (P ("c.vmdk"), &st) == -1 && errno == ENOENT,
      "and creates no file");
  p.type = VDK_TYPE_SPLIT_SPARSE;
  ok (vdk_create (P ("s.vmdk"), &p) == -1 && lstat (P ("s.vmdk"), &st) == -1
      && lstat (P ("s-s001.vmdk"), &st) == -1,
      "split sparse: fails and leaves no extent file");
  ok (vdk_create_child_path (P ("a.vmdk"), P ("child.vmdk"), 0, 0) == -1
      && lstat (P ("child.vmdk"), &st) == -1,
      "a child is refused before any file is made (%s)", vdk_last_error ());
  d = vdk_open (P ("a.vmdk"), 0);
  ok (d != NULL, "a disk still opens for writing");
  r = d ? vdk_pwrite (d, buf, sizeof buf, 0) : 0;
  ok (r == -1 && strstr (vdk_last_error (), "random") != NULL,
      "the first write (a new CID) fails clearly (%s)", vdk_last_error ());
  vdk_close (d);
  vdk__getrandom_hook = NULL;
  vdk__urandom_path = "/dev/urandom";
  d = vdk_open (P ("a.vmdk"), 0);
  ok (d && vdk_pwrite (d, buf, sizeof buf, 0) == 0 && vdk_close (d) == 0,
      "with getrandom back, the disk is written");
}

int
main (void)
{
  if (tmpdir_make ("vdk-random") == -1)
    return 1;
  vdk__set_call ("test");
  fallback_device ();
  no_source ();
  tmpdir_remove ();
  return tap_done ();
}
