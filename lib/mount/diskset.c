/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Disk sets: the member disks, their reads, scan warnings and the list
 * of volumes with the strings each volume owns.
 *
 * A member is an open vdk_disk (owned by the set, or borrowed with
 * VDK_DISKSET_BORROW: then the caller closes it) or, for the fuzz
 * targets, a memory buffer (not owned).  Parsers read members only
 * through vdk__vol_read, which checks the range against the member's size so
 * that no number taken from disk can make us read outside it.
 *
 * Errors: the public calls name themselves with vdk__set_call(); the
 * vdk_pread they make is nested, so its error stays theirs, and
 * vdk__vol_read puts the member's name in front of its message.
 *
 * Locking: none.  The header's contract says add/scan/close must not
 * race with other calls on the same set. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mount-internal.h"

/* Name the member whose read failed. */
static int
rethrow (struct vdk__vol_disk *md)
{
  return vdk__err_prefix ("%s", md->name);
}

static int
check_range (struct vdk_diskset *set, size_t d, uint64_t len, uint64_t off)
{
  uint64_t end;

  if (d >= set->ndisks)
    return vdk__err (ENXIO, "disk %zu is not in the set", d + 1);
  if (ADD_OVERFLOW (off, len, &end) || end > set->disks[d].size)
    return vdk__errc (VDK_E_CORRUPT, EIO, "%s: read of %" PRIu64
                      " bytes at %" PRIu64 " lies beyond the end of the "
                      "disk (%" PRIu64 ")", set->disks[d].name, len, off,
                      set->disks[d].size);
  return 0;
}

int
vdk__vol_read (struct vdk_diskset *set, size_t d, void *buf, uint64_t len,
         uint64_t off)
{
  struct vdk__vol_disk *md;

  if (check_range (set, d, len, off) == -1)
    return -1;
  md = &set->disks[d];
  if (md->mem) {
    memcpy (buf, md->mem + off, len);
    return 0;
  }
  if (len > SIZE_MAX)
    return vdk__err (EINVAL, "read too large");
  if (vdk_pread (md->disk, buf, (size_t) len, off) == -1)
    return rethrow (md);
  return 0;
}

int
vdk__vol_write (struct vdk_diskset *set, size_t d, const void *buf, uint64_t len,
          uint64_t off)
{
  struct vdk__vol_disk *md;

  if (check_range (set, d, len, off) == -1)
    return -1;
  md = &set->disks[d];
  if (md->mem)
    return vdk__err (EROFS, "%s: memory disks are read-only", md->name);
  if (vdk_pwrite (md->disk, buf, (size_t) len, off) == -1)
    return rethrow (md);
  return 0;
}

void
vdk__vol_warn (struct vdk_diskset *set, const char *fmt, ...)
{
  char *msg = NULL, **w;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  if (!msg)
    return;
  w = realloc (set->warnings, (set->nwarnings + 1) * sizeof *w);
  if (!w) {
    free (msg);
    return;
  }
  set->warnings = w;
  w[set->nwarnings++] = msg;
  vdk__info ("%s", msg);
}

/* ---- volumes ---------------------------------------------------------- */

struct vdk__vol *
vdk__vol_new (struct vdk_diskset *set, const char *kind, const char *layout)
{
  struct vdk__vol *v, **vols;

  v = calloc (1, sizeof *v);
  vols = realloc (set->vols, (set->nvols + 1) * sizeof *vols);
  if (!v || !vols) {
    free (v);
    if (vols)
      set->vols = vols;
    vdk__err (ENOMEM, "out of memory");
    return NULL;
  }
  set->vols = vols;
  v->info.index = set->nvols;
  v->info.name = v->info.part_type = v->info.type_name = "";
  v->info.part_label = v->info.uuid = v->info.fs_type = "";
  v->info.fs_label = v->info.fs_uuid = v->info.fs_usage = "";
  v->info.group = v->info.parent = "";
  v->info.kind = kind;
  v->info.layout = layout;
  v->info.disk = -1;
  v->set_disk = -1;
  vols[set->nvols++] = v;
  return v;
}

int
vdk__vol_str (struct vdk__vol *v, const char **field, const char *fmt, ...)
{
  char *s = NULL, **strs;
  va_list ap;
  int r;

  va_start (ap, fmt);
  r = vasprintf (&s, fmt, ap);
  va_end (ap);
  if (r < 0)
    return vdk__err (ENOMEM, "out of memory");
  strs = realloc (v->strs, (v->nstrs + 1) * sizeof *strs);
  if (!strs) {
    free (s);
    return vdk__err (ENOMEM, "out of memory");
  }
  v->strs = strs;
  strs[v->nstrs++] = s;
  *field = s;
  return 0;
}

void
vdk__vol_problem (struct vdk__vol *v, const char *fmt, ...)
{
  va_list ap;

  if (v->problem)
    return;
  va_start (ap, fmt);
  if (vasprintf (&v->problem, fmt, ap) < 0)
    v->problem = NULL;
  va_end (ap);
  v->info.problem = v->problem ? v->problem : "unknown problem";
  v->info.readable = 0;
}

static size_t
count_leaves (const struct vdk__vol_map *m)
{
  size_t n = 0;

  if (m->type == VOL_LEAF)
    return 1;
  for (size_t i = 0; i < m->n; i++)
    n += count_leaves (m->child[i]);
  return n;
}

/* Flatten the leaves; `leg` is the mirror leg below a mirror node. */
static void
collect_leaves (const struct vdk__vol_map *m, struct vdk_volume_member *out,
                size_t *k, unsigned leg)
{
  if (m->type == VOL_LEAF) {
    out[*k].disk = m->disk;
    out[*k].offset = m->off;
    out[*k].length = m->size;
    out[*k].leg = leg;
    (*k)++;
    return;
  }
  for (size_t i = 0; i < m->n; i++)
    collect_leaves (m->child[i], out, k,
                    m->type == VOL_MIRROR ? (unsigned) i : leg);
}

int
vdk__vol_set_map (struct vdk__vol *v, struct vdk__vol_map *m)
{
  size_t n = count_leaves (m), k = 0;

  v->members = calloc (n ? n : 1, sizeof *v->members);
  v->member_ptrs = calloc (n ? n : 1, sizeof *v->member_ptrs);
  if (!v->members || !v->member_ptrs) {
    vdk__vol_map_free (m);
    return vdk__err (ENOMEM, "out of memory");
  }
  collect_leaves (m, v->members, &k, 0);
  v->map = m;
  for (size_t i = 0; i < n; i++)
    v->member_ptrs[i] = &v->members[i];
  v->info.members = (const struct vdk_volume_member *const *) v->member_ptrs;
  v->info.nmembers = n;
  v->info.size = m->size;
  v->info.complete = m->complete;
  v->info.degraded = m->present && !m->complete;
  v->info.readable = m->present && !v->problem;
  /* An LV of one striped segment is a concat of one child. */
  for (const struct vdk__vol_map *t = m; t; t = t->type == VOL_CONCAT && t->n == 1
         ? t->child[0] : NULL)
    if (t->type == VOL_STRIPED || t->type == VOL_RAID5)
      v->info.stripe_size = t->chunk;
  for (size_t i = 0; i < n; i++)
    if (v->members[i].disk >= 0) {
      v->info.disk = v->members[i].disk;
      v->info.start = v->members[i].offset;
      break;
    }
  if (!m->complete) {
    size_t missing = 0;
    for (size_t i = 0; i < n; i++)
      missing += v->members[i].disk < 0;
    if (!m->present)
      vdk__vol_problem (v, "%zu of %zu members are on disks missing from "
                      "the set", missing, n);
    else
      v->info.problem = "degraded: a redundant member is missing";
  }
  return 0;
}

void
vdk__vol_free (struct vdk__vol *v)
{
  if (!v)
    return;
  vdk__vol_map_free (v->map);
  free (v->members);
  free (v->member_ptrs);
  for (size_t i = 0; i < v->nstrs; i++)
    free (v->strs[i]);
  free (v->strs);
  free (v->problem);
  free (v);
}

void
vdk__vol_set_clear_volumes (struct vdk_diskset *set)
{
  for (size_t i = 0; i < set->nvols; i++)
    vdk__vol_free (set->vols[i]);
  free (set->vols);
  set->vols = NULL;
  set->nvols = 0;
  for (size_t i = 0; i < set->nwarnings; i++)
    free (set->warnings[i]);
  free (set->warnings);
  set->warnings = NULL;
  set->nwarnings = 0;
  for (size_t i = 0; i < set->ndisks; i++) {
    struct vdk__vol_disk *md = &set->disks[i];
    free (md->table_id);
    md->table_id = NULL;
    memset (&md->layout, 0, sizeof md->layout);
    md->layout.name = md->name;
    md->layout.size = md->size;
    md->layout.table = md->layout.table_id = "";
    md->mbr_first_type = 0;
    md->has_table = md->ldm_gpt = false;
    md->ldm_meta_last = 0;
  }
  set->scanned = false;
}

/* ---- public: sets ----------------------------------------------------- */

VDK_API vdk_diskset *
vdk_diskset_new (void)
{
  vdk_diskset *set;

  vdk__set_call ("vdk_diskset_new");
  set = calloc (1, sizeof *set);
  if (!set)
    vdk__err (ENOMEM, "out of memory");
  return set;
}

static int
add_member (struct vdk_diskset *set, vdk_disk *disk, const void *mem,
            uint64_t size, const char *name)
{
  struct vdk__vol_disk *d;
  char *nm;

  if (set->open_volumes)
    return vdk__err (EBUSY, "volumes of the set are open");
  if (name)
    nm = strdup (name);
  else if (asprintf (&nm, "disk %zu", set->ndisks + 1) < 0)
    nm = NULL;
  d = realloc (set->disks, (set->ndisks + 1) * sizeof *d);
  if (!nm || !d) {
    free (nm);
    if (d)
      set->disks = d;
    return vdk__err (ENOMEM, "out of memory");
  }
  set->disks = d;
  d = &set->disks[set->ndisks];
  memset (d, 0, sizeof *d);
  d->disk = disk;
  d->mem = mem;
  d->size = size;
  d->name = nm;
  d->layout.name = nm;
  d->layout.size = size;
  d->layout.table = d->layout.table_id = "";
  set->scanned = false;
  return (int) set->ndisks++;
}

static int
add_disk (vdk_diskset *set, vdk_disk *disk, const char *name, unsigned flags)
{
  int i;

  if (!set || !disk)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL,
                      "set and disk must not be NULL");
  if (flags & ~VDK_DISKSET_BORROW)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL,
                      "unknown flags 0x%x", flags & ~VDK_DISKSET_BORROW);
  i = add_member (set, disk, NULL, vdk_capacity (disk), name);
  if (i >= 0)
    set->disks[i].borrowed = (flags & VDK_DISKSET_BORROW) != 0;
  return i;
}

VDK_API int
vdk_diskset_add (vdk_diskset *set, vdk_disk *disk, const char *name)
{
  vdk__set_call ("vdk_diskset_add");
  return add_disk (set, disk, name, 0);
}

VDK_API int
vdk_diskset_add_ex (vdk_diskset *set, vdk_disk *disk, const char *name,
                    unsigned flags)
{
  vdk__set_call ("vdk_diskset_add_ex");
  return add_disk (set, disk, name, flags);
}

int
vdk__diskset_add_mem (struct vdk_diskset *set, const void *data, size_t len,
                      const char *name)
{
  return add_member (set, NULL, data, len, name);
}

VDK_API vdk_diskset *
vdk_diskset_open (const char *const *paths, size_t n, unsigned open_flags)
{
  vdk__set_call ("vdk_diskset_open");
  vdk_diskset *set = vdk_diskset_new ();

  if (!set)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    vdk_disk *disk = vdk_open (paths[i], open_flags);
    if (!disk) {
      vdk_diskset_close (set);        /* nested: keeps vdk_open's error */
      return NULL;
    }
    if (add_member (set, disk, NULL, vdk_capacity (disk), paths[i]) == -1) {
      vdk_close (disk);
      vdk_diskset_close (set);
      return NULL;
    }
  }
  return set;
}

VDK_API int
vdk_diskset_close (vdk_diskset *set)
{
  int r = 0;

  vdk__set_call ("vdk_diskset_close");
  if (!set)
    return 0;
  vdk__vol_set_clear_volumes (set);
  for (size_t i = 0; i < set->ndisks; i++) {
    if (set->disks[i].disk && !set->disks[i].borrowed
        && vdk_close (set->disks[i].disk) == -1)
      r = -1;
    free (set->disks[i].name);
    free (set->disks[i].table_id);
  }
  free (set->disks);
  free (set);
  return r;
}

VDK_API size_t
vdk_diskset_count (const vdk_diskset *set)
{
  return set ? set->ndisks : 0;
}

VDK_API vdk_disk *
vdk_diskset_disk (vdk_diskset *set, size_t i)
{
  return set && i < set->ndisks ? set->disks[i].disk : NULL;
}

VDK_API const struct vdk_disk_layout *
vdk_diskset_disk_layout (const vdk_diskset *set, size_t i)
{
  if (!set || !set->scanned || i >= set->ndisks)
    return NULL;
  return &set->disks[i].layout;
}

VDK_API size_t
vdk_diskset_warning_count (const vdk_diskset *set)
{
  return set ? set->nwarnings : 0;
}

VDK_API const char *
vdk_diskset_warning (const vdk_diskset *set, size_t i)
{
  return set && i < set->nwarnings ? set->warnings[i] : NULL;
}

VDK_API size_t
vdk_volume_count (const vdk_diskset *set)
{
  return set ? set->nvols : 0;
}

VDK_API const struct vdk_volume_info *
vdk_volume_get_info (const vdk_diskset *set, size_t i)
{
  return set && i < set->nvols ? &set->vols[i]->info : NULL;
}

/* For the fuzz targets: scan `len` bytes as a one-disk set (no blkid:
 * it is not our parser and is slow) and read the first and last sector
 * of every readable volume through the volume reader. */
int
vdk__fuzz_volumes (const void *data, size_t len)
{
  vdk_diskset *set = vdk_diskset_new ();
  uint8_t buf[SECTOR];
  int r = -1;

  if (!set)
    return -1;
  if (vdk__diskset_add_mem (set, data, len, "fuzz") == -1
      || vdk_diskset_scan (set, VDK_SCAN_NO_FS) == -1)
    goto out;
  for (size_t i = 0; i < set->nvols; i++) {
    const struct vdk_volume_info *v = &set->vols[i]->info;
    vdk_volume *vol = vdk_volume_open (set, v->name, VDK_VOLUME_READ_ONLY);
    size_t n = (size_t) MIN (v->size, (uint64_t) SECTOR);
    if (!vol)
      continue;
    vdk_volume_pread (vol, buf, n, 0);
    vdk_volume_pread (vol, buf, n, v->size - n);
    vdk_volume_close (vol);
  }
  r = 0;
 out:
  vdk_diskset_close (set);
  return r;
}
