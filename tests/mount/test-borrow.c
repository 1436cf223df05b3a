/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Disk sets that borrow their disks (VDK_DISKSET_BORROW).
 *
 * A set closes the disks it owns and leaves borrowed ones alone.  The
 * proof uses the library's OFD locks: a disk opened for writing keeps
 * its file locked, so opening the same path for writing again fails
 * with VDK_E_LOCKED exactly while some handle still has it open.
 * Public API only. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <vdk.h>
#include <vdk-mount.h>

#include "tap.h"
#include "tmpdir.h"

#define SIZE (4u << 20)

static vdk_disk *
make_disk (const char *path)
{
  struct vdk_create_params cp = VDK_CREATE_PARAMS_INIT;
  cp.capacity = SIZE;
  if (vdk_create (path, &cp) == -1) {
    diag ("vdk_create %s: %s", path, vdk_last_error ());
    return NULL;
  }
  return vdk_open (path, 0);
}

/* True if `path` cannot be opened for writing because it is in use. */
static bool
locked (const char *path)
{
  vdk_disk *d = vdk_open (path, 0);
  if (d != NULL) {
    vdk_close (d);
    return false;
  }
  return vdk_last_error_code () == VDK_E_LOCKED;
}

static void
test_borrow (void)
{
  char owned_path[4096], borrowed_path[4096];
  snprintf (owned_path, sizeof owned_path, "%s", P ("owned.vmdk"));
  snprintf (borrowed_path, sizeof borrowed_path, "%s", P ("borrowed.vmdk"));
  vdk_disk *owned = make_disk (owned_path);
  vdk_disk *borrowed = make_disk (borrowed_path);
  vdk_diskset *set = vdk_diskset_new ();
  if (!ok (owned && borrowed && set, "two disks and a set")) {
    diag ("%s", vdk_last_error ());
    return;
  }
  is_int (vdk_diskset_add_ex (set, borrowed, "borrowed", VDK_DISKSET_BORROW),
          0, "borrowed disk added as index 0");
  is_int (vdk_diskset_add (set, owned, "owned"), 1,
          "owned disk added as index 1");
  is_int (vdk_diskset_scan (set, 0), 0, "scan");
  ok (locked (borrowed_path) && locked (owned_path),
      "both disks are in use while the set is open");

  /* Write through the set's view of the borrowed disk. */
  static unsigned char buf[4096], back[4096];
  memset (buf, 0x5a, sizeof buf);
  is_int (vdk_pwrite (vdk_diskset_disk (set, 0), buf, sizeof buf, 65536),
          0, "write to the borrowed disk through the set");
  is_int (vdk_diskset_close (set), 0, "set closed");

  ok (!locked (owned_path), "the owned disk was closed with the set");
  ok (locked (borrowed_path), "the borrowed disk is still open");
  is_int (vdk_pread (borrowed, back, sizeof back, 65536), 0,
          "borrowed disk still reads after the set is closed");
  ok (memcmp (buf, back, sizeof buf) == 0, "and reads what the set wrote");
  is_int (vdk_pwrite (borrowed, buf, sizeof buf, 0), 0,
          "borrowed disk still writes after the set is closed");
  is_int (vdk_close (borrowed), 0, "the caller closes the borrowed disk");
  ok (!locked (borrowed_path), "and only then is it free");
}

static void
test_bad_flags (void)
{
  vdk_disk *d = vdk_open (P ("owned.vmdk"), VDK_OPEN_READ_ONLY);
  vdk_diskset *set = vdk_diskset_new ();
  is_int (vdk_diskset_add_ex (set, d, NULL, 0x80u), -1,
          "unknown add flags are refused");
  is_int (vdk_last_error_code (), VDK_E_INVALID_ARG,
          "with VDK_E_INVALID_ARG");
  is_int (vdk_diskset_count (set), 0, "and nothing was added");
  vdk_diskset_close (set);
  is_int (vdk_close (d), 0, "the caller still owns a refused disk");
}

int
main (void)
{
  if (tmpdir_make ("vdk-borrow") == -1) {
    printf ("Bail out! no temporary folder\n");
    return 1;
  }
  test_borrow ();
  test_bad_flags ();
  tmpdir_remove ();
  return tap_done ();
}
