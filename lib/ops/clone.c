/* Clone / convert: copy the guest-visible contents of an open disk into
 * a new disk of any type vdk can create.
 *
 * The copy asks the source for its allocation (grain tables, SEEK_DATA
 * on flat and raw files) and never reads holes; data runs are read in
 * large chunks and scanned for all-zero blocks, which are not written,
 * so the output stays sparse (a new sparse disk reads zero where nothing
 * was written; a new raw or flat file is created as one host hole).
 * Writes arrive in increasing order, so new grains are laid out
 * contiguously and in LBA order.  Memory use is one chunk buffer,
 * whatever the disk size. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "vdk-internal.h"

#define CHUNK (4u << 20)          /* bytes read per call */
#define ZERO_BLOCK (64u << 10)    /* granularity of the zero scan */
#define STATUS_MAX (1ull << 30)   /* bytes asked of block_status at once */

static int
source_adapter (vdk_disk *src)
{
  const char *a = src->top->desc
    ? vdk__desc_get (src->top->desc, "ddb.adapterType") : NULL;
  int r = a ? vdk_adapter_from_name (a) : -1;
  return r >= 0 ? r : VDK_ADAPTER_IDE;
}

static uint32_t
source_hw (vdk_disk *src)
{
  const char *h = src->top->desc
    ? vdk__desc_get (src->top->desc, "ddb.virtualHWVersion") : NULL;
  unsigned long v = h ? strtoul (h, NULL, 10) : 0;
  return v > 0 && v < 1000 ? (uint32_t) v : 4;
}

/* Write the non-zero blocks of buf (len bytes at disk offset off). */
static int
write_nonzero (vdk_disk *dst, const uint8_t *buf, uint64_t len, uint64_t off)
{
  uint64_t i = 0;
  while (i < len) {
    uint64_t start, end;
    /* skip zero blocks (block edges aligned to disk offsets) */
    while (i < len) {
      uint64_t n = MIN (len - i, ZERO_BLOCK - (off + i) % ZERO_BLOCK);
      if (!is_zero (buf + i, n))
        break;
      i += n;
    }
    start = i;
    while (i < len) {
      uint64_t n = MIN (len - i, ZERO_BLOCK - (off + i) % ZERO_BLOCK);
      if (is_zero (buf + i, n))
        break;
      i += n;
    }
    end = i;
    if (end > start
        && vdk__link_pwrite (dst->top, buf + start, end - start, off + start)
        == -1)
      return -1;
  }
  return 0;
}

static int
copy_data (vdk_disk *src, vdk_disk *dst, const struct vdk_clone_params *p,
           uint8_t *buf)
{
  uint64_t cap = src->top->capacity, off = 0;
  bool top_only = (p->flags & VDK_CLONE_SINGLE_LINK) != 0;

  while (off < cap) {
    uint64_t n;
    int st, depth;
    if (vdk__link_status (src->top, off, MIN (cap - off, STATUS_MAX),
                          top_only, &n, &st, &depth) == -1)
      return -1;
    if (st == VDK_BLOCK_DATA) {
      n = MIN (n, CHUNK);
      if (vdk__link_pread (src->top, buf, n, off) == -1
          || write_nonzero (dst, buf, n, off) == -1)
        return -1;
    }
    off += n;
    if (p->progress && p->progress (p->opaque, off, cap))
      return vdk__err (ECANCELED, "cancelled");
  }
  return 0;
}

VDK_API int
vdk_clone (vdk_disk *src, const char *dst_path,
           const struct vdk_clone_params *params)
{
  struct vdk_create_params cp = VDK_CREATE_PARAMS_INIT;
  vdk_disk *dst = NULL;
  CLEANUP_FREE uint8_t *buf = NULL;
  int r = -1;

  if (!src || !dst_path || !params || params->version < 1) {
    vdk__set_call ("vdk_clone");
    return vdk__err (EINVAL, "missing source, destination or parameters");
  }
  cp.type = params->type;
  cp.capacity = ROUND_UP (src->top->capacity, SECTOR);
  cp.adapter = params->adapter >= 0 ? params->adapter : source_adapter (src);
  cp.hw_version = params->hw_version ? params->hw_version : source_hw (src);
  if (vdk_create (dst_path, &cp) == -1)
    return -1;
  vdk__set_call ("vdk_clone");
  if (!(buf = aligned_alloc (4096, CHUNK))) {
    vdk__err (ENOMEM, "out of memory");
    goto out;
  }
  if (!(dst = vdk__disk_open (dst_path, 0)))
    goto out;
  r = copy_data (src, dst, params, buf);
  if (r == 0 && vdk__link_flush (dst->top) == -1)
    r = -1;
out:
  if (dst) {
    bool failed = false;
    vdk__disk_free (dst, &failed);
    if (failed)
      r = -1;
  }
  if (r == -1) {
    char saved[1024];
    int e = vdk_last_errno ();
    snprintf (saved, sizeof saved, "%s", vdk_last_error ());
    vdk_unlink (dst_path);
    vdk__set_call (NULL);
    vdk__err (e, "%s", saved);
  }
  return r;
}
