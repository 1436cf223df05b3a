/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Untrusted text on its way out: terminals and JSON.
 *
 * Descriptor values, extent and parent names, file-system labels and
 * partition names come from the disk, that is from whoever made it.
 * Printed as they are, an escape sequence in a label rewrites the
 * user's terminal (title, colours, a fake prompt) and a byte that is
 * not UTF-8 makes `--json` output that parsers reject.  So:
 * - text output goes through tool_safe(): control characters (C0, DEL,
 *   and C1 as UTF-8 encodes them, U+0080..U+009F) and bytes that are
 *   not valid UTF-8 become "\xHH"; a backslash becomes "\\" so the
 *   escapes cannot be forged;
 * - JSON strings go through tool_json_string(): valid UTF-8 passes,
 *   control characters are \u escapes, and every byte of an invalid
 *   sequence becomes U+FFFD, so the output is always valid UTF-8 JSON.
 * Valid UTF-8 is what RFC 3629 allows: no overlong forms, no surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF. */
#include <stdlib.h>
#include <string.h>

#include "vdk-tool.h"

/* Length of the valid UTF-8 sequence at p (1..4), 0 if invalid; *cp
 * gets the code point. */
static int
utf8_seq (const unsigned char *p, uint32_t *cp)
{
  int n;
  uint32_t c, min;

  if (p[0] < 0x80) {
    *cp = p[0];
    return 1;
  }
  if (p[0] >= 0xC2 && p[0] <= 0xDF)
    n = 2, c = p[0] & 0x1F, min = 0x80;
  else if (p[0] >= 0xE0 && p[0] <= 0xEF)
    n = 3, c = p[0] & 0x0F, min = 0x800;
  else if (p[0] >= 0xF0 && p[0] <= 0xF4)
    n = 4, c = p[0] & 0x07, min = 0x10000;
  else
    return 0;
  for (int i = 1; i < n; i++) {
    if ((p[i] & 0xC0) != 0x80)     /* also stops at the NUL */
      return 0;
    c = (c << 6) | (p[i] & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
    return 0;
  *cp = c;
  return n;
}

static bool
is_control (uint32_t c)
{
  return c < 0x20 || (c >= 0x7F && c <= 0x9F);
}

/* Does s need escaping for a terminal? */
static bool
needs_escape (const unsigned char *p)
{
  uint32_t c;
  int n;

  for (; *p; p += n)
    if (*p == '\\' || (n = utf8_seq (p, &c)) == 0 || is_control (c))
      return true;
  return false;
}

const char *
tool_safe (const char *s)
{
  /* A ring of results: a printf may take several. */
  static char *ring[8];
  static unsigned next;
  const unsigned char *p = (const unsigned char *) s;
  char *out, *o;

  if (!s || !needs_escape (p))
    return s;
  out = malloc (strlen (s) * 4 + 1);
  if (!out)
    return "(unprintable)";
  for (o = out; *p;) {
    uint32_t c;
    int n = utf8_seq (p, &c);
    if (*p == '\\') {
      *o++ = '\\', *o++ = '\\';
      p++;
    } else if (n == 0 || is_control (c)) {
      for (int i = 0; i < (n ? n : 1); i++)
        o += sprintf (o, "\\x%02X", p[i]);
      p += n ? n : 1;
    } else {
      memcpy (o, p, (size_t) n);
      o += n, p += n;
    }
  }
  *o = 0;
  free (ring[next % 8]);
  ring[next++ % 8] = out;
  return out;
}

void
tool_json_string (FILE *fp, const char *s)
{
  const unsigned char *p = (const unsigned char *) s;

  if (s == NULL) {
    fputs ("null", fp);
    return;
  }
  putc ('"', fp);
  while (*p) {
    uint32_t c;
    int n = utf8_seq (p, &c);
    if (n == 0) {
      fputs ("\\ufffd", fp);        /* one per invalid byte */
      p++;
      continue;
    }
    switch (c) {
    case '"': fputs ("\\\"", fp); break;
    case '\\': fputs ("\\\\", fp); break;
    case '\n': fputs ("\\n", fp); break;
    case '\r': fputs ("\\r", fp); break;
    case '\t': fputs ("\\t", fp); break;
    default:
      if (is_control (c))
        fprintf (fp, "\\u%04x", (unsigned) c);
      else
        fwrite (p, 1, (size_t) n, fp);
    }
    p += n;
  }
  putc ('"', fp);
}
