/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: common/vdk-common.h helpers. */
#include "tap.h"
#include "vdk-common.h"

int
main (void)
{
  uint8_t b[8];
  uint64_t r;
  static uint8_t z[1000];

  le64_put (b, 0x0102030405060708ull);
  ok (b[0] == 8 && b[7] == 1, "le64_put is little-endian");
  is_int (le64_get (b), 0x0102030405060708ll, "le64 round trip");
  le32_put (b + 1, 0xdeadbeef);
  ok (le32_get (b + 1) == 0xdeadbeef, "unaligned le32");
  le16_put (b, 0xabcd);
  ok (le16_get (b) == 0xabcd, "le16");
  ok (be32_get ("\x01\x02\x03\x04") == 0x01020304, "be32");
  ok (ADD_OVERFLOW (UINT64_MAX, (uint64_t) 1, &r), "add overflow caught");
  ok (!ADD_OVERFLOW ((uint64_t) 1, (uint64_t) 2, &r) && r == 3, "add");
  ok (MUL_OVERFLOW ((uint64_t) 1 << 40, (uint64_t) 1 << 30, &r),
      "mul overflow caught");
  ok (IS_POWER_OF_2 (128) && !IS_POWER_OF_2 (0) && !IS_POWER_OF_2 (96),
      "power of two");
  is_int (DIV_ROUND_UP (1025, 512), 3, "div round up");
  ok (is_zero (z, sizeof z), "zero buffer");
  for (size_t i = 0; i < sizeof z; i += 37) {
    z[i] = 1;
    if (!ok (!is_zero (z, sizeof z), "non-zero byte at %zu found", i))
      break;
    z[i] = 0;
  }
  ok (is_zero (z + 3, 5), "short unaligned zero run");
  return tap_done ();
}
