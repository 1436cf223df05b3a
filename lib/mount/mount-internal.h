/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal interfaces of the volume library (lib/mount).
 *
 * Layers inside lib/mount, bottom up:
 *   diskset.c   the set: member disks (a vdk_disk, or a memory buffer
 *               for fuzzing), their reads, warnings, the volume list and
 *               the strings each volume owns.
 *   map.c       a volume's address map: a tree of leaves (disk, offset,
 *               length) under concat / striped / mirror / raid5 nodes,
 *               and the one reader/writer that walks it.
 *   mbr.c gpt.c lvm.c lvmtext.c ldm.c
 *               parsers: read on-disk structures through vdk__vol_read, check
 *               them, and add volumes with vdk__vol_new + a map.
 *   probe.c     file-system identification with libblkid.
 *   scan.c      runs the parsers over the set in order; names volumes.
 *   volume.c    the public volume handle; osinfo.c the OS guess.
 *
 * Everything here is prefixed vdk__ (vdk__vol_ for this layer) and hidden
 * from the shared object.
 */
#ifndef VDK_MOUNT_INTERNAL_H
#define VDK_MOUNT_INTERNAL_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "error.h"
#include "vdk-mount.h"

/* The public calls here name themselves with vdk__set_call (error.h)
 * and read messages with vdk_last_error (), which carries no call name. */

/* ---- maps (map.c) ----------------------------------------------------- */

enum vdk__vol_map_type { VOL_LEAF, VOL_CONCAT, VOL_STRIPED, VOL_MIRROR, VOL_RAID5 };

struct vdk__vol_map {
  int type;              /* enum vdk__vol_map_type */
  uint64_t size;         /* bytes this node covers */
  int disk;              /* leaf: set index, -1 = missing */
  uint64_t off;          /* leaf: byte offset on the disk */
  uint64_t chunk;        /* striped/raid5: bytes per chunk */
  size_t n;              /* children */
  struct vdk__vol_map **child;
  uint64_t *start;       /* concat: volume offset of each child */
  bool present;          /* all data readable */
  bool degraded;         /* readable only thanks to redundancy */
  bool complete;         /* no leaf missing */
};

struct vdk__vol_map *vdk__vol_map_leaf (int disk, uint64_t off, uint64_t size);
struct vdk__vol_map *vdk__vol_map_node (int type, uint64_t chunk);
/* Append a child (taken over even on failure). */
int vdk__vol_map_add (struct vdk__vol_map *m, struct vdk__vol_map *child);
/* Compute size and presence bottom-up and check the shape: striped and
 * raid5 children of equal size, a multiple of the chunk; mirror legs of
 * equal size.  -1 with a message if the shape is wrong. */
int vdk__vol_map_finish (struct vdk__vol_map *m);
void vdk__vol_map_free (struct vdk__vol_map *m);
struct vdk__vol_map *vdk__vol_map_clone (const struct vdk__vol_map *m);

struct vdk_diskset;
/* The one volume reader: `off + len` must lie inside m->size. */
int vdk__vol_map_pread (struct vdk_diskset *set, const struct vdk__vol_map *m,
                  void *buf, uint64_t len, uint64_t off);
int vdk__vol_map_pwrite (struct vdk_diskset *set, const struct vdk__vol_map *m,
                   const void *buf, uint64_t len, uint64_t off);

/* ---- the set (diskset.c) ---------------------------------------------- */

struct vdk__vol_disk {
  vdk_disk *disk;        /* NULL for a memory member */
  bool borrowed;         /* VDK_DISKSET_BORROW: not closed with the set */
  const uint8_t *mem;    /* memory member (fuzzing), not owned */
  uint64_t size;         /* bytes */
  char *name;
  struct vdk_disk_layout layout;
  char *table_id;        /* owns layout.table_id */
  /* What the partition scan found, for the later passes. */
  int mbr_first_type;    /* type byte of MBR slot 1 (0x42 = LDM) */
  bool has_table;
  bool ldm_gpt;          /* GPT with an LDM metadata partition */
  uint64_t ldm_meta_last; /* its last LBA (byte offset) */
};

struct vdk__vol {
  struct vdk_volume_info info;
  struct vdk__vol_map *map;
  struct vdk_volume_member *members;
  struct vdk_volume_member **member_ptrs; /* info.members: into members */
  char **strs;           /* strings owned by this volume */
  size_t nstrs;
  char *problem;
  int part_number;       /* MBR/GPT number, 0 otherwise */
  int set_disk;          /* disk of a partition or whole disk, or -1 */
  bool no_probe;         /* holds no file system (extended, LDM) */
};

struct vdk_diskset {
  struct vdk__vol_disk *disks;
  size_t ndisks;
  struct vdk__vol **vols;
  size_t nvols;
  char **warnings;
  size_t nwarnings;
  bool scanned;
  unsigned open_volumes; /* open handles; changed atomically */
};

/* Read `len` bytes at `off` of set disk `d`; range checked against its
 * size (EIO-free short disks are an error here: parsers ask only for
 * what lies inside).  Messages name the disk. */
int vdk__vol_read (struct vdk_diskset *set, size_t d, void *buf, uint64_t len,
             uint64_t off);
int vdk__vol_write (struct vdk_diskset *set, size_t d, const void *buf,
              uint64_t len, uint64_t off);
/* Record a scan warning (also sent to the info log). */
void vdk__vol_warn (struct vdk_diskset *set, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

/* A new volume appended to the set, its strings "" and disk -1. */
struct vdk__vol *vdk__vol_new (struct vdk_diskset *set, const char *kind,
                           const char *layout);
/* printf into a string the volume owns and store it in *field. */
int vdk__vol_str (struct vdk__vol *v, const char **field, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));
/* Mark the volume incomplete/unreadable with a reason (first wins). */
void vdk__vol_problem (struct vdk__vol *v, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
/* Attach the map and derive size, members, disk, start, flags. */
int vdk__vol_set_map (struct vdk__vol *v, struct vdk__vol_map *m);
void vdk__vol_free (struct vdk__vol *v);
void vdk__vol_set_clear_volumes (struct vdk_diskset *set);

/* Memory member for fuzzing: `data` must outlive the set. */
int vdk__diskset_add_mem (struct vdk_diskset *set, const void *data,
                          size_t len, const char *name);

/* Scan `len` bytes as a one-disk set and read every volume (fuzzing). */
int vdk__fuzz_volumes (const void *data, size_t len);

/* vdk_volume_find without naming the call. */
const struct vdk_volume_info *vdk__vol_find (const struct vdk_diskset *set,
                                       const char *name);

/* ---- parsers ---------------------------------------------------------- */

/* Partition tables of disk d (mbr.c, gpt.c).  0 also when there is no
 * table; -1 only on I/O errors. */
int vdk__vol_scan_mbr (struct vdk_diskset *set, size_t d);
int vdk__vol_scan_gpt (struct vdk_diskset *set, size_t d, uint32_t sector_size);
/* Decode one 16-byte GUID (mixed endian) into 37 bytes of text. */
void vdk__vol_guid_format (const uint8_t g[16], char out[37]);
const char *vdk__vol_mbr_type_name (unsigned type);
const char *vdk__vol_gpt_type_name (const char *guid);

/* LVM2 PVs on disks and partitions, then VGs (lvm.c). */
int vdk__vol_scan_lvm (struct vdk_diskset *set);
/* LDM dynamic disks (ldm.c). */
int vdk__vol_scan_ldm (struct vdk_diskset *set);

/* The LVM text metadata tree (lvmtext.c). */
enum vdk__vol_lv_type { VOL_LV_SECTION, VOL_LV_INT, VOL_LV_STR, VOL_LV_LIST };
struct vdk__vol_lv {
  int type;
  char *key;             /* NULL for list items */
  int64_t num;
  char *str;
  struct vdk__vol_lv *child;   /* section members / list items */
  struct vdk__vol_lv *next;
};
/* Parse `len` bytes of text; NULL with a message naming the line. */
struct vdk__vol_lv *vdk__vol_lvtext_parse (const char *text, size_t len);
void vdk__vol_lvtext_free (struct vdk__vol_lv *n);
const struct vdk__vol_lv *vdk__vol_lv_get (const struct vdk__vol_lv *sec, const char *key);
const char *vdk__vol_lv_str (const struct vdk__vol_lv *sec, const char *key);
/* -1 if absent or not a non-negative integer. */
int64_t vdk__vol_lv_int (const struct vdk__vol_lv *sec, const char *key);
bool vdk__vol_lv_has_flag (const struct vdk__vol_lv *sec, const char *key,
                     const char *flag);

/* File systems (probe.c): fill fs_* of every volume. */
void vdk__vol_probe_volumes (struct vdk_diskset *set);

/* CRC-32 (crc32.h). */

#endif /* VDK_MOUNT_INTERNAL_H */
