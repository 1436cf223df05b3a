/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Path confinement for names that come from descriptors.
 *
 * A descriptor names its extents and its parent.  A crafted descriptor
 * must never make vdk read or write an arbitrary host file, so every
 * such name is resolved against the descriptor's canonical folder and,
 * after following symlinks in the part that exists, must still lie
 * inside that folder.  Callers that need outside paths (raw device
 * mappings, parents kept elsewhere) pass allow_external, which the user
 * grants explicitly (--allow-external-paths).  A refused name fails
 * with EPERM (VDK_E_ACCESS_DENIED): a rule of vdk, not of the host,
 * which reports EACCES. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>

#include "disk/disk.h"

const char *
vdk__path_base (const char *path)
{
  const char *s = strrchr (path, '/');
  return s ? s + 1 : path;
}

char *
vdk__path_dir (const char *path)
{
  CLEANUP_FREE char *copy = strdup (path);
  char *r;
  if (!copy) {
    vdk__err (ENOMEM, "out of memory");
    return NULL;
  }
  r = realpath (dirname (copy), NULL);
  if (!r)
    vdk__err (errno, "%s: cannot resolve folder: %s", path, strerror (errno));
  return r;
}

/* "dir/name.vmdk" -> "name" */
char *
vdk__path_stem (const char *path)
{
  const char *b = vdk__path_base (path);
  size_t n = strlen (b);
  if (n > 5 && strcasecmp (b + n - 5, ".vmdk") == 0)
    n -= 5;
  return strndup (b, n);
}

char *
vdk__path_join (const char *dir, const char *name)
{
  size_t n = strlen (dir) + strlen (name) + 2;
  char *p = malloc (n);
  if (p)
    snprintf (p, n, "%s/%s", dir, name);
  return p;
}

/* realpath of path, or of its folder + its base name if it does not
 * exist yet. */
static char *
resolve_existing_part (const char *path)
{
  char *r = realpath (path, NULL);
  CLEANUP_FREE char *copy = NULL, *copy2 = NULL, *d = NULL;

  if (r || errno != ENOENT)
    return r;
  if (!(copy = strdup (path)) || !(copy2 = strdup (path)))
    return NULL;
  if (!(d = realpath (dirname (copy), NULL)))
    return NULL;
  return vdk__path_join (d, basename (copy2));
}

static bool
inside (const char *dir, const char *path)
{
  size_t n = strlen (dir);
  if (strcmp (dir, "/") == 0)
    return true;
  return strncmp (path, dir, n) == 0 && path[n] == '/';
}

char *
vdk__path_resolve (const char *dir, const char *name, bool allow_external)
{
  CLEANUP_FREE char *cand = NULL;
  char *r;

  if (!*name) {
    vdk__err (EINVAL, "empty file name");
    return NULL;
  }
  cand = name[0] == '/' ? strdup (name) : vdk__path_join (dir, name);
  if (!cand) {
    vdk__err (ENOMEM, "out of memory");
    return NULL;
  }
  if (!(r = resolve_existing_part (cand))) {
    vdk__err (errno, "\"%s\": %s", name, strerror (errno));
    return NULL;
  }
  if (!allow_external && !inside (dir, r)) {
    vdk__err (EPERM, "\"%s\" resolves to %s, outside the disk's folder %s",
              name, r, dir);
    free (r);
    return NULL;
  }
  return r;
}

/* Relative path from folder `from` to file `to` (both absolute and
 * canonical), compared component by component. */
char *
vdk__path_relative (const char *from, const char *to)
{
  size_t i = 0, last = 0, ups = 0, n;
  char *out;

  /* Longest common prefix that ends at a component boundary. */
  while (from[i] && from[i] == to[i]) {
    if (from[i] == '/')
      last = i;
    i++;
  }
  if (from[i] == 0 && to[i] == '/')
    last = i;
  else if (from[i] == 0 && i == 1)      /* from = "/" */
    last = 0;
  for (size_t j = last; from[j]; j++)
    if (from[j] == '/' && from[j + 1])
      ups++;
  n = ups * 3 + strlen (to + last) + 1;
  if (!(out = malloc (n)))
    return NULL;
  out[0] = 0;
  for (i = 0; i < ups; i++)
    strcat (out, "../");
  strcat (out, to + last + 1);
  return out;
}
