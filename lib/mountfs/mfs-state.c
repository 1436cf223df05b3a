/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-mount state under <rundir>/<id>/.
 *
 * The daemon's liveness is a lock, not a pid: `lock` is flock()ed by the
 * mount process before it forks, and the daemon inherits that open file
 * description.  flock locks belong to the description, so the lock lives
 * exactly as long as some process of the mount holds it; once the
 * daemon exits (or is killed) anybody can take it.  This avoids pid reuse
 * and zombies confusing `vdk mounts` and `vdk mount --cleanup`.
 *
 * `state` is a key=value file replaced with rename(2), so readers see an
 * old or a new version, never half of one; it is rewritten as each layer
 * (FUSE, loop, file system) comes up, so a crash at any point leaves
 * enough to undo.  Paths with a newline are refused where they enter.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mountfs.h"

const char *
vdk__mfs_rundir (void)
{
  static __thread char buf[4096];
  const char *env = getenv ("VDK_RUN_DIR");
  if (env && *env)
    return env;
  if (geteuid () == 0)
    return "/run/vdk";
  env = getenv ("XDG_RUNTIME_DIR");
  if (env && *env)
    snprintf (buf, sizeof buf, "%s/vdk", env);
  else
    snprintf (buf, sizeof buf, "/tmp/vdk-%u", (unsigned) geteuid ());
  return buf;
}

static int
path_in (const struct vdk__mfs_state *st, const char *name, char *buf,
         size_t size)
{
  int n = snprintf (buf, size, "%s/%s", st->dir, name);
  return n > 0 && (size_t) n < size ? 0 : -1;
}

int
vdk__mfs_state_create (struct vdk__mfs_state *st, int *lock_fd)
{
  const char *run = vdk__mfs_rundir ();
  char lock[4096];
  if (mkdir (run, 0755) == -1 && errno != EEXIST)
    return vdk__err (errno, "cannot make the state folder %s: %s", run,
                       strerror (errno));
  for (int i = 0;; i++) {
    if (i == 0)
      snprintf (st->id, sizeof st->id, "%d", (int) getpid ());
    else
      snprintf (st->id, sizeof st->id, "%d-%d", (int) getpid (), i);
    snprintf (st->dir, sizeof st->dir, "%s/%s", run, st->id);
    if (mkdir (st->dir, 0700) == 0)
      break;
    if (errno != EEXIST || i > 100)
      return vdk__err (errno, "cannot make %s: %s", st->dir, strerror (errno));
  }
  path_in (st, "lock", lock, sizeof lock);
  int fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd == -1 || flock (fd, LOCK_EX | LOCK_NB) == -1) {
    int e = errno;
    if (fd != -1)
      close (fd);
    rmdir (st->dir);
    return vdk__err (e, "cannot lock %s: %s", lock, strerror (e));
  }
  *lock_fd = fd;
  return 0;
}

static void
write_state (FILE *f, const struct vdk__mfs_state *st)
{
  fprintf (f, "id=%s\npid=%d\n", st->id, (int) st->pid);
  for (int i = 0; i < st->ndisks; i++)
    fprintf (f, "disk=%s\n", st->disks[i]);
  fprintf (f, "volume=%s\nvolfile=%s\nfuse=%s\nmountpoint=%s\n"
           "fstype=%s\nloop=%d\nwritable=%d\nflat=%d\ndiscard=%d\n"
           "mounted=%d\nredo=%s\ndetached=%d\n",
           st->volume, st->volfile, st->fuse, st->mountpoint, st->fstype,
           st->loop, st->writable, st->flat, st->discard, st->mounted,
           st->redo, st->detached);
}

int
vdk__mfs_state_save (const struct vdk__mfs_state *st)
{
  char tmp[4096], path[4096];
  path_in (st, "state.tmp", tmp, sizeof tmp);
  path_in (st, "state", path, sizeof path);
  FILE *f = fopen (tmp, "we");
  if (f == NULL)
    return vdk__err (errno, "cannot write %s: %s", tmp, strerror (errno));
  write_state (f, st);
  if (fclose (f) != 0 || rename (tmp, path) == -1) {
    int e = errno;
    unlink (tmp);
    return vdk__err (e, "cannot write %s: %s", path, strerror (e));
  }
  return 0;
}

static void
copy_str (char *dst, size_t size, const char *src)
{
  snprintf (dst, size, "%s", src);
}

static void
parse_line (struct vdk__mfs_state *st, const char *key, const char *val)
{
  if (strcmp (key, "pid") == 0)
    st->pid = (pid_t) atoi (val);
  else if (strcmp (key, "disk") == 0 && st->ndisks < VDK__MFS_MAX_DISKS)
    st->disks[st->ndisks++] = strdup (val);
  else if (strcmp (key, "volume") == 0)
    copy_str (st->volume, sizeof st->volume, val);
  else if (strcmp (key, "volfile") == 0)
    copy_str (st->volfile, sizeof st->volfile, val);
  else if (strcmp (key, "fuse") == 0)
    copy_str (st->fuse, sizeof st->fuse, val);
  else if (strcmp (key, "mountpoint") == 0)
    copy_str (st->mountpoint, sizeof st->mountpoint, val);
  else if (strcmp (key, "fstype") == 0)
    copy_str (st->fstype, sizeof st->fstype, val);
  else if (strcmp (key, "redo") == 0)
    copy_str (st->redo, sizeof st->redo, val);
  else if (strcmp (key, "loop") == 0)
    st->loop = atoi (val);
  else if (strcmp (key, "writable") == 0)
    st->writable = atoi (val) != 0;
  else if (strcmp (key, "flat") == 0)
    st->flat = atoi (val) != 0;
  else if (strcmp (key, "discard") == 0)
    st->discard = atoi (val) != 0;
  else if (strcmp (key, "mounted") == 0)
    st->mounted = atoi (val) != 0;
  else if (strcmp (key, "detached") == 0)
    st->detached = atoi (val) != 0;
}

int
vdk__mfs_state_load (const char *id, struct vdk__mfs_state *st)
{
  char path[4096], line[8192];
  memset (st, 0, sizeof *st);
  st->loop = -1;
  copy_str (st->id, sizeof st->id, id);
  snprintf (st->dir, sizeof st->dir, "%s/%s", vdk__mfs_rundir (), id);
  path_in (st, "state", path, sizeof path);
  FILE *f = fopen (path, "re");
  if (f == NULL) {
    struct stat sb;
    if (errno == ENOENT && stat (st->dir, &sb) == 0)
      return 0; /* crashed before the first save: nothing but the folder */
    return vdk__err (errno, "cannot read %s: %s", path, strerror (errno));
  }
  while (fgets (line, sizeof line, f)) {
    line[strcspn (line, "\n")] = 0;
    char *eq = strchr (line, '=');
    if (eq == NULL)
      continue;
    *eq = 0;
    parse_line (st, line, eq + 1);
  }
  fclose (f);
  return 0;
}

void
vdk__mfs_state_free (struct vdk__mfs_state *st)
{
  for (int i = 0; i < st->ndisks; i++)
    free (st->disks[i]);
  st->ndisks = 0;
}

int
vdk__mfs_state_remove (const struct vdk__mfs_state *st)
{
  static const char *const files[] = { "state", "state.tmp", "log", "lock" };
  char path[4096];
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    path_in (st, files[i], path, sizeof path);
    unlink (path);
  }
  path_in (st, "fuse", path, sizeof path);
  rmdir (path);
  path_in (st, "mnt", path, sizeof path);
  rmdir (path);
  if (rmdir (st->dir) == -1 && errno != ENOENT)
    return vdk__err (errno, "cannot remove %s: %s", st->dir, strerror (errno));
  return 0;
}

bool
vdk__mfs_state_alive (const struct vdk__mfs_state *st)
{
  char path[4096];
  path_in (st, "lock", path, sizeof path);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd == -1)
    return false;
  bool alive = flock (fd, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK;
  close (fd);
  return alive;
}

int
vdk__mfs_state_wait_exit (const struct vdk__mfs_state *st, int timeout_ms)
{
  struct timespec ts = { 0, 20 * 1000000L };
  for (int waited = 0; vdk__mfs_state_alive (st); waited += 20) {
    if (waited >= timeout_ms) {
      return vdk__errc (VDK_E_FAILED, ETIMEDOUT,
                        "the mount process %d did not exit within %d s",
                         (int) st->pid, timeout_ms / 1000);
    }
    nanosleep (&ts, NULL);
  }
  return 0;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
vdk__mfs_state_list (char ***ids)
{
  DIR *d = opendir (vdk__mfs_rundir ());
  size_t n = 0, cap = 0;
  char **v = NULL;
  *ids = NULL;
  if (d == NULL)
    return errno == ENOENT ? 0 : vdk__err (errno, "cannot read %s: %s",
                                             vdk__mfs_rundir (),
                                             strerror (errno));
  for (struct dirent *e; (e = readdir (d)) != NULL;) {
    if (e->d_name[0] == '.' || e->d_type != DT_DIR)
      continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 8;
      char **nv = realloc (v, cap * sizeof *v);
      if (nv == NULL)
        break;
      v = nv;
    }
    v[n++] = strdup (e->d_name);
  }
  closedir (d);
  if (n)
    qsort (v, n, sizeof *v, cmp_str);
  *ids = v;
  return (int) n;
}

static bool
same_path (const char *a, const char *b)
{
  char ra[4096], rb[4096];
  if (strcmp (a, b) == 0)
    return true;
  if (realpath (a, ra) == NULL || realpath (b, rb) == NULL)
    return false;
  return strcmp (ra, rb) == 0;
}

int
vdk__mfs_state_find (const char *path, struct vdk__mfs_state *st)
{
  char **ids;
  int n = vdk__mfs_state_list (&ids);
  int found = -1;
  for (int i = 0; i < n; i++) {
    if (found == -1 && vdk__mfs_state_load (ids[i], st) == 0) {
      const char *mp = st->flat ? st->fuse : st->mountpoint;
      if (!st->detached
          && ((*mp && same_path (mp, path)) || strcmp (st->id, path) == 0))
        found = i;
      else
        vdk__mfs_state_free (st);
    }
    free (ids[i]);
  }
  free (ids);
  if (found == -1)
    return vdk__errc (VDK_E_NOT_FOUND, ENOENT, "%s is not mounted by vdk "
                      "(vdk mounts lists what is)", path);
  return 0;
}

void
vdk__mfs_state_log (const struct vdk__mfs_state *st, const char *fmt, ...)
{
  char path[4096];
  path_in (st, "log", path, sizeof path);
  FILE *f = fopen (path, "ae");
  if (f == NULL)
    return;
  va_list ap;
  va_start (ap, fmt);
  vfprintf (f, fmt, ap);
  va_end (ap);
  fputc ('\n', f);
  fclose (f);
}
