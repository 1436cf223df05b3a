/* vdk fusemount: the machinery behind `vdk mount` (internal interface).
 *
 * A mount is three layers, set up in this order and torn down in reverse:
 *
 *   1. a FUSE folder served by a daemon process (fm-serve.c), holding one
 *      file per whole disk and one per volume;
 *   2. a loop device attached to one of those files (fm-loop.c);
 *   3. the kernel's file system mounted from the loop device with
 *      mount(2), or ntfs-3g for NTFS (fm-sys.c).
 *
 * Each mount has a folder <rundir>/<id>/ (fm-state.c) with
 *   lock   - held (flock) by the daemon for as long as it lives; a lock
 *            that can be taken means the daemon is gone;
 *   state  - key=value lines: pid, disks, volume, loop, mountpoint, ...,
 *            replaced atomically as each layer comes up;
 *   fuse/  - the FUSE folder (unless --flat names one);
 *   log    - messages of the daemon after it detached (close errors).
 * <rundir> is /run/vdk (root), or $VDK_RUN_DIR when set (tests).
 *
 * Nothing here prints: functions return -1 and leave a message for
 * vdkfm_error(), written so that a user can act on it ("modprobe fuse").
 */
#ifndef VDK_FUSEMOUNT_H
#define VDK_FUSEMOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- errors (fm-sys.c) ---------------------------------------------- */

/* The message of the last failure in this thread. */
const char *vdkfm_error (void);
/* Set it, printf-style; returns -1 so callers can `return vdkfm_fail(..)`. */
int vdkfm_fail (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* ---- files served over FUSE (fm-serve.c) ----------------------------- */

/* One file in the FUSE folder.  pread/pwrite move exactly `count` bytes
 * inside [0, size) and return 0, or -1 with errno set.  They are called
 * from several threads at once. */
struct vdkfm_file {
  char name[64];
  uint64_t size;
  int (*pread) (void *opaque, void *buf, size_t count, uint64_t off);
  int (*pwrite) (void *opaque, const void *buf, size_t count, uint64_t off);
  int (*flush) (void *opaque);
  /* Optional: true if [off, off+count) reads as zeros (a hole), so the
   * reply can come from a shared zero page without reading. */
  bool (*is_zero) (void *opaque, size_t count, uint64_t off);
  void *opaque;
};

struct vdkfm_server;

/* Mount a FUSE folder at `dir` serving `files` (kept by reference).
 * Read-only unless `writable`.  `max_read` is the largest request (0 =
 * 1 MiB).  The session is mounted but not yet served. */
struct vdkfm_server *vdkfm_server_mount (const char *dir,
                                         struct vdkfm_file *files,
                                         size_t nfiles, bool writable,
                                         unsigned max_read);
/* Call in the process that serves: signal-safe exit on SIGTERM/SIGINT,
 * multithreaded loop.  `ready_fd` >= 0 gets one byte when the kernel's
 * INIT was answered, and is closed.  Returns when the folder is unmounted
 * or a signal arrived; then unmounts (lazily) and frees the session. */
int vdkfm_server_run (struct vdkfm_server *srv, int ready_fd);
/* In a process that does not serve (the parent after fork): drop its
 * copy of the /dev/fuse descriptor without unmounting. */
void vdkfm_server_forget (struct vdkfm_server *srv);
/* Unmount and free without having served (failure before fork). */
void vdkfm_server_abort (struct vdkfm_server *srv);

/* ---- loop devices (fm-loop.c) --------------------------------------- */

/* Attach a free loop device to `file` (read-only unless `writable`,
 * autoclear), returning its number; *loop_fd stays open so that the
 * device is not cleared before it is mounted. */
int vdkfm_loop_attach (const char *file, bool writable, int *loop_fd);
/* Detach /dev/loopN if still attached and wait until it is free.
 * Returns 0, or -1 (EBUSY) if it stays in use for `timeout_ms`. */
int vdkfm_loop_detach (int loopnr, int timeout_ms);
/* True if /dev/loopN has a backing file. */
bool vdkfm_loop_in_use (int loopnr);

/* ---- checks, mount(2), helpers (fm-sys.c) --------------------------- */

int vdkfm_check_fuse (void);
int vdkfm_check_loop (void);
int vdkfm_check_root (const char *what);
int vdkfm_check_dir (const char *dir, const char *what);
/* The file system can be mounted here: in /proc/filesystems, or NTFS with
 * ntfs-3g installed.  ntfs (and ntfs-3g) set *use_ntfs3g. */
int vdkfm_check_fstype (const char *fstype, bool *use_ntfs3g);
/* Mount /dev/loopN on `dir`.  `opts` is -o's text (may be NULL). */
int vdkfm_mount_fs (int loopnr, const char *dir, const char *fstype,
                    const char *opts, bool writable, bool ntfs3g);
/* umount2; lazy with `force`.  EBUSY is reported as a message that says
 * what to do. */
int vdkfm_umount (const char *dir, bool force, const char *what);
/* True if `dir` is a mount point in /proc/self/mountinfo. */
bool vdkfm_is_mounted (const char *dir);
/* Same, and the source (device) of the mount on top in `src`. */
bool vdkfm_mount_source (const char *dir, char *src, size_t size);

/* ---- state (fm-state.c) --------------------------------------------- */

#define VDKFM_MAX_DISKS 32

struct vdkfm_state {
  char id[32];
  char dir[256];          /* <rundir>/<id> */
  pid_t pid;              /* daemon */
  int ndisks;
  char *disks[VDKFM_MAX_DISKS];
  char volume[128];       /* "" for --flat */
  char volfile[4200];    /* the FUSE file the loop is attached to */
  char fuse[4096];        /* FUSE folder */
  char mountpoint[4096];  /* "" for --flat */
  char fstype[32];
  int loop;               /* -1 if none */
  bool writable, flat, discard, mounted;
  char redo[4096];        /* child disk of --redo, "" if none */
};

const char *vdkfm_rundir (void);
/* Make <rundir>/<new id>/ with its lock taken; *lock_fd keeps it. */
int vdkfm_state_create (struct vdkfm_state *st, int *lock_fd);
int vdkfm_state_save (const struct vdkfm_state *st);
int vdkfm_state_load (const char *id, struct vdkfm_state *st);
void vdkfm_state_free (struct vdkfm_state *st);
/* Remove the folder and its files (the FUSE folder must be unmounted). */
int vdkfm_state_remove (const struct vdkfm_state *st);
/* True if the daemon still holds the lock. */
bool vdkfm_state_alive (const struct vdkfm_state *st);
/* Wait up to `timeout_ms` for the daemon to exit. 0, or -1 (ETIMEDOUT). */
int vdkfm_state_wait_exit (const struct vdkfm_state *st, int timeout_ms);
/* All ids under the run dir (malloc'd array of malloc'd strings, sorted);
 * returns the count or -1. */
int vdkfm_state_list (char ***ids);
/* Find the mount whose mountpoint (or FUSE folder for --flat) is `path`. */
int vdkfm_state_find (const char *path, struct vdkfm_state *st);
/* Append a line to <dir>/log (daemon side; never fails loudly).  Lines
 * starting "error: " make vdkfm_teardown fail with their text. */
void vdkfm_state_log (const struct vdkfm_state *st, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

/* ---- whole operations (fm-session.c) -------------------------------- */

struct vdkfm_request {
  struct vdkfm_file *files;   /* served in the FUSE folder */
  size_t nfiles;
  int volfile;                /* index of the file to mount; -1 = --flat */
  const char *fuse_dir;       /* --flat DIR; NULL = <state dir>/fuse */
  const char *mountpoint;     /* NULL for --flat */
  const char *fstype;         /* file system to mount (not for --flat) */
  const char *opts;           /* -o text, may be NULL */
  bool writable, ntfs3g, discard;
  unsigned max_read;          /* 0 = 1 MiB */
  const char *const *disks;   /* recorded in the state */
  int ndisks;
  const char *volume;         /* name, recorded; NULL for --flat */
  const char *redo;           /* --redo child, recorded; may be NULL */
  /* Flush and close everything behind `files`.  vdkfm_mount calls it
   * exactly once, in the process that owns the disks at the end: the
   * caller's on a failure before the daemon exists, else the daemon's
   * after its FUSE folder went away.  -1 with a message in `err`. */
  int (*finish) (void *opaque, char *err, size_t errsize);
  void *opaque;
};

/* Serve the files from a daemon and, unless --flat, attach a loop device
 * to files[volfile] and mount it.  On failure everything done so far is
 * undone in reverse.  *st describes the mount on success. */
int vdkfm_mount (const struct vdkfm_request *req, struct vdkfm_state *st);

/* Tear down every mount whose daemon is dead; counts what it did. */
int vdkfm_cleanup (int *cleaned, int *alive, int *failed);

/* Undo what the state says is set up, in reverse: umount, loop detach,
 * FUSE unmount, wait for the daemon, discard the redo child, remove the
 * state.  `force` unmounts lazily and does not wait on a busy daemon. */
int vdkfm_teardown (struct vdkfm_state *st, bool force, bool discard);

#endif /* VDK_FUSEMOUNT_H */
