/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The public mount calls of include/vdk-mount.h: handles, the daemon.
 *
 * A vdk_mount handle either serves its mount (vdk_mount_volume: a
 * session of mfs-session.c in this process) or only describes one from
 * its state folder (vdk_mount_daemon, vdk_mount_find, vdk_mount_list):
 * unmounting such a mount tears it down from outside (mfs-teardown.c),
 * and its serving process sees its FUSE loop end and finishes.
 *
 * vdk_mount_daemon, the process model (see also the header):
 *   caller   checks what it can without forking (root, FUSE, loop
 *            devices, the mount point), creates the redo child if asked,
 *            then forks and waits for one report on a pipe;
 *   child    forks again and exits at once, so the daemon is not the
 *            caller's child (no zombie, no SIGCHLD for it later);
 *   daemon   setsid, closes every inherited descriptor but the pipe,
 *            blocks the stop signals, opens and scans the disks itself,
 *            runs a session (mfs-session.c), sends the report (an error
 *            code, errno and message, or the state id), points its stdio
 *            at /dev/null and the state's log, and waits: for its FUSE
 *            loop to end (somebody unmounted the mount) or for SIGTERM,
 *            SIGINT or SIGHUP (then it unmounts lazily itself).  It then
 *            flushes and closes the disks, logs failures as "error: "
 *            lines for the unmounting process, and exits.
 * The daemon opens the disks itself rather than inheriting the caller's
 * handles: inherited handles share open file descriptions (and so OFD
 * locks) with the caller's, which the caller could not drop without
 * closing them, and a close would flush under the daemon's feet.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mountfs.h"

#define MIN_MAX_READ 4096u
#define MAX_MAX_READ (16u << 20)
#define DAEMON_FORCE_MS 3000

struct vdk_mount {
  struct vdk__mfs_session *s;  /* served here; NULL otherwise */
  struct vdk__mfs_state st;    /* of a mount served elsewhere */
  struct vdk_mount_info info;
  const char *disks[VDK__MFS_MAX_DISKS];
};

/* The state describing the mount, wherever it is kept. */
static struct vdk__mfs_state *
state_of (vdk_mount *m)
{
  return m->s ? &m->s->st : &m->st;
}

static void
fill_info (vdk_mount *m)
{
  struct vdk__mfs_state *st = state_of (m);
  struct vdk_mount_info *i = &m->info;
  i->id = st->id;
  i->pid = (int) st->pid;
  i->served_here = m->s != NULL;
  i->alive = m->s != NULL || vdk__mfs_state_alive (st);
  i->ndisks = (size_t) st->ndisks;
  for (int d = 0; d < st->ndisks; d++)
    m->disks[d] = st->disks[d] ? st->disks[d] : "";
  i->disks = m->disks;
  i->volume = st->volume;
  i->fstype = st->fstype;
  i->mountpoint = st->mountpoint;
  i->fuse_dir = st->fuse;
  i->volume_file = st->flat ? "" : st->volfile;
  i->loop = st->loop;
  i->writable = st->writable;
  i->flat = st->flat;
  i->redo = st->redo;
}

static void
mount_free (vdk_mount *m)
{
  if (m->s) {
    vdk__mfs_state_free (&m->s->st);
    free (m->s);
  }
  vdk__mfs_state_free (&m->st);
  free (m);
}

/* A handle on the mount with state id `id`. */
static vdk_mount *
handle_load (const char *id)
{
  vdk_mount *m = calloc (1, sizeof *m);
  if (m == NULL) {
    vdk__errc (VDK_E_NO_MEMORY, ENOMEM, "out of memory");
    return NULL;
  }
  if (vdk__mfs_state_load (id, &m->st) == -1) {
    free (m);
    return NULL;
  }
  fill_info (m);
  return m;
}

static int
check_params (const struct vdk_mount_params *p)
{
  const unsigned known = VDK_MOUNT_WRITABLE | VDK_MOUNT_DISCARD;
  if (p->version < 1 || p->version > VDK_MOUNT_PARAMS_VERSION)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "mount parameters of "
                      "version %u; this library knows 1..%d", p->version,
                      VDK_MOUNT_PARAMS_VERSION);
  if (p->flags & ~known)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "unknown mount flags "
                      "0x%x", p->flags & ~known);
  if (p->max_read && (p->max_read < MIN_MAX_READ
                      || p->max_read > MAX_MAX_READ))
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "max_read %u: give "
                      "4 KiB..16 MiB", p->max_read);
  if ((p->flags & VDK_MOUNT_DISCARD) && !p->redo)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "VDK_MOUNT_DISCARD needs "
                      "a redo child");
  return 0;
}

static void
fill_request (struct vdk__mfs_request *req, vdk_diskset *set,
              const char *volume, const char *mountpoint,
              const struct vdk_mount_params *p)
{
  memset (req, 0, sizeof *req);
  req->set = set;
  req->volume = volume;
  req->mountpoint = mountpoint;
  req->fstype = p->fstype;
  req->opts = p->options;
  req->writable = (p->flags & VDK_MOUNT_WRITABLE) != 0;
  req->discard = (p->flags & VDK_MOUNT_DISCARD) != 0;
  req->max_read = p->max_read;
  req->redo = p->redo;
}

/* A session of this process for the set; NULL with the error raised. */
static vdk_mount *
serve_here (vdk_diskset *set, const char *volume, const char *mountpoint,
            const struct vdk_mount_params *p)
{
  struct vdk__mfs_request req;
  vdk_mount *m = calloc (1, sizeof *m);
  if (m == NULL || (m->s = calloc (1, sizeof *m->s)) == NULL) {
    free (m);
    vdk__errc (VDK_E_NO_MEMORY, ENOMEM, "out of memory");
    return NULL;
  }
  /* Absolute, so that other processes find the mount by its path. */
  char *abs = mountpoint ? realpath (mountpoint, NULL) : NULL;
  fill_request (&req, set, volume, abs ? abs : mountpoint, p);
  int r = vdk__mfs_session_start (&req, m->s);
  free (abs);
  if (r == -1) {
    free (m->s);
    free (m);
    return NULL;
  }
  fill_info (m);
  return m;
}

VDK_API vdk_mount *
vdk_mount_volume (vdk_diskset *set, const char *volume,
                  const char *mountpoint,
                  const struct vdk_mount_params *params)
{
  struct vdk_mount_params defaults = VDK_MOUNT_PARAMS_INIT;
  const struct vdk_mount_params *p = params ? params : &defaults;
  vdk__set_call ("vdk_mount_volume");
  if (set == NULL) {
    vdk__errc (VDK_E_INVALID_ARG, EINVAL, "set must not be NULL");
    return NULL;
  }
  if (check_params (p) == -1)
    return NULL;
  if (p->redo) {
    vdk__errc (VDK_E_INVALID_ARG, EINVAL, "a redo child is made by "
               "vdk_mount_daemon only; give vdk_mount_volume a set that "
               "holds the child");
    return NULL;
  }
  if (!set->scanned && vdk_diskset_scan (set, 0) == -1)
    return NULL;
  return serve_here (set, volume, mountpoint, p);
}

/* ---- the daemon ------------------------------------------------------- */

/* What the daemon tells the caller: code 0 and the id, or the error. */
struct report {
  int32_t code, errnum;
  char id[32];
  char msg[2048];
};

static void
send_report (int fd, const char *id)
{
  struct report r;
  memset (&r, 0, sizeof r);
  if (id)
    snprintf (r.id, sizeof r.id, "%s", id);
  else {
    r.code = vdk_last_error_code () ? vdk_last_error_code () : VDK_E_FAILED;
    r.errnum = vdk_last_errno () ? vdk_last_errno () : EIO;
    snprintf (r.msg, sizeof r.msg, "%s", vdk_last_error ());
  }
  ssize_t n = write (fd, &r, sizeof r);
  (void) n;
}

/* Close every descriptor from 3 up except `keep`. */
static void
close_all_but (int keep)
{
  if (keep > 3)
    close_range (3, (unsigned) keep - 1, 0);
  close_range ((unsigned) keep + 1, ~0u, 0);
}

/* The daemon's stdio: /dev/null, and stderr into the state's log. */
static void
detach_stdio (const struct vdk__mfs_state *st)
{
  char log[4096];
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  snprintf (log, sizeof log, "%s/log", st->dir);
  int logfd = open (log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (null >= 0) {
    dup2 (null, 0);
    dup2 (null, 1);
  }
  if (logfd >= 0 || null >= 0)
    dup2 (logfd >= 0 ? logfd : null, 2);
  if (null > 2)
    close (null);
  if (logfd > 2)
    close (logfd);
}

/* Wait until the FUSE loop ends; a stop signal unmounts lazily first.
 * Returns true if the daemon stopped itself. */
static bool
daemon_wait (struct vdk__mfs_session *s, const sigset_t *stop)
{
  struct timespec tick = { 0, 200 * 1000000L };
  bool stopped = false;
  while (!vdk__mfs_server_done (s->srv)) {
    if (sigtimedwait (stop, NULL, &tick) > 0 && !stopped) {
      stopped = true;
      vdk__mfs_undo_fs_and_loop (&s->st, true);
      vdk__mfs_umount (s->st.fuse, true, "FUSE folder");
      vdk__mfs_server_join (s->srv, DAEMON_FORCE_MS);
    }
  }
  return stopped;
}

/* Did `vdk umount --force` detach the mount while it was busy?  Then
 * nobody waits for this daemon: it removes the state itself. */
static bool
detached_by_umount (const struct vdk__mfs_session *s)
{
  struct vdk__mfs_state now;
  bool detached;

  if (vdk__mfs_state_load (s->st.id, &now) == -1)
    return false;
  detached = now.detached;
  vdk__mfs_state_free (&now);
  return detached;
}

/* After the loop: flush, close, log what failed; never returns.  A
 * failure keeps the state (with its log) for `vdk mounts` and
 * --cleanup when nobody waits to report it. */
static void
daemon_finish (struct vdk__mfs_session *s, vdk_diskset *set, bool stopped)
{
  bool failed = false;

  vdk__mfs_server_join (s->srv, -1);
  vdk__mfs_server_free (s->srv);
  s->srv = NULL;
  if (vdk__mfs_files_flush (&s->files) == -1) {
    vdk__mfs_state_log (&s->st, "error: flushing the disks failed: %s",
                        vdk_last_error ());
    failed = true;
  }
  vdk__mfs_files_free (&s->files);
  if (vdk_diskset_close (set) == -1) {
    vdk__mfs_state_log (&s->st, "error: closing the disks failed: %s",
                        vdk_last_error ());
    failed = true;
  }
  if (stopped || (!failed && detached_by_umount (s)))
    vdk__mfs_state_remove (&s->st);
  _exit (0);
}

/* The daemon could not start serving: close the set keeping the error,
 * tell the parent (the report carries the error) and end. */
static void __attribute__ ((noreturn))
daemon_fail (int fd, vdk_diskset *set)
{
  struct vdk__saved_err saved;
  vdk__err_save (&saved);
  vdk_diskset_close (set);
  vdk__err_restore (&saved);
  send_report (fd, NULL);
  _exit (1);
}

struct daemon_args {
  const char *const *paths;
  size_t n;
  const char *volume, *mountpoint;
  const struct vdk_mount_params *p;
  unsigned open_flags;
};

static void
daemon_main (int fd, const struct daemon_args *a)
{
  sigset_t stop;
  struct vdk__mfs_session s;
  struct vdk__mfs_request req;
  setsid ();
  close_all_but (fd);
  if (chdir ("/") == -1) { /* paths are absolute; "/" cannot fail */ }
  /* The caller's dispositions and mask are inherited: the stop signals
   * are taken with sigtimedwait, everything else is blocked. */
  sigfillset (&stop);
  pthread_sigmask (SIG_SETMASK, &stop, NULL);
  sigemptyset (&stop);
  sigaddset (&stop, SIGTERM);
  sigaddset (&stop, SIGINT);
  sigaddset (&stop, SIGHUP);
  signal (SIGTERM, SIG_DFL);
  signal (SIGINT, SIG_DFL);
  signal (SIGHUP, SIG_DFL);
  vdk__set_call ("vdk_mount_daemon");
  vdk_diskset *set = vdk_diskset_open (a->paths, a->n, a->open_flags);
  if (set == NULL || vdk_diskset_scan (set, 0) == -1) {
    daemon_fail (fd, set);
  }
  fill_request (&req, set, a->volume, a->mountpoint, a->p);
  if (vdk__mfs_session_start (&req, &s) == -1) {
    daemon_fail (fd, set);
  }
  detach_stdio (&s.st);
  send_report (fd, s.st.id);
  close (fd);
  daemon_finish (&s, set, daemon_wait (&s, &stop));
}

/* Fork twice; the caller gets the daemon's report.  -1 with the error. */
static int
start_daemon (const struct daemon_args *a, char *id, size_t idsize)
{
  int p[2];
  struct report r;
  if (pipe2 (p, O_CLOEXEC) == -1)
    return vdk__err (errno, "pipe: %s", strerror (errno));
  fflush (NULL);
  pid_t pid = fork ();
  if (pid == -1) {
    close (p[0]);
    close (p[1]);
    return vdk__err (errno, "fork: %s", strerror (errno));
  }
  if (pid == 0) {
    close (p[0]);
    if (fork () == 0)
      daemon_main (p[1], a);
    _exit (0);
  }
  close (p[1]);
  while (waitpid (pid, NULL, 0) == -1 && errno == EINTR)
    ;
  ssize_t n;
  while ((n = read (p[0], &r, sizeof r)) == -1 && errno == EINTR)
    ;
  close (p[0]);
  if (n != (ssize_t) sizeof r)
    return vdk__errc (VDK_E_FAILED, EIO, "the mount process exited before "
                      "it served the mount");
  if (r.code != 0) {
    r.msg[sizeof r.msg - 1] = 0;
    struct vdk__saved_err e = { .code = r.code, .errnum = r.errnum };
    snprintf (e.msg, sizeof e.msg, "%s", r.msg);
    return vdk__err_restore (&e);
  }
  snprintf (id, idsize, "%.31s", r.id);
  return 0;
}

/* The checks the daemon would make first, made here before any fork. */
static int
daemon_preflight (const char *volume, const char *mountpoint)
{
  if ((volume && vdk__mfs_check_root () == -1)
      || vdk__mfs_check_fuse () == -1)
    return -1;
  if (volume && vdk__mfs_check_loop () == -1)
    return -1;
  if (mountpoint)
    return vdk__mfs_check_dir (mountpoint, volume ? "mount point"
                               : "folder");
  return 0;
}

/* Create the redo child of paths[0]; its absolute path in `out`. */
static int
make_redo (const char *base_path, const char *redo, unsigned open_flags,
           char *out, size_t size)
{
  vdk_disk *base = vdk_open (base_path, open_flags | VDK_OPEN_READ_ONLY);
  if (base == NULL)
    return -1;
  int r = vdk_create_child (base, redo, VDK_TYPE_DEFAULT);
  vdk_close (base);
  if (r == -1)
    return -1;
  if (realpath (redo, out) == NULL)
    snprintf (out, size, "%s", redo);
  return 0;
}

static int
check_daemon_args (const char *const *paths, size_t n,
                   const struct vdk_mount_params *p)
{
  if (check_params (p) == -1)
    return -1;
  if (paths == NULL || n == 0 || n > VDK__MFS_MAX_DISKS)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "give 1..%d disks",
                      VDK__MFS_MAX_DISKS);
  if (p->redo && n != 1)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "a redo child needs "
                      "exactly one disk");
  return 0;
}

/* Absolute paths (so the state means the same from any folder); the
 * strings are malloc'd into abs[], or NULL where realpath failed. */
static void
absolute_paths (const char *const *paths, size_t n, char **abs,
                const char **use)
{
  for (size_t i = 0; i < n; i++) {
    abs[i] = realpath (paths[i], NULL);
    use[i] = abs[i] ? abs[i] : paths[i];
  }
}

static vdk_mount *
mount_daemon (const char *const *paths, size_t n, const char *volume,
              const char *mountpoint, const struct vdk_mount_params *p)
{
  char *abs[VDK__MFS_MAX_DISKS + 1] = { NULL }, redo[4096], id[32];
  const char *use[VDK__MFS_MAX_DISKS + 1];
  vdk_mount *m = NULL;
  bool writable = (p->flags & VDK_MOUNT_WRITABLE) || p->redo;
  struct daemon_args a = { use, n, volume, NULL, p,
                           p->open_flags | (writable ? 0
                                            : VDK_OPEN_READ_ONLY) };
  absolute_paths (paths, n, abs, use);
  if (mountpoint) {
    abs[n] = realpath (mountpoint, NULL);
    a.mountpoint = abs[n] ? abs[n] : mountpoint;
  }
  struct vdk_mount_params dp = *p;
  if (p->redo) {
    if (make_redo (use[0], p->redo, p->open_flags, redo, sizeof redo) == -1)
      goto out;
    use[0] = redo;
    dp.redo = redo;
    dp.flags |= VDK_MOUNT_WRITABLE;
    a.p = &dp;
    a.open_flags = p->open_flags & ~VDK_OPEN_READ_ONLY;
  }
  if (start_daemon (&a, id, sizeof id) == 0)
    m = handle_load (id);
  if (m == NULL && p->redo) {
    struct vdk__saved_err saved;
    vdk__err_save (&saved);
    vdk_unlink (redo);
    vdk__err_restore (&saved);
  }
 out:
  for (size_t i = 0; i <= n; i++)
    free (abs[i]);
  return m;
}

VDK_API vdk_mount *
vdk_mount_daemon (const char *const *paths, size_t n, const char *volume,
                  const char *mountpoint,
                  const struct vdk_mount_params *params)
{
  struct vdk_mount_params defaults = VDK_MOUNT_PARAMS_INIT;
  const struct vdk_mount_params *p = params ? params : &defaults;
  vdk__set_call ("vdk_mount_daemon");
  if (check_daemon_args (paths, n, p) == -1
      || daemon_preflight (volume, mountpoint) == -1)
    return NULL;
  return mount_daemon (paths, n, volume, mountpoint, p);
}

/* ---- handles ---------------------------------------------------------- */

VDK_API const struct vdk_mount_info *
vdk_mount_get_info (const vdk_mount *m)
{
  return m ? &m->info : NULL;
}

VDK_API const char *
vdk_mount_path (const vdk_mount *m)
{
  if (m == NULL)
    return NULL;
  return m->info.flat ? m->info.fuse_dir : m->info.mountpoint;
}

VDK_API vdk_mount *
vdk_mount_find (const char *path)
{
  struct vdk__mfs_state st;
  vdk__set_call ("vdk_mount_find");
  if (path == NULL) {
    vdk__errc (VDK_E_INVALID_ARG, EINVAL, "path must not be NULL");
    return NULL;
  }
  if (vdk__mfs_state_find (path, &st) == -1)
    return NULL;
  vdk_mount *m = calloc (1, sizeof *m);
  if (m == NULL) {
    vdk__mfs_state_free (&st);
    vdk__errc (VDK_E_NO_MEMORY, ENOMEM, "out of memory");
    return NULL;
  }
  m->st = st;
  fill_info (m);
  return m;
}

VDK_API int
vdk_mount_list (vdk_mount ***mounts, size_t *n)
{
  char **ids;
  vdk__set_call ("vdk_mount_list");
  if (mounts == NULL || n == NULL)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "NULL out-parameter");
  *mounts = NULL;
  *n = 0;
  int count = vdk__mfs_state_list (&ids);
  if (count < 0)
    return -1;
  vdk_mount **v = calloc ((size_t) count + 1, sizeof *v);
  for (int i = 0; i < count; i++) {
    vdk_mount *m = v ? handle_load (ids[i]) : NULL;
    if (m && m->st.detached && vdk__mfs_state_alive (&m->st))
      vdk_mount_release (m);      /* umount --force: no longer mounted */
    else if (m)
      v[(*n)++] = m;
    free (ids[i]);
  }
  free (ids);
  if (v == NULL)
    return vdk__errc (VDK_E_NO_MEMORY, ENOMEM, "out of memory");
  *mounts = v;
  vdk__set_call ("vdk_mount_list"); /* failed loads are not this error */
  return 0;
}

VDK_API void
vdk_mount_list_free (vdk_mount **mounts, size_t n)
{
  for (size_t i = 0; mounts && i < n; i++)
    vdk_mount_release (mounts[i]);
  free (mounts);
}

VDK_API int
vdk_unmount (vdk_mount *m, unsigned flags)
{
  const unsigned known = VDK_UNMOUNT_FORCE | VDK_UNMOUNT_DISCARD;
  vdk__set_call ("vdk_unmount");
  if (m == NULL)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "mount must not be NULL");
  if (flags & ~known)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "unknown unmount flags "
                      "0x%x", flags & ~known);
  bool force = flags & VDK_UNMOUNT_FORCE;
  int r = m->s ? vdk__mfs_session_stop (m->s, force)
    : vdk__mfs_teardown (&m->st, force, flags & VDK_UNMOUNT_DISCARD);
  if (r == -1) {
    fill_info (m);
    return -1;
  }
  mount_free (m);
  return 0;
}

VDK_API void
vdk_mount_release (vdk_mount *m)
{
  if (m == NULL)
    return;
  if (m->s && m->s->lock_fd >= 0)
    vdk__mfs_session_stop (m->s, true);
  mount_free (m);
}

VDK_API int
vdk_mount_cleanup (unsigned *cleaned, unsigned *in_use)
{
  unsigned c = 0, a = 0, failed = 0;
  vdk__set_call ("vdk_mount_cleanup");
  if (vdk__mfs_check_root () == -1)
    return -1;
  int r = vdk__mfs_cleanup (&c, &a, &failed);
  if (cleaned)
    *cleaned = c;
  if (in_use)
    *in_use = a;
  return r;
}
