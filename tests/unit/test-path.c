/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: path confinement and relative hints. */
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "ops/ops.h"
#include "../tmpdir.h"

static void
touch (const char *rel)
{
  FILE *f = fopen (P (rel), "w");
  if (f)
    fclose (f);
}

static void
expect (const char *folder, const char *name, bool ext, const char *want)
{
  char *r = vdk__path_resolve (folder, name, ext);
  if (!want)
    ok (r == NULL && vdk_last_errno () == EPERM,
        "\"%s\" refused (%s)", name, r ? r : vdk_last_error ());
  else {
    char full[PATH_MAX * 2];
    snprintf (full, sizeof full, "%s/%s", dir, want);
    is_str (r, want[0] == '/' ? want : full, "\"%s\" resolves", name);
  }
  free (r);
}

int
main (void)
{
  char d[PATH_MAX * 2], *rel;
  if (tmpdir_make ("vdk-path") == -1)
    return 1;
  snprintf (d, sizeof d, "%s/disk", dir);
  mkdir (d, 0755);
  touch ("disk/a.vmdk");
  touch ("outside.vmdk");
  mkdir (strcat (strcpy ((char[PATH_MAX * 2]) { 0 }, d), "/sub"), 0755);
  touch ("disk/sub/b.vmdk");
  snprintf (d, sizeof d, "%s/disk/link.vmdk", dir);
  symlink ("../outside.vmdk", d);
  snprintf (d, sizeof d, "%s/disk/inlink.vmdk", dir);
  symlink ("a.vmdk", d);
  snprintf (d, sizeof d, "%s/disk", dir);

  vdk__set_call ("test");
  expect (d, "a.vmdk", false, "disk/a.vmdk");
  expect (d, "sub/b.vmdk", false, "disk/sub/b.vmdk");
  expect (d, "new.vmdk", false, "disk/new.vmdk");
  expect (d, "inlink.vmdk", false, "disk/a.vmdk");
  expect (d, "../outside.vmdk", false, NULL);
  expect (d, "sub/../../outside.vmdk", false, NULL);
  expect (d, "/etc/passwd", false, NULL);
  expect (d, "link.vmdk", false, NULL);
  expect (d, "../outside.vmdk", true, "outside.vmdk");
  expect (d, "/etc/passwd", true, "/etc/passwd");
  ok (vdk__path_resolve (d, "", false) == NULL, "empty name refused");
  ok (vdk__path_resolve (d, "nodir/x.vmdk", false) == NULL
      && vdk_last_errno () == ENOENT, "missing folder: ENOENT");

  rel = vdk__path_relative ("/a/b", "/a/b/c.vmdk");
  is_str (rel, "c.vmdk", "same folder");
  free (rel);
  rel = vdk__path_relative ("/a/b", "/a/c/x.vmdk");
  is_str (rel, "../c/x.vmdk", "sibling folder");
  free (rel);
  rel = vdk__path_relative ("/a/b/d", "/a/c/x.vmdk");
  is_str (rel, "../../c/x.vmdk", "two levels up");
  free (rel);
  rel = vdk__path_relative ("/a/bc", "/a/b/x.vmdk");
  is_str (rel, "../b/x.vmdk", "prefix that is not a folder");
  free (rel);
  rel = vdk__path_relative ("/", "/x.vmdk");
  is_str (rel, "x.vmdk", "root folder");
  free (rel);
  is_str (vdk__path_base ("/a/b/c.vmdk"), "c.vmdk", "base name");

  tmpdir_remove ();
  return tap_done ();
}
