/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: sparse header decoding/validation, layout, grain lookup
 * and allocation, zeroed grains, write-back order, all on in-memory
 * stores so every byte of the result can be checked. */
#include "tap.h"
#include "ops/ops.h"

static void
good_header (uint8_t b[512], uint64_t cap)
{
  struct sparse_header h;
  vdk__sparse_layout (&h, cap, 128, false, 20);
  vdk__sparse_header_encode (&h, b);
}

static void
test_layout (void)
{
  struct sparse_header h;
  vdk__sparse_layout (&h, 2097152, 128, false, 20);  /* 1 GiB, as QEMU */
  ok (h.desc_offset == 1 && h.desc_size == 20, "descriptor at 1..20");
  is_int (h.rgd_offset, 21, "RGD at 21 (QEMU's layout)");
  is_int (h.gd_offset, 150, "GD at 150");
  is_int (h.overhead, 384, "overhead 384");
  ok (h.flags == 3 && h.version == 1, "flags 3, version 1");
  vdk__sparse_layout (&h, 2097152, 128, true, 20);
  ok (h.flags == 7 && h.version == 2, "zeroed grain: flags 7, version 2");
}

static void
test_decode (void)
{
  uint8_t b[512];
  struct sparse_header h;
  char err[256];
  uint64_t fsize = 384 * 512;

  good_header (b, 2097152);
  ok (vdk__sparse_header_decode (b, fsize, &h, err, sizeof err) == 0,
      "valid header decodes");
  is_int (h.capacity, 2097152, "capacity");
  ok (vdk__sparse_header_decode (b, 300, &h, err, sizeof err) == -1
      && strstr (err, "truncated"), "short file: %s", err);
  ok (vdk__sparse_header_decode (b, 100 * 512, &h, err, sizeof err) == -1
      && strstr (err, "beyond end of file"), "GD past EOF: %s", err);

  struct { size_t off; int width; uint64_t val; const char *want; } cases[] = {
    { 0, 4, 0x12345678, "magic" },
    { 4, 4, 4, "version" },
    { 20, 8, 0, "grain size" },
    { 20, 8, 96, "grain size" },
    { 20, 8, 1u << 22, "grain size" },
    { 44, 4, 0, "entries per grain table" },
    { 44, 4, 4096, "entries per grain table" },
    { 12, 8, 0, "capacity" },
    { 12, 8, UINT64_MAX / 2, "capacity" },
    { 12, 8, (uint64_t) 1 << 52, "too large" },
    { 73, 1, 'x', "CR/LF" },
    { 77, 2, 9, "compression" },
    { 28, 8, 1000, "descriptor" },
    { 36, 8, 30000, "descriptor" },
    { 56, 8, 0, "grain directory" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++) {
    good_header (b, 2097152);
    if (cases[i].width == 8)
      le64_put (b + cases[i].off, cases[i].val);
    else if (cases[i].width == 4)
      le32_put (b + cases[i].off, (uint32_t) cases[i].val);
    else if (cases[i].width == 2)
      le16_put (b + cases[i].off, (uint16_t) cases[i].val);
    else
      b[cases[i].off] = (uint8_t) cases[i].val;
    err[0] = 0;
    ok (vdk__sparse_header_decode (b, fsize, &h, err, sizeof err) == -1
        && strstr (err, cases[i].want),
        "bad field at %zu rejected: \"%s\"", cases[i].off, err);
  }
}

/* An extent over a fresh in-memory sparse store. */
struct fixture {
  struct vdk_link link;
  struct vdk_extent e;
  struct vdk_io *io;
};

static int
fx_open (struct fixture *f, uint64_t cap, bool zeroed, bool create)
{
  if (create) {
    f->io = vdk__io_open_mem ("mem.vmdk", NULL, 0);
    if (vdk__sparse_create (f->io, cap, 128, zeroed, "version=1\n") == -1)
      return -1;
  }
  memset (&f->link, 0, sizeof f->link);
  f->link.path = "mem.vmdk";
  f->e = (struct vdk_extent) { .ops = &vdk__sparse_ops, .link = &f->link,
    .kind = VDK_EXT_SPARSE, .length = cap * 512, .path = "mem.vmdk",
    .io = f->io };
  return vdk__sparse_ops.open (&f->e);
}

static int
fill_pattern (void *ctx, void *buf, uint64_t len, uint64_t off)
{
  memset (buf, 0x77, len);
  return 0;
}

static void
test_alloc_and_lookup (void)
{
  struct fixture f;
  uint8_t buf[200000], back[200000];
  uint64_t pnum, host;
  int st;
  char *desc = NULL;

  ok (fx_open (&f, 2097152, false, true) == 0, "fresh extent opens");
  ok (vdk__ext_map (&f.e, 0, 1 << 20, &pnum, &st, &host) == 0
      && st == VDK_BLOCK_HOLE && pnum == 1 << 20, "all holes at first");
  for (size_t i = 0; i < sizeof buf; i++)
    buf[i] = (uint8_t) (i * 7);
  /* unaligned write across grains: partial grain filled from "parent" */
  ok (vdk__ext_pwrite (&f.e, buf, sizeof buf, 1000, fill_pattern, NULL) == 0,
      "unaligned write");
  ok (vdk__ext_map (&f.e, 0, 1 << 20, &pnum, &st, &host) == 0
      && st == VDK_BLOCK_DATA && pnum == 4 * 65536,
      "four contiguous data grains (%" PRIu64 ")", pnum);
  ok (host == 384 * 512, "first grain right after the overhead");
  vdk__io_pread (f.io, back, 1000, host);
  ok (back[0] == 0x77 && back[999] == 0x77, "head of grain from fill()");
  vdk__io_pread (f.io, back, sizeof buf, host + 1000);
  ok (memcmp (back, buf, sizeof buf) == 0, "data in place");
  vdk__io_pread (f.io, back, 100, host + 1000 + sizeof buf);
  ok (back[0] == 0x77, "tail of grain from fill()");
  ok (vdk__ext_pwrite (&f.e, buf, 512, 65536 + 512, NULL, NULL) == 0,
      "overwrite allocated grain in place");
  uint64_t size;
  vdk__io_size (f.io, &size);
  is_int (size, 384 * 512 + 4 * 65536, "no new grain for an in-place write");

  /* before flush the on-disk GT is still empty; after flush it is set */
  uint8_t gt[4];
  vdk__io_pread (f.io, gt, 4, (150 + 1) * 512);
  is_int (le32_get (gt), 0, "GT entry not written before flush");
  ok (vdk__sparse_ops.flush (&f.e) == 0, "flush");
  vdk__io_pread (f.io, gt, 4, (150 + 1) * 512);
  is_int (le32_get (gt), 384, "primary GT entry written at flush");
  vdk__io_pread (f.io, gt, 4, (21 + 1) * 512);
  is_int (le32_get (gt), 384, "redundant GT entry identical");

  /* reopen: the new extent sees the same data */
  vdk__sparse_ops.close (&f.e);
  ok (fx_open (&f, 2097152, false, false) == 0, "reopen");
  ok (vdk__ext_map (&f.e, 1000, 100, &pnum, &st, &host) == 0
      && st == VDK_BLOCK_DATA && host == 384 * 512 + 1000, "lookup after "
      "reopen");
  ok (vdk__sparse_read_desc (f.io, &desc) == 0 && desc
      && strcmp (desc, "version=1\n") == 0, "embedded descriptor read back");
  free (desc);
  ok (vdk__sparse_write_desc (f.io, "version=1\nCID=2\n") == 0
      && vdk__sparse_read_desc (f.io, &desc) == 0
      && strcmp (desc, "version=1\nCID=2\n") == 0, "descriptor rewritten");
  free (desc);
  vdk__sparse_ops.close (&f.e);
  vdk__io_close (f.io);
}

static void
test_zeroed_and_gt_alloc (void)
{
  struct fixture f;
  uint64_t pnum, host, size, size2;
  int st;
  uint8_t gd[4];
  static uint8_t data[65536];

  ok (fx_open (&f, 2097152, true, true) == 0, "zeroed-grain extent");
  ok (vdk__ext_zero (&f.e, 0, 3 * 65536, fill_pattern, NULL) == 0,
      "zero whole grains over a parent");
  ok (vdk__ext_map (&f.e, 0, 1 << 20, &pnum, &st, &host) == 0
      && st == VDK_BLOCK_ZERO && pnum == 3 * 65536, "zeroed grains (GTE 1)");
  vdk__io_size (f.io, &size);
  /* A foreign file with a GD entry of 0: the writer must allocate a GT. */
  le32_put (gd, 0);
  vdk__io_pwrite (f.io, gd, 4, 150 * 512 + 4);    /* GD entry 1 */
  vdk__io_pwrite (f.io, gd, 4, 21 * 512 + 4);     /* RGD entry 1 */
  vdk__sparse_ops.close (&f.e);
  ok (fx_open (&f, 2097152, true, false) == 0, "reopen with GD entry 0");
  memset (data, 0xab, sizeof data);
  ok (vdk__ext_pwrite (&f.e, data, sizeof data, 32u << 20, NULL, NULL) == 0,
      "write into a region without a grain table");
  ok (vdk__sparse_ops.flush (&f.e) == 0, "flush");
  vdk__io_pread (f.io, gd, 4, 150 * 512 + 4);
  ok (le32_get (gd) * 512ull >= size, "GD now points at a new table");
  vdk__io_size (f.io, &size2);
  ok (size2 >= size + 2 * 2048 + 65536, "two tables and a grain appended");
  ok (vdk__ext_map (&f.e, 32u << 20, 65536, &pnum, &st, &host) == 0
      && st == VDK_BLOCK_DATA, "the grain reads as data");
  vdk__sparse_ops.close (&f.e);
  vdk__io_close (f.io);
}

static void
test_bad_entries (void)
{
  struct fixture f;
  uint8_t e[4];
  uint64_t pnum, host;
  int st;

  fx_open (&f, 2097152, false, true);
  vdk__sparse_ops.close (&f.e);
  le32_put (e, 5);                    /* a grain inside the metadata */
  vdk__io_pwrite (f.io, e, 4, 151 * 512);
  le32_put (e, 1u << 30);             /* a grain past EOF */
  vdk__io_pwrite (f.io, e, 4, 151 * 512 + 4);
  ok (fx_open (&f, 2097152, false, false) == 0, "opens (tables are lazy)");
  ok (vdk__ext_map (&f.e, 0, 512, &pnum, &st, &host) == -1
      && strstr (vdk_last_error (), "inside the metadata"),
      "GTE into metadata refused: %s", vdk_last_error ());
  ok (vdk__ext_map (&f.e, 65536, 512, &pnum, &st, &host) == -1
      && strstr (vdk_last_error (), "beyond end of file"),
      "GTE past EOF refused: %s", vdk_last_error ());
  vdk__sparse_ops.close (&f.e);
  le32_put (e, 1u << 28);             /* a GD entry past EOF */
  vdk__io_pwrite (f.io, e, 4, 150 * 512);
  ok (fx_open (&f, 2097152, false, false) == -1
      && strstr (vdk_last_error (), "grain table at sector"),
      "GD entry past EOF refused at open: %s", vdk_last_error ());
  vdk__sparse_ops.close (&f.e);
  vdk__io_close (f.io);
}

int
main (void)
{
  vdk__set_call ("test");
  test_layout ();
  test_decode ();
  test_alloc_and_lookup ();
  test_zeroed_and_gt_alloc ();
  test_bad_entries ();
  return tap_done ();
}
