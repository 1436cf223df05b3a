/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Locking: one writer per disk, readers shared, parents shared.
 * OFD locks belong to an open file description, so a second handle in
 * the same process conflicts exactly as another process does; a forked
 * process is tried too. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "vdk.h"
#include "../tmpdir.h"

static char base[300], child[300], flat[300];

static void
expect_busy (vdk_disk *d, const char *what)
{
  ok (d == NULL && vdk_last_errno () == EBUSY
      && strstr (vdk_last_error (), "disk is in use by another process"),
      "%s is refused: %s", what, d ? "(opened)" : vdk_last_error ());
  if (d)
    vdk_close (d);
}

static void
expect_open (vdk_disk *d, const char *what)
{
  ok (d != NULL, "%s works%s%s", what, d ? "" : ": ",
      d ? "" : vdk_last_error ());
  if (d)
    vdk_close (d);
}

/* A forked process tries to open `path` for writing; its exit status
 * is the errno it got (0 = opened). */
static int
other_process_open (const char *path)
{
  int st;
  pid_t pid = fork ();
  if (pid == 0) {
    vdk_disk *d = vdk_open (path, 0);
    _exit (d ? 0 : vdk_last_errno ());
  }
  waitpid (pid, &st, 0);
  return WIFEXITED (st) ? WEXITSTATUS (st) : -1;
}

static void
single (const char *path, const char *name)
{
  vdk_disk *w = vdk_open (path, 0), *r;
  char what[128];

  ok (w != NULL, "%s: first writer opens", name);
  snprintf (what, sizeof what, "%s: a second writer", name);
  expect_busy (vdk_open (path, 0), what);
  snprintf (what, sizeof what, "%s: a reader while a writer holds it", name);
  expect_busy (vdk_open (path, VDK_OPEN_READ_ONLY), what);
  is_int (other_process_open (path), EBUSY,
          "%s: a writer in another process gets EBUSY", name);
  ok (vdk_shrink (path, 0, NULL, NULL) == -1 && vdk_last_errno () == EBUSY,
      "%s: shrink refuses a disk in use", name);
  vdk_close (w);
  r = vdk_open (path, VDK_OPEN_READ_ONLY);
  snprintf (what, sizeof what, "%s: a second reader", name);
  expect_open (vdk_open (path, VDK_OPEN_READ_ONLY), what);
  snprintf (what, sizeof what, "%s: a writer while a reader holds it", name);
  expect_busy (vdk_open (path, 0), what);
  vdk_close (r);
  snprintf (what, sizeof what, "%s: a writer after all closed", name);
  expect_open (vdk_open (path, 0), what);
}

/* Two FLAT extents on one file (a partitionedDevice-like layout) lock
 * only their own ranges: the disk opens, a second writer still not. */
static void
shared_device (void)
{
  char desc[300], dev[300];
  FILE *f;
  snprintf (dev, sizeof dev, "%s/dev.img", dir);
  snprintf (desc, sizeof desc, "%s/two.vmdk", dir);
  f = fopen (dev, "w");
  if (f)
    fclose (f);
  if (truncate (dev, 4 << 20) != 0 || !(f = fopen (desc, "w"))) {
    ok (0, "make a two-extent descriptor");
    return;
  }
  fprintf (f, "# Disk DescriptorFile\nversion=1\nCID=12345678\n"
           "parentCID=ffffffff\ncreateType=\"monolithicFlat\"\n"
           "RW 2048 FLAT \"dev.img\" 0\nRW 2048 FLAT \"dev.img\" 4096\n");
  fclose (f);
  vdk_disk *d = vdk_open (desc, 0);
  ok (d != NULL, "two flat extents on one file open for writing%s%s",
      d ? "" : ": ", d ? "" : vdk_last_error ());
  expect_busy (vdk_open (desc, 0), "a second writer of the shared file");
  vdk_close (d);
}

int
main (void)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  vdk_disk *c;

  if (tmpdir_make_tmpfs ("vdk-lock") == -1)
    return 1;
  vdk_init (NULL, NULL, NULL);
  snprintf (base, sizeof base, "%s/base.vmdk", dir);
  snprintf (child, sizeof child, "%s/child.vmdk", dir);
  snprintf (flat, sizeof flat, "%s/flat.vmdk", dir);
  p.capacity = 16 << 20;
  ok (vdk_create (base, &p) == 0, "create sparse");
  p.type = VDK_TYPE_MONOLITHIC_FLAT;
  ok (vdk_create (flat, &p) == 0, "create flat");
  single (base, "monolithicSparse");
  single (flat, "monolithicFlat (descriptor + extent)");

  ok (vdk_create_child_path (base, child,
                             VDK_TYPE_DEFAULT, 0) == 0, "create child");
  c = vdk_open (child, 0);
  ok (c != NULL, "child opens for writing (parent shared)");
  expect_busy (vdk_open (base, 0), "writing the parent under an open child");
  expect_open (vdk_open (base, VDK_OPEN_READ_ONLY),
               "reading the parent under an open child");
  expect_busy (vdk_open (child, VDK_OPEN_READ_ONLY),
               "reading the child while it is written");
  vdk_close (c);
  c = vdk_open (child, VDK_OPEN_READ_ONLY);
  expect_open (vdk_open (child, VDK_OPEN_READ_ONLY), "two readers of a chain");
  vdk_close (c);

  shared_device ();
  tmpdir_remove ();
  return tap_done ();
}
