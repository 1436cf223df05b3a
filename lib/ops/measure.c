/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdk_measure: the space a clone will need (the VDDK's
 * SpaceNeededForClone), before copying.
 *
 * How: the output's empty shape is made for real - vdk_create with the
 * parameters vdk_clone would use and the destination's base name (it
 * is written into descriptors), in a private temporary folder - and
 * its files' sizes summed, so descriptor text, grain directories and
 * tables and flat file sizes are exact by construction.  Then what the
 * copy adds, as the output's format says (its copy_bytes, given the
 * source grains holding a non-zero byte - vdk_clone writes only non-zero
 * 64 KiB blocks):
 * - raw, flat, vmfs (preallocated): nothing, the files already have
 *   their full size;
 * - hosted sparse: one grain per such grain (a new grain is appended
 *   whole), exact;
 * - streamOptimized: per such grain its marker and deflate's worst
 *   case, sector rounded, plus a GT marker and table per region that
 *   holds one: an upper bound.
 * Finding non-zero grains reads the source's allocated data once,
 * walking its allocation map as vdk_clone does, with one 4 MiB buffer:
 * memory does not depend on the disk size. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/ops.h"

#define CHUNK (4u << 20)
#define STATUS_MAX (1ull << 30)

struct count {
  uint64_t grain_bytes, grains, regions;
  uint64_t last_g, last_region;
};

/* Sum and remove the files of a folder, then the folder. */
static int
sum_and_remove (const char *dir, uint64_t *total)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  int r = 0;

  if (!d)
    return vdk__err (errno, "%s: %s", dir, strerror (errno));
  while ((de = readdir (d)) != NULL) {
    char p[4096 + 256];
    struct stat st;
    if (de->d_name[0] == '.')
      continue;
    snprintf (p, sizeof p, "%s/%s", dir, de->d_name);
    if (stat (p, &st) == 0)
      *total += (uint64_t) st.st_size;
    else
      r = vdk__err (errno, "%s: %s", p, strerror (errno));
    unlink (p);
  }
  closedir (d);
  rmdir (dir);
  return r;
}

/* Files of an empty disk made with cp. */
static int
template_size (const struct vdk_create_params *cp, const char *name,
               uint64_t *total)
{
  const char *tmp = getenv ("TMPDIR");
  char dir[4096], path[4400];
  int r;

  snprintf (dir, sizeof dir, "%s/vdk-measure.XXXXXX",
            tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp (dir))
    return vdk__err (errno, "cannot make a temporary folder in %s: %s",
                     tmp && *tmp ? tmp : "/tmp", strerror (errno));
  snprintf (path, sizeof path, "%s/%s", dir, name);
  r = vdk_create (path, cp);           /* nested: reports as vdk_measure */
  if (r == -1) {
    /* Name the output the caller gave, not our temporary folder. */
    struct vdk__saved_err saved;
    char *at;
    vdk__err_save (&saved);
    if ((at = strstr (saved.msg, path))) {
      char rest[sizeof saved.msg];
      snprintf (rest, sizeof rest, "%s", at + strlen (path));
      snprintf (saved.msg, sizeof saved.msg, "%s%s", name, rest);
    }
    sum_and_remove (dir, total);
    return vdk__err_restore (&saved);
  }
  if (sum_and_remove (dir, total) == -1)
    r = -1;
  return r;
}

static void
count_buffer (struct count *c, const uint8_t *buf, uint64_t len,
              uint64_t off)
{
  uint64_t i = 0;
  while (i < len) {
    uint64_t o = off + i, g = o / c->grain_bytes;
    uint64_t n = MIN (len - i, c->grain_bytes - o % c->grain_bytes);
    if (g != c->last_g && !is_zero (buf + i, n)) {
      c->grains++;
      c->last_g = g;
      if (g / 512 != c->last_region) {
        c->regions++;
        c->last_region = g / 512;
      }
    }
    i += n;
  }
}

/* Count the grains of the source holding a non-zero byte. */
static int
count_grains (vdk_disk *src, bool top_only, struct count *c)
{
  uint64_t cap = src->top->capacity, off = 0;
  CLEANUP_FREE uint8_t *buf = malloc (CHUNK);

  if (!buf)
    return vdk__err (ENOMEM, "out of memory");
  while (off < cap) {
    uint64_t n;
    int st, depth;
    if (vdk__link_status (src->top, off, MIN (cap - off, STATUS_MAX),
                          top_only, &n, &st, &depth) == -1)
      return -1;
    if (st == VDK_BLOCK_DATA) {
      n = MIN (n, CHUNK);
      if (vdk__link_pread (src->top, buf, n, off) == -1)
        return -1;
      count_buffer (c, buf, n, off);
    }
    off += n;
  }
  return 0;
}

VDK_API int
vdk_measure (vdk_disk *src, const char *dst,
             const struct vdk_clone_params *params, uint64_t *bytes)
{
  const char *name = dst ? vdk__path_base (dst) : "disk.vmdk";
  const struct vdk_type_info *t;
  struct vdk_create_params cp;
  struct count c = { .last_g = UINT64_MAX, .last_region = UINT64_MAX };
  uint64_t total = 0;
  bool top_only;

  vdk__set_call ("vdk_measure");
  if (!src || !bytes)
    return vdk__err (EINVAL, "missing source or result");
  if (vdk__check_clone_params (params) == -1)
    return -1;
  if (!*name || strlen (name) > 255 || !strcmp (name, ".")
      || !strcmp (name, ".."))
    return vdk__err (EINVAL, "%s: not a file name", dst);
  top_only = (params->flags & VDK_CLONE_SINGLE_LINK) != 0;
  vdk__clone_create_params (src, params, &cp);
  cp.grain_sectors = 128;              /* what vdk_create picks */
  /* Preallocation changes the blocks, not the apparent sizes counted. */
  cp.flags &= ~(VDK_CREATE_PREALLOC | VDK_CREATE_PREALLOC_ZEROED);
  c.grain_bytes = (uint64_t) cp.grain_sectors * SECTOR;
  if (template_size (&cp, name, &total) == -1)
    return -1;
  t = vdk__type_info (cp.type);
  if (t && t->fmt && !(vdk__fmt_caps (t->fmt) & VDK_FMT_PREALLOCATED)) {
    if (count_grains (src, top_only, &c) == -1)
      return -1;
    total += vdk__fmt_copy_bytes (t->fmt, c.grain_bytes, c.grains,
                                  c.regions);
  }
  *bytes = total;
  return 0;
}
