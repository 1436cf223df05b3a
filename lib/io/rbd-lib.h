/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* librbd and librados, loaded when the first rbd: name is used.
 *
 * libvdk does not link the Ceph libraries: they pull in some forty
 * more (libceph-common, boost, ibverbs, ...), which cost every process
 * that never names an RBD image about 40 ms and 20 MiB at start, and a
 * sanitizer build over a second at exit.  Only the headers are needed
 * to build; the calls go through the table `rbdl`, filled by
 * vdk__rbd_load() from librbd.so.1 and librados.so.2.  Private to
 * lib/io. */
#ifndef VDK_IO_RBD_LIB_H
#define VDK_IO_RBD_LIB_H

#include <rados/librados.h>
#include <rbd/librbd.h>

/* Every librados and librbd function vdk calls. */
#define VDK_RADOS_FUNCTIONS(X) \
  X (rados_create) X (rados_conf_set) X (rados_conf_read_file) \
  X (rados_conf_parse_env) X (rados_connect) X (rados_ioctx_create) \
  X (rados_ioctx_set_namespace) X (rados_ioctx_destroy) X (rados_shutdown)
#define VDK_RBD_FUNCTIONS(X) \
  X (rbd_open) X (rbd_open_read_only) X (rbd_close) X (rbd_get_size) \
  X (rbd_resize) X (rbd_read) X (rbd_write) X (rbd_discard) \
  X (rbd_write_zeroes) X (rbd_flush) X (rbd_diff_iterate2) \
  X (rbd_lock_acquire) X (rbd_lock_release) X (rbd_lock_get_owners) \
  X (rbd_lock_get_owners_cleanup) X (rbd_aio_create_completion) \
  X (rbd_aio_read) X (rbd_aio_write) X (rbd_aio_get_return_value) \
  X (rbd_aio_release) X (rbd_create4) X (rbd_image_options_create) \
  X (rbd_image_options_destroy) X (rbd_remove) X (rbd_rename) \
  X (rbd_snap_list) X (rbd_snap_list_end) X (rbd_snap_is_protected) \
  X (rbd_snap_unprotect) X (rbd_snap_remove) X (rbd_watchers_list) \
  X (rbd_watchers_list_cleanup)

#define VDK_RBD_MEMBER(f) __typeof__ (f) *f;
struct vdk__rbd_lib {
  VDK_RADOS_FUNCTIONS (VDK_RBD_MEMBER)
  VDK_RBD_FUNCTIONS (VDK_RBD_MEMBER)
};
#undef VDK_RBD_MEMBER

/* Filled by a successful vdk__rbd_load(); read-only afterwards. */
extern struct vdk__rbd_lib rbdl;

/* Load the libraries once per process (later calls only report the
 * first result).  0, or -1 with the error set: VDK_E_UNSUPPORTED when
 * librbd is not installed or lacks a function. */
int vdk__rbd_load (void);

#endif /* VDK_IO_RBD_LIB_H */
