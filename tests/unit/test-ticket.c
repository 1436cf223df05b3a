/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ticket file format (common/vdk-ticket.h): ids are exactly 64
 * lowercase hex digits (anything else could name another file), a
 * file round-trips, and damaged files grant nothing. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "vdk-ticket.h"

static const char *good_id =
  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void
test_ids (void)
{
  char id[80];
  ok (ticket_id_valid (good_id), "64 lowercase hex digits are an id");
  ok (!ticket_id_valid (""), "empty is not an id");
  strcpy (id, good_id);
  id[63] = '\0';
  ok (!ticket_id_valid (id), "63 digits are not an id");
  snprintf (id, sizeof id, "%sa", good_id);
  ok (!ticket_id_valid (id), "65 digits are not an id");
  strcpy (id, good_id);
  id[10] = 'A';
  ok (!ticket_id_valid (id), "upper case is not an id");
  memcpy (id, "../", 3);
  ok (!ticket_id_valid (id), "a path is not an id");
}

static int
parse (const char *text, struct ticket *t)
{
  char buf[1024];
  const char *why;
  snprintf (buf, sizeof buf, "%s", text);
  return ticket_parse (buf, t, &why);
}

static void
test_parse (void)
{
  struct ticket t = { .readonly = true, .created = 10, .expires = 20 };
  char text[TICKET_MAX_FILE];
  strcpy (t.disk, "[ds1] vm/disk.vmdk");
  ok (ticket_format (&t, text, sizeof text) == 0, "format");
  memset (&t, 0, sizeof t);
  ok (parse (text, &t) == 0 && t.readonly && t.created == 10
      && t.expires == 20 && strcmp (t.disk, "[ds1] vm/disk.vmdk") == 0,
      "a formatted ticket parses back");
  ok (parse ("vdk-ticket 1\ndisk=/a\nmode=rw\ncreated=1\n", &t) == -1,
      "a missing key is refused");
  ok (parse ("vdk-ticket 1\ndisk=/a\nmode=rw\ncreated=1\nexpires=2\n"
             "mode=ro\n", &t) == -1, "a key given twice is refused");
  ok (parse ("vdk-ticket 1\ndisk=/a\nmode=rx\ncreated=1\nexpires=2\n", &t)
      == -1, "an unknown mode is refused");
  ok (parse ("vdk-ticket 1\ndisk=/a\nmode=rw\ncreated=1\nexpires=-2\n", &t)
      == -1, "a negative expiry is refused");
  ok (parse ("vdk-ticket 1\ndisk=/a\nmode=rw\ncreated=1\n"
             "expires=99999999999999999999\n", &t) == -1,
      "an expiry that would overflow is refused");
  ok (parse ("vdk-ticket 2\ndisk=/a\nmode=rw\ncreated=1\nexpires=2\n", &t)
      == -1, "another version is refused");
  ok (parse ("vdk-ticket 1\ndisk=/a\nmode=rw\ncreated=1\nexpires=2\n"
             "admin=1\n", &t) == -1, "an unknown key is refused");
}

static void
test_load (void)
{
  char dir[] = "/tmp/vdk-ticket-XXXXXX", path[128];
  struct ticket t;
  const char *why;
  FILE *f;

  if (!mkdtemp (dir)) {
    ok (0, "mkdtemp");
    return;
  }
  snprintf (path, sizeof path, "%s/%s", dir, good_id);
  f = fopen (path, "w");
  fputs ("vdk-ticket 1\ndisk=/x.vmdk\nmode=ro\ncreated=1\nexpires=2\n", f);
  fclose (f);
  ok (ticket_load (dir, good_id, &t, &why) == 0 && t.readonly,
      "load a ticket from its store");
  errno = 0;
  ok (ticket_load (dir, "../etc/passwd", &t, &why) == -1 && errno == ENOENT,
      "a name that is not an id is unknown");
  unlink (path);
  ok (ticket_load (dir, good_id, &t, &why) == -1 && errno == ENOENT,
      "a revoked ticket is unknown");
  rmdir (dir);
}

int
main (void)
{
  test_ids ();
  test_parse ();
  test_load ();
  return tap_done ();
}
