/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Errors and logging, shared by every layer of libvdk (lib/error.c).
 *
 * Layers, bottom up (arrows point down only; each has one header that
 * includes only the ones below it):
 *   error.h          this file: the thread's last error, log sinks
 *   io/io.h          byte stores under a disk (file, mem, crash); one
 *                    choke point vdk__io_pread/pwrite checks bounds and
 *                    read-only, counts calls and hosts fault injection.
 *   format/format.h  descriptor text; extents (flat, sparse KDMV,
 *                    stream, COWD, seSparse, zero) behind one ops table,
 *                    called only through the vdk__ext_* wrappers.
 *   disk/disk.h      links (one descriptor or raw file and its extents),
 *                    chains of links, CID rules, path confinement.
 *   ops/ops.h        whole-disk operations: create, clone, info, grow...
 *   mount/mount-internal.h  volumes over a disk set (public disk API only).
 *
 * Everything internal is prefixed vdk__ and hidden from the shared
 * object.
 */
#ifndef VDK_ERROR_H
#define VDK_ERROR_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <errno.h>
#include <inttypes.h>

#include "vdk.h"
#include "vdk-common.h"

#define SECTOR 512u

/* ---- errors and logging (error.c) ------------------------------------ */

/* The thread's last error keeps apart, as libnbd does: the public call
 * that failed (vdk_last_error_call), the message, which names the file
 * and the cause but not the call (vdk_last_error), the errno value and
 * the vdk_error code.
 *
 * Every public call names itself on entry with vdk__set_call ("vdk_x").
 * It is a scope, not a function call: the name holds until the enclosing
 * block ends.  The outermost call of a thread clears the error and gives
 * its name; a public call the library makes inside another (vdk_clone
 * calling vdk_create, a disk set calling vdk_pread) neither renames nor
 * clears, so an error reports under the call the program made.  A call
 * made from inside a callback (progress) counts as nested too.
 * (A cleanup attribute, like SCOPED_LOCK: the scope must end on every
 * return path, and it owns no resource, so it mixes with `goto out`.) */
bool vdk__call_enter (const char *call);
void vdk__call_leave (bool *outer);
#define VDK__CALL_CAT_(a, b) a##b
#define VDK__CALL_CAT(a, b) VDK__CALL_CAT_ (a, b)
#define vdk__set_call(call)                                             \
  __attribute__ ((cleanup (vdk__call_leave), unused))                   \
  bool VDK__CALL_CAT (vdk__call_scope_, __LINE__) = vdk__call_enter (call)

/* A damaged on-disk structure, as Linux file systems report it
 * (EFSCORRUPTED): "Structure needs cleaning".  Its code is
 * VDK_E_CORRUPT. */
#ifndef EFSCORRUPTED
#define EFSCORRUPTED EUCLEAN
#endif

/* Set the thread's error: message (printf) and errno; returns -1.  The
 * vdk_error code follows from errnum: ENOENT, ENXIO -> NOT_FOUND, EEXIST ->
 * EXISTS, EINVAL -> INVALID_ARG (a bad argument from the caller, and
 * nothing else), EFSCORRUPTED -> CORRUPT, ENOTSUP -> UNSUPPORTED, EBUSY
 * -> LOCKED, EROFS -> READ_ONLY, ENOSPC/EDQUOT/EFBIG -> NO_SPACE (EFBIG:
 * a size limit of the format, not a full host), EIO -> IO,
 * ECANCELED -> CANCELLED, ENODATA -> KEY_NOT_FOUND, ENOMEM -> NO_MEMORY,
 * EACCES/EPERM -> ACCESS_DENIED. */
int vdk__err (int errnum, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
/* The same with an explicit vdk_error code, for the codes no errno
 * names (CID_MISMATCH, PARTIAL_CHAIN, OUT_OF_RANGE); errnum 0 takes the
 * code's usual errno (vdk__errno_of). */
int vdk__errc (int code, int errnum, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));
/* The errno value that goes with a vdk_error code (EFSCORRUPTED for
 * CORRUPT and CID_MISMATCH, ENOENT for PARTIAL_CHAIN, ...). */
int vdk__errno_of (int code);
/* Prefix the current message with "prefix: " (adds context on the way
 * up) and return -1; errno and code stay. */
int vdk__err_prefix (const char *fmt, ...)
  __attribute__ ((format (printf, 1, 2)));
/* Change the current error's code (and errno, to the code's own) and
 * return -1: a missing parent (NOT_FOUND) is a PARTIAL_CHAIN. */
int vdk__err_recode (int code);

/* An error carried across threads: a worker saves its own thread's
 * error, the calling thread raises it again, code and all. */
struct vdk__saved_err {
  int code, errnum;
  char msg[2048];
};
void vdk__err_save (struct vdk__saved_err *s);
int vdk__err_restore (const struct vdk__saved_err *s);

void vdk__info (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void vdk__warn (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void vdk__panic (const char *fmt, ...)
  __attribute__ ((format (printf, 1, 2), noreturn));
/* Random bytes for CIDs and UUIDs (lib/random.c): getrandom(2), else
 * /dev/urandom; never a predictable generator.  -1 with the error set
 * when neither works. */
int vdk__random (void *buf, size_t len);
int vdk__random32 (uint32_t *out);
/* Tests: replace getrandom(2) (NULL = the real one) and the fallback
 * device's path. */
extern ssize_t (*vdk__getrandom_hook) (void *buf, size_t len);
extern const char *vdk__urandom_path;

#endif /* VDK_ERROR_H */
