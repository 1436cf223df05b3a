/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdk_query_allocated_blocks: which chunks of a disk hold data, as
 * VixDiskLib_QueryAllocatedBlocks answers it (backup software reads
 * only these).
 *
 * Contract (as the VDDK's): start, count and chunk are in sectors;
 * chunk is a power of two of at least 128 sectors (64 KiB); start and
 * count are multiples of chunk (the end may pass the capacity by less
 * than a chunk); the answer is a sorted list of merged, chunk-aligned
 * ranges, each chunk listed if any byte of it holds data.  "Data" is
 * VDK_BLOCK_DATA: zeroed grains and holes are left out.  With top_only
 * only the top link counts (an incremental backup of one snapshot);
 * otherwise the whole chain.
 *
 * The walk asks vdk__link_status for runs, so it costs one lookup per
 * run of equal state, not per chunk. */
#include <errno.h>

#include "maint.h"

struct list {
  struct vdk_block *b;
  size_t n, cap;
};

static int
add_range (struct list *l, uint64_t off, uint64_t len)
{
  if (l->n && l->b[l->n - 1].offset + l->b[l->n - 1].length >= off) {
    uint64_t end = MAX (l->b[l->n - 1].offset + l->b[l->n - 1].length,
                        off + len);
    l->b[l->n - 1].length = end - l->b[l->n - 1].offset;
    return 0;
  }
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    struct vdk_block *p = realloc (l->b, cap * sizeof *p);
    if (!p)
      return vdk__err (ENOMEM, "out of memory");
    l->b = p, l->cap = cap;
  }
  l->b[l->n++] = (struct vdk_block) { off, len };
  return 0;
}

/* The public list: an array of pointers (vdk.h conventions), here into
 * one allocation that holds the pointers and then the blocks, so a list
 * of millions of blocks costs one malloc and one free. */
static struct vdk_block_list *
pointer_list (const struct list *l)
{
  struct vdk_block_list *out = calloc (1, sizeof *out);
  struct vdk_block *b;
  size_t bytes;

  if (!out)
    return NULL;
  if (l->n == 0)
    return out;
  if (MUL_OVERFLOW (l->n, sizeof (struct vdk_block *) + sizeof *b, &bytes)
      || !(out->blocks = malloc (bytes))) {
    free (out);
    return NULL;
  }
  b = (struct vdk_block *) (out->blocks + l->n);
  for (size_t i = 0; i < l->n; i++) {
    b[i] = l->b[i];
    out->blocks[i] = &b[i];
  }
  out->n = l->n;
  return out;
}

static int
check_args (vdk_disk *disk, uint64_t start, uint64_t count, uint64_t chunk)
{
  uint64_t end, capsec;
  if (!disk)
    return vdk__err (EINVAL, "no disk");
  capsec = DIV_ROUND_UP (disk->top->capacity, SECTOR);
  if (chunk < VDK_MIN_CHUNK_SECTORS || !IS_POWER_OF_2 (chunk))
    return vdk__err (EINVAL, "chunk size %" PRIu64 " is not a power of two "
                     "of at least %d sectors", chunk, VDK_MIN_CHUNK_SECTORS);
  if (start % chunk || count % chunk || count == 0)
    return vdk__err (EINVAL, "start %" PRIu64 " and count %" PRIu64 " must be "
                     "nonzero multiples of the chunk size %" PRIu64, start,
                     count, chunk);
  if (ADD_OVERFLOW (start, count, &end) || end > ROUND_UP (capsec, chunk))
    return vdk__errc (VDK_E_OUT_OF_RANGE, 0, "%s: sectors %" PRIu64 "+%"
                      PRIu64 " lie beyond the end of the disk (%" PRIu64
                      " sectors)", disk->top->path, start, count, capsec);
  return 0;
}

VDK_API int
vdk_query_allocated_blocks (vdk_disk *disk, uint64_t start, uint64_t count,
                            uint64_t chunk, int top_only,
                            struct vdk_block_list **out)
{
  struct list l = { NULL, 0, 0 };
  uint64_t off, end, cb = chunk * SECTOR;

  vdk__set_call ("vdk_query_allocated_blocks");
  if (!out)
    return vdk__err (EINVAL, "no result pointer");
  *out = NULL;
  if (check_args (disk, start, count, chunk) == -1)
    return -1;
  off = start * SECTOR;
  end = MIN ((start + count) * SECTOR, disk->top->capacity);
  while (off < end) {
    uint64_t pnum, c0, c1;
    int st, depth;
    if (vdk__link_status (disk->top, off, end - off, top_only != 0, &pnum,
                          &st, &depth) == -1)
      goto fail;
    c0 = off / cb, c1 = DIV_ROUND_UP (off + pnum, cb);
    if (st == VDK_BLOCK_DATA
        && add_range (&l, c0 * chunk, (c1 - c0) * chunk) == -1)
      goto fail;
    off += pnum;
  }
  if (!(*out = pointer_list (&l)))
    goto fail;
  free (l.b);
  return 0;
fail:
  free (l.b);
  return vdk_last_errno () ? -1 : vdk__err (ENOMEM, "out of memory");
}

VDK_API void
vdk_free_block_list (struct vdk_block_list *list)
{
  if (list)
    free (list->blocks);
  free (list);
}
