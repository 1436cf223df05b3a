/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: GPT.  The input is a disk image in memory; before the
 * scan, the target recomputes the CRC32 of the entry array and of the
 * header at LBA 1 when they are present and in range, so the fuzzer gets
 * past the checksums into the header and entry checks (the CRC checks
 * themselves are covered by the unit tests and by inputs whose header
 * is not "fixed": the first input byte's low bit turns fixing off).
 * Seeds: fuzz/corpus/gpt, made by tests/mount/gen-corpus.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mount/crc32.h"
#include "mount/mount-internal.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
fix_crcs (uint8_t *d, size_t size)
{
  uint8_t *h = d + 512;
  uint32_t hsize;
  uint64_t array, bytes;

  if (size < 1024 || memcmp (h, "EFI PART", 8) != 0)
    return;
  hsize = le32_get (h + 12);
  array = le64_get (h + 72);
  bytes = (uint64_t) le32_get (h + 80) * le32_get (h + 84);
  if (array < size / 512 && bytes <= size - array * 512)
    le32_put (h + 88, vdk__vol_crc32 (d + array * 512, (size_t) bytes));
  if (hsize >= 92 && hsize <= 512) {
    le32_put (h + 16, 0);
    le32_put (h + 16, vdk__vol_crc32 (h, hsize));
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  uint8_t *copy;

  if (size < 1 || size > (16u << 20))
    return 0;
  copy = malloc (size);
  if (!copy)
    return 0;
  memcpy (copy, data, size);
  if (!(data[0] & 1))
    fix_crcs (copy, size);
  vdk__fuzz_volumes (copy, size);
  free (copy);
  return 0;
}
