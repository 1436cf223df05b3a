/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One mount served by this process: from checks to mount(2) and back.
 *
 * vdk__mfs_session_start, in order:
 *   1. checks of the machine and the request, before anything is made
 *      (root, FUSE, loop devices, the mount point, the volume and its
 *      file system's kernel support), so the common failures leave
 *      nothing behind at all;
 *   2. the state folder with its lock, the FUSE folder, the mount point
 *      when the caller gave none;
 *   3. the files (volumes opened on the caller's set);
 *   4. the FUSE folder mounted and served by a thread of this process
 *      (mfs-serve.c), up once the kernel's INIT was answered;
 *   5. a loop device attached to the volume's file, then mount(2).
 * The state is saved after each layer.  A failure undoes what was done
 * in reverse before returning.
 *
 * vdk__mfs_session_stop undoes the same: file system, loop device (both
 * vdk__mfs_undo_fs_and_loop, shared with teardown from other
 * processes), FUSE folder, the serving thread, the files (flushed), the
 * state.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mountfs.h"

/* How long a forced stop waits for the last user of a lazily unmounted
 * FUSE folder before it aborts the connection. */
#define FORCE_JOIN_MS 3000

/* What the volume must be to be mounted; fills fstype and ntfs3g. */
static int
check_volume (const struct vdk__mfs_request *req,
              const struct vdk_volume_info *v, char *fstype, size_t size,
              bool *ntfs3g)
{
  if (v == NULL && strchr (req->volume, '='))
    return -1;        /* UUID=, LABEL=: the lookup said what is wrong */
  if (v == NULL)
    return vdk__errc (VDK_E_NOT_FOUND, ENOENT, "no volume \"%s\" in the "
                      "set (vdk volumes lists them)", req->volume);
  if (v->flags & VDK_VOLUME_CONTAINER)
    return vdk__errc (VDK_E_INVALID_ARG, EINVAL, "volume %s is a container "
                      "(%s) that holds other volumes; mount one of those",
                      v->name, v->type_name);
  if (!v->readable)
    return vdk__errc (VDK_E_PARTIAL_CHAIN, ENXIO, "volume %s cannot be "
                      "read: %s", v->name,
                      v->problem ? v->problem : "members are missing");
  if (!req->fstype && !v->fs_type[0])
    return vdk__errc (VDK_E_UNSUPPORTED, ENODEV, "volume %s has no file "
                      "system that libblkid recognises; give the file "
                      "system type, or mount it flat (vdk mount --flat)",
                      v->name);
  snprintf (fstype, size, "%s", req->fstype ? req->fstype : v->fs_type);
  if (vdk__mfs_check_fstype (fstype, ntfs3g) == -1)
    return vdk__err_prefix ("volume %s", v->name);
  return 0;
}

static int
preflight (const struct vdk__mfs_request *req)
{
  /* A flat mount is FUSE alone, which a user may mount where the
   * machine allows it; a volume needs a loop device and mount(2). */
  if ((req->volume && vdk__mfs_check_root () == -1)
      || vdk__mfs_check_fuse () == -1)
    return -1;
  if (req->volume && vdk__mfs_check_loop () == -1)
    return -1;
  if (req->mountpoint)
    return vdk__mfs_check_dir (req->mountpoint,
                               req->volume ? "mount point" : "folder");
  return 0;
}

static int
fill_state (const struct vdk__mfs_request *req, struct vdk__mfs_state *st,
            const char *fstype)
{
  st->ndisks = 0;
  for (size_t i = 0; i < vdk_diskset_count (req->set)
         && st->ndisks < VDK__MFS_MAX_DISKS; i++) {
    const char *name = req->set->disks[i].name;
    char *abs = realpath (name, NULL);
    st->disks[st->ndisks] = abs ? abs : strdup (name);
    if (st->disks[st->ndisks++] == NULL)
      return vdk__errc (VDK_E_NO_MEMORY, ENOMEM, "out of memory");
  }
  snprintf (st->volume, sizeof st->volume, "%s",
            req->volume ? req->volume : "");
  snprintf (st->redo, sizeof st->redo, "%s", req->redo ? req->redo : "");
  snprintf (st->fstype, sizeof st->fstype, "%s", fstype);
  if (req->volume == NULL && req->mountpoint)
    snprintf (st->fuse, sizeof st->fuse, "%s", req->mountpoint);
  else
    snprintf (st->fuse, sizeof st->fuse, "%s/fuse", st->dir);
  if (req->volume == NULL)
    st->mountpoint[0] = 0;
  else if (req->mountpoint)
    snprintf (st->mountpoint, sizeof st->mountpoint, "%s", req->mountpoint);
  else
    snprintf (st->mountpoint, sizeof st->mountpoint, "%s/mnt", st->dir);
  st->loop = -1;
  st->pid = getpid ();
  st->writable = req->writable;
  st->flat = req->volume == NULL;
  st->discard = req->discard;
  st->mounted = false;
  return 0;
}

/* The folders the library makes itself: FUSE folder, mount point. */
static int
make_folders (const struct vdk__mfs_request *req, struct vdk__mfs_state *st)
{
  if ((req->volume || !req->mountpoint) && mkdir (st->fuse, 0700) == -1)
    return vdk__err (errno, "cannot make %s: %s", st->fuse,
                     strerror (errno));
  if (req->volume && !req->mountpoint
      && mkdir (st->mountpoint, 0755) == -1)
    return vdk__err (errno, "cannot make %s: %s", st->mountpoint,
                     strerror (errno));
  return 0;
}

/* Loop device and file system; the state is saved after each. */
static int
attach_and_mount (const struct vdk__mfs_request *req,
                  struct vdk__mfs_session *s, bool ntfs3g)
{
  struct vdk__mfs_state *st = &s->st;
  snprintf (st->volfile, sizeof st->volfile, "%s/%s", st->fuse,
            s->files.f[s->files.target].name);
  int loop_fd = -1;
  int nr = vdk__mfs_loop_attach (st->volfile, req->writable, &loop_fd);
  if (nr < 0)
    return -1;
  st->loop = nr;
  vdk__mfs_state_save (st);
  int r = vdk__mfs_mount_fs (nr, st->mountpoint, st->fstype, req->opts,
                             req->writable, ntfs3g);
  if (r == 0) {
    st->mounted = true;
    vdk__mfs_state_save (st);
  }
  /* With AUTOCLEAR the device now lives as long as the mount, or is
   * cleared right here if mounting failed. */
  close (loop_fd);
  return r;
}

/* Undo a start that failed at any step, keeping its error. */
static int
start_failed (struct vdk__mfs_session *s)
{
  struct vdk__saved_err saved;
  vdk__err_save (&saved);
  if (s->lock_fd >= 0) {
    vdk__mfs_undo_fs_and_loop (&s->st, true);
    if (s->srv) {
      vdk__mfs_umount (s->st.fuse, true, "FUSE folder");
      vdk__mfs_server_join (s->srv, FORCE_JOIN_MS);
      vdk__mfs_server_free (s->srv);
      s->srv = NULL;
    }
    vdk__mfs_state_remove (&s->st);
    close (s->lock_fd);
    s->lock_fd = -1;
  }
  vdk__mfs_files_free (&s->files);
  vdk__mfs_state_free (&s->st);
  return vdk__err_restore (&saved);
}

int
vdk__mfs_session_start (const struct vdk__mfs_request *req,
                        struct vdk__mfs_session *s)
{
  char fstype[32] = "";
  bool ntfs3g = false;
  memset (s, 0, sizeof *s);
  s->lock_fd = -1;
  s->files.target = -1;
  if (preflight (req) == -1)
    return -1;
  const struct vdk_volume_info *v = NULL;
  if (req->volume) {
    v = vdk__vol_find (req->set, req->volume);
    if (check_volume (req, v, fstype, sizeof fstype, &ntfs3g) == -1)
      return -1;
  }
  if (vdk__mfs_state_create (&s->st, &s->lock_fd) == -1)
    return -1;
  if (fill_state (req, &s->st, fstype) == -1)
    return start_failed (s);
  if (v)              /* its name, however the caller named it */
    snprintf (s->st.volume, sizeof s->st.volume, "%s", v->name);
  if (make_folders (req, &s->st) == -1
      || vdk__mfs_state_save (&s->st) == -1
      || vdk__mfs_files_build (req->set, v, req->writable, &s->files) == -1)
    return start_failed (s);
  if (v && s->files.target < 0) {
    vdk__errc (VDK_E_FAILED, ENOENT, "volume %s has no file to mount",
               v->name);
    return start_failed (s);
  }
  /* A read-only flat folder keeps the page cache; under a loop device
   * or while writable, direct I/O (see mfs-serve.c). */
  s->srv = vdk__mfs_server_mount (s->st.fuse, &s->files, req->writable,
                                  !v && !req->writable, req->max_read);
  if (s->srv == NULL || vdk__mfs_server_start (s->srv) == -1)
    return start_failed (s);
  if (v && attach_and_mount (req, s, ntfs3g) == -1)
    return start_failed (s);
  return 0;
}

int
vdk__mfs_session_stop (struct vdk__mfs_session *s, bool force)
{
  if (vdk__mfs_undo_fs_and_loop (&s->st, force) == -1)
    return -1;
  if (s->srv) {
    if (vdk__mfs_is_mounted (s->st.fuse)
        && vdk__mfs_umount (s->st.fuse, force, "FUSE folder") == -1)
      return -1;
    vdk__mfs_server_join (s->srv, force ? FORCE_JOIN_MS : -1);
    vdk__mfs_server_free (s->srv);
    s->srv = NULL;
  }
  int r = vdk__mfs_files_flush (&s->files);
  struct vdk__saved_err saved;
  vdk__err_save (&saved);
  vdk__mfs_files_free (&s->files);
  vdk__mfs_state_remove (&s->st);
  vdk__mfs_state_free (&s->st);
  if (s->lock_fd >= 0)
    close (s->lock_fd);
  s->lock_fd = -1;
  return r == -1 ? vdk__err_restore (&saved) : 0;
}
