/* Whole-link file operations: unlink and rename.
 *
 * Both open the link alone (read-only, no parents) to learn its files:
 * the descriptor and the extent files it names, confined to its folder.
 * rename moves each extent file to the new folder under a new name
 * (the old stem replaced by the new one: a-s001.vmdk -> b-s001.vmdk),
 * then writes the descriptor with the new names atomically at the new
 * place and removes the old one.  An embedded descriptor (monolithic
 * sparse, streamOptimized) is updated in place after the file moved.
 * Children that name the renamed link in their parentFileNameHint must
 * be re-attached, as with vmware-vdiskmanager -n. */
#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/ops.h"

VDK_API int
vdk_unlink (const char *path)
{
  struct vdk_link *l;
  int r = 0;

  vdk__set_call ("vdk_unlink");
  /* Only the descriptor is read: removing files needs no format reader,
   * so a damaged disk or a half-written stream (a failed convert) goes
   * too. */
  if (!path || !(l = vdk__link_open (path, VDK_OPEN_READ_ONLY
                                     | VDK__OPEN_NO_FORMAT)))
    return path ? -1 : vdk__err (EINVAL, "no file name");
  for (size_t i = 0; i < l->nextents; i++) {
    struct vdk_extent *e = &l->extents[i];
    if (e->path && !(l->embedded && i == 0) && !e->whole_file
        && vdk__fs_unlink (e->path) == -1 && errno != ENOENT)
      r = -1;
  }
  vdk__link_close (l, NULL);
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

VDK_API int
vdk_rename (const char *src, const char *dst)
{
  struct vdk_link *l;
  struct vdk_fs_stat st;
  int r;

  vdk__set_call ("vdk_rename");
  if (!src || !dst)
    return vdk__err (EINVAL, "no file name");
  if (vdk__fs_stat (dst, &st) == -1)
    return -1;
  if (st.exists)
    return vdk__err (EEXIST, "%s: file exists", dst);
  if (!(l = vdk__link_open (src, VDK_OPEN_SINGLE_LINK)))
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
  r = rename_link (l, src, dst);
  vdk__link_close (l, NULL);
  return r;
}
