/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json.c - the one JSON writer of the `vdk` tool (vdk-tool.h).
 *
 * Every --json output goes through it, so all commands print the same
 * style (docs/json.md): one JSON value per run, members and elements
 * one per line, indented by two spaces, "key": value with one space,
 * a final newline.  Empty objects and arrays print as {} and [].
 * Strings go through tool_json_string (always valid UTF-8, control
 * characters escaped); a NULL string is null, as is every value that is
 * absent, so a key is always present and its type is the schema's or
 * null.
 *
 * The writer keeps the nesting in a small stack: whether the current
 * container has had a member yet (for the comma) and whether it is an
 * object (keys) or an array (none).  Misuse (a key inside an array,
 * ending more than was begun, nesting deeper than JSON_MAX_DEPTH) is a
 * bug of the tool: it aborts rather than print broken JSON. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vdk-tool.h"

static void
bug (const char *what)
{
  fprintf (stderr, "vdk: internal error in the JSON writer: %s\n", what);
  abort ();
}

static void
indent (struct tool_json *j)
{
  for (int i = 0; i < j->depth; i++)
    fputs ("  ", j->fp);
}

/* Comma, newline and indentation before a value; its key if any. */
static void
member (struct tool_json *j, const char *key)
{
  if (j->depth == 0) {
    if (j->done || key)
      bug (key ? "a key at the top" : "two values at the top");
    j->done = true;
    return;
  }
  if ((key != NULL) != j->is_object[j->depth - 1])
    bug (key ? "a key inside an array" : "a value without key");
  fputs (j->has_member[j->depth - 1] ? ",\n" : "\n", j->fp);
  j->has_member[j->depth - 1] = true;
  indent (j);
  if (key) {
    tool_json_string (j->fp, key);
    fputs (": ", j->fp);
  }
}

void
tool_json_init (struct tool_json *j, FILE *fp)
{
  *j = (struct tool_json) { .fp = fp };
}

static void
open_container (struct tool_json *j, const char *key, bool object)
{
  member (j, key);
  if (j->depth == TOOL_JSON_MAX_DEPTH)
    bug ("nested too deep");
  fputc (object ? '{' : '[', j->fp);
  j->is_object[j->depth] = object;
  j->has_member[j->depth] = false;
  j->depth++;
}

static void
close_container (struct tool_json *j, bool object)
{
  if (j->depth == 0 || j->is_object[j->depth - 1] != object)
    bug ("an end without its begin");
  j->depth--;
  if (j->has_member[j->depth]) {
    fputc ('\n', j->fp);
    indent (j);
  }
  fputc (object ? '}' : ']', j->fp);
  if (j->depth == 0)
    fputc ('\n', j->fp);
}

void
tool_json_object (struct tool_json *j, const char *key)
{
  open_container (j, key, true);
}

void
tool_json_object_end (struct tool_json *j)
{
  close_container (j, true);
}

void
tool_json_array (struct tool_json *j, const char *key)
{
  open_container (j, key, false);
}

void
tool_json_array_end (struct tool_json *j)
{
  close_container (j, false);
}

void
tool_json_str (struct tool_json *j, const char *key, const char *value)
{
  member (j, key);
  tool_json_string (j->fp, value);
}

void
tool_json_uint (struct tool_json *j, const char *key, uint64_t value)
{
  member (j, key);
  fprintf (j->fp, "%" PRIu64, value);
}

void
tool_json_int (struct tool_json *j, const char *key, int64_t value)
{
  member (j, key);
  fprintf (j->fp, "%" PRId64, value);
}

void
tool_json_bool (struct tool_json *j, const char *key, bool value)
{
  member (j, key);
  fputs (value ? "true" : "false", j->fp);
}

void
tool_json_null (struct tool_json *j, const char *key)
{
  member (j, key);
  fputs ("null", j->fp);
}

void
tool_json_str_or_null (struct tool_json *j, const char *key,
                       const char *value)
{
  tool_json_str (j, key, value && *value ? value : NULL);
}

void
tool_json_hex32 (struct tool_json *j, const char *key, uint32_t value)
{
  member (j, key);
  fprintf (j->fp, "\"%08" PRIx32 "\"", value);
}

/* A path as the output's rule wants it (docs/json.md): absolute, with
 * symbolic links and ".." resolved when the file exists, else the
 * current folder put in front.  NULL stays null. */
void
tool_json_path (struct tool_json *j, const char *key, const char *path)
{
  char *abs = tool_abs_path (path);

  tool_json_str (j, key, abs ? abs : path);
  free (abs);
}

char *
tool_abs_path (const char *path)
{
  char *abs, *cwd;

  if (path == NULL)
    return NULL;
  /* URIs and RBD names (rbd:POOL/IMAGE) are no paths: kept as given. */
  if (strstr (path, "://") || strncasecmp (path, "rbd:", 4) == 0)
    return strdup (path);
  if ((abs = realpath (path, NULL)) == NULL) {
    if (path[0] == '/'
        || (cwd = getcwd (NULL, 0)) == NULL)
      return strdup (path);
    if (asprintf (&abs, "%s/%s", cwd, path) < 0)
      abs = NULL;
    free (cwd);
  }
  return abs;
}
