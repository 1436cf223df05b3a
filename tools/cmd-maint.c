/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd-maint.c - the maintenance subcommands of `vdk`: check, grow,
 * shrink, defrag, attach, commit and map.
 *
 * They are thin: each library call (vdk_check, vdk_grow, ...) opens the
 * disk itself, does the whole job and leaves one message on failure,
 * which tool_lib_error() prints.  What the tool adds is the output:
 * - check prints the report (problems, what repair changed, notes) as
 *   text or JSON and exits 0 when nothing is wrong (or everything was
 *   repaired), 2 when problems remain, 1 when the check could not run;
 * - map walks vdk_block_status() over the disk and prints runs of equal
 *   state (data, zero, hole) and depth, merged, like `qemu-img map`.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vdk-common.h"
#include "vdk-tool.h"

/* ---- check ---------------------------------------------------------- */

static size_t
problems_left (const struct vdk_check_report *r)
{
  size_t n = 0;

  for (size_t i = 0; i < r->nproblems; i++)
    if (!r->problems[i]->repaired)
      n++;
  return n;
}

static void
json_string_list (struct tool_json *j, const char *key, char **items,
                  size_t n)
{
  tool_json_array (j, key);
  for (size_t i = 0; i < n; i++)
    tool_json_str (j, NULL, items[i]);
  tool_json_array_end (j);
}

static void
print_check_json (const char *file, const struct vdk_check_report *r)
{
  struct tool_json j;

  tool_json_init (&j, stdout);
  tool_json_object (&j, NULL);
  tool_json_str (&j, "file", file);
  tool_json_path (&j, "path", file);
  tool_json_bool (&j, "clean", problems_left (r) == 0);
  tool_json_array (&j, "problems");
  for (size_t i = 0; i < r->nproblems; i++) {
    const struct vdk_check_item *p = r->problems[i];

    tool_json_object (&j, NULL);
    tool_json_path (&j, "path", p->file);
    tool_json_str (&j, "what", p->what);
    tool_json_bool (&j, "repairable", p->repairable);
    tool_json_bool (&j, "repaired", p->repaired);
    tool_json_object_end (&j);
  }
  tool_json_array_end (&j);
  json_string_list (&j, "changes", r->changes, r->nchanges);
  json_string_list (&j, "notes", r->notes, r->nnotes);
  tool_json_object_end (&j);
}

static void
print_check_text (const char *file, const struct vdk_check_report *r)
{
  size_t left = problems_left (r);

  for (size_t i = 0; i < r->nproblems; i++) {
    const struct vdk_check_item *p = r->problems[i];

    printf ("%s: %s: %s%s%s\n", p->repaired ? "repaired" : "problem",
            tool_safe (p->file ? p->file : file), tool_safe (p->what),
            !p->repaired && p->repairable ? " (--repair can fix it)" : "",
            /* the library's words for its folder rule (disk/path.c) */
            strstr (p->what, "outside the disk's folder")
            ? " (--allow-external-paths follows it, if you trust the "
            "descriptor)" : "");
  }
  for (size_t i = 0; i < r->nchanges; i++)
    printf ("changed: %s\n", tool_safe (r->changes[i]));
  for (size_t i = 0; i < r->nnotes; i++)
    printf ("note: %s\n", tool_safe (r->notes[i]));
  if (left == 0)
    printf ("%s: no problems found%s\n", tool_safe (file),
            r->nproblems ? " after repair" : "");
  else
    printf ("%s: %zu problem%s found\n", tool_safe (file), left, left == 1 ? "" : "s");
}

int
run_check (const struct cmd_opts *o)
{
  struct vdk_check_params params = VDK_CHECK_PARAMS_INIT;
  struct vdk_check_report *report = NULL;
  struct tool_progress progress;
  const char *file = o->args[0];
  size_t left;
  int r;

  params.flags = o->repair ? VDK_CHECK_REPAIR : 0;
  params.open_flags = o->open_flags;
  tool_progress_init (&progress, "check", o->progress);
  params.progress = tool_progress_cb;
  params.opaque = &progress;
  r = vdk_check_ex (file, &params, &report);
  tool_progress_end (&progress);
  if (r == -1)
    return tool_lib_error ();
  if (o->json)
    print_check_json (file, report);
  else
    print_check_text (file, report);
  left = problems_left (report);
  vdk_free_check_report (report);
  return left ? 2 : 0;
}

/* ---- grow, shrink, defrag, attach, commit ---------------------------- */

int
run_grow (const struct cmd_opts *o)
{
  uint64_t capacity;

  if (tool_parse_disk_size (o->args[0], o->args[1], &capacity) == -1)
    return 1;
  if (vdk_grow (o->args[0], capacity, o->open_flags) == -1)
    return tool_lib_error ();
  return 0;
}

typedef int (*rewrite_fn) (const char *, unsigned, vdk_progress_fn, void *);

/* shrink and defrag share one shape: path, flags, progress. */
static int
run_with_progress (const struct cmd_opts *o, const char *label,
                   rewrite_fn fn)
{
  struct tool_progress progress;
  int r;

  tool_progress_init (&progress, label, o->progress);
  r = fn (o->args[0], o->open_flags, tool_progress_cb, &progress);
  tool_progress_end (&progress);
  return r == -1 ? tool_lib_error () : 0;
}

int
run_shrink (const struct cmd_opts *o)
{
  return run_with_progress (o, "shrink", vdk_shrink);
}

int
run_defrag (const struct cmd_opts *o)
{
  return run_with_progress (o, "defrag", vdk_defrag);
}

int
run_commit (const struct cmd_opts *o)
{
  struct vdk_commit_params p = VDK_COMMIT_PARAMS_INIT;
  struct tool_progress progress;
  int r;

  tool_progress_init (&progress, "commit", o->progress);
  p.open_flags = o->open_flags;
  p.base = o->base;
  p.flags = o->drop ? VDK_COMMIT_DROP : 0;
  p.progress = tool_progress_cb;
  p.opaque = &progress;
  r = vdk_commit_ex (o->args[0], &p);
  tool_progress_end (&progress);
  return r == -1 ? tool_lib_error () : 0;
}

int
run_attach (const struct cmd_opts *o)
{
  int code;

  if (vdk_attach (o->args[0], o->args[1],
                  o->unsafe ? VDK_ATTACH_UNSAFE : 0, o->open_flags) == 0)
    return 0;
  code = vdk_last_error_code ();
  /* The proof that the contents stay the same failed or was impossible. */
  if (!o->unsafe && (code == VDK_E_INVALID_ARG || code == VDK_E_CID_MISMATCH
                     || code == VDK_E_PARTIAL_CHAIN))
    return tool_lib_error_hint ("--unsafe attaches without that proof");
  return tool_lib_error ();
}

/* ---- map ------------------------------------------------------------ */

static const char *
state_name (int state)
{
  switch (state) {
  case VDK_BLOCK_DATA: return "data";
  case VDK_BLOCK_ZERO: return "zero";
  case VDK_BLOCK_HOLE: return "hole";
  default: return "unknown";
  }
}

/* One run: a row of the table, or an element of "runs". */
static void
print_run (struct tool_json *j, uint64_t start, uint64_t len, int state,
           int depth)
{
  if (j == NULL) {
    printf ("%16" PRIu64 " %16" PRIu64 "  %-5s %d\n", start, len,
            state_name (state), depth);
    return;
  }
  tool_json_object (j, NULL);
  tool_json_uint (j, "start", start);
  tool_json_uint (j, "length", len);
  tool_json_str (j, "state", state_name (state));
  if (depth >= 0)
    tool_json_int (j, "depth", depth);
  else
    tool_json_null (j, "depth");
  tool_json_object_end (j);
}

/* Walk the disk; print merged runs.  Returns 0 or the exit status 1. */
static int
map_disk (vdk_disk *disk, const char *file, struct tool_json *j,
          bool top_only)
{
  uint64_t cap = vdk_capacity (disk), off = 0, run_start = 0, run_len = 0;
  int run_state = -1, run_depth = 0;

  while (off < cap) {
    uint64_t len = 0;
    int state = 0, depth = 0;

    if (vdk_block_status (disk, off, cap - off, top_only, &len, &state,
                          &depth) == -1)
      return tool_lib_error ();
    if (len == 0 || len > cap - off) {
      tool_error ("%s: block status at %" PRIu64 " returned length %" PRIu64,
                  file, off, len);
      return 1;
    }
    if (state == run_state && depth == run_depth)
      run_len += len;
    else {
      if (run_state >= 0)
        print_run (j, run_start, run_len, run_state, run_depth);
      run_start = off, run_len = len, run_state = state, run_depth = depth;
    }
    off += len;
  }
  if (run_state >= 0)
    print_run (j, run_start, run_len, run_state, run_depth);
  return 0;
}

int
run_map (const struct cmd_opts *o)
{
  vdk_disk *disk = tool_open (o->args[0], VDK_OPEN_READ_ONLY | o->open_flags);
  struct tool_json j;
  int ret;

  if (disk == NULL)
    return tool_lib_error ();
  tool_json_init (&j, stdout);
  if (o->json)
    tool_json_array (&j, NULL);
  else
    printf ("%16s %16s  %-5s %s\n", "start", "length", "state", "depth");
  ret = map_disk (disk, o->args[0], o->json ? &j : NULL, o->top_only);
  if (o->json && ret == 0)
    tool_json_array_end (&j);
  vdk_close (disk);
  return ret;
}
