/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Information about an open disk, and its DDB metadata.
 *
 * Info comes from the top link's descriptor (geometry, adapter, CIDs,
 * uuid) and its extents; the link count from the open chain.  The info
 * owns copies of everything it points to (vdk.h conventions): it stays
 * valid after vdk_close, and its structs are reached through pointers
 * so that they can grow.  Metadata
 * calls read and write the top link's ddb.* entries; a set rewrites the
 * descriptor at once (atomically for a separate descriptor file). */
#include <errno.h>
#include <stdio.h>
#include <strings.h>

#include "ops/ops.h"

static uint32_t
ddb_u32 (const struct vdk_desc *d, const char *key)
{
  const char *v = d ? vdk__desc_get (d, key) : NULL;
  unsigned long long n = v ? strtoull (v, NULL, 10) : 0;
  return n > UINT32_MAX ? 0 : (uint32_t) n;
}

static char *
dup_or_null (const char *s)
{
  return s ? strdup (s) : NULL;
}

static int
fill_extents (struct vdk_link *l, struct vdk_info *in)
{
  in->extents = calloc (l->nextents, sizeof *in->extents);
  if (!in->extents)
    return -1;
  for (size_t i = 0; i < l->nextents; i++) {
    struct vdk_extent *e = &l->extents[i];
    struct vdk_extent_info *x = calloc (1, sizeof *x);
    if (!x)
      return -1;
    in->extents[in->num_extents++] = x;
    x->sectors = e->length / SECTOR;
    x->offset = e->file_offset / SECTOR;
    x->type = strdup (vdk__ext_kind_name (e->kind));
    x->access = strdup (vdk__access_name (e->access));
    if (!x->type || !x->access)
      return -1;
    if (!vdk__ext_can (e, VDK_FMT_NO_FILE)) {
      x->file = strdup (e->name);
      x->path = dup_or_null (e->path);
      if (!x->file || (e->path && !x->path))
        return -1;
    }
  }
  return 0;
}

static struct vdk_geometry *
geometry (const struct vdk_desc *d, const char *c, const char *h,
          const char *s)
{
  struct vdk_geometry *g = malloc (sizeof *g);
  if (g)
    *g = (struct vdk_geometry) { ddb_u32 (d, c), ddb_u32 (d, h),
                                 ddb_u32 (d, s) };
  return g;
}

static void
fill_grain (struct vdk_link *l, struct vdk_info *in)
{
  for (size_t i = 0; i < l->nextents; i++) {
    struct vdk_ext_params p;
    struct vdk_extent *e = &l->extents[i];
    if (!e->io || vdk__ext_params (e, &p) == -1 || !p.grain)
      continue;
    in->grain_sectors = p.grain;
    return;
  }
}

/* Host bytes of the link's files: a separate descriptor, then each
 * extent file once (the extents of a partitionedDevice share one). */
static uint64_t
allocated_bytes (const struct vdk_link *l)
{
  struct vdk_fs_stat st;
  uint64_t total = 0;

  if (l->desc && !l->embedded && vdk__fs_stat (l->path, &st) == 0)
    total += st.allocated;
  for (size_t i = 0; i < l->nextents; i++) {
    const struct vdk_extent *e = &l->extents[i];
    bool seen = false;
    if (!e->path)
      continue;
    for (size_t k = 0; k < i && !seen; k++)
      seen = l->extents[k].path && strcmp (l->extents[k].path, e->path) == 0;
    if (!seen && vdk__fs_stat (e->path, &st) == 0)
      total += st.allocated;
  }
  return total;
}

static int
link_unclean (struct vdk_link *l, int *unclean)
{
  for (size_t i = 0; i < l->nextents; i++) {
    bool u = false;
    if (vdk__ext_unclean (&l->extents[i], &u) == -1)
      return -1;
    *unclean |= u;
  }
  return 0;
}

/* remote: a remote disk's top link, whose information its server
 * described (disk/remote.c); NULL otherwise. */
static int
fill_info (struct vdk_link *l, int links, const struct vdk__remote *remote,
           struct vdk_info *in)
{
  const struct vdk_desc *d = l->desc ? l->desc
    : remote ? remote->desc : NULL;
  const char *a = d ? vdk__desc_get (d, "ddb.adapterType") : NULL;

  in->type = l->type;
  if (d && !l->desc && vdk__desc_get (d, "createType")) {
    int t = vdk_type_from_name (vdk__desc_get (d, "createType"));
    in->type = t >= 0 ? t : VDK_TYPE_CUSTOM;
  }
  in->create_type = strdup (d ? vdk__desc_get (d, "createType") : "raw");
  in->capacity = l->capacity;
  in->adapter = a ? vdk_adapter_from_name (a) : -1;
  in->hw_version = ddb_u32 (d, "ddb.virtualHWVersion");
  in->physical = geometry (d, "ddb.geometry.cylinders", "ddb.geometry.heads",
                           "ddb.geometry.sectors");
  in->bios = geometry (d, "ddb.geometry.biosCylinders",
                       "ddb.geometry.biosHeads", "ddb.geometry.biosSectors");
  in->links = links;
  in->depth = l->depth;
  in->path = strdup (l->path);
  in->cid = d ? vdk__desc_cid (d, "CID") : UINT32_MAX;
  in->parent_cid = d ? vdk__desc_cid (d, "parentCID") : UINT32_MAX;
  in->parent_hint = d ? dup_or_null (vdk__desc_get (d, "parentFileNameHint"))
    : NULL;
  in->has_parent = in->parent_hint != NULL;
  in->uuid = d ? dup_or_null (vdk__desc_get (d, "ddb.uuid")) : NULL;
  fill_grain (l, in);
  if (vdk__link_sector_sizes (l, &in->logical_sector_size,
                              &in->physical_sector_size) == -1)
    in->logical_sector_size = in->physical_sector_size = SECTOR;
  if (remote) {
    in->links = remote->links;
    in->grain_sectors = remote->grain_sectors;
    if (remote->physical_sector_size)
      in->physical_sector_size = remote->physical_sector_size;
  }
  in->thin_provisioned = d && vdk__desc_get (d, "ddb.thinProvisioned")
    && strcmp (vdk__desc_get (d, "ddb.thinProvisioned"), "1") == 0;
  in->allocated_bytes = allocated_bytes (l);
  if (!in->create_type || !in->physical || !in->bios || !in->path
      || (d && vdk__desc_get (d, "parentFileNameHint") && !in->parent_hint)
      || (d && vdk__desc_get (d, "ddb.uuid") && !in->uuid)
      || fill_extents (l, in) == -1)
    return vdk__err (ENOMEM, "out of memory");
  return link_unclean (l, &in->unclean);
}

VDK_API int
vdk_get_link_info (vdk_disk *disk, int depth, struct vdk_info **out)
{
  struct vdk_info *in;
  struct vdk_link *l;

  vdk__set_call ("vdk_get_link_info");
  if (!disk || !out)
    return vdk__err (EINVAL, "no disk");
  *out = NULL;
  if (depth < 0 || depth >= disk->nlinks)
    return vdk__err (EINVAL, "%s: no link at depth %d (the open chain has "
                     "%d)", disk->top->path, depth, disk->nlinks);
  for (l = disk->top; l->depth < depth; l = l->parent)
    ;
  if (!(in = calloc (1, sizeof *in)))
    return vdk__err (ENOMEM, "out of memory");
  if (fill_info (l, disk->nlinks - depth, depth == 0 ? disk->remote : NULL,
                 in) == -1) {
    vdk_free_info (in);
    return -1;
  }
  *out = in;
  return 0;
}

VDK_API int
vdk_get_info (vdk_disk *disk, struct vdk_info **out)
{
  vdk__set_call ("vdk_get_info");
  return vdk_get_link_info (disk, 0, out);
}

VDK_API void
vdk_free_info (struct vdk_info *in)
{
  if (!in)
    return;
  for (size_t i = 0; i < in->num_extents; i++) {
    free (in->extents[i]->file);
    free (in->extents[i]->path);
    free (in->extents[i]->type);
    free (in->extents[i]->access);
    free (in->extents[i]);
  }
  free (in->extents);
  free (in->create_type);
  free (in->physical);
  free (in->bios);
  free (in->parent_hint);
  free (in->uuid);
  free (in->path);
  free (in);
}

/* "adapterType" -> "ddb.adapterType" */
static char *
ddb_key (const char *key)
{
  size_t n = strlen (key) + 5;
  char *k;
  if (strncasecmp (key, "ddb.", 4) == 0)
    return strdup (key);
  if ((k = malloc (n)))
    snprintf (k, n, "ddb.%s", key);
  return k;
}

/* The descriptor metadata calls read: the top link's, or what a
 * remote disk's server described. */
static struct vdk_desc *
meta_desc (vdk_disk *disk)
{
  if (disk->top->desc)
    return disk->top->desc;
  return disk->remote ? disk->remote->desc : NULL;
}

static int
meta_check (vdk_disk *disk, const char *key)
{
  if (!disk || !key || !*key)
    return vdk__err (EINVAL, "no disk or key");
  if (!meta_desc (disk))
    return vdk__err (ENOTSUP, "%s: raw disks have no metadata",
                     disk->top->path);
  return 0;
}

VDK_API int
vdk_meta_get (vdk_disk *disk, const char *key, char **value)
{
  CLEANUP_FREE char *k = NULL;
  const char *v;

  vdk__set_call ("vdk_meta_get");
  if (meta_check (disk, key) == -1)
    return -1;
  if (!(k = ddb_key (key)))
    return vdk__err (ENOMEM, "out of memory");
  if (!(v = vdk__desc_get (meta_desc (disk), k)))
    return vdk__err (ENODATA, "%s: no key \"%s\"", disk->top->path, k);
  if (!(*value = strdup (v)))
    return vdk__err (ENOMEM, "out of memory");
  return 0;
}

VDK_API int
vdk_meta_set (vdk_disk *disk, const char *key, const char *value)
{
  CLEANUP_FREE char *k = NULL;

  vdk__set_call ("vdk_meta_set");
  if (meta_check (disk, key) == -1)
    return -1;
  if (!value || !vdk__desc_value_ok (value) || !vdk__desc_key_ok (key))
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "%s: a key may not hold "
                      "a quote, '=', blank or control character, nor a "
                      "value a quote or line break", disk->top->path);
  if (disk->remote)
    return vdk__errc (VDK_E_NOT_SUPPORTED_BY_TRANSPORT, ENOTSUP, "%s: "
                      "metadata writes are not supported by this transport "
                      "(%s)", disk->top->path, disk->transport);
  if (disk->flags & VDK_OPEN_READ_ONLY)
    return vdk__err (EROFS, "%s: disk is opened read-only", disk->top->path);
  if (!(k = ddb_key (key)))
    return vdk__err (ENOMEM, "out of memory");
  SCOPED_LOCK (&disk->top->lock);
  if (vdk__desc_set (disk->top->desc, k, value, true) == -1)
    return vdk__err (ENOMEM, "out of memory");
  return vdk__link_write_desc (disk->top);
}

VDK_API int
vdk_meta_keys (vdk_disk *disk, char ***keys)
{
  struct vdk_desc *d;
  char **k;

  vdk__set_call ("vdk_meta_keys");
  if (meta_check (disk, "x") == -1)
    return -1;
  d = meta_desc (disk);
  if (!(k = calloc (d->nddb + 1, sizeof *k)))
    return vdk__err (ENOMEM, "out of memory");
  for (size_t i = 0; i < d->nddb; i++)
    if (!(k[i] = strdup (d->ddb[i].key))) {
      vdk_free_strings (k);
      return vdk__err (ENOMEM, "out of memory");
    }
  *keys = k;
  return 0;
}

VDK_API void
vdk_free_strings (char **s)
{
  if (!s)
    return;
  for (size_t i = 0; s[i]; i++)
    free (s[i]);
  free (s);
}
