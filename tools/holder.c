/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* holder.c - who holds a disk that is in use: a live `vdk mount`.
 *
 * A disk another process has open for writing fails to open with
 * VDK_E_LOCKED and the message "FILE: disk is in use by another process"
 * (lib/io/io.c), FILE being the file whose lock was refused.  The locks
 * themselves cannot say who holds them (an OFD lock has no owning
 * process), but vdk's own mounts are recorded: vdk_mount_list() gives
 * every mount's serving process, its disks (absolute paths), its redo
 * child and its mount point.  A live mount whose disk or redo child is
 * FILE is the holder.  (A mount also holds shared locks on the parents
 * of its disks; a writer refused on such a parent is not traced back to
 * the mount, and the error then only says "another process".)
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vdk.h>
#include <vdk-mount.h>

#include "vdk-tool.h"

#define IN_USE ": disk is in use by another process"

/* The canonical path of the file a lock error names, or NULL. */
static char *
locked_file (const char *msg)
{
  const char *end = msg ? strstr (msg, IN_USE) : NULL;
  const char *start;
  char *name, *real;

  if (end == NULL)
    return NULL;
  /* The name starts after the context added in front (": "). */
  for (start = end; start > msg && !(start[-1] == ' ' && start - 1 > msg
                                      && start[-2] == ':'); start--)
    ;
  name = strndup (start, (size_t) (end - start));
  real = name ? realpath (name, NULL) : NULL;
  free (name);
  return real;
}

static bool
same_file (const char *real, const char *path)
{
  char *p;
  bool same;

  if (path == NULL || *path == '\0')
    return false;
  p = realpath (path, NULL);
  same = p != NULL && strcmp (p, real) == 0;
  free (p);
  return same;
}

static bool
mount_holds (const struct vdk_mount_info *mi, const char *real)
{
  if (!mi->alive)
    return false;
  if (same_file (real, mi->redo))
    return true;
  for (size_t i = 0; i < mi->ndisks; i++)
    if (same_file (real, mi->disks[i]))
      return true;
  return false;
}

bool
tool_lock_holder (const char *msg, struct tool_holder *h)
{
  char *real = locked_file (msg);
  vdk_mount **list = NULL;
  size_t n = 0;
  bool found = false;

  if (real == NULL)
    return false;
  if (vdk_mount_list (&list, &n) == 0) {
    for (size_t i = 0; i < n && !found; i++) {
      const struct vdk_mount_info *mi = vdk_mount_get_info (list[i]);
      if (!mount_holds (mi, real))
        continue;
      found = true;
      h->pid = mi->pid;
      h->writable = mi->writable != 0;
      snprintf (h->where, sizeof h->where, "%s",
                vdk_mount_path (list[i]));
    }
    vdk_mount_list_free (list, n);
  }
  free (real);
  return found;
}
