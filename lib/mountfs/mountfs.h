/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Mounting volumes: FUSE exposure, loop devices, mount(2) and mount state
 * (internal interface of lib/mountfs, the layer above lib/mount).
 *
 * A mount is three layers, set up in this order and torn down in reverse:
 *
 *   1. a FUSE folder served by threads of the serving process
 *      (mfs-serve.c), holding one file per whole disk and one per volume
 *      (mfs-files.c);
 *   2. a loop device attached to one of those files (mfs-loop.c);
 *   3. the kernel's file system mounted from the loop device with
 *      mount(2), or ntfs-3g for NTFS (mfs-fs.c).
 *
 * The serving process is the caller's (vdk_mount_volume) or a daemon
 * forked for the purpose (vdk_mount_daemon); mfs-mount.c has the public
 * calls and the process model, mfs-session.c the steps of one mount,
 * mfs-teardown.c their undoing.
 *
 * Each mount has a folder <rundir>/<id>/ (mfs-state.c) with
 *   lock   - held (flock) by the serving process for as long as it
 *            serves; a lock that can be taken means it is gone;
 *   state  - key=value lines: pid, disks, volume, loop, mountpoint, ...,
 *            replaced atomically as each layer comes up;
 *   fuse/  - the FUSE folder (unless a flat mount names one);
 *   mnt/   - the mount point when the caller gave none;
 *   log    - messages of a daemon after it detached (close errors).
 * <rundir> is /run/vdk (root), or $VDK_RUN_DIR when set (tests).
 *
 * Errors follow the library's convention: -1 with vdk__errc (a
 * vdk_error code and an errno value) and a message a user can act on
 * ("modprobe fuse").  Nothing here prints.
 */
#ifndef VDK_MOUNTFS_H
#define VDK_MOUNTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mount/mount-internal.h"

#define VDK__MFS_MAX_DISKS 32
#define VDK__MFS_MAX_FILES (VDK__MFS_MAX_DISKS + 256)

/* ---- errors (mfs-sys.c) ---------------------------------------------- */

/* The thread's error, kept across cleanup that may fail as well:
 * vdk__err_save and vdk__err_restore (lib/error.h). */

/* ---- files served over FUSE (mfs-files.c) ---------------------------- */

/* One file in the FUSE folder: a whole disk or a volume.  The calls move
 * exactly `count` bytes inside [0, size) and return 0, or -1 with errno
 * set; they are called from several threads at once. */
struct vdk__mfs_file {
  char name[64];
  uint64_t size;
  bool writable;
  vdk_volume *vol;       /* a volume file; NULL for a whole disk */
  /* The disk range the file is, when it is one (whole disks, partitions,
   * one-range linear volumes): holes, trim and zeroing go straight to
   * the disk.  NULL for striped, mirrored, multi-range volumes. */
  vdk_disk *disk;
  uint64_t disk_off;
};

struct vdk__mfs_files {
  struct vdk__mfs_file *f;
  size_t n;
  int target;            /* index of the volume to mount, -1 if none */
};

/* Whole disks, then every readable listed volume of the scanned `set`;
 * `target` (NULL for a flat mount) is writable if `writable`, and in a
 * flat mount every file is.  -1 with the library's error. */
int vdk__mfs_files_build (vdk_diskset *set,
                          const struct vdk_volume_info *target,
                          bool writable, struct vdk__mfs_files *fl);
/* Flush every writable file; -1 if one failed (all are tried). */
int vdk__mfs_files_flush (struct vdk__mfs_files *fl);
/* Close the volumes and free the list (the set stays open). */
void vdk__mfs_files_free (struct vdk__mfs_files *fl);

int vdk__mfs_file_pread (struct vdk__mfs_file *f, void *buf, size_t count,
                         uint64_t off);
int vdk__mfs_file_pwrite (struct vdk__mfs_file *f, const void *buf,
                          size_t count, uint64_t off);
int vdk__mfs_file_flush (struct vdk__mfs_file *f);
/* True if [off, off+count) reads as zeros without reading it. */
bool vdk__mfs_file_is_zero (struct vdk__mfs_file *f, size_t count,
                            uint64_t off);
/* fallocate(2) PUNCH_HOLE and ZERO_RANGE: the range reads as zeros
 * afterwards, and whole grains give their space back.  -1 with errno
 * EOPNOTSUPP where the file cannot do it (punching a striped volume). */
int vdk__mfs_file_punch (struct vdk__mfs_file *f, uint64_t off,
                         uint64_t count);
int vdk__mfs_file_zero (struct vdk__mfs_file *f, uint64_t off,
                        uint64_t count);

/* ---- the FUSE server (mfs-serve.c) ----------------------------------- */

struct vdk__mfs_server;

/* Mount a FUSE folder at `dir` serving `files` (kept by reference).
 * Read-only unless `writable`.  `cached`: the files' bytes go through
 * the kernel's page cache, kept across opens (a read-only flat mount);
 * otherwise direct I/O (see mfs-serve.c).  `max_read` is the largest
 * request (0 = 1 MiB).  The session is mounted but not yet served. */
struct vdk__mfs_server *vdk__mfs_server_mount (const char *dir,
                                               struct vdk__mfs_files *files,
                                               bool writable, bool cached,
                                               unsigned max_read);
/* Serve from a new thread (every signal blocked in it, so the caller's
 * handlers keep running on the caller's threads) and wait until the
 * kernel's INIT was answered.  -1 if the loop could not start. */
int vdk__mfs_server_start (struct vdk__mfs_server *srv);
/* True once the loop has ended (the FUSE folder was unmounted). */
bool vdk__mfs_server_done (struct vdk__mfs_server *srv);
/* Wait for the loop to end after the FUSE folder was unmounted; after
 * `timeout_ms` (< 0: forever) abort the kernel connection, which fails
 * every request still open, and wait for that. */
void vdk__mfs_server_join (struct vdk__mfs_server *srv, int timeout_ms);
/* Free the server; unmounts the FUSE folder lazily if it still is. */
void vdk__mfs_server_free (struct vdk__mfs_server *srv);

/* ---- loop devices (mfs-loop.c) --------------------------------------- */

/* Attach a free loop device to `file` (read-only unless `writable`,
 * autoclear), returning its number; *loop_fd stays open so that the
 * device is not cleared before it is mounted. */
int vdk__mfs_loop_attach (const char *file, bool writable, int *loop_fd);
/* Detach /dev/loopN if still attached and wait until it is free.
 * Returns 0, or -1 (EBUSY) if it stays in use for `timeout_ms`. */
int vdk__mfs_loop_detach (int loopnr, int timeout_ms);
/* True if /dev/loopN has a backing file. */
bool vdk__mfs_loop_in_use (int loopnr);

/* ---- checks, mount(2), helpers (mfs-sys.c, mfs-fs.c) ----------------- */

int vdk__mfs_check_fuse (void);
int vdk__mfs_check_loop (void);
int vdk__mfs_check_root (void);
/* libfuse's setuid helper (fusermount3), through which a user who is not
 * root mounts and unmounts FUSE folders; NULL if not installed. */
const char *vdk__mfs_fusermount (void);
int vdk__mfs_check_dir (const char *dir, const char *what);
/* The file system can be mounted here: in /proc/filesystems, or NTFS with
 * ntfs-3g installed.  ntfs (and ntfs-3g) set *use_ntfs3g. */
int vdk__mfs_check_fstype (const char *fstype, bool *use_ntfs3g);
/* Mount /dev/loopN on `dir`.  `opts` is -o's text (may be NULL). */
int vdk__mfs_mount_fs (int loopnr, const char *dir, const char *fstype,
                       const char *opts, bool writable, bool ntfs3g);
/* umount2; lazy with `force`.  EBUSY is reported as a message that says
 * what to do. */
int vdk__mfs_umount (const char *dir, bool force, const char *what);
/* True if `dir` is a mount point in /proc/self/mountinfo. */
bool vdk__mfs_is_mounted (const char *dir);
/* Same, and the source (device) of the mount on top in `src`. */
bool vdk__mfs_mount_source (const char *dir, char *src, size_t size);

/* ---- state (mfs-state.c) --------------------------------------------- */

struct vdk__mfs_state {
  char id[32];
  char dir[256];          /* <rundir>/<id> */
  pid_t pid;              /* serving process */
  int ndisks;
  char *disks[VDK__MFS_MAX_DISKS];
  char volume[128];       /* "" for flat */
  char volfile[4200];     /* the FUSE file the loop is attached to */
  char fuse[4096];        /* FUSE folder */
  char mountpoint[4096];  /* "" for flat */
  char fstype[32];
  int loop;               /* -1 if none */
  bool writable, flat, discard, mounted;
  char redo[4096];        /* child disk of a redo mount, "" if none */
  bool detached;          /* unmounted lazily (umount --force) while
                             busy: the daemon ends with the last user and
                             removes the state; vdk_mount_list and
                             vdk_mount_find no longer show it */
};

const char *vdk__mfs_rundir (void);
/* Make <rundir>/<new id>/ with its lock taken; *lock_fd keeps it. */
int vdk__mfs_state_create (struct vdk__mfs_state *st, int *lock_fd);
int vdk__mfs_state_save (const struct vdk__mfs_state *st);
int vdk__mfs_state_load (const char *id, struct vdk__mfs_state *st);
void vdk__mfs_state_free (struct vdk__mfs_state *st);
/* Remove the folder and its files (the FUSE folder must be unmounted). */
int vdk__mfs_state_remove (const struct vdk__mfs_state *st);
/* True if the serving process still holds the lock. */
bool vdk__mfs_state_alive (const struct vdk__mfs_state *st);
/* Wait up to `timeout_ms` for the daemon to exit. 0, or -1 (ETIMEDOUT). */
int vdk__mfs_state_wait_exit (const struct vdk__mfs_state *st,
                              int timeout_ms);
/* All ids under the run dir (malloc'd array of malloc'd strings, sorted);
 * returns the count or -1. */
int vdk__mfs_state_list (char ***ids);
/* Find the mount whose mountpoint (or FUSE folder, for flat) or id is
 * `path`. */
int vdk__mfs_state_find (const char *path, struct vdk__mfs_state *st);
/* Append a line to <dir>/log (daemon side; never fails loudly).  Lines
 * starting "error: " make vdk__mfs_teardown fail with their text. */
void vdk__mfs_state_log (const struct vdk__mfs_state *st, const char *fmt,
                         ...) __attribute__ ((format (printf, 2, 3)));

/* ---- one mount served by this process (mfs-session.c) ---------------- */

struct vdk__mfs_request {
  vdk_diskset *set;           /* scanned; must outlive the mount */
  const char *volume;         /* NULL for a flat mount */
  const char *mountpoint;     /* NULL: <state>/mnt (flat: <state>/fuse) */
  const char *fstype;         /* NULL: what libblkid found */
  const char *opts;           /* -o text, may be NULL */
  bool writable, discard;
  unsigned max_read;          /* 0 = 1 MiB */
  const char *redo;           /* recorded in the state; may be NULL */
};

struct vdk__mfs_session {
  struct vdk__mfs_state st;
  struct vdk__mfs_files files;
  struct vdk__mfs_server *srv;
  int lock_fd;
};

/* Check the machine, resolve the volume, make the state, serve the FUSE
 * folder from a thread of this process, attach a loop device to the
 * volume's file and mount it.  On failure everything done so far is
 * undone in reverse. */
int vdk__mfs_session_start (const struct vdk__mfs_request *req,
                            struct vdk__mfs_session *s);
/* Undo it: umount (EBUSY stops here unless `force`), detach the loop,
 * unmount the FUSE folder, wait for the serving thread, flush and close
 * the volumes, remove the state.  On failure the session is unchanged
 * except for the layers already gone, and can be stopped again. */
int vdk__mfs_session_stop (struct vdk__mfs_session *s, bool force);

/* ---- teardown from any process (mfs-teardown.c) ---------------------- */

/* Tear down every mount whose serving process is dead. */
int vdk__mfs_cleanup (unsigned *cleaned, unsigned *alive, unsigned *failed);

/* Undo the file system and the loop device the state says are set up
 * (shared with the session's own stop). */
int vdk__mfs_undo_fs_and_loop (struct vdk__mfs_state *st, bool force);

/* Undo what the state says is set up, in reverse: umount, loop detach,
 * FUSE unmount, wait for the serving process, discard the redo child,
 * remove the state.  `force` unmounts lazily and does not wait on a busy
 * process. */
int vdk__mfs_teardown (struct vdk__mfs_state *st, bool force, bool discard);

#endif /* VDK_MOUNTFS_H */
