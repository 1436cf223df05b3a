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
 * connections itself).  The last reference's close flushes and closes
 * the disk.
 *
 * Holding.  A disk served read-write stays open, and so locked against
 * every other writer, for as long as the server offers it for writing,
 * not only while a client is connected: clients reconnect (nbdinfo
 * probes, then nbdcopy connects), and a local writer slipping into the
 * gap would change the disk under a client that believes it owns it.
 * So the server keeps a reference of its own (a hold):
 * - the default export (disk=): from start to stop;
 * - a datastore disk first opened for writing: until the server stops
 *   (a datastore of many disks holds only those clients wrote to);
 * - a disk reached through a read-write ticket: until the ticket
 *   expires or is revoked, as a VDDK ticket leases its disk.
 * A disk opened read-only is not held: the next client opens it again
 * and sees what was written meanwhile (nothing is cached across opens,
 * so that gap is safe).
 *
 * Tickets end while in use.  A ticket is checked at connect and then
 * watched: a thread re-reads every ticket in use each TICKET_WATCH_MS,
 * and one that is gone (revoked), expired or damaged ends its grant:
 * every request of its connections then fails with ESHUTDOWN (checked
 * per request, with the expiry time itself, so an expiry is exact and a
 * revocation takes effect within one watch period), and its hold is
 * released.
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

/* A ticket in use; listed in `grants` until it ends. */
struct grant {
  char id[TICKET_ID_LEN + 1];
  int64_t expires;       /* as the ticket said at first use */
  bool ended;            /* atomic: revoked, expired or damaged */
  struct export *held;   /* the disk a read-write ticket holds, or NULL */
  unsigned refs;         /* connections, the list, the watcher */
  struct grant *next;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct export *table;     /* open disks */
static struct grant *grants;     /* tickets in use, not ended */

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
  /* An RBD image (rbd:POOL/IMAGE) is no file: its name is the disk's. */
  if (strncasecmp (name, "rbd:", 4) == 0) {
    if (!(real = strdup (name)))
      refuse (ENOMEM, "out of memory");
    return real;
  }
  if (!(real = realpath (name, NULL)))
    refuse (ENOENT, "disk %s is gone", name);
  return real;
}

/* The export name of this connection as a disk path and a mode; with
 * tickets, the ticket's expiry in *expires. */
static char *
resolve (bool *ticket_ro, int64_t *expires)
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
    *expires = t.expires;
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
    | (cfg.allow_external ? VDK_OPEN_ALLOW_EXTERNAL : 0) | cfg.format;
  struct vdk_info *info = NULL;

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
  /* Owned by the export, not interned: nbdkit frees an interned string
   * when the connection that made it closes, and the export outlives
   * the connection that opened it (other connections, holds). */
  ex->desc = describe_disk (ex->disk);
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
  ex->refs = 1;                     /* the hold, dropped at unload */
  ex->held = true;
  pthread_mutex_lock (&table_lock);
  ex->next = table;
  table = ex;
  pthread_mutex_unlock (&table_lock);
  return 0;
}

/* The grant of ticket `id` (the export name), listed; a new one if the
 * ticket is not in use yet.  NULL when out of memory.  table_lock held. */
static struct grant *
grant_get_locked (const char *id, int64_t expires)
{
  struct grant *g;
  for (g = grants; g; g = g->next)
    if (strcmp (g->id, id) == 0)
      break;
  if (!g) {
    if (!(g = calloc (1, sizeof *g)))
      return NULL;
    snprintf (g->id, sizeof g->id, "%s", id);   /* checked: 64 hex */
    g->expires = expires;
    g->refs = 1;                    /* the list's */
    g->next = grants;
    grants = g;
  }
  g->refs++;
  return g;
}

/* Drop a reference; frees an ended grant's memory with the last.
 * table_lock held. */
static void
grant_unref_locked (struct grant *g)
{
  if (--g->refs == 0)
    free (g);
}

/* Drop one reference to ex; returns ex if that was the last (unlinked
 * from the table, to be freed by the caller outside the lock).
 * table_lock held. */
static struct export *
export_unref_locked (struct export *ex)
{
  struct export **p;
  if (--ex->refs > 0)
    return NULL;
  for (p = &table; *p != ex; p = &(*p)->next)
    ;
  *p = ex->next;
  return ex;
}

static void export_free (struct export *ex);

/* Take the hold a read-write open calls for (see "Holding").
 * table_lock held. */
static void
hold_locked (struct export *ex, struct grant *g, bool want_rw)
{
  if (!want_rw || !ex->rw)
    return;
  if (g) {
    if (!g->held) {
      g->held = ex;
      ex->refs++;
    }
  } else if (!ex->held) {
    ex->held = true;
    ex->refs++;
  }
}

struct export *
export_get (int readonly, bool *conn_ro, struct grant **gp)
{
  bool ticket_ro;
  int64_t expires = 0;
  char *path = resolve (&ticket_ro, &expires);
  struct export *ex;
  struct grant *g = NULL;
  bool want_rw;

  *gp = NULL;
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
  if (cfg.tickets
      && !(g = grant_get_locked (nbdkit_export_name (), expires))) {
    pthread_mutex_unlock (&table_lock);
    refuse (ENOMEM, "out of memory");
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
    hold_locked (ex, g, want_rw);
    *gp = g;
  } else if (g)
    grant_unref_locked (g);
  pthread_mutex_unlock (&table_lock);
  return ex;
}

static void
export_free (struct export *ex)
{
  if (!ex)
    return;
  if (vdk_close (ex->disk) == -1)
    nbdkit_error ("closing %s: %s", ex->path, vdk_last_error ());
  free (ex->desc);
  free (ex->path);
  free (ex);
}

void
export_put (struct export *ex, struct grant *g)
{
  struct export *last;
  pthread_mutex_lock (&table_lock);
  if (g)
    grant_unref_locked (g);
  last = export_unref_locked (ex);
  pthread_mutex_unlock (&table_lock);
  export_free (last);               /* flush and close outside the lock */
}

bool
grant_ended (struct grant *g)
{
  return __atomic_load_n (&g->ended, __ATOMIC_ACQUIRE)
    || (int64_t) time (NULL) >= g->expires;
}

/* ---- the ticket watcher ---- */

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watch_cond;
static bool watch_stopping, watch_running;
static pthread_t watch_thread;

/* Is ticket `id` still there, well-formed and unexpired? */
static bool
ticket_live (const char *id)
{
  struct ticket t;
  const char *why;
  if (ticket_load (cfg.tickets, id, &t, &why) == -1) {
    nbdkit_debug ("vdk: ticket %.8s...: %s", id,
                  errno == ENOENT ? "revoked" : why);
    return false;
  }
  return t.expires > (int64_t) time (NULL);
}

/* End grant g: its connections' requests fail from now on, and its
 * hold goes.  Returns the export to free, if that was its last
 * reference.  table_lock held. */
static struct export *
grant_end_locked (struct grant *g)
{
  struct grant **p;
  struct export *held = g->held;

  __atomic_store_n (&g->ended, true, __ATOMIC_RELEASE);
  for (p = &grants; *p && *p != g; p = &(*p)->next)
    ;
  if (*p) {
    *p = g->next;
    grant_unref_locked (g);         /* the list's reference */
  }
  g->held = NULL;
  return held ? export_unref_locked (held) : NULL;
}

/* One round: check every grant (file reads outside the lock, each
 * grant pinned meanwhile by a reference of the watcher's own). */
static void
watch_once (void)
{
  struct grant **snap = NULL, *g;
  size_t n = 0, i;

  pthread_mutex_lock (&table_lock);
  for (g = grants; g; g = g->next)
    n++;
  if (n && (snap = malloc (n * sizeof *snap))) {
    for (i = 0, g = grants; g; g = g->next, i++) {
      snap[i] = g;
      g->refs++;
    }
  }
  pthread_mutex_unlock (&table_lock);
  if (!snap)
    return;                          /* nothing to watch (or no memory) */
  for (i = 0; i < n; i++) {
    struct export *last = NULL;
    bool live = ticket_live (snap[i]->id);
    pthread_mutex_lock (&table_lock);
    if (!live && !snap[i]->ended) {
      nbdkit_debug ("vdk: ticket %.8s... ended: its connections' requests "
                    "fail from now on", snap[i]->id);
      last = grant_end_locked (snap[i]);
    }
    grant_unref_locked (snap[i]);
    pthread_mutex_unlock (&table_lock);
    export_free (last);
  }
  free (snap);
}

static void *
watcher (void *arg)
{
  pthread_mutex_lock (&watch_lock);
  while (!watch_stopping) {
    struct timespec until;
    clock_gettime (CLOCK_MONOTONIC, &until);
    until.tv_nsec += (TICKET_WATCH_MS % 1000) * 1000000L;
    until.tv_sec += TICKET_WATCH_MS / 1000 + until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    while (!watch_stopping
           && pthread_cond_timedwait (&watch_cond, &watch_lock,
                                      &until) != ETIMEDOUT)
      ;
    if (watch_stopping)
      break;
    pthread_mutex_unlock (&watch_lock);
    watch_once ();
    pthread_mutex_lock (&watch_lock);
  }
  pthread_mutex_unlock (&watch_lock);
  return arg;
}

int
watch_start (void)
{
  pthread_condattr_t ca;
  int e;

  pthread_condattr_init (&ca);
  pthread_condattr_setclock (&ca, CLOCK_MONOTONIC);
  pthread_cond_init (&watch_cond, &ca);
  pthread_condattr_destroy (&ca);
  if ((e = pthread_create (&watch_thread, NULL, watcher, NULL)) != 0) {
    nbdkit_error ("cannot start the ticket watcher: %s", strerror (e));
    return -1;
  }
  watch_running = true;
  return 0;
}

void
watch_stop (void)
{
  if (!watch_running)
    return;
  pthread_mutex_lock (&watch_lock);
  watch_stopping = true;
  pthread_cond_signal (&watch_cond);
  pthread_mutex_unlock (&watch_lock);
  pthread_join (watch_thread, NULL);
  pthread_cond_destroy (&watch_cond);
  watch_running = false;
}

/* Unload: no connection is left, so every grant and disk goes. */
void
export_close_all (void)
{
  pthread_mutex_lock (&table_lock);
  while (grants) {
    struct grant *g = grants;
    grants = g->next;
    free (g);
  }
  while (table) {
    struct export *ex = table;
    table = ex->next;
    export_free (ex);
  }
  pthread_mutex_unlock (&table_lock);
}
