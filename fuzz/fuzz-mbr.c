/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: MBR partition tables with extended/logical partitions.
 * The input is a whole disk image held in memory (no file, no vdk_open:
 * vdk__diskset_add_mem makes it a member of a disk set), scanned for
 * volumes; every volume found is then read through the volume reader.
 * Seeds: fuzz/corpus/mbr, made by tests/mount/gen-corpus.sh. */
#include <stdint.h>
#include <stddef.h>

#include "mount/mount-internal.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* Beyond 16 MiB the fuzzer only spends time copying. */
  if (size > (16u << 20))
    return 0;
  vdk__fuzz_volumes (data, size);
  return 0;
}
