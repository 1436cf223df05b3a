/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdk_clone with VDK_CLONE_OVERWRITE onto an existing destination
 * (the VDDK's overWrite).
 *
 * Design: the old disk stays intact until a complete new one exists.
 * - The destination is opened alone for writing first: if another
 *   handle or process holds it, the clone is refused (EBUSY, "in use")
 *   before anything is written.  Its files (descriptor and extents) are
 *   noted and the handle closed.  A destination that is the source, or
 *   a link of the source's chain, is refused.
 * - The copy is made under the destination's name in a fresh folder
 *   beside it (DIR/.vdk-clone-XXXXXX), so the descriptor names its
 *   extents as they will be called.
 * - Then each new file is renamed into DIR (a file of the same name is
 *   replaced atomically), old files the new disk does not use are
 *   removed, DIR is fsync'd and the temporary folder removed.  A
 *   single-file output (monolithicSparse, streamOptimized, raw) thus
 *   replaces the old disk in one rename; a crash between the renames of
 *   a multi-file output can leave a mix, with the rest of the new files
 *   still in the temporary folder.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maint.h"

#define MAX_OLD_FILES 4096   /* more than any disk vdk opens (2048 max) */

struct old_files {
  char *paths[MAX_OLD_FILES];
  size_t n;
};

static void
free_old (struct old_files *o)
{
  for (size_t i = 0; i < o->n; i++)
    free (o->paths[i]);
  o->n = 0;
}

static int
same_file (const char *a, const char *b)
{
  struct stat sa, sb;
  return stat (a, &sa) == 0 && stat (b, &sb) == 0 && sa.st_dev == sb.st_dev
    && sa.st_ino == sb.st_ino;
}

/* Refuse a destination in use or part of the source; note its files. */
static int
note_old (vdk_disk *src, const char *dst, struct old_files *o)
{
  struct vdk_disk *d;

  for (struct vdk_link *l = src->top; l; l = l->parent)
    if (same_file (l->path, dst))
      return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "%s: the destination is "
                        "%s of the source; it cannot be overwritten", dst,
                        l == src->top ? "the top link" : "a parent");
  if (!(d = vdk__disk_open (dst, VDK_OPEN_SINGLE_LINK)))
    return vdk__err_prefix ("%s: cannot replace the existing destination",
                            dst);
  for (size_t i = 0; i < d->top->nextents && o->n < MAX_OLD_FILES; i++) {
    const char *p = d->top->extents[i].path;
    if (p && !same_file (p, dst) && (o->paths[o->n] = strdup (p)))
      o->n++;
  }
  vdk__disk_free (d, NULL);
  return 0;
}

/* Move every file of tmp into dir; remove old files not replaced. */
static int
move_in (const char *tmp, const char *dir, struct old_files *o)
{
  DIR *dp = opendir (tmp);
  struct dirent *de;
  int r = 0;

  if (!dp)
    return vdk__err (errno, "%s: %s", tmp, strerror (errno));
  while (r == 0 && (de = readdir (dp))) {
    CLEANUP_FREE char *from = NULL, *to = NULL;
    if (de->d_name[0] == '.')
      continue;
    if (!(from = vdk__path_join (tmp, de->d_name))
        || !(to = vdk__path_join (dir, de->d_name)))
      r = vdk__err (ENOMEM, "out of memory");
    else if (vdk__fs_rename (from, to) == -1)
      r = vdk__err_prefix ("%s: cannot move into place", to);
    for (size_t i = 0; r == 0 && to && i < o->n; i++)
      if (o->paths[i] && same_file (o->paths[i], to)) {
        free (o->paths[i]);
        o->paths[i] = NULL;     /* replaced, not to be removed */
      }
  }
  closedir (dp);
  for (size_t i = 0; r == 0 && i < o->n; i++)
    if (o->paths[i] && vdk__fs_unlink (o->paths[i]) == -1 && errno != ENOENT)
      r = -1;
  return r;
}

/* Remove the temporary folder and whatever is left in it. */
static void
remove_tmp (const char *tmp)
{
  DIR *dp = opendir (tmp);
  struct dirent *de;
  while (dp && (de = readdir (dp))) {
    CLEANUP_FREE char *p = NULL;
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, "..")
        && (p = vdk__path_join (tmp, de->d_name)))
      vdk__fs_discard (p);
  }
  if (dp)
    closedir (dp);
  rmdir (tmp);
}

int
vdk__clone_replace (vdk_disk *src, const char *dst,
                    const struct vdk_clone_params *params)
{
  struct vdk_clone_params p = *params;
  struct old_files o = { .n = 0 };
  CLEANUP_FREE char *dir = vdk__path_dir (dst), *tmp = NULL;
  CLEANUP_FREE char *inner = NULL;
  int r;

  if (!dir || asprintf (&tmp, "%s/.vdk-clone-XXXXXX", dir) == -1) {
    tmp = NULL;
    return vdk__err (ENOMEM, "out of memory");
  }
  if (note_old (src, dst, &o) == -1)
    return -1;
  if (!mkdtemp (tmp)) {
    free_old (&o);
    return vdk__err (errno, "%s: cannot make a temporary folder: %s", tmp,
                     strerror (errno));
  }
  p.flags &= ~VDK_CLONE_OVERWRITE;
  if (!(inner = vdk__path_join (tmp, vdk__path_base (dst))))
    r = vdk__err (ENOMEM, "out of memory");
  else
    r = vdk_clone (src, inner, &p);
  if (r == 0)
    r = move_in (tmp, dir, &o);
  if (r == 0)
    r = vdk__fs_sync_dir (dst);
  free_old (&o);
  remove_tmp (tmp);
  return r;
}
