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

/* Name the public call in progress, for messages; also clears the error. */
void vdk__set_call (const char *call);
/* Set the thread's error to "CALL: message" and errno; returns -1. */
int vdk__err (int errnum, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
/* The same with an explicit vdk_error code (vdk__err derives the code
 * from errnum: ENOENT -> NOT_FOUND, EBUSY -> LOCKED, ...). */
int vdk__errc (int code, int errnum, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));
/* Prefix the current message with "prefix: " (adds context on the way
 * up) and return -1. */
int vdk__err_prefix (const char *fmt, ...)
  __attribute__ ((format (printf, 1, 2)));
/* The current message without the "CALL: " prefix. */
const char *vdk__err_body (void);
/* Name `call` again after a nested public call, keeping its error. */
void vdk__resume_call (const char *call);
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
