/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The LVM2 text metadata format, parsed into a small tree.
 *
 * Format facts (lvm2 lib/format_text/import_vsn1.c, config.c; libvslvm
 * documentation; docs/volumes-format.md §3):
 *   file    := item*
 *   item    := key '=' value | key '{' item* '}'
 *   value   := integer | "string" | '[' [value (',' value)*] ']'
 * Keys are identifiers (letters, digits, '_', '.', '-', '+'); strings
 * use C-style backslash escapes for '"' and '\'; '#' starts a comment
 * to the end of the line.  The text that LVM writes on disk is compact
 * (no indentation) but tools and vgcfgbackup files are indented; both
 * are accepted.  Floating-point values (e.g. "version = 1.0" in some
 * hand-written files) are kept as strings.
 *
 * Limits: nesting deeper than MAX_DEPTH is refused (LVM writes five
 * levels), so recursion is bounded; every node consumes at least one
 * byte of input, so the tree is bounded by the text size, which the
 * caller caps.  Errors name the line. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mount-internal.h"

#define MAX_DEPTH 16

struct lexer {
  const char *p, *end;
  int line;
};

static void
skip_space (struct lexer *lx)
{
  while (lx->p < lx->end) {
    char c = *lx->p;
    if (c == '\n')
      lx->line++;
    if (c == '#') {
      while (lx->p < lx->end && *lx->p != '\n')
        lx->p++;
      continue;
    }
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
      return;
    lx->p++;
  }
}

static bool
is_ident (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
    || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'
    || c == '+';
}

static int
fail (struct lexer *lx, const char *what)
{
  return vdk__err (EFSCORRUPTED, "LVM metadata line %d: %s%s", lx->line, what,
                   lx->p >= lx->end ? " (text ends early: truncated?)" : "");
}

static char *
take_ident (struct lexer *lx)
{
  const char *s = lx->p;

  while (lx->p < lx->end && is_ident (*lx->p))
    lx->p++;
  if (lx->p == s) {
    fail (lx, "name expected");
    return NULL;
  }
  return strndup (s, (size_t) (lx->p - s));
}

static char *
take_string (struct lexer *lx)
{
  const char *s = ++lx->p;           /* after the opening quote */
  char *out, *o;

  while (lx->p < lx->end && *lx->p != '"') {
    if (*lx->p == '\\' && lx->p + 1 < lx->end)
      lx->p++;
    if (*lx->p == '\n')
      lx->line++;
    lx->p++;
  }
  if (lx->p >= lx->end) {
    fail (lx, "unterminated string");
    return NULL;
  }
  out = o = malloc ((size_t) (lx->p - s) + 1);
  if (!out) {
    vdk__err (ENOMEM, "out of memory");
    return NULL;
  }
  for (const char *q = s; q < lx->p; q++) {
    if (*q == '\\' && q + 1 < lx->p)
      q++;
    *o++ = *q;
  }
  *o = 0;
  lx->p++;                           /* closing quote */
  return out;
}

static struct vdk__vol_lv *
new_node (int type)
{
  struct vdk__vol_lv *n = calloc (1, sizeof *n);

  if (!n)
    vdk__err (ENOMEM, "out of memory");
  else
    n->type = type;
  return n;
}

/* A scalar: integer, string, or a bare word kept as a string. */
static struct vdk__vol_lv *
parse_scalar (struct lexer *lx)
{
  struct vdk__vol_lv *n = new_node (VOL_LV_STR);
  const char *s = lx->p;
  char *endp;

  if (!n)
    return NULL;
  if (lx->p < lx->end && *lx->p == '"')
    n->str = take_string (lx);
  else
    n->str = take_ident (lx);
  if (!n->str) {
    free (n);
    return NULL;
  }
  if (*s != '"' && n->str[0]) {
    errno = 0;
    long long v = strtoll (n->str, &endp, 10);
    if (*endp == 0 && errno == 0) {
      n->type = VOL_LV_INT;
      n->num = v;
    }
  }
  return n;
}

static struct vdk__vol_lv *
parse_list (struct lexer *lx)
{
  struct vdk__vol_lv *list = new_node (VOL_LV_LIST), **tail;

  if (!list)
    return NULL;
  tail = &list->child;
  lx->p++;                           /* '[' */
  for (;;) {
    skip_space (lx);
    if (lx->p >= lx->end) {
      fail (lx, "unterminated list");
      goto err;
    }
    if (*lx->p == ']') {
      lx->p++;
      return list;
    }
    if (list->child) {
      if (*lx->p != ',') {
        fail (lx, "',' or ']' expected in a list");
        goto err;
      }
      lx->p++;
      skip_space (lx);
    }
    if (!(*tail = parse_scalar (lx)))
      goto err;
    tail = &(*tail)->next;
  }
 err:
  vdk__vol_lvtext_free (list);
  return NULL;
}

static int parse_items (struct lexer *lx, struct vdk__vol_lv *sec, int depth);

static struct vdk__vol_lv *
parse_item (struct lexer *lx, int depth)
{
  struct vdk__vol_lv *n = NULL;
  char *key = take_ident (lx);

  if (!key)
    return NULL;
  skip_space (lx);
  if (lx->p < lx->end && *lx->p == '{') {
    lx->p++;
    if (depth >= MAX_DEPTH) {
      fail (lx, "sections nested too deeply");
      goto err;
    }
    if (!(n = new_node (VOL_LV_SECTION)) || parse_items (lx, n, depth + 1))
      goto err;
    if (lx->p >= lx->end || *lx->p != '}') {
      fail (lx, "'}' expected");
      goto err;
    }
    lx->p++;
  }
  else if (lx->p < lx->end && *lx->p == '=') {
    lx->p++;
    skip_space (lx);
    if (lx->p >= lx->end) {
      fail (lx, "value expected");
      goto err;
    }
    n = *lx->p == '[' ? parse_list (lx) : parse_scalar (lx);
    if (!n)
      goto err;
  }
  else {
    fail (lx, "'=' or '{' expected after a name");
    goto err;
  }
  n->key = key;
  return n;
 err:
  free (key);
  vdk__vol_lvtext_free (n);
  return NULL;
}

/* Items until '}' or the end of the text. */
static int
parse_items (struct lexer *lx, struct vdk__vol_lv *sec, int depth)
{
  struct vdk__vol_lv **tail = &sec->child;

  for (;;) {
    skip_space (lx);
    if (lx->p >= lx->end || *lx->p == '}')
      return 0;
    if (!(*tail = parse_item (lx, depth)))
      return -1;
    tail = &(*tail)->next;
  }
}

struct vdk__vol_lv *
vdk__vol_lvtext_parse (const char *text, size_t len)
{
  const char *nul = memchr (text, 0, len);
  struct lexer lx = { text, nul ? nul : text + len, 1 };
  struct vdk__vol_lv *root = new_node (VOL_LV_SECTION);

  if (!root)
    return NULL;
  if (parse_items (&lx, root, 0) == -1) {
    vdk__vol_lvtext_free (root);
    return NULL;
  }
  if (lx.p < lx.end) {
    fail (&lx, "unexpected '}'");
    vdk__vol_lvtext_free (root);
    return NULL;
  }
  return root;
}

void
vdk__vol_lvtext_free (struct vdk__vol_lv *n)
{
  while (n) {
    struct vdk__vol_lv *next = n->next;
    vdk__vol_lvtext_free (n->child);
    free (n->key);
    free (n->str);
    free (n);
    n = next;
  }
}

const struct vdk__vol_lv *
vdk__vol_lv_get (const struct vdk__vol_lv *sec, const char *key)
{
  if (!sec || sec->type != VOL_LV_SECTION)
    return NULL;
  for (const struct vdk__vol_lv *c = sec->child; c; c = c->next)
    if (c->key && strcmp (c->key, key) == 0)
      return c;
  return NULL;
}

const char *
vdk__vol_lv_str (const struct vdk__vol_lv *sec, const char *key)
{
  const struct vdk__vol_lv *n = vdk__vol_lv_get (sec, key);

  return n && n->type == VOL_LV_STR ? n->str : NULL;
}

int64_t
vdk__vol_lv_int (const struct vdk__vol_lv *sec, const char *key)
{
  const struct vdk__vol_lv *n = vdk__vol_lv_get (sec, key);

  return n && n->type == VOL_LV_INT && n->num >= 0 ? n->num : -1;
}

bool
vdk__vol_lv_has_flag (const struct vdk__vol_lv *sec, const char *key, const char *flag)
{
  const struct vdk__vol_lv *n = vdk__vol_lv_get (sec, key);

  if (!n || n->type != VOL_LV_LIST)
    return false;
  for (const struct vdk__vol_lv *c = n->child; c; c = c->next)
    if (c->type == VOL_LV_STR && strcmp (c->str, flag) == 0)
      return true;
  return false;
}
