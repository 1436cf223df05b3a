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
 *               parsers: read on-disk structures through vm_read, check
 *               them, and add volumes with vm_vol_new + a map.
 *   probe.c     file-system identification with libblkid.
 *   scan.c      runs the parsers over the set in order; names volumes.
 *   volume.c    the public volume handle; osinfo.c the OS guess.
 *
 * Everything here is prefixed vm_ (file-local) or vdk__ and hidden.
 */
#ifndef VDK_MOUNT_INTERNAL_H
#define VDK_MOUNT_INTERNAL_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "vdk-internal.h"
#include "vdk-mount.h"

/* ---- maps (map.c) ----------------------------------------------------- */

enum vm_map_type { VM_LEAF, VM_CONCAT, VM_STRIPED, VM_MIRROR, VM_RAID5 };

struct vm_map {
  int type;              /* enum vm_map_type */
  uint64_t size;         /* bytes this node covers */
  int disk;              /* leaf: set index, -1 = missing */
  uint64_t off;          /* leaf: byte offset on the disk */
  uint64_t chunk;        /* striped/raid5: bytes per chunk */
  size_t n;              /* children */
  struct vm_map **child;
  uint64_t *start;       /* concat: volume offset of each child */
  bool present;          /* all data readable */
  bool degraded;         /* readable only thanks to redundancy */
  bool complete;         /* no leaf missing */
};

struct vm_map *vm_map_leaf (int disk, uint64_t off, uint64_t size);
struct vm_map *vm_map_node (int type, uint64_t chunk);
/* Append a child (taken over even on failure). */
int vm_map_add (struct vm_map *m, struct vm_map *child);
/* Compute size and presence bottom-up and check the shape: striped and
 * raid5 children of equal size, a multiple of the chunk; mirror legs of
 * equal size.  -1 with a message if the shape is wrong. */
int vm_map_finish (struct vm_map *m);
void vm_map_free (struct vm_map *m);
struct vm_map *vm_map_clone (const struct vm_map *m);

struct vdk_diskset;
/* The one volume reader: `off + len` must lie inside m->size. */
int vm_map_pread (struct vdk_diskset *set, const struct vm_map *m,
                  void *buf, uint64_t len, uint64_t off);
int vm_map_pwrite (struct vdk_diskset *set, const struct vm_map *m,
                   const void *buf, uint64_t len, uint64_t off);

/* ---- the set (diskset.c) ---------------------------------------------- */

struct vm_disk {
  vdk_disk *disk;        /* NULL for a memory member */
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

struct vm_vol {
  struct vdk_volume_info info;
  struct vm_map *map;
  struct vdk_volume_member *members;
  char **strs;           /* strings owned by this volume */
  size_t nstrs;
  char *problem;
  int part_number;       /* MBR/GPT number, 0 otherwise */
  int set_disk;          /* disk of a partition or whole disk, or -1 */
  bool no_probe;         /* holds no file system (extended, LDM) */
};

struct vdk_diskset {
  struct vm_disk *disks;
  size_t ndisks;
  struct vm_vol **vols;
  size_t nvols;
  char **warnings;
  size_t nwarnings;
  bool scanned;
  unsigned open_volumes; /* open handles; changed atomically */
};

/* Read `len` bytes at `off` of set disk `d`; range checked against its
 * size (EIO-free short disks are an error here: parsers ask only for
 * what lies inside).  Messages name the disk. */
int vm_read (struct vdk_diskset *set, size_t d, void *buf, uint64_t len,
             uint64_t off);
int vm_write (struct vdk_diskset *set, size_t d, const void *buf,
              uint64_t len, uint64_t off);
/* Record a scan warning (also sent to the info log). */
void vm_warn (struct vdk_diskset *set, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

/* A new volume appended to the set, its strings "" and disk -1. */
struct vm_vol *vm_vol_new (struct vdk_diskset *set, const char *kind,
                           const char *layout);
/* printf into a string the volume owns and store it in *field. */
int vm_vol_str (struct vm_vol *v, const char **field, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));
/* Mark the volume incomplete/unreadable with a reason (first wins). */
void vm_vol_problem (struct vm_vol *v, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
/* Attach the map and derive size, members, disk, start, flags. */
int vm_vol_set_map (struct vm_vol *v, struct vm_map *m);
void vm_vol_free (struct vm_vol *v);
void vm_set_clear_volumes (struct vdk_diskset *set);

/* Memory member for fuzzing: `data` must outlive the set. */
int vdk__diskset_add_mem (struct vdk_diskset *set, const void *data,
                          size_t len, const char *name);

/* Scan `len` bytes as a one-disk set and read every volume (fuzzing). */
int vdk__fuzz_volumes (const void *data, size_t len);

/* vdk_volume_find without naming the call. */
const struct vdk_volume_info *vm_find (const struct vdk_diskset *set,
                                       const char *name);

/* vdk_last_error() without the "CALL: " prefix, for warnings. */
const char *vm_last_msg (void);

/* Set the current public call name for messages. */
void vm_call (const char *name);

/* ---- parsers ---------------------------------------------------------- */

/* Partition tables of disk d (mbr.c, gpt.c).  0 also when there is no
 * table; -1 only on I/O errors. */
int vm_scan_mbr (struct vdk_diskset *set, size_t d);
int vm_scan_gpt (struct vdk_diskset *set, size_t d, uint32_t sector_size);
/* Decode one 16-byte GUID (mixed endian) into 37 bytes of text. */
void vm_guid_format (const uint8_t g[16], char out[37]);
const char *vm_mbr_type_name (unsigned type);
const char *vm_gpt_type_name (const char *guid);

/* LVM2 PVs on disks and partitions, then VGs (lvm.c). */
int vm_scan_lvm (struct vdk_diskset *set);
/* LDM dynamic disks (ldm.c). */
int vm_scan_ldm (struct vdk_diskset *set);

/* The LVM text metadata tree (lvmtext.c). */
enum vm_lv_type { VM_LV_SECTION, VM_LV_INT, VM_LV_STR, VM_LV_LIST };
struct vm_lv {
  int type;
  char *key;             /* NULL for list items */
  int64_t num;
  char *str;
  struct vm_lv *child;   /* section members / list items */
  struct vm_lv *next;
};
/* Parse `len` bytes of text; NULL with a message naming the line. */
struct vm_lv *vm_lvtext_parse (const char *text, size_t len);
void vm_lvtext_free (struct vm_lv *n);
const struct vm_lv *vm_lv_get (const struct vm_lv *sec, const char *key);
const char *vm_lv_str (const struct vm_lv *sec, const char *key);
/* -1 if absent or not a non-negative integer. */
int64_t vm_lv_int (const struct vm_lv *sec, const char *key);
bool vm_lv_has_flag (const struct vm_lv *sec, const char *key,
                     const char *flag);

/* File systems (probe.c): fill fs_* of every volume. */
void vm_probe_volumes (struct vdk_diskset *set);

/* CRC-32 (crc32.h). */

#endif /* VDK_MOUNT_INTERNAL_H */
