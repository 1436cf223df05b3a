/* vdk - open virtual disk development kit: the volume API.
 *
 * A vdk_diskset is one or more open disks that volumes may span (the
 * disks of one VM).  vdk_diskset_scan() reads their partition tables
 * (MBR with logical partitions, GPT) and volume managers (LVM2, Windows
 * LDM dynamic disks) and lists every volume it finds:
 *
 *   kind   name          what
 *   mbr    "1".."4"      MBR primary partitions (slot number; an
 *                        extended partition is listed too, flagged
 *                        VDK_VOLUME_CONTAINER, like LVM PV and LDM
 *                        partitions)
 *          "5", "6", ..  logical partitions, in EBR chain order
 *   gpt    "1".."128"    GPT partitions, by entry number
 *   lvm    "vg/lv"       LVM2 logical volumes (visible LVs only)
 *   ldm    "Volume1"     LDM volumes, by their Windows name
 *   disk   "disk"        a whole disk that holds a file system and no
 *                        partition table
 *
 * In a set of more than one disk, partition and whole-disk names get
 * the 1-based disk number as a prefix: "2:1" is partition 1 of the
 * second disk, "2:disk" the whole second disk.  LVM and LDM names never
 * get a prefix (they span disks).  If two LDM disk groups both hold a
 * "Volume1", both are named "GROUP/Volume1"; two different LVM VGs of
 * one name (say two clones' "ubuntu-vg") become "NAME@XXXXXX/LV", with the
 * first 6 characters of each VG's UUID.
 *
 * Every volume is a list of byte ranges on the disks of the set with a
 * layout (partition/linear, striped, mirror, raid5); one reader serves
 * all of them.  File system type, label and UUID come from libblkid.
 *
 * Conventions (as in vdk.h)
 * - Calls return 0 (or a pointer) on success and -1 (or NULL) on
 *   failure, with the message in vdk_last_error() and an errno value in
 *   vdk_last_errno().
 * - Info structs returned as `const` pointers are owned by the set and
 *   stay valid until the next vdk_diskset_scan() or vdk_diskset_close();
 *   so do the strings and members they point to.  As in vdk.h, structs
 *   are reached only through pointers (a volume's members are an array
 *   of pointers) and fields are only ever added at their end.
 * - String fields are never NULL unless the comment says so; "" means
 *   unknown or none.
 * - Damaged metadata is never fatal to a scan: it becomes a warning
 *   (vdk_diskset_warning, also sent to the info log sink) or a volume
 *   with readable = 0 and the reason in `problem`.
 *
 * Thread safety
 * - vdk_volume_pread/pwrite/flush on open volumes may be called from
 *   many threads at once (they only read the set's volume table and
 *   call the thread-safe vdk_pread/vdk_pwrite).
 * - vdk_diskset_add, _scan and _close must not race with any other call
 *   on the same set.  Volumes must be closed before the set is closed
 *   or scanned again (scan fails with EBUSY while volumes are open).
 */
#ifndef VDK_MOUNT_H
#define VDK_MOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "vdk.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vdk_diskset vdk_diskset;
typedef struct vdk_volume vdk_volume;

/* ---- Disk sets ------------------------------------------------------- */

/* An empty set. */
VDK_API vdk_diskset *vdk_diskset_new(void);

/* Add an open disk.  On success the set owns `disk` (closed by
 * vdk_diskset_close); on failure the caller still owns it.  `name` is
 * used in messages and may be NULL (then "disk N").  Returns the disk's
 * 0-based index in the set, or -1. */
VDK_API int vdk_diskset_add(vdk_diskset *set, vdk_disk *disk,
                            const char *name);

/* Flags of vdk_diskset_add_ex. */
#define VDK_DISKSET_BORROW 0x01u /* the caller keeps owning the disk */

/* vdk_diskset_add with flags.  With VDK_DISKSET_BORROW the set only
 * borrows `disk`: vdk_diskset_close neither flushes nor closes it, and
 * the caller closes it (after the set, as VixMntapi_OpenDiskSet callers
 * do).  A borrowed disk must stay open for as long as the set uses it.
 * Unknown flag bits fail with VDK_E_INVALID_ARG. */
VDK_API int vdk_diskset_add_ex(vdk_diskset *set, vdk_disk *disk,
                               const char *name, unsigned flags);

/* vdk_diskset_new + vdk_open(paths[i], open_flags) + vdk_diskset_add for
 * each path.  NULL if any disk fails to open (none stays open). */
VDK_API vdk_diskset *vdk_diskset_open(const char *const *paths, size_t n,
                                      unsigned open_flags);

/* Close every disk the set owns (not the borrowed ones) and free it.
 * -1 if a disk failed to flush (the set is freed anyway).  Accepts
 * NULL. */
VDK_API int vdk_diskset_close(vdk_diskset *set);

VDK_API size_t vdk_diskset_count(const vdk_diskset *set);
/* The i-th disk (still owned by the set), NULL if out of range. */
VDK_API vdk_disk *vdk_diskset_disk(vdk_diskset *set, size_t i);

/* What the scan found on one disk. */
struct vdk_disk_layout {
  const char *name;      /* as given to vdk_diskset_add, or the path */
  uint64_t size;         /* bytes */
  const char *table;     /* "mbr", "gpt" or "" (none) */
  const char *table_id;  /* MBR signature "12345678" (blkid PTUUID) or
                            the GPT disk GUID; "" if none */
  int hybrid_mbr;        /* GPT disk whose MBR also holds real entries */
  int gpt_backup_used;   /* primary GPT damaged; the backup was used */
  int lvm_pv;            /* the whole disk is an LVM2 PV */
  int ldm;               /* the disk is a Windows dynamic disk */
};
/* NULL if i is out of range or the set was not scanned. */
VDK_API const struct vdk_disk_layout *
vdk_diskset_disk_layout(const vdk_diskset *set, size_t i);

/* ---- Scanning -------------------------------------------------------- */

#define VDK_SCAN_NO_FS  0x01u /* skip file-system identification */
#define VDK_SCAN_NO_LVM 0x02u /* ignore LVM2 physical volumes */
#define VDK_SCAN_NO_LDM 0x04u /* ignore Windows LDM metadata */

/* Find all volumes (replacing the result of an earlier scan).  Damaged
 * or inconsistent metadata is not fatal: that table or volume is left
 * out or marked incomplete and a warning is recorded (see below).  -1
 * only for I/O errors, out of memory, or EBUSY (volumes open). */
VDK_API int vdk_diskset_scan(vdk_diskset *set, unsigned flags);

/* Warnings of the last scan, e.g. "disk.img: GPT: primary header CRC
 * mismatch; using the backup header at LBA 131071". */
VDK_API size_t vdk_diskset_warning_count(const vdk_diskset *set);
VDK_API const char *vdk_diskset_warning(const vdk_diskset *set, size_t i);

/* One member of a volume: a byte range on one disk of the set.  For
 * "partition" and "linear" the members follow each other in volume
 * order; for "striped" and "raid5" they are the columns in order; for
 * "mirror" each member is a whole copy (a linear mirror leg made of
 * several ranges lists each range, with the same `leg`). */
struct vdk_volume_member {
  int disk;              /* index in the set, -1 if the disk is missing */
  uint64_t offset;       /* bytes from the start of that disk */
  uint64_t length;       /* bytes */
  unsigned leg;          /* mirror leg number; 0 for other layouts */
};

/* Flags of a volume. */
#define VDK_VOLUME_CONTAINER 0x01u /* extended partition, LVM PV, LDM
                                      partition: holds other volumes */
#define VDK_VOLUME_HIDDEN    0x02u /* not for mounting (reserved: hidden
                                      LVM sub-LVs are not listed today) */

struct vdk_volume_info {
  size_t index;          /* position in the set's volume list */
  const char *name;      /* unique in the set: "1", "2:5", "vg/lv",
                            "Volume1", "disk" */
  const char *kind;      /* "mbr", "gpt", "lvm", "ldm", "disk" */
  const char *layout;    /* "partition", "linear", "striped", "mirror",
                            "raid5" */
  uint64_t size;         /* bytes */
  int disk;              /* disk of the first member, -1 if missing */
  uint64_t start;        /* byte offset of the first member on it */
  const char *part_type; /* MBR "0x83"; GPT type GUID (upper case);
                            LDM partition type "0x07"; "" for LVM */
  const char *type_name; /* "Linux", "EFI System", "LVM2 linear", ... */
  const char *part_label;/* GPT partition name; "" otherwise */
  const char *uuid;      /* stable unique id: MBR "SSSSSSSS-OOOOOOOOOOOOOOOO"
                            (disk signature and byte offset, hex, as
                            Windows keys basic volumes); GPT partition
                            GUID; LVM LV UUID; LDM volume GUID */
  const char *fs_type;   /* libblkid TYPE: "ext4", "ntfs", "vfat",
                            "LVM2_member", ...; "" if nothing found */
  const char *fs_label;  /* libblkid LABEL, "" if none */
  const char *fs_uuid;   /* libblkid UUID, "" if none */
  const char *fs_usage;  /* libblkid USAGE: "filesystem", "raid", ... */
  const char *group;     /* LVM VG name or LDM disk group name; "" */
  const char *parent;    /* name of the volume this one lies in: a
                            logical partition's extended partition, the
                            partition holding all of an LV's PVs; "" if
                            none */
  uint64_t stripe_size;  /* bytes; striped and raid5 only, else 0 */
  size_t nmembers;
  const struct vdk_volume_member *const *members; /* nmembers pointers */
  unsigned flags;        /* VDK_VOLUME_* */
  int complete;          /* every member's disk is in the set */
  int degraded;          /* readable, but without redundancy (mirror
                            leg or raid5 column missing) */
  int readable;          /* vdk_volume_open can open it */
  const char *problem;   /* why not complete/readable; NULL if fine */
};

VDK_API size_t vdk_volume_count(const vdk_diskset *set);
/* NULL if i is out of range. */
VDK_API const struct vdk_volume_info *
vdk_volume_get_info(const vdk_diskset *set, size_t i);
/* Look a volume up by name, by "D:N"/"N" where unambiguous, or by its
 * uuid.  NULL (ENOENT) if none matches. */
VDK_API const struct vdk_volume_info *
vdk_volume_find(const vdk_diskset *set, const char *name);

/* ---- Volume I/O ------------------------------------------------------ */

#define VDK_VOLUME_READ_ONLY 0x01u

/* Open a volume of a scanned set by name (as for vdk_volume_find).
 * Fails with ENOENT for an unknown (or, for "N" in a multi-disk set,
 * ambiguous) name and ENXIO for a volume that is not readable (members
 * missing).  Without VDK_VOLUME_READ_ONLY: raid5 volumes fail with
 * ENOTSUP and degraded volumes with EROFS; writes to disks the set
 * opened read-only fail later, in vdk_volume_pwrite, with EROFS. */
VDK_API vdk_volume *vdk_volume_open(vdk_diskset *set, const char *name,
                                    unsigned flags);
VDK_API void vdk_volume_close(vdk_volume *vol);

VDK_API uint64_t vdk_volume_size(const vdk_volume *vol);
VDK_API const struct vdk_volume_info *vdk_volume_info(const vdk_volume *vol);

/* Byte I/O; the range must lie inside the volume.  Mirror reads come
 * from the first present leg; mirror writes go to every present leg;
 * raid5 reads rebuild a missing column from parity. */
VDK_API int vdk_volume_pread(vdk_volume *vol, void *buf, size_t count,
                             uint64_t offset);
VDK_API int vdk_volume_pwrite(vdk_volume *vol, const void *buf,
                              size_t count, uint64_t offset);
/* vdk_flush of every disk the volume touches. */
VDK_API int vdk_volume_flush(vdk_volume *vol);

/* ---- Operating system ------------------------------------------------ */

/* What can be told about the installed OS from the volumes alone (no
 * file system is read): Windows from an NTFS volume next to an ESP/MSR
 * or in an active 0x07 partition, Linux from Linux file systems, swap
 * and LVM names.  Fields the volumes do not tell are "" (or -1). */
struct vdk_os_info {
  char *family;          /* "windows", "linux", or "unknown" */
  char *vendor;          /* "Microsoft", ...; "" if unknown */
  char *version;         /* "" unless known */
  int is_64bit;          /* 1, 0, or -1 if unknown */
  char *system_volume;   /* name of the volume holding the OS: the NTFS
                            system volume or the Linux root candidate;
                            "" if none */
  char *boot_volume;     /* ESP or Linux /boot candidate; "" if none */
  char *os_folder;       /* "\\Windows" or "/"; "" if unknown */
  char *evidence;        /* one line per reason, for humans */
};

/* The set must have been scanned.  *info is malloc'd: free it with
 * vdk_free_os_info. */
VDK_API int vdk_diskset_os_info(vdk_diskset *set, struct vdk_os_info **info);
VDK_API void vdk_free_os_info(struct vdk_os_info *info);

#ifdef __cplusplus
}
#endif

#endif /* VDK_MOUNT_H */
