/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The io layer: byte stores under a disk, found by a spec string in a
 * registry of backends (io/io.c), and the operations on the names of
 * those stores (rename, unlink, temporary files, folder sync). */
#ifndef VDK_IO_H
#define VDK_IO_H

#include "error.h"

/* ---- one open store --------------------------------------------------- */

struct vdk_io;

/* One backend's operations on an open store.  The table only grows at
 * its end; optional members may be NULL and the choke point supplies the
 * default.  Contracts:
 * - pread reads exactly n bytes; bytes past end of file read as zero
 *   (a short read is not an error).  -1 with errno on failure.
 * - pwrite writes exactly n bytes or fails.  The store grows as needed.
 * - flush makes completed writes durable (fdatasync).
 * - size returns the current length in bytes.
 * - truncate sets the length (optional: NULL means ENOTSUP).
 * - next_data finds the first data byte at or after off (SEEK_DATA):
 *   sets *data to the start of data and *hole to the end of that data
 *   run; *data = size if none.  Optional: NULL means "all data".
 * - punch makes [off, off+n) read as zero without writing zero bytes:
 *   with keep false the blocks are given back to the host (a hole,
 *   fallocate PUNCH_HOLE); with keep true they stay allocated
 *   (ZERO_RANGE).  The file size never changes.  Optional: NULL, or
 *   -1 with EOPNOTSUPP, means the store cannot (the caller may write
 *   zeroes instead).
 * - lock takes an advisory lock on [off, off+len), or on everything when
 *   len is 0: exclusive for a writer, shared for a reader; -1 with
 *   errno EBUSY when another holder conflicts.  Optional: NULL means the
 *   store cannot be shared, so there is nothing to lock.
 * - close releases the backend's state (priv); it does not flush. */
struct vdk_io_ops {
  const char *name;
  int (*pread) (struct vdk_io *io, void *buf, size_t n, uint64_t off);
  int (*pwrite) (struct vdk_io *io, const void *buf, size_t n, uint64_t off);
  int (*flush) (struct vdk_io *io);
  int (*size) (struct vdk_io *io, uint64_t *size);
  int (*truncate) (struct vdk_io *io, uint64_t size);
  int (*next_data) (struct vdk_io *io, uint64_t off, uint64_t *data,
                    uint64_t *hole);
  void (*close) (struct vdk_io *io);
  int (*punch) (struct vdk_io *io, uint64_t off, uint64_t n, bool keep);
  int (*lock) (struct vdk_io *io, bool exclusive, uint64_t off,
               uint64_t len);
  /* Remote stores (io/nbd.c); NULL elsewhere.
   * - description: the export's description (NBD_INFO_DESCRIPTION), or
   *   NULL; owned by the store.
   * - transport: "nbd", "nbdssl" (TLS in use).
   * - aio: start a read ('r') or write ('w') of [off, off+n) and return;
   *   done(ctx, err) is called exactly once, later, on the backend's
   *   thread, with 0 or an errno value (ENOTCONN: connection lost).
   *   -1 with errno when the request was not taken (done is never
   *   called): EAGAIN for one this path does not handle (unaligned,
   *   too large), which the caller then runs synchronously. */
  const char *(*description) (struct vdk_io *io);
  const char *(*transport) (struct vdk_io *io);
  int (*aio) (struct vdk_io *io, int op, void *buf, size_t n, uint64_t off,
              void (*done) (void *ctx, int err), void *ctx);
  /* - block_status: the state of the run that starts at off, as the
   *   store knows it: *pnum (> 0, at most n) bytes that are all
   *   VDK_BLOCK_DATA, all VDK_BLOCK_ZERO (allocated, reads as zero) or
   *   all VDK_BLOCK_HOLE (never allocated, reads as zero).  What lies
   *   past the end of the store reads as zero: ZERO.
   *   Optional: NULL means next_data's answer, a host hole being ZERO
   *   (a file system does not tell a hole from zeroed blocks).  An NBD
   *   export answers from base:allocation, where the server does. */
  int (*block_status) (struct vdk_io *io, uint64_t off, uint64_t n,
                       uint64_t *pnum, int *state);
};
typedef void (*vdk_io_done_fn) (void *ctx, int err);

/* What every store has; the backend keeps its own state in priv. */
struct vdk_io {
  const struct vdk_io_ops *ops;
  char *path;            /* the spec it was opened by, for messages */
  bool readonly;
  bool guest_view;       /* from VDK_IO_BACKEND_GUEST_VIEW: never probed */
  bool written;          /* writes since the last flush */
  void *priv;            /* the backend's state */
  uint64_t reads, writes, flushes; /* counters for tests */
};

/* Open flags. */
#define VDK_IO_READONLY     0x01u
#define VDK_IO_DIRECT       0x02u
#define VDK_IO_CREATE       0x04u  /* create; fail if it exists */
#define VDK_IO_TRUNC        0x08u  /* create or truncate */
#define VDK_IO_ALLOW_DEVICE 0x10u  /* a block or character device is
                                    * accepted; without it only regular
                                    * files are.  FIFOs, sockets and
                                    * folders never are. */

/* Open the store a spec names: "SCHEME://..." picks a registered
 * backend; anything else is a path of the `file` backend.  A file that
 * is not a regular file is refused (VDK_E_ACCESS_DENIED) unless
 * VDK_IO_ALLOW_DEVICE allows a device; nothing ever blocks in open (a
 * FIFO is opened non-blocking and refused). */
struct vdk_io *vdk__io_open (const char *spec, unsigned flags);
/* An anonymous in-memory store (tests, fuzzing) holding a copy of data. */
struct vdk_io *vdk__io_open_mem (const char *name, const void *data,
                                 size_t len);
void vdk__io_close (struct vdk_io *io);

/* The choke point: every read and write of every format goes through
 * these.  They check for offset overflow, refuse writes on read-only
 * stores (EROFS) and call the fault hook. */
int vdk__io_pread (struct vdk_io *io, void *buf, size_t n, uint64_t off);
int vdk__io_pwrite (struct vdk_io *io, const void *buf, size_t n,
                    uint64_t off);
int vdk__io_flush (struct vdk_io *io);
int vdk__io_size (struct vdk_io *io, uint64_t *size);
int vdk__io_truncate (struct vdk_io *io, uint64_t size);
int vdk__io_next_data (struct vdk_io *io, uint64_t off, uint64_t *data,
                       uint64_t *hole);
/* The state of [off, off+n) from off on (the block_status contract
 * above); n > 0. */
int vdk__io_block_status (struct vdk_io *io, uint64_t off, uint64_t n,
                          uint64_t *pnum, int *state);
/* Zero a range without writing (see punch above).  -1 with ENOTSUP
 * (message set) when the store cannot; EROFS on read-only stores. */
int vdk__io_punch (struct vdk_io *io, uint64_t off, uint64_t n, bool keep);


/* Advisory lock (the backend's lock op; the file backend uses OFD
 * locks, fcntl F_OFD_SETLK) on [off, off+len), or on the whole store
 * when len is 0.  EBUSY "disk is in use by another process" when someone
 * else holds a conflicting lock; 0 on backends without locks.  (Ranges
 * let the extents of a partitionedDevice share one device file.) */
int vdk__io_lock (struct vdk_io *io, bool exclusive, uint64_t off,
                  uint64_t len);
/* strerror, except that a dropped connection ("connection lost") and an
 * NBD server ending access (ESHUTDOWN) say so plainly. */
const char *vdk__io_strerror (int e);

/* Test hook: called before every operation; a positive return fails the
 * operation with that errno, a negative one (reads and writes) moves the
 * first half of the bytes and then fails with -errno (a short transfer,
 * as a device failing mid-request).  op is 'r' read, 'w' write, 'f'
 * flush, 'p' punch, 'z' truncate (off: the new size) (with io set), or, for name operations (io NULL, path the name):
 * 'n' rename (of path), 'u' unlink, 'd' folder sync, 't' temporary
 * file creation. */
typedef int (*vdk_io_fault_fn) (struct vdk_io *io, const char *path, int op,
                                uint64_t off, size_t n);
extern vdk_io_fault_fn vdk__io_fault_hook;

/* ---- names: the file-system operations table --------------------------- */

/* What vdk needs to know about a name. */
struct vdk_fs_stat {
  bool exists;
  bool regular;          /* a regular file (else a device, folder, ...) */
  uint64_t size;
  unsigned mode;         /* permission bits */
  uint64_t allocated;    /* bytes of host storage the file takes (of the
                            file a final symlink names); 0 where the
                            store cannot tell */
};

/* Operations on the names of a backend's stores, after SQLite's VFS
 * (xDelete, xAccess, ...).  Every member is required; a backend without
 * names (a remote export) has no table and the wrappers below fail with
 * VDK_E_NOT_SUPPORTED_BY_TRANSPORT.  Contracts:
 * - rename replaces `to` atomically with `from` (rename(2)); both names
 *   belong to this backend.  It is durable only after sync_dir.
 * - unlink removes the name (ENOENT if absent); durable after sync_dir.
 * - create_temp makes a new, empty, writable store named
 *   `path` + `tag` + six random characters beside `path`, with the
 *   permission bits `mode`, and returns it open, its name in *tmp
 *   (malloc'd).  It never replaces an existing file.
 * - sync_dir makes the renames, unlinks and creations in the folder
 *   holding `path` durable (fsync of the folder).
 * - stat fills st (st->exists false, return 0, when the name does not
 *   exist); -1 only on errors other than ENOENT.  It does not follow a
 *   final symlink (lstat): callers ask whether a name is taken. */
struct vdk_fs_ops {
  int (*rename) (const char *from, const char *to);
  int (*unlink) (const char *path);
  struct vdk_io *(*create_temp) (const char *path, const char *tag,
                                 unsigned mode, char **tmp);
  int (*sync_dir) (const char *path);
  int (*stat) (const char *path, struct vdk_fs_stat *st);
  /* Optional (NULL: the store keeps no snapshots): remove the
   * snapshots the store keeps of the named store (RBD), so that unlink,
   * which refuses a store with snapshots (ENOTEMPTY), can remove it. */
  int (*remove_snapshots) (const char *path);
};

/* The wrappers every caller uses: they pick the backend by the name's
 * scheme, call the fault hook and set the thread's error (naming the
 * file) on failure. */
int vdk__fs_rename (const char *from, const char *to);
int vdk__fs_unlink (const char *path);
struct vdk_io *vdk__fs_create_temp (const char *path, const char *tag,
                                    unsigned mode, char **tmp);
int vdk__fs_sync_dir (const char *path);
int vdk__fs_stat (const char *path, struct vdk_fs_stat *st);
/* Remove the snapshots a store keeps of itself (0 where it keeps none). */
int vdk__fs_remove_snapshots (const char *path);
/* Remove a file vdk made and no longer wants (a temporary file after a
 * failure), best effort: the thread's error and errno are left alone,
 * so the failure that led here is the one reported. */
void vdk__fs_discard (const char *path);
/* Write `len` bytes of text as the whole new content of `path`,
 * atomically: a temporary file beside it, flush, rename over it, folder
 * sync.  A crash leaves the old or the new content, never a mix. */
int vdk__fs_replace (const char *path, const void *text, size_t len,
                     unsigned mode);

/* ---- the registry of backends ------------------------------------------ */

/* A backend serves one scheme of specs ("nbd" serves "nbd://...").
 * open gets the whole spec (for `file`, a plain path) and the
 * VDK_IO_* flags, and returns a store with ops, priv, path and readonly
 * set, or NULL with the thread's error set. */
struct vdk_io_backend {
  const char *scheme;
  unsigned flags;                  /* VDK_IO_BACKEND_* */
  struct vdk_io *(*open) (const char *spec, unsigned flags);
  const struct vdk_fs_ops *fs;     /* NULL: names cannot be changed */
};
/* The store is a guest's view of a disk (an NBD export): its content is
 * never probed, a disk opened on it is raw whatever its first bytes say
 * (a guest that writes "KDMV" must not make it a VMDK). */
#define VDK_IO_BACKEND_GUEST_VIEW 0x1u
/* Names are "SCHEME:rest" (qemu's rbd:pool/image), not "SCHEME://": a
 * local file whose name starts that way is "./SCHEME:...". */
#define VDK_IO_BACKEND_OPAQUE 0x2u
/* The name operations set the thread's error themselves (a refused key
 * or a missing pool has its own code); the vdk__fs_* wrappers keep it. */
#define VDK_IO_BACKEND_OWN_ERRORS 0x4u

/* Add a backend (the table is not copied: it must outlive its
 * registration).  A later registration of a scheme shadows an earlier
 * one until it is removed, so a test wrapper (io/crash.c) can stand in
 * front of `file`.  `file` and `mem` are built in.  -1 when the registry
 * is full (VDK__IO_MAX_BACKENDS). */
#define VDK__IO_MAX_BACKENDS 16
int vdk__io_register (const struct vdk_io_backend *b);
/* Remove that registration (by pointer); no-op if absent. */
void vdk__io_unregister (const struct vdk_io_backend *b);
/* The backend serving spec (by its scheme; plain paths are `file`), or
 * NULL with VDK_E_UNSUPPORTED set for an unknown scheme. */
const struct vdk_io_backend *vdk__io_backend (const char *spec);

/* The built-in backends (io/file.c, io/mem.c, io/nbd.c when libnbd was
 * found: nbd, nbds, nbd+unix, nbds+unix). */
extern const struct vdk_io_backend vdk__io_file_backend;
extern const struct vdk_io_backend vdk__io_mem_backend;
extern const struct vdk_io_backend vdk__io_nbd_backends[4];
/* io/rbd.c when librbd was found: rbd:POOL[/NS]/IMAGE[@SNAP][:OPT=V]... */
extern const struct vdk_io_backend vdk__io_rbd_backend;

/* ---- forward-only output (io/sink.c) ----------------------------------- */

/* A store whose bytes go out through `fd` (a pipe, standard output) in
 * offset order; the last few MiB written stay in memory, where they can
 * still be rewritten and read back, and anything earlier is refused
 * with ESPIPE.  vdk__sink_new registers it under a new spec,
 * "sink://N/BASENAME-OF-NAME", which vdk__io_open (create included)
 * finds while the owner holds it; the stores opened on it must be
 * closed before vdk__sink_finish, which sends the rest (when `send`),
 * forgets the spec and frees the sink; -1 if a send failed. */
struct vdk__sink;
struct vdk__sink *vdk__sink_new (int fd, const char *name);
const char *vdk__sink_spec (const struct vdk__sink *s);
int vdk__sink_finish (struct vdk__sink *s, bool send);

/* ---- crash simulation (io/crash.c, tests only) ------------------------- */

/* Like SQLite's test6.c.  vdk__crash_install() registers a wrapper in
 * front of `file`: every file opened is served from an in-memory copy
 * that records the writes since the last flush, and renames and
 * unlinks are recorded until their folder is synced.  After
 * `crash_after` more writes (0 = never; a rename, unlink or folder sync
 * counts as a write) every operation fails with EIO, as if the machine
 * stopped.  vdk__crash_now() then leaves each file as a power cut
 * could: renames and unlinks not yet made durable by a folder sync
 * undone (all, or in `mode` SUBSET/TORN all but a random prefix; kept
 * in KEEP_ALL), and each file's content at its last flush plus none, a
 * random subset or torn (sector-granular partial) pieces of the unsynced
 * writes.  vdk__crash_uninstall() forgets everything (without a
 * crash_now, file contents are left untouched). */
enum vdk_crash_mode { VDK_CRASH_DROP_ALL = 0, VDK_CRASH_SUBSET,
                      VDK_CRASH_TORN, VDK_CRASH_KEEP_ALL };
void vdk__crash_install (uint64_t crash_after, uint32_t seed);
int vdk__crash_now (int mode);
void vdk__crash_uninstall (void);
/* Writes seen since install (to count the write boundaries of a run). */
uint64_t vdk__crash_writes (void);

#endif /* VDK_IO_H */
