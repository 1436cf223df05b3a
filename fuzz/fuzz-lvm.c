/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: LVM2.  The first input byte picks the mode:
 *   even: the rest is metadata text for the text parser alone;
 *   odd:  the rest is the committed metadata text of a PV that the
 *         target builds around it (label, pv_header, mda_header with
 *         correct CRCs, data area from 1 MiB), which is then scanned, so
 *         VG/LV resolution and the mapping run on fuzzed metadata;
 *         volumes found are read through the reader.
 * Seeds: fuzz/corpus/lvm, made by tests/mount/gen-corpus.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mount/crc32.h"
#include "mount/mount-internal.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define PV_SIZE (2u << 20)
#define MDA_OFF 4096u
#define MDA_SIZE ((1u << 20) - MDA_OFF)

static void
build_pv (uint8_t *d, const uint8_t *text, size_t len)
{
  uint8_t *l = d + 512, *ph = l + 32, *mh = d + MDA_OFF;

  memcpy (l, "LABELONE", 8);
  le64_put (l + 8, 1);
  le32_put (l + 20, 32);
  memcpy (l + 24, "LVM2 001", 8);
  memcpy (ph, "0123456789abcdefghijABCDEFGHIJkl", 32);
  le64_put (ph + 32, PV_SIZE);
  le64_put (ph + 40, 1u << 20);
  le64_put (ph + 72, MDA_OFF);
  le64_put (ph + 80, MDA_SIZE);
  le32_put (l + 16, vdk__vol_crc32_lvm (l + 20, 512 - 20));
  memcpy (mh + 4, " LVM2 x[5A%r0N*>", 16);
  le32_put (mh + 20, 1);
  le64_put (mh + 24, MDA_OFF);
  le64_put (mh + 32, MDA_SIZE);
  le64_put (mh + 40, 512);
  le64_put (mh + 48, len);
  memcpy (mh + 512, text, len);
  le32_put (mh + 56, vdk__vol_crc32_lvm (text, len));
  le32_put (mh, vdk__vol_crc32_lvm (mh + 4, 512 - 4));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* One buffer for all runs: the data area is filled once, the label
   * and metadata area are rebuilt each time. */
  static uint8_t *d;

  if (size < 1 || size - 1 > MDA_SIZE - 1024)
    return 0;
  if (!(data[0] & 1)) {
    vdk__vol_lvtext_free (vdk__vol_lvtext_parse ((const char *) data + 1, size - 1));
    return 0;
  }
  if (!d) {
    d = malloc (PV_SIZE);
    if (!d)
      return 0;
    for (size_t i = 1u << 20; i < PV_SIZE; i++)
      d[i] = (uint8_t) i;
  }
  memset (d, 0, 1u << 20);
  build_pv (d, data + 1, size - 1);
  vdk__fuzz_volumes (d, PV_SIZE);
  return 0;
}
