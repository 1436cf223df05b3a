/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VMDK descriptor text: a tolerant reader and a strict writer.
 *
 * Facts (docs/vmdk-format.md §1): line based, LF or CRLF;
 * '#' lines are comments (the section headings are comments too);
 * header entries `key=value` (strings quoted, CIDs bare hex); extent
 * lines `ACCESS SIZE TYPE ["FILE" [OFFSET [more fields]]]`; DDB entries
 * `ddb.key = "value"`.  VMware regenerates the file from a template on
 * every change, so the writer does the same; unknown keys and their
 * order are kept because every key is stored, not just the ones we know.
 *
 * Reader tolerance: CRLF, leading/trailing blanks, spaces around '=',
 * keyword case (RW/rw, SPARSE/sparse), a missing `# Disk DescriptorFile`
 * heading, entries in any section order.  Strictness: an extent line
 * must be well formed (unknown access or type words, non-numeric or
 * overflowing sizes, unterminated quotes are errors), version must be
 * 1..3, CID/parentCID must be hex, and a line that is neither is an
 * error naming its number.  The text is capped at VDK_DESC_MAX and
 * parsing stops at the first NUL (embedded descriptors are NUL padded).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "format/format.h"

static const char *const kind_names[VDK_EXT_KIND_COUNT_] = {
  "FLAT", "SPARSE", "ZERO", "VMFS", "VMFSSPARSE", "VMFSRDM", "VMFSRAW",
  "SESPARSE",
};
static const char *const access_names[] = { "RW", "RDONLY", "NOACCESS" };

/* Only FLAT lines carry an offset into their file (§4.1). */
bool
vdk__ext_kind_has_offset (int kind)
{
  return kind == VDK_EXT_FLAT;
}

/* VMFSRDM and VMFSRAW extents map a device by design (§4.2). */
bool
vdk__ext_kind_external (int kind)
{
  return kind == VDK_EXT_VMFSRDM || kind == VDK_EXT_VMFSRAW;
}

const char *
vdk__ext_kind_name (int kind)
{
  return kind >= 0 && kind < VDK_EXT_KIND_COUNT_ ? kind_names[kind] : "?";
}

const char *
vdk__access_name (int access)
{
  return access >= 0 && access < 3 ? access_names[access] : "?";
}

struct vdk_desc *
vdk__desc_new (void)
{
  return calloc (1, sizeof (struct vdk_desc));
}

static void
kv_free (struct vdk_desc_kv *kv, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free (kv[i].key);
    free (kv[i].value);
  }
  free (kv);
}

void
vdk__desc_free (struct vdk_desc *d)
{
  if (!d)
    return;
  kv_free (d->header, d->nheader);
  kv_free (d->ddb, d->nddb);
  for (size_t i = 0; i < d->nextents; i++) {
    free (d->extents[i].file);
    free (d->extents[i].extra);
  }
  free (d->extents);
  free (d);
}

/* Room for element n of an array that holds n: arrays grow to powers
 * of two (their capacity is implied by n: removals only shrink n), so a
 * descriptor of N lines costs O(N) copying, not O(N^2) (a 1 MiB
 * descriptor has tens of thousands of lines).  NULL when out of
 * memory. */
static void *
room_for (void *arr, size_t n, size_t elem)
{
  size_t cap;
  if (n != 0 && (n & (n - 1)) != 0)
    return arr;                   /* n is not a power of two: room left */
  cap = n < 4 ? 4 : n * 2;
  return realloc (arr, cap * elem);
}

static int
kv_append (struct vdk_desc_kv **arr, size_t *n, const char *key,
           size_t klen, const char *value, size_t vlen, bool quoted)
{
  struct vdk_desc_kv *p = room_for (*arr, *n, sizeof *p);
  if (!p)
    return -1;
  *arr = p;
  p[*n].key = strndup (key, klen);
  p[*n].value = strndup (value, vlen);
  p[*n].quoted = quoted;
  if (!p[*n].key || !p[*n].value) {
    free (p[*n].key);
    free (p[*n].value);
    return -1;
  }
  (*n)++;
  return 0;
}

static bool
is_ddb_key (const char *key, size_t klen)
{
  return klen > 4 && strncasecmp (key, "ddb.", 4) == 0;
}

struct parser {
  struct vdk_desc *d;
  unsigned lineno;
  char *err;
  size_t errlen;
};

/* A parse error: the message names the line; errno says why
 * (EFSCORRUPTED, ENOTSUP for what vdk does not know, ENOMEM). */
static int __attribute__ ((format (printf, 3, 4)))
perr_errno (struct parser *p, int errnum, const char *fmt, ...)
{
  va_list ap;
  int n = p->lineno ? snprintf (p->err, p->errlen, "descriptor line %u: ",
                                p->lineno)
    : snprintf (p->err, p->errlen, "descriptor: ");
  va_start (ap, fmt);
  if (n >= 0 && (size_t) n < p->errlen)
    vsnprintf (p->err + n, p->errlen - (size_t) n, fmt, ap);
  va_end (ap);
  errno = errnum;
  return -1;
}
#define perr(p, ...) perr_errno (p, EFSCORRUPTED, __VA_ARGS__)
#define punsup(p, ...) perr_errno (p, ENOTSUP, __VA_ARGS__)
#define poom(p) perr_errno (p, ENOMEM, "out of memory")

/* Parse a decimal uint64 token; true on success. */
static bool
parse_u64 (const char *s, size_t len, uint64_t *out)
{
  uint64_t v = 0;
  if (len == 0 || len > 20)
    return false;
  for (size_t i = 0; i < len; i++) {
    if (!isdigit ((unsigned char) s[i]))
      return false;
    if (MUL_OVERFLOW (v, 10, &v) || ADD_OVERFLOW (v, (uint64_t) (s[i] - '0'),
                                                  &v))
      return false;
  }
  *out = v;
  return true;
}

/* Next whitespace-separated token of [*s, end); NULL at the end. */
static const char *
next_token (const char **s, const char *end, size_t *len)
{
  const char *p = *s, *t;
  while (p < end && isspace ((unsigned char) *p))
    p++;
  if (p == end)
    return NULL;
  t = p;
  while (p < end && !isspace ((unsigned char) *p))
    p++;
  *len = (size_t) (p - t);
  *s = p;
  return t;
}

static int
word_index (const char *const *words, size_t n, const char *t, size_t len)
{
  for (size_t i = 0; i < n; i++)
    if (strlen (words[i]) == len && strncasecmp (words[i], t, len) == 0)
      return (int) i;
  return -1;
}

/* The part after TYPE: "FILE" [OFFSET [extra]]. */
static int
parse_extent_file (struct parser *p, struct vdk_desc_extent *e,
                   const char *s, const char *end)
{
  const char *q, *t;
  size_t len;

  while (s < end && isspace ((unsigned char) *s))
    s++;
  if (s == end) {
    if (e->kind != VDK_EXT_ZERO)
      return perr (p, "%s extent has no file name", kind_names[e->kind]);
    return 0;
  }
  if (*s != '"')
    return perr (p, "extent file name must be in double quotes");
  q = memchr (s + 1, '"', (size_t) (end - s - 1));
  if (!q)
    return perr (p, "extent file name has no closing quote");
  if (q == s + 1)
    return perr (p, "extent file name is empty");
  if (memchr (s + 1, '\0', (size_t) (q - s - 1)))
    return perr (p, "extent file name contains a NUL byte");
  if (!(e->file = strndup (s + 1, (size_t) (q - s - 1))))
    return poom (p);
  s = q + 1;
  if ((t = next_token (&s, end, &len)) != NULL) {
    if (!parse_u64 (t, len, &e->offset) || e->offset > INT64_MAX / SECTOR)
      return perr (p, "extent offset \"%.*s\" is not a valid sector number",
                   (int) MIN (len, 40), t);
    e->has_offset = true;
    while (s < end && isspace ((unsigned char) *s))
      s++;
    if (s < end && !(e->extra = strndup (s, (size_t) (end - s))))
      return poom (p);
  }
  return 0;
}

static int
parse_extent (struct parser *p, const char *s, const char *end)
{
  struct vdk_desc *d = p->d;
  struct vdk_desc_extent e = { 0 }, *arr;
  const char *t;
  size_t len;

  t = next_token (&s, end, &len);
  e.access = word_index (access_names, 3, t, len);
  if (!(t = next_token (&s, end, &len)) || !parse_u64 (t, len, &e.sectors)
      || e.sectors > INT64_MAX / SECTOR)
    return perr (p, "extent size is not a valid number of sectors");
  if (!(t = next_token (&s, end, &len)))
    return perr (p, "extent line has no type");
  e.kind = word_index (kind_names, VDK_EXT_KIND_COUNT_, t, len);
  if (e.kind < 0)
    return punsup (p, "unknown extent type \"%.*s\"", (int) MIN (len, 40), t);
  if (parse_extent_file (p, &e, s, end) == -1) {
    free (e.file);
    free (e.extra);
    return -1;
  }
  if (!(arr = room_for (d->extents, d->nextents, sizeof *arr))) {
    free (e.file);
    free (e.extra);
    return poom (p);
  }
  d->extents = arr;
  d->extents[d->nextents++] = e;
  return 0;
}

static int
parse_kv (struct parser *p, const char *s, const char *end)
{
  const char *eq = memchr (s, '=', (size_t) (end - s));
  const char *k = s, *kend, *v;
  bool quoted = false;

  if (!eq)
    return perr (p, "not a key=value or extent line: \"%.*s\"",
                 (int) MIN (end - s, 60), s);
  kend = eq;
  while (kend > k && isspace ((unsigned char) kend[-1]))
    kend--;
  if (kend == k)
    return perr (p, "entry has an empty key");
  for (const char *c = k; c < kend; c++)
    if (isspace ((unsigned char) *c) || *c == '"')
      return perr (p, "malformed key \"%.*s\"", (int) MIN (kend - k, 60), k);
  v = eq + 1;
  while (v < end && isspace ((unsigned char) *v))
    v++;
  if (v < end && *v == '"') {
    const char *q = memchr (v + 1, '"', (size_t) (end - v - 1));
    if (!q)
      return perr (p, "value of \"%.*s\" has no closing quote",
                   (int) MIN (kend - k, 60), k);
    v++, end = q, quoted = true;
  }
  if (memchr (v, '\0', (size_t) (end - v)))
    return perr (p, "value contains a NUL byte");
  if (is_ddb_key (k, (size_t) (kend - k)))
    return kv_append (&p->d->ddb, &p->d->nddb, k, (size_t) (kend - k), v,
                      (size_t) (end - v), quoted) == -1
      ? poom (p) : 0;
  return kv_append (&p->d->header, &p->d->nheader, k, (size_t) (kend - k), v,
                    (size_t) (end - v), quoted) == -1
    ? poom (p) : 0;
}

/* The grammar quotes file names and string values with '"' and has no
 * escapes; a line ends at a newline (or CR LF).  A name holding '"' or
 * a line break cannot be written so that it reads back the same; any
 * other byte (tabs, spaces, '=', control characters) stays inside the
 * quotes and reads back as written. */
bool
vdk__desc_name_ok (const char *name)
{
  return strpbrk (name, "\"\n\r") == NULL;
}

/* A key parse_kv reads back as written: not empty, no white space (\v
 * and \f are white space to it too), no control byte, no '"' and no
 * '=' (the line splits at the first '='). */
bool
vdk__desc_key_ok (const char *key)
{
  if (!*key)
    return false;
  for (const unsigned char *c = (const unsigned char *) key; *c; c++)
    if (*c <= ' ' || *c == 0x7f || *c == '"' || *c == '=')
      return false;
  return true;
}

/* A value written quoted that reads back as written (as a name). */
bool
vdk__desc_value_ok (const char *value)
{
  return vdk__desc_name_ok (value);
}

static bool
starts_with_access (const char *s, const char *end)
{
  size_t len;
  const char *t = next_token (&s, end, &len);
  return t && word_index (access_names, 3, t, len) >= 0
    && s < end;                   /* a word must follow */
}

static int
parse_line (struct parser *p, const char *s, const char *end)
{
  while (s < end && isspace ((unsigned char) *s))
    s++;
  while (end > s && isspace ((unsigned char) end[-1]))
    end--;
  if (s == end || *s == '#')
    return 0;
  /* An extent line may hold '=' inside its quoted file name (qemu
   * writes "x=y-flat.vmdk" for x=y.vmdk): only an '=' before the first
   * quote makes a key=value line. */
  if (starts_with_access (s, end)) {
    const char *eq = memchr (s, '=', (size_t) (end - s));
    const char *qt = memchr (s, '"', (size_t) (end - s));
    if (!eq || (qt && qt < eq))
      return parse_extent (p, s, end);
  }
  return parse_kv (p, s, end);
}

static int
check_header (struct parser *p)
{
  const char *v = vdk__desc_get (p->d, "version");
  static const char *const cid_keys[] = { "CID", "parentCID" };

  p->lineno = 0;
  if (!v)
    return perr (p, "no \"version\" entry: not a VMDK descriptor");
  if (strcmp (v, "1") && strcmp (v, "2") && strcmp (v, "3"))
    return punsup (p, "unsupported descriptor version \"%.20s\"", v);
  for (size_t i = 0; i < ARRAY_SIZE (cid_keys); i++) {
    const char *c = vdk__desc_get (p->d, cid_keys[i]);
    size_t n = c ? strlen (c) : 0;
    if (c && (n == 0 || n > 8 || strspn (c, "0123456789abcdefABCDEF") != n))
      return perr (p, "%s \"%.20s\" is not a 32-bit hex number",
                   cid_keys[i], c);
  }
  return 0;
}

struct vdk_desc *
vdk__desc_parse (const char *text, size_t len, char *err, size_t errlen)
{
  struct parser p = { .err = err, .errlen = errlen };
  const char *nul = memchr (text, '\0', len);
  const char *s = text, *end;

  if (nul)
    len = (size_t) (nul - text);
  if (len > VDK_DESC_MAX) {
    snprintf (err, errlen, "descriptor is larger than %u bytes",
              VDK_DESC_MAX);
    errno = EFSCORRUPTED;
    return NULL;
  }
  end = text + len;
  if (!(p.d = vdk__desc_new ())) {
    snprintf (err, errlen, "out of memory");
    errno = ENOMEM;
    return NULL;
  }
  while (s < end) {
    const char *nl = memchr (s, '\n', (size_t) (end - s));
    const char *le = nl ? nl : end;
    p.lineno++;
    if (parse_line (&p, s, le) == -1)
      goto fail;
    s = nl ? nl + 1 : end;
  }
  if (check_header (&p) == -1)
    goto fail;
  return p.d;
fail:
  vdk__desc_free (p.d);
  return NULL;
}

/* ---- writer ---- */

struct sbuf {
  char *s;
  size_t len, cap;
  bool oom;
};

static void __attribute__ ((format (printf, 2, 3)))
sb_printf (struct sbuf *b, const char *fmt, ...)
{
  va_list ap;
  int n;
  if (b->oom)
    return;
  for (;;) {
    va_start (ap, fmt);
    n = vsnprintf (b->s + b->len, b->cap - b->len, fmt, ap);
    va_end (ap);
    if (n < 0) {
      b->oom = true;
      return;
    }
    if ((size_t) n < b->cap - b->len)
      break;
    size_t cap = (b->cap + (size_t) n + 1) * 2;
    char *p = realloc (b->s, cap);
    if (!p) {
      b->oom = true;
      return;
    }
    b->s = p, b->cap = cap;
  }
  b->len += (size_t) n;
}

static void
write_kv (struct sbuf *b, const struct vdk_desc_kv *kv, const char *sep)
{
  if (kv->quoted)
    sb_printf (b, "%s%s\"%s\"\n", kv->key, sep, kv->value);
  else
    sb_printf (b, "%s%s%s\n", kv->key, sep, kv->value);
}

char *
vdk__desc_format (const struct vdk_desc *d)
{
  struct sbuf b = { .s = malloc (1024), .cap = 1024 };
  if (!b.s)
    return NULL;
  b.s[0] = 0;
  sb_printf (&b, "# Disk DescriptorFile\n");
  for (size_t i = 0; i < d->nheader; i++)
    write_kv (&b, &d->header[i], "=");
  sb_printf (&b, "\n# Extent description\n");
  for (size_t i = 0; i < d->nextents; i++) {
    const struct vdk_desc_extent *e = &d->extents[i];
    sb_printf (&b, "%s %" PRIu64 " %s", access_names[e->access], e->sectors,
               kind_names[e->kind]);
    if (e->file)
      sb_printf (&b, " \"%s\"", e->file);
    if (e->file && e->has_offset)
      sb_printf (&b, " %" PRIu64, e->offset);
    if (e->file && e->has_offset && e->extra)
      sb_printf (&b, " %s", e->extra);
    sb_printf (&b, "\n");
  }
  sb_printf (&b, "\n# The Disk Data Base \n#DDB\n\n");
  for (size_t i = 0; i < d->nddb; i++)
    write_kv (&b, &d->ddb[i], " = ");
  if (b.oom) {
    free (b.s);
    return NULL;
  }
  return b.s;
}

/* ---- accessors ---- */

static struct vdk_desc_kv *
find_kv (const struct vdk_desc *d, const char *key, struct vdk_desc_kv **arr,
         size_t **n)
{
  bool ddb = is_ddb_key (key, strlen (key));
  struct vdk_desc_kv *a = ddb ? d->ddb : d->header;
  size_t cnt = ddb ? d->nddb : d->nheader;
  if (arr) {
    struct vdk_desc *dd = (struct vdk_desc *) d;
    *arr = a;
    *n = ddb ? &dd->nddb : &dd->nheader;
  }
  for (size_t i = 0; i < cnt; i++)
    if (strcasecmp (a[i].key, key) == 0)
      return &a[i];
  return NULL;
}

const char *
vdk__desc_get (const struct vdk_desc *d, const char *key)
{
  struct vdk_desc_kv *kv = find_kv (d, key, NULL, NULL);
  return kv ? kv->value : NULL;
}

int
vdk__desc_set (struct vdk_desc *d, const char *key, const char *value,
               bool quoted)
{
  struct vdk_desc_kv *kv = find_kv (d, key, NULL, NULL);
  if (kv) {
    char *v = strdup (value);
    if (!v)
      return -1;
    free (kv->value);
    kv->value = v;
    return 0;
  }
  if (is_ddb_key (key, strlen (key)))
    return kv_append (&d->ddb, &d->nddb, key, strlen (key), value,
                      strlen (value), quoted);
  return kv_append (&d->header, &d->nheader, key, strlen (key), value,
                    strlen (value), quoted);
}

int
vdk__desc_remove (struct vdk_desc *d, const char *key)
{
  struct vdk_desc_kv *arr;
  size_t *n;
  struct vdk_desc_kv *kv = find_kv (d, key, &arr, &n);
  if (!kv)
    return -1;
  free (kv->key);
  free (kv->value);
  memmove (kv, kv + 1, (size_t) (arr + *n - kv - 1) * sizeof *kv);
  (*n)--;
  return 0;
}

int
vdk__desc_add_extent (struct vdk_desc *d, int access, uint64_t sectors,
                      int kind, const char *file, uint64_t offset,
                      bool has_offset)
{
  struct vdk_desc_extent *arr = room_for (d->extents, d->nextents,
                                          sizeof *arr);
  if (!arr)
    return -1;
  d->extents = arr;
  arr[d->nextents] = (struct vdk_desc_extent) {
    .access = access, .sectors = sectors, .kind = kind,
    .file = file ? strdup (file) : NULL, .offset = offset,
    .has_offset = has_offset,
  };
  if (file && !arr[d->nextents].file)
    return -1;
  d->nextents++;
  return 0;
}

uint32_t
vdk__desc_cid (const struct vdk_desc *d, const char *key)
{
  const char *v = vdk__desc_get (d, key);
  return v ? (uint32_t) strtoul (v, NULL, 16) : UINT32_MAX;
}

void
vdk__desc_set_cid (struct vdk_desc *d, const char *key, uint32_t cid)
{
  char buf[16];
  snprintf (buf, sizeof buf, "%08x", cid);
  vdk__desc_set (d, key, buf, false);
}
