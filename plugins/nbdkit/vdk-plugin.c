/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdk-plugin.c - nbdkit-vdk-plugin: export any disk vdk opens over NBD.
 *
 *   nbdkit vdk disk=child.vmdk
 *   nbdkit vdk datastore=ds1=/srv/vms [datastore=...] [tickets=DIR]
 *              [format=raw|vmdk] [readonly=true] [allow-external=true]
 *
 * nbdkit does the protocol, TLS, sockets and threads; this file maps
 * its callbacks onto the public vdk API and nothing else.  A whole
 * chain is exported flattened: reads fall through to parents on the
 * server, extents report HOLE|ZERO where no link holds data and ZERO
 * for zeroed grains, so clients copy only data.
 *
 * Thread model PARALLEL: a vdk_disk may be used from many threads at
 * once (include/vdk.h), so requests of all connections run in
 * parallel on the one shared handle (exports.c).  Multi-conn is
 * advertised because of that sharing: a flush on any connection
 * flushes the handle every connection writes through.  FUA is emulated
 * by nbdkit (write, then flush).
 *
 * Block sizes: minimum 512 (every VMDK is a whole number of sectors; a
 * raw image that is not gets 1), preferred the grain size when larger
 * than 4096 (a write of a whole grain needs no fill from the parent),
 * maximum 32 MiB. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include "plugin.h"

#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL
#define MAX_REQUEST (32u << 20)
/* Extents returned per request at most; clients ask again from where
 * the reply stopped. */
#define MAX_EXTENTS 16384

struct plugin_config cfg;

/* A connection: the shared disk, whether this client may write, and
 * the ticket it came with (tickets=DIR). */
struct conn {
  struct export *ex;
  bool ro;
  struct grant *grant;
};

/* ---- configuration ---- */

static void
vdk_plugin_log (const char *fmt, va_list ap)
{
  nbdkit_vdebug (fmt, ap);
}

static void
vdk_plugin_load (void)
{
  vdk_init (vdk_plugin_log, vdk_plugin_log, NULL);
}

static void
vdk_plugin_unload (void)
{
  watch_stop ();
  export_close_all ();
  free (cfg.tickets);
  for (size_t i = 0; i < cfg.nds; i++) {
    free (cfg.ds[i].name);
    free (cfg.ds[i].dir);
  }
  free (cfg.ds);
  vdk_exit ();
}

static int
add_datastore (const char *value)
{
  const char *eq = strchr (value, '=');
  struct datastore *n;
  char *dir;

  if (!eq || eq == value || strchr (value, ']') || strchr (value, '[')) {
    nbdkit_error ("datastore=%s: expected NAME=DIR", value);
    return -1;
  }
  if (!(dir = realpath (eq + 1, NULL))) {
    nbdkit_error ("datastore %s: %m", eq + 1);
    return -1;
  }
  if (!(n = realloc (cfg.ds, (cfg.nds + 1) * sizeof *n))) {
    free (dir);
    nbdkit_error ("out of memory");
    return -1;
  }
  cfg.ds = n;
  cfg.ds[cfg.nds].dir = dir;
  if (!(cfg.ds[cfg.nds].name = strndup (value, eq - value))) {
    free (dir);
    nbdkit_error ("out of memory");
    return -1;
  }
  cfg.nds++;
  return 0;
}

static int
vdk_plugin_config (const char *key, const char *value)
{
  if (strcmp (key, "disk") == 0)
    cfg.disk = value;          /* nbdkit keeps config strings alive */
  else if (strcmp (key, "datastore") == 0)
    return add_datastore (value);
  else if (strcmp (key, "tickets") == 0) {
    /* Canonical now: a daemon nbdkit changes to / after it forks. */
    free (cfg.tickets);
    if (!(cfg.tickets = realpath (value, NULL))) {
      nbdkit_error ("tickets=%s: %m", value);
      return -1;
    }
  } else if (strcmp (key, "format") == 0) {
    if (strcmp (value, "raw") == 0)
      cfg.format = VDK_OPEN_FORMAT_RAW;
    else if (strcmp (value, "vmdk") == 0)
      cfg.format = VDK_OPEN_FORMAT_VMDK;
    else if (strcmp (value, "auto") == 0)
      cfg.format = 0;
    else {
      nbdkit_error ("format=%s: expected raw, vmdk or auto", value);
      return -1;
    }
  }
  else if (strcmp (key, "allow-external") == 0) {
    int b = nbdkit_parse_bool (value);
    if (b == -1)
      return -1;
    cfg.allow_external = b;
  } else if (strcmp (key, "readonly") == 0) {
    int b = nbdkit_parse_bool (value);
    if (b == -1)
      return -1;
    cfg.readonly = b;
  } else {
    nbdkit_error ("unknown parameter '%s'", key);
    return -1;
  }
  return 0;
}

static int
vdk_plugin_config_complete (void)
{
  if (!cfg.disk && !cfg.nds && !cfg.tickets) {
    nbdkit_error ("give disk=PATH, datastore=NAME=DIR or tickets=DIR");
    return -1;
  }
  return 0;
}

/* The default export is opened once the server has forked (nbdkit's
 * advice: no threads before the fork) and stays open; the ticket
 * watcher starts then too. */
static int
vdk_plugin_after_fork (void)
{
  if (cfg.tickets)
    return watch_start ();
  if (cfg.disk)
    return export_pin_default ();
  return 0;
}

#define vdk_plugin_config_help \
  "disk=PATH               The disk served as the default export.\n" \
  "datastore=NAME=DIR      Serve disks under DIR as \"[NAME] path\".\n" \
  "tickets=DIR             Serve only the live tickets in DIR.\n" \
  "allow-external=BOOL     Let descriptors name files outside their folder.\n" \
  "readonly=BOOL           Open every disk read-only.\n" \
  "format=raw|vmdk|auto    Open every disk as this format (default: probe)."

/* ---- connections ---- */

static void *
vdk_plugin_open (int readonly)
{
  struct conn *c = calloc (1, sizeof *c);
  if (!c) {
    nbdkit_error ("out of memory");
    return NULL;
  }
  if (!(c->ex = export_get (readonly, &c->ro, &c->grant))) {
    free (c);
    return NULL;
  }
  return c;
}

static void
vdk_plugin_close (void *handle)
{
  struct conn *c = handle;
  export_put (c->ex, c->grant);
  free (c);
}

static int
lib_error (void)
{
  int e = vdk_last_errno ();
  nbdkit_error ("%s", vdk_last_error ());
  switch (vdk_last_error_code ()) {
  case VDK_E_OUT_OF_RANGE: e = EINVAL; break;
  case VDK_E_NO_SPACE: e = ENOSPC; break;
  case VDK_E_READ_ONLY: e = EPERM; break;
  default: break;
  }
  nbdkit_set_error (e ? e : EIO);
  return -1;
}

static int64_t
vdk_plugin_get_size (void *handle)
{
  struct conn *c = handle;
  return (int64_t) vdk_capacity (c->ex->disk);
}

static const char *
vdk_plugin_export_description (void *handle)
{
  struct conn *c = handle;
  return c->ex->desc;
}

static int
vdk_plugin_block_size (void *handle, uint32_t *minimum, uint32_t *preferred,
                       uint32_t *maximum)
{
  struct conn *c = handle;
  *minimum = vdk_capacity (c->ex->disk) % 512 ? 1 : 512;
  *preferred = c->ex->preferred;
  *maximum = MAX_REQUEST;
  return 0;
}

static int
vdk_plugin_can_write (void *handle)
{
  struct conn *c = handle;
  return !c->ro;
}

static int
vdk_plugin_yes (void *handle)
{
  return 1;
}

static int
vdk_plugin_can_fua (void *handle)
{
  return NBDKIT_FUA_EMULATE;
}

static int
vdk_plugin_thread_model (void)
{
  return THREAD_MODEL;
}

/* ---- data ---- */

/* Every request of a connection whose ticket has expired or been
 * revoked fails: ESHUTDOWN, "the server will not serve this any more"
 * (vdk's client reports it as an ended ticket). */
static bool
ended (struct conn *c)
{
  if (!c->grant || !grant_ended (c->grant))
    return false;
  nbdkit_error ("the ticket of this connection has expired or was "
                "revoked: access ended");
  nbdkit_set_error (ESHUTDOWN);
  return true;
}

static int
vdk_plugin_pread (void *handle, void *buf, uint32_t count, uint64_t offset,
                  uint32_t flags)
{
  struct conn *c = handle;
  if (ended (c))
    return -1;
  return vdk_pread (c->ex->disk, buf, count, offset) == -1 ? lib_error () : 0;
}

static int
vdk_plugin_pwrite (void *handle, const void *buf, uint32_t count,
                   uint64_t offset, uint32_t flags)
{
  struct conn *c = handle;
  if (ended (c))
    return -1;
  return vdk_pwrite (c->ex->disk, buf, count, offset) == -1
    ? lib_error () : 0;
}

static int
vdk_plugin_flush (void *handle, uint32_t flags)
{
  struct conn *c = handle;
  if (ended (c))
    return -1;
  return vdk_flush (c->ex->disk) == -1 ? lib_error () : 0;
}

static int
vdk_plugin_zero (void *handle, uint32_t count, uint64_t offset,
                 uint32_t flags)
{
  struct conn *c = handle;
  unsigned zf = ((flags & NBDKIT_FLAG_MAY_TRIM) ? VDK_ZERO_MAY_TRIM : 0)
    | ((flags & NBDKIT_FLAG_FAST_ZERO) ? VDK_ZERO_FAST : 0);

  if (ended (c))
    return -1;
  if (vdk_zero_ex (c->ex->disk, offset, count, zf) == 0)
    return 0;
  if ((flags & NBDKIT_FLAG_FAST_ZERO)
      && vdk_last_error_code () == VDK_E_UNSUPPORTED) {
    nbdkit_set_error (ENOTSUP);     /* the client writes zeroes instead */
    return -1;
  }
  return lib_error ();
}

static int
vdk_plugin_trim (void *handle, uint32_t count, uint64_t offset,
                 uint32_t flags)
{
  struct conn *c = handle;
  if (ended (c))
    return -1;
  return vdk_trim (c->ex->disk, offset, count) == -1 ? lib_error () : 0;
}

static int
vdk_plugin_extents (void *handle, uint32_t count, uint64_t offset,
                    uint32_t flags, struct nbdkit_extents *extents)
{
  struct conn *c = handle;
  uint64_t end = offset + count;     /* nbdkit checked the range */
  unsigned n = 0;

  if (ended (c))
    return -1;
  while (offset < end && n++ < MAX_EXTENTS) {
    uint64_t len;
    int state;
    uint32_t type;
    if (vdk_block_status (c->ex->disk, offset, end - offset, 0, &len,
                          &state, NULL) == -1)
      return lib_error ();
    type = state == VDK_BLOCK_DATA ? 0
      : state == VDK_BLOCK_ZERO ? NBDKIT_EXTENT_ZERO
      : NBDKIT_EXTENT_HOLE | NBDKIT_EXTENT_ZERO;
    if (nbdkit_add_extent (extents, offset, len, type) == -1)
      return -1;
    offset += len;
    if (flags & NBDKIT_FLAG_REQ_ONE)
      break;
  }
  return 0;
}

/* ---- export names ---- */

static int
vdk_plugin_list_exports (int readonly, int is_tls,
                         struct nbdkit_exports *exports)
{
  /* Tickets and datastore paths are never listed. */
  if (cfg.disk && !cfg.tickets)
    return nbdkit_add_export (exports, "", NULL);
  return 0;
}

static const char *
vdk_plugin_default_export (int readonly, int is_tls)
{
  return "";
}

static struct nbdkit_plugin plugin = {
  .name = "vdk",
  .longname = "vdk virtual disk plugin (VMDK in every subformat, raw, "
              "chains)",
  .version = VDK_VERSION_STRING,
  .description = "Export any disk vdk opens: VMDK of every subformat, raw "
                 "images, whole child chains.",
  .load = vdk_plugin_load,
  .unload = vdk_plugin_unload,
  .config = vdk_plugin_config,
  .config_complete = vdk_plugin_config_complete,
  .config_help = vdk_plugin_config_help,
  .magic_config_key = "disk",
  .after_fork = vdk_plugin_after_fork,
  .thread_model = vdk_plugin_thread_model,
  .open = vdk_plugin_open,
  .close = vdk_plugin_close,
  .get_size = vdk_plugin_get_size,
  .export_description = vdk_plugin_export_description,
  .block_size = vdk_plugin_block_size,
  .can_write = vdk_plugin_can_write,
  .can_flush = vdk_plugin_yes,
  .can_trim = vdk_plugin_can_write,
  .can_zero = vdk_plugin_can_write,
  .can_fast_zero = vdk_plugin_yes,
  .can_fua = vdk_plugin_can_fua,
  .can_multi_conn = vdk_plugin_yes,
  .can_extents = vdk_plugin_yes,
  .pread = vdk_plugin_pread,
  .pwrite = vdk_plugin_pwrite,
  .flush = vdk_plugin_flush,
  .zero = vdk_plugin_zero,
  .trim = vdk_plugin_trim,
  .extents = vdk_plugin_extents,
  .list_exports = vdk_plugin_list_exports,
  .default_export = vdk_plugin_default_export,
  .errno_is_preserved = 0,
};

NBDKIT_REGISTER_PLUGIN (plugin)
