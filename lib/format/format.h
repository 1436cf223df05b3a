/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The format layer: VMDK descriptor text and the extent formats, each
 * behind one ops table (lib/format). */
#ifndef VDK_FORMAT_H
#define VDK_FORMAT_H

#include "io/io.h"

/* ---- descriptor (format/descriptor.c) -------------------------------- */

enum vdk_access { VDK_ACCESS_RW = 0, VDK_ACCESS_RDONLY, VDK_ACCESS_NOACCESS };
enum vdk_ext_kind {
  VDK_EXT_FLAT = 0, VDK_EXT_SPARSE, VDK_EXT_ZERO, VDK_EXT_VMFS,
  VDK_EXT_VMFSSPARSE, VDK_EXT_VMFSRDM, VDK_EXT_VMFSRAW, VDK_EXT_SESPARSE,
  VDK_EXT_KIND_COUNT_
};

struct vdk_desc_extent {
  int access;            /* enum vdk_access */
  uint64_t sectors;
  int kind;              /* enum vdk_ext_kind */
  char *file;            /* NULL for ZERO */
  uint64_t offset;       /* sectors; FLAT only */
  bool has_offset;
  char *extra;           /* fields after OFFSET, kept verbatim, or NULL */
};

/* One key=value line of the header or of the DDB, in file order. */
struct vdk_desc_kv {
  char *key;             /* "CID", "ddb.adapterType", ... */
  char *value;           /* without quotes */
  bool quoted;           /* written with quotes */
};

struct vdk_desc {
  struct vdk_desc_kv *header;  /* version, CID, ..., unknown keys */
  size_t nheader;
  struct vdk_desc_extent *extents;
  size_t nextents;
  struct vdk_desc_kv *ddb;     /* keys starting with "ddb." */
  size_t nddb;
};

/* Largest descriptor text we read (VirtualBox caps embedded ones at
 * 10 MiB; a 2 TiB split disk needs ~60 KiB). */
#define VDK_DESC_MAX (1u << 20)

/* Parse descriptor text (not NUL-terminated; stops at the first NUL).
 * Tolerant: CRLF, blanks, comments, spaces around '=' and case of
 * keywords.  Strict: extent lines must be well-formed, sizes must fit,
 * version must be 1..3, CID values hex.  On error returns NULL, fills
 * `err` with a message naming the line and sets errno: EFSCORRUPTED,
 * ENOTSUP (a version or extent type vdk does not know) or ENOMEM. */
struct vdk_desc *vdk__desc_parse (const char *text, size_t len,
                                  char *err, size_t errlen);
/* Format in VMware's canonical layout: "# Disk DescriptorFile", header
 * keys in stored order, "# Extent description", extents, "# The Disk
 * Data Base", "#DDB", ddb keys in stored order.  Returns malloc'd,
 * NUL-terminated text. */
char *vdk__desc_format (const struct vdk_desc *d);
/* Can `name` be written as a quoted descriptor string (extent file,
 * parentFileNameHint) and read back the same?  No '"', no line break:
 * the grammar has no escapes. */
bool vdk__desc_name_ok (const char *name);
/* Keys and values a descriptor line holds so that they read back the
 * same (vdk_meta_set and the remote description use them). */
bool vdk__desc_key_ok (const char *key);
bool vdk__desc_value_ok (const char *value);
struct vdk_desc *vdk__desc_new (void);
void vdk__desc_free (struct vdk_desc *d);
/* Header key or ddb key ("ddb." prefix included); NULL if absent. */
const char *vdk__desc_get (const struct vdk_desc *d, const char *key);
/* Set or append; `quoted` picks the written form for a new key. */
int vdk__desc_set (struct vdk_desc *d, const char *key, const char *value,
                   bool quoted);
int vdk__desc_remove (struct vdk_desc *d, const char *key);
int vdk__desc_add_extent (struct vdk_desc *d, int access, uint64_t sectors,
                          int kind, const char *file, uint64_t offset,
                          bool has_offset);
/* CID helpers: parse 8 hex digits; missing CID reads as 0xffffffff. */
uint32_t vdk__desc_cid (const struct vdk_desc *d, const char *key);
void vdk__desc_set_cid (struct vdk_desc *d, const char *key, uint32_t cid);
const char *vdk__ext_kind_name (int kind);
const char *vdk__access_name (int access);

/* ---- extents (format/) ----------------------------------------------- */

struct vdk_extent;
struct vdk_link;

/* Supplies the bytes "under" a link (parent chain or zeroes) for the
 * parts of a new grain that a write does not cover.  off is in the
 * link's address space. */
typedef int (*vdk_fill_fn) (void *ctx, void *buf, uint64_t len,
                            uint64_t off);

/* What lies under a link, for trim: data(ctx, off, len, &any) sets any
 * if a link below holds data in [off, off+len); fill as above.  Offsets
 * are in the link's address space. */
struct vdk_below {
  int (*data) (void *ctx, uint64_t off, uint64_t len, bool *any);
  vdk_fill_fn fill;
  void *ctx;
};

/* What a format is and can do (struct vdk_extent_ops.caps).  A format
 * states only what its members do not already say; vdk__fmt_caps adds
 * the defaults that follow from the members, as nbdkit's plugin_can_*
 * do: WRITABLE if it has pwrite (unless READ_ONLY), CAN_ZERO if it has
 * zero, and neither without pwrite. */
#define VDK_FMT_WRITABLE       0x01u /* writes are accepted (default: pwrite) */
#define VDK_FMT_CAN_ZERO       0x02u /* zeroes without writing zero data
                                      * (default: zero) */
#define VDK_FMT_CAN_TRIM       0x04u /* gives space back on trim */
#define VDK_FMT_ORDERED_WRITES 0x08u /* writes must come in increasing
                                      * order (streamOptimized) */
#define VDK_FMT_REWRITABLE     0x10u /* shrink, defrag and grow rewrite it
                                      * into a new file (ops/rewrite.c) */
#define VDK_FMT_PREALLOCATED   0x20u /* every byte has its place before it
                                      * is written: writes allocate nothing,
                                      * so any order and any number of
                                      * threads lay the file out alike */
#define VDK_FMT_NO_FILE        0x40u /* the extent has no file (ZERO) */
#define VDK_FMT_AT_OFFSET      0x100u /* data starts at the descriptor
                                      * line's offset in the file */
#define VDK_FMT_READ_ONLY      0x80u /* pwrite only refuses, in the
                                      * format's own words: not WRITABLE */

/* How a new, empty extent is made (vdk_extent_ops.create). */
struct vdk_ext_params {
  uint64_t sectors;      /* capacity of the extent */
  uint32_t grain;        /* sectors per grain (grained formats) */
  bool zeroed_grain;     /* zeroed-grain entries (hosted sparse) */
  const char *desc;      /* descriptor text to embed, or NULL */
};

/* The per-format table: one per format, listed in the registry
 * (format/registry.c).  All offsets are bytes relative to the extent.
 * Called only through the wrappers in format/extent.c and
 * format/registry.c, which check bounds and access and supply the
 * defaults of optional members.  The table only grows at its end.
 * - open: read and validate headers against the file size; nothing is
 *   allocated from an unchecked number.
 * - map: state of [off, off+len): sets *pnum (> 0, <= len) to the run
 *   that shares one state (VDK_BLOCK_DATA/ZERO/HOLE).  For DATA that is
 *   stored plainly, *host is its offset in e->io and the run is
 *   contiguous there; otherwise *host = UINT64_MAX and pread decodes.
 * - pread: read a range map called DATA.  Optional when every DATA run
 *   has a host offset.
 * - pwrite: write; parts of new grains the write does not cover come
 *   from fill(ctx).  Optional: NULL = read-only format (ENOTSUP).
 * - zero: make the range read as zero.  Optional: the core writes
 *   zero buffers.
 * - flush: write back cached metadata in crash-safe order and make it
 *   durable.  Optional: the core flushes e->io.
 * - begin_write: called once before the first write (e.g. set the
 *   unclean-shutdown mark).  Optional.
 * - close: clean close (write back what is cached, then clear the
 *   unclean-shutdown mark); frees state whatever happens.  -1 when the
 *   extent could not be left clean (the mark stays set, the caller's
 *   close fails).  Must accept an extent whose open was never called
 *   (priv NULL).
 * - trim: give back the space of [off, off+len) as `how` (VDK__TRIM_*)
 *   allows.  Whole grains are deallocated: unallocated (GTE 0) where
 *   nothing shows through, a zeroed grain where the links below hold
 *   data (below->data says; below is NULL for a base), their host
 *   blocks punched.  With VDK__TRIM_ZERO the whole range must read as
 *   zero afterwards: parts the format cannot deallocate (partial grains,
 *   a child without zeroed grains) are written as zeroes (below->fill
 *   completes new grains); without it they are left alone.
 *   VDK__TRIM_KEEP: keep host blocks allocated (zero without punching).
 *   VDK__TRIM_CHECK: change nothing, fail with ENOTSUP if any zero byte
 *   would have to be written.
 *   Optional: NULL = nothing to give back (the core zeroes if asked).
 * What the format is (the registry's part):
 * - kinds: bit (1u << VDK_EXT_*) for each descriptor extent kind whose
 *   extents it reads.  Several formats may serve a kind (SPARSE: hosted
 *   sparse and streamOptimized); probe tells them apart.
 * - probe: does a file starting with `buf` (the first `len` bytes,
 *   zero-filled past the end of a file of `size` bytes) hold this
 *   format?  Pure: no I/O.  Optional: a format without probe is
 *   recognised only by its descriptor kind (flat, zero).
 * - create: write a new, empty extent into io (flushed by the caller).
 *   Optional: NULL = vdk cannot make this format.
 * - grow: grow e's file to hold `sectors` (the descriptor is updated
 *   by the caller).  Optional: a REWRITABLE format grows by rewrite;
 *   any other refuses.
 * - params: what create would need to make another extent like e
 *   (grain size, zeroed grains).  Optional: nothing to say.
 * - check: the structure walker behind vdk_check, on an extent whose
 *   open was not run (VDK__OPEN_NO_FORMAT): report every problem to
 *   sink; with `repair` (io writable) fix what can be fixed.  -1 only
 *   if the file could not be read.  Optional: the core runs the
 *   format's own reader over every byte (vdk__ext_check).
 * - desc_read: the descriptor embedded in a file of this format
 *   (*text = NULL if there is none).  Optional: the format cannot stand
 *   alone; a descriptor must name it.
 * - desc_write: replace the embedded descriptor.  Optional.
 * - describe: a descriptor for a file of this format that embeds none
 *   (`name` is the file's base name).  Optional.
 * - set_level: compression level (1..12) for data written from now on.
 *   Optional: the format does not compress and ignores it.
 * - copy_bytes: an upper bound of the bytes a copy appends to a new
 *   empty extent for `grains` grains holding data, spread over
 *   `regions` grain-table regions (vdk_measure).  Optional: 0.
 * - unclean: is the file's unclean-shutdown mark set (as the file holds
 *   it now; vdk sets it at the first write and clears it at a clean
 *   close)?  Optional: the format has no such mark (false). */
/* The largest hosted sparse extent VMware makes (~2 TiB). */
#define VDK_SPARSE_MAX_SECTORS ((uint64_t) UINT32_MAX * 128 / 2)
struct vdk_check_sink;
struct vdk_extent_ops {
  const char *name;
  int (*open) (struct vdk_extent *e);
  int (*map) (struct vdk_extent *e, uint64_t off, uint64_t len,
              uint64_t *pnum, int *state, uint64_t *host);
  int (*pread) (struct vdk_extent *e, void *buf, uint64_t len, uint64_t off);
  int (*pwrite) (struct vdk_extent *e, const void *buf, uint64_t len,
                 uint64_t off, vdk_fill_fn fill, void *ctx);
  int (*zero) (struct vdk_extent *e, uint64_t off, uint64_t len,
               vdk_fill_fn fill, void *ctx);
  int (*flush) (struct vdk_extent *e);
  int (*begin_write) (struct vdk_extent *e);
  int (*close) (struct vdk_extent *e);
  int (*trim) (struct vdk_extent *e, uint64_t off, uint64_t len,
               unsigned how, const struct vdk_below *below);
  /* ---- the registry's part ---- */
  unsigned kinds;
  unsigned caps;         /* VDK_FMT_* beyond the defaults */
  bool (*probe) (const uint8_t *buf, size_t len, uint64_t size);
  int (*create) (struct vdk_io *io, const struct vdk_ext_params *p);
  int (*grow) (struct vdk_extent *e, uint64_t sectors);
  int (*params) (struct vdk_extent *e, struct vdk_ext_params *p);
  int (*check) (struct vdk_extent *e, bool repair,
                const struct vdk_check_sink *sink);
  int (*desc_read) (struct vdk_io *io, char **text);
  int (*desc_write) (struct vdk_io *io, const char *text);
  int (*describe) (struct vdk_io *io, const char *name,
                   struct vdk_desc **out);
  int (*set_level) (struct vdk_extent *e, int level);
  uint64_t (*copy_bytes) (uint64_t grain_bytes, uint64_t grains,
                          uint64_t regions);
  uint64_t max_sectors;  /* largest extent it holds; 0: no limit */
  int (*unclean) (struct vdk_extent *e, bool *unclean);
};
#define VDK__TRIM_ZERO  0x1u  /* the range must read as zero afterwards */
#define VDK__TRIM_KEEP  0x4u  /* keep host blocks allocated */
#define VDK__TRIM_CHECK 0x8u  /* dry run: ENOTSUP if zeroes must be written */
#define VDK__TRIM_NOWRITE 0x10u /* after a CHECK: fail (ENOTSUP) rather than
                                   write zeroes the check could not foresee */

struct vdk_extent {
  const struct vdk_extent_ops *ops;
  struct vdk_link *link;  /* owner (disk layer); opaque to formats */
  const char *owner_path; /* the owning link's path, for messages */
  bool whole_file;       /* a raw image: the extent is the file itself */
  int kind;              /* enum vdk_ext_kind */
  int access;            /* enum vdk_access */
  uint64_t start;        /* byte offset in the link's address space */
  uint64_t length;       /* bytes */
  uint64_t file_offset;  /* bytes, FLAT */
  char *name;            /* as written in the descriptor */
  char *path;            /* resolved host path */
  struct vdk_io *io;     /* NULL for ZERO */
  bool readonly;
  void *priv;
};

extern const struct vdk_extent_ops vdk__flat_ops;
extern const struct vdk_extent_ops vdk__zero_ops;
extern const struct vdk_extent_ops vdk__sparse_ops;

/* "PATH: message" error for an extent (format/extent.c); returns -1. */
int vdk__ext_err (struct vdk_extent *e, int errnum, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

/* Checked wrappers (format/extent.c): the only way into a format's
 * table from outside lib/format. */
int vdk__ext_open (struct vdk_extent *e);
int vdk__ext_close (struct vdk_extent *e);
int vdk__ext_map (struct vdk_extent *e, uint64_t off, uint64_t len,
                  uint64_t *pnum, int *state, uint64_t *host);
int vdk__ext_pread (struct vdk_extent *e, void *buf, uint64_t len,
                    uint64_t off);
int vdk__ext_pwrite (struct vdk_extent *e, const void *buf, uint64_t len,
                     uint64_t off, vdk_fill_fn fill, void *ctx);
int vdk__ext_zero (struct vdk_extent *e, uint64_t off, uint64_t len,
                   vdk_fill_fn fill, void *ctx);
/* Trim (see the table above).  Extents without a trim member: with
 * VDK__TRIM_ZERO the range is zeroed the ordinary way (CHECK: ENOTSUP
 * unless it reads as zero already), otherwise nothing happens. */
int vdk__ext_trim (struct vdk_extent *e, uint64_t off, uint64_t len,
                   unsigned how, const struct vdk_below *below);
/* Can the extent give space back (a trim member, read-write)? */
bool vdk__ext_can_trim (const struct vdk_extent *e);
int vdk__ext_flush (struct vdk_extent *e);
int vdk__ext_begin_write (struct vdk_extent *e);
/* The format's name ("sparse", "streamOptimized", ...). */
const char *vdk__ext_format_name (const struct vdk_extent *e);
/* Does e's format have every capability in `caps` (VDK_FMT_*)? */
bool vdk__ext_can (const struct vdk_extent *e, unsigned caps);
/* Grow e's file to `sectors`: -1 with ENOTSUP if the format cannot grow
 * in place (REWRITABLE formats grow by rewrite, ops/rewrite.c). */
int vdk__ext_grow (struct vdk_extent *e, uint64_t sectors);
/* Parameters to make another extent like e (zeroed if nothing to say). */
int vdk__ext_params (struct vdk_extent *e, struct vdk_ext_params *p);
/* Make a new, empty extent of e's format into io. */
int vdk__ext_create_like (const struct vdk_extent *e, struct vdk_io *io,
                          const struct vdk_ext_params *p);
/* Check e (open not run): the format's walker, or its reader over
 * every byte. */
int vdk__ext_check (struct vdk_extent *e, bool repair,
                    const struct vdk_check_sink *sink);
/* The descriptor embedded in e's file; *text NULL if none. */
int vdk__ext_desc_read (struct vdk_extent *e, char **text);
int vdk__ext_desc_write (struct vdk_extent *e, const char *text);
/* Bytes of e's file its lock covers, from e->file_offset: FLAT and
 * VMFS extents lock only their range, so the extents of a
 * partitionedDevice may share one device; 0 = the whole file. */
uint64_t vdk__ext_lock_len (const struct vdk_extent *e);
/* Compression level for formats that compress; others ignore it. */
int vdk__ext_set_level (struct vdk_extent *e, int level);
/* The extent's unclean-shutdown mark (false for formats without one). */
int vdk__ext_unclean (struct vdk_extent *e, bool *unclean);

/* ---- the registry of formats (format/registry.c) -------------------- */

/* Every format, one entry each, NULL-terminated. */
extern const struct vdk_extent_ops *const vdk__formats[];
/* Capabilities with the defaults that follow from the members. */
unsigned vdk__fmt_caps (const struct vdk_extent_ops *f);
const struct vdk_extent_ops *vdk__format_by_name (const char *name);
/* The format of a descriptor extent of `kind` whose file is io (NULL
 * for an extent without file): the first format serving the kind whose
 * probe accepts the file, else the first serving it (its open names
 * what is wrong).  NULL if no format serves the kind. */
const struct vdk_extent_ops *vdk__format_for_extent (int kind,
                                                     struct vdk_io *io);
/* The format of a file that is a disk by itself: a raw image. */
const struct vdk_extent_ops *vdk__format_raw (void);
/* A new, empty extent of format f in io. */
int vdk__fmt_create (const struct vdk_extent_ops *f, struct vdk_io *io,
                     const struct vdk_ext_params *p);
/* Embedded descriptor of a file of format f (the link's probe). */
int vdk__fmt_desc_read (const struct vdk_extent_ops *f, struct vdk_io *io,
                        char **text);
int vdk__fmt_describe (const struct vdk_extent_ops *f, struct vdk_io *io,
                       const char *name, struct vdk_desc **out);
/* Does f read descriptor extents of this kind? */
bool vdk__fmt_serves (const struct vdk_extent_ops *f, int kind);
/* The descriptor extent kind a new extent of f is written as. */
int vdk__fmt_kind (const struct vdk_extent_ops *f);
uint64_t vdk__fmt_max_sectors (const struct vdk_extent_ops *f);
uint64_t vdk__fmt_copy_bytes (const struct vdk_extent_ops *f,
                              uint64_t grain_bytes, uint64_t grains,
                              uint64_t regions);

/* ---- hosted sparse (format/sparse.c) --------------------------------- */

#define KDMV_MAGIC 0x564d444bu   /* "KDMV" little-endian */
#define COWD_MAGIC 0x44574f43u   /* "COWD" little-endian */
#define SPARSE_GD_AT_END UINT64_MAX
#define SPARSE_FLAG_NL_VALID   0x1u
#define SPARSE_FLAG_RGD        0x2u
#define SPARSE_FLAG_ZERO_GRAIN 0x4u
#define SPARSE_FLAG_COMPRESSED 0x10000u
#define SPARSE_FLAG_MARKERS    0x20000u
#define SPARSE_UNCLEAN_OFFSET  72u

/* The 512-byte KDMV header in host form. */
struct sparse_header {
  uint32_t version;
  uint32_t flags;
  uint64_t capacity;       /* sectors */
  uint64_t grain_size;     /* sectors */
  uint64_t desc_offset;    /* sectors */
  uint64_t desc_size;      /* sectors */
  uint32_t num_gtes;       /* entries per grain table */
  uint64_t rgd_offset;     /* sectors */
  uint64_t gd_offset;      /* sectors */
  uint64_t overhead;       /* sectors */
  uint8_t unclean;
  uint8_t nl[4];
  uint16_t compress;
};

/* Decode and validate a header read from a file of `file_size` bytes.
 * Returns 0 or -1 with a message in err and errno EFSCORRUPTED (damaged)
 * or ENOTSUP (unknown version or compression); no global error is set. */
int vdk__sparse_header_decode (const uint8_t buf[512], uint64_t file_size,
                               struct sparse_header *h, char *err,
                               size_t errlen);
void vdk__sparse_header_encode (const struct sparse_header *h,
                                uint8_t buf[512]);
/* Lay out a new sparse extent of `capacity` sectors: header fields,
 * descriptor area, RGD/RGTs, GD/GTs, overhead. */
void vdk__sparse_layout (struct sparse_header *h, uint64_t capacity,
                         uint32_t grain, bool zeroed_grain,
                         uint64_t desc_sectors);
/* Write a new, empty sparse extent with `desc` (may be NULL) embedded. */
int vdk__sparse_create (struct vdk_io *io, uint64_t capacity, uint32_t grain,
                        bool zeroed_grain, const char *desc);
/* Read and validate the header of a sparse file. */
int vdk__sparse_read_header (struct vdk_io *io, struct sparse_header *h);
/* Read / replace the descriptor embedded in a sparse file. */
int vdk__sparse_read_desc (struct vdk_io *io, char **text);
int vdk__sparse_write_desc (struct vdk_io *io, const char *text);

/* ---- streamOptimized, COWD, seSparse (format/stream*.c, cowd.c,
 * sesparse.c) ---------------------------------------------------------- */

extern const struct vdk_extent_ops vdk__stream_ops;
extern const struct vdk_extent_ops vdk__cowd_ops;
extern const struct vdk_extent_ops vdk__sesparse_ops;
/* True if io starts with a KDMV header flagged compressed or markers:
 * a streamOptimized extent (true stream or QEMU's layout). */
bool vdk__stream_probe (struct vdk_io *io);
/* The registry's part shared by sparse and stream (format/kdmv.c). */
bool vdk__kdmv_probe_sparse (const uint8_t *buf, size_t len, uint64_t size);
bool vdk__kdmv_probe_stream (const uint8_t *buf, size_t len, uint64_t size);
int vdk__kdmv_params (struct vdk_extent *e, struct vdk_ext_params *p);
int vdk__kdmv_unclean (struct vdk_extent *e, bool *unclean);
int vdk__kdmv_check (struct vdk_extent *e, bool repair,
                     const struct vdk_check_sink *sink);
int vdk__kdmv_describe (struct vdk_io *io, const char *name,
                        struct vdk_desc **out);
/* Write an empty true stream: header, `desc` embedded, empty GD,
 * footer, EOS. */
int vdk__stream_create (struct vdk_io *io, uint64_t capacity, uint32_t grain,
                        const char *desc);
/* Strict sequential check of a stream, as a streaming consumer reads
 * it: markers walked from overHead, grains in increasing LBA order,
 * tables and directory pointing at what came before, footer, EOS last.
 * Returns 0 or -1 with a message in err; counts grains in *grains. */
int vdk__stream_walk (struct vdk_io *io, uint64_t *grains, char *err,
                      size_t errlen);
/* Write an empty COWD (vmfsSparse) extent of `capacity` sectors. */
int vdk__cowd_create (struct vdk_io *io, uint64_t capacity);

/* Check one hosted sparse extent (format/sparse-check.c), without
 * trusting any table: header, unclean mark, capacity against the
 * descriptor's `desc_sectors`, tables and grains past end of file,
 * overlaps (shared grains, tables over metadata), primary against
 * redundant tables, stream footer.  Each problem is passed to
 * report(ctx, repairable, text).  With `repair` (io writable) it
 * rebuilds the redundant tables from the primary, drops entries past
 * end of file and clears the unclean mark if nothing else is wrong,
 * passing each change to changed(ctx, text).  -1 only if it could not
 * read the file. */
struct vdk_check_sink {
  void *ctx;
  void (*problem) (void *ctx, int repairable, int repaired,
                   const char *text);
  void (*change) (void *ctx, const char *text);
  void (*note) (void *ctx, const char *text);
};
int vdk__sparse_check (struct vdk_io *io, uint64_t desc_sectors, bool repair,
                       const struct vdk_check_sink *sink);

/* ---- probing and disk types (format/probe.c, format/types.c) ------- */


/* Disk types (createType) and what they are made of: one row per type. */
#define VDK_TYPE_F_NO_DESC  0x01u  /* a raw image: no descriptor */
#define VDK_TYPE_F_EMBEDDED 0x02u  /* one file, the descriptor inside it */
#define VDK_TYPE_F_SPLIT    0x04u  /* extents of at most 2 GiB (split) */
#define VDK_TYPE_F_CREATE   0x08u  /* vdk_create makes it */
#define VDK_TYPE_F_CHILD    0x10u  /* vdk_create_child makes it */
#define VDK_TYPE_F_GROW     0x20u  /* vdk_grow grows it */
#define VDK_TYPE_F_EXTERNAL 0x40u  /* maps devices or files outside its
                                    * folder by design */
#define VDK_TYPE_F_THIN     0x80u  /* ddb.thinProvisioned = "1" */
struct vdk_type_info {
  int type;                        /* enum vdk_disk_type */
  const char *name;                /* createType */
  const struct vdk_extent_ops *fmt; /* format of its data extents, or
                                    * NULL (custom: any) */
  int kind;                        /* their descriptor kind */
  unsigned flags;                  /* VDK_TYPE_F_* */
  char split_letter;               /* NAME-s001.vmdk, NAME-f001.vmdk */
  const char *suffix;              /* NAME-flat.vmdk, NAME-delta.vmdk */
};
/* The row of a type; NULL for a number that names none. */
const struct vdk_type_info *vdk__type_info (int type);
int vdk__type_from_create_type (const char *ct);
/* Number of enum vdk_disk_type values (the public enum has no count:
 * it may grow). */
#define VDK__TYPE_COUNT (VDK_TYPE_CUSTOM + 1)
/* Detect what is at path: 'K' KDMV, 'C' COWD, 'D' descriptor, 'R' raw. */
int vdk__probe (struct vdk_io *io, char *kind);
/* The registered format of a file vdk__probe called 'K' or 'C' (the
 * first whose probe accepts it), or NULL. */
const struct vdk_extent_ops *vdk__probe_format (struct vdk_io *io);
/* How many leading bytes of a file the probe decides on (ISO 9660 and
 * UDF put theirs at 32 KiB).  A format whose magic lies further in must
 * raise this: the write guard of probed raw images (disk/chain.c)
 * checks exactly this window. */
#define VDK__PROBE_BYTES 0x8800u
/* The same decision on the first VDK__PROBE_BYTES bytes of a file of
 * `size` bytes (zero-filled past its end): 'K', 'C', 'D', 'R' as
 * vdk__probe, or 'F' for another format's magic (its name in *foreign
 * if not NULL). */
char vdk__probe_buf (const uint8_t *head, uint64_t size,
                     const char **foreign);
/* The name of another image format whose magic the file carries (qcow2,
 * VHD, ISO 9660, ...), or NULL: vdk__probe refuses those. */
const char *vdk__probe_foreign (struct vdk_io *io, uint64_t size);
/* Does the descriptor line of this kind carry an offset (FLAT)? */
bool vdk__ext_kind_has_offset (int kind);
/* Does an extent of this kind map a device outside the folder by
 * design (raw device mappings)? */
bool vdk__ext_kind_external (int kind);

#endif /* VDK_FORMAT_H */
