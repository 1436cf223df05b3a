/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* File-system identification with libblkid.
 *
 * libblkid 2.38 (Debian 12) probes only file descriptors; a volume is
 * bytes behind a map (a VMDK grain table, a stripe set, ...), not a file.
 * So each volume is staged in a sparse memfd of the volume's size that
 * holds exactly the bytes blkid's probers read, and blkid probes that:
 *   - the first 1 MiB: every superblock blkid knows of lies there
 *     (ext* 1 KiB, XFS 0, btrfs 64 KiB, swap, ISO 9660 32 KiB, FAT/NTFS/
 *     exFAT boot sectors, LVM2 label, LUKS, md 1.1/1.2);
 *   - the last 1 MiB: md 0.90/1.0 and other RAID signatures at the end;
 *   - labels that live in the file system's own structures, located from
 *     the boot sector: NTFS MFT records 0-3 ($Volume is record 3), the
 *     FAT12/16 root directory, the first FAT32/exFAT root-directory
 *     cluster and the FAT sector that chains it.
 * Bytes not copied read as zero, which blkid treats as "no signature".
 * Memory: at most ~2.5 MiB per volume while it is probed (tmpfs pages),
 * freed right after.  Boot-sector numbers only choose what to copy; they
 * are range-checked and each hint is capped (HINT_MAX).
 *
 * Where this falls short: a FAT32/exFAT label in a later root-directory
 * cluster, or a file system blkid identifies from data far inside the
 * volume beyond the areas above, is not found. */
#include <blkid/blkid.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mount-internal.h"

#define HEAD_BYTES (1u << 20)
#define TAIL_BYTES (1u << 20)
#define HINT_MAX (256u << 10)   /* one root-directory cluster, MFT recs */

struct range {
  uint64_t off, len;
};

static int
copy_range (struct vdk_diskset *set, struct vdk__vol *v, int fd,
            uint64_t off, uint64_t len, uint8_t *buf)
{
  uint64_t size = v->info.size;

  if (off >= size)
    return 0;
  len = MIN (len, size - off);
  while (len > 0) {
    size_t n = (size_t) MIN (len, (uint64_t) HEAD_BYTES);
    if (vdk__vol_map_pread (set, v->map, buf, n, off) == -1)
      return -1;
    if (!is_zero (buf, n) && pwrite (fd, buf, n, (off_t) off) != (ssize_t) n)
      return vdk__err (errno, "memfd write: %m");
    off += n, len -= n;
  }
  return 0;
}

static void
hint (struct range *r, int *n, uint64_t off, uint64_t len)
{
  if (*n < 4 && len > 0) {
    r[*n].off = off;
    r[*n].len = MIN (len, (uint64_t) HINT_MAX);
    (*n)++;
  }
}

/* Bytes per sector and cluster from a BPB, 0 if implausible. */
static uint64_t
bpb_geometry (const uint8_t *b, uint64_t *cluster)
{
  uint64_t ss = le16_get (b + 0x0B), spc = b[0x0D];

  if (ss < 512 || ss > 4096 || !IS_POWER_OF_2 (ss) || !IS_POWER_OF_2 (spc))
    return 0;
  *cluster = ss * spc;
  return ss;
}

static void
ntfs_hints (const uint8_t *b, struct range *r, int *n)
{
  uint64_t cluster, ss = bpb_geometry (b, &cluster), off, rec;
  int8_t c = (int8_t) b[0x40];

  if (!ss)
    return;
  rec = c > 0 ? (uint64_t) c * cluster : (c < -31 ? 0 : 1ull << -c);
  if (rec == 0 || MUL_OVERFLOW (le64_get (b + 0x30), cluster, &off))
    return;
  hint (r, n, off, 4 * rec);
}

static void
fat_hints (const uint8_t *b, struct range *r, int *n)
{
  uint64_t cluster, ss = bpb_geometry (b, &cluster);
  uint64_t reserved = le16_get (b + 0x0E), fats = b[0x10];
  uint64_t roots = le16_get (b + 0x11), fatsz = le16_get (b + 0x16);
  uint64_t root, data, rc;

  if (!ss)
    return;
  if (fatsz == 0)
    fatsz = le32_get (b + 0x24);
  root = (reserved + fats * fatsz) * ss;
  if (roots) {                       /* FAT12/16: fixed root directory */
    hint (r, n, root, roots * 32);
    return;
  }
  rc = le32_get (b + 0x2C);          /* FAT32: root cluster chain */
  if (rc < 2)
    return;
  data = root;
  hint (r, n, data + (rc - 2) * cluster, cluster);
  hint (r, n, reserved * ss + (rc * 4 / ss) * ss, ss);
}

static void
exfat_hints (const uint8_t *b, struct range *r, int *n)
{
  unsigned bps = b[0x6C], spc = b[0x6D];
  uint64_t fat = le32_get (b + 0x50), heap = le32_get (b + 0x58);
  uint64_t rc = le32_get (b + 0x60), ss, cluster;

  /* exFAT: 512..4096-byte sectors and clusters of at most 32 MiB. */
  if (bps < 9 || bps > 12 || bps + spc > 25 || rc < 2)
    return;
  ss = 1ull << bps;
  cluster = ss << spc;
  hint (r, n, heap * ss + (rc - 2) * cluster, cluster);
  hint (r, n, fat * ss + (rc * 4 / ss) * ss, ss);
}

static void
probe_values (struct vdk__vol *v, blkid_probe pr)
{
  const char *val;

  if (blkid_probe_lookup_value (pr, "TYPE", &val, NULL) == 0)
    vdk__vol_str (v, &v->info.fs_type, "%s", val);
  if (blkid_probe_lookup_value (pr, "LABEL", &val, NULL) == 0)
    vdk__vol_str (v, &v->info.fs_label, "%s", val);
  if (blkid_probe_lookup_value (pr, "UUID", &val, NULL) == 0)
    vdk__vol_str (v, &v->info.fs_uuid, "%s", val);
  if (blkid_probe_lookup_value (pr, "USAGE", &val, NULL) == 0)
    vdk__vol_str (v, &v->info.fs_usage, "%s", val);
}

static int
run_blkid (struct vdk_diskset *set, struct vdk__vol *v, int fd)
{
  blkid_probe pr = blkid_new_probe ();
  int r;

  if (!pr)
    return vdk__err (ENOMEM, "blkid_new_probe failed");
  if (blkid_probe_set_device (pr, fd, 0, (blkid_loff_t) v->info.size) != 0) {
    blkid_free_probe (pr);
    return vdk__err (EIO, "blkid_probe_set_device failed");
  }
  blkid_probe_enable_superblocks (pr, 1);
  blkid_probe_set_superblocks_flags (pr, BLKID_SUBLKS_TYPE
                                     | BLKID_SUBLKS_LABEL
                                     | BLKID_SUBLKS_UUID
                                     | BLKID_SUBLKS_USAGE);
  r = blkid_do_safeprobe (pr);
  if (r == 0)
    probe_values (v, pr);
  else if (r == -2)
    vdk__vol_warn (set, "volume %s: more than one file-system signature found; "
             "file system not identified", v->info.name);
  blkid_free_probe (pr);
  return 0;
}

static int
probe_one (struct vdk_diskset *set, struct vdk__vol *v, uint8_t *buf)
{
  struct range hints[4];
  int nh = 0, fd, r = -1;
  uint64_t size = v->info.size, tail;

  fd = memfd_create ("vdk-probe", MFD_CLOEXEC);
  if (fd == -1)
    return vdk__err (errno, "memfd_create: %m");
  if (ftruncate (fd, (off_t) size) == -1) {
    vdk__err (errno, "memfd ftruncate: %m");
    goto out;
  }
  if (copy_range (set, v, fd, 0, HEAD_BYTES, buf) == -1)
    goto out;
  tail = size > TAIL_BYTES ? size - TAIL_BYTES : 0;
  if (tail >= HEAD_BYTES && copy_range (set, v, fd, tail, TAIL_BYTES, buf))
    goto out;
  if (pread (fd, buf, SECTOR, 0) == SECTOR) {
    if (memcmp (buf + 3, "NTFS    ", 8) == 0)
      ntfs_hints (buf, hints, &nh);
    else if (memcmp (buf + 3, "EXFAT   ", 8) == 0)
      exfat_hints (buf, hints, &nh);
    else if (buf[510] == 0x55 && buf[511] == 0xAA
             && (memcmp (buf + 0x36, "FAT", 3) == 0
                 || memcmp (buf + 0x52, "FAT32", 5) == 0))
      fat_hints (buf, hints, &nh);
  }
  for (int i = 0; i < nh; i++)
    if (hints[i].off >= HEAD_BYTES
        && copy_range (set, v, fd, hints[i].off, hints[i].len, buf) == -1)
      goto out;
  r = run_blkid (set, v, fd);
 out:
  close (fd);
  return r;
}

void
vdk__vol_probe_volumes (struct vdk_diskset *set)
{
  uint8_t *buf = malloc (HEAD_BYTES);

  if (!buf) {
    vdk__vol_warn (set, "out of memory: file systems not identified");
    return;
  }
  for (size_t i = 0; i < set->nvols; i++) {
    struct vdk__vol *v = set->vols[i];
    /* Extended and LDM partitions hold EBRs or dynamic-disk data, not
     * a file system (the first LDM volume may start at the same sector
     * and would be reported twice). */
    if (!v->info.readable || v->info.size == 0 || v->no_probe)
      continue;
    if (probe_one (set, v, buf) == -1)
      vdk__vol_warn (set, "volume %s: file system not identified: %s",
               v->info.name, vdk_last_error ());
  }
  free (buf);
}
