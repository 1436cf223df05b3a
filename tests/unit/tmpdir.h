/* A private temporary folder for a unit test: tmpdir_make() at the start,
 * P("name") for a path inside it, tmpdir_remove() at the end. */
#ifndef VDK_TEST_TMPDIR_H
#define VDK_TEST_TMPDIR_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

static char dir[PATH_MAX];

static inline int
tmpdir_make (const char *prefix)
{
  char tmpl[PATH_MAX];
  snprintf (tmpl, sizeof tmpl, "/tmp/%s-XXXXXX", prefix);
  return mkdtemp (tmpl) && realpath (tmpl, dir) ? 0 : -1;
}

/* Path of `name` in the folder; four results may be live at once. */
static inline const char *
P (const char *name)
{
  static char bufs[4][PATH_MAX * 2];
  static int i;
  char *b = bufs[i++ % 4];
  snprintf (b, sizeof bufs[0], "%s/%s", dir, name);
  return b;
}

static inline int
tmpdir_remove (void)
{
  char cmd[PATH_MAX + 20];
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system (cmd);
}

#endif
