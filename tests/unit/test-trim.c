/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: vdk_trim and vdk_zero_ex (disk/trim.c, the formats' trim).
 *
 * - Base sparse disk: trimmed whole grains become holes, their host
 *   blocks are freed (st_blocks drops), partial grains at the edges keep
 *   their data; after reopening the same holds.
 * - Child: where the parent has data, a trimmed grain must not show it:
 *   with zeroed-grain entries it becomes one (reads zero); without,
 *   vdk_trim leaves it and VDK_ZERO_MAY_TRIM writes zeroes; where the
 *   parent is empty the child's grain becomes a hole.
 * - VDK_ZERO_FAST fails with VDK_E_UNSUPPORTED and changes nothing when
 *   zeroes would have to be written, and succeeds on whole grains.
 * - Flat: a hole is punched (st_blocks drops, reads zero).
 * - Read-only disks, ranges past the end and unknown flags fail. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "tap.h"
#include "vdk.h"
#include "vdk-common.h"

#include "../tmpdir.h"

#define G 65536u              /* the default grain */

static uint8_t buf[8 * G], got[8 * G];

static long long
blocks_of (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 ? (long long) st.st_blocks : -1;
}

static int
create (const char *name, int type, unsigned flags, uint64_t capacity)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  p.type = type;
  p.flags = flags;
  p.capacity = capacity;
  return vdk_create (P (name), &p);
}

/* State of the byte at off: VDK_BLOCK_* (top link only if top). */
static int
state_at (vdk_disk *d, uint64_t off, int top)
{
  uint64_t len;
  int st, depth;
  return vdk_block_status (d, off, 512, top, &len, &st, &depth) == 0 ? st
    : -1;
}

static int
all_byte (const uint8_t *p, size_t n, uint8_t v)
{
  for (size_t i = 0; i < n; i++)
    if (p[i] != v)
      return 0;
  return 1;
}

static void
test_base (void)
{
  vdk_disk *d;
  long long before, after;

  ok (create ("base.vmdk", VDK_TYPE_MONOLITHIC_SPARSE, 0, 16 << 20) == 0,
      "create a sparse base");
  d = vdk_open (P ("base.vmdk"), 0);
  memset (buf, 0xab, sizeof buf);
  ok (vdk_pwrite (d, buf, 8 * G, 0) == 0 && vdk_flush (d) == 0,
      "write 8 grains");
  before = blocks_of (P ("base.vmdk"));
  /* from the middle of grain 1 to the middle of grain 6 */
  ok (vdk_trim (d, G + G / 2, 5 * G) == 0, "trim 5 grains' worth, "
      "unaligned");
  ok (vdk_flush (d) == 0, "flush");
  after = blocks_of (P ("base.vmdk"));
  ok (after <= before - 4 * (G / 512), "host blocks of 4 grains freed "
      "(%lld -> %lld blocks)", before, after);
  is_int (state_at (d, 2 * G, 0), VDK_BLOCK_HOLE, "grain 2 is a hole");
  is_int (state_at (d, 5 * G, 0), VDK_BLOCK_HOLE, "grain 5 is a hole");
  is_int (state_at (d, G, 0), VDK_BLOCK_DATA, "grain 1 (partial) kept");
  is_int (state_at (d, 6 * G, 0), VDK_BLOCK_DATA, "grain 6 (partial) kept");
  ok (vdk_pread (d, got, 8 * G, 0) == 0, "read back");
  ok (all_byte (got, 2 * G, 0xab) && all_byte (got + 2 * G, 4 * G, 0)
      && all_byte (got + 6 * G, 2 * G, 0xab), "trimmed grains read zero, "
      "partial ones keep their data");
  ok (vdk_close (d) == 0, "close");
  d = vdk_open (P ("base.vmdk"), VDK_OPEN_READ_ONLY);
  ok (d && vdk_pread (d, got, 8 * G, 0) == 0
      && all_byte (got + 2 * G, 4 * G, 0) && state_at (d, 3 * G, 0)
      == VDK_BLOCK_HOLE, "reopened: still holes reading zero");
  is_int (vdk_trim (d, 0, G), -1, "trim on a read-only disk fails");
  is_int (vdk_last_error_code (), VDK_E_READ_ONLY, "as read-only");
  vdk_close (d);
}

/* A parent with data in grains 0-3; grains 4-7 empty. */
static void
make_parent (void)
{
  vdk_disk *d;
  ok (create ("parent.vmdk", VDK_TYPE_MONOLITHIC_SPARSE, 0, 16 << 20) == 0,
      "create parent");
  d = vdk_open (P ("parent.vmdk"), 0);
  memset (buf, 'P', 4 * G);
  ok (vdk_pwrite (d, buf, 4 * G, 0) == 0, "parent data in grains 0-3");
  vdk_close (d);
}

/* A child with its own data in grains 0-7, with or without zeroed
 * grains (flipped in the header the way qemu's zeroed_grain=on makes
 * it: version 2, flag 0x4). */
static vdk_disk *
make_child (const char *name, bool zeroed)
{
  vdk_disk *d;
  ok (vdk_create_child_path (P ("parent.vmdk"), P (name),
                              VDK_TYPE_DEFAULT, 0) == 0,
      "create child %s", name);
  if (zeroed) {
    FILE *f = fopen (P (name), "r+b");
    uint8_t v2[4] = { 2, 0, 0, 0 }, fl[4];
    ok (f && fseek (f, 8, SEEK_SET) == 0 && fread (fl, 1, 4, f) == 4,
        "read child flags");
    fl[0] |= 0x4;
    ok (f && fseek (f, 4, SEEK_SET) == 0 && fwrite (v2, 1, 4, f) == 4
        && fwrite (fl, 1, 4, f) == 4, "set version 2 + zeroed grains");
    if (f)
      fclose (f);
  }
  d = vdk_open (P (name), 0);
  memset (buf, 'C', 8 * G);
  ok (d && vdk_pwrite (d, buf, 8 * G, 0) == 0, "child data in grains 0-7");
  return d;
}

static void
test_child (void)
{
  vdk_disk *d;

  make_parent ();
  d = make_child ("zg.vmdk", true);
  ok (vdk_trim (d, 0, 8 * G) == 0, "zeroed-grain child: trim 8 grains");
  ok (vdk_pread (d, got, 8 * G, 0) == 0 && all_byte (got, 8 * G, 0),
      "reads zero, not the parent's data");
  is_int (state_at (d, G, 1), VDK_BLOCK_ZERO, "over parent data: a zeroed "
          "grain");
  is_int (state_at (d, 5 * G, 1), VDK_BLOCK_HOLE, "over an empty parent: "
          "a hole");
  vdk_close (d);
  d = vdk_open (P ("zg.vmdk"), 0);
  ok (d && vdk_pread (d, got, 8 * G, 0) == 0 && all_byte (got, 8 * G, 0),
      "reopened: still zero");
  vdk_close (d);

  d = make_child ("plain.vmdk", false);
  ok (vdk_trim (d, 0, 8 * G) == 0, "plain child: trim 8 grains");
  ok (vdk_pread (d, got, 8 * G, 0) == 0 && all_byte (got, 4 * G, 'C')
      && all_byte (got + 4 * G, 4 * G, 0), "over parent data the child's "
      "grains are left; over an empty parent they read zero");
  is_int (state_at (d, 6 * G, 1), VDK_BLOCK_HOLE, "and are holes");
  ok (vdk_zero_ex (d, 0, 4 * G, VDK_ZERO_FAST | VDK_ZERO_MAY_TRIM) == -1
      && vdk_last_error_code () == VDK_E_UNSUPPORTED, "fast zero over "
      "parent data without zeroed grains: unsupported");
  ok (vdk_pread (d, got, 4 * G, 0) == 0 && all_byte (got, 4 * G, 'C'),
      "and nothing changed");
  ok (vdk_zero_ex (d, 0, 4 * G, VDK_ZERO_MAY_TRIM) == 0, "zero may-trim");
  ok (vdk_pread (d, got, 4 * G, 0) == 0 && all_byte (got, 4 * G, 0),
      "now reads zero (zeroes written), not the parent's data");
  vdk_close (d);
}

static void
test_fast (void)
{
  vdk_disk *d;

  ok (create ("fast.vmdk", VDK_TYPE_MONOLITHIC_SPARSE, 0, 16 << 20) == 0,
      "create a base for fast zero");
  d = vdk_open (P ("fast.vmdk"), 0);
  memset (buf, 0x5a, 4 * G);
  ok (vdk_pwrite (d, buf, 4 * G, 0) == 0, "write 4 grains");
  ok (vdk_zero_ex (d, 100, 3 * G, VDK_ZERO_FAST | VDK_ZERO_MAY_TRIM) == -1
      && vdk_last_error_code () == VDK_E_UNSUPPORTED, "fast zero with "
      "partial grains: unsupported");
  ok (vdk_pread (d, got, 4 * G, 0) == 0 && all_byte (got, 4 * G, 0x5a),
      "nothing written, not even the whole grains in between");
  ok (vdk_zero_ex (d, G, 2 * G, VDK_ZERO_FAST | VDK_ZERO_MAY_TRIM) == 0,
      "fast zero of whole grains");
  ok (vdk_pread (d, got, 4 * G, 0) == 0 && all_byte (got, G, 0x5a)
      && all_byte (got + G, 2 * G, 0) && all_byte (got + 3 * G, G, 0x5a),
      "they read zero, the rest is kept");
  is_int (state_at (d, G, 0), VDK_BLOCK_HOLE, "and are holes");
  ok (vdk_zero_ex (d, 8 * G, 100, VDK_ZERO_FAST) == 0, "fast zero of a "
      "range that is a hole already");
  ok (vdk_zero_ex (d, 100, 200, VDK_ZERO_MAY_TRIM) == 0, "may-trim zero "
      "of a partial grain");
  ok (vdk_pread (d, got, G, 0) == 0 && all_byte (got, 100, 0x5a)
      && all_byte (got + 100, 200, 0) && all_byte (got + 300, G - 300, 0x5a),
      "writes zeroes there");
  is_int (vdk_zero_ex (d, 0, G, 0x80), -1, "unknown flags are refused");
  is_int (vdk_last_error_code (), VDK_E_INVALID_ARG, "as invalid");
  is_int (vdk_trim (d, 16 << 20, 1), -1, "trim past the end fails");
  is_int (vdk_last_error_code (), VDK_E_OUT_OF_RANGE, "as out of range");
  vdk_close (d);
}

static void
test_flat (void)
{
  vdk_disk *d;
  char flat[PATH_MAX + 16];
  long long before, after;

  ok (create ("flat.vmdk", VDK_TYPE_MONOLITHIC_FLAT, 0, 4 << 20) == 0,
      "create monolithicFlat");
  snprintf (flat, sizeof flat, "%s", P ("flat-flat.vmdk"));
  d = vdk_open (P ("flat.vmdk"), 0);
  memset (buf, 0x77, sizeof buf);
  ok (d && vdk_pwrite (d, buf, 8 * G, 0) == 0 && vdk_flush (d) == 0,
      "write 512 KiB");
  before = blocks_of (flat);
  ok (vdk_trim (d, 2 * G, 4 * G) == 0, "trim 256 KiB");
  after = blocks_of (flat);
  ok (after <= before - 4 * (G / 512), "host blocks freed (%lld -> %lld)",
      before, after);
  ok (vdk_pread (d, got, 8 * G, 0) == 0 && all_byte (got, 2 * G, 0x77)
      && all_byte (got + 2 * G, 4 * G, 0) && all_byte (got + 6 * G, 2 * G,
                                                        0x77),
      "the trimmed range reads zero, the rest is kept");
  ok (vdk_zero_ex (d, 100, 1000, VDK_ZERO_FAST) == 0, "fast zero of an "
      "unaligned range (zero-range on the host)");
  ok (vdk_pread (d, got, G, 0) == 0 && all_byte (got, 100, 0x77)
      && all_byte (got + 100, 1000, 0) && got[1100] == 0x77, "reads zero "
      "exactly there");
  vdk_close (d);
}

int
main (void)
{
  if (tmpdir_make ("vdk-trim") == -1) {
    printf ("1..0 # SKIP cannot make a temporary folder\n");
    return 0;
  }
  test_base ();
  test_child ();
  test_fast ();
  test_flat ();
  tmpdir_remove ();
  return tap_done ();
}
