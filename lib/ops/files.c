/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whole-link file operations: unlink and rename.
 *
 * Both open the link alone (read-only, no parents) to learn its files:
 * the descriptor and the extent files it names, confined to its folder.
 * rename moves each extent file to the new folder under a new name
 * (the old stem replaced by the new one: a-s001.vmdk -> b-s001.vmdk),
 * then writes the descriptor with the new names atomically at the new
 * place and removes the old one.  An embedded descriptor (monolithic
 * sparse, streamOptimized) is updated in place after the file moved.
 * Children of the renamed link in its folder (links whose
 * parentFileNameHint leads to it, as opening their chain would find it)
 * follow it: they are found before anything moves (their descriptors
 * read without locks), then opened for writing, so that a child in use
 * refuses the rename, naming it, before anything changed; after the
 * move each child's hint names the new path (relative to its folder)
 * and its descriptor is replaced atomically.  Their CIDs, and so the
 * CID rule, are untouched.  Children elsewhere are not looked for:
 * `vdk attach CHILD NEWNAME` re-attaches one (the CID still matches). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/ops.h"

/* The open flags unlink and rename take: the format, and whether
 * extents outside the folder may be touched. */
#define FILES_FLAGS (VDK_OPEN_FORMAT_RAW | VDK_OPEN_FORMAT_VMDK \
                     | VDK_OPEN_ALLOW_EXTERNAL)

static int
files_flags_ok (unsigned flags)
{
  if ((flags & ~FILES_FLAGS)
      || ((flags & VDK_OPEN_FORMAT_RAW) && (flags & VDK_OPEN_FORMAT_VMDK)))
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "flags 0x%x: only "
                      "VDK_OPEN_FORMAT_RAW or VDK_OPEN_FORMAT_VMDK and "
                      "VDK_OPEN_ALLOW_EXTERNAL apply here", flags);
  return 0;
}

VDK_API int
vdk_unlink (const char *path)
{
  return vdk_unlink_ex (path, 0);
}

VDK_API int
vdk_unlink_ex (const char *path, unsigned flags)
{
  struct vdk_link *l;
  int r = 0;

  bool snapshots = (flags & VDK_UNLINK_SNAPSHOTS) != 0;

  vdk__set_call ("vdk_unlink");
  flags &= ~VDK_UNLINK_SNAPSHOTS;
  if (files_flags_ok (flags) == -1)
    return -1;
  /* Only the descriptor is read: removing files needs no format reader,
   * so a damaged disk or a half-written stream (a failed convert) goes
   * too.  With the raw format nothing is read: the file alone goes. */
  if (!path || !(l = vdk__link_open (path, VDK_OPEN_READ_ONLY | flags
                                     | VDK__OPEN_NO_FORMAT)))
    return path ? -1 : vdk__err (EINVAL, "no file name");
  for (size_t i = 0; i < l->nextents; i++) {
    struct vdk_extent *e = &l->extents[i];
    if (e->path && !(l->embedded && i == 0) && !e->whole_file
        && vdk__fs_unlink (e->path) == -1 && errno != ENOENT)
      r = -1;
  }
  vdk__link_close (l, NULL);
  if (r == 0 && snapshots && vdk__fs_remove_snapshots (path) == -1)
    r = -1;
  if (r == 0 && vdk__fs_unlink (path) == -1)
    r = -1;
  if (r == 0)
    r = vdk__fs_sync_dir (path);
  return r;
}


/* New name for an extent file: old stem prefix swapped for the new. */
static char *
new_extent_name (const char *name, const char *ostem, const char *nstem)
{
  const char *b = vdk__path_base (name);
  size_t ol = strlen (ostem), n;
  char *out;
  if (strncmp (b, ostem, ol) != 0)
    return strdup (b);
  n = strlen (nstem) + strlen (b + ol) + 1;
  if ((out = malloc (n)))
    snprintf (out, n, "%s%s", nstem, b + ol);
  return out;
}

/* Plan every move first, so nothing moves if any target exists. */
struct move { char *from, *to, *name; };

static int
plan_moves (struct vdk_link *l, const char *dst, struct move *mv)
{
  CLEANUP_FREE char *ostem = vdk__path_stem (l->path), *nstem = vdk__path_stem (dst);
  CLEANUP_FREE char *ndir = vdk__path_dir (dst);
  struct vdk_fs_stat st;

  if (!ostem || !nstem || !ndir)
    return -1;
  for (size_t i = 0; i < l->nextents; i++) {
    struct vdk_extent *e = &l->extents[i];
    if (!e->path || l->embedded)
      continue;
    mv[i].from = strdup (e->path);
    mv[i].name = new_extent_name (e->name, ostem, nstem);
    mv[i].to = mv[i].name ? vdk__path_join (ndir, mv[i].name) : NULL;
    if (!mv[i].from || !mv[i].to)
      return vdk__err (ENOMEM, "out of memory");
    if (vdk__fs_stat (mv[i].to, &st) == -1)
      return -1;
    if (st.exists && strcmp (mv[i].to, mv[i].from) != 0)
      return vdk__err (EEXIST, "%s: file exists", mv[i].to);
  }
  return 0;
}

static int
do_moves (struct vdk_link *l, struct move *mv)
{
  for (size_t i = 0; i < l->nextents; i++) {
    if (!mv[i].from)
      continue;
    if (vdk__fs_rename (mv[i].from, mv[i].to) == -1) {
      int e = errno, c = vdk_last_error_code ();
      for (size_t j = 0; j < i; j++)    /* undo what moved */
        if (mv[j].from && vdk__fs_rename (mv[j].to, mv[j].from) == -1)
          vdk__warn ("%s: could not be moved back to %s", mv[j].to,
                     mv[j].from);
      return vdk__errc (c, e, "%s -> %s: %s%s", mv[i].from, mv[i].to,
                        strerror (e), e == EXDEV ? " (use convert to copy "
                        "across file systems)" : "");
    }
    free (l->desc->extents[i].file);
    l->desc->extents[i].file = strdup (mv[i].name);
  }
  return 0;
}

static int
rename_link (struct vdk_link *l, const char *src, const char *dst)
{
  struct move *mv = calloc (l->nextents, sizeof *mv);
  int r = -1;

  if (!mv)
    return vdk__err (ENOMEM, "out of memory");
  if (plan_moves (l, dst, mv) == -1 || do_moves (l, mv) == -1)
    goto out;
  if (l->embedded) {
    free (l->desc->extents[0].file);
    l->desc->extents[0].file = strdup (vdk__path_base (dst));
    if (vdk__fs_rename (src, dst) == -1)
      goto out;
    r = vdk__link_write_desc (l);
    goto out;
  }
  free (l->path);
  l->path = strdup (dst);
  r = vdk__link_write_desc (l);
  if (r == 0 && (vdk__fs_unlink (src) == -1 || vdk__fs_sync_dir (src) == -1))
    r = -1;
out:
  for (size_t i = 0; i < l->nextents; i++) {
    free (mv[i].from);
    free (mv[i].to);
    free (mv[i].name);
  }
  free (mv);
  return r;
}

/* ---- children that follow a renamed link ---- */

struct children {
  struct vdk_link **l;  /* opened for writing */
  size_t n;
};

static void
children_close (struct children *c)
{
  for (size_t i = 0; i < c->n; i++)
    vdk__link_close (c->l[i], NULL);
  free (c->l);
  c->l = NULL, c->n = 0;
}

/* Does the link at path name `want` (a canonical path) as its parent?
 * Read without locks: a disk in use elsewhere is still looked at. */
static bool
names_parent (const char *path, const char *want)
{
  struct vdk_link *l = vdk__link_open (path, VDK_OPEN_READ_ONLY
                                       | VDK_OPEN_SINGLE_LINK
                                       | VDK_OPEN_NO_LOCK
                                       | VDK__OPEN_NO_FORMAT);
  CLEANUP_FREE char *p = NULL, *real = NULL;
  bool yes;

  if (!l)
    return false;               /* not a disk we can read: not a child */
  p = l->desc && vdk__desc_get (l->desc, "parentFileNameHint")
    ? vdk__link_parent_path (l) : NULL;
  real = p ? realpath (p, NULL) : NULL;
  yes = real && strcmp (real, want) == 0;
  vdk__link_close (l, NULL);
  return yes;
}

static bool
is_extent_of (struct vdk_link *l, const char *real)
{
  for (size_t i = 0; i < l->nextents; i++) {
    CLEANUP_FREE char *e = l->extents[i].path
      ? realpath (l->extents[i].path, NULL) : NULL;
    if (e && strcmp (e, real) == 0)
      return true;
  }
  return false;
}

static int
add_child (struct children *c, const char *path, const char *src)
{
  struct vdk_link **nl = realloc (c->l, (c->n + 1) * sizeof *nl);
  struct vdk_link *l;

  if (!nl)
    return vdk__err (ENOMEM, "out of memory");
  c->l = nl;
  if (!(l = vdk__link_open (path, VDK_OPEN_SINGLE_LINK)))
    return vdk__err_prefix ("%s names %s as its parent and must follow the "
                            "rename, but cannot be opened for writing",
                            path, src);
  c->l[c->n++] = l;
  return 0;
}

/* Find and open for writing every link of src's folder whose parent is
 * src (l, open). */
static int
find_children (struct vdk_link *l, const char *src, struct children *c)
{
  CLEANUP_FREE char *want = realpath (src, NULL);
  DIR *dir;
  struct dirent *de;
  int r = 0;

  if (!want || !l->dir)
    return 0;                   /* nothing to follow on such a store */
  if (!(dir = opendir (l->dir)))
    return vdk__err (errno, "%s: cannot list its folder: %s", src,
                     strerror (errno));
  while (r == 0 && (de = readdir (dir))) {
    size_t n = strlen (de->d_name);
    CLEANUP_FREE char *path = NULL, *real = NULL;
    if (n < 5 || strcasecmp (de->d_name + n - 5, ".vmdk") != 0
        || (de->d_type != DT_REG && de->d_type != DT_UNKNOWN))
      continue;
    if (!(path = vdk__path_join (l->dir, de->d_name))) {
      r = vdk__err (ENOMEM, "out of memory");
      break;
    }
    real = realpath (path, NULL);
    if (!real || strcmp (real, want) == 0 || is_extent_of (l, real)
        || !names_parent (path, want))
      continue;
    r = add_child (c, path, src);
  }
  closedir (dir);
  return r;
}

/* After the move: each child's hint names dst. */
static int
follow (struct children *c, const char *dst)
{
  CLEANUP_FREE char *real = realpath (dst, NULL);

  for (size_t i = 0; i < c->n; i++) {
    struct vdk_link *ch = c->l[i];
    CLEANUP_FREE char *hint = real ? vdk__path_relative (ch->dir, real)
      : NULL;
    if (!hint || vdk__desc_set (ch->desc, "parentFileNameHint", hint,
                                true) == -1)
      return vdk__err (ENOMEM, "%s: renamed, but its child %s still names "
                       "the old name (out of memory): `vdk attach %s %s` "
                       "re-attaches it", dst, ch->path, ch->path, dst);
    if (vdk__link_write_desc (ch) == -1)
      return vdk__err_prefix ("%s: renamed, but its child %s still names "
                              "the old name (`vdk attach %s %s` "
                              "re-attaches it)", dst, ch->path, ch->path,
                              dst);
  }
  return 0;
}

VDK_API int
vdk_rename (const char *src, const char *dst)
{
  return vdk_rename_ex (src, dst, 0);
}

VDK_API int
vdk_rename_ex (const char *src, const char *dst, unsigned flags)
{
  struct children kids = { NULL, 0 };
  struct vdk_link *l;
  struct vdk_fs_stat st;
  int r;

  vdk__set_call ("vdk_rename");
  if (files_flags_ok (flags) == -1)
    return -1;
  if (!src || !dst)
    return vdk__err (EINVAL, "no file name");
  if (vdk__fs_stat (dst, &st) == -1)
    return -1;
  if (st.exists)
    return vdk__err (EEXIST, "%s: file exists", dst);
  if (!(l = vdk__link_open (src, VDK_OPEN_SINGLE_LINK | flags)))
    return -1;
  if (l->desc && !vdk__desc_name_ok (vdk__path_base (dst))) {
    vdk__link_close (l, NULL);
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "%s: a VMDK descriptor "
                      "cannot name this file (a '\"' or a line break, "
                      "which the descriptor grammar cannot quote)", dst);
  }
  if (!l->desc) {                    /* a raw image: one file */
    vdk__link_close (l, NULL);
    return vdk__fs_rename (src, dst) == -1 ? -1 : vdk__fs_sync_dir (dst);
  }
  r = find_children (l, src, &kids);
  if (r == 0)
    r = rename_link (l, src, dst);
  vdk__link_close (l, NULL);
  if (r == 0)
    r = follow (&kids, dst);
  children_close (&kids);
  return r;
}
