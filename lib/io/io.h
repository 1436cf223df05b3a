/* The io layer: byte stores under a disk (io/file.c, io/crash.c). */
#ifndef VDK_IO_H
#define VDK_IO_H

#include "error.h"

/* ---- io (io/file.c) --------------------------------------------------- */

struct vdk_io;

/* One backend table.  Contracts:
 * - pread reads exactly n bytes; bytes past end of file read as zero
 *   (a short read is not an error).  -1 with errno on failure.
 * - pwrite writes exactly n bytes or fails.  The file grows as needed.
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
 * - close releases the backend; it does not flush. */
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
};

struct vdk_io {
  const struct vdk_io_ops *ops;
  char *path;            /* for messages */
  bool readonly;
  bool written;          /* writes since the last flush */
  int fd, direct_fd;     /* file backend */
  void *priv;            /* other backends */
  uint64_t reads, writes, flushes; /* counters for tests */
};

#define VDK_IO_READONLY 0x1u
#define VDK_IO_DIRECT   0x2u
#define VDK_IO_CREATE   0x4u  /* create; fail if it exists */
#define VDK_IO_TRUNC    0x8u  /* create or truncate */

struct vdk_io *vdk__io_open_file (const char *path, unsigned flags);
/* An in-memory store (tests), optionally with initial contents. */
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
/* Zero a range without writing (see punch above).  -1 with ENOTSUP
 * (message set) when the store cannot; EROFS on read-only stores. */
int vdk__io_punch (struct vdk_io *io, uint64_t off, uint64_t n, bool keep);

/* Test hook: called before every io operation ('r', 'w', 'f'); a
 * nonzero return fails the operation with that errno. */
typedef int (*vdk_io_fault_fn) (struct vdk_io *io, int op, uint64_t off,
                                size_t n);
extern vdk_io_fault_fn vdk__io_fault_hook;

/* Advisory lock (OFD, fcntl F_OFD_SETLK) on [off, off+len), or on the
 * whole file when len is 0: exclusive for a writer, shared for a
 * reader.  EBUSY "disk is in use by another process" when someone else
 * holds a conflicting lock.  A no-op on backends without a file
 * descriptor.  (Ranges let the extents of a partitionedDevice share one
 * device file.) */
int vdk__io_lock (struct vdk_io *io, bool exclusive, uint64_t off,
                  uint64_t len);

/* Test hook: when set, vdk__io_open_file hands the open to it (the
 * crash-simulation layer, io/crash.c, uses this to see every file a
 * link opens). */
typedef struct vdk_io *(*vdk_io_open_fn) (const char *path, unsigned flags);
extern vdk_io_open_fn vdk__io_open_hook;
/* The real file backend, bypassing the hook. */
struct vdk_io *vdk__io_open_file_real (const char *path, unsigned flags);

/* Crash simulation (io/crash.c, tests only; like SQLite's test6.c).
 * vdk__crash_install() routes every vdk__io_open_file through an
 * in-memory copy of the file that records the writes since the last
 * flush.  After `crash_after` more writes (0 = never) every io fails
 * with EIO, as if the machine stopped.  vdk__crash_now() then writes
 * each file back as it would be after a power cut: its state at the last
 * flush plus, depending on `mode`, none, a random subset, or torn
 * (sector-granular partial) pieces of the unsynced writes.
 * vdk__crash_uninstall() forgets everything (without a crash_now, the
 * real files are left untouched). */
enum vdk_crash_mode { VDK_CRASH_DROP_ALL = 0, VDK_CRASH_SUBSET,
                      VDK_CRASH_TORN, VDK_CRASH_KEEP_ALL };
void vdk__crash_install (uint64_t crash_after, uint32_t seed);
int vdk__crash_now (int mode);
void vdk__crash_uninstall (void);
/* Writes seen since install (to count the write boundaries of a run). */
uint64_t vdk__crash_writes (void);

#endif /* VDK_IO_H */
