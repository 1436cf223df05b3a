/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdk serve: export disks over NBD with nbdkit and the vdk plugin.
 *
 * Design
 * - nbdkit does everything on the wire (protocol, TLS, sockets,
 *   threads); this command only turns its options into an nbdkit
 *   command line, runs it, and prints the URI clients use once the
 *   server is ready.
 * - Ready means accepting connections, with the disk open.  nbdkit
 *   writes its pid file after binding its sockets but before the
 *   plugin's after_fork (which opens the default export, and may fail)
 *   and before its accept loop runs, so the pid file alone does not say
 *   ready: a `--daemon` that returned then could leave its caller
 *   connecting to a server about to die, or writing a disk not yet
 *   locked.  After the pid file, this command connects and waits for
 *   the NBD greeting (sent first on every connection, TLS or not), then
 *   ends the handshake with NBD_OPT_ABORT.  A server that dies
 *   meanwhile is an error.
 * - Paths handed to nbdkit are absolute: a daemon nbdkit changes to /
 *   after it forks, and the TLS key file is read at every handshake.
 * - Foreground (the default): nbdkit runs as a child in the foreground;
 *   SIGINT, SIGTERM and SIGHUP are passed on to it, nbdkit closes the
 *   connections and unloads the plugin, which flushes and closes the
 *   disks; the exit status is nbdkit's.  --daemon: nbdkit forks into
 *   the background itself and writes --pid-file; this command returns
 *   once it is ready.
 * - The plugin is looked for in $VDK_NBDKIT_PLUGIN, then beside this
 *   program in the build tree (../plugins/nbdkit/), then in nbdkit's
 *   plugin folder where `meson install` puts it.
 * - With TLS the server requires it (nbdkit --tls=require): nothing,
 *   not even the list of exports, is reachable without a valid
 *   identity.
 * - Cipher: TLS 1.3 with a pre-shared key may only use suites whose hash
 *   is the key's (SHA-256), which leaves ChaCha20-Poly1305 and
 *   AES-128-GCM, and GnuTLS's NORMAL order (nbdkit's) puts ChaCha20
 *   first.  On a CPU with AES instructions AES-128-GCM is ten times
 *   faster (3 GB/s against 0.27 GB/s here): a TLS copy took 5.5 s
 *   instead of 1.5 s.  So when the CPU has them and the caller has not
 *   set GNUTLS_SYSTEM_PRIORITY_FILE, nbdkit gets GnuTLS's system
 *   configuration plus "tls-disabled-cipher = CHACHA20-POLY1305", in a
 *   memfd it inherits (tls_config).  Every TLS 1.3 client must offer
 *   AES-128-GCM (RFC 8446 9.1), so no client is refused; a system
 *   configuration in allowlist mode is left alone.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vdk.h>

#include "vdk-common.h"
#include "vdk-tool.h"
#include "cmd-serve.h"

#ifndef VDK_NBDKIT_PLUGINDIR
#define VDK_NBDKIT_PLUGINDIR "/usr/lib/nbdkit/plugins"
#endif
#define PLUGIN_NAME "nbdkit-vdk-plugin.so"
/* How long to wait for nbdkit to become ready. */
#define START_TIMEOUT_MS 60000
#define MAX_DATASTORES 64

static const char serve_usage[] =
  "Usage: vdk serve [-r] [--port N | --unix PATH] [--bind ADDR]\n"
  "                 [--tls-psk FILE | --tls-certificates DIR]\n"
  "                 [--tickets DIR] [--datastore NAME=DIR ...]\n"
  "                 [-f raw|vmdk] [--daemon --pid-file FILE] [DISK]\n"
  "Export DISK (the default export) and the disks of each datastore (as\n"
  "\"[NAME] path/to/disk.vmdk\") over NBD, with nbdkit and the vdk plugin.\n"
  "Prints the URI clients use once the server is ready.\n"
  "  -r, --read-only         refuse writes\n"
  "  -f, --format FORMAT     open every disk served as raw or vmdk\n"
  "                          (default: auto, by its content)\n"
  "  --port N                TCP port (default 10809)\n"
  "  --bind ADDR             listen on ADDR only (e.g. 127.0.0.1)\n"
  "  --unix PATH             a unix socket instead of TCP\n"
  "  --tls-psk FILE          require TLS with pre-shared keys (psktool)\n"
  "  --tls-certificates DIR  require TLS with X.509 certificates\n"
  "                          (ca-cert.pem, server-cert.pem, server-key.pem)\n"
  "  --tls-verify-peer       with certificates: require client certificates\n"
  "  --tickets DIR           serve only the live tickets of DIR (vdk ticket)\n"
  "  --datastore NAME=DIR    serve the disks under DIR as \"[NAME] path\"\n"
  "  --allow-external-paths  let descriptors name files outside their folder\n"
  "  --threads N             nbdkit worker threads per connection\n"
  "  --daemon                run in the background (needs --pid-file)\n"
  "  --pid-file FILE         write the server's pid to FILE\n"
  "  -v, --verbose           nbdkit's debug messages\n"
  "  -h, --help              show this help\n"
  "  -V, --version           show the version\n";

struct serve_opts {
  bool readonly, daemon, verbose, verify_peer, external;
  const char *port, *bind, *unix_path, *psk, *certs, *tickets;
  const char *pid_file, *threads, *disk, *format;
  const char *ds[MAX_DATASTORES];
  int nds;
};

enum {
  O_PORT = 256, O_BIND, O_UNIX, O_PSK, O_CERTS, O_VERIFY, O_TICKETS,
  O_DATASTORE, O_EXTERNAL, O_THREADS, O_DAEMON, O_PIDFILE,
};

static int
parse_serve (int argc, char **argv, struct serve_opts *o, int *rc)
{
  static const struct option lo[] = {
    { "read-only", no_argument, NULL, 'r' },
    { "format", required_argument, NULL, 'f' },
    { "port", required_argument, NULL, O_PORT },
    { "bind", required_argument, NULL, O_BIND },
    { "unix", required_argument, NULL, O_UNIX },
    { "tls-psk", required_argument, NULL, O_PSK },
    { "tls-certificates", required_argument, NULL, O_CERTS },
    { "tls-verify-peer", no_argument, NULL, O_VERIFY },
    { "tickets", required_argument, NULL, O_TICKETS },
    { "datastore", required_argument, NULL, O_DATASTORE },
    { "allow-external-paths", no_argument, NULL, O_EXTERNAL },
    { "threads", required_argument, NULL, O_THREADS },
    { "daemon", no_argument, NULL, O_DAEMON },
    { "pid-file", required_argument, NULL, O_PIDFILE },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  memset (o, 0, sizeof *o);
  *rc = 1;
  opterr = 0;
  while ((c = getopt_long (argc, argv, ":rf:vhV", lo, NULL)) != -1) {
    switch (c) {
    case 'r': o->readonly = true; break;
    case 'f':
      if (strcmp (optarg, "raw") != 0 && strcmp (optarg, "vmdk") != 0
          && strcmp (optarg, "auto") != 0)
        return tool_usage_error ("serve", serve_usage, "unknown format "
                                 "'%s' (raw, vmdk or auto)", optarg), -1;
      o->format = optarg;
      break;
    case 'v': o->verbose = true; break;
    case O_PORT: o->port = optarg; break;
    case O_BIND: o->bind = optarg; break;
    case O_UNIX: o->unix_path = optarg; break;
    case O_PSK: o->psk = optarg; break;
    case O_CERTS: o->certs = optarg; break;
    case O_VERIFY: o->verify_peer = true; break;
    case O_TICKETS: o->tickets = optarg; break;
    case O_EXTERNAL: o->external = true; break;
    case O_THREADS: o->threads = optarg; break;
    case O_DAEMON: o->daemon = true; break;
    case O_PIDFILE: o->pid_file = optarg; break;
    case O_DATASTORE:
      if (o->nds == MAX_DATASTORES)
        return tool_usage_error ("serve", serve_usage, "more than %d "
                                 "datastores", MAX_DATASTORES), -1;
      if (!strchr (optarg, '=') || optarg[0] == '=')
        return tool_usage_error ("serve", serve_usage, "--datastore %s: "
                                 "expected NAME=DIR", optarg), -1;
      o->ds[o->nds++] = optarg;
      break;
    case 'h': fputs (serve_usage, stdout); *rc = 0; return -1;
    case 'V': tool_print_version (); *rc = 0; return -1;
    case ':':
      return tool_usage_error ("serve", serve_usage, "option '%s' needs a "
                               "value", argv[optind - 1]), -1;
    default:
      return tool_usage_error ("serve", serve_usage, "unknown option '%s'",
                               argv[optind - 1]), -1;
    }
  }
  if (optind < argc)
    o->disk = argv[optind++];
  if (optind < argc)
    return tool_usage_error ("serve", serve_usage, "one DISK at most"), -1;
  if (!o->disk && !o->nds && !o->tickets)
    return tool_usage_error ("serve", serve_usage, "give a DISK, "
                             "--datastore or --tickets"), -1;
  if (o->port && o->unix_path)
    return tool_usage_error ("serve", serve_usage, "--port and --unix "
                             "exclude each other"), -1;
  if (o->psk && o->certs)
    return tool_usage_error ("serve", serve_usage, "--tls-psk and "
                             "--tls-certificates exclude each other"), -1;
  if (o->daemon && !o->pid_file)
    return tool_usage_error ("serve", serve_usage, "--daemon needs "
                             "--pid-file"), -1;
  return 0;
}

/* The plugin's path (malloc'd), or NULL with a message. */
static char *
find_plugin (void)
{
  const char *env = getenv ("VDK_NBDKIT_PLUGIN");
  char exe[PATH_MAX], *p, *slash;
  ssize_t n;

  if (env && *env)
    return strdup (env);
  n = readlink ("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    if ((slash = strrchr (exe, '/')))
      *slash = '\0';
    if (asprintf (&p, "%s/../plugins/nbdkit/" PLUGIN_NAME, exe) >= 0) {
      if (access (p, R_OK) == 0)
        return p;
      free (p);
    }
  }
  if (access (VDK_NBDKIT_PLUGINDIR "/" PLUGIN_NAME, R_OK) == 0)
    return strdup (VDK_NBDKIT_PLUGINDIR "/" PLUGIN_NAME);
  tool_error ("serve: cannot find %s (set VDK_NBDKIT_PLUGIN)", PLUGIN_NAME);
  return NULL;
}

#define ARGV_MAX (64 + MAX_DATASTORES)

static void
free_argv (char **av)
{
  if (!av)
    return;
  for (int i = ARGV_MAX; av[i]; i++)
    free (av[i]);
  free (av);
}

/* Record s as made here (freed by free_argv); returns it. */
static char *
own (char **av, char *s)
{
  int i = ARGV_MAX;
  while (av[i])
    i++;
  av[i] = s;
  return s;
}

/* argv for nbdkit.  The strings made here are also listed after the
 * argv's NULL (from index ARGV_MAX on) so free_argv can free them. */
static char **
build_argv (const struct serve_opts *o, const char *plugin,
            const char *pid_file)
{
  char **av = calloc (2 * ARGV_MAX + 1, sizeof *av);
  char *s;
  int n = 0;

  if (!av)
    return NULL;
  av[n++] = "nbdkit";
  if (!o->daemon) {
    av[n++] = "--foreground";
    av[n++] = "--exit-with-parent";   /* never outlives this process */
  }
  if (o->verbose)
    av[n++] = "--verbose";
  if (o->readonly)
    av[n++] = "--readonly";
  if (o->unix_path) {
    av[n++] = "--unix";
    av[n++] = (char *) o->unix_path;
  } else {
    av[n++] = "--port";
    av[n++] = (char *) (o->port ? o->port : "10809");
    if (o->bind) {
      av[n++] = "--ipaddr";
      av[n++] = (char *) o->bind;
    }
  }
  if (o->psk || o->certs) {
    char *real = realpath (o->psk ? o->psk : o->certs, NULL);
    int r;
    if (!real) {
      tool_error ("%s: %s", o->psk ? o->psk : o->certs, strerror (errno));
      return free_argv (av), NULL;
    }
    av[n++] = "--tls=require";
    r = asprintf (&s, "--tls-%s=%s", o->psk ? "psk" : "certificates", real);
    free (real);
    if (r < 0)
      return free_argv (av), NULL;
    av[n++] = own (av, s);
    if (o->verify_peer)
      av[n++] = "--tls-verify-peer";
  }
  if (o->threads) {
    av[n++] = "--threads";
    av[n++] = (char *) o->threads;
  }
  av[n++] = "--pidfile";
  av[n++] = (char *) pid_file;
  av[n++] = (char *) plugin;
  if (o->disk) {
    /* An RBD image (rbd:POOL/IMAGE) goes as named; files by full path. */
    char *real = strncasecmp (o->disk, "rbd:", 4) == 0 ? strdup (o->disk)
      : realpath (o->disk, NULL);
    int r;
    if (!real) {
      tool_error ("%s: %s", o->disk, strerror (errno));
      return free_argv (av), NULL;
    }
    r = asprintf (&s, "disk=%s", real);
    free (real);
    if (r < 0)
      return free_argv (av), NULL;
    av[n++] = own (av, s);
  }
  for (int i = 0; i < o->nds; i++) {
    if (asprintf (&s, "datastore=%s", o->ds[i]) < 0)
      return free_argv (av), NULL;
    av[n++] = own (av, s);
  }
  if (o->tickets) {
    if (asprintf (&s, "tickets=%s", o->tickets) < 0)
      return free_argv (av), NULL;
    av[n++] = own (av, s);
  }
  if (o->external)
    av[n++] = "allow-external=true";
  if (o->readonly)
    av[n++] = "readonly=true";
  if (o->format) {
    if (asprintf (&s, "format=%s", o->format) < 0)
      return free_argv (av), NULL;
    av[n++] = own (av, s);
  }
  return av;
}

/* The first identity of a psktool key file, or NULL. */
static char *
psk_identity (const char *file)
{
  FILE *f = fopen (file, "re");
  char line[512], *colon;
  if (!f)
    return NULL;
  colon = fgets (line, sizeof line, f) ? strchr (line, ':') : NULL;
  fclose (f);
  return colon ? strndup (line, colon - line) : NULL;
}

/* Write s percent-encoded (keeping '/' if keep_slash). */
static void
put_pct (const char *s, bool keep_slash)
{
  char e[4];
  for (; *s; s++) {
    vdk_pct_encode (e, (unsigned char) *s, keep_slash);
    fputs (e, stdout);
  }
}

/* The URI clients use, on stdout: every name in it percent-encoded, an
 * IPv6 address in brackets, key and certificate paths absolute. */
static void
print_uri (const struct serve_opts *o)
{
  const char *scheme = o->psk || o->certs ? "nbds" : "nbd";
  char *user = o->psk ? psk_identity (o->psk) : NULL;
  char *abs = o->psk ? realpath (o->psk, NULL)
    : o->certs ? realpath (o->certs, NULL) : NULL;
  const char *host = o->bind ? o->bind : "localhost";
  bool v6 = strchr (host, ':') && host[0] != '[';   /* bare IPv6 */

  printf ("%s%s://", scheme, o->unix_path ? "+unix" : "");
  if (user) {
    put_pct (user, false);
    putchar ('@');
  }
  if (!o->unix_path)
    printf ("%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "",
            o->port ? o->port : "10809");
  putchar ('/');
  if (o->unix_path) {
    fputs ("?socket=", stdout);
    put_pct (o->unix_path, true);
  }
  if (abs) {
    printf ("%s%s=", o->unix_path ? "&" : "?",
            o->psk ? "tls-psk-file" : "tls-certificates");
    put_pct (abs, true);
  }
  putchar ('\n');
  if (o->nds || o->tickets)
    fprintf (stderr, "%s: serve: exports are %s (percent-encoded in the "
             "URI's path)\n", tool_name, o->tickets ? "ticket ids"
             : "\"[DATASTORE] path/to/disk.vmdk\"");
  fflush (stdout);
  free (user);
  free (abs);
}

/* ---- running nbdkit ---- */

static volatile sig_atomic_t child_pid;
static int tls_config_fd = -1;      /* see tls_config */

static void
forward_signal (int sig)
{
  if (child_pid > 0)
    kill (child_pid, sig);
}

static pid_t
spawn (char **av)
{
  pid_t pid = fork ();
  if (pid == 0) {
    sigset_t none;
    const char *preload = getenv ("VDK_SERVE_PRELOAD");
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);
    /* Sanitizer builds: nbdkit is not instrumented, so the runtime the
     * plugin needs must be preloaded (tests/nbd/meson.build sets this);
     * nbdkit's own allocations are not ours to leak-check. */
    if (preload && *preload) {
      setenv ("LD_PRELOAD", preload, 1);
      setenv ("ASAN_OPTIONS", "detect_leaks=0", 1);
    }
    if (tls_config_fd >= 0) {
      char path[32];
      snprintf (path, sizeof path, "/proc/self/fd/%d", tls_config_fd);
      setenv ("GNUTLS_SYSTEM_PRIORITY_FILE", path, 1);
    }
    execvp (av[0], av);
    fprintf (stderr, "%s: serve: cannot run nbdkit: %s\n", tool_name,
             strerror (errno));
    _exit (127);
  }
  if (pid == -1)
    tool_error ("serve: fork: %s", strerror (errno));
  return pid;
}

/* ---- the TLS cipher ---- */

#ifndef VDK_GNUTLS_SYSTEM_CONFIG
#define VDK_GNUTLS_SYSTEM_CONFIG "/etc/gnutls/config"
#endif

/* Does /proc/cpuinfo list AES instructions ("aes" among the x86 flags
 * or the Arm features)? */
static bool
cpu_has_aes (void)
{
  FILE *f = fopen ("/proc/cpuinfo", "r");
  char *line = NULL;
  size_t cap = 0;
  bool aes = false;

  while (f && !aes && getline (&line, &cap, f) != -1)
    aes = (!strncmp (line, "flags", 5) || !strncmp (line, "Features", 8))
          && (strstr (line, " aes ") || strstr (line, " aes\n"));
  free (line);
  if (f)
    fclose (f);
  return aes;
}

/* A file descriptor (not close-on-exec) holding the GnuTLS system
 * configuration that prefers AES-GCM (see the design notes), or -1 when
 * it does not apply or cannot be made (nbdkit then runs with GnuTLS's
 * defaults, which only costs speed). */
static int
tls_config (const struct serve_opts *o)
{
  static const char over[] =
    "\n[overrides]\ntls-disabled-cipher = CHACHA20-POLY1305\n";
  char sys[65536];
  size_t n = 0;
  FILE *f;
  int fd;

  if ((!o->psk && !o->certs) || getenv ("GNUTLS_SYSTEM_PRIORITY_FILE")
      || !cpu_has_aes ())
    return -1;
  if ((f = fopen (VDK_GNUTLS_SYSTEM_CONFIG, "r"))) {
    n = fread (sys, 1, sizeof sys - 1, f);
    fclose (f);
  }
  sys[n] = '\0';
  if (n == sizeof sys - 1 || strstr (sys, "allowlist"))
    return -1;
  if ((fd = memfd_create ("vdk-serve-gnutls", 0)) == -1)
    return -1;
  if (write (fd, sys, n) != (ssize_t) n
      || write (fd, over, sizeof over - 1) != (ssize_t) sizeof over - 1) {
    close (fd);
    return -1;
  }
  return fd;
}

/* ---- readiness ---- */

/* A connection to the server the options describe, or -1. */
static int
connect_server (const struct serve_opts *o)
{
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *a;
  int fd = -1;

  if (o->unix_path) {
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    if (strlen (o->unix_path) >= sizeof sun.sun_path)
      return -1;
    strcpy (sun.sun_path, o->unix_path);
    if ((fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1
        && connect (fd, (struct sockaddr *) &sun, sizeof sun) == -1) {
      close (fd);
      fd = -1;
    }
    return fd;
  }
  if (getaddrinfo (o->bind ? o->bind : "localhost",
                   o->port ? o->port : "10809", &hints, &ai) != 0)
    return -1;
  for (a = ai; a && fd == -1; a = a->ai_next) {
    if ((fd = socket (a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
                      a->ai_protocol)) == -1)
      continue;
    if (connect (fd, a->ai_addr, a->ai_addrlen) == -1) {
      close (fd);
      fd = -1;
    }
  }
  freeaddrinfo (ai);
  return fd;
}

/* Read what has come of the 18-byte greeting into g (*got so far),
 * waiting at most ms.  1 when complete, 0 not yet, -1 when the
 * connection ended. */
static int
read_greeting (int fd, unsigned char *g, size_t *got, int ms)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  ssize_t r;
  if (poll (&p, 1, ms) <= 0)
    return 0;
  r = recv (fd, g + *got, 18 - *got, MSG_DONTWAIT);
  if (r <= 0)
    return r == -1 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
  *got += r;
  return *got == 18;
}

/* End the handshake politely (fixed newstyle, then NBD_OPT_ABORT), so
 * the server logs nothing, and close. */
static void
abort_handshake (int fd)
{
  static const unsigned char bye[] = {
    0, 0, 0, 1,                                   /* C_FIXED_NEWSTYLE */
    'I', 'H', 'A', 'V', 'E', 'O', 'P', 'T',
    0, 0, 0, 2,                                   /* NBD_OPT_ABORT */
    0, 0, 0, 0,                                   /* no data */
  };
  unsigned char reply[20];
  struct pollfd p = { .fd = fd, .events = POLLIN };
  if (send (fd, bye, sizeof bye, MSG_NOSIGNAL) == (ssize_t) sizeof bye
      && poll (&p, 1, 1000) == 1)
    (void) !recv (fd, reply, sizeof reply, 0);
  close (fd);
}

/* Is the server still there?  `child` is the process started (nbdkit
 * itself in the foreground, 0 once reaped), `spid` the pid from the
 * pid file (0 before it is written). */
static bool
server_alive (pid_t *child, pid_t spid, bool daemonizes)
{
  int status;
  if (*child > 0 && waitpid (*child, &status, WNOHANG) == *child) {
    *child = 0;
    if (!daemonizes || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
      return false;
  }
  if (!daemonizes)
    return *child > 0;
  /* Before its pid file, the daemon's pid is unknown: its first
   * process exited 0, so it is starting. */
  return spid == 0 || kill (spid, 0) == 0 || errno == EPERM;
}

static pid_t
read_pid (const char *pid_file)
{
  FILE *f = fopen (pid_file, "re");
  long v = 0;
  if (f) {
    if (fscanf (f, "%ld", &v) != 1)
      v = 0;
    fclose (f);
  }
  return v > 0 && v <= INT_MAX ? (pid_t) v : 0;
}

/* Wait until the server is ready (see the design note): its pid file
 * holds a pid, then a connection gets the greeting.  `pid` is the
 * process started; a daemonising nbdkit exits 0 once it has forked.
 * Returns 0 when ready, else the exit status to use. */
static int
wait_ready (pid_t pid, const char *pid_file, bool daemonizes,
            const struct serve_opts *o)
{
  struct timespec tick = { 0, 10 * 1000 * 1000 };
  unsigned char g[18];
  size_t got = 0;
  pid_t spid = 0;
  int fd = -1, ms;

  for (ms = 0; ms < START_TIMEOUT_MS; ms += 10) {
    struct stat st;
    if (!spid && stat (pid_file, &st) == 0 && st.st_size > 0)
      spid = read_pid (pid_file);
    if (spid) {
      if (fd == -1 && (fd = connect_server (o)) != -1)
        got = 0;
      if (fd != -1) {
        int r = read_greeting (fd, g, &got, 10);
        if (r == 1 && memcmp (g, "NBDMAGIC", 8) == 0) {
          abort_handshake (fd);
          return 0;
        }
        if (r != 0) {                /* ended or garbled: try again */
          close (fd);
          fd = -1;
        }
      }
    }
    if (!server_alive (&pid, spid, daemonizes)) {
      if (fd != -1)
        close (fd);
      tool_error ("serve: nbdkit could not start (its message is above)");
      return 1;
    }
    if (fd == -1)
      nanosleep (&tick, NULL);
  }
  if (fd != -1)
    close (fd);
  tool_error ("serve: nbdkit did not become ready in %d s",
              START_TIMEOUT_MS / 1000);
  if (pid > 0)
    kill (pid, SIGTERM);
  else if (spid > 0)
    kill (spid, SIGTERM);
  return 1;
}

static int
run_foreground (char **av, const char *pid_file, const struct serve_opts *o)
{
  struct sigaction sa = { .sa_handler = forward_signal };
  int status, rc;
  pid_t pid, w;

  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);
  if ((pid = spawn (av)) == -1)
    return 1;
  child_pid = pid;
  if ((rc = wait_ready (pid, pid_file, false, o)) != 0)
    return rc;
  print_uri (o);
  while ((w = waitpid (pid, &status, 0)) == -1 && errno == EINTR)
    ;
  if (w == -1)
    return 1;
  if (WIFSIGNALED (status))
    return WTERMSIG (status) == SIGTERM || WTERMSIG (status) == SIGINT
      ? 0 : 1;
  return WEXITSTATUS (status);
}

static int
run_serve (const struct serve_opts *o)
{
  CLEANUP_FREE char *plugin = find_plugin ();
  char tmp_pid[] = "/tmp/vdk-serve-XXXXXX";
  const char *pid_file = o->pid_file;
  char **av;
  int rc;

  if (!plugin)
    return 1;
  if (!pid_file) {
    int fd = mkstemp (tmp_pid);
    if (fd == -1) {
      tool_error ("serve: temporary file: %s", strerror (errno));
      return 1;
    }
    close (fd);
    pid_file = tmp_pid;
  }
  unlink (pid_file);                /* its appearance is the signal */
  if (!(av = build_argv (o, plugin, pid_file)))
    return 1;
  tls_config_fd = tls_config (o);
  if (o->daemon) {
    pid_t pid = spawn (av);
    rc = pid == -1 ? 1 : wait_ready (pid, pid_file, true, o);
    if (rc == 0)
      print_uri (o);
  } else
    rc = run_foreground (av, pid_file, o);
  if (pid_file == tmp_pid)
    unlink (tmp_pid);
  if (tls_config_fd >= 0)
    close (tls_config_fd);
  free_argv (av);
  return rc;
}

int
cmd_serve (int argc, char **argv)
{
  struct serve_opts o;
  int rc;
  if (parse_serve (argc, argv, &o, &rc) == -1)
    return rc;
  return run_serve (&o);
}
