/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The disk layer: links (one descriptor or raw file with its
 * extents), chains of links, CID rules and path confinement
 * (lib/disk). */
#ifndef VDK_DISK_H
#define VDK_DISK_H

#include "format/format.h"

/* ---- links (disk/link.c) --------------------------------------------- */

/* Internal open flag: open the link's files and parse its descriptor
 * but do not run the extents' format open (check inspects files that
 * open would refuse).  Such a link must only be closed. */
#define VDK__OPEN_NO_FORMAT 0x10000u
/* Internal open flag: the link is a parent named by a child's
 * descriptor, so its file must be a regular file (the top link, which
 * the caller named, may be a device). */
#define VDK__OPEN_PARENT 0x20000u

struct vdk_link {
  char *path;            /* as opened */
  char *dir;             /* canonical folder of the descriptor; NULL
                          * on a store without file names (mem, nbd) */
  int type;              /* enum vdk_disk_type */
  struct vdk_desc *desc; /* NULL for raw */
  bool embedded;         /* desc lives inside extents[0] (sparse) */
  struct vdk_extent *extents;
  size_t nextents;
  uint64_t capacity;     /* bytes */
  bool readonly;
  bool allow_external;
  bool no_lock;          /* VDK_OPEN_NO_LOCK: its files are not locked */
  bool began_write;      /* CID changed and unclean marks set */
  bool probed_raw;       /* raw because of its content, not by request:
                            writes must not make it probe otherwise */
  pthread_mutex_t lock;  /* allocation and metadata */
  struct vdk_link *parent;
  int depth;             /* 0 = top */
};

struct vdk_aio;
struct vdk__aio_req;
/* Where an asynchronous request runs: takes the request and, now or
 * later and on any thread, calls vdk__aio_complete on it exactly once.
 * -1 (with the error set) refuses it; it is then never completed. */
typedef int (*vdk__aio_submit_fn) (struct vdk_disk *d,
                                   struct vdk__aio_req *r);

/* What a remote disk's server told about it (disk/remote.c): its
 * descriptor as the export description gave it (header keys CID,
 * parentCID, createType, parentFileNameHint and the DDB), and the
 * numbers a descriptor does not hold. */
struct vdk__remote {
  struct vdk_desc *desc;   /* NULL when the server sent no description */
  int links;
  uint32_t grain_sectors;
  uint32_t physical_sector_size;
  int psk_fd;              /* memfd holding a key given as a password */
};

struct vdk_disk {
  struct vdk_link *top;
  int nlinks;
  unsigned flags;        /* VDK_OPEN_*, as opened (format included) */
  struct vdk_aio *aio;       /* disk/aio.c; made on the first request */
  vdk__aio_submit_fn aio_submit; /* NULL = the local worker pool */
  struct vdk__remote *remote; /* remote disks only (disk/remote.c) */
  const char *transport;     /* "file", "nbd", "nbdssl" */
};

/* ---- remote disks (disk/remote.c, disk/remote-desc.c) ---------------- */

/* Is path a URI of a remote transport (nbd://, nbds://, ...)? */
bool vdk__remote_name (const char *path);
/* Open a remote disk from a URI or from the connection fields of the
 * open parameters (p may be NULL), trying the transport list in order. */
struct vdk_disk *vdk__remote_open (const char *path,
                                   const struct vdk_open_params *p,
                                   unsigned flags);
void vdk__remote_free (struct vdk__remote *r);
/* The aio_submit hook of a disk whose one store has an aio path (nbd,
 * rbd): requests go to the store; what it refuses runs on the pool. */
int vdk__remote_aio_submit (struct vdk_disk *d, struct vdk__aio_req *r);
/* Parse an export description (plugins/nbdkit/describe.c writes it)
 * into r.  Untrusted input: at most 4096 bytes, strictly checked; -1
 * with the error set when it is not one of vdk's descriptions. */
int vdk__remote_parse (const char *text, size_t len, struct vdk__remote *r);

/* The public VDK_OPEN_* bits; the rest of an unsigned is internal. */
#define VDK__OPEN_PUBLIC \
  (VDK_OPEN_READ_ONLY | VDK_OPEN_SINGLE_LINK | VDK_OPEN_UNBUFFERED \
   | VDK_OPEN_ALLOW_EXTERNAL | VDK_OPEN_NO_CID_CHECK | VDK_OPEN_FORMAT_RAW \
   | VDK_OPEN_FORMAT_VMDK | VDK_OPEN_NO_LOCK)
#define VDK__OPEN_FORMATS (VDK_OPEN_FORMAT_RAW | VDK_OPEN_FORMAT_VMDK)
/* Check open flags given to a public call: unknown bits, both formats
 * at once and NO_LOCK without READ_ONLY are VDK_E_INVALID_ARG. */
int vdk__check_open_flags (unsigned flags);

/* Open one link (no parent). */
struct vdk_link *vdk__link_open (const char *path, unsigned flags);
void vdk__link_close (struct vdk_link *l, bool *flush_failed);
int vdk__link_flush (struct vdk_link *l);
/* Rewrite the descriptor (atomically, or in place when embedded). */
int vdk__link_write_desc (struct vdk_link *l);
/* First write: new CID, unclean marks. */
int vdk__link_begin_write (struct vdk_link *l);
/* Find the extent holding byte `off`; NULL past the end. */
struct vdk_extent *vdk__link_extent_at (struct vdk_link *l, uint64_t off);

/* Chains (disk/chain.c). */
/* Where the parent of link l is, found from its parentFileNameHint as
 * opening its chain finds it (confined to its folder unless it allows
 * external paths; Windows and escaping hints by their base name);
 * malloc'd, or NULL with the error set (ENOENT: no hint). */
char *vdk__link_parent_path (struct vdk_link *l);
struct vdk_disk *vdk__disk_open (const char *path, unsigned flags);
/* Close every link (flush failures set *flush_failed) and free the
 * disk with its remote state. */
void vdk__disk_free (struct vdk_disk *d, bool *flush_failed);
int vdk__link_zero (struct vdk_link *l, uint64_t len, uint64_t off);
/* Trim or fast-zero [off, off+len) of the top link l (disk/trim.c);
 * `how` is VDK__TRIM_* (ZERO, KEEP, CHECK, NOWRITE; BELOW is worked out
 * here from the parent chain). */
int vdk__link_trim (struct vdk_link *l, uint64_t off, uint64_t len,
                    unsigned how);

/* Sector sizes from the DDB (512 if absent); -1 for a 4Kn disk. */
int vdk__link_sector_sizes (struct vdk_link *l, uint32_t *logical,
                            uint32_t *physical);

/* Reads through a chain; block status. */
int vdk__link_pread (struct vdk_link *l, void *buf, uint64_t len,
                     uint64_t off);
int vdk__link_pwrite (struct vdk_link *l, const void *buf, uint64_t len,
                      uint64_t off);
int vdk__link_status (struct vdk_link *l, uint64_t off, uint64_t len,
                      bool top_only, uint64_t *pnum, int *state, int *depth);

/* ---- asynchronous I/O (disk/aio.c) ------------------------------------ */

struct vdk__aio_req {
  struct vdk_disk *disk;
  int op;                  /* 'r' 'w' (bytes), 'R' 'W' (sectors) */
  void *buf;               /* const for writes */
  uint64_t offset, count;  /* bytes, or sectors for 'R' 'W' */
  struct vdk_completion done;
  /* owned by disk/aio.c */
  uint64_t seq;
  struct vdk__aio_req *prev, *next, *qnext;
};

/* Hand a request to the local worker pool (the default submit hook; a
 * transport falls back to it for requests its own path does not take). */
int vdk__aio_pool_submit (struct vdk_disk *d, struct vdk__aio_req *r);
/* Run a request on the calling thread with the synchronous calls;
 * returns 0 or its vdk_error code (the thread's last error says why). */
int vdk__aio_execute (struct vdk__aio_req *r);
/* End a request: callback, free, then wake waiters; frees r.  With
 * error != 0 the calling thread's last error describes the failure. */
void vdk__aio_complete (struct vdk__aio_req *r, int error);
/* Is this thread inside a completion callback of d? */
bool vdk__aio_in_callback (struct vdk_disk *d);
/* Wait for every request in flight, then stop the workers (close). */
void vdk__aio_shutdown (struct vdk_disk *d);

/* ---- paths (disk/path.c) --------------------------------------------- */

/* Resolve `name` (from a descriptor) against `dir`.  Unless
 * allow_external, the result (after symlinks, for the existing part)
 * must lie inside dir; otherwise EACCES.  Returns malloc'd path. */
char *vdk__path_resolve (const char *dir, const char *name,
                         bool allow_external);
/* Canonical folder of a file path (the file need not exist). */
char *vdk__path_dir (const char *path);
/* Path of `target` relative to the folder `from_dir`, for hints. */
char *vdk__path_relative (const char *from_dir, const char *target);
const char *vdk__path_base (const char *path);
/* "dir/name.vmdk" -> "name" (malloc'd). */
char *vdk__path_stem (const char *path);
/* dir + "/" + name (malloc'd). */
char *vdk__path_join (const char *dir, const char *name);

#endif /* VDK_DISK_H */
