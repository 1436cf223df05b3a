/* One mount from start to end: daemon, loop device, file system.
 *
 * vdkfm_mount, in the `vdk mount` process (the caller has opened the
 * disks, so open errors reach the user directly):
 *   1. make the state folder and take its lock;
 *   2. mount the FUSE folder (the kernel queues its INIT);
 *   3. fork: the child becomes the daemon (setsid, stdio to /dev/null and
 *      the state's log), serves the folder, and on exit flushes and
 *      closes the disks through req->finish.  The parent waits on a pipe
 *      for the byte the daemon writes when it answered INIT, or for EOF
 *      if it died, so a broken daemon is an error here, not a hang later;
 *   4. attach a loop device to the volume's file, then mount(2) it.
 * The state is saved after each step.  On any failure the steps done are
 * undone by vdkfm_teardown, in reverse, before returning.
 *
 * The parent never closes the disks after the fork: the daemon owns
 * them (a close here would flush and rewrite metadata under its feet);
 * it only drops its copies of all descriptors but the lock and the pipe.
 *
 * vdkfm_teardown (used by `vdk umount`, failure paths and --cleanup):
 * umount the file system (EBUSY stops here unless forced), detach the
 * loop device if it is still ours, unmount the FUSE folder, wait for
 * the daemon's lock to go (it has flushed and closed by then), report
 * what the daemon logged, drop the --redo child if asked, remove the
 * state.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vdk.h>

#include "vdk-common.h"
#include "fusemount.h"

#define DAEMON_EXIT_MS 60000
#define FORCE_EXIT_MS 5000
#define LOOP_DETACH_MS 10000

static void
fill_state (const struct vdkfm_request *req, struct vdkfm_state *st)
{
  st->ndisks = 0;
  for (int i = 0; i < req->ndisks && i < VDKFM_MAX_DISKS; i++)
    st->disks[st->ndisks++] = strdup (req->disks[i]);
  snprintf (st->volume, sizeof st->volume, "%s",
            req->volume ? req->volume : "");
  snprintf (st->redo, sizeof st->redo, "%s", req->redo ? req->redo : "");
  snprintf (st->fstype, sizeof st->fstype, "%s",
            req->fstype ? req->fstype : "");
  if (req->fuse_dir)
    snprintf (st->fuse, sizeof st->fuse, "%s", req->fuse_dir);
  else
    snprintf (st->fuse, sizeof st->fuse, "%s/fuse", st->dir);
  if (req->volfile >= 0)
    snprintf (st->volfile, sizeof st->volfile, "%s/%s", st->fuse,
              req->files[req->volfile].name);
  snprintf (st->mountpoint, sizeof st->mountpoint, "%s",
            req->mountpoint ? req->mountpoint : "");
  st->loop = -1;
  st->pid = 0;
  st->writable = req->writable;
  st->flat = req->volfile < 0;
  st->discard = req->discard;
  st->mounted = false;
}

/* The daemon: never returns. */
static void
daemon_main (struct vdkfm_server *srv, const struct vdkfm_request *req,
             const struct vdkfm_state *st, int ready_fd)
{
  char log[4096], err[1024];
  setsid ();
  if (chdir ("/") == -1)
    _exit (1);
  int null = open ("/dev/null", O_RDWR);
  snprintf (log, sizeof log, "%s/log", st->dir);
  int logfd = open (log, O_WRONLY | O_CREAT | O_APPEND, 0600);
  dup2 (null, 0);
  dup2 (null, 1);
  dup2 (logfd >= 0 ? logfd : null, 2);
  if (vdkfm_server_run (srv, ready_fd) == -1)
    vdkfm_state_log (st, "error: the FUSE loop failed");
  if (req->finish (req->opaque, err, sizeof err) == -1)
    vdkfm_state_log (st, "error: closing the disks failed: %s", err);
  _exit (0);
}

/* Close every descriptor from 3 up except `a` and `b`. */
static void
close_all_but (int a, int b)
{
  int lo = MIN (a, b), hi = MAX (a, b);
  if (lo > 3)
    close_range (3, (unsigned) lo - 1, 0);
  if (hi > lo + 1)
    close_range ((unsigned) lo + 1, (unsigned) hi - 1, 0);
  close_range ((unsigned) hi + 1, ~0u, 0);
}

/* Fork the daemon; 0 when it serves, -1 if it could not start. */
static int
start_daemon (struct vdkfm_server *srv, const struct vdkfm_request *req,
              struct vdkfm_state *st, int lock_fd)
{
  int p[2];
  if (pipe2 (p, O_CLOEXEC) == -1)
    return vdkfm_fail ("pipe: %s", strerror (errno));
  fflush (NULL);
  pid_t pid = fork ();
  if (pid == -1) {
    close (p[0]);
    close (p[1]);
    return vdkfm_fail ("fork: %s", strerror (errno));
  }
  if (pid == 0) {
    close (p[0]);
    daemon_main (srv, req, st, p[1]);
  }
  close (p[1]);
  vdkfm_server_forget (srv);
  /* The daemon owns the disks now.  Drop this process's copies of their
   * descriptors: they share open file descriptions (and so OFD locks)
   * with the daemon's, and would keep the disks locked after the daemon
   * closed them (a failed --redo mount could not remove its child). */
  close_all_but (p[0], lock_fd);
  st->pid = pid;
  vdkfm_state_save (st);
  char ok = 0;
  ssize_t r;
  while ((r = read (p[0], &ok, 1)) == -1 && errno == EINTR)
    ;
  close (p[0]);
  if (r == 1 && ok == 1)
    return 0;
  errno = EIO;
  return vdkfm_fail ("the mount process %d exited before it served the "
                     "FUSE folder %s", (int) pid, st->fuse);
}

/* Loop device and file system; the state is saved after each. */
static int
attach_and_mount (const struct vdkfm_request *req, struct vdkfm_state *st)
{
  int loop_fd = -1;
  int nr = vdkfm_loop_attach (st->volfile, req->writable, &loop_fd);
  if (nr < 0)
    return -1;
  st->loop = nr;
  vdkfm_state_save (st);
  int r = vdkfm_mount_fs (nr, req->mountpoint, req->fstype, req->opts,
                          req->writable, req->ntfs3g);
  if (r == 0) {
    st->mounted = true;
    vdkfm_state_save (st);
  }
  /* With AUTOCLEAR the device now lives as long as the mount, or is
   * cleared right here if mounting failed. */
  close (loop_fd);
  return r;
}

static void
fail_cleanup (struct vdkfm_state *st, int lock_fd)
{
  char msg[1024];
  snprintf (msg, sizeof msg, "%s", vdkfm_error ());
  int e = errno;
  close (lock_fd);
  vdkfm_teardown (st, false, false);
  if (st->pid > 0)
    waitpid (st->pid, NULL, 0);
  vdkfm_state_free (st);
  errno = e;
  vdkfm_fail ("%s", msg);
}

/* A failure before the fork: the caller's process still owns the disks. */
static int
fail_before_fork (const struct vdkfm_request *req, struct vdkfm_state *st,
                  int lock_fd)
{
  char err[1024], ferr[1024];
  int e = errno;
  snprintf (err, sizeof err, "%s", vdkfm_error ());
  if (lock_fd >= 0) {
    close (lock_fd);
    vdkfm_state_remove (st);
  }
  vdkfm_state_free (st);
  req->finish (req->opaque, ferr, sizeof ferr);
  errno = e;
  return vdkfm_fail ("%s", err);
}

int
vdkfm_mount (const struct vdkfm_request *req, struct vdkfm_state *st)
{
  int lock_fd = -1;
  memset (st, 0, sizeof *st);
  if (vdkfm_state_create (st, &lock_fd) == -1)
    return fail_before_fork (req, st, -1);
  fill_state (req, st);
  if (!req->fuse_dir && mkdir (st->fuse, 0755) == -1) {
    vdkfm_fail ("cannot make %s: %s", st->fuse, strerror (errno));
    return fail_before_fork (req, st, lock_fd);
  }
  vdkfm_state_save (st);
  struct vdkfm_server *srv = vdkfm_server_mount (st->fuse, req->files,
                                                 req->nfiles, req->writable,
                                                 req->max_read);
  if (srv == NULL)
    return fail_before_fork (req, st, lock_fd);
  int r = start_daemon (srv, req, st, lock_fd);
  if (r == -1 && st->pid == 0) {
    vdkfm_server_abort (srv);
    return fail_before_fork (req, st, lock_fd);
  }
  /* From here on the daemon owns the disks. */
  if (r == -1 || (!st->flat && attach_and_mount (req, st) == -1)) {
    fail_cleanup (st, lock_fd);
    return -1;
  }
  close (lock_fd);
  return 0;
}
