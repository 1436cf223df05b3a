/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* describe.c - the disk's information as the export description.
 *
 * NBD carries only an export's size and its extents.  The rest of what
 * vdk_get_info and the metadata calls return (create type, adapter,
 * geometry, hardware version, uuid, CIDs, the DDB) travels in the
 * export description (NBD_INFO_DESCRIPTION), as one JSON object, so a
 * vdk client can answer those calls for a remote disk and `nbdinfo
 * --json` shows it.  The layout (read by lib/conn/describe.c):
 *
 *   {"vdk":1, "type":"monolithicSparse", "capacity":N,
 *    "adapter":"lsilogic", "hw_version":N,
 *    "geometry":{"cylinders":C,"heads":H,"sectors":S},
 *    "bios_geometry":{...}, "links":N, "uuid":"..."|null,
 *    "cid":N, "parent_cid":N, "has_parent":true|false,
 *    "parent_hint":"..."|null, "grain_sectors":N,
 *    "physical_sector_size":N, "thin":true|false,
 *    "ddb":{"ddb.key":"value", ...}, "ddb_complete":true|false}
 *
 * The protocol caps a description at 4096 bytes: the fixed part always
 * fits; DDB entries are added while they fit and "ddb_complete" says
 * whether all did. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"

#define DESC_MAX 4000

struct buf {
  char s[DESC_MAX + 1];
  size_t n;
  bool full;
};

static void
put (struct buf *b, const char *fmt, ...)
{
  va_list ap;
  int n;
  if (b->full)
    return;
  va_start (ap, fmt);
  n = vsnprintf (b->s + b->n, sizeof b->s - b->n, fmt, ap);
  va_end (ap);
  if (n < 0 || (size_t) n >= sizeof b->s - b->n)
    b->full = true;
  else
    b->n += n;
}

/* A JSON string, or null. */
static void
put_str (struct buf *b, const char *s)
{
  if (!s) {
    put (b, "null");
    return;
  }
  put (b, "\"");
  for (; *s; s++) {
    unsigned char c = *s;
    if (c == '"' || c == '\\')
      put (b, "\\%c", c);
    else if (c < 0x20)
      put (b, "\\u%04x", c);
    else
      put (b, "%c", c);
  }
  put (b, "\"");
}

static void
put_geometry (struct buf *b, const char *key, const struct vdk_geometry *g)
{
  put (b, ",\"%s\":{\"cylinders\":%" PRIu32 ",\"heads\":%" PRIu32
       ",\"sectors\":%" PRIu32 "}", key, g->cylinders, g->heads, g->sectors);
}

static void
put_info (struct buf *b, const struct vdk_info *i)
{
  put (b, "{\"vdk\":1,\"type\":");
  put_str (b, i->create_type);
  put (b, ",\"capacity\":%" PRIu64 ",\"adapter\":", i->capacity);
  put_str (b, i->adapter >= 0 ? vdk_adapter_name (i->adapter) : NULL);
  put (b, ",\"hw_version\":%" PRIu32, i->hw_version);
  put_geometry (b, "geometry", i->physical);
  put_geometry (b, "bios_geometry", i->bios);
  put (b, ",\"links\":%d,\"uuid\":", i->links);
  put_str (b, i->uuid);
  put (b, ",\"cid\":%" PRIu32 ",\"parent_cid\":%" PRIu32 ",\"has_parent\":%s"
       ",\"parent_hint\":", i->cid, i->parent_cid,
       i->has_parent ? "true" : "false");
  put_str (b, i->parent_hint);
  put (b, ",\"grain_sectors\":%" PRIu32 ",\"physical_sector_size\":%" PRIu32
       ",\"thin\":%s", i->grain_sectors, i->physical_sector_size,
       i->thin_provisioned ? "true" : "false");
}

/* Add the DDB entries that fit; returns whether all did. */
static bool
put_ddb (struct buf *b, vdk_disk *disk)
{
  char **keys = NULL;
  bool complete = true;
  size_t first = 1;

  put (b, ",\"ddb\":{");
  if (vdk_meta_keys (disk, &keys) == 0) {
    for (size_t k = 0; keys[k]; k++) {
      char *value = NULL;
      size_t mark = b->n;
      if (vdk_meta_get (disk, keys[k], &value) == -1)
        continue;
      if (!first)
        put (b, ",");
      put_str (b, keys[k]);
      put (b, ":");
      put_str (b, value);
      free (value);
      /* room for the closing "},"ddb_complete":false}" */
      if (b->full || b->n > DESC_MAX - 32) {
        b->n = mark;
        b->s[mark] = '\0';
        b->full = false;
        complete = false;
        break;
      }
      first = 0;
    }
  }
  vdk_free_strings (keys);
  put (b, "}");
  return complete;
}

char *
describe_disk (vdk_disk *disk)
{
  struct vdk_info *info = NULL;
  struct buf *b = calloc (1, sizeof *b);
  char *out = NULL;

  if (!b || vdk_get_info (disk, &info) == -1)
    goto out;
  put_info (b, info);
  if (!b->full) {
    bool complete = put_ddb (b, disk);
    put (b, ",\"ddb_complete\":%s}", complete ? "true" : "false");
  }
  if (!b->full)
    out = strdup (b->s);
out:
  vdk_free_info (info);
  free (b);
  return out;
}
