/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdk - the command line tool of the virtual disk development kit.
 *
 * Design
 * - Git-style subcommands: `vdk SUBCOMMAND [OPTIONS] ARGS`.  main() parses
 *   the top-level options, then looks the subcommand up in one dispatch
 *   table.  Each built-in subcommand is a row of that table: its getopt
 *   strings, its positional-argument count, its usage text and one
 *   run_X() function (cmd-disk.c, cmd-maint.c).  parse_cmd_args() turns
 *   argv into a struct cmd_opts for all of them; run_X() does the work.
 *   The mount subcommands (cmd-mount.c) parse their own options.
 * - This file also defines the helpers of vdk-tool.h.
 * - Only the public API (vdk.h) is used; when the tool needs something
 *   the API lacks, the API must grow.
 * - Errors: every failure prints exactly one line on stderr, either the
 *   library's vdk_last_error() (the file and the cause, never the
 *   library's call names) followed by what the user can do about it,
 *   chosen by vdk_last_error_code() and naming this tool's options, or a
 *   message naming the file and what is wrong; the exit status is then 1.
 *   Misuse prints the usage on stderr and exits 1; --help and --version
 *   print on stdout and exit 0.  The library's info log is silenced so
 *   that it cannot add lines; its warnings are printed after a success
 *   and dropped after a failure.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
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
#include "cmd-serve.h"

const char *tool_name = "vdk";

/* ---- Shared helpers (declared in vdk-tool.h) ------------------------ */

void
tool_error (const char *fmt, ...)
{
  va_list ap;

  char msg[4096];

  /* Messages carry names from the disk (extent files, parents):
   * control characters are escaped (tools/text.c). */
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  fprintf (stderr, "%s: %s\n", tool_name, tool_safe (msg));
}

/* Does the running subcommand take --allow-external-paths, and
 * --no-cid-check?  (Found in the option table of a built-in subcommand;
 * the mount subcommands say so with tool_offer_options.) */
static bool offers_external, offers_no_cid;

void
tool_offer_options (bool external, bool no_cid_check)
{
  offers_external = external;
  offers_no_cid = no_cid_check;
}

/* What a user can do about a library error, by its code; NULL when the
 * message says it all. */
static const char *
lib_remedy (int code, int errnum)
{
  switch (code) {
  case VDK_E_CORRUPT:
    return "`vdk check` on the disk tells what is damaged and whether "
      "--repair can fix it";
  case VDK_E_CID_MISMATCH:
    return offers_no_cid
      ? "restore the parent the child was made from; or read the chain as "
      "it is with --no-cid-check (read-only: nothing is written); or, if "
      "the parent's change did not touch what the child reads, `vdk attach "
      "--unsafe CHILD PARENT` accepts it (that writes the child)"
      : "restore the parent the child was made from; or read the chain as "
      "it is with --no-cid-check on a command that only reads (info, read, "
      "convert, compare, map, volumes, mount); or, if the parent's change "
      "did not touch what the child reads, `vdk attach --unsafe CHILD "
      "PARENT` accepts it (that writes the child)";
  case VDK_E_PARTIAL_CHAIN:
    return "the child needs its parent disk at that path";
  case VDK_E_LOCKED:
    return "close the program that has it open, then try again";
  case VDK_E_ACCESS_DENIED:
    /* EPERM: vdk's own confinement of names taken from a descriptor. */
    return errnum == EPERM && offers_external ? "--allow-external-paths "
      "follows it, if you trust the descriptor" : NULL;
  case VDK_E_NO_SPACE:
    /* EFBIG: a limit of the format, which the message names. */
    return errnum != EFBIG ? "free space on the host file system, then "
      "try again" : NULL;
  case VDK_E_NO_MEMORY:
    return "the host ran out of memory";
  case VDK_E_HAS_SNAPSHOTS:
    return "`vdk rm --snapshots` removes them with it";
  default:
    return NULL;
  }
}

#ifndef VDK_HAVE_MOUNT
bool
tool_lock_holder (const char *msg, struct tool_holder *h)
{
  (void) msg, (void) h;
  return false;
}
#endif

/* The remedy for a disk in use: the `vdk mount` that holds it, if one
 * does; NULL otherwise.  Clears the library's error. */
static char *
holder_remedy (const char *msg)
{
  struct tool_holder h;
  char *text = NULL;

  if (!tool_lock_holder (msg, &h))
    return NULL;
  if (asprintf (&text, "it is mounted %s at %s by `vdk mount` (process "
                "%d): `vdk umount %s` first", h.writable ? "read-write"
                : "read-only", h.where, h.pid, h.where) == -1)
    return NULL;
  return text;
}

int
tool_lib_error_hint (const char *hint)
{
  const char *last = vdk_last_error ();
  int code = vdk_last_error_code (), errnum = vdk_last_errno ();
  CLEANUP_FREE char *msg = strdup (last && *last ? last : "unknown error");
  CLEANUP_FREE char *held = NULL;

  if (msg == NULL)
    return tool_error ("%s", last), 1;
  if (!hint && code == VDK_E_LOCKED && (held = holder_remedy (msg)))
    hint = held;
  if (!hint)
    hint = lib_remedy (code, errnum);
  if (hint)
    tool_error ("%s; %s", msg, hint);
  else
    tool_error ("%s", msg);
  return 1;
}

int
tool_inspect_retry (unsigned *flags)
{
  CLEANUP_FREE char *msg = NULL;
  struct tool_holder h;

  if (vdk_last_error_code () != VDK_E_LOCKED
      || !(msg = strdup (vdk_last_error ())))
    return tool_lib_error (), -1;
  if (!tool_lock_holder (msg, &h) || !h.writable) {
    tool_error ("%s; vdk cannot tell which program holds it or whether it "
                "is rewriting the disk, so it does not read it: close that "
                "program, then try again", msg);
    return -1;
  }
  fprintf (stderr, "%s: note: a disk is mounted read-write at %s (`vdk "
           "mount`, process %d): shown as last written; what the mounted "
           "file system has not flushed yet is not\n", tool_name, h.where,
           h.pid);
  *flags |= VDK_OPEN_READ_ONLY | VDK_OPEN_NO_LOCK;
  return 0;
}

vdk_disk *
tool_open_inspect (const char *path, unsigned flags)
{
  vdk_disk *d = tool_open (path, flags | VDK_OPEN_READ_ONLY);

  if (d == NULL && tool_inspect_retry (&flags) == 0
      && (d = tool_open (path, flags)) == NULL)
    tool_lib_error ();
  return d;
}

int
tool_lib_error (void)
{
  return tool_lib_error_hint (NULL);
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

int
tool_parse_format (const char *subcmd, const char *usage, const char *arg,
                   unsigned *open_flags)
{
  *open_flags &= ~(VDK_OPEN_FORMAT_RAW | VDK_OPEN_FORMAT_VMDK);
  if (strcmp (arg, "raw") == 0)
    *open_flags |= VDK_OPEN_FORMAT_RAW;
  else if (strcmp (arg, "vmdk") == 0)
    *open_flags |= VDK_OPEN_FORMAT_VMDK;
  else if (strcmp (arg, "auto") != 0) {
    tool_usage_error (subcmd, usage, "unknown format '%s' (raw, vmdk or "
                      "auto)", arg);
    return -1;
  }
  return 0;
}

vdk_disk *
tool_open (const char *path, unsigned flags)
{
  struct vdk_open_params p = VDK_OPEN_PARAMS_INIT;

  p.flags = flags & ~(VDK_OPEN_FORMAT_RAW | VDK_OPEN_FORMAT_VMDK);
  p.format = flags & VDK_OPEN_FORMAT_RAW ? VDK_FORMAT_RAW
    : flags & VDK_OPEN_FORMAT_VMDK ? VDK_FORMAT_VMDK : VDK_FORMAT_AUTO;
  return vdk_open_ex (path, &p);
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

/* The bytes of the fraction `frac` / 10^digits of `mult`, when that is a
 * whole number.  mult is a power of 1024, so the product is whole only
 * if 5^digits divides frac; then it is (frac / 5^digits) * (mult /
 * 2^digits), which cannot overflow: frac / 5^digits < 2^digits. */
static int
fraction_bytes (uint64_t frac, unsigned digits, uint64_t mult,
                uint64_t *bytes)
{
  uint64_t pow5 = 1;

  while (digits > 0 && frac % 10 == 0) {        /* "1.50" is "1.5" */
    frac /= 10;
    digits--;
  }
  if (digits > 10 || (UINT64_C (1) << digits) > mult)
    return -1;
  for (unsigned i = 0; i < digits; i++)
    pow5 *= 5;
  if (frac % pow5 != 0)
    return -1;
  *bytes = (frac / pow5) * (mult >> digits);
  return 0;
}

/* Decimal digits at *p into *value; advances *p.  -1 on overflow. */
static int
parse_digits (const char **p, uint64_t *value, unsigned *ndigits)
{
  *value = 0;
  *ndigits = 0;
  for (; **p >= '0' && **p <= '9'; (*p)++, (*ndigits)++)
    if (MUL_OVERFLOW (*value, 10, value)
        || ADD_OVERFLOW (*value, (uint64_t) (**p - '0'), value))
      return -1;
  return 0;
}

int
tool_parse_bytes (const char *text, uint64_t *bytes, const char **why)
{
  uint64_t value, frac = 0, mult, part = 0;
  unsigned ndigits, fdigits = 0;
  const char *p = text;

  if (*p == '-') {
    *why = "must not be negative";
    return -1;
  }
  if (*p < '0' || *p > '9') {
    *why = "not a number";
    return -1;
  }
  if (parse_digits (&p, &value, &ndigits) == -1) {
    *why = "too large";
    return -1;
  }
  if (*p == '.') {
    p++;
    /* More than 19 digits cannot make a whole number of bytes. */
    if (parse_digits (&p, &frac, &fdigits) == -1 || fdigits == 0) {
      *why = fdigits ? "not a whole number of bytes" : "not a number";
      return -1;
    }
  }
  mult = suffix_multiplier (p);
  if (mult == 0) {
    *why = "unknown suffix (use K, M, G or T)";
    return -1;
  }
  if (fdigits > 0 && fraction_bytes (frac, fdigits, mult, &part) == -1) {
    *why = "not a whole number of bytes";
    return -1;
  }
  if (MUL_OVERFLOW (value, mult, &value) || ADD_OVERFLOW (value, part, &value)
      || value > INT64_MAX) {
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

/* The library's info messages are chatter for a command line tool. */
static void
log_discard (const char *fmt, va_list ap)
{
  (void) fmt;
  (void) ap;
}

/* Warnings are held back until the command ends: printed after a
 * success, dropped after a failure, whose one error line says what
 * matters (the rule of one message per failure).  The log callbacks may
 * run on library threads, hence the lock. */
#define MAX_WARNINGS 32
static char *warnings[MAX_WARNINGS];
static size_t nwarnings, dropped_warnings;
static pthread_mutex_t warnings_lock = PTHREAD_MUTEX_INITIALIZER;

static void
log_warning (const char *fmt, va_list ap)
{
  char *msg = NULL;
  size_t len;

  if (vasprintf (&msg, fmt, ap) == -1)
    return;
  len = strlen (msg);
  if (len > 0 && msg[len - 1] == '\n')
    msg[len - 1] = '\0';
  pthread_mutex_lock (&warnings_lock);
  if (nwarnings < MAX_WARNINGS)
    warnings[nwarnings++] = msg, msg = NULL;
  else
    dropped_warnings++;
  pthread_mutex_unlock (&warnings_lock);
  free (msg);
}

static void
end_warnings (bool print)
{
  pthread_mutex_lock (&warnings_lock);
  for (size_t i = 0; i < nwarnings; i++) {
    if (print)
      fprintf (stderr, "%s: warning: %s\n", tool_name, warnings[i]);
    free (warnings[i]);
  }
  if (print && dropped_warnings)
    fprintf (stderr, "%s: warning: %zu more warnings\n", tool_name,
             dropped_warnings);
  nwarnings = dropped_warnings = 0;
  pthread_mutex_unlock (&warnings_lock);
}

/* ---- Options of the built-in subcommands ---------------------------- */

enum {
  OPT_HELP = 'h',
  OPT_VERSION = 'V',
  OPT_EXTERNAL = 0x100,
  OPT_JSON,
  OPT_OFFSET,
  OPT_LENGTH,
  OPT_REPAIR,
  OPT_UNSAFE,
  OPT_TOP_ONLY,
  OPT_SINGLE_LINK,
  OPT_NO_CID_CHECK,
  OPT_PREALLOC,
  OPT_BASE,
  OPT_DROP,
  OPT_CHAIN,
  OPT_SNAPSHOTS,
};

#define COMMON_LONG_OPTS \
  { "help", no_argument, NULL, OPT_HELP }, \
  { "version", no_argument, NULL, OPT_VERSION }
#define EXTERNAL_LONG_OPT \
  { "allow-external-paths", no_argument, NULL, OPT_EXTERNAL }
/* Commands that only read take --no-cid-check. */
#define NO_CID_LONG_OPT \
  { "no-cid-check", no_argument, NULL, OPT_NO_CID_CHECK }
/* Every subcommand that opens an existing disk takes -f. */
#define FORMAT_LONG_OPT \
  { "format", required_argument, NULL, 'f' }
#define END_LONG_OPTS { NULL, 0, NULL, 0 }

struct subcmd {
  const char *name;
  const char *summary;    /* one line for `vdk --help` */
  const char *shortopts;
  const struct option *longopts;
  int min_args, max_args;
  const char *usage;
  int (*run) (const struct cmd_opts *o);
  int (*external) (int argc, char **argv); /* parses its own options */
};

enum parse_result { PARSE_OK, PARSE_DONE, PARSE_ERROR };

static int
parse_format (const struct subcmd *sc, const char *arg, struct cmd_opts *o)
{
  return tool_parse_format (sc->name, sc->usage, arg, &o->open_flags);
}

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
    case 'f':
      if (parse_format (sc, optarg, o) == -1)
        return PARSE_ERROR;
      break;
    case OPT_JSON: o->json = true; break;
    case OPT_OFFSET: o->offset = optarg; break;
    case OPT_LENGTH: o->length = optarg; break;
    case OPT_REPAIR: o->repair = true; break;
    case OPT_UNSAFE: o->unsafe = true; break;
    case OPT_TOP_ONLY: o->top_only = true; break;
    case OPT_SINGLE_LINK: o->single_link = true; break;
    case OPT_NO_CID_CHECK: o->open_flags |= VDK_OPEN_NO_CID_CHECK; break;
    case OPT_PREALLOC: o->prealloc = optarg; break;
    case OPT_BASE: o->base = optarg; break;
    case OPT_DROP: o->drop = true; break;
    case 's': o->strict = true; break;
    case OPT_CHAIN: o->chain = true; break;
    case OPT_SNAPSHOTS: o->snapshots = true; break;
    case 'c': o->level = optarg; break;
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

/* ---- Dispatch table ------------------------------------------------- */

static const struct option create_long[] = {
  COMMON_LONG_OPTS,
  { "type", required_argument, NULL, 't' },
  { "adapter", required_argument, NULL, 'a' },
  { "hw-version", required_argument, NULL, 'H' },
  { "prealloc", required_argument, NULL, OPT_PREALLOC },
  { "progress", no_argument, NULL, 'p' },
  END_LONG_OPTS
};
static const struct option open_long[] = {
  COMMON_LONG_OPTS, EXTERNAL_LONG_OPT, FORMAT_LONG_OPT, END_LONG_OPTS
};
static const struct option path_long[] = {      /* rename, rm */
  COMMON_LONG_OPTS, EXTERNAL_LONG_OPT, FORMAT_LONG_OPT, END_LONG_OPTS
};
static const struct option rm_long[] = {
  COMMON_LONG_OPTS, EXTERNAL_LONG_OPT, FORMAT_LONG_OPT,
  { "snapshots", no_argument, NULL, OPT_SNAPSHOTS },
  END_LONG_OPTS
};
static const struct option info_long[] = {
  COMMON_LONG_OPTS, EXTERNAL_LONG_OPT, FORMAT_LONG_OPT, NO_CID_LONG_OPT,
  { "json", no_argument, NULL, OPT_JSON },
  { "chain", no_argument, NULL, OPT_CHAIN },
  END_LONG_OPTS
};
static const struct option convert_long[] = {
  COMMON_LONG_OPTS, EXTERNAL_LONG_OPT, FORMAT_LONG_OPT, NO_CID_LONG_OPT,
  { "prealloc", required_argument, NULL, OPT_PREALLOC },
  { "type", required_argument, NULL, 't' },
  { "adapter", required_argument, NULL, 'a' },
  { "progress", no_argument, NULL, 'p' },
  { "compress-level", required_argument, NULL, 'c' },
  { "single-link", no_argument, NULL, OPT_SINGLE_LINK },
  END_LONG_OPTS
};
static const struct option child_long[] = {
  COMMON_LONG_OPTS, EXTERNAL_LONG_OPT, FORMAT_LONG_OPT,
  { "type", required_argument, NULL, 't' },
  END_LONG_OPTS
};
static const struct option measure_long[] = {
  COMMON_LONG_OPTS, EXTERNAL_LONG_OPT, FORMAT_LONG_OPT, NO_CID_LONG_OPT,
  { "type", required_argument, NULL, 't' },
  { "json", no_argument, NULL, OPT_JSON },
  { "single-link", no_argument, NULL, OPT_SINGLE_LINK },
  END_LONG_OPTS
};
static const struct option read_long[] = {
  COMMON_LONG_OPTS, EXTERNAL_LONG_OPT, FORMAT_LONG_OPT, NO_CID_LONG_OPT,
  { "offset", required_argument, NULL, OPT_OFFSET },
  { "length", required_argument, NULL, OPT_LENGTH },
  END_LONG_OPTS
};
static const struct option write_long[] = {
  COMMON_LONG_OPTS, EXTERNAL_LONG_OPT, FORMAT_LONG_OPT,
  { "offset", required_argument, NULL, OPT_OFFSET },
  END_LONG_OPTS
};
static const struct option progress_long[] = {
  COMMON_LONG_OPTS, EXTERNAL_LONG_OPT, FORMAT_LONG_OPT,
  { "progress", no_argument, NULL, 'p' },
  END_LONG_OPTS
};
static const struct option check_long[] = {
  COMMON_LONG_OPTS, EXTERNAL_LONG_OPT, FORMAT_LONG_OPT,
  { "json", no_argument, NULL, OPT_JSON },
  { "repair", no_argument, NULL, OPT_REPAIR },
  { "progress", no_argument, NULL, 'p' },
  END_LONG_OPTS
};
static const struct option attach_long[] = {
  COMMON_LONG_OPTS, EXTERNAL_LONG_OPT, FORMAT_LONG_OPT,
  { "unsafe", no_argument, NULL, OPT_UNSAFE },
  END_LONG_OPTS
};
static const struct option map_long[] = {
  COMMON_LONG_OPTS, EXTERNAL_LONG_OPT, FORMAT_LONG_OPT, NO_CID_LONG_OPT,
  { "json", no_argument, NULL, OPT_JSON },
  { "top-only", no_argument, NULL, OPT_TOP_ONLY },
  END_LONG_OPTS
};
static const struct option commit_long[] = {
  COMMON_LONG_OPTS, EXTERNAL_LONG_OPT, FORMAT_LONG_OPT,
  { "progress", no_argument, NULL, 'p' },
  { "base", required_argument, NULL, OPT_BASE },
  { "drop", no_argument, NULL, OPT_DROP },
  END_LONG_OPTS
};
static const struct option compare_long[] = {
  COMMON_LONG_OPTS, EXTERNAL_LONG_OPT, FORMAT_LONG_OPT, NO_CID_LONG_OPT,
  { "progress", no_argument, NULL, 'p' },
  { "strict", no_argument, NULL, 's' },
  END_LONG_OPTS
};

#define EXTERNAL_HELP \
  "  --allow-external-paths  follow extents and parents outside the\n" \
  "                          disk's folder\n"
#define COMMON_HELP \
  "  -h, --help              show this help\n" \
  "  -V, --version           show the version\n"
#define FORMAT_HELP \
  "  -f, --format FORMAT     raw, vmdk or auto (default): how FILE is read;\n" \
  "                          with auto, a raw image cannot be written into\n" \
  "                          a VMDK's shape\n"
#define NO_CID_HELP \
  "  --no-cid-check          read a chain whose content IDs disagree, as it\n" \
  "                          is (read-only; nothing is written)\n"
#define PREALLOC_HELP \
  "  --prealloc MODE         raw and flat types: off (default: sparse host\n" \
  "                          files), full (allocate the blocks) or zeroed\n" \
  "                          (write zeroes: eagerZeroedThick)\n"
#define PROGRESS_HELP \
  "  -p, --progress          progress bar on a terminal\n"

static int cmd_help (int argc, char **argv);

static const struct subcmd subcmds[] = {
  { "create", "create an empty disk", ":t:a:H:phV", create_long, 2, 2,
    "Usage: vdk create [-p] [-t TYPE] [-a ADAPTER] [-H HWVERSION]\n"
    "                  [--prealloc MODE] FILE SIZE\n"
    "Create an empty disk of SIZE bytes (K, M, G, T suffixes; a multiple\n"
    "of 512).\n"
    "  -t, --type TYPE         raw, monolithicSparse (default),\n"
    "                          monolithicFlat, twoGbMaxExtentSparse,\n"
    "                          twoGbMaxExtentFlat, streamOptimized, vmfs,\n"
    "                          vmfsThin; vmware-vdiskmanager's 0-6\n"
    "  -a, --adapter ADAPTER   ide (default), buslogic, lsilogic, pvscsi,\n"
    "                          legacyESX\n"
    "  -H, --hw-version N      virtual hardware version (default 4)\n"
    PREALLOC_HELP PROGRESS_HELP COMMON_HELP, run_create, NULL },
  { "child", "create a child (snapshot) disk", ":f:t:hV", child_long, 2, 2,
    "Usage: vdk child [-f FORMAT] [-t TYPE] PARENT CHILD\n"
    "Create a sparse child disk CHILD on top of PARENT.\n"
    "  -t, --type TYPE         monolithicSparse (default) or vmfsSparse\n"
    "                          (an ESX redo log: CHILD + CHILD-delta.vmdk)\n"
    FORMAT_HELP EXTERNAL_HELP COMMON_HELP, run_child, NULL },
  { "info", "show type, size, geometry, CIDs, extents", ":f:hV", info_long,
    1, 1,
    "Usage: vdk info [-f FORMAT] [--json] [--chain] [--no-cid-check] FILE\n"
    "Show the type, size, space taken on the host, unclean-shutdown mark,\n"
    "geometry, content IDs and extents of a disk.\n"
    "  --json                  one JSON object (see docs/json.md)\n"
    "  --chain                 every link of the chain, top first (JSON:\n"
    "                          an array of objects)\n"
    FORMAT_HELP EXTERNAL_HELP NO_CID_HELP COMMON_HELP, run_info, NULL },
  { "convert", "copy a disk (and its chain) into a new disk", ":f:pt:a:c:hV",
    convert_long, 2, 2,
    "Usage: vdk convert [-f FORMAT] [-p] [-t TYPE] [-a ADAPTER] [-c LEVEL]\n"
    "                   [--prealloc MODE] [--single-link] [--no-cid-check]\n"
    "                   SRC DST\n"
    "Copy the contents of SRC (with its parents) into a new disk DST.\n"
    "Without -t, DST is raw if named .raw, .img or .bin, otherwise\n"
    "monolithicSparse.  DST - writes a streamOptimized (or -t raw) disk\n"
    "to standard output; SRC - reads a disk from standard input.\n"
    PROGRESS_HELP
    "  -t, --type TYPE         type of DST (see vdk create --help)\n"
    "  -a, --adapter ADAPTER   adapter of DST (default: as SRC)\n"
    "  -c, --compress-level N  streamOptimized: 1 (fast) to 12 (small),\n"
    "                          default 3\n"
    "  --single-link           copy only SRC's own link, not its parents\n"
    PREALLOC_HELP FORMAT_HELP EXTERNAL_HELP NO_CID_HELP COMMON_HELP,
    run_convert, NULL },
  { "measure", "bytes a conversion will need", ":f:t:hV", measure_long, 1, 2,
    "Usage: vdk measure [-f FORMAT] [-t TYPE] [--json] [--single-link]\n"
    "                   [--no-cid-check] SRC [DST]\n"
    "Print the bytes the files of `vdk convert -t TYPE SRC DST` will take:\n"
    "exact for uncompressed types, an upper bound for streamOptimized.\n"
    "Only DST's base name matters (default disk.vmdk): descriptors hold\n"
    "file names.\n"
    "  -t, --type TYPE         type of the output (default\n"
    "                          monolithicSparse)\n"
    "  --json                  one JSON object\n"
    "  --single-link           measure only SRC's own link\n"
    FORMAT_HELP EXTERNAL_HELP NO_CID_HELP COMMON_HELP, run_measure, NULL },
  { "read", "write disk contents to stdout", ":f:hV", read_long, 1, 1,
    "Usage: vdk read [-f FORMAT] [--no-cid-check] FILE [--offset BYTES]\n"
    "                [--length BYTES]\n"
    "Write the disk's contents (default: all of it) to standard output.\n"
    "  --offset BYTES          start there (default 0)\n"
    "  --length BYTES          write that many bytes (default: to the end)\n"
    FORMAT_HELP EXTERNAL_HELP NO_CID_HELP COMMON_HELP, run_read, NULL },
  { "write", "write stdin into a disk", ":f:hV", write_long, 1, 1,
    "Usage: vdk write [-f FORMAT] FILE --offset BYTES\n"
    "Write standard input into the disk at BYTES (default 0).\n"
    "  --offset BYTES          where the first byte goes (default 0)\n"
    FORMAT_HELP EXTERNAL_HELP COMMON_HELP, run_write, NULL },
  { "meta", "list, get or set disk database keys", ":f:hV", open_long, 1, 3,
    "Usage: vdk meta [-f FORMAT] FILE [KEY [VALUE]]\n"
    "List the disk database (ddb) of a disk, print KEY, or set it.\n"
    FORMAT_HELP EXTERNAL_HELP COMMON_HELP, run_meta, NULL },
  { "rename", "rename a disk and its extent files", ":f:hV", path_long, 2, 2,
    "Usage: vdk rename [-f FORMAT] SRC DST\n"
    "Rename a disk and its extent files (with -f raw: the file alone).\n"
    FORMAT_HELP EXTERNAL_HELP COMMON_HELP, run_rename, NULL },
  { "rm", "remove a disk and its extent files", ":f:hV", rm_long, 1, 1,
    "Usage: vdk rm [-f FORMAT] [--snapshots] FILE\n"
    "Remove a disk: its descriptor and all its extent files (with -f raw:\n"
    "the file alone, whatever its first sectors hold).\n"
    "  --snapshots             an RBD image with snapshots: remove them\n"
    "                          too (without it such an image is kept)\n"
    FORMAT_HELP EXTERNAL_HELP COMMON_HELP, run_rm, NULL },
  { "check", "check (and repair) every link of a disk", ":f:phV",
    check_long, 1, 1,
    "Usage: vdk check [-f FORMAT] [-p] [--repair] [--json] FILE\n"
    "Check the structure, sizes and CIDs of every link of a disk.\n"
    "Exit status: 0 no problems (or all repaired), 2 problems remain,\n"
    "1 the check could not run.\n"
    "  --repair                fix what can be fixed without guessing data\n"
    "  --json                  one JSON object\n"
    PROGRESS_HELP
    FORMAT_HELP EXTERNAL_HELP COMMON_HELP, run_check, NULL },
  { "grow", "make a disk larger", ":f:hV", open_long, 2, 2,
    "Usage: vdk grow [-f FORMAT] FILE SIZE\n"
    "Make the disk SIZE bytes (larger only; K, M, G, T suffixes).\n"
    FORMAT_HELP EXTERNAL_HELP COMMON_HELP, run_grow, NULL },
  { "shrink", "give back space of all-zero grains", ":f:phV", progress_long,
    1, 1,
    "Usage: vdk shrink [-f FORMAT] [-p] FILE\n"
    "Give back the space of grains that hold only zeroes.\n"
    PROGRESS_HELP FORMAT_HELP EXTERNAL_HELP COMMON_HELP, run_shrink, NULL },
  { "defrag", "lay grains out in disk order", ":f:phV", progress_long, 1, 1,
    "Usage: vdk defrag [-f FORMAT] [-p] FILE\n"
    "Rewrite sparse extents with their grains in disk order.\n"
    PROGRESS_HELP FORMAT_HELP EXTERNAL_HELP COMMON_HELP, run_defrag, NULL },
  { "attach", "give a child another parent", ":f:hV", attach_long, 2, 2,
    "Usage: vdk attach [-f FORMAT] [--unsafe] CHILD PARENT\n"
    "Make PARENT the parent of CHILD.  Refused unless the contents CHILD\n"
    "shows stay the same.\n"
    "  --unsafe                re-parent even if the contents change\n"
    FORMAT_HELP EXTERNAL_HELP COMMON_HELP, run_attach, NULL },
  { "commit", "merge a child into its parent", ":f:phV", commit_long, 1, 1,
    "Usage: vdk commit [-f FORMAT] [-p] [--base BASE] [--drop] CHILD\n"
    "Merge the data of CHILD (and of the links between it and BASE) into\n"
    "its parent, or into BASE; CHILD stays valid and then reads through to\n"
    "BASE.  Links between CHILD and BASE no longer open afterwards.\n"
    PROGRESS_HELP
    "  --base BASE             a link further down CHILD's chain to merge\n"
    "                          into (default: CHILD's parent)\n"
    "  --drop                  empty CHILD afterwards (its grains are given\n"
    "                          back; it then shows BASE unchanged)\n"
    FORMAT_HELP EXTERNAL_HELP COMMON_HELP, run_commit, NULL },
  { "map", "show allocated, zero and unallocated ranges", ":f:hV", map_long,
    1, 1,
    "Usage: vdk map [-f FORMAT] [--json] [--top-only] [--no-cid-check] FILE\n"
    "List the disk as runs of data, zero and hole, with the depth of the\n"
    "link holding each run (0 = top, -1 = nowhere).\n"
    "  --json                  a JSON array\n"
    "  --top-only              the top link alone (parents count as holes)\n"
    FORMAT_HELP EXTERNAL_HELP NO_CID_HELP COMMON_HELP, run_map, NULL },
  { "compare", "compare the contents of two disks", ":f:pshV",
    compare_long, 2, 2,
    "Usage: vdk compare [-f FORMAT] [-p] [-s] [--no-cid-check] A B\n"
    "Compare the guest-visible contents of two disks of any types (chains\n"
    "read through), as qemu-img compare does.  Exit status: 0 identical,\n"
    "1 different (the first differing byte offset is printed), 2 error.\n"
    "A disk larger than the other must hold only zeroes beyond it.\n"
    PROGRESS_HELP
    "  -s, --strict            also differ on size and on allocation (data\n"
    "                          against an unallocated or zeroed range)\n"
    "  -f, --format FORMAT     raw, vmdk or auto (default): how A and B are\n"
    "                          read\n"
    EXTERNAL_HELP NO_CID_HELP COMMON_HELP, run_compare, NULL },
  { "rebase", "give a child another parent, copying what differs",
    ":f:phV", progress_long, 2, 2,
    "Usage: vdk rebase [-f FORMAT] [-p] CHILD NEWPARENT\n"
    "Make NEWPARENT the parent of CHILD and keep the contents CHILD shows:\n"
    "wherever CHILD reads through to its parents and the old chain differs\n"
    "from NEWPARENT's, the old data is copied into CHILD first.  The old\n"
    "parents must still open.  (`vdk attach --unsafe` re-parents without\n"
    "copying.)\n"
    PROGRESS_HELP FORMAT_HELP EXTERNAL_HELP COMMON_HELP, run_rebase, NULL },
#ifdef VDK_HAVE_NBD
  { "serve", "export disks over NBD (nbdkit)", NULL, NULL, 0, 0, NULL, NULL,
    cmd_serve },
  { "ticket", "mint, list, revoke tickets for vdk serve", NULL, NULL, 0, 0,
    NULL, NULL, cmd_ticket },
#endif
  { "help", "show the help of the tool or of a command", NULL, NULL, 0, 0,
    NULL, NULL, cmd_help },
#ifdef VDK_HAVE_MOUNT
  { "volumes", "list the volumes of disks", NULL, NULL, 0, 0, NULL, NULL,
    cmd_volumes },
  { "mount", "mount a volume of disks", NULL, NULL, 0, 0, NULL, NULL,
    cmd_mount },
  { "umount", "unmount what vdk mount mounted", NULL, NULL, 0, 0, NULL, NULL,
    cmd_umount },
  { "mounts", "list active vdk mounts", NULL, NULL, 0, 0, NULL, NULL,
    cmd_mounts },
#endif
};

static int run_subcmd (int argc, char **argv);
static void print_top_usage (FILE *fp);

/* `vdk help [COMMAND]`: the tool's usage, or `vdk COMMAND --help`. */
static int
cmd_help (int argc, char **argv)
{
  char *args[3];

  if (argc == 2 && (strcmp (argv[1], "--version") == 0
                    || strcmp (argv[1], "-V") == 0)) {
    tool_print_version ();
    return 0;
  }
  if (argc > 2 || (argc == 2 && argv[1][0] == '-'
                   && strcmp (argv[1], "--help") && strcmp (argv[1], "-h"))) {
    fprintf (stderr, "%s help: give at most one COMMAND\n"
             "Usage: vdk help [COMMAND]\n", tool_name);
    return 1;
  }
  if (argc < 2) {
    print_top_usage (stdout);
    return 0;
  }
  if (strcmp (argv[1], "help") == 0 || strcmp (argv[1], "--help") == 0
      || strcmp (argv[1], "-h") == 0) {
    fputs ("Usage: vdk help [COMMAND]\n"
           "Show the usage of the tool, or the options of COMMAND (the same\n"
           "as vdk COMMAND --help).\n", stdout);
    return 0;
  }
  args[0] = argv[1];
  args[1] = (char *) "--help";
  args[2] = NULL;
  return run_subcmd (2, args);
}

static void
print_top_usage (FILE *fp)
{
  fputs ("Usage: vdk [--help|--version] COMMAND [ARGS]\n"
         "Create, inspect, read, write and convert virtual disks (VMDK, raw).\n"
         "\nCommands:\n", fp);
  for (size_t i = 0; i < ARRAY_SIZE (subcmds); i++)
    fprintf (fp, "  %-9s %s\n", subcmds[i].name, subcmds[i].summary);
  fputs ("\nRun 'vdk help COMMAND' (or 'vdk COMMAND --help') for the options\n"
         "of a command; man vdk and man vdk-mount describe them all.\n", fp);
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

static bool
offers_option (const struct subcmd *sc, const char *name)
{
  for (const struct option *o = sc->longopts; o && o->name; o++)
    if (strcmp (o->name, name) == 0)
      return true;
  return false;
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
  case PARSE_ERROR:              /* compare: 1 means "different" */
    return sc->run == run_compare ? 2 : 1;
  case PARSE_OK: break;
  }
  offers_external = offers_option (sc, "allow-external-paths");
  offers_no_cid = offers_option (sc, "no-cid-check");
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
  end_warnings (rc == 0);
  if (fflush (stdout) == EOF && rc == 0) {
    tool_error ("writing to standard output: %s", strerror (errno));
    rc = 1;
  }
  return rc;
}
