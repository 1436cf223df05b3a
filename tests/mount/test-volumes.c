/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the volume library on in-memory disks: the volume
 * reader (concat, striped, mirror, RAID-5 with and without a missing
 * column), malformed MBR/EBR and GPT tables, the LVM2 text parser and a
 * hand-built LVM2 PV whose metadata is then truncated.
 *
 * Expected values come from the layouts built here (e.g. the RAID-5
 * columns are computed from the volume bytes with the left-symmetric
 * rule, then the reader must give the volume bytes back). */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "mount/crc32.h"
#include "mount/mount-internal.h"

#define MiB (1024 * 1024)

static bool
has_warning (vdk_diskset *set, const char *needle)
{
  for (size_t i = 0; i < vdk_diskset_warning_count (set); i++)
    if (strstr (vdk_diskset_warning (set, i), needle))
      return true;
  return false;
}

static uint8_t
pattern (uint64_t off)
{
  return (uint8_t) ((off * 2654435761u) >> 13);
}

/* ---- the reader --------------------------------------------------- */

static void
test_raid5 (void)
{
  enum { N = 3, CH = 4096, ROWS = 16, COL = CH * ROWS };
  static uint8_t disks[N][COL], vol[(N - 1) * COL], out[(N - 1) * COL];
  vdk_diskset *set = vdk_diskset_new ();
  struct vdk__vol_map *m;

  for (size_t i = 0; i < sizeof vol; i++)
    vol[i] = pattern (i);
  /* Lay the volume out left-symmetrically and compute parity. */
  for (int row = 0; row < ROWS; row++) {
    int parity = (N - 1) - row % N;
    memset (disks[parity] + row * CH, 0, CH);
    for (int d = 0; d < N - 1; d++) {
      int col = (parity + 1 + d) % N;
      const uint8_t *src = vol + ((size_t) row * (N - 1) + d) * CH;
      memcpy (disks[col] + row * CH, src, CH);
      for (int k = 0; k < CH; k++)
        disks[parity][row * CH + k] ^= src[k];
    }
  }
  for (int i = 0; i < N; i++)
    vdk__diskset_add_mem (set, disks[i], COL, NULL);
  for (int missing = -1; missing < N; missing++) {
    m = vdk__vol_map_node (VOL_RAID5, CH);
    for (int i = 0; i < N; i++)
      vdk__vol_map_add (m, vdk__vol_map_leaf (i == missing ? -1 : i, 0, COL));
    is_int (vdk__vol_map_finish (m), 0, "raid5 map (missing %d) builds", missing);
    is_int (m->size, sizeof vol, "raid5 size is (n-1) columns");
    is_int (m->degraded, missing >= 0, "degraded iff a column is missing");
    memset (out, 0, sizeof out);
    /* An odd offset and length cross chunk and row boundaries. */
    is_int (vdk__vol_map_pread (set, m, out + 100, sizeof out - 333, 100), 0,
            "raid5 read (missing %d)", missing);
    ok (memcmp (out + 100, vol + 100, sizeof out - 333) == 0,
        "raid5 bytes match the volume (missing column %d)", missing);
    vdk__vol_map_free (m);
  }
  vdk_diskset_close (set);
}

static void
test_striped_mirror_concat (void)
{
  enum { SZ = 64 * 1024, CH = 8192 };
  static uint8_t a[SZ], b[SZ], out[2 * SZ];
  vdk_diskset *set = vdk_diskset_new ();
  struct vdk__vol_map *m;

  for (int i = 0; i < SZ; i++)
    a[i] = pattern (i), b[i] = pattern (i + SZ);
  vdk__diskset_add_mem (set, a, SZ, "a");
  vdk__diskset_add_mem (set, b, SZ, "b");

  m = vdk__vol_map_node (VOL_STRIPED, CH);
  vdk__vol_map_add (m, vdk__vol_map_leaf (0, 0, SZ));
  vdk__vol_map_add (m, vdk__vol_map_leaf (1, 0, SZ));
  is_int (vdk__vol_map_finish (m), 0, "striped map builds");
  is_int (vdk__vol_map_pread (set, m, out, 2 * SZ, 0), 0, "striped read");
  ok (memcmp (out, a, CH) == 0 && memcmp (out + CH, b, CH) == 0
      && memcmp (out + 2 * CH, a + CH, CH) == 0,
      "chunks alternate between the columns");
  vdk__vol_map_free (m);

  m = vdk__vol_map_node (VOL_CONCAT, 0);
  vdk__vol_map_add (m, vdk__vol_map_leaf (1, 4096, 4096));
  vdk__vol_map_add (m, vdk__vol_map_leaf (0, 0, 8192));
  vdk__vol_map_finish (m);
  is_int (m->size, 12288, "concat size is the sum");
  is_int (vdk__vol_map_pread (set, m, out, 8192, 2048), 0, "concat read");
  ok (memcmp (out, b + 6144, 2048) == 0 && memcmp (out + 2048, a, 6144) == 0,
      "concat read crosses the member boundary");
  vdk__vol_map_free (m);

  m = vdk__vol_map_node (VOL_MIRROR, 0);
  vdk__vol_map_add (m, vdk__vol_map_leaf (-1, 0, SZ));
  vdk__vol_map_add (m, vdk__vol_map_leaf (1, 0, SZ));
  vdk__vol_map_finish (m);
  ok (m->present && m->degraded, "mirror with one leg is degraded");
  is_int (vdk__vol_map_pread (set, m, out, 100, 5), 0, "mirror read");
  ok (memcmp (out, b + 5, 100) == 0, "mirror reads the present leg");
  vdk__vol_map_free (m);

  m = vdk__vol_map_node (VOL_STRIPED, 3000);
  vdk__vol_map_add (m, vdk__vol_map_leaf (0, 0, SZ));
  is_int (vdk__vol_map_finish (m), -1, "stripe size must be sector aligned");
  vdk__vol_map_free (m);
  vdk_diskset_close (set);
}

/* ---- MBR / EBR ---------------------------------------------------- */

static void
mbr_entry (uint8_t *sec, int slot, unsigned type, uint32_t start,
           uint32_t count)
{
  uint8_t *e = sec + 0x1BE + 16 * slot;
  e[4] = (uint8_t) type;
  le32_put (e + 8, start);
  le32_put (e + 12, count);
  sec[510] = 0x55;
  sec[511] = 0xAA;
}

static void
test_ebr (void)
{
  uint8_t *d = calloc (1, 4 * MiB);
  vdk_diskset *set = vdk_diskset_new ();
  const struct vdk_volume_info *v;

  mbr_entry (d, 0, 0x83, 2048, 2048);
  mbr_entry (d, 1, 0x05, 4096, 4096);
  /* EBR at 4096: logical 5 at +64; the link points back at itself. */
  mbr_entry (d + 4096 * 512, 0, 0x83, 64, 100);
  mbr_entry (d + 4096 * 512, 1, 0x05, 0, 4096);
  vdk__diskset_add_mem (set, d, 4 * MiB, "loop.img");
  is_int (vdk_diskset_scan (set, VDK_SCAN_NO_FS), 0, "scan of an EBR loop");
  is_int (vdk_volume_count (set), 3, "1, 2 (extended) and 5 listed");
  v = vdk_volume_find (set, "5");
  ok (v && v->start == (4096 + 64) * 512ull && v->size == 100 * 512,
      "logical 5 where the EBR puts it");
  ok (has_warning (set, "EBR chain stopped"), "the loop is reported");

  /* A logical partition outside the extended partition. */
  memset (d + 4096 * 512, 0, 512);
  mbr_entry (d + 4096 * 512, 0, 0x83, 64, 9000);
  is_int (vdk_diskset_scan (set, VDK_SCAN_NO_FS), 0, "rescan");
  ok (vdk_volume_find (set, "5") == NULL, "oversized logical dropped");
  ok (has_warning (set, "outside the extended partition"),
      "oversized logical reported");

  /* Two disks: partition names get the disk number. */
  vdk__diskset_add_mem (set, d, 4 * MiB, "second.img");
  vdk_diskset_scan (set, VDK_SCAN_NO_FS);
  ok (vdk_volume_find (set, "1") == NULL
      && strstr (vdk_last_error (), "several disks"), "\"1\" is ambiguous");
  ok (vdk_volume_find (set, "2:1") != NULL
      && vdk_volume_find (set, "2:1")->disk == 1, "\"2:1\" is disk 2's");
  vdk_diskset_close (set);
  free (d);
}

/* ---- GPT ---------------------------------------------------------- */

static void
gpt_header (uint8_t *d, uint64_t nsec, uint64_t my, uint64_t alt,
            uint64_t array, uint32_t n, uint32_t array_crc)
{
  uint8_t *h = d + my * 512;
  memset (h, 0, 512);
  memcpy (h, "EFI PART", 8);
  le32_put (h + 8, 0x10000);
  le32_put (h + 12, 92);
  le64_put (h + 24, my);
  le64_put (h + 32, alt);
  le64_put (h + 40, 34);
  le64_put (h + 48, nsec - 34);
  memset (h + 56, 0x11, 16);
  le64_put (h + 72, array);
  le32_put (h + 80, n);
  le32_put (h + 84, 128);
  le32_put (h + 88, array_crc);
  le32_put (h + 16, vdk__vol_crc32 (h, 92));
}

static void
test_gpt (void)
{
  const uint64_t nsec = 8192;
  uint8_t *d = calloc (nsec, 512), *e;
  vdk_diskset *set = vdk_diskset_new ();
  uint32_t crc;

  mbr_entry (d, 0, 0xEE, 1, nsec - 1);
  e = d + 2 * 512;
  memset (e, 0x22, 16);                      /* type */
  memset (e + 16, 0x33, 16);                 /* unique */
  le64_put (e + 32, 2048);
  le64_put (e + 40, 4095);
  le16_put (e + 56, 'p');
  memcpy (d + (nsec - 33) * 512, e, 128 * 128);
  crc = vdk__vol_crc32 (e, 128 * 128);
  gpt_header (d, nsec, 1, nsec - 1, 2, 128, crc);
  gpt_header (d, nsec, nsec - 1, 1, nsec - 33, 128, crc);
  vdk__diskset_add_mem (set, d, nsec * 512, "gpt.img");
  is_int (vdk_diskset_scan (set, VDK_SCAN_NO_FS), 0, "GPT scan");
  is_int (vdk_volume_count (set), 1, "one GPT partition");
  is_str (vdk_volume_get_info (set, 0)->part_label, "p", "GPT name");
  is_str (vdk_volume_get_info (set, 0)->uuid,
          "33333333-3333-3333-3333-333333333333", "GPT partition GUID");

  ok (!has_warning (set, "backup header"), "sound backup: no warning");
  d[(nsec - 1) * 512 + 20] ^= 1;             /* backup reserved field */
  vdk_diskset_scan (set, VDK_SCAN_NO_FS);
  ok (has_warning (set, "backup header at LBA 8191: header CRC mismatch; "
                   "the primary is used"), "damaged backup reported");
  d[(nsec - 1) * 512 + 20] ^= 1;

  d[512 + 16] ^= 1;                          /* primary header CRC */
  vdk_diskset_scan (set, VDK_SCAN_NO_FS);
  is_int (vdk_volume_count (set), 1, "backup GPT used");
  ok (vdk_diskset_disk_layout (set, 0)->gpt_backup_used, "layout says so");
  ok (has_warning (set, "header CRC mismatch"), "bad CRC reported");

  d[(nsec - 1) * 512 + 16] ^= 1;             /* and the backup's */
  vdk_diskset_scan (set, VDK_SCAN_NO_FS);
  is_int (vdk_volume_count (set), 0, "no GPT when both headers are bad");
  ok (has_warning (set, "no GPT used"), "both failures reported");

  gpt_header (d, nsec, 1, nsec - 1, 2, 0x1000000, crc);
  vdk_diskset_scan (set, VDK_SCAN_NO_FS);
  ok (has_warning (set, "entry count absurd"), "absurd entry count refused");
  vdk_diskset_close (set);
  free (d);
}

/* ---- LVM2 --------------------------------------------------------- */

static const char vg_text[] =
  "vg0 {\n"
  "id = \"aaaaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaaaa\"\n"
  "seqno = 3\n"
  "extent_size = 2048\n"            /* 1 MiB */
  "physical_volumes {\n"
  "pv0 {\n"
  "id = \"PVPVPV-PVPV-PVPV-PVPV-PVPV-PVPV-PVPVPV\"\n"
  "pe_start = 2048\n"
  "pe_count = 6\n"
  "}\n"
  "}\n"
  "logical_volumes {\n"
  "data {\n"
  "id = \"LVLVLV-LVLV-LVLV-LVLV-LVLV-LVLV-LVLVLV\"\n"
  "status = [\"READ\", \"WRITE\", \"VISIBLE\"]\n"
  "segment_count = 2\n"
  "segment1 {\n"
  "start_extent = 0\n"
  "extent_count = 1\n"
  "type = \"striped\"\n"
  "stripe_count = 1\n"
  "stripes = [\"pv0\", 3]\n"
  "}\n"
  "segment2 {\n"
  "start_extent = 1\n"
  "extent_count = 2\n"
  "type = \"striped\"\n"
  "stripe_count = 1\n"
  "stripes = [\"pv0\", 0]\n"
  "}\n"
  "}\n"
  "}\n"
  "}\n"
  "# Generated by hand\n"
  "contents = \"Text Format Volume Group\"\n"
  "version = 1\n";

static void
test_lvm_text (void)
{
  struct vdk__vol_lv *t = vdk__vol_lvtext_parse (vg_text, sizeof vg_text - 1);
  const struct vdk__vol_lv *vg = t ? vdk__vol_lv_get (t, "vg0") : NULL;
  char deep[200] = "";

  ok (vg != NULL, "metadata text parses");
  is_int (vdk__vol_lv_int (vg, "extent_size"), 2048, "integer value");
  ok (vdk__vol_lv_has_flag (vdk__vol_lv_get (vdk__vol_lv_get (vg, "logical_volumes"), "data"),
                      "status", "VISIBLE"), "list of strings");
  vdk__vol_lvtext_free (t);
  t = vdk__vol_lvtext_parse (vg_text, 300);
  ok (t == NULL && strstr (vdk_last_error (), "truncated"),
      "truncated text refused: %s", vdk_last_error ());
  for (int i = 0; i < 40; i++)
    strcat (deep, "a{");
  ok (vdk__vol_lvtext_parse (deep, strlen (deep)) == NULL
      && strstr (vdk_last_error (), "nested too deeply"),
      "deep nesting refused");
}

/* A PV of 8 MiB: label in sector 1, a metadata area of `asize` bytes at
 * 4 KiB whose committed text starts `toff` bytes into the area (text
 * past the area's end wraps to area + 512, as lvm2 writes it), data from
 * 1 MiB; extents are 1 MiB. */
static void
make_pv_at (uint8_t *d, const char *text, size_t textlen, const char *uuid,
            uint64_t asize, uint64_t toff)
{
  uint8_t *l = d + 512, *ph, *mh = d + 4096;
  size_t first = (size_t) MIN (textlen, asize - toff);

  memset (d, 0, 1 * MiB);
  memcpy (l, "LABELONE", 8);
  le64_put (l + 8, 1);
  le32_put (l + 20, 32);
  memcpy (l + 24, "LVM2 001", 8);
  ph = l + 32;
  memcpy (ph, uuid, 32);
  le64_put (ph + 32, 8 * MiB);
  le64_put (ph + 40, 1 * MiB);               /* data area, to the end */
  le64_put (ph + 72, 4096);                  /* metadata area */
  le64_put (ph + 80, asize);
  le32_put (l + 16, vdk__vol_crc32_lvm (l + 20, 512 - 20));
  memcpy (mh + 4, " LVM2 x[5A%r0N*>", 16);
  le32_put (mh + 20, 1);
  le64_put (mh + 24, 4096);
  le64_put (mh + 32, asize);
  le64_put (mh + 40, toff);
  le64_put (mh + 48, textlen);
  memcpy (mh + toff, text, first);
  memcpy (mh + 512, text + first, textlen - first);
  le32_put (mh + 56, vdk__vol_crc32_lvm (text, textlen));
  le32_put (mh, vdk__vol_crc32_lvm (mh + 4, 512 - 4));
  for (size_t i = 1 * MiB; i < 8 * MiB; i++)
    d[i] = pattern (i);
}

static void
make_pv (uint8_t *d, size_t textlen)
{
  make_pv_at (d, vg_text, textlen, "PVPVPVPVPVPVPVPVPVPVPVPVPVPVPVPV",
              1 * MiB - 4096, 512);
}

/* The metadata wraps around the end of its area; two VGs share a name. */
static void
test_lvm_wrap_and_names (void)
{
  uint8_t *a = malloc (8 * MiB), *b = malloc (8 * MiB);
  char *text2 = strdup (vg_text);
  vdk_diskset *set = vdk_diskset_new ();

  make_pv_at (a, vg_text, sizeof vg_text - 1,
              "PVPVPVPVPVPVPVPVPVPVPVPVPVPVPVPV", 8192, 8192 - 700);
  /* Second VG: same name "vg0", other VG id and PV id. */
  memcpy (strstr (text2, "aaaaaa"), "bbbbbb", 6);
  memcpy (strstr (text2, "PVPVPV-PVPV"), "QVQVQV-QVQV", 11);
  make_pv_at (b, text2, strlen (text2), "QVQVQVQVQVPVPVPVPVPVPVPVPVPVPVPV",
              1 * MiB - 4096, 512);
  vdk__diskset_add_mem (set, a, 8 * MiB, "a.img");
  is_int (vdk_diskset_scan (set, VDK_SCAN_NO_FS), 0, "scan wrapped text");
  ok (vdk_volume_find (set, "vg0/data") != NULL,
      "metadata that wraps around the area end is read");
  vdk__diskset_add_mem (set, b, 8 * MiB, "b.img");
  is_int (vdk_diskset_scan (set, VDK_SCAN_NO_FS), 0, "scan two VGs");
  ok (vdk_volume_find (set, "vg0@aaaaaa/data") != NULL
      && vdk_volume_find (set, "vg0@bbbbbb/data") != NULL,
      "two VGs named vg0 stay apart");
  ok (vdk_volume_find (set, "vg0@bbbbbb/data")
      && vdk_volume_find (set, "vg0@bbbbbb/data")->readable
      && vdk_volume_find (set, "vg0@bbbbbb/data")->disk == 1,
      "each finds its own PV");
  vdk_diskset_close (set);
  free (a);
  free (b);
  free (text2);
}

static void
test_lvm_pv (void)
{
  uint8_t *d = malloc (8 * MiB), buf[4096];
  vdk_diskset *set = vdk_diskset_new ();
  const struct vdk_volume_info *v;
  vdk_volume *vol;

  make_pv (d, sizeof vg_text - 1);
  vdk__diskset_add_mem (set, d, 8 * MiB, "pv.img");
  is_int (vdk_diskset_scan (set, VDK_SCAN_NO_FS), 0, "PV scan");
  v = vdk_volume_find (set, "vg0/data");
  ok (v != NULL, "LV vg0/data found");
  if (v) {
    is_int (v->size, 3 * MiB, "LV size = 3 extents");
    is_str (v->uuid, "LVLVLV-LVLV-LVLV-LVLV-LVLV-LVLV-LVLVLV", "LV UUID");
    ok (vdk_diskset_disk_layout (set, 0)->lvm_pv, "disk is a PV");
  }
  vol = vdk_volume_open (set, "vg0/data", VDK_VOLUME_READ_ONLY);
  ok (vol != NULL, "LV opens");
  /* LE 0 is PE 3; LE 1 is PE 0: PV byte = 1 MiB + PE * 1 MiB. */
  is_int (vdk_volume_pread (vol, buf, sizeof buf, 10), 0, "LV read");
  ok (memcmp (buf, d + 4 * MiB + 10, sizeof buf) == 0, "LE 0 maps to PE 3");
  is_int (vdk_volume_pread (vol, buf, sizeof buf, MiB - 100), 0,
          "read across segments");
  ok (memcmp (buf, d + 5 * MiB - 100, 100) == 0
      && memcmp (buf + 100, d + 1 * MiB, sizeof buf - 100) == 0,
      "segment boundary maps PE 3 then PE 0");
  is_int (vdk_volume_pwrite (vol, buf, 1, 0), -1, "read-only volume");
  is_int (vdk_volume_pread (vol, buf, 2, 3 * MiB - 1), -1,
          "read past the end refused");
  is_int (vdk_diskset_scan (set, 0), -1, "rescan refused while open");
  vdk_volume_close (vol);

  make_pv (d, 400);                          /* truncated, valid CRC */
  is_int (vdk_diskset_scan (set, VDK_SCAN_NO_FS), 0, "scan, cut metadata");
  is_int (vdk_volume_count (set), 0, "no LV from truncated metadata");
  ok (has_warning (set, "LVM2 metadata ignored")
      && has_warning (set, "truncated"), "truncation reported");
  vdk_diskset_close (set);
  free (d);
}

int
main (void)
{
  test_raid5 ();
  test_striped_mirror_concat ();
  test_ebr ();
  test_gpt ();
  test_lvm_text ();
  test_lvm_pv ();
  test_lvm_wrap_and_names ();
  return tap_done ();
}
