/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tmpdir.h - the one private temporary folder of a C test (every test
 * folder includes it as "../tmpdir.h").
 *
 * tmpdir_make ("vdk-NAME") at the start makes $TMPDIR/vdk-NAME-XXXXXX
 * (/tmp without $TMPDIR) on a real file system, for tests that need one
 * (O_DIRECT, fallocate, SEEK_DATA behave as on a user's disk);
 * tmpdir_make_tmpfs () prefers /dev/shm, for tests that write a lot and
 * do not care where.  `dir` then holds the folder's absolute path, P
 * ("name") gives a path inside it, and tmpdir_remove () at the end
 * removes the folder with everything in it.  A test that cannot make its
 * folder bails out (TAP "Bail out!") rather than run elsewhere.
 *
 * Header-only and static: each test is one translation unit. */
#ifndef VDK_TEST_TMPDIR_H
#define VDK_TEST_TMPDIR_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 256 bytes, not PATH_MAX: tests build paths in small fixed buffers,
 * and a folder that does not fit is refused, never truncated. */
static char dir[256];

static inline int
tmpdir_make_in (const char *base, const char *prefix)
{
  char tmpl[PATH_MAX], real[PATH_MAX];
  int n = snprintf (tmpl, sizeof tmpl, "%s/%s-XXXXXX", base, prefix);
  if (n < 0 || (size_t) n >= sizeof tmpl || !mkdtemp (tmpl)) {
    printf ("Bail out! cannot make a temporary folder in %s\n", base);
    return -1;
  }
  if (!realpath (tmpl, real) || strlen (real) >= sizeof dir) {
    printf ("Bail out! temporary folder %s: no path that fits\n", tmpl);
    rmdir (tmpl);
    return -1;
  }
  memcpy (dir, real, strlen (real) + 1);
  return 0;
}

static inline int
tmpdir_make (const char *prefix)
{
  const char *base = getenv ("TMPDIR");
  return tmpdir_make_in (base && *base ? base : "/tmp", prefix);
}

static inline int
tmpdir_make_tmpfs (const char *prefix)
{
  if (access ("/dev/shm", W_OK) == 0)
    return tmpdir_make_in ("/dev/shm", prefix);
  return tmpdir_make (prefix);
}

/* Path of `name` in the folder; four results may be live at once. */
static inline const char *
P (const char *name)
{
  static char bufs[4][PATH_MAX];
  static int i;
  char *b = bufs[i++ % 4];
  snprintf (b, sizeof bufs[0], "%s/%s", dir, name);
  return b;
}

/* Says so in a TAP comment when it fails: a folder left behind is not a
 * failed test. */
static inline int
tmpdir_remove (void)
{
  char cmd[sizeof dir + 16];
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system (cmd) == 0)
    return 0;
  printf ("# cannot remove the temporary folder %s\n", dir);
  return -1;
}

#endif
