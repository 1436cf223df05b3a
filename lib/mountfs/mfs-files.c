/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The files of a FUSE folder: one per whole disk, one per volume.
 *
 * Names: "disk" (or "disk1".."diskN" in a set of several disks), then
 * "vol" + number for numbered volumes ("vol1", "vol5", "vol2:1") and the
 * name with '/' as '-' for named ones ("vg0-root", "Volume1"); a clash
 * falls back to "vol" + the volume's index.  A volume that is a whole
 * disk ("disk" kind) is the disk's file.
 *
 * I/O calls vdk_pread/vdk_volume_pread, which are thread-safe by
 * contract, so the FUSE threads call these without a lock of their own.
 * A file that is one range of one disk (whole disks, partitions,
 * one-range linear volumes) remembers that range: holes are found with
 * vdk_block_status, and fallocate's punch-hole and zero-range go to
 * vdk_zero_ex with VDK_ZERO_MAY_TRIM, which gives whole grains back and
 * zeroes the partial ones at the edges.  (Not vdk_trim: it leaves partial
 * grains as they were, but a punched hole must read back as zeros - the
 * loop driver turns the kernel's write-zeroes into punch-hole.)  Other
 * volumes (striped, mirrored) write zeroes for zero-range and refuse
 * punch-hole, which the kernel may use for discard only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mountfs.h"

#define MAX_VOLUME_FILES 256
#define ZERO_CHUNK (1u << 20)
/* Smaller zero writes cannot free a grain (64 KiB by default). */
#define ZERO_WRITE_MIN 4096u

static int
lib_errno (void)
{
  return vdk_last_errno () ? vdk_last_errno () : EIO;
}

int
vdk__mfs_file_pread (struct vdk__mfs_file *f, void *buf, size_t count,
                     uint64_t off)
{
  int r = f->vol ? vdk_volume_pread (f->vol, buf, count, off)
    : vdk_pread (f->disk, buf, count, off);
  return r == -1 ? (errno = lib_errno (), -1) : 0;
}

/* A write of zeroes to a disk range is a zeroing: it allocates no
 * grain (the kernel sends zeroes as plain writes where FUSE cannot take
 * its zero-range, e.g. write-zeroes with REQ_NOUNMAP). */
int
vdk__mfs_file_pwrite (struct vdk__mfs_file *f, const void *buf,
                      size_t count, uint64_t off)
{
  if (f->disk && count >= ZERO_WRITE_MIN && is_zero (buf, count))
    return vdk__mfs_file_punch (f, off, count);
  int r = f->vol ? vdk_volume_pwrite (f->vol, buf, count, off)
    : vdk_pwrite (f->disk, buf, count, off);
  return r == -1 ? (errno = lib_errno (), -1) : 0;
}

int
vdk__mfs_file_flush (struct vdk__mfs_file *f)
{
  int r = f->vol ? vdk_volume_flush (f->vol) : vdk_flush (f->disk);
  return r == -1 ? (errno = lib_errno (), -1) : 0;
}

bool
vdk__mfs_file_is_zero (struct vdk__mfs_file *f, size_t count, uint64_t off)
{
  uint64_t len;
  int state, depth;
  if (f->disk == NULL
      || vdk_block_status (f->disk, f->disk_off + off, count, 0, &len,
                           &state, &depth) == -1)
    return false;
  return state != VDK_BLOCK_DATA && len >= count;
}

int
vdk__mfs_file_punch (struct vdk__mfs_file *f, uint64_t off, uint64_t count)
{
  if (f->disk == NULL)
    return errno = EOPNOTSUPP, -1;
  if (vdk_zero_ex (f->disk, f->disk_off + off, count, VDK_ZERO_MAY_TRIM)
      == -1)
    return errno = lib_errno (), -1;
  return 0;
}

int
vdk__mfs_file_zero (struct vdk__mfs_file *f, uint64_t off, uint64_t count)
{
  if (f->disk != NULL)
    return vdk__mfs_file_punch (f, off, count);
  /* Striped or mirrored: no single disk range to zero, so write zeroes
   * through the volume (each leg or column gets its part). */
  void *zeros = calloc (1, ZERO_CHUNK);
  if (zeros == NULL)
    return errno = ENOMEM, -1;
  int r = 0;
  while (count > 0 && r == 0) {
    size_t n = count < ZERO_CHUNK ? (size_t) count : ZERO_CHUNK;
    r = vdk__mfs_file_pwrite (f, zeros, n, off);
    off += n;
    count -= n;
  }
  free (zeros);
  return r;
}

/* "vol1", "vol2:1", "vg0-root", "Volume1". */
static void
volume_file_name (const char *name, char *buf, size_t size)
{
  bool numeric = name[0] >= '0' && name[0] <= '9';
  snprintf (buf, size, "%s%s", numeric ? "vol" : "", name);
  for (char *p = buf; *p; p++)
    if (*p == '/')
      *p = '-';
}

static void
add_disk_files (vdk_diskset *set, struct vdk__mfs_files *fl, bool writable)
{
  size_t n = vdk_diskset_count (set);
  for (size_t i = 0; i < n && i < VDK__MFS_MAX_DISKS; i++) {
    struct vdk__mfs_file *f = &fl->f[fl->n++];
    f->disk = vdk_diskset_disk (set, i);
    if (n == 1)
      snprintf (f->name, sizeof f->name, "disk");
    else
      snprintf (f->name, sizeof f->name, "disk%zu", i + 1);
    f->size = vdk_capacity (f->disk);
    f->writable = writable;
  }
}

/* Open a volume for serving; writable only for the mounted one. */
static int
add_volume_file (vdk_diskset *set, struct vdk__mfs_files *fl,
                 const struct vdk_volume_info *v, bool writable)
{
  unsigned flags = writable ? 0 : VDK_VOLUME_READ_ONLY;
  vdk_volume *vol = vdk_volume_open (set, v->name, flags);
  if (vol == NULL)
    return -1;
  struct vdk__mfs_file *f = &fl->f[fl->n];
  volume_file_name (v->name, f->name, sizeof f->name);
  for (size_t i = 0; i < fl->n; i++)
    if (strcmp (fl->f[i].name, f->name) == 0)
      snprintf (f->name, sizeof f->name, "vol%zu", v->index);
  f->vol = vol;
  if (v->nmembers == 1 && v->members[0]->disk >= 0
      && (strcmp (v->layout, "partition") == 0
          || strcmp (v->layout, "linear") == 0)) {
    f->disk = vdk_diskset_disk (set, (size_t) v->members[0]->disk);
    f->disk_off = v->members[0]->offset;
  }
  f->size = vdk_volume_size (vol);
  f->writable = writable;
  return (int) fl->n++;
}

static bool
volume_listed (const struct vdk_volume_info *v)
{
  return v->readable && !(v->flags & VDK_VOLUME_HIDDEN);
}

int
vdk__mfs_files_build (vdk_diskset *set, const struct vdk_volume_info *target,
                      bool writable, struct vdk__mfs_files *fl)
{
  size_t nvols = 0;
  fl->n = 0;
  fl->target = -1;
  fl->f = calloc (VDK__MFS_MAX_FILES, sizeof *fl->f);
  if (fl->f == NULL)
    return vdk__errc (VDK_E_NO_MEMORY, ENOMEM, "out of memory");
  add_disk_files (set, fl, writable && target == NULL);
  for (size_t i = 0; i < vdk_volume_count (set); i++) {
    const struct vdk_volume_info *v = vdk_volume_get_info (set, i);
    bool is_target = target && v->index == target->index;
    if (strcmp (v->kind, "disk") == 0) {
      if (is_target)
        fl->target = v->disk >= 0 ? v->disk : 0;
      continue; /* the whole-disk file already is this volume */
    }
    if (!volume_listed (v) || (nvols == MAX_VOLUME_FILES && !is_target))
      continue;
    int idx = add_volume_file (set, fl, v, writable && (is_target || !target));
    if (idx == -1 && is_target) {
      vdk__mfs_files_free (fl);
      return -1;
    }
    nvols += idx >= 0;
    if (is_target)
      fl->target = idx;
  }
  /* A whole-disk file system mounted read-write. */
  if (target && fl->target >= 0 && writable)
    fl->f[fl->target].writable = true;
  return 0;
}

int
vdk__mfs_files_flush (struct vdk__mfs_files *fl)
{
  int r = 0;
  for (size_t i = 0; i < fl->n; i++)
    if (fl->f[i].writable && vdk__mfs_file_flush (&fl->f[i]) == -1)
      r = -1;
  return r;
}

void
vdk__mfs_files_free (struct vdk__mfs_files *fl)
{
  for (size_t i = 0; fl->f && i < fl->n; i++)
    vdk_volume_close (fl->f[i].vol);
  free (fl->f);
  fl->f = NULL;
  fl->n = 0;
  fl->target = -1;
}
