/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The hosted sparse extent header (KDMV): decode, validate, encode and
 * lay out a new extent.
 *
 * Facts (docs/vmdk-format.md §2.1, §2.4, §2.8): 512 packed little-endian
 * bytes at offset 0; sizes and offsets in sectors; grain size a power of
 * two; numGTEsPerGT at most 512 (QEMU's limit, which every writer uses);
 * the redundant GD and its GTs sit before the primary pair; overHead is
 * the metadata size rounded up to a grain.  Decoding validates every
 * field against the file size before anything is allocated from it, so
 * a later loop over the grain directory is bounded by the file. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "format/format.h"

/* Byte offsets of the packed on-disk header. */
enum {
  H_MAGIC = 0, H_VERSION = 4, H_FLAGS = 8, H_CAPACITY = 12, H_GRAIN = 20,
  H_DESC_OFF = 28, H_DESC_SIZE = 36, H_NUM_GTES = 44, H_RGD = 48, H_GD = 56,
  H_OVERHEAD = 64, H_UNCLEAN = 72, H_NL = 73, H_COMPRESS = 77, H_SIZE = 512,
};
_Static_assert (H_COMPRESS + 2 == 79, "header layout");

#define MAX_GRAIN_SECTORS 0x200000u    /* 1 GiB: QEMU's cap */
#define MAX_NUM_GTES 512u
#define MAX_DESC_SECTORS 20480u        /* 10 MiB: VirtualBox's cap */
#define MAX_GD_ENTRIES (32u << 20)     /* QEMU's "L1 size too big" */

/* A header that cannot be used: the message goes to err, errno says
 * why (EFSCORRUPTED: damaged; ENOTSUP: a version or algorithm vdk does
 * not know), as vdk__sparse_header_decode's contract says. */
static int __attribute__ ((format (printf, 4, 5)))
herr_errno (int errnum, char *err, size_t errlen, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (err, errlen, fmt, ap);
  va_end (ap);
  errno = errnum;
  return -1;
}
#define herr(...) herr_errno (EFSCORRUPTED, __VA_ARGS__)
#define hunsup(...) herr_errno (ENOTSUP, __VA_ARGS__)

/* Does [off, off+n) sectors lie inside a file of fsec sectors? */
static bool
inside (uint64_t off, uint64_t n, uint64_t fsec)
{
  uint64_t end;
  return !ADD_OVERFLOW (off, n, &end) && end <= fsec;
}

static int
validate_tables (const struct sparse_header *h, uint64_t fsec, char *err,
                 size_t errlen)
{
  uint64_t cover = (uint64_t) h->num_gtes * h->grain_size;
  uint64_t ngd = DIV_ROUND_UP (h->capacity, cover);
  uint64_t gd_sectors = DIV_ROUND_UP (ngd * 4, SECTOR);

  if (ngd > MAX_GD_ENTRIES)
    return herr (err, errlen, "grain directory of %" PRIu64 " entries is "
                 "too large (capacity %" PRIu64 " sectors)", ngd,
                 h->capacity);
  if (h->gd_offset != SPARSE_GD_AT_END
      && (h->gd_offset == 0 || !inside (h->gd_offset, gd_sectors, fsec)))
    return herr (err, errlen, "grain directory at sector %" PRIu64
                 " lies beyond end of file (%" PRIu64 " sectors)",
                 h->gd_offset, fsec);
  if ((h->flags & SPARSE_FLAG_RGD) && h->gd_offset != SPARSE_GD_AT_END
      && (h->rgd_offset == 0 || !inside (h->rgd_offset, gd_sectors, fsec)))
    return herr (err, errlen, "redundant grain directory at sector %" PRIu64
                 " lies beyond end of file (%" PRIu64 " sectors)",
                 h->rgd_offset, fsec);
  return 0;
}

int
vdk__sparse_header_decode (const uint8_t b[512], uint64_t file_size,
                           struct sparse_header *h, char *err, size_t errlen)
{
  uint64_t fsec = file_size / SECTOR;

  if (file_size < H_SIZE)
    return herr (err, errlen, "sparse header truncated (file is %" PRIu64
                 " bytes)", file_size);
  if (le32_get (b + H_MAGIC) != KDMV_MAGIC)
    return herr (err, errlen, "not a hosted sparse extent (bad magic)");
  *h = (struct sparse_header) {
    .version = le32_get (b + H_VERSION), .flags = le32_get (b + H_FLAGS),
    .capacity = le64_get (b + H_CAPACITY),
    .grain_size = le64_get (b + H_GRAIN),
    .desc_offset = le64_get (b + H_DESC_OFF),
    .desc_size = le64_get (b + H_DESC_SIZE),
    .num_gtes = le32_get (b + H_NUM_GTES),
    .rgd_offset = le64_get (b + H_RGD), .gd_offset = le64_get (b + H_GD),
    .overhead = le64_get (b + H_OVERHEAD), .unclean = b[H_UNCLEAN],
    .compress = le16_get (b + H_COMPRESS),
  };
  memcpy (h->nl, b + H_NL, 4);

  if (h->version < 1 || h->version > 3)
    return hunsup (err, errlen, "unsupported sparse version %" PRIu32,
                 h->version);
  if ((h->flags & SPARSE_FLAG_NL_VALID) && memcmp (h->nl, "\n \r\n", 4))
    return herr (err, errlen, "header newline bytes are wrong: the file was "
                 "corrupted by a text-mode (CR/LF) transfer");
  if (!IS_POWER_OF_2 (h->grain_size) || h->grain_size > MAX_GRAIN_SECTORS)
    return herr (err, errlen, "grain size %" PRIu64 " sectors is not a power "
                 "of two between 1 and %u", h->grain_size, MAX_GRAIN_SECTORS);
  if (h->num_gtes == 0 || h->num_gtes > MAX_NUM_GTES)
    return herr (err, errlen, "%" PRIu32 " entries per grain table is out of "
                 "range (1..%u)", h->num_gtes, MAX_NUM_GTES);
  if (h->capacity == 0 || h->capacity > INT64_MAX / SECTOR)
    return herr (err, errlen, "capacity of %" PRIu64 " sectors is invalid",
                 h->capacity);
  if (h->compress > 1)
    return hunsup (err, errlen, "unknown compression algorithm %u",
                 h->compress);
  if ((h->flags & SPARSE_FLAG_COMPRESSED) && h->compress != 1)
    return herr (err, errlen, "compressed flag set but no algorithm");
  if (h->desc_size > MAX_DESC_SECTORS
      || (h->desc_offset && (h->desc_size == 0
                             || !inside (h->desc_offset, h->desc_size,
                                         fsec))))
    return herr (err, errlen, "embedded descriptor (sector %" PRIu64 ", %"
                 PRIu64 " sectors) lies beyond end of file or is too large",
                 h->desc_offset, h->desc_size);
  return validate_tables (h, fsec, err, errlen);
}

void
vdk__sparse_header_encode (const struct sparse_header *h, uint8_t b[512])
{
  memset (b, 0, H_SIZE);
  le32_put (b + H_MAGIC, KDMV_MAGIC);
  le32_put (b + H_VERSION, h->version);
  le32_put (b + H_FLAGS, h->flags);
  le64_put (b + H_CAPACITY, h->capacity);
  le64_put (b + H_GRAIN, h->grain_size);
  le64_put (b + H_DESC_OFF, h->desc_offset);
  le64_put (b + H_DESC_SIZE, h->desc_size);
  le32_put (b + H_NUM_GTES, h->num_gtes);
  le64_put (b + H_RGD, h->rgd_offset);
  le64_put (b + H_GD, h->gd_offset);
  le64_put (b + H_OVERHEAD, h->overhead);
  b[H_UNCLEAN] = h->unclean;
  memcpy (b + H_NL, "\n \r\n", 4);
  le16_put (b + H_COMPRESS, h->compress);
}

void
vdk__sparse_layout (struct sparse_header *h, uint64_t capacity,
                    uint32_t grain, bool zeroed_grain, uint64_t desc_sectors)
{
  uint64_t cover = 512u * (uint64_t) grain;
  uint64_t ngd = DIV_ROUND_UP (capacity, cover);
  uint64_t gd_sectors = DIV_ROUND_UP (ngd * 4, SECTOR);
  uint64_t gts = ngd * 4;      /* 512 entries x 4 bytes = 4 sectors each */
  uint64_t next = desc_sectors ? 1 + desc_sectors : 1;

  *h = (struct sparse_header) {
    .version = zeroed_grain ? 2 : 1,
    .flags = SPARSE_FLAG_NL_VALID | SPARSE_FLAG_RGD
      | (zeroed_grain ? SPARSE_FLAG_ZERO_GRAIN : 0),
    .capacity = capacity, .grain_size = grain,
    .desc_offset = desc_sectors ? 1 : 0, .desc_size = desc_sectors,
    .num_gtes = 512,
  };
  h->rgd_offset = next;
  next += gd_sectors + gts;
  h->gd_offset = next;
  next += gd_sectors + gts;
  h->overhead = ROUND_UP (next, grain);
}
