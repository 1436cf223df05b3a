/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: Windows LDM.  The input is a PRIVHEAD sector followed by
 * the start of an LDM database (TOCBLOCK at +2 sectors, VMDB, VBLKs).
 * The target builds an MBR dynamic disk around it: a 0x42 partition at
 * LBA 63, the PRIVHEAD at sector 6 with its config start/size and public
 * region rewritten to fit the small in-memory disk (everything else in
 * PRIVHEAD - GUIDs, names - stays as fuzzed), the database right after
 * the public region.  Volumes found are read through the reader, so
 * partitions that point out of range and broken records are exercised.
 * Seeds: fuzz/corpus/ldm, made by tests/mount/gen-corpus.sh (synthetic
 * databases; the Windows sample images are not copied into the repo). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mount/mount-internal.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define PUB_START 63u
#define PUB_SECTORS 1024u
#define CFG_SECTORS 256u    /* the database: 128 KiB */

static void
be64_put (uint8_t *p, uint64_t v)
{
  for (int i = 7; i >= 0; i--, v >>= 8)
    p[i] = (uint8_t) v;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const uint64_t cfg = PUB_START + PUB_SECTORS;
  const size_t disk = (cfg + CFG_SECTORS) * 512;
  uint8_t *d, *ph;

  if (size < 512 || size - 512 > CFG_SECTORS * 512)
    return 0;
  d = calloc (1, disk);
  if (!d)
    return 0;
  d[0x1BE + 4] = 0x42;
  le32_put (d + 0x1BE + 8, PUB_START);
  le32_put (d + 0x1BE + 12, PUB_SECTORS);
  d[510] = 0x55, d[511] = 0xAA;
  ph = d + 6 * 512;
  memcpy (ph, data, 512);
  be64_put (ph + 283, PUB_START);
  be64_put (ph + 291, PUB_SECTORS);
  be64_put (ph + 299, cfg);
  be64_put (ph + 307, CFG_SECTORS);
  memcpy (d + cfg * 512, data + 512, size - 512);
  vdk__fuzz_volumes (d, disk);
  free (d);
  return 0;
}
