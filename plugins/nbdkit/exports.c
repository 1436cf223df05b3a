/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* exports.c - from an export name to an open disk, shared.
 *
 * Names.  What a client may ask for depends on the configuration:
 * - tickets=DIR: only a live ticket's id (common/vdk-ticket.h); the
 *   ticket names the disk and the mode.  Everything else, the default
 *   export included, is refused with the same "unknown or expired
 *   ticket" reply, so a client learns nothing about paths or other
 *   tickets.
 * - datastore=NAME=DIR: "[NAME] path/to/disk.vmdk", the VDDK's form.
 *   The path is resolved (symlinks included) and must stay inside DIR,
 *   as vdk confines names found in descriptors; the disk's own extents
 *   and parents are then confined to its folder by vdk_open.
 * - disk=PATH: the default export "".
 *
 * Sharing.  Every connection to one disk uses one vdk_disk: it is the
 * only way two connections can both write (a second read-write open of
 * a disk fails with EBUSY, even in one process, because of vdk's OFD
 * locks), and it makes multi-conn safe (a flush on any connection
 * flushes the one handle).  The table is keyed by the disk's canonical
 * path and guarded by one mutex; opens and closes are rare.  A disk
 * opened read-only is shared with read-only connections only; a
 * read-write one with both (the plugin refuses writes of read-only
 * connections itself).  The last connection's close flushes and closes
 * the disk.
 *
 * Formats exported read-only: streamOptimized (vdk appends to a stream
 * only in increasing order, which NBD clients do not promise) and
 * seSparse (vdk reads it only). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include "plugin.h"
#include "vdk-ticket.h"

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct export *table;

/* Report a refusal: the message goes to nbdkit's log, errno to the
 * client's reply. */
static int refuse (int e, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
static int
refuse (int e, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  nbdkit_verror (fmt, ap);
  va_end (ap);
  nbdkit_set_error (e);
  return -1;
}

/* "[NAME] rel/path" -> canonical path inside NAME's folder; malloc'd. */
static char *
datastore_path (const char *name)
{
  const char *close = strchr (name, ']');
  char *joined, *real;
  size_t dlen;

  if (name[0] != '[' || !close) {
    refuse (ENOENT, "export \"%s\": not of the form \"[datastore] path\"",
            name);
    return NULL;
  }
  for (size_t i = 0; i < cfg.nds; i++) {
    const char *rel = close + 1;
    if (strlen (cfg.ds[i].name) != (size_t) (close - name - 1)
        || strncmp (cfg.ds[i].name, name + 1, close - name - 1) != 0)
      continue;
    while (*rel == ' ')
      rel++;
    if (!*rel || *rel == '/') {
      refuse (ENOENT, "export \"%s\": the path must be relative to the "
              "datastore", name);
      return NULL;
    }
    if (asprintf (&joined, "%s/%s", cfg.ds[i].dir, rel) == -1) {
      refuse (ENOMEM, "out of memory");
      return NULL;
    }
    real = realpath (joined, NULL);
    free (joined);
    dlen = strlen (cfg.ds[i].dir);
    if (!real || strncmp (real, cfg.ds[i].dir, dlen) != 0
        || real[dlen] != '/') {
      /* The same answer for "absent" and "outside": no probing. */
      free (real);
      refuse (ENOENT, "export \"%s\": no such disk in the datastore", name);
      return NULL;
    }
    return real;
  }
  refuse (ENOENT, "export \"%s\": unknown datastore", name);
  return NULL;
}

/* A disk name from a ticket or the configuration: "[ds] path" or a
 * path. */
static char *
disk_path (const char *name)
{
  char *real;
  if (name[0] == '[')
    return datastore_path (name);
  if (!(real = realpath (name, NULL)))
    refuse (ENOENT, "disk %s is gone", name);
  return real;
}

/* The export name of this connection as a disk path and a mode. */
static char *
resolve (bool *ticket_ro)
{
  const char *name = nbdkit_export_name ();
  struct ticket t;
  const char *why;

  *ticket_ro = false;
  if (!name)
    name = "";
  if (cfg.tickets) {
    if (ticket_load (cfg.tickets, name, &t, &why) == -1) {
      nbdkit_debug ("vdk: ticket refused: %s", why);
      refuse (ENOENT, "%s", "unknown or expired ticket");
      return NULL;
    }
    if (t.expires <= (int64_t) time (NULL)) {
      refuse (ENOENT, "%s", "unknown or expired ticket");
      return NULL;
    }
    *ticket_ro = t.readonly;
    return disk_path (t.disk);
  }
  if (name[0] == '[' && cfg.nds)
    return datastore_path (name);
  if (name[0] == '\0' && cfg.disk)
    return disk_path (cfg.disk);
  refuse (ENOENT, "export \"%s\": no such export", name);
  return NULL;
}

static int
lib_error (void)
{
  nbdkit_error ("%s", vdk_last_error ());
  nbdkit_set_error (vdk_last_errno () ? vdk_last_errno () : EIO);
  return -1;
}

/* Open path; a stream or seSparse disk is reopened read-only. */
static struct export *
export_open (char *path, bool rw)
{
  struct export *ex = calloc (1, sizeof *ex);
  unsigned flags = (rw ? 0 : VDK_OPEN_READ_ONLY)
    | (cfg.allow_external ? VDK_OPEN_ALLOW_EXTERNAL : 0);
  struct vdk_info *info = NULL;
  char *desc;

  if (!ex || !(ex->disk = vdk_open (path, flags))
      || vdk_get_info (ex->disk, &info) == -1)
    goto fail;
  if (rw && (info->type == VDK_TYPE_STREAM_OPTIMIZED
             || info->type == VDK_TYPE_SESPARSE)) {
    vdk_close (ex->disk);
    ex->forced_ro = true;
    rw = false;
    if (!(ex->disk = vdk_open (path, flags | VDK_OPEN_READ_ONLY)))
      goto fail;
  }
  ex->path = path;
  ex->rw = rw;
  ex->preferred = 4096;
  if (info->grain_sectors && IS_POW2 (info->grain_sectors)
      && info->grain_sectors * 512u > 4096 && info->grain_sectors <= 65536)
    ex->preferred = info->grain_sectors * 512u;
  if ((desc = describe_disk (ex->disk))) {
    ex->desc = nbdkit_strdup_intern (desc);
    free (desc);
  }
  vdk_free_info (info);
  return ex;
fail:
  lib_error ();
  vdk_free_info (info);
  if (ex)
    vdk_close (ex->disk);
  free (ex);
  free (path);
  return NULL;
}

int
export_pin_default (void)
{
  char *path = disk_path (cfg.disk);
  struct export *ex = path ? export_open (path, !cfg.readonly) : NULL;
  if (!ex)
    return -1;
  ex->refs = 1;                     /* dropped by export_close_all */
  pthread_mutex_lock (&table_lock);
  ex->next = table;
  table = ex;
  pthread_mutex_unlock (&table_lock);
  return 0;
}

struct export *
export_get (int readonly, bool *conn_ro)
{
  bool ticket_ro;
  char *path = resolve (&ticket_ro);
  struct export *ex;
  bool want_rw;

  if (!path)
    return NULL;
  want_rw = !readonly && !ticket_ro && !cfg.readonly;
  pthread_mutex_lock (&table_lock);
  for (ex = table; ex; ex = ex->next)
    if (strcmp (ex->path, path) == 0)
      break;
  if (ex && want_rw && !ex->rw && !ex->forced_ro) {
    pthread_mutex_unlock (&table_lock);
    refuse (EBUSY, "%s: the disk is served read-only to other clients now",
            path);
    free (path);
    return NULL;
  }
  if (ex)
    free (path);
  else if ((ex = export_open (path, want_rw))) {
    ex->next = table;
    table = ex;
  }
  if (ex) {
    ex->refs++;
    *conn_ro = !want_rw || !ex->rw;
  }
  pthread_mutex_unlock (&table_lock);
  return ex;
}

static void
export_free (struct export *ex)
{
  if (vdk_close (ex->disk) == -1)
    nbdkit_error ("closing %s: %s", ex->path, vdk_last_error ());
  free (ex->path);
  free (ex);
}

void
export_put (struct export *ex)
{
  struct export **p;
  pthread_mutex_lock (&table_lock);
  if (--ex->refs > 0) {
    pthread_mutex_unlock (&table_lock);
    return;
  }
  for (p = &table; *p != ex; p = &(*p)->next)
    ;
  *p = ex->next;
  pthread_mutex_unlock (&table_lock);
  export_free (ex);
}

void
export_close_all (void)
{
  pthread_mutex_lock (&table_lock);
  while (table) {
    struct export *ex = table;
    table = ex->next;
    export_free (ex);
  }
  pthread_mutex_unlock (&table_lock);
}
