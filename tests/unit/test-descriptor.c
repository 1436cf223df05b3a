/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: the descriptor reader (tolerant) and writer (strict). */
#include "tap.h"
#include "ops/ops.h"

static const char sample[] =
  "# Disk DescriptorFile\r\n"
  "version=1\r\n"
  "encoding=\"UTF-8\"\r\n"
  "CID=fffffffe\r\n"
  "parentCID=ffffffff\r\n"
  "isNativeSnapshot=\"no\"\r\n"
  "createType=\"twoGbMaxExtentFlat\"\r\n"
  "\r\n"
  "# Extent description\r\n"
  "RW 4192256 FLAT \"my disk-f001.vmdk\" 0\r\n"
  "rdonly 100 flat \"b.vmdk\" 7 extra fields here\r\n"
  "NOACCESS 50 ZERO\r\n"
  "\r\n"
  "# The Disk Data Base \r\n"
  "#DDB\r\n"
  "\r\n"
  "ddb.adapterType = \"lsilogic\"\r\n"
  "ddb.toolsInstallType = \"4\"\r\n"
  "  ddb.uuid=\"60 00 C2 93\"  \r\n";

static struct vdk_desc *
parse (const char *t, char *err)
{
  return vdk__desc_parse (t, strlen (t), err, 256);
}

static void
test_parse_sample (void)
{
  char err[256];
  struct vdk_desc *d = parse (sample, err);
  ok (d != NULL, "sample parses (%s)", d ? "ok" : err);
  if (!d)
    return;
  is_int (d->nextents, 3, "three extents");
  is_str (d->extents[0].file, "my disk-f001.vmdk", "quoted name with space");
  is_int (d->extents[0].sectors, 4192256, "extent size");
  is_int (d->extents[1].access, VDK_ACCESS_RDONLY, "lower-case access word");
  is_int (d->extents[1].offset, 7, "offset kept");
  is_str (d->extents[1].extra, "extra fields here", "extra fields kept");
  is_int (d->extents[2].kind, VDK_EXT_ZERO, "ZERO extent");
  ok (d->extents[2].file == NULL, "ZERO has no file");
  is_int (vdk__desc_cid (d, "CID"), 0xfffffffe, "CID hex");
  is_str (vdk__desc_get (d, "ddb.uuid"), "60 00 C2 93", "ddb without spaces");
  is_str (vdk__desc_get (d, "createType"), "twoGbMaxExtentFlat", "createType");
  is_str (vdk__desc_get (d, "ddb.toolsInstallType"), "4", "unknown ddb kept");
  vdk__desc_free (d);
}

static void
test_round_trip (void)
{
  char err[256];
  struct vdk_desc *d = parse (sample, err), *d2;
  char *t, *t2;
  if (!d)
    return;
  t = vdk__desc_format (d);
  d2 = parse (t, err);
  ok (d2 != NULL, "formatted text parses again");
  t2 = d2 ? vdk__desc_format (d2) : NULL;
  is_str (t2, t, "writer output is a fixed point");
  ok (strstr (t, "encoding=\"UTF-8\"\nCID=fffffffe\nparentCID=ffffffff\n"
              "isNativeSnapshot=\"no\"\n") != NULL,
      "header keys keep their order and quoting");
  ok (strstr (t, "ddb.adapterType = \"lsilogic\"\nddb.toolsInstallType = "
              "\"4\"\n") != NULL, "ddb keys keep their order");
  ok (strstr (t, "RDONLY 100 FLAT \"b.vmdk\" 7 extra fields here\n") != NULL,
      "extent written canonically");
  ok (strstr (t, "NOACCESS 50 ZERO\n") != NULL, "ZERO extent written");
  free (t);
  free (t2);
  vdk__desc_free (d);
  vdk__desc_free (d2);
}

static void
test_set_and_remove (void)
{
  char err[256];
  struct vdk_desc *d = parse ("version=1\nCID=1\nRW 8 SPARSE \"x.vmdk\"\n",
                              err);
  char *t;
  if (!ok (d != NULL, "minimal descriptor parses"))
    return;
  vdk__desc_set_cid (d, "CID", 0xabc);
  vdk__desc_set (d, "ddb.comment", "hi", true);
  is_str (vdk__desc_get (d, "CID"), "00000abc", "CID written as 8 hex digits");
  is_str (vdk__desc_get (d, "DDB.COMMENT"), "hi", "lookup ignores case");
  ok (vdk__desc_remove (d, "ddb.comment") == 0
      && !vdk__desc_get (d, "ddb.comment"), "remove");
  t = vdk__desc_format (d);
  ok (strstr (t, "CID=00000abc\n") != NULL, "updated CID in text");
  free (t);
  vdk__desc_free (d);
}

static void
test_errors (void)
{
  static const struct { const char *text, *want; } bad[] = {
    { "CID=1\nRW 8 SPARSE \"x\"\n", "no \"version\"" },
    { "version=9\n", "unsupported descriptor version" },
    { "version=1\nRW x SPARSE \"a\"\n", "not a valid number" },
    { "version=1\nRW 8 SPARSY \"a\"\n", "unknown extent type" },
    { "version=1\nRW 8 SPARSE a\n", "double quotes" },
    { "version=1\nRW 8 SPARSE \"a\n", "no closing quote" },
    { "version=1\nRW 8 FLAT\n", "no file name" },
    { "version=1\nRW 8 SPARSE \"\"\n", "empty" },
    { "version=1\nRW 99999999999999999999 FLAT \"a\"\n", "not a valid" },
    { "version=1\nRW 18014398509481984 FLAT \"a\"\n", "not a valid" },
    { "version=1\nRW 8 FLAT \"a\" x\n", "offset" },
    { "version=1\nCID=xyz\n", "CID" },
    { "version=1\nparentCID=123456789\n", "parentCID" },
    { "version=1\nhello world\n", "line 2" },
    { "version=1\ncreateType=\"abc\n", "closing quote" },
    { "version=1\n=3\n", "empty key" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++) {
    char err[256] = "";
    struct vdk_desc *d = parse (bad[i].text, err);
    ok (d == NULL && strstr (err, bad[i].want) != NULL,
        "rejects bad input %zu: \"%s\" (want \"%s\")", i, err, bad[i].want);
    vdk__desc_free (d);
  }
}

static void
test_limits (void)
{
  char err[256];
  size_t n = VDK_DESC_MAX + 10;
  char *big = malloc (n);
  struct vdk_desc *d;
  memset (big, '#', n);
  d = vdk__desc_parse (big, n, err, sizeof err);
  ok (d == NULL && strstr (err, "larger than"), "oversized text refused");
  free (big);
  d = vdk__desc_parse ("version=1\nRW 8 FLAT \"a\" 0\n\0RW garbage", 38, err,
                       sizeof err);
  ok (d && d->nextents == 1, "parsing stops at the first NUL");
  vdk__desc_free (d);
}

/* Names the grammar can and cannot hold (issue 9, defect 10). */
static void
test_names (void)
{
  char err[256];
  static const char qemu[] =
    "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n"
    "createType=\"monolithicFlat\"\nRW 2048 FLAT \"x=y-flat.vmdk\" 0\n";
  struct vdk_desc *d = vdk__desc_parse (qemu, sizeof qemu - 1, err,
                                        sizeof err);
  char *text;

  ok (d && d->nextents == 1 && strcmp (d->extents[0].file, "x=y-flat.vmdk")
      == 0, "qemu's extent name with '=' reads as an extent (%s)",
      d ? "" : err);
  text = d ? vdk__desc_format (d) : NULL;
  ok (text && strstr (text, "\"x=y-flat.vmdk\""), "and is written back");
  free (text);
  vdk__desc_free (d);
  d = vdk__desc_parse ("version=1\nRW = 5\n", 18, err, sizeof err);
  ok (d && d->nextents == 0 && vdk__desc_get (d, "RW")
      && strcmp (vdk__desc_get (d, "RW"), "5") == 0,
      "\"RW = 5\" is still a key=value line");
  vdk__desc_free (d);
  ok (vdk__desc_name_ok ("a=b-flat.vmdk") && vdk__desc_name_ok ("sp ace"),
      "'=' and spaces are representable");
  ok (!vdk__desc_name_ok ("a\"b.vmdk") && !vdk__desc_name_ok ("a\nb.vmdk")
      && !vdk__desc_name_ok ("a\rb"), "quotes and line breaks are not");
  ok (vdk__desc_name_ok ("t\tab\x1b[2J.vmdk"),
      "tabs and other control characters stay inside the quotes");
}

int
main (void)
{
  test_names ();
  test_parse_sample ();
  test_round_trip ();
  test_set_and_remove ();
  test_errors ();
  test_limits ();
  return tap_done ();
}
