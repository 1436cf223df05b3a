/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GPT partition tables.
 *
 * On-disk facts (docs/volumes-format.md §2; UEFI 2.x 5.3):
 * - Header at LBA 1 (primary) and at the last LBA (backup), 92 bytes:
 *   "EFI PART" at 0, header size u32 at 12, header CRC32 at 16 (over
 *   `size` bytes with the field zeroed), MyLBA u64 at 24, AlternateLBA
 *   at 32, first/last usable LBA at 40/48, disk GUID at 56, entry array
 *   LBA at 72, entry count u32 at 80, entry size u32 at 84 (128 << n),
 *   entry array CRC32 at 88.  All little-endian; CRC is zlib's.
 * - Entry: type GUID 0, unique GUID 16, first LBA 32, last LBA 40
 *   (inclusive), attributes 48, name 56 (36 UTF-16LE units).  A zero
 *   type GUID is an unused slot.  Partitions are numbered by slot.
 * - GUIDs: the first three fields little-endian, the last 8 bytes as is.
 *
 * The primary header is used when its header CRC, MyLBA and array CRC
 * check; otherwise the backup (at the primary's AlternateLBA if the
 * primary header itself was sound, else the last LBA), with a warning.
 * Entries outside the usable range or overlapping an earlier entry are
 * dropped with a warning. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32.h"
#include "mount-internal.h"

/* UEFI requires room for 128 entries of 128 bytes; tools never write
 * more than a few thousand.  1 MiB of entry array is far above any real
 * table and keeps a hostile count from driving a huge allocation. */
#define MAX_ARRAY_BYTES (1u << 20)

struct gpt_header {
  uint32_t hdr_size, hdr_crc;
  uint64_t my_lba, alt_lba, first_usable, last_usable;
  uint8_t disk_guid[16];
  uint64_t array_lba;
  uint32_t nentries, entry_size, array_crc;
};

void
vdk__vol_guid_format (const uint8_t g[16], char out[37])
{
  snprintf (out, 37, "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X",
            le32_get (g), le16_get (g + 4), le16_get (g + 6), g[8], g[9],
            g[10], g[11], g[12], g[13], g[14], g[15]);
}

static const struct { const char *guid, *name; } gpt_names[] = {
  { "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "EFI System" },
  { "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "Microsoft basic data" },
  { "E3C9E316-0B5C-4DB8-817D-F92DF00215AE", "Microsoft reserved" },
  { "5808C8AA-7E8F-42E0-85D2-E1E90434CFB3", "Microsoft LDM metadata" },
  { "AF9B60A0-1431-4F62-BC68-3311714A69AD", "Microsoft LDM data" },
  { "DE94BBA4-06D1-4D40-A16A-BFD50179D6AC", "Windows recovery environment" },
  { "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "Linux filesystem" },
  { "E6D6D379-F507-44C2-A23C-238F2A3DF928", "Linux LVM" },
  { "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", "Linux swap" },
  { "A19D880F-05FC-4D3B-A006-743F0F84911E", "Linux RAID" },
  { "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "Linux root (x86-64)" },
  { "BC13C2FF-59E6-4262-A352-B275FD6F7172", "Linux extended boot" },
  { "933AC7E1-2EB4-4F13-B844-0E14E2AEF915", "Linux home" },
  { "21686148-6449-6E6F-744E-656564454649", "BIOS boot" },
};

const char *
vdk__vol_gpt_type_name (const char *guid)
{
  for (size_t i = 0; i < ARRAY_SIZE (gpt_names); i++)
    if (strcmp (gpt_names[i].guid, guid) == 0)
      return gpt_names[i].name;
  return "unknown";
}

/* Check one header sector read from `lba`; 0 if sound. */
static int
decode_header (const uint8_t *sec, uint32_t ss, uint64_t lba, uint64_t nlba,
               struct gpt_header *h, const char **why)
{
  uint8_t tmp[512];
  uint64_t bytes;

  if (memcmp (sec, "EFI PART", 8) != 0)
    return *why = "no \"EFI PART\" signature", -1;
  h->hdr_size = le32_get (sec + 12);
  if (h->hdr_size < 92 || h->hdr_size > 512 || h->hdr_size > ss)
    return *why = "header size out of range", -1;
  h->hdr_crc = le32_get (sec + 16);
  memcpy (tmp, sec, h->hdr_size);
  memset (tmp + 16, 0, 4);
  if (vdk__vol_crc32 (tmp, h->hdr_size) != h->hdr_crc)
    return *why = "header CRC mismatch", -1;
  h->my_lba = le64_get (sec + 24);
  h->alt_lba = le64_get (sec + 32);
  h->first_usable = le64_get (sec + 40);
  h->last_usable = le64_get (sec + 48);
  memcpy (h->disk_guid, sec + 56, 16);
  h->array_lba = le64_get (sec + 72);
  h->nentries = le32_get (sec + 80);
  h->entry_size = le32_get (sec + 84);
  h->array_crc = le32_get (sec + 88);
  if (h->my_lba != lba)
    return *why = "MyLBA does not match the header's position", -1;
  if (h->first_usable > h->last_usable || h->last_usable >= nlba)
    return *why = "usable range lies outside the disk", -1;
  if (h->entry_size < 128 || !IS_POWER_OF_2 (h->entry_size))
    return *why = "entry size is not 128 << n", -1;
  if (MUL_OVERFLOW ((uint64_t) h->nentries, h->entry_size, &bytes)
      || bytes > MAX_ARRAY_BYTES || bytes == 0)
    return *why = "entry count absurd (array larger than 1 MiB or empty)", -1;
  if (h->array_lba >= nlba || (nlba - h->array_lba) * ss < bytes)
    return *why = "entry array lies outside the disk", -1;
  return 0;
}

/* Read and check the header at `lba` and its entry array. */
static int
load (struct vdk_diskset *set, size_t d, uint32_t ss, uint64_t lba,
      struct gpt_header *h, uint8_t **array, const char **why)
{
  uint64_t nlba = set->disks[d].size / ss;
  uint8_t sec[4096];
  size_t bytes;

  *array = NULL;
  if (lba >= nlba)
    return *why = "header lies outside the disk", 1;
  if (vdk__vol_read (set, d, sec, ss, lba * ss) == -1)
    return -1;
  if (decode_header (sec, ss, lba, nlba, h, why) == -1)
    return 1;
  bytes = (size_t) h->nentries * h->entry_size;
  *array = malloc (bytes);
  if (!*array)
    return vdk__err (ENOMEM, "out of memory");
  if (vdk__vol_read (set, d, *array, bytes, h->array_lba * ss) == -1) {
    free (*array);
    *array = NULL;
    return -1;
  }
  if (vdk__vol_crc32 (*array, bytes) != h->array_crc) {
    free (*array);
    *array = NULL;
    return *why = "entry array CRC mismatch", 1;
  }
  return 0;
}

/* UTF-16LE name to UTF-8; stops at NUL. */
static void
utf16_name (const uint8_t *p, size_t units, char *out, size_t outlen)
{
  size_t o = 0;

  for (size_t i = 0; i < units; i++) {
    uint32_t c = le16_get (p + 2 * i);
    if (c == 0)
      break;
    if (c >= 0xD800 && c < 0xDC00 && i + 1 < units) {
      uint32_t lo = le16_get (p + 2 * i + 2);
      if (lo >= 0xDC00 && lo < 0xE000) {
        c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
        i++;
      }
    }
    /* A surrogate left unpaired has no UTF-8 form (encoding it would
     * make invalid UTF-8, which JSON parsers reject): U+FFFD. */
    if (c >= 0xD800 && c < 0xE000)
      c = 0xFFFD;
    if (o + 5 > outlen)
      break;
    if (c < 0x80)
      out[o++] = (char) c;
    else if (c < 0x800) {
      out[o++] = (char) (0xC0 | (c >> 6));
      out[o++] = (char) (0x80 | (c & 0x3F));
    }
    else if (c < 0x10000) {
      out[o++] = (char) (0xE0 | (c >> 12));
      out[o++] = (char) (0x80 | ((c >> 6) & 0x3F));
      out[o++] = (char) (0x80 | (c & 0x3F));
    }
    else {
      out[o++] = (char) (0xF0 | (c >> 18));
      out[o++] = (char) (0x80 | ((c >> 12) & 0x3F));
      out[o++] = (char) (0x80 | ((c >> 6) & 0x3F));
      out[o++] = (char) (0x80 | (c & 0x3F));
    }
  }
  out[o] = 0;
}

static int
add_entry (struct vdk_diskset *set, size_t d, uint32_t ss, int number,
           const uint8_t *e, uint64_t first, uint64_t last)
{
  struct vdk__vol *v = vdk__vol_new (set, "gpt", "partition");
  struct vdk__vol_disk *md = &set->disks[d];
  char type[37], uuid[37], name[36 * 4 + 1];

  if (!v)
    return -1;
  vdk__vol_guid_format (e, type);
  vdk__vol_guid_format (e + 16, uuid);
  utf16_name (e + 56, 36, name, sizeof name);
  v->part_number = number;
  v->set_disk = (int) d;
  if (vdk__vol_str (v, &v->info.part_type, "%s", type)
      || vdk__vol_str (v, &v->info.type_name, "%s", vdk__vol_gpt_type_name (type))
      || vdk__vol_str (v, &v->info.uuid, "%s", uuid)
      || vdk__vol_str (v, &v->info.part_label, "%s", name))
    return -1;
  if (strcmp (type, "5808C8AA-7E8F-42E0-85D2-E1E90434CFB3") == 0) {
    md->ldm_gpt = true;
    md->ldm_meta_last = last * ss;
    v->info.flags |= VDK_VOLUME_CONTAINER;
    v->no_probe = true;
  }
  if (strcmp (type, "AF9B60A0-1431-4F62-BC68-3311714A69AD") == 0) {
    v->info.flags |= VDK_VOLUME_CONTAINER;
    v->no_probe = true;
  }
  return vdk__vol_set_map (v, vdk__vol_map_leaf ((int) d, first * ss,
                                         (last - first + 1) * ss));
}

static int
add_entries (struct vdk_diskset *set, size_t d, uint32_t ss,
             const struct gpt_header *h, const uint8_t *array)
{
  const char *dn = set->disks[d].name;
  size_t first_vol = set->nvols;

  for (uint32_t i = 0; i < h->nentries; i++) {
    const uint8_t *e = array + (size_t) i * h->entry_size;
    uint64_t first = le64_get (e + 32), last = le64_get (e + 40);
    bool overlap = false;

    if (is_zero (e, 16))
      continue;
    if (first < h->first_usable || last > h->last_usable || first > last) {
      vdk__vol_warn (set, "%s: GPT: partition %u (LBA %" PRIu64 "-%" PRIu64
               ") lies outside the usable range; ignored", dn, i + 1,
               first, last);
      continue;
    }
    for (size_t k = first_vol; k < set->nvols; k++) {
      const struct vdk_volume_info *o = &set->vols[k]->info;
      if (first * ss < o->start + o->size && o->start < (last + 1) * ss)
        overlap = true;
    }
    if (overlap) {
      vdk__vol_warn (set, "%s: GPT: partition %u overlaps an earlier partition; "
               "ignored", dn, i + 1);
      continue;
    }
    if (add_entry (set, d, ss, (int) i + 1, e, first, last) == -1)
      return -1;
  }
  return 0;
}

/* The primary is sound: say so if its backup is not (tools that
 * "repair" GPTs would otherwise copy a damaged table one day). */
static int
check_backup (struct vdk_diskset *set, size_t d, uint32_t ss,
              const struct gpt_header *primary)
{
  struct gpt_header b;
  uint8_t *array = NULL;
  const char *why = "";
  int r = load (set, d, ss, primary->alt_lba, &b, &array, &why);

  free (array);
  if (r == 1)
    vdk__vol_warn (set, "%s: GPT: backup header at LBA %" PRIu64 ": %s; the "
             "primary is used", set->disks[d].name, primary->alt_lba, why);
  return r == -1 ? -1 : 0;
}

int
vdk__vol_scan_gpt (struct vdk_diskset *set, size_t d, uint32_t ss)
{
  struct vdk__vol_disk *md = &set->disks[d];
  struct gpt_header h;
  uint8_t *array = NULL;
  const char *why = "", *why2 = "";
  uint64_t nlba = md->size / ss, alt = nlba - 1;
  int r;
  char guid[37];

  r = load (set, d, ss, 1, &h, &array, &why);
  if (r == -1)
    return -1;
  if (r == 1) {
    /* A sound primary header names its backup; else use the last LBA. */
    if (strcmp (why, "entry array CRC mismatch") == 0 && h.alt_lba < nlba)
      alt = h.alt_lba;
    r = load (set, d, ss, alt, &h, &array, &why2);
    if (r == -1)
      return -1;
    if (r == 1) {
      vdk__vol_warn (set, "%s: GPT: primary header: %s; backup header at LBA %"
               PRIu64 ": %s; no GPT used", md->name, why, alt, why2);
      return 0;
    }
    vdk__vol_warn (set, "%s: GPT: primary header: %s; using the backup header at "
             "LBA %" PRIu64, md->name, why, alt);
    md->layout.gpt_backup_used = 1;
  }
  else if (check_backup (set, d, ss, &h) == -1) {
    free (array);
    return -1;
  }
  vdk__vol_guid_format (h.disk_guid, guid);
  md->table_id = strdup (guid);
  if (!md->table_id) {
    free (array);
    return vdk__err (ENOMEM, "out of memory");
  }
  md->layout.table = "gpt";
  md->layout.table_id = md->table_id;
  md->has_table = true;
  r = add_entries (set, d, ss, &h, array);
  free (array);
  return r;
}
