/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdk-tool.h - helpers shared by the subcommands of the `vdk` command.
 *
 * The tool is built only on the public API (include/vdk.h, and
 * include/vdk-mount.h for the mount subcommands).  The helpers here are
 * defined in tools/vdk.c; every subcommand file (vdk.c itself and
 * cmd-mount.c) uses them so that all subcommands report errors, sizes,
 * versions and progress the same way.
 *
 * Contract of a subcommand function `int cmd_X (int argc, char **argv)`:
 * - argv[0] is the subcommand name ("volumes"), argv[1..] its arguments;
 *   the dispatcher resets getopt (optind = 0) before the call.
 * - It returns the process exit status: 0 on success, 1 on any error.
 * - `--help` prints usage on stdout and returns 0; `--version` prints
 *   tool_print_version() and returns 0; misuse prints one line naming
 *   the problem plus the usage on stderr and returns 1.
 * - A failure prints exactly one line on stderr, through tool_error()
 *   or tool_lib_error().
 */
#ifndef VDK_TOOL_H
#define VDK_TOOL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <vdk.h>

/* Name used as the prefix of every message: "vdk". */
extern const char *tool_name;

/* Print "vdk: MESSAGE\n" on stderr. */
void tool_error (const char *fmt, ...)
  __attribute__ ((format (printf, 1, 2)));

/* Print the library's last error on stderr, "vdk: FILE: cause; what to
 * do", and return 1, the exit status to use.  The remedy follows from
 * vdk_last_error_code() and names this tool's options. */
int tool_lib_error (void);
/* The same with the remedy given by the caller (NULL: the default). */
int tool_lib_error_hint (const char *hint);

/* Print "vdk SUBCMD: MESSAGE" and then `usage` on stderr; return 1. */
int tool_usage_error (const char *subcmd, const char *usage,
                      const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

/* "vdk 0.1.0 (libvdk 0.1.0)" on stdout. */
void tool_print_version (void);

/* Parse a byte count: a decimal number with an optional K, M, G or T
 * suffix (powers of 1024, case-insensitive, optionally followed by "B"
 * or "iB").  A fraction is allowed when the result is a whole number of
 * bytes ("1.5G", "0.5K"; not "1.5" or "1.1K").  Signs, spaces, empty
 * strings and values over 2^63 - 1 are rejected.  On error returns -1
 * and sets *why to a static reason. */
int tool_parse_bytes (const char *text, uint64_t *bytes, const char **why);

/* Parse a disk size for `file`: tool_parse_bytes plus "greater than 0"
 * and "a multiple of 512".  Prints one message naming `file` and
 * returns -1 on error. */
int tool_parse_disk_size (const char *file, const char *text,
                          uint64_t *bytes);

/* Progress bar on stderr (tools/progress.c), drawn only when stderr is
 * a terminal and the user asked for it: one line that fits the
 * terminal, redrawn in place, with the rate and the time left.  Pass
 * tool_progress_cb and a struct tool_progress as the vdk_progress_fn
 * and its opaque pointer; tool_progress_end ends the line. */
struct tool_progress {
  const char *label;  /* "convert" */
  int enabled;        /* set by tool_progress_init */
  int last_permille;  /* last value drawn, -1 before the first */
  uint64_t done, total;
  double start, last_draw; /* monotonic seconds */
  int drawn_len;      /* characters of the line on the screen */
};
void tool_progress_init (struct tool_progress *p, const char *label,
                         int requested);
int tool_progress_cb (void *opaque, uint64_t done, uint64_t total);
void tool_progress_end (struct tool_progress *p);

/* Options of the built-in subcommands, filled by vdk.c's parser; each
 * built-in subcommand is one run_X() taking them (positional arguments
 * in args[0..nargs-1], counts already checked against the table). */
struct cmd_opts {
  const char *type;       /* -t, NULL if not given */
  const char *adapter;    /* -a */
  const char *hw_version; /* -H */
  const char *offset;     /* --offset */
  const char *length;     /* --length */
  bool json;
  bool progress;
  bool repair;            /* check --repair */
  bool unsafe;            /* attach --unsafe */
  bool top_only;          /* map --top-only */
  bool single_link;       /* convert, measure --single-link */
  bool chain;             /* info --chain */
  const char *level;      /* convert -c */
  const char *prealloc;   /* create, convert --prealloc */
  const char *base;       /* commit --base */
  bool drop;              /* commit --drop */
  bool strict;            /* compare -s */
  bool snapshots;         /* rm --snapshots */
  unsigned open_flags;    /* VDK_OPEN_ALLOW_EXTERNAL, VDK_OPEN_FORMAT_* */
  int nargs;
  char **args;            /* positional arguments */
};

/* cmd-disk.c */
int run_create (const struct cmd_opts *o);
int run_child (const struct cmd_opts *o);
int run_info (const struct cmd_opts *o);
int run_convert (const struct cmd_opts *o);
int run_read (const struct cmd_opts *o);
int run_write (const struct cmd_opts *o);
int run_meta (const struct cmd_opts *o);
int run_rename (const struct cmd_opts *o);
int run_rm (const struct cmd_opts *o);

/* cmd-measure.c */
int run_measure (const struct cmd_opts *o);

/* cmd-maint.c */
int run_check (const struct cmd_opts *o);
int run_grow (const struct cmd_opts *o);
int run_shrink (const struct cmd_opts *o);
int run_defrag (const struct cmd_opts *o);
int run_attach (const struct cmd_opts *o);
int run_commit (const struct cmd_opts *o);
int run_map (const struct cmd_opts *o);

/* cmd-chain.c */
int run_compare (const struct cmd_opts *o);
int run_rebase (const struct cmd_opts *o);

/* -f raw|vmdk|auto: set the matching VDK_OPEN_FORMAT_* bit (none for
 * auto) in *open_flags; a usage error (-1) for anything else. */
int tool_parse_format (const char *subcmd, const char *usage,
                       const char *arg, unsigned *open_flags);

/* vdk_open_ex with the format of -f (a VDK_OPEN_FORMAT_* bit of
 * `flags`) as the explicit format. */
vdk_disk *tool_open (const char *path, unsigned flags);

/* Say whether the running subcommand takes --allow-external-paths and
 * --no-cid-check, so that the remedies tool_lib_error() prints name only
 * options it has.  The built-in subcommands are looked up in their option
 * tables; the mount subcommands call this. */
void tool_offer_options (bool external, bool no_cid_check);

/* Who holds a disk that failed to open with VDK_E_LOCKED: a live `vdk
 * mount` of the file the library's message `msg` names (tools/holder.c;
 * never found when the tool is built without mount support).  The
 * library's error is cleared: read it before. */
struct tool_holder {
  int pid;             /* the mount's serving process */
  bool writable;       /* a read-write mount (exclusive locks) */
  char where[4096];    /* mount point, or the folder of a flat mount */
};
bool tool_lock_holder (const char *msg, struct tool_holder *h);

/* For commands that only look at a disk (info, volumes), after an open
 * failed: if it failed because a read-write `vdk mount` holds the disk,
 * print a note saying so, add VDK_OPEN_READ_ONLY | VDK_OPEN_NO_LOCK to
 * *flags and return 0: the caller opens again without locks, which is
 * safe for a reader because vdk writes data before the tables that
 * point at it (what it reads is what a crash could leave).  Otherwise
 * print the error and return -1: a disk another program holds stays
 * refused, since vdk cannot tell what that program does to it. */
int tool_inspect_retry (unsigned *flags);
/* tool_open read-only with that retry; NULL with the error printed. */
vdk_disk *tool_open_inspect (const char *path, unsigned flags);

/* Print `s` as a JSON string (escaped), or null for NULL. */
void tool_json_string (FILE *fp, const char *s);
/* Untrusted text for a terminal (tools/text.c): `s` itself when it is
 * valid UTF-8 without control characters, else an escaped copy ("\xHH",
 * "\\") that lives until eight more calls. */
const char *tool_safe (const char *s);

/* The one JSON writer (tools/json.c; the style and the rules of every
 * command's output are docs/json.md).  Begin with tool_json_init, then
 * one value: an object or array whose members are written with a key
 * (inside objects) or NULL (inside arrays); the last end prints the
 * final newline. */
#define TOOL_JSON_MAX_DEPTH 8
struct tool_json {
  FILE *fp;
  int depth;
  bool done;                              /* the top value was begun */
  bool is_object[TOOL_JSON_MAX_DEPTH];
  bool has_member[TOOL_JSON_MAX_DEPTH];
};
void tool_json_init (struct tool_json *j, FILE *fp);
void tool_json_object (struct tool_json *j, const char *key);
void tool_json_object_end (struct tool_json *j);
void tool_json_array (struct tool_json *j, const char *key);
void tool_json_array_end (struct tool_json *j);
void tool_json_str (struct tool_json *j, const char *key, const char *value);
/* An empty string is absent: null. */
void tool_json_str_or_null (struct tool_json *j, const char *key,
                            const char *value);
void tool_json_uint (struct tool_json *j, const char *key, uint64_t value);
void tool_json_int (struct tool_json *j, const char *key, int64_t value);
void tool_json_bool (struct tool_json *j, const char *key, bool value);
void tool_json_null (struct tool_json *j, const char *key);
/* An ID as 8 lowercase hex digits in a string ("0a1b2c3d"). */
void tool_json_hex32 (struct tool_json *j, const char *key, uint32_t value);
/* A path made absolute (tool_abs_path); NULL is null. */
void tool_json_path (struct tool_json *j, const char *key, const char *path);
/* `path` made absolute: resolved (realpath) when it exists, else the
 * current folder in front; a URI ("nbd://...") as it is.  malloc'd;
 * NULL for NULL. */
char *tool_abs_path (const char *path);

/* Mount subcommands, defined in tools/cmd-mount.c and dispatched only
 * when the tool is built with VDK_HAVE_MOUNT. */
int cmd_volumes (int argc, char **argv);
int cmd_mount (int argc, char **argv);
int cmd_umount (int argc, char **argv);
int cmd_mounts (int argc, char **argv);

#endif /* VDK_TOOL_H */
