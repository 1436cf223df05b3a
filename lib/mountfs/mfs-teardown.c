/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Undo a mount in reverse order; clean up after dead serving processes.
 *
 * Order matters: the file system holds the loop device, the loop device
 * holds the FUSE file, the FUSE folder keeps the daemon serving.  Each
 * step is skipped when the state or the kernel says it is not there, so
 * the same function finishes half-made mounts (failure paths), normal
 * ones (`vdk umount`) and crashed ones (`vdk mount --cleanup`).
 *
 * Busy: umount2 without MNT_DETACH fails with EBUSY while files are open
 * under the mount point; that stops the teardown with a message and
 * changes nothing.  --force detaches lazily instead: the kernel finishes
 * when the last user goes, and the daemon exits after that, removing the
 * state.  Until then the state is kept, marked detached: `vdk mounts`
 * no longer lists it (nothing is mounted where the user looks), and
 * --cleanup still finds it should the daemon die.
 *
 * A loop device is only detached if its backing file is this mount's
 * volume file (/sys/block/loopN/loop/backing_file), so a stale state
 * never detaches somebody else's device that reused the number.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mountfs.h"

#define DAEMON_EXIT_MS 60000
#define FORCE_EXIT_MS 3000
#define LOOP_DETACH_MS 10000
#define FORCE_LOOP_MS 500

/* True if /dev/loopN is still attached to `volfile`. */
static bool
loop_is_ours (int nr, const char *volfile)
{
  char path[64], back[4096];
  snprintf (path, sizeof path, "/sys/block/loop%d/loop/backing_file", nr);
  FILE *f = fopen (path, "re");
  if (f == NULL)
    return vdk__mfs_loop_in_use (nr); /* no sysfs: trust the state */
  bool ours = false;
  if (fgets (back, sizeof back, f)) {
    back[strcspn (back, "\n")] = 0;
    ours = strcmp (back, volfile) == 0;
  }
  fclose (f);
  return ours;
}

/* The daemon's "error: " lines (vdk__mfs_state_log) become the error
 * message; other lines (library warnings on its stderr) do not fail. */
static int
daemon_log_error (const struct vdk__mfs_state *st)
{
  char path[4096], line[1024], msg[900] = "";
  snprintf (path, sizeof path, "%s/log", st->dir);
  FILE *f = fopen (path, "re");
  if (f == NULL)
    return 0;
  while (fgets (line, sizeof line, f)) {
    line[strcspn (line, "\n")] = 0;
    if (strncmp (line, "error: ", 7) != 0)
      continue;
    size_t len = strlen (msg), add = strlen (line + 7);
    if (len + add + 3 >= sizeof msg)
      break;
    if (len)
      memcpy (msg + len, "; ", 2), len += 2;
    memcpy (msg + len, line + 7, add + 1);
  }
  fclose (f);
  if (msg[0] == 0)
    return 0;
  return vdk__errc (VDK_E_IO, EIO, "the mount process reported: %s", msg);
}

/* Our file system is on the mount point: the state says so, or a crash
 * came between mount(2) and saving the state and the mount point holds
 * this mount's loop device. */
static bool
fs_is_ours (const struct vdk__mfs_state *st)
{
  char src[4096], dev[32];
  if (st->flat || !st->mountpoint[0])
    return false;
  if (st->mounted)
    return true;
  snprintf (dev, sizeof dev, "/dev/loop%d", st->loop);
  return st->loop >= 0
    && vdk__mfs_mount_source (st->mountpoint, src, sizeof src)
    && strcmp (src, dev) == 0;
}

int
vdk__mfs_undo_fs_and_loop (struct vdk__mfs_state *st, bool force)
{
  if (fs_is_ours (st)) {
    if (vdk__mfs_is_mounted (st->mountpoint)
        && vdk__mfs_umount (st->mountpoint, force, "mount point") == -1)
      return -1;
    st->mounted = false;
    vdk__mfs_state_save (st);
  }
  if (st->loop >= 0) {
    if (loop_is_ours (st->loop, st->volfile)
        && vdk__mfs_loop_detach (st->loop, force ? FORCE_LOOP_MS
                                             : LOOP_DETACH_MS) == -1
        && !force)
      return -1;
    st->loop = -1;
    vdk__mfs_state_save (st);
  }
  return 0;
}

int
vdk__mfs_teardown (struct vdk__mfs_state *st, bool force, bool discard)
{
  if (vdk__mfs_undo_fs_and_loop (st, force) == -1)
    return -1;
  if (st->fuse[0] && vdk__mfs_is_mounted (st->fuse)
      && vdk__mfs_umount (st->fuse, force, "FUSE folder") == -1)
    return -1;
  if (vdk__mfs_state_wait_exit (st, force ? FORCE_EXIT_MS
                             : DAEMON_EXIT_MS) == -1) {
    if (!force)
      return -1;
    /* Nothing is mounted where the user looks any more: that is what
     * --force asked for.  The daemon serves the last user, then removes
     * the state itself; until then the state is kept, marked, for
     * --cleanup.  A redo child to discard cannot go yet: say so. */
    if ((discard || st->discard) && st->redo[0])
      return vdk__errc (VDK_E_LOCKED, EBUSY, "unmounted lazily; the redo "
                        "disk %s is discarded when the mount process %d "
                        "has ended (when the last file under the mount is "
                        "closed): then run vdk mount --cleanup", st->redo,
                        (int) st->pid);
    st->detached = true;
    st->discard = st->discard || discard;
    vdk__mfs_state_save (st);
    return 0;
  }
  int r = daemon_log_error (st);
  struct vdk__saved_err saved;
  vdk__err_save (&saved);
  if ((discard || st->discard) && st->redo[0]
      && vdk_unlink (st->redo) == -1) {
    vdk__err_save (&saved);
    snprintf (saved.msg, sizeof saved.msg, "cannot discard the redo disk "
              "%.1000s: %.900s", st->redo, vdk_last_error ());
    r = -1;
  }
  if (vdk__mfs_state_remove (st) == -1 && r == 0)
    return -1;
  return r == -1 ? vdk__err_restore (&saved) : 0;
}

int
vdk__mfs_cleanup (unsigned *cleaned, unsigned *alive, unsigned *failed)
{
  char **ids;
  struct vdk__saved_err first = { 0 };
  int n = vdk__mfs_state_list (&ids);
  *cleaned = *alive = *failed = 0;
  if (n < 0)
    return -1;
  for (int i = 0; i < n; i++) {
    struct vdk__mfs_state st;
    if (vdk__mfs_state_load (ids[i], &st) == 0) {
      if (vdk__mfs_state_alive (&st))
        (*alive)++;
      else if (vdk__mfs_teardown (&st, true, false) == 0)
        (*cleaned)++;
      else {
        (*failed)++;
        if (*failed == 1) {
          vdk__err_save (&first);
          snprintf (first.msg, sizeof first.msg, "%s: %.2000s", ids[i],
                    vdk_last_error ());
        }
      }
      vdk__mfs_state_free (&st);
    }
    free (ids[i]);
  }
  free (ids);
  if (*failed)
    return vdk__err_restore (&first);
  return 0;
}
