/* SPDX-License-Identifier: LGPL-2.1-or-later */
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
 * uuid; or, as mount(8) takes them, by "UUID=..." or "LABEL=..." of its
 * file system or "PARTUUID=..." or "PARTLABEL=..." (UUIDs in any case).
 * NULL (ENOENT) if none matches, or if a tag matches several. */
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

/* ---- Mounting -------------------------------------------------------
 *
 * A mount makes a volume's file system visible in a folder: the disks
 * and volumes of a set are served as files in a FUSE folder, a loop
 * device is attached to the volume's file and the kernel's own file
 * system driver mounts it (NTFS goes to ntfs-3g).  A flat mount (volume
 * NULL) only serves the files, in the folder given as the mount point.
 * Mounting needs root, /dev/fuse and loop devices; calls fail with
 * VDK_E_ACCESS_DENIED or VDK_E_UNSUPPORTED and a message that says what
 * to do when one is missing.
 *
 * Process model
 * - vdk_mount_volume serves the mount from the calling process: it
 *   starts one thread that runs the FUSE loop (libfuse starts up to 16
 *   workers under it), all with every signal blocked, and installs no
 *   signal handlers.  The mount lives until vdk_unmount; the set must
 *   stay open (and unscanned) until then.  Nothing is forked.
 * - vdk_mount_daemon forks a daemon that opens the disks itself and
 *   serves the mount after the caller has gone (what `vdk mount` does);
 *   it detaches (setsid, stdio to /dev/null, messages to a log in its
 *   state folder) and exits once the mount is unmounted, by
 *   vdk_unmount from any process, or SIGTERM (which unmounts lazily).
 *   The caller's process is left as it was: the daemon is a grandchild
 *   (no zombie, no SIGCHLD to reap), no descriptor of the caller is
 *   closed.  As after any fork, the caller should not have other
 *   threads inside libvdk at the time of the call.
 * - Each mount has a state folder under /run/vdk (or $VDK_RUN_DIR) with
 *   a lock that the serving process holds.  If that process dies
 *   (crash, SIGKILL, exit without vdk_unmount), the kernel fails the
 *   FUSE requests and the file system reports I/O errors;
 *   vdk_mount_cleanup (`vdk mount --cleanup`) then unmounts what is
 *   left, detaches the loop device and removes the state.
 * - vdk_mount_find and vdk_mount_list give handles on the mounts of
 *   any process, so a program can unmount what another one mounted.
 */

typedef struct vdk_mount vdk_mount;

#define VDK_MOUNT_WRITABLE 0x01u /* read-write; the default is read-only
                                    (journal replay is then skipped) */
#define VDK_MOUNT_DISCARD  0x02u /* vdk_mount_daemon with `redo`: delete
                                    the redo child at unmount */

struct vdk_mount_params {
  uint32_t version;      /* VDK_MOUNT_PARAMS_VERSION */
  unsigned flags;        /* VDK_MOUNT_* */
  const char *fstype;    /* file system type; NULL: what libblkid found */
  const char *options;   /* mount(8) -o text ("noatime,uid=0"), or NULL;
                            "ro"/"rw" here do not change VDK_MOUNT_WRITABLE */
  uint32_t max_read;     /* largest FUSE read in bytes; 0 = 1 MiB */
  /* vdk_mount_daemon only (ignored by vdk_mount_volume): */
  unsigned open_flags;   /* VDK_OPEN_* for the disks; READ_ONLY is added
                            unless VDK_MOUNT_WRITABLE */
  const char *redo;      /* NULL, or a new file: created as a child of the
                            one disk, which the mount then writes instead
                            of the disk (the disk is opened read-only) */
};
#define VDK_MOUNT_PARAMS_VERSION 1
#define VDK_MOUNT_PARAMS_INIT \
  { VDK_MOUNT_PARAMS_VERSION, 0, NULL, NULL, 0, 0, NULL }

/* Mount volume `volume` (a name as for vdk_volume_find; NULL for a flat
 * mount) of the scanned `set` on `mountpoint`, an empty folder (NULL: a
 * new folder in the mount's state folder, see vdk_mount_path).  Served
 * by this process; the set stays the caller's and must outlive the
 * mount.  NULL on failure, with nothing left behind.  `params` may be
 * NULL (read-only, defaults); a newer version than this library knows,
 * or unknown flags, fail with VDK_E_INVALID_ARG. */
VDK_API vdk_mount *vdk_mount_volume(vdk_diskset *set, const char *volume,
                                    const char *mountpoint,
                                    const struct vdk_mount_params *params);

/* The same, served by a daemon that opens `paths` (n disks, one set)
 * itself; see "Process model".  Errors of the daemon (a disk that does
 * not open, an unknown volume, mount(2) refusing) are returned here. */
VDK_API vdk_mount *vdk_mount_daemon(const char *const *paths, size_t n,
                                    const char *volume,
                                    const char *mountpoint,
                                    const struct vdk_mount_params *params);

/* What a mount is.  Owned by the handle; strings never NULL. */
struct vdk_mount_info {
  const char *id;          /* name of the state folder */
  int pid;                 /* the serving process */
  int alive;               /* the serving process still serves */
  int served_here;         /* served by this process (vdk_mount_volume) */
  size_t ndisks;
  const char *const *disks; /* absolute paths (or names) of the disks */
  const char *volume;      /* "" for a flat mount */
  const char *fstype;      /* "" for a flat mount */
  const char *mountpoint;  /* "" for a flat mount */
  const char *fuse_dir;    /* the FUSE folder with the disk and volume
                              files */
  const char *volume_file; /* the file the loop device serves; "" flat */
  int loop;                /* /dev/loopN, -1 if none */
  int writable;
  int flat;
  const char *redo;        /* redo child, "" if none */
};

VDK_API const struct vdk_mount_info *vdk_mount_get_info(const vdk_mount *m);
/* Where the files are: the mount point, or the folder of a flat mount.
 * Owned by the handle. */
VDK_API const char *vdk_mount_path(const vdk_mount *m);

/* A handle on the mount (by any process) whose mount point, flat
 * folder or id is `path`; NULL (VDK_E_NOT_FOUND) if vdk mounted none
 * there. */
VDK_API vdk_mount *vdk_mount_find(const char *path);
/* Handles on every mount in the state folder, alive or not, sorted by
 * id: *mounts is a malloc'd array of *n handles; free it with
 * vdk_mount_list_free. */
VDK_API int vdk_mount_list(vdk_mount ***mounts, size_t *n);
VDK_API void vdk_mount_list_free(vdk_mount **mounts, size_t n);

#define VDK_UNMOUNT_FORCE   0x01u /* unmount lazily even while files are
                                     open under the mount point */
#define VDK_UNMOUNT_DISCARD 0x02u /* delete the redo child */

/* Unmount: the file system, the loop device, the FUSE folder; then the
 * serving process (or thread) flushes the disks' writes and stops, and
 * the handle is freed.  A mount point in use fails with VDK_E_LOCKED
 * and changes nothing (the handle stays valid), unless
 * VDK_UNMOUNT_FORCE.  A vdk_mount_volume set may then be closed. */
VDK_API int vdk_unmount(vdk_mount *m, unsigned flags);
/* Free a handle and leave its mount in place.  A mount served by this
 * process cannot outlive its handle: it is unmounted with
 * VDK_UNMOUNT_FORCE.  Accepts NULL. */
VDK_API void vdk_mount_release(vdk_mount *m);

/* Tear down every mount whose serving process is gone; *cleaned counts
 * them, *in_use the live ones left alone (either pointer may be NULL).
 * -1 if one could not be torn down (the others still are). */
VDK_API int vdk_mount_cleanup(unsigned *cleaned, unsigned *in_use);

#ifdef __cplusplus
}
#endif

#endif /* VDK_MOUNT_H */
