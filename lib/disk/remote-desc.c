/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The export description of a vdk server, read back into a descriptor.
 *
 * plugins/nbdkit/describe.c writes one JSON object (its layout is
 * described there).  The text comes from the network, so this reader
 * takes nothing on trust: at most 4096 bytes (the protocol's limit on
 * strings), objects nested at most MAX_DEPTH deep, strings at most
 * their input's length, numbers checked against their range before
 * use, every syntax error an error.  It understands exactly JSON's
 * grammar (objects, arrays, strings with escapes, numbers, true, false,
 * null) and keeps only the members vdk wrote; others are skipped, so a
 * newer server's additions are harmless.
 *
 * What it keeps becomes a struct vdk_desc, the same the descriptor
 * parser makes: header keys createType, CID, parentCID,
 * parentFileNameHint, and every "ddb.*" member of "ddb".  The calls
 * that read metadata (vdk_get_info, vdk_meta_get, vdk_meta_keys) then
 * work on a remote disk as on a local one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "disk/disk.h"

#define DESC_MAX 4096
#define MAX_DEPTH 4

struct json {
  const char *p, *end;
  struct vdk__remote *r;
  bool is_vdk;
  const char *why;
};

static void
skip_ws (struct json *j)
{
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n'
                           || *j->p == '\r'))
    j->p++;
}

static bool
fail (struct json *j, const char *why)
{
  if (!j->why)
    j->why = why;
  return false;
}

static bool
lit (struct json *j, const char *word)
{
  size_t n = strlen (word);
  if ((size_t) (j->end - j->p) < n || memcmp (j->p, word, n) != 0)
    return fail (j, "unexpected text");
  j->p += n;
  return true;
}

static int
hexval (char c)
{
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
    : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A string into out (malloc'd, NUL-terminated; \u escapes of the BMP
 * become UTF-8, a NUL is refused). */
static bool
str (struct json *j, char **out)
{
  char *s, *o;
  if (j->p >= j->end || *j->p != '"')
    return fail (j, "expected a string");
  j->p++;
  if (!(s = o = malloc (j->end - j->p + 1)))
    return fail (j, "out of memory");
  while (j->p < j->end && *j->p != '"') {
    unsigned char c = *j->p++;
    if (c < 0x20)
      goto bad;
    if (c != '\\') {
      *o++ = c;
      continue;
    }
    if (j->p >= j->end)
      goto bad;
    c = *j->p++;
    switch (c) {
    case '"': case '\\': case '/': *o++ = c; break;
    case 'b': *o++ = '\b'; break;
    case 'f': *o++ = '\f'; break;
    case 'n': *o++ = '\n'; break;
    case 'r': *o++ = '\r'; break;
    case 't': *o++ = '\t'; break;
    case 'u': {
      unsigned v = 0;
      for (int k = 0; k < 4; k++) {
        int h = j->p < j->end ? hexval (*j->p++) : -1;
        if (h < 0)
          goto bad;
        v = v << 4 | h;
      }
      if (v == 0 || (v >= 0xd800 && v <= 0xdfff))
        goto bad;                    /* NUL, or half a surrogate pair */
      if (v < 0x80)
        *o++ = v;
      else if (v < 0x800) {
        *o++ = 0xc0 | v >> 6;
        *o++ = 0x80 | (v & 0x3f);
      } else {
        *o++ = 0xe0 | v >> 12;
        *o++ = 0x80 | ((v >> 6) & 0x3f);
        *o++ = 0x80 | (v & 0x3f);
      }
      break;
    }
    default:
      goto bad;
    }
  }
  if (j->p >= j->end)
    goto bad;
  j->p++;
  *o = '\0';
  *out = s;
  return true;
bad:
  free (s);
  return fail (j, "bad string");
}

/* A non-negative integer up to UINT32_MAX (every number vdk writes but
 * the capacity, which the export's size gives anyway).  Other numbers
 * are skipped: *ok tells whether out was set. */
static bool
num (struct json *j, uint64_t *out, bool *ok)
{
  const char *start = j->p;
  uint64_t v = 0;
  *ok = true;
  if (j->p < j->end && *j->p == '-')
    j->p++, *ok = false;
  if (j->p >= j->end || *j->p < '0' || *j->p > '9')
    return fail (j, "bad number");
  while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
    if (MUL_OVERFLOW (v, 10, &v) || ADD_OVERFLOW (v, *j->p - '0', &v))
      *ok = false;
    j->p++;
  }
  while (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E'
                           || *j->p == '+' || *j->p == '-'
                           || (*j->p >= '0' && *j->p <= '9')))
    j->p++, *ok = false;
  if (j->p == start)
    return fail (j, "bad number");
  *out = v;
  return true;
}

static bool value (struct json *j, int depth, const char *parent,
                   const char *key);

/* Keep one member of the top object or of "ddb". */
static bool
keep_string (struct json *j, const char *parent, const char *key,
             const char *v)
{
  struct vdk_desc *d = j->r->desc;
  int r = 0;
  /* What a descriptor line cannot hold is dropped, not mangled. */
  if (!vdk__desc_value_ok (v))
    return true;
  if (parent && strcmp (parent, "ddb") == 0) {
    if (strncmp (key, "ddb.", 4) == 0 && key[4] && vdk__desc_key_ok (key))
      r = vdk__desc_set (d, key, v, true);
  } else if (!parent && strcmp (key, "type") == 0)
    r = vdk__desc_set (d, "createType", v, true);
  else if (!parent && strcmp (key, "parent_hint") == 0)
    r = vdk__desc_set (d, "parentFileNameHint", v, true);
  return r == -1 ? fail (j, "out of memory") : true;
}

static bool
keep_number (struct json *j, const char *parent, const char *key,
             uint64_t v)
{
  char hex[16];
  if (parent)
    return true;
  if (strcmp (key, "vdk") == 0)
    j->is_vdk = v == 1;
  else if ((strcmp (key, "cid") == 0 || strcmp (key, "parent_cid") == 0)
           && v <= UINT32_MAX) {
    snprintf (hex, sizeof hex, "%08" PRIx32, (uint32_t) v);
    if (vdk__desc_set (j->r->desc, key[0] == 'c' ? "CID" : "parentCID", hex,
                       false) == -1)
      return fail (j, "out of memory");
  } else if (strcmp (key, "links") == 0 && v >= 1 && v <= 65536)
    j->r->links = v;
  else if (strcmp (key, "grain_sectors") == 0 && v <= UINT32_MAX)
    j->r->grain_sectors = v;
  else if (strcmp (key, "physical_sector_size") == 0
           && (v == 512 || v == 4096))
    j->r->physical_sector_size = v;
  return true;
}

static bool
object (struct json *j, int depth, const char *name)
{
  j->p++;                              /* '{' */
  skip_ws (j);
  if (j->p < j->end && *j->p == '}') {
    j->p++;
    return true;
  }
  for (;;) {
    CLEANUP_FREE char *key = NULL;
    bool ok;
    skip_ws (j);
    if (!str (j, &key))
      return false;
    skip_ws (j);
    if (j->p >= j->end || *j->p++ != ':')
      return fail (j, "expected ':'");
    skip_ws (j);
    ok = value (j, depth + 1, name, key);
    if (!ok)
      return false;
    skip_ws (j);
    if (j->p < j->end && *j->p == ',') {
      j->p++;
      continue;
    }
    if (j->p < j->end && *j->p == '}') {
      j->p++;
      return true;
    }
    return fail (j, "expected ',' or '}'");
  }
}

static bool
array (struct json *j, int depth)
{
  j->p++;                              /* '[' */
  skip_ws (j);
  if (j->p < j->end && *j->p == ']') {
    j->p++;
    return true;
  }
  for (;;) {
    skip_ws (j);
    if (!value (j, depth + 1, "[]", ""))
      return false;
    skip_ws (j);
    if (j->p < j->end && *j->p == ',') {
      j->p++;
      continue;
    }
    if (j->p < j->end && *j->p == ']') {
      j->p++;
      return true;
    }
    return fail (j, "expected ',' or ']'");
  }
}

/* A value; parent is NULL for members of the top object, else the
 * name of the enclosing member. */
static bool
value (struct json *j, int depth, const char *parent, const char *key)
{
  uint64_t v;
  bool ok;
  char *s;

  if (depth > MAX_DEPTH)
    return fail (j, "nested too deep");
  if (j->p >= j->end)
    return fail (j, "truncated");
  switch (*j->p) {
  case '{':
    return object (j, depth, parent ? "" : key);
  case '[':
    return array (j, depth);
  case '"':
    if (!str (j, &s))
      return false;
    ok = keep_string (j, parent, key, s);
    free (s);
    return ok;
  case 't': return lit (j, "true");
  case 'f': return lit (j, "false");
  case 'n': return lit (j, "null");
  default:
    if (!num (j, &v, &ok))
      return false;
    return ok ? keep_number (j, parent, key, v) : true;
  }
}

int
vdk__remote_parse (const char *text, size_t len, struct vdk__remote *r)
{
  struct json j = { .p = text, .end = text + len, .r = r };

  if (len > DESC_MAX)
    return vdk__err (EFSCORRUPTED, "export description of %zu bytes (at "
                     "most %d)", len, DESC_MAX);
  /* A descriptor like any other, so its text parses (fuzz target). */
  if (!(r->desc = vdk__desc_new ())
      || vdk__desc_set (r->desc, "version", "1", false) == -1) {
    vdk__desc_free (r->desc);
    r->desc = NULL;
    return vdk__err (ENOMEM, "out of memory");
  }
  skip_ws (&j);
  if (j.p >= j.end || *j.p != '{')
    j.why = "not a JSON object";
  else if (object (&j, 0, NULL)) {
    skip_ws (&j);
    if (j.p != j.end)
      j.why = "text after the object";
    else if (!j.is_vdk)
      j.why = "not a vdk description";
  }
  if (j.why) {
    vdk__desc_free (r->desc);
    r->desc = NULL;
    return vdk__err (EFSCORRUPTED, "export description: %s at byte %zu",
                     j.why, (size_t) (j.p - text));
  }
  return 0;
}
