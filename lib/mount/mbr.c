/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* MBR (DOS) partition tables with extended/logical partitions.
 *
 * On-disk facts (docs: docs/volumes-format.md §1):
 * - Sector 0: disk signature u32 LE at 0x1B8, four 16-byte entries at
 *   0x1BE, 0x55 0xAA at 510.  Entry: status (0x00/0x80, anything else
 *   means "not an MBR"), CHS (ignored), type at +4, LBA start u32 at +8,
 *   sector count u32 at +12.
 * - A file-system boot sector (NTFS, exFAT, FAT) also ends in 0x55AA:
 *   sector 0 is not a partition table if it carries such a signature.
 * - Type 0xEE: GPT protective (gpt.c takes over); other entries beside
 *   it make a hybrid MBR, reported in the disk layout, GPT wins.
 * - Extended (0x05, 0x0F, 0x85) at E: each EBR has the logical partition
 *   in entry 1 (start relative to this EBR) and the link to the next EBR
 *   in entry 2 (start relative to E).  Logicals are numbered 5, 6, ...
 *   in chain order, as Linux numbers them.
 *
 * Damage is not fatal: a loop, an EBR or logical outside the extended
 * area, or overlapping logicals stop the chain with a warning and keep
 * what was found before.  Primaries beyond the end of the disk are
 * dropped with a warning; overlapping primaries are kept and warned
 * about (Linux lists them too). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mount-internal.h"

/* Linux caps the chain too; real disks have a few dozen logicals. */
#define MAX_EBRS 256

struct mbr_entry {
  uint8_t status, type;
  uint64_t start, count;   /* sectors */
};

static void
decode_entries (const uint8_t *sec, struct mbr_entry e[4])
{
  for (int i = 0; i < 4; i++) {
    const uint8_t *p = sec + 0x1BE + 16 * i;
    e[i].status = p[0];
    e[i].type = p[4];
    e[i].start = le32_get (p + 8);
    e[i].count = le32_get (p + 12);
  }
}

static bool
is_extended (unsigned t)
{
  return t == 0x05 || t == 0x0F || t == 0x85;
}

/* A boot sector of a file system rather than a partition table? */
static bool
looks_like_vbr (const uint8_t *sec)
{
  return memcmp (sec + 3, "NTFS    ", 8) == 0
    || memcmp (sec + 3, "EXFAT   ", 8) == 0
    || memcmp (sec + 0x36, "FAT12   ", 8) == 0
    || memcmp (sec + 0x36, "FAT16   ", 8) == 0
    || memcmp (sec + 0x52, "FAT32   ", 8) == 0;
}

static const struct { unsigned type; const char *name; } mbr_names[] = {
  { 0x01, "FAT12" }, { 0x04, "FAT16 <32M" }, { 0x05, "Extended" },
  { 0x06, "FAT16" }, { 0x07, "HPFS/NTFS/exFAT" }, { 0x0b, "W95 FAT32" },
  { 0x0c, "W95 FAT32 (LBA)" }, { 0x0e, "W95 FAT16 (LBA)" },
  { 0x0f, "W95 Ext'd (LBA)" }, { 0x11, "Hidden FAT12" },
  { 0x12, "Compaq diagnostics" }, { 0x17, "Hidden HPFS/NTFS" },
  { 0x1b, "Hidden W95 FAT32" }, { 0x1c, "Hidden W95 FAT32 (LBA)" },
  { 0x27, "Hidden NTFS WinRE" }, { 0x42, "SFS / Windows LDM" },
  { 0x82, "Linux swap / Solaris" }, { 0x83, "Linux" },
  { 0x85, "Linux extended" }, { 0x8e, "Linux LVM" },
  { 0xa5, "FreeBSD" }, { 0xa6, "OpenBSD" }, { 0xaf, "HFS / HFS+" },
  { 0xee, "GPT" }, { 0xef, "EFI (FAT-12/16/32)" },
  { 0xfd, "Linux raid autodetect" },
};

const char *
vdk__vol_mbr_type_name (unsigned type)
{
  for (size_t i = 0; i < ARRAY_SIZE (mbr_names); i++)
    if (mbr_names[i].type == type)
      return mbr_names[i].name;
  return "unknown";
}

/* Add one MBR partition volume. */
static int
add_part (struct vdk_diskset *set, size_t d, int number, unsigned type,
          uint64_t start, uint64_t count, const char *parent)
{
  struct vdk__vol_disk *md = &set->disks[d];
  struct vdk__vol *v = vdk__vol_new (set, "mbr", "partition");
  uint64_t off = start * SECTOR, len = count * SECTOR;

  if (!v)
    return -1;
  v->part_number = number;
  v->set_disk = (int) d;
  if (vdk__vol_str (v, &v->info.part_type, "0x%02x", type) == -1
      || vdk__vol_str (v, &v->info.type_name, "%s", vdk__vol_mbr_type_name (type))
      || vdk__vol_str (v, &v->info.uuid, "%s-%016" PRIX64, md->table_id, off)
      || vdk__vol_str (v, &v->info.parent, "%s", parent))
    return -1;
  if (is_extended (type) || type == 0x42) {
    v->info.flags |= VDK_VOLUME_CONTAINER;
    v->no_probe = true;
  }
  return vdk__vol_set_map (v, vdk__vol_map_leaf ((int) d, off, len));
}

/* Walk the EBR chain of the extended partition at [ext, ext+ext_len). */
static int
scan_ebr_chain (struct vdk_diskset *set, size_t d, uint64_t ext,
                uint64_t ext_len, const char *ext_name)
{
  struct vdk__vol_disk *md = &set->disks[d];
  uint64_t ebr = ext, ext_end = ext + ext_len;
  uint64_t used_end = ext;   /* logicals must move forward */
  uint8_t sec[SECTOR];
  struct mbr_entry e[4];
  int number = 5;

  for (int n = 0; ; n++) {
    if (n == MAX_EBRS) {
      vdk__vol_warn (set, "%s: MBR: more than %d logical partitions; the EBR "
               "chain is probably a loop; rest ignored", md->name, MAX_EBRS);
      return 0;
    }
    if (ebr < ext || ebr >= ext_end || ebr < used_end) {
      vdk__vol_warn (set, "%s: MBR: EBR at sector %" PRIu64 " lies %s; EBR chain "
               "stopped (loop or damaged table)", md->name, ebr,
               ebr < used_end && ebr >= ext ? "before the previous logical "
               "partition" : "outside the extended partition");
      return 0;
    }
    if (vdk__vol_read (set, d, sec, SECTOR, ebr * SECTOR) == -1)
      return -1;
    if (sec[510] != 0x55 || sec[511] != 0xAA) {
      vdk__vol_warn (set, "%s: MBR: EBR at sector %" PRIu64 " has no 0x55AA "
               "signature; EBR chain stopped", md->name, ebr);
      return 0;
    }
    decode_entries (sec, e);
    if (e[0].type != 0 && e[0].count != 0) {
      uint64_t s = ebr + e[0].start, end = s + e[0].count;
      if (s <= ebr || end > ext_end) {
        vdk__vol_warn (set, "%s: MBR: logical partition %d (sectors %" PRIu64
                 "+%" PRIu64 ") lies outside the extended partition or "
                 "overlaps its EBR; EBR chain stopped", md->name, number,
                 s, e[0].count);
        return 0;
      }
      if (add_part (set, d, number++, e[0].type, s, e[0].count,
                    ext_name) == -1)
        return -1;
      used_end = end;
    }
    else
      used_end = ebr + 1;
    if (e[1].count == 0 || !is_extended (e[1].type))
      return 0;
    ebr = ext + e[1].start;
  }
}

/* Returns the index of the extended entry or -1; checks primaries. */
static int
check_primaries (struct vdk_diskset *set, size_t d, struct mbr_entry e[4],
                 bool keep[4])
{
  struct vdk__vol_disk *md = &set->disks[d];
  uint64_t nsec = md->size / SECTOR;
  int ext = -1;

  for (int i = 0; i < 4; i++) {
    keep[i] = e[i].type != 0 && e[i].count != 0;
    if (!keep[i])
      continue;
    if (e[i].start == 0 || e[i].start + e[i].count > nsec) {
      vdk__vol_warn (set, "%s: MBR: partition %d (sectors %" PRIu64 "+%" PRIu64
               ") lies outside the disk (%" PRIu64 " sectors); ignored",
               md->name, i + 1, e[i].start, e[i].count, nsec);
      keep[i] = false;
      continue;
    }
    for (int j = 0; j < i; j++)
      if (keep[j] && e[i].start < e[j].start + e[j].count
          && e[j].start < e[i].start + e[i].count)
        vdk__vol_warn (set, "%s: MBR: partitions %d and %d overlap", md->name,
                 j + 1, i + 1);
    if (is_extended (e[i].type)) {
      if (ext >= 0)
        vdk__vol_warn (set, "%s: MBR: more than one extended partition; only "
                 "partition %d is followed", md->name, ext + 1);
      else
        ext = i;
    }
  }
  return ext;
}

int
vdk__vol_scan_mbr (struct vdk_diskset *set, size_t d)
{
  struct vdk__vol_disk *md = &set->disks[d];
  uint8_t sec[SECTOR];
  struct mbr_entry e[4];
  bool keep[4], protective = false, others = false;
  char ext_name[32] = "";
  int ext;

  if (md->size < 2 * SECTOR)
    return 0;
  if (vdk__vol_read (set, d, sec, SECTOR, 0) == -1)
    return -1;
  if (sec[510] != 0x55 || sec[511] != 0xAA || looks_like_vbr (sec))
    return 0;
  decode_entries (sec, e);
  for (int i = 0; i < 4; i++) {
    if (e[i].status != 0 && e[i].status != 0x80)
      return 0;
    if (e[i].type == 0xEE)
      protective = true;
    else if (e[i].type != 0)
      others = true;
  }
  if (protective) {
    md->layout.hybrid_mbr = others;
    if (others)
      vdk__vol_warn (set, "%s: hybrid MBR: the MBR has partitions beside the "
               "GPT protective entry; the GPT is used", md->name);
    if (vdk__vol_scan_gpt (set, d, SECTOR) == -1)
      return -1;
    if (md->has_table)
      return 0;
    vdk__vol_warn (set, "%s: protective MBR without a valid GPT", md->name);
    return 0;
  }
  /* An MBR without entries is no table: the disk may still be a PV or
   * hold a bare file system (libblkid decides the same way). */
  if (is_zero (sec + 0x1BE, 64))
    return 0;
  if (asprintf (&md->table_id, "%08x", le32_get (sec + 0x1B8)) < 0) {
    md->table_id = NULL;
    return vdk__err (ENOMEM, "out of memory");
  }
  md->layout.table = "mbr";
  md->layout.table_id = md->table_id;
  md->has_table = true;
  md->mbr_first_type = e[0].type;
  ext = check_primaries (set, d, e, keep);
  for (int i = 0; i < 4; i++)
    if (keep[i] && add_part (set, d, i + 1, e[i].type, e[i].start,
                             e[i].count, "") == -1)
      return -1;
  if (ext < 0)
    return 0;
  snprintf (ext_name, sizeof ext_name, "%d", ext + 1);
  return scan_ebr_chain (set, d, e[ext].start, e[ext].count, ext_name);
}
