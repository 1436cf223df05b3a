/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vix-internal.h - what the files of libvixDiskLib and libvixMntapi
 * share: the handle and connection structs behind the VDDK's opaque
 * pointers, the translation tables and the error helpers.
 *
 * The compatibility layer uses only vdk's public headers.  Values cross
 * between the VDDK's numbering and vdk's only through the tables in
 * vix-tables.c (open flags, disk types and adapters are numbered
 * differently: a cast would open a read-only request read-write).
 *
 * Both libraries are built from this tree together, so libvixMntapi may
 * look inside a VixDiskLibHandle (to reach its vdk_disk). */
#ifndef VDK_VIX_INTERNAL_H
#define VDK_VIX_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "vdk.h"
#include "vixDiskLib.h"

#define VIX_API __attribute__ ((visibility ("default")))

/* A connection: local (file) or to an NBD server. */
struct VixDiskLibConnectParam {
  bool remote;
  bool read_only;          /* ConnectEx readOnly: every open is read-only */
  char *server;
  uint32_t port;
  char *user;              /* TLS-PSK identity */
  char *password;          /* TLS-PSK key */
  char *key_file;          /* from the config file (vdk.pskFile) */
  char *certificates;      /* from the config file (vdk.certificates) */
  char *transports;        /* what vdk offers of the caller's list */
  VixDiskLibConnectParams *params; /* deep copy, for GetConnectParams */
};

/* An open disk. */
struct VixDiskLibHandleStruct {
  vdk_disk *disk;          /* NULL once closed inside (Attach, a failed
                              reopen): every call then fails */
  char *path;              /* the path vdk opened */
  unsigned vdk_flags;      /* VDK_OPEN_* it was opened with */
  uint32_t vix_flags;      /* VIXDISKLIB_FLAG_OPEN_* the caller gave */
  bool remote;
  bool has_child;          /* CreateChild made a child over it */
};

/* ---- vix-tables.c: translations, value by value ------------------- */

/* -1 for a value the other side has no name for. */
int vix__disk_type_to_vdk (int vix_type);
int vix__disk_type_from_vdk (int vdk_type);
int vix__adapter_to_vdk (int vix_adapter);
int vix__adapter_from_vdk (int vdk_adapter);
/* VIXDISKLIB_FLAG_OPEN_* -> VDK_OPEN_*; -1 for an unknown bit.  The
 * compression bits are dropped. */
int vix__open_flags_to_vdk (uint32_t vix_flags, unsigned *vdk_flags);
/* Type and adapter names, for messages. */
const char *vix__disk_type_name (int vix_type);

/* ---- vix-error.c: VixError codes and the thread's last error ------ */

/* The VixError for a vdk_error code (VIX_E_FAIL for an unknown one). */
VixError vix__error_from_vdk (int vdk_code);
/* The VDDK's text for a code, NULL if the code is unknown. */
const char *vix__error_text (VixError err);

/* Record a failure of `call` in this thread and return `err`: the detail
 * is the formatted message. */
VixError vix__fail (VixError err, const char *call, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));
/* Record the failure of the vdk call just made: its code translated, its
 * message as the detail. */
VixError vix__fail_vdk (const char *call);

/* ---- vix-conn.c ---------------------------------------------------- */

/* The major version InitEx was given (0 before InitEx). */
uint32_t vix__init_major (void);
/* Open `path` through `conn` (NULL = local) with vdk flags. */
vdk_disk *vix__open (const struct VixDiskLibConnectParam *conn,
                     const char *path, unsigned vdk_flags);

/* ---- vix-disk.c ------------------------------------------------------ */

/* Progress in vdk's form calling a VDDK progress function. */
struct vix_progress {
  VixDiskLibProgressFunc fn;
  void *data;
  int last;
};
int vix__progress (void *opaque, uint64_t done, uint64_t total);

/* Close a handle's disk and open it again with the same flags (after an
 * operation that needs the file closed).  0 or -1 (vdk's error set). */
int vix__reopen (VixDiskLibHandle h);

#endif /* VDK_VIX_INTERNAL_H */
