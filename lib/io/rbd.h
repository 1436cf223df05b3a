/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the two files of the rbd io backend share (io/rbd.c: the store;
 * io/rbd-name.c: names, connections, name operations).  Private to
 * lib/io. */
#ifndef VDK_IO_RBD_H
#define VDK_IO_RBD_H

#include "io/io.h"
#include "io/rbd-lib.h"

/* Seconds a connection may take (monitors, then every monitor command)
 * when the name gives no timeout= option. */
#define RBD_DEFAULT_TIMEOUT 30
#define RBD_MAX_TIMEOUT 3600

/* A parsed name: rbd:POOL[/NAMESPACE]/IMAGE[@SNAP][:OPTION=VALUE]...
 * Options: conf=FILE, id=CLIENT (without "client."), keyring=FILE,
 * timeout=SECONDS.  `display` is the name without its options, for
 * messages. */
struct rbd_name {
  char *pool, *ns, *image, *snap;
  char *conf, *id, *keyring;
  unsigned timeout;
  char *display;
};

int vdk__rbd_parse (const char *spec, struct rbd_name *n);
void vdk__rbd_name_free (struct rbd_name *n);

/* A connected cluster and the pool (and namespace) of a name. */
struct rbd_conn {
  rados_t cluster;
  rados_ioctx_t ioctx;
  bool connected, have_ioctx;
};

/* Connect as the name says; -1 with the error set and its code:
 * VDK_E_CONNECT (no monitor answered within the timeout), VDK_E_AUTH
 * (key refused or missing), VDK_E_NOT_FOUND (no conf file, no pool),
 * VDK_E_UNSUPPORTED (librbd is not installed: io/rbd-lib.h). */
int vdk__rbd_connect (const struct rbd_name *n, struct rbd_conn *c);
void vdk__rbd_disconnect (struct rbd_conn *c);
/* Set the thread's error for a failed librbd/librados call (r < 0) on
 * the name: ENOENT, EPERM/EACCES, EBUSY, ETIMEDOUT each with its code. */
int vdk__rbd_err (const struct rbd_name *n, int r, const char *what);

extern const struct vdk_fs_ops vdk__rbd_fs_ops;

#endif /* VDK_IO_RBD_H */
