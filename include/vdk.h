/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdk - open virtual disk development kit: the disk API.
 *
 * A vdk_disk is an open virtual disk: one link (a raw image or a VMDK
 * descriptor with its extents) and, for a child, the chain of parents
 * below it.  Reads fall through unallocated grains to the parent; writes
 * go to the top link only.
 *
 * Conventions
 * - Calls return 0 (or a pointer) on success and -1 (or NULL) on failure.
 *   The failing call leaves thread-local state: a message (file and
 *   cause), the call's name, an errno value and a vdk_error code (see
 *   "Library setup and errors").
 * - Strings and structs returned to the caller are owned by the caller
 *   and freed with the matching vdk_free_* call.  Every string inside a
 *   returned struct belongs to that struct: it stays valid, whatever
 *   happens to the disk (vdk_close included), until the struct is
 *   freed.  Every close and free accepts NULL.
 * - Structs the library hands out are allocated by the library and
 *   reached only through pointers: none is returned by value, embedded
 *   in another public struct, or laid out in an array the caller
 *   indexes (lists are arrays of pointers, `struct vdk_extent_info
 *   **extents`).  So each may grow at its end in a later version
 *   without breaking programs built against this one.  Never allocate,
 *   copy by value or take sizeof of such a struct.
 * - Options structs, which the caller allocates, carry a `version`
 *   field instead; initialise them with their _INIT macro.  A version
 *   newer than the library knows, and flag bits it does not know, fail
 *   with VDK_E_INVALID_ARG: a request is never silently half-done.
 * - Public enums have no count or "last" member; values are only ever
 *   added.
 *
 * Thread safety
 * - One vdk_disk may be used from several threads at once.  Reads and
 *   writes of already allocated data run in parallel; allocation of new
 *   grains, grain tables and metadata changes take a per-link lock.
 * - vdk_close must not race with other calls on the same handle.
 * - The log callbacks may be called from any thread.
 */
#ifndef VDK_H
#define VDK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(VDK_BUILDING_LIBRARY)
#define VDK_API __attribute__((visibility("default")))
#else
#define VDK_API
#endif

#define VDK_SECTOR_SIZE 512

#define VDK_VERSION_MAJOR 0
#define VDK_VERSION_MINOR 1
#define VDK_VERSION_STRING "0.1.0"

typedef struct vdk_disk vdk_disk;

/* ---- Library setup and errors ---------------------------------------- */

/* printf-style log sink, as in the VDDK.  NULL selects the default, which
 * writes to stderr.  The panic sink is called for internal invariants that
 * failed; the library aborts after it returns. */
typedef void (*vdk_log_fn)(const char *fmt, va_list ap);

VDK_API int vdk_init(vdk_log_fn info, vdk_log_fn warning, vdk_log_fn panic);
VDK_API void vdk_exit(void);

/* What went wrong, as a stable code a program can act on.  Values never
 * change and new codes are only added at the end; VDK_E_OK is 0.  Each
 * maps one-to-one onto a VixError in the VDDK compatibility layer. */
enum vdk_error {
  VDK_E_OK = 0,
  VDK_E_FAILED,          /* none of the below (an internal error) */
  VDK_E_NOT_FOUND,       /* file or disk does not exist */
  VDK_E_EXISTS,          /* the file to create exists */
  VDK_E_INVALID_ARG,     /* a bad argument to the call */
  VDK_E_CORRUPT,         /* on-disk structure damaged: needs repair */
  VDK_E_UNSUPPORTED,     /* format, version or feature vdk cannot handle */
  VDK_E_CID_MISMATCH,    /* a child's parentCID differs from its parent */
  VDK_E_PARTIAL_CHAIN,   /* a parent disk is missing */
  VDK_E_LOCKED,          /* the disk is in use by another writer */
  VDK_E_READ_ONLY,       /* write to a read-only disk, extent or format */
  VDK_E_NO_SPACE,        /* the host file system is full */
  VDK_E_IO,              /* the host reported an I/O error */
  VDK_E_OUT_OF_RANGE,    /* offset or length beyond the disk */
  VDK_E_CANCELLED,       /* a progress callback asked to stop */
  VDK_E_KEY_NOT_FOUND,   /* metadata key absent */
  VDK_E_NO_MEMORY,
  VDK_E_AUTH,            /* authentication failed (bad key, ticket) */
  VDK_E_CONNECT,         /* could not connect to the server */
  VDK_E_CONNECTION_LOST, /* the connection dropped during a call */
  VDK_E_NOT_SUPPORTED_BY_TRANSPORT, /* e.g. metadata writes over NBD */
  VDK_E_ACCESS_DENIED,   /* errno EPERM: a path outside the disk's
                            folder (VDK_OPEN_ALLOW_EXTERNAL opens it);
                            EACCES: the host refused permission */
  VDK_E_TLS,             /* client and server disagree on TLS: the
                            server requires it, or refused it */
  VDK_E_TICKET,          /* unknown, expired or revoked ticket */
  VDK_E_HAS_SNAPSHOTS,   /* errno ENOTEMPTY: the store keeps snapshots
                            of the disk (an RBD image), which removing
                            it would lose (vdk_unlink_ex) */
};

/* The last failed call in this thread: its message (file and cause,
 * without the call's name), the name of the public call that failed
 * ("vdk_open"; "" after a success), an errno value and a vdk_error code.
 * Each stays valid until the next vdk call in this thread.  A public
 * call the library makes inside another (vdk_clone creating its output
 * with vdk_create), or that a callback makes, reports under the outer
 * call and does not clear its error.  errno per code: CORRUPT and
 * CID_MISMATCH EUCLEAN, PARTIAL_CHAIN ENOENT, OUT_OF_RANGE EINVAL,
 * KEY_NOT_FOUND ENODATA; the others as their names say (vdk(3)). */
VDK_API const char *vdk_last_error(void);
VDK_API const char *vdk_last_error_call(void);
VDK_API int vdk_last_errno(void);
VDK_API int vdk_last_error_code(void);
/* A short English text for a vdk_error code ("CID mismatch"); never
 * NULL. */
VDK_API const char *vdk_error_text(int code);

VDK_API const char *vdk_version(void);

/* ---- Types ----------------------------------------------------------- */

enum vdk_disk_type {
  VDK_TYPE_RAW = 0,
  VDK_TYPE_MONOLITHIC_SPARSE,   /* monolithicSparse */
  VDK_TYPE_MONOLITHIC_FLAT,     /* monolithicFlat */
  VDK_TYPE_SPLIT_SPARSE,        /* twoGbMaxExtentSparse */
  VDK_TYPE_SPLIT_FLAT,          /* twoGbMaxExtentFlat */
  VDK_TYPE_STREAM_OPTIMIZED,    /* streamOptimized */
  VDK_TYPE_VMFS,                /* vmfs (ESX flat) */
  VDK_TYPE_VMFS_THIN,           /* vmfsThin */
  VDK_TYPE_VMFS_SPARSE,         /* vmfsSparse (COWD redo log) */
  VDK_TYPE_SESPARSE,            /* seSparse */
  VDK_TYPE_VMFS_RDM,            /* vmfsRawDeviceMap */
  VDK_TYPE_VMFS_RDMP,           /* vmfsPassthroughRawDeviceMap */
  VDK_TYPE_FULL_DEVICE,         /* fullDevice */
  VDK_TYPE_PARTITIONED_DEVICE,  /* partitionedDevice */
  VDK_TYPE_CUSTOM,              /* any other createType */
};
/* "The usual type" where a call takes a type (vdk_create_child). */
#define VDK_TYPE_DEFAULT (-1)

/* createType name ("monolithicSparse", ...; "raw" for VDK_TYPE_RAW). */
VDK_API const char *vdk_type_name(int type);
/* Accepts createType names (case-insensitive), "raw", and
 * vmware-vdiskmanager's numbers "0".."6".  -1 if unknown. */
VDK_API int vdk_type_from_name(const char *name);

enum vdk_adapter {
  VDK_ADAPTER_IDE = 0,
  VDK_ADAPTER_BUSLOGIC,
  VDK_ADAPTER_LSILOGIC,
  VDK_ADAPTER_PVSCSI,
  VDK_ADAPTER_LEGACYESX,
};

VDK_API const char *vdk_adapter_name(int adapter);
VDK_API int vdk_adapter_from_name(const char *name); /* -1 if unknown */

struct vdk_geometry {
  uint32_t cylinders, heads, sectors;
};

/* The geometry VMware gives a new disk of `capacity` sectors, in a
 * struct the caller frees with vdk_free_geometry. */
VDK_API int vdk_geometry_for(uint64_t capacity_sectors, int adapter,
                             struct vdk_geometry **geometry);
VDK_API void vdk_free_geometry(struct vdk_geometry *geometry);

/* ---- Open, create, close --------------------------------------------- */

#define VDK_OPEN_READ_ONLY      0x01u /* no writes; files opened O_RDONLY */
#define VDK_OPEN_SINGLE_LINK    0x02u /* this link only; holes read as zero */
#define VDK_OPEN_UNBUFFERED     0x04u /* O_DIRECT where the host allows it */
#define VDK_OPEN_ALLOW_EXTERNAL 0x08u /* extents/parents outside the folder */
#define VDK_OPEN_NO_CID_CHECK   0x10u /* open a chain whose CIDs disagree */
#define VDK_OPEN_FORMAT_RAW     0x20u /* = VDK_FORMAT_RAW (see below) */
#define VDK_OPEN_FORMAT_VMDK    0x40u /* = VDK_FORMAT_VMDK */
#define VDK_OPEN_NO_LOCK        0x80u /* with READ_ONLY only: take no lock,
                                         so that a disk another process
                                         writes can be inspected; reads
                                         see what it has written so far,
                                         not a consistent snapshot */

/* Open the disk at `path` (a raw image, a VMDK descriptor or a VMDK
 * sparse file) and its parents.  The short form of vdk_open_ex.
 * Unknown flag bits, both format flags at once, and VDK_OPEN_NO_LOCK
 * without VDK_OPEN_READ_ONLY fail with VDK_E_INVALID_ARG. */
VDK_API vdk_disk *vdk_open(const char *path, unsigned flags);

/* How the content of `path` (the top link; parents are always probed)
 * is taken.  The format flags say the same to calls that take a path
 * and open flags (vdk_grow, vdk_check, vdk_diskset_open, ...).
 * A raw image that was probed (AUTO) refuses, with VDK_E_ACCESS_DENIED
 * and writing nothing, a write into its first 4096 bytes after which it
 * would probe as anything but raw (a KDMV or COWD header, descriptor
 * text): a guest must not turn its own disk into a VMDK that names
 * another file as its parent.  Open it as VDK_FORMAT_RAW to allow
 * such writes. */
enum vdk_format {
  VDK_FORMAT_AUTO = 0,  /* probe: VMDK by its magic or descriptor, else raw */
  VDK_FORMAT_RAW,       /* a raw image, whatever its first bytes say */
  VDK_FORMAT_VMDK,      /* must be a VMDK (descriptor or KDMV sparse);
                           anything else fails with VDK_E_UNSUPPORTED */
};

/* Remote disks.  A disk name may be an NBD URI wherever a file name is
 * taken (vdk_open, vdk_open_ex, vdk_check, vdk_clone's destination):
 *   nbd://[USER@]HOST[:PORT]/EXPORT        plain TCP (port 10809)
 *   nbds://[USER@]HOST[:PORT]/EXPORT       TLS required
 *   nbd+unix:///EXPORT?socket=PATH         unix socket
 *   nbds+unix://[USER@]/EXPORT?socket=PATH unix socket with TLS
 * with the query parameters tls-psk-file=FILE (psktool format; USER is
 * the identity) or tls-certificates=DIR (ca-cert.pem, and
 * client-cert.pem/client-key.pem if the server checks clients).  The
 * export is percent-encoded ("[ds1] vm/a.vmdk" is %5Bds1%5D%20vm/a.vmdk).
 * A remote disk is what the server exports: a whole chain, flattened.
 * Its information (create type, CIDs, DDB) comes from the export
 * description of a `vdk serve` server; metadata writes, and every call
 * that changes files (rename, grow, repair, ...), fail with
 * VDK_E_NOT_SUPPORTED_BY_TRANSPORT.
 *
 * The same connection can be described field by field, the shape of
 * VixDiskLib_ConnectEx: set `server` (and `port`) or `socket`, and the
 * export as vdk_open_ex's path ("[datastore] path/to/disk.vmdk", or any
 * name; "" for the default export) or as `ticket`.  vdk_open_ex then
 * tries the transports of `transports` in order: "nbdssl" (TLS with the
 * credentials below), "nbd" (plain); "file" opens a local path.  The
 * first that opens wins (vdk_get_transport_mode says which); if none
 * does, the error is the most telling of their failures (a refused key
 * or ticket rather than a TLS mismatch).  Failures to open, each with
 * its code: VDK_E_CONNECT (no server at that address), VDK_E_TLS (the
 * server requires TLS and the transport is nbd, or refuses it and the
 * transport is nbdssl), VDK_E_AUTH (wrong key or identity, untrusted
 * certificate), VDK_E_TICKET (unknown, expired or revoked ticket),
 * VDK_E_NOT_FOUND (no such export).  A connection lost later fails the
 * call (and every asynchronous request in flight) with
 * VDK_E_CONNECTION_LOST, "connection lost"; close the handle and open
 * it again.  A ticket revoked or expired while the disk is open ends
 * access: later calls that reach a vdk server fail with VDK_E_TICKET. */
struct vdk_open_params {
  uint32_t version;        /* VDK_OPEN_PARAMS_VERSION */
  unsigned flags;          /* VDK_OPEN_*; VDK_OPEN_READ_ONLY also for
                              remote disks */
  int format;              /* enum vdk_format; a format flag in `flags`
                              must agree with it */
  /* The connection; all NULL/0 for a local file or a URI path. */
  const char *transports;  /* ordered list, e.g. "nbdssl:nbd"; NULL =
                              "file:nbdssl:nbd" */
  const char *server;      /* host name or address (IPv6 without [ ]) */
  uint32_t port;           /* 0 = 10809 */
  const char *socket;      /* unix socket path instead of server/port */
  const char *user;        /* TLS-PSK identity */
  const char *password;    /* TLS-PSK key (hex) when there is no
                              key_file; needs user */
  const char *key_file;    /* TLS-PSK key file (psktool format) */
  const char *certificates; /* X.509 folder (ca-cert.pem, ...) */
  const char *ticket;      /* export name minted by `vdk ticket`; the
                              path is then informational */
  /* version 2: a disk in Ceph RBD (see "Disks in Ceph RBD" below);
   * NULL/0 leaves what the name's options, CEPH_CONF and librados'
   * defaults say.  Only for rbd: paths (VDK_E_INVALID_ARG otherwise). */
  const char *ceph_conf;   /* ceph.conf to read */
  const char *ceph_id;     /* client name without "client." ("admin") */
  const char *ceph_keyring; /* keyring file holding that client's key */
  uint32_t connect_timeout; /* seconds to reach the monitors and
                              authenticate; 0 = 30 */
};
#define VDK_OPEN_PARAMS_VERSION 2
#define VDK_OPEN_PARAMS_INIT \
  { VDK_OPEN_PARAMS_VERSION, 0, VDK_FORMAT_AUTO, NULL, NULL, 0, NULL, \
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0 }

/* Disks in Ceph RBD.  A disk name may be an RBD image wherever a file
 * name is taken (open, create, clone's source and destination, unlink,
 * rename within a pool):
 *   rbd:POOL/IMAGE[@SNAP]  or  rbd:POOL/NAMESPACE/IMAGE[@SNAP]
 * followed by options as qemu spells them, each ":KEY=VALUE" (':' and
 * '\' inside a value escaped with '\'): conf=FILE, id=CLIENT,
 * keyring=FILE, timeout=SECONDS (1..3600).  The open parameters'
 * ceph_* fields and connect_timeout are the same options.  Without
 * them librados reads CEPH_CONF (or /etc/ceph/ceph.conf) and CEPH_ARGS,
 * as Ceph's own tools do.  An image is a raw disk (never probed: a
 * guest's bytes); vdk_create makes a thin image (type raw only),
 * vdk_clone into a new image writes only data.  @SNAP opens a snapshot,
 * read-only, as it was when taken.  A writer takes the image's
 * exclusive lock (on images with that feature): a second writer, in
 * this process or another, fails with VDK_E_LOCKED.  The transport is
 * "rbd".  Failures to open, each with its code: VDK_E_CONNECT (no
 * monitor answered within the timeout), VDK_E_AUTH (key refused or
 * missing), VDK_E_NOT_FOUND (no such pool, image or snapshot; no
 * configuration file), VDK_E_ACCESS_DENIED (the client's capabilities
 * do not allow it).  vdk_unlink refuses an image that has snapshots
 * (VDK_E_HAS_SNAPSHOTS) unless vdk_unlink_ex is told to remove them. */

/* Open with explicit parameters.  Fails with VDK_E_INVALID_ARG for a
 * version newer than this library knows, an unknown format or unknown
 * flag bits. */
VDK_API vdk_disk *vdk_open_ex(const char *path,
                              const struct vdk_open_params *params);

/* What an open handle is: the path it was opened with (owned by the
 * handle; a URI for a remote disk), its VDK_OPEN_* flags (with the
 * format flag if one was asked for, so vdk_open(vdk_disk_path(d),
 * vdk_disk_flags(d)) opens the same disk the same way) and its
 * transport: "file", "nbd" or "nbdssl" (NBD with TLS).
 * NULL or 0 for a NULL disk. */
VDK_API const char *vdk_disk_path(vdk_disk *disk);
VDK_API unsigned vdk_disk_flags(vdk_disk *disk);
VDK_API const char *vdk_get_transport_mode(vdk_disk *disk);

/* Flush, clear the unclean-shutdown marks and close.  Returns -1 if a
 * flush failed (the handle is freed anyway). */
VDK_API int vdk_close(vdk_disk *disk);

#define VDK_CREATE_ZEROED_GRAIN 0x01u /* sparse: header v2, GTE 1 = zero */
#define VDK_CREATE_NO_PREALLOC  0x02u /* flat: leave the data files sparse
                                         (the default; kept for old
                                         callers) */
#define VDK_CREATE_PREALLOC     0x04u /* flat: allocate the data files'
                                         blocks now (VMware's thick
                                         disks), reporting progress */
#define VDK_CREATE_PREALLOC_ZEROED 0x08u /* flat: write zeroes into every
                                         block of the data files
                                         (VMware's eagerZeroedThick);
                                         implies VDK_CREATE_PREALLOC */

/* Progress: return nonzero to cancel (the call then fails with
 * ECANCELED, VDK_E_CANCELLED). */
typedef int (*vdk_progress_fn)(void *opaque, uint64_t done, uint64_t total);

struct vdk_create_params {
  uint32_t version;      /* VDK_CREATE_PARAMS_VERSION */
  int type;              /* enum vdk_disk_type */
  int adapter;           /* enum vdk_adapter */
  uint32_t hw_version;   /* ddb.virtualHWVersion; 0 = 4 */
  uint64_t capacity;     /* bytes, a multiple of 512 */
  uint32_t grain_sectors; /* sparse grain size; 0 = 128 */
  unsigned flags;        /* VDK_CREATE_* */
  /* version 2 */
  vdk_progress_fn progress; /* bytes preallocated of the total; may be
                               NULL.  A cancelled create removes what it
                               made. */
  void *opaque;
};
#define VDK_CREATE_PARAMS_VERSION 2
#define VDK_CREATE_PARAMS_INIT \
  { VDK_CREATE_PARAMS_VERSION, VDK_TYPE_MONOLITHIC_SPARSE, \
    VDK_ADAPTER_IDE, 4, 0, 0, 0, NULL, NULL }

/* Create a new, empty disk.  Fails with EEXIST if `path` exists. */
VDK_API int vdk_create(const char *path,
                       const struct vdk_create_params *params);

/* Create a child at `child_path` whose parent is the open disk's top
 * link: `type` VDK_TYPE_MONOLITHIC_SPARSE, VDK_TYPE_VMFS_SPARSE, or
 * VDK_TYPE_DEFAULT (monolithicSparse); other types fail with
 * VDK_E_UNSUPPORTED.  The parent handle stays valid; its top link is
 * not written by this call. */
VDK_API int vdk_create_child(vdk_disk *parent, const char *child_path,
                             int type);
VDK_API int vdk_create_child_path(const char *parent_path,
                                  const char *child_path, int type,
                                  unsigned open_flags);

/* ---- I/O ------------------------------------------------------------- */

/* Sector I/O, as in the VDDK. */
VDK_API int vdk_read(vdk_disk *disk, uint64_t sector, uint64_t nsectors,
                     void *buf);
VDK_API int vdk_write(vdk_disk *disk, uint64_t sector, uint64_t nsectors,
                      const void *buf);

/* Byte I/O at any offset and length; unaligned edges are read-modify-
 * written.  The whole range must lie inside the disk. */
VDK_API int vdk_pread(vdk_disk *disk, void *buf, size_t count,
                      uint64_t offset);
VDK_API int vdk_pwrite(vdk_disk *disk, const void *buf, size_t count,
                       uint64_t offset);

/* Write zeroes; whole grains become zeroed-grain entries or are left
 * unallocated where that reads back as zero. */
VDK_API int vdk_zero(vdk_disk *disk, uint64_t offset, uint64_t count);

/* Zero with flags.  Without flags this is vdk_zero.
 * - VDK_ZERO_MAY_TRIM: whole grains are given back as by vdk_trim (and
 *   read as zero), the rest of the range is written as zeroes.
 * - VDK_ZERO_FAST: fails with VDK_E_UNSUPPORTED, having changed nothing,
 *   unless the whole range can be zeroed without writing zero bytes
 *   (whole grains, flat files on hosts that zero ranges, ranges that
 *   read as zero already).  Without MAY_TRIM, host blocks stay
 *   allocated.  The check and the zeroing are not atomic with writes
 *   to the same range from other threads. */
#define VDK_ZERO_MAY_TRIM 0x01u
#define VDK_ZERO_FAST     0x02u
VDK_API int vdk_zero_ex(vdk_disk *disk, uint64_t offset, uint64_t count,
                        unsigned flags);

/* Give space back.  Whole grains of the range become unallocated (in a
 * base, or where no parent holds data) or zeroed grains (in a child over
 * its parent's data, where the extent has zeroed-grain entries), and
 * their host blocks are punched; a flat file gets a hole.  What is given
 * back reads as zero afterwards.  Left as they are: partial grains at
 * the edges; a child's grains over its parent's data when the child has
 * no zeroed-grain entries (a hole would show the parent); formats that
 * cannot give space back (streamOptimized, COWD), where the call
 * succeeds doing nothing.  When the whole range must read as zero, use
 * vdk_zero_ex with VDK_ZERO_MAY_TRIM. */
VDK_API int vdk_trim(vdk_disk *disk, uint64_t offset, uint64_t count);

/* ---- Asynchronous I/O ------------------------------------------------
 * A request is submitted with a completion (the shape of libnbd's
 * closures): callback(user_data, error) is called exactly once when the
 * request ends, with error 0 or a vdk_error code (VDK_E_OUT_OF_RANGE,
 * VDK_E_READ_ONLY, VDK_E_IO, ...), then free(user_data) if free is not
 * NULL.  Either member may be NULL.  If submission fails (-1: no disk,
 * out of memory, no thread could be started) the callback is not
 * called, but free is.  Range and access errors are not submission
 * failures: they reach the request's callback.
 * - The buffer must stay valid, and for a read untouched, until the
 *   callback runs.  Requests in flight are not ordered: two overlapping
 *   writes in flight at once may land in either order, and a read
 *   overlapping a write in flight may see either content.
 * - Callbacks run on a library worker thread (local disks: a pool of a
 *   few threads per disk, started on the first request, with all
 *   signals blocked) or, for remote disks, the connection's thread;
 *   several may run at once.  Inside a callback a program may submit
 *   more requests and use the synchronous calls, but vdk_aio_wait and
 *   vdk_close on the same disk are refused (-1, VDK_E_INVALID_ARG): they
 *   would wait for the callback itself.
 * - vdk_aio_wait waits until every request submitted on the disk before
 *   it has completed and its callback returned (requests other threads
 *   submit meanwhile are not waited for).  It returns -1 if any request
 *   failed since the previous wait; the error then counts them and
 *   carries the first failure's code and message.
 * - vdk_close waits for every request in flight, including ones their
 *   callbacks submit, then stops the workers and closes.  It must not
 *   race with submissions from other threads. */
struct vdk_completion {
  void (*callback)(void *user_data, int error);
  void *user_data;
  void (*free)(void *user_data);
};

VDK_API int vdk_aio_pread(vdk_disk *disk, void *buf, size_t count,
                          uint64_t offset, struct vdk_completion done);
VDK_API int vdk_aio_pwrite(vdk_disk *disk, const void *buf, size_t count,
                           uint64_t offset, struct vdk_completion done);
VDK_API int vdk_aio_read(vdk_disk *disk, uint64_t sector,
                         uint64_t nsectors, void *buf,
                         struct vdk_completion done);
VDK_API int vdk_aio_write(vdk_disk *disk, uint64_t sector,
                          uint64_t nsectors, const void *buf,
                          struct vdk_completion done);
VDK_API int vdk_aio_wait(vdk_disk *disk);

/* Make every completed write durable (fdatasync of each touched file). */
VDK_API int vdk_flush(vdk_disk *disk);

/* Capacity in bytes. */
VDK_API uint64_t vdk_capacity(vdk_disk *disk);

/* ---- Allocation ------------------------------------------------------ */

enum vdk_block_state {
  VDK_BLOCK_DATA = 0, /* allocated; holds data */
  VDK_BLOCK_ZERO = 1, /* reads as zero (zeroed grain, ZERO extent) */
  VDK_BLOCK_HOLE = 2, /* unallocated in the whole chain; reads as zero */
};

/* Describe the range at `offset`: on success *len is the length (> 0,
 * at most `count`) of the run that shares one state, *state its state
 * and *depth the link that holds it (0 = top, -1 for a hole).  With
 * VDK_OPEN_SINGLE_LINK-like behaviour requested by `top_only`, holes of
 * the top link are reported even if a parent has data. */
VDK_API int vdk_block_status(vdk_disk *disk, uint64_t offset,
                             uint64_t count, int top_only, uint64_t *len,
                             int *state, int *depth);

/* ---- Information and metadata --------------------------------------- */

struct vdk_extent_info {
  char *file;        /* as named in the descriptor; NULL for ZERO */
  char *path;        /* resolved host path; NULL for ZERO */
  char *type;        /* "FLAT", "SPARSE", "ZERO", "VMFS", ... */
  char *access;      /* "RW", "RDONLY", "NOACCESS" */
  uint64_t sectors;  /* size in the disk's address space */
  uint64_t offset;   /* start sector inside the file (FLAT) */
};

struct vdk_info {
  int type;                 /* enum vdk_disk_type of the top link */
  char *create_type;        /* descriptor createType, "raw" for raw */
  uint64_t capacity;        /* bytes */
  int adapter;              /* enum vdk_adapter, -1 if unknown */
  uint32_t hw_version;      /* 0 if unknown */
  struct vdk_geometry *physical; /* never NULL; zero if unknown */
  struct vdk_geometry *bios; /* never NULL; zero if the descriptor has
                                none */
  int links;                /* links in the open chain */
  char *parent_hint;        /* parentFileNameHint, NULL if none */
  char *uuid;               /* ddb.uuid, NULL if none */
  uint32_t cid;
  uint32_t parent_cid;      /* 0xffffffff if none */
  int has_parent;
  uint32_t grain_sectors;   /* of the first sparse extent; 0 if none */
  size_t num_extents;
  struct vdk_extent_info **extents; /* num_extents pointers */
  int thin_provisioned;     /* ddb.thinProvisioned = "1" (vmfsThin) */
  /* Sector sizes in bytes: logical is always 512 (a disk whose DDB
   * declares another, a 4Kn disk, fails to open with
   * VDK_E_UNSUPPORTED); physical is 512, or 4096 for a 512e disk
   * (ddb.physicalSectorSize). */
  uint32_t logical_sector_size;
  uint32_t physical_sector_size;
  /* Appended in 0.2 (the library allocates the struct, so it grows at
   * its end): */
  int depth;                /* of the link described, 0 = top */
  char *path;               /* the link's file (descriptor, or the one
                               file of a raw or sparse disk) as opened */
  uint64_t allocated_bytes; /* host storage the link's files take
                               (descriptor and extents, each file once,
                               st_blocks * 512); 0 where the store
                               cannot tell (mem, remote) */
  int unclean;              /* an extent of the link carries the
                               unclean-shutdown (dirty) mark: it was
                               not closed cleanly, see vdk_check */
};

/* Information about the top link of the open disk (links: the links of
 * the open chain). */
VDK_API int vdk_get_info(vdk_disk *disk, struct vdk_info **info);
/* The same for one link of the open chain: depth 0 is the top, then
 * its parent, ...; links counts this link and those below it.  A depth
 * beyond the chain fails with VDK_E_INVALID_ARG. */
VDK_API int vdk_get_link_info(vdk_disk *disk, int depth,
                              struct vdk_info **info);
VDK_API void vdk_free_info(struct vdk_info *info);

/* ddb keys of the top link, e.g. "ddb.adapterType" or "adapterType"
 * (the "ddb." prefix is optional).  get: ENOENT if absent; the value is
 * malloc'd.  set: updates or adds, written atomically at once.  keys: a
 * NULL-terminated malloc'd array, freed with vdk_free_strings.  Raw disks
 * have no metadata (ENOTSUP). */
VDK_API int vdk_meta_get(vdk_disk *disk, const char *key, char **value);
VDK_API int vdk_meta_set(vdk_disk *disk, const char *key, const char *value);
VDK_API int vdk_meta_keys(vdk_disk *disk, char ***keys);
VDK_API void vdk_free_strings(char **strings);

/* ---- Whole-disk operations ------------------------------------------ */

#define VDK_CLONE_SINGLE_LINK 0x01u /* copy only the top link */
#define VDK_CLONE_OVERWRITE   0x02u /* replace an existing destination */
#define VDK_CLONE_PREALLOC    0x04u /* flat or raw output: allocate its
                                       blocks (VDK_CREATE_PREALLOC) */
#define VDK_CLONE_PREALLOC_ZEROED 0x08u /* flat or raw output: write zeroes
                                       into every block first
                                       (eagerZeroedThick) */

struct vdk_clone_params {
  uint32_t version;      /* VDK_CLONE_PARAMS_VERSION */
  int type;              /* enum vdk_disk_type of the output */
  int adapter;           /* -1 = same as the source */
  uint32_t hw_version;   /* 0 = same as the source */
  unsigned flags;        /* VDK_CLONE_* */
  vdk_progress_fn progress;
  void *opaque;
  /* version 2 */
  int compress_level;    /* streamOptimized output: 1 (fast) .. 12 (small);
                            0 = the default, 3 */
  /* version 3 */
  int out_fd;            /* -1, or write the output to this descriptor
                            (see vdk_clone) */
};
#define VDK_CLONE_PARAMS_VERSION 3
#define VDK_CLONE_PARAMS_INIT \
  { VDK_CLONE_PARAMS_VERSION, VDK_TYPE_MONOLITHIC_SPARSE, -1, 0, 0, NULL, \
    NULL, 0, -1 }

/* Copy the guest-visible contents of `src` into a new disk at `dst`.
 * Unallocated and all-zero data is not written.  An existing `dst` is
 * refused (VDK_E_EXISTS) unless VDK_CLONE_OVERWRITE is given: then the
 * copy is made in a temporary folder beside it and moved into place
 * when complete (a one-file output replaces the old disk atomically),
 * and the old disk's files the new one does not use are removed.  A
 * destination in use (open for writing) is refused with VDK_E_LOCKED,
 * one that is part of the source chain with VDK_E_INVALID_ARG.
 *
 * With out_fd >= 0 (version 3) nothing is created at `dst`: the output,
 * one streamOptimized or raw file, is written to out_fd in order, so it
 * may be a pipe or standard output; `dst` only names it (its base name
 * goes into the descriptor, and into messages).  Other types, which are
 * several files or not written in order, fail with VDK_E_INVALID_ARG.
 * Bytes already written to out_fd stay written when the copy fails. */
VDK_API int vdk_clone(vdk_disk *src, const char *dst,
                      const struct vdk_clone_params *params);

/* Bytes the files of vdk_clone(src, dst, params) would take: exact for
 * uncompressed types (apparent file sizes, descriptor included), an
 * upper bound for streamOptimized (every non-zero grain counted at
 * deflate's worst case).  Only the base name of `dst` matters (file
 * names are written into descriptors); NULL means "disk.vmdk".  Reads
 * the source's allocated data to find all-zero grains, as vdk_clone
 * does; memory use does not grow with the disk. */
VDK_API int vdk_measure(vdk_disk *src, const char *dst,
                        const struct vdk_clone_params *params,
                        uint64_t *bytes);

/* Remove every file of the link at `path` (descriptor and extents).
 * The same as vdk_unlink_ex(path, 0). */
VDK_API int vdk_unlink(const char *path);

/* vdk_unlink with open flags: VDK_OPEN_FORMAT_RAW removes `path` alone
 * whatever it holds (a raw image whose first sectors look like a VMDK
 * never makes unlink remove the files its header names);
 * VDK_OPEN_FORMAT_VMDK refuses a file that is not a VMDK;
 * VDK_OPEN_ALLOW_EXTERNAL lets extents outside the disk's folder be
 * removed; VDK_UNLINK_SNAPSHOTS (a bit no open flag uses): a store that
 * keeps snapshots of the disk (an RBD image), which unlink otherwise
 * refuses with VDK_E_HAS_SNAPSHOTS, has them removed first (protected
 * ones unprotected; one that has clones stops the call).  Other bits
 * fail with VDK_E_INVALID_ARG. */
#define VDK_UNLINK_SNAPSHOTS 0x01000000u
VDK_API int vdk_unlink_ex(const char *path, unsigned flags);

/* Rename the link at `src` to `dst`, renaming its extent files to match
 * and rewriting the extent names in the descriptor.  Children of `src`
 * in its folder (links whose parentFileNameHint leads to it) follow:
 * their hints name `dst` afterwards, their CIDs unchanged.  A child that
 * cannot be opened for writing (in use) refuses the rename before
 * anything is changed, with an error naming it. */
VDK_API int vdk_rename(const char *src, const char *dst);

/* vdk_rename with open flags, as vdk_unlink_ex: with VDK_OPEN_FORMAT_RAW
 * only the file `src` is renamed. */
VDK_API int vdk_rename_ex(const char *src, const char *dst, unsigned flags);

/* ---- Maintenance (lib/ops: grow, shrink, defrag, attach, commit) ---- */

/* Every call here opens the disk at `path` itself, for writing, and
 * fails with EBUSY ("disk is in use by another process") if another
 * handle holds it.  `open_flags` may add VDK_OPEN_ALLOW_EXTERNAL.
 * progress may be NULL. */

/* Make the disk `new_capacity` bytes (larger only, a multiple of 512).
 * Split types gain extents; the geometry in the descriptor follows. */
VDK_API int vdk_grow(const char *path, uint64_t new_capacity,
                      unsigned open_flags);
/* vdk_grow with parameters: progress over the bytes a sparse extent's
 * rewrite copies (flat and split types report the end only); a
 * cancelled grow leaves the disk as it was. */
struct vdk_grow_params {
  uint32_t version;      /* VDK_GROW_PARAMS_VERSION */
  uint64_t capacity;     /* new size in bytes */
  unsigned open_flags;   /* VDK_OPEN_ALLOW_EXTERNAL */
  unsigned flags;        /* none defined yet: 0 */
  vdk_progress_fn progress;
  void *opaque;
};
#define VDK_GROW_PARAMS_VERSION 1
#define VDK_GROW_PARAMS_INIT { VDK_GROW_PARAMS_VERSION, 0, 0, 0, NULL, NULL }
VDK_API int vdk_grow_ex(const char *path,
                        const struct vdk_grow_params *params);
/* Give back grains that hold only zeroes; sparse extents are rewritten
 * into a new file that is fsync'd and renamed over the old one. */
VDK_API int vdk_shrink(const char *path, unsigned open_flags,
                        vdk_progress_fn progress, void *opaque);
/* Rewrite sparse extents with their grains in LBA order, tables first
 * (new file, fsync, rename, as for shrink). */
VDK_API int vdk_defrag(const char *path, unsigned open_flags,
                        vdk_progress_fn progress, void *opaque);

#define VDK_ATTACH_UNSAFE  0x01u /* re-parent even if contents change */
#define VDK_ATTACH_DRY_RUN 0x02u /* only say whether attach would work */
/* Make `new_parent` the parent of the child link `child`.  Refuses
 * (EINVAL) unless the guest-visible contents stay the same, or
 * VDK_ATTACH_UNSAFE is given.  With VDK_ATTACH_DRY_RUN nothing is
 * written: 0 means the attach would succeed (every check is made, the
 * child is opened for writing, so a child in use fails with
 * VDK_E_LOCKED), -1 says why not (VixDiskLib_IsAttachPossible). */
VDK_API int vdk_attach(const char *child, const char *new_parent,
                        unsigned flags, unsigned open_flags);
/* Merge the child's data into its parent.  The child stays valid (its
 * parentCID is updated) and may then be removed. */
VDK_API int vdk_commit(const char *child, unsigned open_flags,
                        vdk_progress_fn progress, void *opaque);

#define VDK_COMMIT_DROP 0x01u /* empty the child afterwards */
struct vdk_commit_params {
  uint32_t version;      /* VDK_COMMIT_PARAMS_VERSION */
  unsigned open_flags;   /* VDK_OPEN_ALLOW_EXTERNAL, a format flag (child) */
  unsigned flags;        /* VDK_COMMIT_* */
  const char *base;      /* a link of the child's chain to merge into;
                            NULL = the child's parent */
  vdk_progress_fn progress;
  void *opaque;
};
#define VDK_COMMIT_PARAMS_VERSION 1
#define VDK_COMMIT_PARAMS_INIT \
  { VDK_COMMIT_PARAMS_VERSION, 0, 0, NULL, NULL, NULL }
/* vdk_commit through several levels: what every link above `base`
 * shows (the child and the links between) is written into `base`, and
 * the child then names `base` as its parent (parentFileNameHint and
 * parentCID), so it shows the same contents.  The links between no
 * longer match their parent's CID and refuse to open, as VMware's rule
 * wants of a parent that changed.  `base` must be a link of the child's
 * chain (VDK_E_INVALID_ARG otherwise).  With VDK_COMMIT_DROP the child
 * is emptied at the end (its sparse extents rewritten without grains),
 * so it reads as `base` and holds no space.  `params` may be NULL
 * (commit into the parent, keep the child). */
VDK_API int vdk_commit_ex(const char *child,
                          const struct vdk_commit_params *params);

/* Make `new_parent` the parent of the child link `child` and keep the
 * contents the child shows: wherever the child reads through to its
 * parents and the old chain differs from the new parent's, the old
 * bytes are first copied into the child (qemu-img rebase).  The child's
 * old parents must open (with their CIDs matching).
 * `params` may be NULL (defaults); its flags must be 0.  A child that
 * had no parent keeps reading zeroes where it holds nothing: zeroes are
 * written wherever the new parent holds anything else. */
struct vdk_rebase_params {
  uint32_t version;      /* VDK_REBASE_PARAMS_VERSION */
  unsigned open_flags;   /* VDK_OPEN_ALLOW_EXTERNAL, a format flag (child) */
  unsigned flags;        /* none defined yet: 0 */
  vdk_progress_fn progress; /* bytes of the child's address space */
  void *opaque;
};
#define VDK_REBASE_PARAMS_VERSION 1
#define VDK_REBASE_PARAMS_INIT \
  { VDK_REBASE_PARAMS_VERSION, 0, 0, NULL, NULL }
VDK_API int vdk_rebase(const char *child, const char *new_parent,
                       const struct vdk_rebase_params *params);

/* ---- Allocated blocks (VixDiskLib_QueryAllocatedBlocks) ------------ */

#define VDK_MIN_CHUNK_SECTORS 128

struct vdk_block {
  uint64_t offset;  /* sectors */
  uint64_t length;  /* sectors */
};
struct vdk_block_list {
  size_t n;
  struct vdk_block **blocks; /* n pointers; ascending, merged,
                                chunk-aligned */
};

/* The chunks of [start, start+count) sectors that hold data (DATA, not
 * holes or zeroed grains), in the top link only (top_only) or anywhere
 * in the chain.  chunk >= VDK_MIN_CHUNK_SECTORS, a power of two;
 * start and count multiples of chunk.  Free with vdk_free_block_list. */
VDK_API int vdk_query_allocated_blocks(vdk_disk *disk, uint64_t start,
                                        uint64_t count, uint64_t chunk,
                                        int top_only,
                                        struct vdk_block_list **list);
VDK_API void vdk_free_block_list(struct vdk_block_list *list);

/* ---- Check and repair ---------------------------------------------- */

#define VDK_CHECK_REPAIR 0x01u

/* What vdk_check_ex does: vdk_check's flags and open flags, and a
 * progress callback over the bytes of the chain's extents checked (it
 * moves once per extent; nonzero cancels: VDK_E_CANCELLED). */
struct vdk_check_params {
  uint32_t version;      /* VDK_CHECK_PARAMS_VERSION */
  unsigned flags;        /* VDK_CHECK_* */
  unsigned open_flags;   /* VDK_OPEN_ALLOW_EXTERNAL, VDK_OPEN_FORMAT_* */
  vdk_progress_fn progress; /* may be NULL */
  void *opaque;
};
#define VDK_CHECK_PARAMS_VERSION 1
#define VDK_CHECK_PARAMS_INIT { VDK_CHECK_PARAMS_VERSION, 0, 0, NULL, NULL }

struct vdk_check_item {
  char *file;     /* the file concerned */
  char *what;     /* one line */
  int repairable; /* repair knows how to fix it without guessing data */
  int repaired;   /* this run fixed it */
};
struct vdk_check_report {
  size_t nproblems;
  struct vdk_check_item **problems; /* nproblems pointers */
  size_t nchanges;
  char **changes;  /* exactly what repair wrote, one line each */
  size_t nnotes;
  char **notes;    /* not corruption: e.g. leaked (unreferenced) space */
};

/* Check every link of the disk at `path` (structure, sizes, CIDs).
 * Returns 0 when the check ran (the report says what it found, and
 * what repair changed) and -1 when it could not check.  Without
 * VDK_CHECK_REPAIR the files are opened read-only. */
VDK_API int vdk_check(const char *path, unsigned flags, unsigned open_flags,
                       struct vdk_check_report **report);
/* vdk_check with parameters (progress). */
VDK_API int vdk_check_ex(const char *path,
                         const struct vdk_check_params *params,
                         struct vdk_check_report **report);
VDK_API void vdk_free_check_report(struct vdk_check_report *report);

#ifdef __cplusplus
}
#endif

#endif /* VDK_H */
