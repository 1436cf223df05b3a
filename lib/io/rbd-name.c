/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rbd io backend, part two: names, connections to a Ceph cluster,
 * and the operations on image names (stat, remove, rename).
 *
 * A name is rbd:POOL/IMAGE, rbd:POOL/NAMESPACE/IMAGE, either with
 * @SNAP, then options as qemu spells them: ":conf=FILE", ":id=CLIENT",
 * ":keyring=FILE", ":timeout=SECONDS" (a ':' or '\' inside a value is
 * escaped with '\').  Without conf=, librados looks where it always
 * does (CEPH_CONF, then /etc/ceph/ceph.conf, ...); without id=, the
 * client is "admin" (or what CEPH_ARGS says); without keyring=, the
 * conf's keyring.  vdk_open_ex's Ceph fields become these options
 * (disk/disk.c), so one string carries everything to this layer.
 *
 * Connecting is bounded: client_mount_timeout (finding a monitor and
 * authenticating) and rados_mon_op_timeout are set to the timeout
 * (30 s by default), so an unreachable cluster fails with VDK_E_CONNECT
 * instead of waiting librados' 300 s.  librados' own logging to stderr
 * is turned off: a library must not print, and every failure is
 * reported here with its code.
 *
 * Name operations connect for the one call.  Removing an image that
 * has snapshots is refused (ENOTEMPTY, VDK_E_HAS_SNAPSHOTS) unless the
 * caller removed them first (remove_snapshots, vdk_unlink_ex with
 * VDK_UNLINK_SNAPSHOTS); an image open elsewhere (it has watchers) is
 * refused by Ceph with EBUSY (VDK_E_LOCKED).  These operations set the
 * thread's error themselves (VDK_IO_BACKEND_OWN_ERRORS), since a
 * refused key or a missing pool is not an errno the wrapper could
 * phrase. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "io/rbd.h"

void
vdk__rbd_name_free (struct rbd_name *n)
{
  free (n->pool);
  free (n->ns);
  free (n->image);
  free (n->snap);
  free (n->conf);
  free (n->id);
  free (n->keyring);
  free (n->display);
  *n = (struct rbd_name) { 0 };
}

/* The next ':'-separated field of *p, unescaped (malloc'd); *p moves
 * past it and its separator. */
static char *
next_field (const char **p)
{
  const char *s = *p;
  char *out = malloc (strlen (s) + 1), *o = out;
  if (!out)
    return NULL;
  while (*s && *s != ':') {
    if (*s == '\\' && s[1])
      s++;
    *o++ = *s++;
  }
  *o = '\0';
  *p = *s ? s + 1 : s;
  return out;
}

static int
bad_name (const char *spec, const char *why)
{
  return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "%s: not an RBD name (%s; "
                    "rbd:POOL[/NAMESPACE]/IMAGE[@SNAP][:OPTION=VALUE]...)",
                    spec, why);
}

static int
set_option (const char *spec, struct rbd_name *n, char *opt)
{
  char *eq = strchr (opt, '='), *end;
  unsigned long v;

  if (!eq)
    return bad_name (spec, "an option without '='");
  *eq++ = '\0';
  if (strcmp (opt, "conf") == 0 && !n->conf)
    return (n->conf = strdup (eq)) ? 0 : vdk__err (ENOMEM, "out of memory");
  if (strcmp (opt, "id") == 0 && !n->id)
    return (n->id = strdup (eq)) ? 0 : vdk__err (ENOMEM, "out of memory");
  if (strcmp (opt, "keyring") == 0 && !n->keyring)
    return (n->keyring = strdup (eq)) ? 0
      : vdk__err (ENOMEM, "out of memory");
  if (strcmp (opt, "timeout") == 0) {
    errno = 0;
    v = strtoul (eq, &end, 10);
    if (errno || end == eq || *end || v == 0 || v > RBD_MAX_TIMEOUT)
      return bad_name (spec, "timeout= takes seconds from 1 to 3600");
    n->timeout = (unsigned) v;
    return 0;
  }
  return bad_name (spec, "options are conf=, id=, keyring=, timeout=, "
                   "each once");
}

/* POOL[/NS]/IMAGE[@SNAP] into n. */
static int
set_path (const char *spec, struct rbd_name *n, char *path)
{
  char *parts[3], *at, *s = path;
  int k = 0;

  while (k < 3 && (parts[k++] = strsep (&s, "/")) != NULL && s)
    ;
  if (s || k < 2)
    return bad_name (spec, "POOL/IMAGE or POOL/NAMESPACE/IMAGE");
  if ((at = strchr (parts[k - 1], '@'))) {
    *at++ = '\0';
    if (!*at || !(n->snap = strdup (at)))
      return *at ? vdk__err (ENOMEM, "out of memory")
        : bad_name (spec, "an empty snapshot name");
  }
  for (int i = 0; i < k; i++)
    if (!*parts[i] || strchr (parts[i], '@'))
      return bad_name (spec, "an empty or doubled part");
  if (!(n->pool = strdup (parts[0])) || !(n->image = strdup (parts[k - 1]))
      || (k == 3 && !(n->ns = strdup (parts[1]))))
    return vdk__err (ENOMEM, "out of memory");
  return 0;
}

int
vdk__rbd_parse (const char *spec, struct rbd_name *n)
{
  const char *p;
  char *path;
  int r;

  *n = (struct rbd_name) { .timeout = RBD_DEFAULT_TIMEOUT };
  if (strncasecmp (spec, "rbd:", 4) != 0)
    return bad_name (spec, "no rbd: prefix");
  p = spec + 4;
  if (!(path = next_field (&p)))
    return vdk__err (ENOMEM, "out of memory");
  r = set_path (spec, n, path);
  free (path);
  while (r == 0 && *p) {
    char *opt = next_field (&p);
    r = opt ? set_option (spec, n, opt) : vdk__err (ENOMEM, "out of memory");
    free (opt);
  }
  if (r == 0 && asprintf (&n->display, "rbd:%s/%s%s%s%s%s", n->pool,
                          n->ns ? n->ns : "", n->ns ? "/" : "", n->image,
                          n->snap ? "@" : "", n->snap ? n->snap : "") < 0) {
    n->display = NULL;
    r = vdk__err (ENOMEM, "out of memory");
  }
  if (r == -1)
    vdk__rbd_name_free (n);
  return r;
}

/* ---- errors ---- */

int
vdk__rbd_err (const struct rbd_name *n, int r, const char *what)
{
  const char *id = n->id ? n->id : "admin";
  switch (-r) {
  case ENOENT:
    return vdk__errc (VDK_E_NOT_FOUND, ENOENT, "%s: %s: no such image%s in "
                      "pool \"%s\"%s%s", n->display, what,
                      n->snap ? " or snapshot" : "", n->pool,
                      n->ns ? ", namespace " : "", n->ns ? n->ns : "");
  case EPERM: case EACCES:
    return vdk__errc (VDK_E_ACCESS_DENIED, EACCES, "%s: %s: permission "
                      "denied (the capabilities of client.%s do not allow "
                      "it)", n->display, what, id);
  case EBUSY:
    return vdk__errc (VDK_E_LOCKED, EBUSY, "%s: %s: the image is in use "
                      "(open by another client)", n->display, what);
  case ETIMEDOUT:
    return vdk__errc (VDK_E_IO, ETIMEDOUT, "%s: %s: the cluster did not "
                      "answer in time", n->display, what);
  case EROFS:
    return vdk__errc (VDK_E_READ_ONLY, EROFS, "%s: %s: read-only (a "
                      "snapshot, or another writer holds the exclusive "
                      "lock)", n->display, what);
  default:
    return vdk__err (-r, "%s: %s: %s", n->display, what, strerror (-r));
  }
}

/* ---- connecting ---- */

static int
conf_set (struct rbd_conn *c, const char *key, const char *value)
{
  return rbdl.rados_conf_set (c->cluster, key, value);
}

static int
connect_error (const struct rbd_name *n, int r)
{
  const char *id = n->id ? n->id : "admin";
  switch (-r) {
  case ETIMEDOUT: case ECONNREFUSED: case EHOSTUNREACH: case ENETUNREACH:
    return vdk__errc (VDK_E_CONNECT, ETIMEDOUT, "%s: no Ceph monitor "
                      "answered within %u s (mon host in %s)", n->display,
                      n->timeout, n->conf ? n->conf : "the Ceph "
                      "configuration");
  case ENOENT:
    return vdk__errc (VDK_E_AUTH, EACCES, "%s: no key for client.%s (no "
                      "keyring found: give keyring=, or name it in the "
                      "configuration)", n->display, id);
  case EACCES: case EPERM:
    return vdk__errc (VDK_E_AUTH, EACCES, "%s: the cluster refused the key "
                      "of client.%s", n->display, id);
  default:
    return vdk__errc (VDK_E_CONNECT, -r, "%s: cannot connect to the Ceph "
                      "cluster: %s", n->display, strerror (-r));
  }
}

int
vdk__rbd_connect (const struct rbd_name *n, struct rbd_conn *c)
{
  char t[16];
  int r;

  *c = (struct rbd_conn) { 0 };
  if (vdk__rbd_load () == -1)
    return vdk__err_prefix ("%s", n->display);
  if ((r = rbdl.rados_create (&c->cluster, n->id)) < 0) {
    c->cluster = NULL;
    return vdk__err (-r, "%s: rados_create: %s", n->display, strerror (-r));
  }
  /* Quiet before the conf is read: it may turn logging on again, but
   * a conf is the administrator's choice.  So is librbd's cache, which
   * vdk does without by default: its copies are large sequential
   * writes, and through the cache (write-around once the client has
   * flushed) they ran 1.5-6x slower than straight to the OSDs
   * (bench/rbd.sh). */
  conf_set (c, "log_to_stderr", "false");
  conf_set (c, "err_to_stderr", "false");
  conf_set (c, "rbd_cache", "false");
  if ((r = rbdl.rados_conf_read_file (c->cluster, n->conf)) < 0) {
    vdk__rbd_disconnect (c);
    return vdk__errc (VDK_E_NOT_FOUND, -r, "%s: cannot read the Ceph "
                      "configuration %s: %s", n->display,
                      n->conf ? n->conf : "(CEPH_CONF, /etc/ceph/ceph.conf)",
                      strerror (-r));
  }
  rbdl.rados_conf_parse_env (c->cluster, NULL);
  conf_set (c, "log_to_stderr", "false");
  conf_set (c, "err_to_stderr", "false");
  snprintf (t, sizeof t, "%u", n->timeout);
  if ((n->keyring && conf_set (c, "keyring", n->keyring) < 0)
      || conf_set (c, "client_mount_timeout", t) < 0
      || conf_set (c, "rados_mon_op_timeout", t) < 0) {
    vdk__rbd_disconnect (c);
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "%s: bad keyring or "
                      "timeout", n->display);
  }
  /* What a discard gives back reads as zero, to the byte (by default
   * librbd skips parts smaller than 64 KiB, leaving their data). */
  conf_set (c, "rbd_discard_granularity_bytes", "0");
  if ((r = rbdl.rados_connect (c->cluster)) < 0) {
    vdk__rbd_disconnect (c);
    return connect_error (n, r);
  }
  c->connected = true;
  if ((r = rbdl.rados_ioctx_create (c->cluster, n->pool, &c->ioctx)) < 0) {
    vdk__rbd_disconnect (c);
    return r == -ENOENT ? vdk__errc (VDK_E_NOT_FOUND, ENOENT, "%s: no pool "
                                     "\"%s\"", n->display, n->pool)
      : vdk__rbd_err (n, r, "pool");
  }
  c->have_ioctx = true;
  if (n->ns)
    rbdl.rados_ioctx_set_namespace (c->ioctx, n->ns);
  return 0;
}

void
vdk__rbd_disconnect (struct rbd_conn *c)
{
  if (c->have_ioctx)
    rbdl.rados_ioctx_destroy (c->ioctx);
  if (c->cluster)
    rbdl.rados_shutdown (c->cluster);
  *c = (struct rbd_conn) { 0 };
}

/* ---- name operations ---- */

/* Parse and connect for one name operation. */
static int
begin (const char *path, struct rbd_name *n, struct rbd_conn *c)
{
  if (vdk__rbd_parse (path, n) == -1)
    return -1;
  if (vdk__rbd_connect (n, c) == -1) {
    vdk__rbd_name_free (n);
    return -1;
  }
  return 0;
}

static void
end (struct rbd_name *n, struct rbd_conn *c)
{
  vdk__rbd_disconnect (c);
  vdk__rbd_name_free (n);
}

static int
rbd_fs_stat (const char *path, struct vdk_fs_stat *st)
{
  struct rbd_name n;
  struct rbd_conn c;
  rbd_image_t img;
  int r;

  if (begin (path, &n, &c) == -1)
    return -1;
  r = rbdl.rbd_open_read_only (c.ioctx, n.image, &img, n.snap);
  if (r == -ENOENT)
    r = 0;                            /* st->exists stays false */
  else if (r < 0)
    r = vdk__rbd_err (&n, r, "open");
  else {
    st->exists = st->regular = true;
    st->mode = 0600;
    r = rbdl.rbd_get_size (img, &st->size);
    r = r < 0 ? vdk__rbd_err (&n, r, "size") : 0;
    rbdl.rbd_close (img);
  }
  end (&n, &c);
  return r;
}

/* The snapshots of the image: their number, *snaps (free with
 * free_snapshots); -1 with the error set. */
static int
list_snapshots (struct rbd_name *n, rbd_image_t img, rbd_snap_info_t **snaps)
{
  int max = 8, r;

  for (;;) {
    if (!(*snaps = calloc ((size_t) max, sizeof **snaps)))
      return vdk__err (ENOMEM, "out of memory");
    if ((r = rbdl.rbd_snap_list (img, *snaps, &max)) != -ERANGE)
      break;
    free (*snaps);
    if (max <= 0 || max > 1 << 20)
      return vdk__rbd_err (n, -EIO, "list snapshots");
  }
  if (r < 0) {
    free (*snaps);
    *snaps = NULL;
    return vdk__rbd_err (n, r, "list snapshots");
  }
  return r;
}

static void
free_snapshots (rbd_snap_info_t *snaps)
{
  if (snaps) {
    rbdl.rbd_snap_list_end (snaps);
    free (snaps);
  }
}

/* The number of snapshots of the image, or -1 with the error set. */
static int
count_snapshots (struct rbd_name *n, rbd_image_t img)
{
  rbd_snap_info_t *snaps;
  int r = list_snapshots (n, img, &snaps);
  if (r >= 0)
    free_snapshots (snaps);
  return r;
}

static int
rbd_fs_unlink (const char *path)
{
  struct rbd_name n;
  struct rbd_conn c;
  rbd_image_t img;
  int r, nsnaps;

  if (begin (path, &n, &c) == -1)
    return -1;
  if (n.snap) {
    r = vdk__errc (VDK_E_INVALID_ARG, EINVAL, "%s: a snapshot, not an "
                   "image: remove the image, or the snapshot with Ceph's "
                   "tools", n.display);
    goto out;
  }
  if ((r = rbdl.rbd_open_read_only (c.ioctx, n.image, &img, NULL)) < 0) {
    r = vdk__rbd_err (&n, r, "open");
    goto out;
  }
  nsnaps = count_snapshots (&n, img);
  rbdl.rbd_close (img);
  if ((r = nsnaps) > 0)
    r = vdk__errc (VDK_E_HAS_SNAPSHOTS, ENOTEMPTY, "%s: the image has %d "
                   "snapshot%s; removing it would lose them", n.display,
                   nsnaps, nsnaps == 1 ? "" : "s");
  else if (r == 0 && (r = rbdl.rbd_remove (c.ioctx, n.image)) < 0)
    r = vdk__rbd_err (&n, r, "remove");
out:
  end (&n, &c);
  return r < 0 ? -1 : 0;
}

/* Does a client other than this handle watch the image (a VM, a vdk
 * serve)?  rbd_remove would then fail with EBUSY, so removing its
 * snapshots first would lose them for nothing.  1 yes, 0 no, -1 error
 * set. */
static int
watched_by_others (struct rbd_name *n, rbd_image_t img)
{
  rbd_image_watcher_t w[8];
  size_t count = sizeof w / sizeof *w;
  int r = rbdl.rbd_watchers_list (img, w, &count);
  if (r == -ERANGE)
    return 1;
  if (r < 0)
    return vdk__rbd_err (n, r, "list the clients watching");
  rbdl.rbd_watchers_list_cleanup (w, count);
  return count > 1;              /* this handle is one of them */
}

/* Remove every snapshot of the image (unprotecting protected ones; a
 * snapshot with clones cannot go, and says so), unless another client
 * has the image open: then nothing is removed. */
static int
rbd_fs_remove_snapshots (const char *path)
{
  struct rbd_name n;
  struct rbd_conn c;
  rbd_image_t img;
  rbd_snap_info_t *snaps = NULL;
  int r, count;

  if (begin (path, &n, &c) == -1)
    return -1;
  if ((r = rbdl.rbd_open (c.ioctx, n.image, &img, NULL)) < 0) {
    r = vdk__rbd_err (&n, r, "open");
    goto out;
  }
  if ((r = watched_by_others (&n, img)) != 0) {
    if (r == 1)
      r = vdk__errc (VDK_E_LOCKED, EBUSY, "%s: the image is in use by "
                     "another client; neither it nor its snapshots were "
                     "removed", n.display);
    rbdl.rbd_close (img);
    goto out;
  }
  r = count = list_snapshots (&n, img, &snaps);
  for (int i = 0; i < count && r >= 0; i++) {
    int prot = 0, e = 0;
    rbdl.rbd_snap_is_protected (img, snaps[i].name, &prot);
    if ((prot && (e = rbdl.rbd_snap_unprotect (img, snaps[i].name)) < 0)
        || (e = rbdl.rbd_snap_remove (img, snaps[i].name)) < 0)
      r = vdk__rbd_err (&n, e, e == -EBUSY ? "remove a snapshot that has "
                        "clones" : "remove a snapshot");
  }
  if (count >= 0)
    free_snapshots (snaps);
  rbdl.rbd_close (img);
out:
  end (&n, &c);
  return r < 0 ? -1 : 0;
}

static int
rbd_fs_rename (const char *from, const char *to)
{
  struct rbd_name n, m;
  struct rbd_conn c;
  int r;

  if (vdk__rbd_parse (to, &m) == -1)
    return -1;
  if (begin (from, &n, &c) == -1) {
    vdk__rbd_name_free (&m);
    return -1;
  }
  if (n.snap || m.snap)
    r = vdk__errc (VDK_E_INVALID_ARG, EINVAL, "%s -> %s: snapshots cannot "
                   "be renamed here", n.display, m.display);
  else if (strcmp (n.pool, m.pool) != 0
           || strcmp (n.ns ? n.ns : "", m.ns ? m.ns : "") != 0)
    r = vdk__errc (VDK_E_INVALID_ARG, EXDEV, "%s -> %s: not in one pool "
                   "and namespace (convert copies between pools)",
                   n.display, m.display);
  else if ((r = rbdl.rbd_rename (c.ioctx, n.image, m.image)) < 0)
    r = r == -EEXIST ? vdk__errc (VDK_E_EXISTS, EEXIST, "%s: exists",
                                  m.display)
      : vdk__rbd_err (&n, r, "rename");
  end (&n, &c);
  vdk__rbd_name_free (&m);
  return r < 0 ? -1 : 0;
}

static struct vdk_io *
rbd_fs_create_temp (const char *path, const char *tag, unsigned mode,
                    char **tmp)
{
  vdk__errc (VDK_E_NOT_SUPPORTED_BY_TRANSPORT, ENOTSUP, "%s: an RBD image "
             "is replaced by writing over it, not beside it", path);
  return NULL;
}

/* Image creation, removal and renaming are durable when they return. */
static int
rbd_fs_sync_dir (const char *path)
{
  return 0;
}

const struct vdk_fs_ops vdk__rbd_fs_ops = {
  .rename = rbd_fs_rename,
  .unlink = rbd_fs_unlink,
  .create_temp = rbd_fs_create_temp,
  .sync_dir = rbd_fs_sync_dir,
  .stat = rbd_fs_stat,
  .remove_snapshots = rbd_fs_remove_snapshots,
};
