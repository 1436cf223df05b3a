/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdk-ticket.h - the ticket file, shared by `vdk ticket` (which mints,
 * lists and revokes tickets) and the nbdkit plugin (which serves only
 * live ones).  Header-only; tested by tests/unit/test-ticket.c.
 *
 * A ticket is an unguessable export name bound to one disk and one mode
 * for a bounded time, after the VDDK's per-disk NFC tickets; unlike
 * those it may be used by several connections until it expires (NBD
 * clients reconnect: nbdinfo probes then connects, nbdcopy opens up to
 * four connections).  A ticket store is a folder; each ticket is one
 * file named by the ticket's id, 64 lowercase hex digits (256 random
 * bits), mode 0600:
 *
 *   vdk-ticket 1
 *   disk=[datastore] path/to/disk.vmdk     (or an absolute path)
 *   mode=ro                                (or rw)
 *   created=1767225600                     (Unix seconds)
 *   expires=1767229200
 *
 * Revoking a ticket removes its file.  The id is checked character by
 * character before it is used as a file name, so an export name can
 * never name another file of the store's folder or leave it. */
#ifndef VDK_TICKET_H
#define VDK_TICKET_H

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICKET_ID_LEN 64
#define TICKET_MAGIC "vdk-ticket 1\n"
/* Longest ticket file read: a disk name is a path (PATH_MAX) plus a
 * datastore name; anything longer is not a ticket. */
#define TICKET_MAX_FILE 8192
/* Longest lifetime `vdk ticket create` accepts: 30 days. */
#define TICKET_MAX_TTL (30u * 24 * 3600)

struct ticket {
  char disk[TICKET_MAX_FILE];
  bool readonly;
  int64_t created, expires;
};

/* Is `id` a well-formed ticket id (64 lowercase hex digits)? */
static inline bool
ticket_id_valid (const char *id)
{
  size_t i;
  for (i = 0; id[i]; i++)
    if (i >= TICKET_ID_LEN
        || !((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
      return false;
  return i == TICKET_ID_LEN;
}

/* A decimal number that fills `s` exactly (no sign, at most 18 digits,
 * so it cannot overflow). */
static inline bool
ticket_number (const char *s, int64_t *out)
{
  int64_t v = 0;
  size_t i;
  for (i = 0; s[i]; i++) {
    if (s[i] < '0' || s[i] > '9' || i >= 18)
      return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return i > 0;
}

/* Parse a ticket file's text (NUL-terminated, at most TICKET_MAX_FILE
 * bytes).  Every key must appear exactly once; unknown keys are an
 * error, so a damaged file never grants more than it says.  Returns 0,
 * or -1 with a static reason in *why. */
static inline int
ticket_parse (char *text, struct ticket *t, const char **why)
{
  unsigned seen = 0;
  char *line, *save = NULL;

  memset (t, 0, sizeof *t);
  if (strncmp (text, TICKET_MAGIC, strlen (TICKET_MAGIC)) != 0) {
    *why = "not a vdk ticket file";
    return -1;
  }
  for (line = strtok_r (text + strlen (TICKET_MAGIC), "\n", &save); line;
       line = strtok_r (NULL, "\n", &save)) {
    char *eq = strchr (line, '=');
    unsigned bit;
    if (!eq) {
      *why = "a line without '='";
      return -1;
    }
    *eq++ = '\0';
    if (strcmp (line, "disk") == 0) {
      bit = 1;
      if (!*eq || strlen (eq) >= sizeof t->disk) {
        *why = "bad disk name";
        return -1;
      }
      strcpy (t->disk, eq);
    } else if (strcmp (line, "mode") == 0) {
      bit = 2;
      if (strcmp (eq, "ro") != 0 && strcmp (eq, "rw") != 0) {
        *why = "mode is neither ro nor rw";
        return -1;
      }
      t->readonly = eq[1] == 'o';
    } else if (strcmp (line, "created") == 0) {
      bit = 4;
      if (!ticket_number (eq, &t->created)) {
        *why = "bad creation time";
        return -1;
      }
    } else if (strcmp (line, "expires") == 0) {
      bit = 8;
      if (!ticket_number (eq, &t->expires)) {
        *why = "bad expiry time";
        return -1;
      }
    } else {
      *why = "unknown key";
      return -1;
    }
    if (seen & bit) {
      *why = "a key given twice";
      return -1;
    }
    seen |= bit;
  }
  if (seen != 15) {
    *why = "a key is missing";
    return -1;
  }
  return 0;
}

/* The file text of a ticket into buf; -1 if it does not fit. */
static inline int
ticket_format (const struct ticket *t, char *buf, size_t len)
{
  int n = snprintf (buf, len, TICKET_MAGIC "disk=%s\nmode=%s\ncreated=%"
                    PRId64 "\nexpires=%" PRId64 "\n", t->disk,
                    t->readonly ? "ro" : "rw", t->created, t->expires);
  return n < 0 || (size_t) n >= len ? -1 : 0;
}

/* Read and parse the ticket `id` of the store `dir`.  Returns 0; or -1
 * with errno ENOENT (no such ticket, or a malformed id: both are
 * "unknown"), EINVAL (a damaged file; *why says how) or another errno
 * from open/read. */
static inline int
ticket_load (const char *dir, const char *id, struct ticket *t,
             const char **why)
{
  char path[4096 + TICKET_ID_LEN + 2];
  char *text;
  size_t n;
  FILE *f;
  int r;

  *why = "unknown ticket";
  if (!ticket_id_valid (id)
      || (size_t) snprintf (path, sizeof path, "%s/%s", dir, id)
         >= sizeof path) {
    errno = ENOENT;
    return -1;
  }
  if (!(f = fopen (path, "re")))
    return -1;
  if (!(text = malloc (TICKET_MAX_FILE + 1))) {
    fclose (f);
    errno = ENOMEM;
    return -1;
  }
  n = fread (text, 1, TICKET_MAX_FILE + 1, f);
  fclose (f);
  text[n > TICKET_MAX_FILE ? TICKET_MAX_FILE : n] = '\0';
  if (n > TICKET_MAX_FILE || strlen (text) != n) {
    *why = "ticket file too long or not text";
    r = -1;
  } else
    r = ticket_parse (text, t, why);
  free (text);
  if (r == -1)
    errno = EINVAL;
  return r;
}

#endif /* VDK_TICKET_H */
