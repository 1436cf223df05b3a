/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd-disk.c - the disk subcommands of `vdk`: create, child, info,
 * convert, read, write, meta, rename, rm.
 *
 * Each run_X() gets the options parse_cmd_args() (vdk.c) collected and
 * works only through the public API.  Every failure prints exactly one
 * line (tool_error / tool_lib_error) and returns 1.
 * - info prints the struct vdk_info of the top link (with --chain, of
 *   every link, vdk_get_link_info) as aligned text or JSON through the
 *   one writer (tools/json.c; keys and units in docs/json.md).
 * - convert "-" as DST hands standard output to vdk_clone (out_fd: a
 *   stream written in order); "-" as SRC opens a file redirected to
 *   standard input in place, and copies a pipe to a sparse temporary
 *   file first (the size must be known before the output's header).
 * - read and write move 1 MiB chunks; write turns an all-zero chunk into
 *   vdk_zero() so that sparse disks stay sparse.
 * - rename and rm first open the link alone: that validates its
 *   descriptor and applies the folder rule to its extents, so a hostile
 *   descriptor cannot make vdk rename or delete files it merely names.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vdk-common.h"
#include "vdk-tool.h"

#define CHUNK_SIZE (1024 * 1024)

static ssize_t read_full (int fd, char *buf, size_t len);

/* Type from -t (or `fallback`), adapter from -a.  Print one message
 * and return -1 on a bad name. */
static int
parse_type (const char *file, const char *name, int fallback)
{
  int type;

  if (name == NULL)
    return fallback;
  type = vdk_type_from_name (name);
  if (type < 0)
    tool_error ("%s: unknown disk type '%s'", file, name);
  return type;
}

static int
parse_adapter (const char *file, const char *name, int fallback)
{
  int adapter;

  if (name == NULL)
    return fallback;
  adapter = vdk_adapter_from_name (name);
  if (adapter < 0)
    tool_error ("%s: unknown adapter type '%s' (use ide, buslogic, "
                "lsilogic, pvscsi or legacyESX)", file, name);
  return adapter;
}

/* --prealloc off|full|zeroed for a new disk of `type`: the create flags
 * in *flags.  Only raw and flat types have blocks to preallocate (a
 * sparse or thin disk allocates as it is written); anything else is
 * refused with one message. */
static int
parse_prealloc (const char *file, const char *mode, int type,
                unsigned *flags)
{
  bool flat = type == VDK_TYPE_RAW || type == VDK_TYPE_MONOLITHIC_FLAT
    || type == VDK_TYPE_SPLIT_FLAT || type == VDK_TYPE_VMFS;

  *flags = 0;
  if (mode == NULL || strcmp (mode, "off") == 0)
    return 0;
  if (strcmp (mode, "full") == 0)
    *flags = VDK_CREATE_PREALLOC;
  else if (strcmp (mode, "zeroed") == 0)
    *flags = VDK_CREATE_PREALLOC | VDK_CREATE_PREALLOC_ZEROED;
  else {
    tool_error ("%s: unknown preallocation '%s' (off, full or zeroed)",
                file, mode);
    return -1;
  }
  if (!flat) {
    tool_error ("%s: --prealloc %s needs a raw or flat type (raw, "
                "monolithicFlat, twoGbMaxExtentFlat, vmfs), not %s", file,
                mode, vdk_type_name (type));
    return -1;
  }
  return 0;
}

/* ---- create, child -------------------------------------------------- */

/* An RBD image (rbd:POOL/IMAGE) holds a raw disk only. */
static bool
is_rbd_name (const char *name)
{
  return strncasecmp (name, "rbd:", 4) == 0;
}

int
run_create (const struct cmd_opts *o)
{
  struct vdk_create_params params = VDK_CREATE_PARAMS_INIT;
  struct tool_progress progress;
  const char *file = o->args[0];
  int r;

  params.type = parse_type (file, o->type, is_rbd_name (file)
                            ? VDK_TYPE_RAW : VDK_TYPE_MONOLITHIC_SPARSE);
  if (params.type < 0)
    return 1;
  params.adapter = parse_adapter (file, o->adapter, VDK_ADAPTER_IDE);
  if (params.adapter < 0)
    return 1;
  if (o->hw_version != NULL) {
    char *end;
    unsigned long hw;

    errno = 0;
    hw = strtoul (o->hw_version, &end, 10);
    if (errno || end == o->hw_version || *end || hw == 0 || hw > 255
        || o->hw_version[0] == '-') {
      tool_error ("%s: invalid hardware version '%s'", file,
                  o->hw_version);
      return 1;
    }
    params.hw_version = (uint32_t) hw;
  }
  if (tool_parse_disk_size (file, o->args[1], &params.capacity) == -1)
    return 1;
  if (parse_prealloc (file, o->prealloc, params.type, &params.flags) == -1)
    return 1;
  tool_progress_init (&progress, "create", o->progress);
  params.progress = tool_progress_cb;
  params.opaque = &progress;
  r = vdk_create (file, &params);
  tool_progress_end (&progress);
  return r == -1 ? tool_lib_error () : 0;
}

int
run_child (const struct cmd_opts *o)
{
  int type = parse_type (o->args[1], o->type, VDK_TYPE_MONOLITHIC_SPARSE);

  if (type < 0)
    return 1;
  if (vdk_create_child_path (o->args[0], o->args[1], type,
                             o->open_flags) == -1)
    return tool_lib_error ();
  return 0;
}

/* ---- info ----------------------------------------------------------- */

static const char *
adapter_name_or_null (int adapter)
{
  return adapter < 0 ? NULL : vdk_adapter_name (adapter);
}

/* A geometry, or null where the disk has none (raw, no ddb keys). */
static void
json_geometry (struct tool_json *j, const char *key,
               const struct vdk_geometry *g)
{
  if (g->cylinders == 0 && g->heads == 0 && g->sectors == 0) {
    tool_json_null (j, key);
    return;
  }
  tool_json_object (j, key);
  tool_json_uint (j, "cylinders", g->cylinders);
  tool_json_uint (j, "heads", g->heads);
  tool_json_uint (j, "sectors", g->sectors);
  tool_json_object_end (j);
}

static void
json_extents (struct tool_json *j, const struct vdk_info *in)
{
  tool_json_array (j, "extents");
  for (size_t i = 0; i < in->num_extents; i++) {
    const struct vdk_extent_info *e = in->extents[i];

    tool_json_object (j, NULL);
    tool_json_str (j, "file", e->file);
    tool_json_path (j, "path", e->path);
    tool_json_str (j, "type", e->type);
    tool_json_str (j, "access", e->access);
    tool_json_uint (j, "size", e->sectors * VDK_SECTOR_SIZE);
    tool_json_uint (j, "offset", e->offset * VDK_SECTOR_SIZE);
    tool_json_object_end (j);
  }
  tool_json_array_end (j);
}

/* One link: the object of docs/json.md ("vdk info"). */
static void
print_info_json (struct tool_json *j, const struct vdk_info *in)
{
  bool raw = in->type == VDK_TYPE_RAW;

  tool_json_object (j, NULL);
  tool_json_path (j, "path", in->path);
  tool_json_int (j, "depth", in->depth);
  tool_json_str (j, "format", raw ? "raw" : "vmdk");
  tool_json_str (j, "create_type", in->create_type);
  tool_json_uint (j, "capacity", in->capacity);
  tool_json_uint (j, "allocated", in->allocated_bytes);
  tool_json_bool (j, "dirty", in->unclean);
  tool_json_str (j, "adapter", adapter_name_or_null (in->adapter));
  if (in->hw_version)
    tool_json_uint (j, "hw_version", in->hw_version);
  else
    tool_json_null (j, "hw_version");
  json_geometry (j, "geometry", in->physical);
  json_geometry (j, "bios_geometry", in->bios);
  if (raw)
    tool_json_null (j, "cid");
  else
    tool_json_hex32 (j, "cid", in->cid);
  if (in->has_parent && in->parent_cid != 0xffffffffu)
    tool_json_hex32 (j, "parent_cid", in->parent_cid);
  else
    tool_json_null (j, "parent_cid");
  tool_json_str (j, "parent", in->parent_hint);
  tool_json_str (j, "uuid", in->uuid);
  tool_json_int (j, "links", in->links);
  if (in->grain_sectors)
    tool_json_uint (j, "grain_size",
                    (uint64_t) in->grain_sectors * VDK_SECTOR_SIZE);
  else
    tool_json_null (j, "grain_size");
  tool_json_bool (j, "thin_provisioned", in->thin_provisioned);
  tool_json_uint (j, "logical_sector_size", in->logical_sector_size);
  tool_json_uint (j, "physical_sector_size", in->physical_sector_size);
  json_extents (j, in);
  tool_json_object_end (j);
}

/* "1.5 GiB" style rendering of a byte count. */
static void
human_size (uint64_t bytes, char *buf, size_t len)
{
  static const char *units[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB" };
  double v = (double) bytes;
  size_t u = 0;

  while (v >= 1024.0 && u + 1 < ARRAY_SIZE (units)) {
    v /= 1024.0;
    u++;
  }
  if (u == 0)
    snprintf (buf, len, "%" PRIu64 " bytes", bytes);
  else
    snprintf (buf, len, "%.4g %s", v, units[u]);
}

static void
print_extents_text (const struct vdk_info *in)
{
  printf ("%-14s %zu\n", "extents:", in->num_extents);
  for (size_t i = 0; i < in->num_extents; i++) {
    const struct vdk_extent_info *e = in->extents[i];

    printf ("  %-8s %-12" PRIu64 " %-8s %s", e->access, e->sectors,
            e->type, e->file ? tool_safe (e->file) : "");
    if (e->offset)
      printf (" +%" PRIu64, e->offset);
    putchar ('\n');
  }
}

static void
print_info_text (const struct vdk_info *in)
{
  const char *adapter = adapter_name_or_null (in->adapter);
  char human[32];

  human_size (in->capacity, human, sizeof human);
  printf ("%-14s %s\n", "format:", in->type == VDK_TYPE_RAW ? "raw" : "vmdk");
  printf ("%-14s %s\n", "create type:", tool_safe (in->create_type));
  printf ("%-14s %" PRIu64 " (%s)\n", "capacity:", in->capacity, human);
  human_size (in->allocated_bytes, human, sizeof human);
  printf ("%-14s %" PRIu64 " (%s on the host)\n", "allocated:",
          in->allocated_bytes, human);
  printf ("%-14s %s\n", "dirty:", in->unclean ? "yes (not closed cleanly: "
          "vdk check tells whether it is intact)" : "no");
  printf ("%-14s %s\n", "adapter:", adapter ? adapter : "unknown");
  printf ("%-14s %" PRIu32 "\n", "hw version:", in->hw_version);
  printf ("%-14s %" PRIu32 "/%" PRIu32 "/%" PRIu32 "\n", "geometry:",
          in->physical->cylinders, in->physical->heads,
          in->physical->sectors);
  if (in->bios->heads != 0)
    printf ("%-14s %" PRIu32 "/%" PRIu32 "/%" PRIu32 "\n", "bios geometry:",
            in->bios->cylinders, in->bios->heads, in->bios->sectors);
  if (in->type != VDK_TYPE_RAW)
    printf ("%-14s %08" PRIx32 "\n", "cid:", in->cid);
  if (in->has_parent && in->parent_cid != 0xffffffffu)
    printf ("%-14s %08" PRIx32 "\n", "parent cid:", in->parent_cid);
  if (in->parent_hint)
    printf ("%-14s %s\n", "parent:", tool_safe (in->parent_hint));
  if (in->uuid)
    printf ("%-14s %s\n", "uuid:", tool_safe (in->uuid));
  printf ("%-14s %d\n", "links:", in->links);
  if (in->grain_sectors)
    printf ("%-14s %" PRIu32 " sectors\n", "grain:", in->grain_sectors);
  if (in->thin_provisioned)
    printf ("%-14s %s\n", "thin:", "yes (ddb.thinProvisioned)");
  print_extents_text (in);
}

/* The links of the disk, top first (one without --chain). */
static int
print_info (vdk_disk *disk, const struct cmd_opts *o)
{
  int nlinks = 1;
  struct tool_json j;

  tool_json_init (&j, stdout);
  for (int depth = 0; depth < nlinks; depth++) {
    struct vdk_info *info = NULL;

    if (vdk_get_link_info (disk, depth, &info) == -1)
      return tool_lib_error ();
    if (depth == 0 && o->chain)
      nlinks = info->links;
    if (o->json && o->chain && depth == 0)
      tool_json_array (&j, NULL);
    if (o->json)
      print_info_json (&j, info);
    else {
      if (o->chain)
        printf ("%slink %d: %s\n", depth ? "\n" : "", depth,
                tool_safe (info->path));
      print_info_text (info);
    }
    vdk_free_info (info);
  }
  if (o->json && o->chain)
    tool_json_array_end (&j);
  return 0;
}

int
run_info (const struct cmd_opts *o)
{
  vdk_disk *disk;
  int ret;

  disk = tool_open_inspect (o->args[0], o->open_flags);
  if (disk == NULL)
    return 1;
  ret = print_info (disk, o);
  vdk_close (disk);
  if (ret == 0 && (fflush (stdout) == EOF || ferror (stdout))) {
    tool_error ("%s: writing to standard output: %s", o->args[0],
                strerror (errno));
    ret = 1;
  }
  return ret;
}

/* ---- convert -------------------------------------------------------- */

static bool
has_suffix (const char *name, const char *suffix)
{
  size_t n = strlen (name), s = strlen (suffix);

  return n >= s && strcasecmp (name + n - s, suffix) == 0;
}

static int
default_output_type (const char *dst)
{
  if (is_rbd_name (dst) || has_suffix (dst, ".raw") || has_suffix (dst, ".img")
      || has_suffix (dst, ".bin"))
    return VDK_TYPE_RAW;
  return VDK_TYPE_MONOLITHIC_SPARSE;
}

/* Copy standard input into a new sparse temporary file (all-zero
 * chunks become holes); its name in *spool.  0 or the exit status 1. */
static int
spool_stdin (char **spool)
{
  const char *dir = getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp";
  CLEANUP_FREE char *buf = malloc (CHUNK_SIZE);
  uint64_t total = 0;
  int fd;

  if (buf == NULL || asprintf (spool, "%s/vdk-stdin-XXXXXX", dir) < 0) {
    tool_error ("standard input: %s", strerror (ENOMEM));
    return 1;
  }
  if ((fd = mkstemp (*spool)) == -1) {
    tool_error ("%s: %s", *spool, strerror (errno));
    return 1;
  }
  for (;;) {
    ssize_t n = read_full (STDIN_FILENO, buf, CHUNK_SIZE);
    if (n <= 0) {
      if (n == -1)
        tool_error ("reading standard input: %s", strerror (errno));
      else if (ftruncate (fd, (off_t) total) == -1 || close (fd) == -1)
        tool_error ("%s: %s", *spool, strerror (errno));
      else
        return 0;
      close (fd);
      return 1;
    }
    if (!is_zero (buf, (size_t) n)
        && pwrite (fd, buf, (size_t) n, (off_t) total) != n) {
      tool_error ("%s: %s", *spool, strerror (errno ? errno : ENOSPC));
      close (fd);
      return 1;
    }
    total += (uint64_t) n;
  }
}

/* SRC "-": standard input.  A file or a device redirected to it is
 * opened as it is; a pipe is spooled to a temporary file first (the
 * size of the disk must be known before the output's header is
 * written), which is removed once open.  NULL after printing. */
static vdk_disk *
open_stdin (unsigned flags)
{
  CLEANUP_FREE char *spool = NULL;
  struct stat st;
  vdk_disk *disk;

  if (fstat (STDIN_FILENO, &st) == -1 || isatty (STDIN_FILENO)) {
    tool_error ("standard input: %s", isatty (STDIN_FILENO)
                ? "is a terminal: redirect a disk or a pipe to it"
                : strerror (errno));
    return NULL;
  }
  if (S_ISREG (st.st_mode) || S_ISBLK (st.st_mode))
    disk = tool_open ("/dev/stdin", flags);
  else if (spool_stdin (&spool) != 0) {
    if (spool)
      unlink (spool);
    return NULL;
  }
  else {
    disk = tool_open (spool, flags);
    unlink (spool);
  }
  if (disk == NULL)
    tool_lib_error ();
  return disk;
}

int
run_convert (const struct cmd_opts *o)
{
  struct vdk_clone_params params = VDK_CLONE_PARAMS_INIT;
  struct tool_progress progress;
  const char *src = o->args[0], *dst = o->args[1];
  unsigned prealloc = 0;
  vdk_disk *disk;
  int ret = 0;

  params.type = parse_type (dst, o->type, strcmp (dst, "-") == 0
                           ? VDK_TYPE_STREAM_OPTIMIZED
                           : default_output_type (dst));
  if (params.type < 0)
    return 1;
  params.adapter = parse_adapter (dst, o->adapter, -1);
  if (o->adapter != NULL && params.adapter < 0)
    return 1;
  if (o->level != NULL) {
    char *end;
    long level = strtol (o->level, &end, 10);
    if (end == o->level || *end || level < 1 || level > 12) {
      tool_error ("%s: compression level '%s' is not a number from 1 to 12",
                  dst, o->level);
      return 1;
    }
    params.compress_level = (int) level;
  }
  if (o->single_link)
    params.flags |= VDK_CLONE_SINGLE_LINK;
  if (parse_prealloc (dst, o->prealloc, params.type, &prealloc) == -1)
    return 1;
  if (prealloc & VDK_CREATE_PREALLOC)
    params.flags |= VDK_CLONE_PREALLOC;
  if (prealloc & VDK_CREATE_PREALLOC_ZEROED)
    params.flags |= VDK_CLONE_PREALLOC_ZEROED;
  if (strcmp (dst, "-") == 0) {
    /* The library writes the stream to the descriptor; the name only
     * goes into the embedded descriptor and messages. */
    if (isatty (STDOUT_FILENO)) {
      tool_error ("standard output is a terminal: redirect it to a file "
                  "or a pipe");
      return 1;
    }
    params.out_fd = STDOUT_FILENO;
    dst = "stdout.vmdk";
  }
  tool_progress_init (&progress, "convert", o->progress);
  params.progress = tool_progress_cb;
  params.opaque = &progress;

  if (strcmp (src, "-") == 0) {
    if ((disk = open_stdin (VDK_OPEN_READ_ONLY | o->open_flags)) == NULL)
      return 1;
  }
  else if ((disk = tool_open (src, VDK_OPEN_READ_ONLY | o->open_flags))
           == NULL)
    return tool_lib_error ();
  if (vdk_clone (disk, dst, &params) == -1) {
    tool_progress_end (&progress);
    ret = tool_lib_error ();
  }
  else
    tool_progress_end (&progress);
  vdk_close (disk);
  return ret;
}

/* ---- read, write ---------------------------------------------------- */

static int
parse_offset_arg (const char *file, const char *what, const char *text,
                  uint64_t *value)
{
  const char *why = NULL;

  if (tool_parse_bytes (text, value, &why) == -1) {
    tool_error ("%s: invalid %s '%s': %s", file, what, text, why);
    return -1;
  }
  return 0;
}

static int
write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;

  while (len > 0) {
    ssize_t r = write (fd, p, len);

    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    p += r;
    len -= (size_t) r;
  }
  return 0;
}

/* Copy [offset, offset + length) of the disk to stdout. */
static int
stream_out (vdk_disk *disk, const char *file, uint64_t offset,
            uint64_t length)
{
  CLEANUP_FREE char *buf = malloc (CHUNK_SIZE);

  if (buf == NULL) {
    tool_error ("%s: %s", file, strerror (ENOMEM));
    return 1;
  }
  while (length > 0) {
    size_t n = (size_t) MIN (length, (uint64_t) CHUNK_SIZE);

    if (vdk_pread (disk, buf, n, offset) == -1)
      return tool_lib_error ();
    if (write_all (STDOUT_FILENO, buf, n) == -1) {
      tool_error ("%s: writing to standard output: %s", file,
                  strerror (errno));
      return 1;
    }
    offset += n;
    length -= n;
  }
  return 0;
}

int
run_read (const struct cmd_opts *o)
{
  const char *file = o->args[0];
  uint64_t offset = 0, length = 0, capacity;
  vdk_disk *disk;
  int ret;

  if (o->offset && parse_offset_arg (file, "offset", o->offset, &offset))
    return 1;
  if (o->length && parse_offset_arg (file, "length", o->length, &length))
    return 1;
  disk = tool_open (file, VDK_OPEN_READ_ONLY | o->open_flags);
  if (disk == NULL)
    return tool_lib_error ();
  capacity = vdk_capacity (disk);
  if (offset > capacity
      || (o->length && length > capacity - offset)) {
    tool_error ("%s: range %" PRIu64 "+%" PRIu64 " lies beyond the end "
                "of the disk (capacity %" PRIu64 ")", file, offset,
                length, capacity);
    vdk_close (disk);
    return 1;
  }
  if (o->length == NULL)
    length = capacity - offset;
  ret = stream_out (disk, file, offset, length);
  vdk_close (disk);
  return ret;
}

/* Fill buf from stdin; returns the bytes read (< len only at EOF) or -1. */
static ssize_t
read_full (int fd, char *buf, size_t len)
{
  size_t got = 0;

  while (got < len) {
    ssize_t r = read (fd, buf + got, len - got);

    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1)
      return -1;
    if (r == 0)
      break;
    got += (size_t) r;
  }
  return (ssize_t) got;
}

/* Copy stdin to the disk at `offset` until EOF. */
static int
stream_in (vdk_disk *disk, const char *file, uint64_t offset)
{
  CLEANUP_FREE char *buf = malloc (CHUNK_SIZE);
  uint64_t capacity = vdk_capacity (disk);

  if (buf == NULL) {
    tool_error ("%s: %s", file, strerror (ENOMEM));
    return 1;
  }
  for (;;) {
    ssize_t n = read_full (STDIN_FILENO, buf, CHUNK_SIZE);
    int r;

    if (n == -1) {
      tool_error ("%s: reading standard input: %s", file, strerror (errno));
      return 1;
    }
    if (n == 0)
      return 0;
    if (offset > capacity || (uint64_t) n > capacity - offset) {
      tool_error ("%s: data at %" PRIu64 "+%zd goes beyond the end of "
                  "the disk (capacity %" PRIu64 ")", file, offset, n,
                  capacity);
      return 1;
    }
    if (is_zero (buf, (size_t) n))
      r = vdk_zero (disk, offset, (uint64_t) n);
    else
      r = vdk_pwrite (disk, buf, (size_t) n, offset);
    if (r == -1)
      return tool_lib_error ();
    offset += (uint64_t) n;
  }
}

int
run_write (const struct cmd_opts *o)
{
  const char *file = o->args[0];
  uint64_t offset = 0;
  vdk_disk *disk;
  int ret;

  if (o->offset && parse_offset_arg (file, "offset", o->offset, &offset))
    return 1;
  disk = tool_open (file, o->open_flags);
  if (disk == NULL)
    return tool_lib_error ();
  ret = stream_in (disk, file, offset);
  if (ret == 0 && vdk_flush (disk) == -1)
    ret = tool_lib_error ();
  if (vdk_close (disk) == -1 && ret == 0)
    ret = tool_lib_error ();
  return ret;
}

/* ---- meta ----------------------------------------------------------- */

static int
meta_list (vdk_disk *disk)
{
  char **keys = NULL;

  if (vdk_meta_keys (disk, &keys) == -1)
    return tool_lib_error ();
  for (size_t i = 0; keys[i] != NULL; i++) {
    char *value = NULL;

    if (vdk_meta_get (disk, keys[i], &value) == -1) {
      vdk_free_strings (keys);
      return tool_lib_error ();
    }
    printf ("%s=%s\n", tool_safe (keys[i]), tool_safe (value));
    free (value);
  }
  vdk_free_strings (keys);
  return 0;
}

int
run_meta (const struct cmd_opts *o)
{
  const char *file = o->args[0];
  bool set = o->nargs == 3;
  unsigned flags = VDK_OPEN_SINGLE_LINK | o->open_flags;
  vdk_disk *disk;
  char *value = NULL;
  int ret = 0;

  disk = tool_open (file, set ? flags : flags | VDK_OPEN_READ_ONLY);
  if (disk == NULL)
    return tool_lib_error ();
  if (o->nargs == 1)
    ret = meta_list (disk);
  else if (!set) {
    if (vdk_meta_get (disk, o->args[1], &value) == -1)
      ret = tool_lib_error ();
    else
      printf ("%s\n", tool_safe (value));
    free (value);
  }
  else if (vdk_meta_set (disk, o->args[1], o->args[2]) == -1)
    ret = tool_lib_error ();
  if (vdk_close (disk) == -1 && ret == 0)
    ret = tool_lib_error ();
  return ret;
}

/* ---- rename, rm ----------------------------------------------------- */

/* Open the link alone before renaming or removing it: that validates
 * its descriptor and refuses extents outside its folder (unless
 * --allow-external-paths), so that a hostile descriptor cannot make us
 * rename or delete files it merely names. */
static int
check_link (const char *file, unsigned open_flags)
{
  vdk_disk *disk = tool_open (file, VDK_OPEN_READ_ONLY | VDK_OPEN_SINGLE_LINK
                             | VDK_OPEN_NO_CID_CHECK | open_flags);

  if (disk == NULL)
    return -1;
  vdk_close (disk);
  return 0;
}

int
run_rename (const struct cmd_opts *o)
{
  if (check_link (o->args[0], o->open_flags) == -1
      || vdk_rename_ex (o->args[0], o->args[1], o->open_flags) == -1)
    return tool_lib_error ();
  return 0;
}

int
run_rm (const struct cmd_opts *o)
{
  if (check_link (o->args[0], o->open_flags) == -1
      || vdk_unlink_ex (o->args[0], o->open_flags
                        | (o->snapshots ? VDK_UNLINK_SNAPSHOTS : 0)) == -1)
    return tool_lib_error ();
  return 0;
}
