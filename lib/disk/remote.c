/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Remote disks: a disk handle whose data comes from a remote io store
 * (io/nbd.c), and the connection the VDDK's ConnectEx describes.
 *
 * The handle.  A remote export is a guest's view of a whole chain (the
 * server resolved it), so the disk is one raw link over the nbd store:
 * reads, writes, flush, zero, trim and block status go through the
 * ordinary chain code to the store.  What NBD itself does not carry
 * (create type, CIDs, the DDB) comes from the export description
 * (remote-desc.c) into disk->remote, which the info and metadata calls
 * read; metadata writes fail with VDK_E_NOT_SUPPORTED_BY_TRANSPORT.
 * Asynchronous requests go to the store's own aio path (several in
 * flight on the connection) through disk->aio_submit; what that path
 * does not take (unaligned, too large, out of range, refused) runs on
 * the local worker pool, so errors still reach the request's callback.
 *
 * The connection.  vdk_open_ex's parameters name a server (or a unix
 * socket), an export (a "[datastore] path" or any name) or a ticket,
 * TLS credentials and an ordered transport list ("nbdssl:nbd").  Open
 * builds one NBD URI per transport and tries them in order: "file"
 * opens a local path, "nbdssl" an nbds:// URI (TLS required),
 * "nbd" an nbd:// one.  When every transport fails, the error reported
 * is the most telling one: a refusal of the credentials or the export
 * beats "this transport's TLS setting does not match the server".  A
 * path that is itself a URI is opened as given (its scheme must be
 * allowed by the list).  A key given as a password (hex) is put in a
 * memfd and named by /proc/self/fd, since libnbd reads keys from files.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "disk/disk.h"

#define DEFAULT_TRANSPORTS "file:nbdssl:nbd"
#define TICKET_LEN 64

bool
vdk__remote_name (const char *path)
{
  static const char *const schemes[] = {
    "nbd://", "nbds://", "nbd+unix://", "nbds+unix://",
  };
  for (size_t i = 0; i < ARRAY_SIZE (schemes); i++)
    if (strncasecmp (path, schemes[i], strlen (schemes[i])) == 0)
      return true;
  return false;
}

void
vdk__remote_free (struct vdk__remote *r)
{
  if (!r)
    return;
  vdk__desc_free (r->desc);
  if (r->psk_fd >= 0)
    close (r->psk_fd);
  free (r);
}

/* ---- building URIs ---- */

struct sbuf {
  char *s;
  size_t n, cap;
  bool oom;
};

static void
sb_add (struct sbuf *b, const char *s, size_t n)
{
  if (b->oom)
    return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = (b->n + n + 1) * 2;
    char *t = realloc (b->s, cap);
    if (!t) {
      b->oom = true;
      return;
    }
    b->s = t, b->cap = cap;
  }
  memcpy (b->s + b->n, s, n);
  b->n += n;
  b->s[b->n] = '\0';
}

static void
sb_str (struct sbuf *b, const char *s)
{
  sb_add (b, s, strlen (s));
}

/* Percent-encode all but unreserved characters (and '/' if keep_slash). */
static void
sb_pct (struct sbuf *b, const char *s, bool keep_slash)
{
  char e[4];
  for (; *s; s++)
    sb_add (b, e, vdk_pct_encode (e, (unsigned char) *s, keep_slash));
}

/* The URI of one transport for the parameters; malloc'd. */
static char *
build_uri (const char *export, const struct vdk_open_params *p, bool tls,
           const char *psk_file)
{
  struct sbuf b = { 0 };
  char port[16];
  char sep = '?';

  sb_str (&b, tls ? "nbds" : "nbd");
  sb_str (&b, p->socket ? "+unix://" : "://");
  if (p->user && tls) {
    sb_pct (&b, p->user, false);
    sb_str (&b, "@");
  }
  if (!p->socket) {
    bool v6 = strchr (p->server, ':') && p->server[0] != '[';  /* bare IPv6 */
    sb_str (&b, v6 ? "[" : "");
    sb_str (&b, p->server);
    sb_str (&b, v6 ? "]" : "");
    if (p->port) {
      snprintf (port, sizeof port, ":%" PRIu32, p->port);
      sb_str (&b, port);
    }
  }
  sb_str (&b, "/");
  sb_pct (&b, export ? export : "", false);
  if (p->socket) {
    sb_str (&b, "?socket=");
    sb_pct (&b, p->socket, true);
    sep = '&';
  }
  if (tls && (psk_file || p->certificates)) {
    sb_add (&b, &sep, 1);
    sb_str (&b, psk_file ? "tls-psk-file=" : "tls-certificates=");
    sb_pct (&b, psk_file ? psk_file : p->certificates, true);
  }
  if (b.oom) {
    free (b.s);
    vdk__err (ENOMEM, "out of memory");
    return NULL;
  }
  return b.s;
}

/* A key given as hex in p->password, as a psktool file in a memfd. */
static int
password_file (const struct vdk_open_params *p, struct vdk__remote *r,
               char *path, size_t len)
{
  char line[1024];
  int n, fd;

  if (!p->user)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "a TLS key given as a "
                      "password needs a user (the PSK identity)");
  n = snprintf (line, sizeof line, "%s:%s\n", p->user, p->password);
  if (n < 0 || (size_t) n >= sizeof line || strpbrk (p->user, ":\n")
      || strpbrk (p->password, ":\n"))
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "bad TLS user or key");
  if ((fd = memfd_create ("vdk-psk", MFD_CLOEXEC)) == -1)
    return vdk__err (errno, "memfd_create: %s", strerror (errno));
  if (write (fd, line, n) != n) {
    explicit_bzero (line, sizeof line);
    close (fd);
    return vdk__err (EIO, "cannot hold the TLS key");
  }
  explicit_bzero (line, sizeof line);
  r->psk_fd = fd;
  snprintf (path, len, "/proc/self/fd/%d", fd);
  return 0;
}

/* ---- the handle ---- */

static struct vdk_io *
remote_io (struct vdk_disk *d)
{
  return d->top->nextents == 1 ? d->top->extents[0].io : NULL;
}

/* A request the store finished (on its thread). */
static void
remote_done (void *ctx, int err)
{
  struct vdk__aio_req *r = ctx;
  bool write = r->op == 'w' || r->op == 'W';
  uint64_t off = r->op == 'R' || r->op == 'W' ? r->offset * SECTOR
    : r->offset;
  int code = 0;

  if (err) {
    vdk__err (err, "%s: %s at offset %" PRIu64 ": %s", r->disk->top->path,
              write ? "write" : "read", off, vdk__io_strerror (err));
    code = vdk_last_error_code ();
  }
  vdk__aio_complete (r, code);
}

int
vdk__remote_aio_submit (struct vdk_disk *d, struct vdk__aio_req *r)
{
  struct vdk_io *io = remote_io (d);
  bool write = r->op == 'w' || r->op == 'W';
  uint64_t off = r->offset, len = r->count, end;

  if ((r->op == 'R' || r->op == 'W')
      && (MUL_OVERFLOW (off, (uint64_t) SECTOR, &off)
          || MUL_OVERFLOW (len, (uint64_t) SECTOR, &len)))
    return vdk__aio_pool_submit (d, r);
  if (!io || len > SIZE_MAX || ADD_OVERFLOW (off, len, &end)
      || end > d->top->capacity || (!r->buf && len)
      || (write && ((d->flags & VDK_OPEN_READ_ONLY) || io->readonly)))
    return vdk__aio_pool_submit (d, r);  /* it reports the error */
  if (write)
    __atomic_store_n (&io->written, true, __ATOMIC_RELEASE);
  if (io->ops->aio (io, write ? 'w' : 'r', r->buf, len, off, remote_done,
                    r) == 0)
    return 0;
  return vdk__aio_pool_submit (d, r);
}

/* Make an opened disk remote: its transport, its description, its
 * asynchronous path. */
static int
attach (struct vdk_disk *d, struct vdk__remote *r)
{
  struct vdk_io *io = remote_io (d);
  const char *text;

  if (!io || !io->ops->transport)
    return vdk__errc (VDK_E_FAILED, EINVAL, "%s: not a remote store",
                      d->top->path);
  d->transport = io->ops->transport (io);
  text = io->ops->description ? io->ops->description (io) : NULL;
  r->links = 1;
  /* A description that is not vdk's (another server's free text) is
   * no error: the disk is then what NBD says, a raw disk. */
  if (text && vdk__remote_parse (text, strlen (text), r) == -1)
    vdk__info ("%s: %s", d->top->path, vdk_last_error ());
  if (io->ops->aio)
    d->aio_submit = vdk__remote_aio_submit;
  d->remote = r;
  return 0;
}

/* ---- opening: transports in order ---- */

static bool
looks_like_ticket (const char *name)
{
  size_t n = 0;
  if (!name)
    return false;
  for (; name[n]; n++)
    if (!((name[n] >= '0' && name[n] <= '9')
          || (name[n] >= 'a' && name[n] <= 'f')))
      return false;
  return n == TICKET_LEN;
}

/* Open one URI as a remote disk. */
static struct vdk_disk *
open_uri (const char *uri, unsigned flags, bool ticket, struct vdk__remote *r)
{
  struct vdk_disk *d = vdk__disk_open (uri, flags);
  if (!d) {
    if (ticket && vdk_last_error_code () == VDK_E_NOT_FOUND)
      vdk__errc (VDK_E_TICKET, 0, "%s: the server refused the ticket "
                 "(unknown, expired or revoked)", uri);
    return NULL;
  }
  if (attach (d, r) == -1) {
    bool dummy;
    vdk__disk_free (d, &dummy);
    return NULL;
  }
  return d;
}

/* How telling an open error is: prefer refusals of credentials and
 * names over a transport that does not match the server. */
static int
error_rank (int code)
{
  switch (code) {
  case VDK_E_TICKET: case VDK_E_AUTH: case VDK_E_NOT_FOUND:
  case VDK_E_ACCESS_DENIED: case VDK_E_LOCKED: return 3;
  case VDK_E_CONNECT: return 2;
  case VDK_E_TLS: case VDK_E_UNSUPPORTED: return 1;
  default: return 2;
  }
}

struct attempt {
  struct vdk__saved_err best;
  int rank;
};

static void
note_failure (struct attempt *a)
{
  int rank = error_rank (vdk_last_error_code ());
  if (rank > a->rank) {
    vdk__err_save (&a->best);
    a->rank = rank;
  }
}

/* Is `name` (length n) in the transport list? */
static bool
listed (const char *list, const char *name)
{
  size_t n = strlen (name);
  for (const char *t = list; *t;) {
    size_t len = strcspn (t, ":");
    if (len == n && strncasecmp (t, name, n) == 0)
      return true;
    t += len + (t[len] == ':');
  }
  return false;
}

static int
check_list (const char *list)
{
  if (!*list)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "empty transport list");
  for (const char *t = list; *t;) {
    size_t len = strcspn (t, ":");
    if (!((len == 4 && strncasecmp (t, "file", 4) == 0)
          || (len == 3 && strncasecmp (t, "nbd", 3) == 0)
          || (len == 6 && strncasecmp (t, "nbdssl", 6) == 0)))
      return vdk__errc (VDK_E_UNSUPPORTED, ENOTSUP, "transport list \"%s\": "
                        "unknown transport \"%.*s\" (file, nbd, nbdssl)",
                        list, (int) len, t);
    t += len + (t[len] == ':');
  }
  return 0;
}

/* Try the transports of the list for a server/socket target. */
static struct vdk_disk *
open_params (const char *path, const struct vdk_open_params *p,
             const char *list, unsigned flags, struct vdk__remote *r)
{
  const char *export = p->ticket ? p->ticket : path;
  bool ticket = p->ticket || looks_like_ticket (export);
  char psk[64] = "";
  const char *key = p->key_file;
  struct attempt a = { .rank = 0 };
  struct vdk_disk *d = NULL;

  if (p->password && !p->key_file) {
    if (password_file (p, r, psk, sizeof psk) == -1)
      return NULL;
    key = psk;
  }
  for (const char *t = list; *t && !d;) {
    size_t len = strcspn (t, ":");
    bool tls = len == 6, nbd = len == 3 || len == 6;
    t += len + (t[len] == ':');
    if (nbd) {
      CLEANUP_FREE char *uri = build_uri (export, p, tls, key);
      if (!uri)
        return NULL;
      if (!(d = open_uri (uri, flags, ticket, r)))
        note_failure (&a);
    }
  }
  if (!d && a.rank)
    vdk__err_restore (&a.best);
  else if (!d)
    vdk__errc (VDK_E_INVALID_ARG, EINVAL, "transport list \"%s\" names no "
               "remote transport, and a server was given", list);
  return d;
}

struct vdk_disk *
vdk__remote_open (const char *path, const struct vdk_open_params *p,
                  unsigned flags)
{
  const char *list = p && p->transports ? p->transports : DEFAULT_TRANSPORTS;
  struct vdk__remote *r;
  struct vdk_disk *d;
  bool remote_target = p && (p->server || p->socket);

  if (check_list (list) == -1)
    return NULL;
  if (!remote_target && !vdk__remote_name (path)) {
    if (!listed (list, "file"))
      return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "%s: a local disk, but "
                        "the transport list \"%s\" has no \"file\"", path,
                        list), NULL;
    if ((d = vdk__disk_open (path, flags)))
      d->transport = "file";
    return d;
  }
  if (!(r = calloc (1, sizeof *r)))
    return vdk__err (ENOMEM, "out of memory"), NULL;
  r->psk_fd = -1;
  if (remote_target)
    d = open_params (path, p, list, flags, r);
  else {
    bool tls = strncasecmp (path, "nbds", 4) == 0;
    if (!listed (list, tls ? "nbdssl" : "nbd"))
      d = NULL, vdk__errc (VDK_E_INVALID_ARG, EINVAL, "%s: the transport "
                           "list \"%s\" does not allow %s", path, list,
                           tls ? "nbdssl" : "nbd");
    else
      d = open_uri (path, flags, p && p->ticket, r);
  }
  if (!d)
    vdk__remote_free (r);
  return d;
}
