/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin.h - the pieces of the vdk nbdkit plugin (plugins/nbdkit/).
 *
 * The plugin is a consumer of libvdk like any other: it uses only the
 * public API (include/vdk.h).  vdk-plugin.c holds the nbdkit callbacks,
 * exports.c turns export names into disks (one disk, datastores,
 * tickets) and keeps the table of open disks, describe.c writes the
 * export description (the disk's information as JSON). */
#ifndef VDK_PLUGIN_H
#define VDK_PLUGIN_H

#include <stdbool.h>
#include <stdint.h>

#include <vdk.h>

#define IS_POW2(x) ((x) != 0 && ((x) & ((x) - 1)) == 0)

/* Server configuration, filled by .config (vdk-plugin.c). */
struct datastore {
  char *name;            /* as in "[name] path" */
  char *dir;             /* canonical folder (realpath) */
};
struct plugin_config {
  const char *disk;      /* disk=: the default export, or NULL */
  struct datastore *ds;  /* datastore=NAME=DIR, repeatable */
  size_t nds;
  char *tickets;         /* tickets=DIR (canonical): serve only live
                            tickets */
  bool allow_external;   /* allow-external=true */
  bool readonly;         /* readonly=true (vdk serve -r): open disks
                            read-only, so local readers may share them */
  unsigned format;       /* format=raw|vmdk: VDK_OPEN_FORMAT_RAW or
                            _VMDK for every disk served; 0 probes */
};
extern struct plugin_config cfg;

/* One open disk, shared by every connection to it (exports.c). */
struct export {
  char *path;            /* canonical path it was opened by */
  bool rw;               /* opened for writing */
  bool forced_ro;        /* a format vdk exports read-only (stream) */
  vdk_disk *disk;
  unsigned refs;         /* connections using it, plus the holds */
  bool held;             /* the server holds it until it stops (the
                            default export, datastore disks written) */
  char *desc;            /* JSON description (NULL: none), owned */
  uint32_t preferred;    /* preferred block size */
  struct export *next;
};

/* One ticket in use (tickets=DIR): what its connections check on every
 * request, and the hold a read-write ticket keeps on its disk. */
struct grant;

/* Open (or share) the disk the current export name names, for a
 * connection that is read-only if `readonly`.  NULL with nbdkit_error
 * and nbdkit_set_error called.  *conn_ro tells whether this connection
 * must refuse writes; *grant is the ticket it came with (NULL without
 * tickets), to be given back to export_put. */
struct export *export_get (int readonly, bool *conn_ro,
                           struct grant **grant);
/* Open the disk= export at startup and hold it until unload, so a
 * served disk is locked against other writers for the server's whole
 * life (not only while clients are connected).  -1 on failure. */
int export_pin_default (void);
/* Drop one connection's references; the last reference to a disk
 * flushes and closes it. */
void export_put (struct export *ex, struct grant *grant);
/* Has the ticket behind this connection expired or been revoked?
 * Cheap enough for every request (an atomic load and time()). */
bool grant_ended (struct grant *grant);
/* The ticket watcher (tickets=DIR): a thread that re-reads every ticket
 * in use each TICKET_WATCH_MS, ends the dead ones' access and releases
 * their holds.  Started after nbdkit forks, stopped at unload. */
#define TICKET_WATCH_MS 500
int watch_start (void);
void watch_stop (void);
/* Close every disk still open (unload). */
void export_close_all (void);

/* The JSON description of an open disk (describe.c); NULL on failure
 * (the disk is served without a description then). */
char *describe_disk (vdk_disk *disk);

#endif /* VDK_PLUGIN_H */
