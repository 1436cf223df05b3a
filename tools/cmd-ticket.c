/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdk ticket: mint, list and revoke the tickets `vdk serve --tickets`
 * serves.
 *
 *   vdk ticket create --store DIR [--ttl SECONDS] [--read-only]
 *                     (--disk "[DATASTORE] path" | FILE)
 *   vdk ticket list --store DIR [--json]
 *   vdk ticket revoke --store DIR ID...
 *
 * The file format and the id's shape are in common/vdk-ticket.h.  A
 * new ticket is written to a temporary file in the store and linked to
 * its name (link(2) never replaces an existing file), so the server
 * never sees a half-written ticket.  The id is printed on stdout: it
 * is the export name clients use (nbd://HOST/ID).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vdk-common.h"
#include "vdk-ticket.h"
#include "vdk-tool.h"
#include "cmd-serve.h"

#define DEFAULT_TTL 3600

static const char ticket_usage[] =
  "Usage: vdk ticket create --store DIR [--ttl SECONDS] [--read-only]\n"
  "                         (--disk \"[DATASTORE] path\" | FILE)\n"
  "       vdk ticket list --store DIR [--json]\n"
  "       vdk ticket revoke --store DIR ID...\n"
  "Mint an unguessable export name bound to one disk and mode for a\n"
  "bounded time (several connections may use it), list the tickets of a\n"
  "store, or revoke tickets.  `vdk serve --tickets DIR` serves them.\n"
  "  --store DIR             the ticket store (created if missing)\n"
  "  --disk \"[DS] path\"      a disk of a datastore the server exports\n"
  "  --ttl SECONDS           lifetime (default 3600, at most 30 days)\n"
  "  --read-only             the ticket allows reads only\n"
  "  --json                  list as a JSON array\n"
  "  -h, --help              show this help\n"
  "  -V, --version           show the version\n";

struct ticket_opts {
  const char *store, *disk;
  int64_t ttl;
  bool readonly, json;
};

static int
usage_err (const char *fmt, const char *arg)
{
  return tool_usage_error ("ticket", ticket_usage, fmt, arg);
}

static int
parse_ticket (int argc, char **argv, struct ticket_opts *o, int *rc)
{
  static const struct option lo[] = {
    { "store", required_argument, NULL, 's' },
    { "disk", required_argument, NULL, 'd' },
    { "ttl", required_argument, NULL, 't' },
    { "read-only", no_argument, NULL, 'r' },
    { "json", no_argument, NULL, 'j' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  *o = (struct ticket_opts) { .ttl = DEFAULT_TTL };
  *rc = 1;
  opterr = 0;
  while ((c = getopt_long (argc, argv, ":rhV", lo, NULL)) != -1) {
    switch (c) {
    case 's': o->store = optarg; break;
    case 'd': o->disk = optarg; break;
    case 'r': o->readonly = true; break;
    case 'j': o->json = true; break;
    case 't':
      if (!ticket_number (optarg, &o->ttl) || o->ttl == 0
          || o->ttl > TICKET_MAX_TTL)
        return usage_err ("--ttl %s: a number of seconds from 1 to 30 "
                          "days", optarg), -1;
      break;
    case 'h': fputs (ticket_usage, stdout); *rc = 0; return -1;
    case 'V': tool_print_version (); *rc = 0; return -1;
    case ':': return usage_err ("option '%s' needs a value",
                                argv[optind - 1]), -1;
    default: return usage_err ("unknown option '%s'", argv[optind - 1]), -1;
    }
  }
  if (!o->store)
    return usage_err ("%s", "--store DIR is required"), -1;
  return 0;
}

/* ---- create ---- */

static int
new_id (char id[TICKET_ID_LEN + 1])
{
  uint8_t raw[TICKET_ID_LEN / 2];
  if (getrandom (raw, sizeof raw, 0) != (ssize_t) sizeof raw) {
    tool_error ("ticket: getrandom: %s", strerror (errno));
    return -1;
  }
  for (size_t i = 0; i < sizeof raw; i++)
    sprintf (id + 2 * i, "%02x", raw[i]);
  return 0;
}

/* Write text as store/id without ever replacing a file. */
static int
write_ticket (const char *store, const char *id, const char *text)
{
  char tmp[PATH_MAX], path[PATH_MAX];
  size_t len = strlen (text);
  int fd, r = -1;

  if ((size_t) snprintf (tmp, sizeof tmp, "%s/.new-XXXXXX", store)
      >= sizeof tmp
      || (size_t) snprintf (path, sizeof path, "%s/%s", store, id)
         >= sizeof path) {
    tool_error ("ticket: %s: name too long", store);
    return -1;
  }
  if ((fd = mkstemp (tmp)) == -1) {
    tool_error ("ticket: %s: %s", store, strerror (errno));
    return -1;
  }
  if (fchmod (fd, 0600) == 0 && write (fd, text, len) == (ssize_t) len
      && fsync (fd) == 0 && link (tmp, path) == 0)
    r = 0;
  else
    tool_error ("ticket: %s: %s", path, strerror (errno));
  close (fd);
  unlink (tmp);
  return r;
}

static int
ticket_create (const struct ticket_opts *o, int nargs, char **args)
{
  char id[TICKET_ID_LEN + 1], text[TICKET_MAX_FILE];
  struct ticket t = { .readonly = o->readonly };

  if ((o->disk != NULL) + nargs != 1)
    return usage_err ("%s", "create: give --disk \"[DS] path\" or one FILE");
  if (o->disk) {
    if (o->disk[0] != '[' || !strchr (o->disk, ']'))
      return usage_err ("--disk %s: expected \"[DATASTORE] path\"",
                        o->disk);
    snprintf (t.disk, sizeof t.disk, "%s", o->disk);
  } else {
    char *real = realpath (args[0], NULL);
    if (!real) {
      tool_error ("%s: %s", args[0], strerror (errno));
      return 1;
    }
    snprintf (t.disk, sizeof t.disk, "%s", real);
    free (real);
  }
  if (strchr (t.disk, '\n')) {
    tool_error ("ticket: a disk name with a newline");
    return 1;
  }
  t.created = time (NULL);
  t.expires = t.created + o->ttl;
  if (mkdir (o->store, 0700) == -1 && errno != EEXIST) {
    tool_error ("ticket: %s: %s", o->store, strerror (errno));
    return 1;
  }
  if (new_id (id) == -1 || ticket_format (&t, text, sizeof text) == -1
      || write_ticket (o->store, id, text) == -1)
    return 1;
  printf ("%s\n", id);
  return 0;
}

/* ---- list, revoke ---- */

/* One ticket: a line, or an element of the JSON array (docs/json.md:
 * times are seconds since 1970-01-01 UTC, as the keys say). */
static void
print_ticket (struct tool_json *j, const char *id, const struct ticket *t,
              time_t now)
{
  char when[32];
  struct tm tm;
  time_t exp = (time_t) t->expires;

  gmtime_r (&exp, &tm);
  strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (j) {
    tool_json_object (j, NULL);
    tool_json_str (j, "id", id);
    tool_json_str (j, "disk", t->disk);
    tool_json_bool (j, "read_only", t->readonly);
    tool_json_int (j, "created_sec", t->created);
    tool_json_int (j, "expires_sec", t->expires);
    tool_json_bool (j, "live", t->expires > now);
    tool_json_object_end (j);
  } else
    printf ("%s  %s  %s%s  %s\n", id, t->readonly ? "ro" : "rw", when,
            t->expires > now ? "" : " (expired)", t->disk);
}

static int
ticket_list (const struct ticket_opts *o)
{
  DIR *d = opendir (o->store);
  struct dirent *e;
  time_t now = time (NULL);
  struct tool_json j;

  if (!d) {
    tool_error ("ticket: %s: %s", o->store, strerror (errno));
    return 1;
  }
  tool_json_init (&j, stdout);
  if (o->json)
    tool_json_array (&j, NULL);
  while ((e = readdir (d))) {
    struct ticket t;
    const char *why;
    if (!ticket_id_valid (e->d_name)
        || ticket_load (o->store, e->d_name, &t, &why) == -1)
      continue;
    print_ticket (o->json ? &j : NULL, e->d_name, &t, now);
  }
  closedir (d);
  if (o->json)
    tool_json_array_end (&j);
  return 0;
}

static int
ticket_revoke (const struct ticket_opts *o, int nargs, char **args)
{
  int rc = 0;
  if (nargs == 0)
    return usage_err ("%s", "revoke: give the ticket ids");
  for (int i = 0; i < nargs; i++) {
    char path[PATH_MAX];
    if (!ticket_id_valid (args[i])) {
      tool_error ("ticket: %s: not a ticket id", args[i]);
      rc = 1;
      continue;
    }
    snprintf (path, sizeof path, "%s/%s", o->store, args[i]);
    if (unlink (path) == -1) {
      tool_error ("ticket: %s: %s", args[i], errno == ENOENT
                  ? "no such ticket" : strerror (errno));
      rc = 1;
    }
  }
  return rc;
}

int
cmd_ticket (int argc, char **argv)
{
  struct ticket_opts o;
  const char *verb;
  int rc;

  if (argc >= 2 && (strcmp (argv[1], "--help") == 0
                    || strcmp (argv[1], "-h") == 0)) {
    fputs (ticket_usage, stdout);
    return 0;
  }
  if (argc >= 2 && (strcmp (argv[1], "--version") == 0
                    || strcmp (argv[1], "-V") == 0)) {
    tool_print_version ();
    return 0;
  }
  if (argc < 2 || argv[1][0] == '-')
    return usage_err ("%s", "missing action (create, list or revoke)");
  verb = argv[1];
  if (parse_ticket (argc - 1, argv + 1, &o, &rc) == -1)
    return rc;
  argc -= 1 + optind;
  argv += 1 + optind;
  if (strcmp (verb, "create") == 0)
    return ticket_create (&o, argc, argv);
  if (strcmp (verb, "list") == 0)
    return argc ? usage_err ("%s", "list takes no arguments")
      : ticket_list (&o);
  if (strcmp (verb, "revoke") == 0)
    return ticket_revoke (&o, argc, argv);
  return usage_err ("unknown action '%s'", verb);
}
