/* vdk - the command line tool of the virtual disk development kit.
 *
 * Design
 * - Git-style subcommands: `vdk SUBCOMMAND [OPTIONS] ARGS`.  main() parses
 *   the top-level options, then looks the subcommand up in one dispatch
 *   table.  Each built-in subcommand is a row of that table: its getopt
 *   strings, its positional-argument count, its usage text and one
 *   run_X() function.  parse_cmd_args() turns argv into a struct
 *   cmd_opts for all of them; run_X() does the work.
 * - Only the public API (vdk.h) is used; when the tool needs something
 *   the API lacks, the API must grow.
 * - Errors: every failure prints exactly one line on stderr, either the
 *   library's vdk_last_error() (which names the call and the file) or a
 *   message naming the file and what is wrong; the exit status is then 1.
 *   Misuse prints the usage on stderr and exits 1; --help and --version
 *   print on stdout and exit 0.  The library's info log is silenced so
 *   that it cannot add lines; warnings are kept.
 * - Data streams (read/write) move 1 MiB at a time; write turns all-zero
 *   chunks into vdk_zero() so sparse disks stay sparse.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vdk-common.h"
#include "vdk-tool.h"

#define CHUNK_SIZE (1024 * 1024)

const char *tool_name = "vdk";

/* ---- Shared helpers (declared in vdk-tool.h) ------------------------ */

void
tool_error (const char *fmt, ...)
{
  va_list ap;

  fprintf (stderr, "%s: ", tool_name);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
}

int
tool_lib_error (void)
{
  const char *msg = vdk_last_error ();

  if (msg == NULL || *msg == '\0')
    msg = "unknown error";
  tool_error ("%s", msg);
  return 1;
}

int
tool_usage_error (const char *subcmd, const char *usage,
                  const char *fmt, ...)
{
  va_list ap;

  fprintf (stderr, "%s %s: ", tool_name, subcmd);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fprintf (stderr, "\n%s", usage);
  return 1;
}

void
tool_print_version (void)
{
  printf ("%s %s (libvdk %s)\n", tool_name, VDK_VERSION_STRING,
          vdk_version ());
}

/* Multiplier of a size suffix, 0 if the suffix is not valid. */
static uint64_t
suffix_multiplier (const char *s)
{
  static const char units[] = "KMGT";
  const char *u;
  uint64_t mult = 1024;

  if (*s == '\0')
    return 1;
  u = (s[0] & ~0x20) != 0 ? strchr (units, s[0] & ~0x20) : NULL;
  if (u == NULL)
    return 0;
  for (ptrdiff_t i = 0; i < u - units; i++)
    mult *= 1024;
  s++;
  if (*s == '\0' || strcmp (s, "B") == 0 || strcmp (s, "b") == 0
      || strcmp (s, "iB") == 0)
    return mult;
  return 0;
}

int
tool_parse_bytes (const char *text, uint64_t *bytes, const char **why)
{
  uint64_t value = 0, mult;
  const char *p = text;

  if (*p == '-') {
    *why = "must not be negative";
    return -1;
  }
  if (*p < '0' || *p > '9') {
    *why = "not a number";
    return -1;
  }
  for (; *p >= '0' && *p <= '9'; p++) {
    if (MUL_OVERFLOW (value, 10, &value)
        || ADD_OVERFLOW (value, (uint64_t) (*p - '0'), &value)) {
      *why = "too large";
      return -1;
    }
  }
  mult = suffix_multiplier (p);
  if (mult == 0) {
    *why = "unknown suffix (use K, M, G or T)";
    return -1;
  }
  if (MUL_OVERFLOW (value, mult, &value) || value > INT64_MAX) {
    *why = "too large";
    return -1;
  }
  *bytes = value;
  return 0;
}

int
tool_parse_disk_size (const char *file, const char *text, uint64_t *bytes)
{
  const char *why = NULL;

  if (tool_parse_bytes (text, bytes, &why) == -1) {
    tool_error ("%s: invalid size '%s': %s", file, text, why);
    return -1;
  }
  if (*bytes == 0) {
    tool_error ("%s: invalid size '%s': must be greater than 0",
                file, text);
    return -1;
  }
  if (*bytes % VDK_SECTOR_SIZE != 0) {
    tool_error ("%s: invalid size '%s': not a multiple of %d bytes",
                file, text, VDK_SECTOR_SIZE);
    return -1;
  }
  return 0;
}

void
tool_progress_init (struct tool_progress *p, const char *label,
                    int requested)
{
  p->label = label;
  p->enabled = requested && isatty (STDERR_FILENO);
  p->last_permille = -1;
}

int
tool_progress_cb (void *opaque, uint64_t done, uint64_t total)
{
  struct tool_progress *p = opaque;
  enum { WIDTH = 40 };
  char bar[WIDTH + 1];
  int permille, filled;

  if (p == NULL || !p->enabled)
    return 0;
  permille = total == 0 ? 1000
    : (int) ((double) MIN (done, total) * 1000.0 / (double) total);
  if (permille == p->last_permille)
    return 0;
  p->last_permille = permille;
  filled = permille * WIDTH / 1000;
  memset (bar, '#', (size_t) filled);
  memset (bar + filled, ' ', (size_t) (WIDTH - filled));
  bar[WIDTH] = '\0';
  fprintf (stderr, "\r%s: [%s] %3d.%d%%", p->label, bar,
           permille / 10, permille % 10);
  fflush (stderr);
  return 0;
}

void
tool_progress_end (struct tool_progress *p)
{
  if (p->enabled && p->last_permille >= 0) {
    fputc ('\n', stderr);
    fflush (stderr);
  }
}

/* The library's info messages are chatter for a command line tool. */
static void
log_discard (const char *fmt, va_list ap)
{
  (void) fmt;
  (void) ap;
}

static void
log_warning (const char *fmt, va_list ap)
{
  fprintf (stderr, "%s: warning: ", tool_name);
  vfprintf (stderr, fmt, ap);
  if (*fmt && fmt[strlen (fmt) - 1] != '\n')
    fputc ('\n', stderr);
}

/* ---- Options of the built-in subcommands ---------------------------- */

enum {
  OPT_HELP = 'h',
  OPT_VERSION = 'V',
  OPT_EXTERNAL = 0x100,
  OPT_JSON,
  OPT_OFFSET,
  OPT_LENGTH,
};

#define COMMON_LONG_OPTS \
  { "help", no_argument, NULL, OPT_HELP }, \
  { "version", no_argument, NULL, OPT_VERSION }
#define EXTERNAL_LONG_OPT \
  { "allow-external-paths", no_argument, NULL, OPT_EXTERNAL }
#define END_LONG_OPTS { NULL, 0, NULL, 0 }

struct cmd_opts {
  const char *type;       /* -t, NULL if not given */
  const char *adapter;    /* -a */
  const char *hw_version; /* -H */
  const char *offset;     /* --offset */
  const char *length;     /* --length */
  bool json;
  bool progress;
  unsigned open_flags;    /* VDK_OPEN_ALLOW_EXTERNAL */
  int nargs;
  char **args;            /* positional arguments */
};

struct subcmd {
  const char *name;
  const char *shortopts;
  const struct option *longopts;
  int min_args, max_args;
  const char *usage;
  int (*run) (const struct cmd_opts *o);
  int (*external) (int argc, char **argv); /* parses its own options */
};

enum parse_result { PARSE_OK, PARSE_DONE, PARSE_ERROR };

static enum parse_result
parse_cmd_args (const struct subcmd *sc, int argc, char **argv,
                struct cmd_opts *o)
{
  int c;

  memset (o, 0, sizeof *o);
  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, sc->shortopts, sc->longopts,
                           NULL)) != -1) {
    switch (c) {
    case OPT_HELP: fputs (sc->usage, stdout); return PARSE_DONE;
    case OPT_VERSION: tool_print_version (); return PARSE_DONE;
    case OPT_EXTERNAL: o->open_flags |= VDK_OPEN_ALLOW_EXTERNAL; break;
    case OPT_JSON: o->json = true; break;
    case OPT_OFFSET: o->offset = optarg; break;
    case OPT_LENGTH: o->length = optarg; break;
    case 't': o->type = optarg; break;
    case 'a': o->adapter = optarg; break;
    case 'H': o->hw_version = optarg; break;
    case 'p': o->progress = true; break;
    case ':':
      tool_usage_error (sc->name, sc->usage, "option '%s' needs a value",
                        argv[optind - 1]);
      return PARSE_ERROR;
    default:
      if (optopt > 0 && optopt < 0x100)
        tool_usage_error (sc->name, sc->usage, "unknown option '-%c'",
                          optopt);
      else
        tool_usage_error (sc->name, sc->usage, "unknown option '%s'",
                          argv[optind - 1]);
      return PARSE_ERROR;
    }
  }
  o->nargs = argc - optind;
  o->args = argv + optind;
  if (o->nargs < sc->min_args || o->nargs > sc->max_args) {
    tool_usage_error (sc->name, sc->usage, o->nargs < sc->min_args
                      ? "missing argument" : "too many arguments");
    return PARSE_ERROR;
  }
  return PARSE_OK;
}

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

/* ---- create, child -------------------------------------------------- */

static int
run_create (const struct cmd_opts *o)
{
  struct vdk_create_params params = VDK_CREATE_PARAMS_INIT;
  const char *file = o->args[0];

  params.type = parse_type (file, o->type, VDK_TYPE_MONOLITHIC_SPARSE);
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
  if (vdk_create (file, &params) == -1)
    return tool_lib_error ();
  return 0;
}

static int
run_child (const struct cmd_opts *o)
{
  if (vdk_create_child_path (o->args[0], o->args[1], 0,
                             o->open_flags) == -1)
    return tool_lib_error ();
  return 0;
}

/* ---- info ----------------------------------------------------------- */

static void
json_string (const char *s)
{
  if (s == NULL) {
    fputs ("null", stdout);
    return;
  }
  putchar ('"');
  for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
    switch (*p) {
    case '"': fputs ("\\\"", stdout); break;
    case '\\': fputs ("\\\\", stdout); break;
    case '\n': fputs ("\\n", stdout); break;
    case '\r': fputs ("\\r", stdout); break;
    case '\t': fputs ("\\t", stdout); break;
    default:
      if (*p < 0x20 || *p == 0x7f)
        printf ("\\u%04x", *p);
      else
        putchar (*p);
    }
  }
  putchar ('"');
}

static const char *
adapter_name_or_null (int adapter)
{
  return adapter < 0 ? NULL : vdk_adapter_name (adapter);
}

static void
json_geometry (const char *key, const struct vdk_geometry *g)
{
  printf ("  \"%s\": {\"cylinders\": %" PRIu32 ", \"heads\": %" PRIu32
          ", \"sectors\": %" PRIu32 "},\n",
          key, g->cylinders, g->heads, g->sectors);
}

static void
print_info_json (const struct vdk_info *in)
{
  bool raw = in->type == VDK_TYPE_RAW;

  printf ("{\n  \"format\": \"%s\",\n  \"create_type\": ",
          raw ? "raw" : "vmdk");
  json_string (in->create_type);
  printf (",\n  \"capacity\": %" PRIu64 ",\n  \"adapter\": ", in->capacity);
  json_string (adapter_name_or_null (in->adapter));
  printf (",\n  \"hw_version\": %" PRIu32 ",\n", in->hw_version);
  json_geometry ("geometry", &in->physical);
  json_geometry ("bios_geometry", &in->bios);
  if (raw)
    fputs ("  \"cid\": null,\n", stdout);
  else
    printf ("  \"cid\": \"%08" PRIx32 "\",\n", in->cid);
  if (in->has_parent && in->parent_cid != 0xffffffffu)
    printf ("  \"parent_cid\": \"%08" PRIx32 "\",\n", in->parent_cid);
  else
    fputs ("  \"parent_cid\": null,\n", stdout);
  fputs ("  \"parent\": ", stdout);
  json_string (in->parent_hint);
  fputs (",\n  \"uuid\": ", stdout);
  json_string (in->uuid);
  printf (",\n  \"links\": %d,\n  \"grain_sectors\": %" PRIu32 ",\n",
          in->links, in->grain_sectors);
  fputs ("  \"extents\": [", stdout);
  for (size_t i = 0; i < in->num_extents; i++) {
    const struct vdk_extent_info *e = &in->extents[i];

    fputs (i ? ",\n    {\"file\": " : "\n    {\"file\": ", stdout);
    json_string (e->file);
    fputs (", \"path\": ", stdout);
    json_string (e->path);
    fputs (", \"type\": ", stdout);
    json_string (e->type);
    fputs (", \"access\": ", stdout);
    json_string (e->access);
    printf (", \"sectors\": %" PRIu64 ", \"offset\": %" PRIu64 "}",
            e->sectors, e->offset);
  }
  fputs (in->num_extents ? "\n  ]\n}\n" : "]\n}\n", stdout);
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
print_info_text (const struct vdk_info *in)
{
  const char *adapter = adapter_name_or_null (in->adapter);
  char human[32];

  human_size (in->capacity, human, sizeof human);
  printf ("%-14s %s\n", "format:", in->type == VDK_TYPE_RAW ? "raw" : "vmdk");
  printf ("%-14s %s\n", "create type:", in->create_type);
  printf ("%-14s %" PRIu64 " (%s)\n", "capacity:", in->capacity, human);
  printf ("%-14s %s\n", "adapter:", adapter ? adapter : "unknown");
  printf ("%-14s %" PRIu32 "\n", "hw version:", in->hw_version);
  printf ("%-14s %" PRIu32 "/%" PRIu32 "/%" PRIu32 "\n", "geometry:",
          in->physical.cylinders, in->physical.heads, in->physical.sectors);
  if (in->bios.heads != 0)
    printf ("%-14s %" PRIu32 "/%" PRIu32 "/%" PRIu32 "\n", "bios geometry:",
            in->bios.cylinders, in->bios.heads, in->bios.sectors);
  if (in->type != VDK_TYPE_RAW)
    printf ("%-14s %08" PRIx32 "\n", "cid:", in->cid);
  if (in->has_parent && in->parent_cid != 0xffffffffu)
    printf ("%-14s %08" PRIx32 "\n", "parent cid:", in->parent_cid);
  if (in->parent_hint)
    printf ("%-14s %s\n", "parent:", in->parent_hint);
  if (in->uuid)
    printf ("%-14s %s\n", "uuid:", in->uuid);
  printf ("%-14s %d\n", "links:", in->links);
  if (in->grain_sectors)
    printf ("%-14s %" PRIu32 " sectors\n", "grain:", in->grain_sectors);
  printf ("%-14s %zu\n", "extents:", in->num_extents);
  for (size_t i = 0; i < in->num_extents; i++) {
    const struct vdk_extent_info *e = &in->extents[i];

    printf ("  %-8s %-12" PRIu64 " %-8s %s", e->access, e->sectors,
            e->type, e->file ? e->file : "");
    if (e->offset)
      printf (" +%" PRIu64, e->offset);
    putchar ('\n');
  }
}

static int
run_info (const struct cmd_opts *o)
{
  struct vdk_info *info = NULL;
  vdk_disk *disk;
  int ret = 0;

  disk = vdk_open (o->args[0], VDK_OPEN_READ_ONLY | o->open_flags);
  if (disk == NULL)
    return tool_lib_error ();
  if (vdk_get_info (disk, &info) == -1)
    ret = tool_lib_error ();
  else if (o->json)
    print_info_json (info);
  else
    print_info_text (info);
  vdk_free_info (info);
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
  if (has_suffix (dst, ".raw") || has_suffix (dst, ".img")
      || has_suffix (dst, ".bin"))
    return VDK_TYPE_RAW;
  return VDK_TYPE_MONOLITHIC_SPARSE;
}

static int
run_convert (const struct cmd_opts *o)
{
  struct vdk_clone_params params = VDK_CLONE_PARAMS_INIT;
  struct tool_progress progress;
  const char *src = o->args[0], *dst = o->args[1];
  vdk_disk *disk;
  int ret = 0;

  params.type = parse_type (dst, o->type, default_output_type (dst));
  if (params.type < 0)
    return 1;
  params.adapter = parse_adapter (dst, o->adapter, -1);
  if (o->adapter != NULL && params.adapter < 0)
    return 1;
  tool_progress_init (&progress, "convert", o->progress);
  params.progress = tool_progress_cb;
  params.opaque = &progress;

  disk = vdk_open (src, VDK_OPEN_READ_ONLY | o->open_flags);
  if (disk == NULL)
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

static int
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
  disk = vdk_open (file, VDK_OPEN_READ_ONLY | o->open_flags);
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

static int
run_write (const struct cmd_opts *o)
{
  const char *file = o->args[0];
  uint64_t offset = 0;
  vdk_disk *disk;
  int ret;

  if (o->offset && parse_offset_arg (file, "offset", o->offset, &offset))
    return 1;
  disk = vdk_open (file, o->open_flags);
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
    printf ("%s=%s\n", keys[i], value);
    free (value);
  }
  vdk_free_strings (keys);
  return 0;
}

static int
run_meta (const struct cmd_opts *o)
{
  const char *file = o->args[0];
  bool set = o->nargs == 3;
  unsigned flags = VDK_OPEN_SINGLE_LINK | o->open_flags;
  vdk_disk *disk;
  char *value = NULL;
  int ret = 0;

  disk = vdk_open (file, set ? flags : flags | VDK_OPEN_READ_ONLY);
  if (disk == NULL)
    return tool_lib_error ();
  if (o->nargs == 1)
    ret = meta_list (disk);
  else if (!set) {
    if (vdk_meta_get (disk, o->args[1], &value) == -1)
      ret = tool_lib_error ();
    else
      printf ("%s\n", value);
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
  vdk_disk *disk = vdk_open (file, VDK_OPEN_READ_ONLY | VDK_OPEN_SINGLE_LINK
                             | VDK_OPEN_NO_CID_CHECK | open_flags);

  if (disk == NULL)
    return -1;
  vdk_close (disk);
  return 0;
}

static int
run_rename (const struct cmd_opts *o)
{
  if (check_link (o->args[0], o->open_flags) == -1
      || vdk_rename (o->args[0], o->args[1]) == -1)
    return tool_lib_error ();
  return 0;
}

static int
run_rm (const struct cmd_opts *o)
{
  if (check_link (o->args[0], o->open_flags) == -1
      || vdk_unlink (o->args[0]) == -1)
    return tool_lib_error ();
  return 0;
}

/* ---- Dispatch table ------------------------------------------------- */

static const struct option create_long[] = {
  COMMON_LONG_OPTS,
  { "type", required_argument, NULL, 't' },
  { "adapter", required_argument, NULL, 'a' },
  { "hw-version", required_argument, NULL, 'H' },
  END_LONG_OPTS
};
static const struct option open_long[] = {
  COMMON_LONG_OPTS, EXTERNAL_LONG_OPT, END_LONG_OPTS
};
static const struct option info_long[] = {
  COMMON_LONG_OPTS, EXTERNAL_LONG_OPT,
  { "json", no_argument, NULL, OPT_JSON },
  END_LONG_OPTS
};
static const struct option convert_long[] = {
  COMMON_LONG_OPTS, EXTERNAL_LONG_OPT,
  { "type", required_argument, NULL, 't' },
  { "adapter", required_argument, NULL, 'a' },
  { "progress", no_argument, NULL, 'p' },
  END_LONG_OPTS
};
static const struct option read_long[] = {
  COMMON_LONG_OPTS, EXTERNAL_LONG_OPT,
  { "offset", required_argument, NULL, OPT_OFFSET },
  { "length", required_argument, NULL, OPT_LENGTH },
  END_LONG_OPTS
};
static const struct option write_long[] = {
  COMMON_LONG_OPTS, EXTERNAL_LONG_OPT,
  { "offset", required_argument, NULL, OPT_OFFSET },
  END_LONG_OPTS
};

#define EXTERNAL_HELP \
  "  --allow-external-paths  follow extents and parents outside the\n" \
  "                          disk's folder\n"
#define COMMON_HELP \
  "  -h, --help              show this help\n" \
  "  -V, --version           show the version\n"

static const struct subcmd subcmds[] = {
  { "create", ":t:a:H:hV", create_long, 2, 2,
    "Usage: vdk create [-t TYPE] [-a ADAPTER] [-H HWVERSION] FILE SIZE\n"
    "Create an empty disk of SIZE bytes (K, M, G, T suffixes; a multiple\n"
    "of 512).\n"
    "  -t, --type TYPE         raw, monolithicSparse (default),\n"
    "                          monolithicFlat, twoGbMaxExtentSparse,\n"
    "                          twoGbMaxExtentFlat, streamOptimized, 0-3\n"
    "  -a, --adapter ADAPTER   ide (default), buslogic, lsilogic, pvscsi,\n"
    "                          legacyESX\n"
    "  -H, --hw-version N      virtual hardware version (default 4)\n"
    COMMON_HELP, run_create, NULL },
  { "child", ":hV", open_long, 2, 2,
    "Usage: vdk child PARENT CHILD\n"
    "Create a sparse child disk CHILD on top of PARENT.\n"
    EXTERNAL_HELP COMMON_HELP, run_child, NULL },
  { "info", ":hV", info_long, 1, 1,
    "Usage: vdk info [--json] FILE\n"
    "Show the type, size, geometry, content IDs and extents of a disk.\n"
    "  --json                  one JSON object\n"
    EXTERNAL_HELP COMMON_HELP, run_info, NULL },
  { "convert", ":pt:a:hV", convert_long, 2, 2,
    "Usage: vdk convert [-p] [-t TYPE] [-a ADAPTER] SRC DST\n"
    "Copy the contents of SRC (with its parents) into a new disk DST.\n"
    "Without -t, DST is raw if named .raw, .img or .bin, otherwise\n"
    "monolithicSparse.\n"
    "  -p, --progress          progress bar on a terminal\n"
    "  -t, --type TYPE         type of DST (see vdk create --help)\n"
    "  -a, --adapter ADAPTER   adapter of DST (default: as SRC)\n"
    EXTERNAL_HELP COMMON_HELP, run_convert, NULL },
  { "read", ":hV", read_long, 1, 1,
    "Usage: vdk read FILE [--offset BYTES] [--length BYTES]\n"
    "Write the disk's contents (default: all of it) to standard output.\n"
    EXTERNAL_HELP COMMON_HELP, run_read, NULL },
  { "write", ":hV", write_long, 1, 1,
    "Usage: vdk write FILE --offset BYTES\n"
    "Write standard input into the disk at BYTES (default 0).\n"
    EXTERNAL_HELP COMMON_HELP, run_write, NULL },
  { "meta", ":hV", open_long, 1, 3,
    "Usage: vdk meta FILE [KEY [VALUE]]\n"
    "List the disk database (ddb) of a disk, print KEY, or set it.\n"
    EXTERNAL_HELP COMMON_HELP, run_meta, NULL },
  { "rename", ":hV", open_long, 2, 2,
    "Usage: vdk rename SRC DST\n"
    "Rename a disk and its extent files.\n"
    EXTERNAL_HELP COMMON_HELP, run_rename, NULL },
  { "rm", ":hV", open_long, 1, 1,
    "Usage: vdk rm FILE\n"
    "Remove a disk: its descriptor and all its extent files.\n"
    EXTERNAL_HELP COMMON_HELP, run_rm, NULL },
#ifdef VDK_HAVE_MOUNT
  { "volumes", NULL, NULL, 0, 0, NULL, NULL, cmd_volumes },
  { "mount", NULL, NULL, 0, 0, NULL, NULL, cmd_mount },
  { "umount", NULL, NULL, 0, 0, NULL, NULL, cmd_umount },
  { "mounts", NULL, NULL, 0, 0, NULL, NULL, cmd_mounts },
#endif
};

static void
print_top_usage (FILE *fp)
{
  fputs ("Usage: vdk [--help|--version] COMMAND [ARGS]\n"
         "Create, inspect, read, write and convert virtual disks (VMDK, raw).\n"
         "\nCommands:\n", fp);
  for (size_t i = 0; i < ARRAY_SIZE (subcmds); i++)
    fprintf (fp, "  %s\n", subcmds[i].name);
  fputs ("\nRun 'vdk COMMAND --help' for the options of a command.\n", fp);
}

/* ---- main ----------------------------------------------------------- */

/* Top-level options; stops at the subcommand.  Returns the index of the
 * subcommand name in argv, or -1 after printing (exit status in *rc). */
static int
parse_top_args (int argc, char **argv, int *rc)
{
  static const struct option top_long[] = { COMMON_LONG_OPTS, END_LONG_OPTS };
  int c;

  opterr = 0;
  while ((c = getopt_long (argc, argv, "+hV", top_long, NULL)) != -1) {
    switch (c) {
    case OPT_HELP: print_top_usage (stdout); *rc = 0; return -1;
    case OPT_VERSION: tool_print_version (); *rc = 0; return -1;
    default:
      fprintf (stderr, "%s: unknown option '%s'\n", tool_name,
               argv[optind - 1]);
      print_top_usage (stderr);
      *rc = 1;
      return -1;
    }
  }
  if (optind >= argc) {
    fprintf (stderr, "%s: missing command\n", tool_name);
    print_top_usage (stderr);
    *rc = 1;
    return -1;
  }
  return optind;
}

static int
run_subcmd (int argc, char **argv)
{
  const struct subcmd *sc = NULL;
  struct cmd_opts opts;

  for (size_t i = 0; i < ARRAY_SIZE (subcmds); i++)
    if (strcmp (argv[0], subcmds[i].name) == 0)
      sc = &subcmds[i];
  if (sc == NULL) {
    fprintf (stderr, "%s: unknown command '%s'\n", tool_name, argv[0]);
    print_top_usage (stderr);
    return 1;
  }
  if (sc->external) {
    optind = 0;
    return sc->external (argc, argv);
  }
  switch (parse_cmd_args (sc, argc, argv, &opts)) {
  case PARSE_DONE: return 0;
  case PARSE_ERROR: return 1;
  case PARSE_OK: break;
  }
  return sc->run (&opts);
}

int
main (int argc, char **argv)
{
  int rc = 1, first;

  first = parse_top_args (argc, argv, &rc);
  if (first < 0)
    return rc;
  if (vdk_init (log_discard, log_warning, NULL) == -1)
    return tool_lib_error ();
  rc = run_subcmd (argc - first, argv + first);
  vdk_exit ();
  if (fflush (stdout) == EOF && rc == 0) {
    tool_error ("writing to standard output: %s", strerror (errno));
    rc = 1;
  }
  return rc;
}
