/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CRC-32 as used by GPT (the zlib / RFC 1952 CRC: reflected polynomial
 * 0xEDB88320, initial value and final XOR 0xFFFFFFFF) and by LVM2 (the
 * same polynomial, initial value 0xF597A6CF and no final XOR).  Both are
 * the one raw update below with different start and end.  Table-driven,
 * one byte at a time: the inputs are headers and metadata of at most a
 * few MiB, read once per scan. */
#ifndef VDK_MOUNT_CRC32_H
#define VDK_MOUNT_CRC32_H

#include <stddef.h>
#include <stdint.h>

static inline const uint32_t *
vdk__vol_crc32_table (void)
{
  static uint32_t table[256];
  static volatile int ready;   /* racing initialisers write equal values */

  if (!ready) {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++)
        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
    ready = 1;
  }
  return table;
}

/* Raw reflected update: no inversion on entry or exit. */
static inline uint32_t
vdk__vol_crc32_update (uint32_t crc, const void *buf, size_t len)
{
  const uint32_t *t = vdk__vol_crc32_table ();
  const uint8_t *p = buf;

  while (len--)
    crc = t[(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

/* zlib crc32(0, buf, len). */
static inline uint32_t
vdk__vol_crc32 (const void *buf, size_t len)
{
  return ~vdk__vol_crc32_update (0xFFFFFFFFu, buf, len);
}

/* LVM2's calc_crc(INITIAL_CRC, buf, len). */
#define VOL_LVM_INITIAL_CRC 0xF597A6CFu
static inline uint32_t
vdk__vol_crc32_lvm (const void *buf, size_t len)
{
  return vdk__vol_crc32_update (VOL_LVM_INITIAL_CRC, buf, len);
}

#endif /* VDK_MOUNT_CRC32_H */
