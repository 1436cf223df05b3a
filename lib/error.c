/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Thread-local errors and the log sinks.
 *
 * The thread's error keeps the failing public call, the message and the
 * errno/vdk_error code apart.  A public call opens a call scope with
 * vdk__set_call() (error.h): the outermost one names the call and
 * clears the error; nested ones (the library calling its own public
 * calls, or a callback calling back in) change nothing.  Lower layers
 * report with vdk__err()/vdk__errc(), which record the message, the
 * errno and the code, and the scope's call name beside them; context is
 * added on the way up with vdk__err_prefix() ("base.vmdk: grain table
 * ...").  The library never prints by itself: vdk__info/vdk__warn go to
 * the sinks given to vdk_init, which default to stderr. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static __thread const char *cur_call;   /* outermost call in progress */
static __thread char err_msg[2048];
static __thread const char *err_call;   /* the call that failed */
static __thread int err_num;
static __thread int err_code;

static void
default_sink (const char *fmt, va_list ap)
{
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
}

static vdk_log_fn info_sink = default_sink;
static vdk_log_fn warn_sink = default_sink;
static vdk_log_fn panic_sink = default_sink;

VDK_API int
vdk_init (vdk_log_fn info, vdk_log_fn warning, vdk_log_fn panic)
{
  info_sink = info ? info : default_sink;
  warn_sink = warning ? warning : default_sink;
  panic_sink = panic ? panic : default_sink;
  return 0;
}

VDK_API void
vdk_exit (void)
{
  info_sink = warn_sink = panic_sink = default_sink;
}

VDK_API const char *
vdk_last_error (void)
{
  return err_msg[0] ? err_msg : "no error";
}

VDK_API const char *
vdk_last_error_call (void)
{
  return err_code && err_call ? err_call : "";
}

VDK_API int
vdk_last_errno (void)
{
  return err_num;
}

VDK_API int
vdk_last_error_code (void)
{
  return err_code;
}

VDK_API const char *
vdk_error_text (int code)
{
  static const char *const text[] = {
    [VDK_E_OK] = "no error",
    [VDK_E_FAILED] = "internal error",
    [VDK_E_NOT_FOUND] = "not found",
    [VDK_E_EXISTS] = "file exists",
    [VDK_E_INVALID_ARG] = "invalid argument",
    [VDK_E_CORRUPT] = "disk is damaged and needs repair",
    [VDK_E_UNSUPPORTED] = "format, version or feature not supported",
    [VDK_E_CID_MISMATCH] = "CID mismatch: the parent changed after the "
                           "child was made",
    [VDK_E_PARTIAL_CHAIN] = "a parent disk is missing",
    [VDK_E_LOCKED] = "disk is in use",
    [VDK_E_READ_ONLY] = "read-only",
    [VDK_E_NO_SPACE] = "no space left",
    [VDK_E_IO] = "I/O error",
    [VDK_E_OUT_OF_RANGE] = "out of range",
    [VDK_E_CANCELLED] = "cancelled",
    [VDK_E_KEY_NOT_FOUND] = "metadata key not found",
    [VDK_E_NO_MEMORY] = "out of memory",
    [VDK_E_AUTH] = "authentication failed",
    [VDK_E_CONNECT] = "cannot connect to the server",
    [VDK_E_CONNECTION_LOST] = "connection lost",
    [VDK_E_NOT_SUPPORTED_BY_TRANSPORT] = "not supported by this transport",
    [VDK_E_ACCESS_DENIED] = "access denied",
    [VDK_E_TLS] = "TLS required by one side and refused by the other",
    [VDK_E_TICKET] = "unknown, expired or revoked ticket",
    [VDK_E_HAS_SNAPSHOTS] = "the disk has snapshots",
  };

  if (code < 0 || (size_t) code >= sizeof text / sizeof text[0]
      || !text[code])
    return "unknown error code";
  return text[code];
}

/* The code an errno value means when the caller gave none. */
static int
code_of_errno (int e)
{
  switch (e) {
  case 0: return VDK_E_OK;
  case ENOENT: case ENXIO: return VDK_E_NOT_FOUND;
  case EEXIST: return VDK_E_EXISTS;
  case EINVAL: return VDK_E_INVALID_ARG;
  case EFSCORRUPTED: return VDK_E_CORRUPT;
  case ENOTSUP: return VDK_E_UNSUPPORTED;
  case EBUSY: return VDK_E_LOCKED;
  case EROFS: return VDK_E_READ_ONLY;
  case ENOSPC: case EDQUOT: case EFBIG: return VDK_E_NO_SPACE;
  case EIO: return VDK_E_IO;
  case ERANGE: return VDK_E_OUT_OF_RANGE;
  case ECANCELED: return VDK_E_CANCELLED;
  case ENOTEMPTY: return VDK_E_HAS_SNAPSHOTS;
  case ENODATA: return VDK_E_KEY_NOT_FOUND;
  case ENOMEM: return VDK_E_NO_MEMORY;
  case EACCES: case EPERM: return VDK_E_ACCESS_DENIED;
  case ECONNREFUSED: case EHOSTUNREACH: case ENETUNREACH:
    return VDK_E_CONNECT;
  case ECONNRESET: case EPIPE: case ENOTCONN: return VDK_E_CONNECTION_LOST;
  /* Only an NBD server answers ESHUTDOWN to a request: vdk's plugin
   * does once the ticket the export was opened with has ended. */
  case ESHUTDOWN: return VDK_E_TICKET;
  default: return VDK_E_FAILED;
  }
}

int
vdk__errno_of (int code)
{
  switch (code) {
  case VDK_E_OK: return 0;
  case VDK_E_NOT_FOUND: case VDK_E_PARTIAL_CHAIN: return ENOENT;
  case VDK_E_EXISTS: return EEXIST;
  case VDK_E_INVALID_ARG: case VDK_E_OUT_OF_RANGE: return EINVAL;
  case VDK_E_CORRUPT: case VDK_E_CID_MISMATCH: return EFSCORRUPTED;
  case VDK_E_UNSUPPORTED: case VDK_E_NOT_SUPPORTED_BY_TRANSPORT:
    return ENOTSUP;
  case VDK_E_LOCKED: return EBUSY;
  case VDK_E_READ_ONLY: return EROFS;
  case VDK_E_NO_SPACE: return ENOSPC;
  case VDK_E_CANCELLED: return ECANCELED;
  case VDK_E_HAS_SNAPSHOTS: return ENOTEMPTY;
  case VDK_E_KEY_NOT_FOUND: return ENODATA;
  case VDK_E_NO_MEMORY: return ENOMEM;
  case VDK_E_AUTH: case VDK_E_ACCESS_DENIED: case VDK_E_TICKET:
    return EACCES;
  case VDK_E_TLS: return EPROTO;
  case VDK_E_CONNECT: return ECONNREFUSED;
  case VDK_E_CONNECTION_LOST: return ECONNRESET;
  default: return EIO;
  }
}

VDK_API const char *
vdk_version (void)
{
  return VDK_VERSION_STRING;
}

bool
vdk__call_enter (const char *call)
{
  if (cur_call || !call)
    return false;
  cur_call = call;
  err_call = NULL;
  err_msg[0] = 0;
  err_num = 0;
  err_code = 0;
  return true;
}

void
vdk__call_leave (bool *outer)
{
  if (*outer)
    cur_call = NULL;
}

static int
verr (int code, int errnum, const char *fmt, va_list ap)
{
  vsnprintf (err_msg, sizeof err_msg, fmt, ap);
  if (!errnum)
    errnum = code ? vdk__errno_of (code) : EIO;
  err_num = errnum;
  err_code = code ? code : code_of_errno (errnum);
  err_call = cur_call;
  errno = err_num;
  return -1;
}

int
vdk__err (int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  verr (0, errnum, fmt, ap);
  va_end (ap);
  return -1;
}

int
vdk__errc (int code, int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  verr (code, errnum, fmt, ap);
  va_end (ap);
  return -1;
}

int
vdk__err_prefix (const char *fmt, ...)
{
  char prefix[1024], rest[sizeof err_msg];
  va_list ap;

  snprintf (rest, sizeof rest, "%s", err_msg);
  va_start (ap, fmt);
  vsnprintf (prefix, sizeof prefix, fmt, ap);
  va_end (ap);
  snprintf (err_msg, sizeof err_msg, "%.1000s: %.1000s", prefix, rest);
  if (!err_num)
    err_num = EIO;
  if (!err_code)
    err_code = code_of_errno (err_num);
  if (!err_call)
    err_call = cur_call;
  errno = err_num;
  return -1;
}

int
vdk__err_recode (int code)
{
  err_code = code;
  err_num = vdk__errno_of (code);
  if (!err_call)
    err_call = cur_call;
  errno = err_num;
  return -1;
}

void
vdk__err_save (struct vdk__saved_err *s)
{
  s->code = err_code;
  s->errnum = err_num;
  snprintf (s->msg, sizeof s->msg, "%s", err_msg);
}

int
vdk__err_restore (const struct vdk__saved_err *s)
{
  return vdk__errc (s->code, s->errnum, "%s", s->msg);
}

/* One body for the three sinks; `which` is 'i', 'w' or 'p'. */
static void
vlog (int which, const char *fmt, va_list ap)
{
  (which == 'i' ? info_sink : which == 'w' ? warn_sink : panic_sink) (fmt,
                                                                     ap);
}

#define LOG_FN(name, which)                     \
  void                                          \
  name (const char *fmt, ...)                   \
  {                                             \
    va_list ap;                                 \
    va_start (ap, fmt);                         \
    vlog (which, fmt, ap);                      \
    va_end (ap);                                \
  }
LOG_FN (vdk__info, 'i')
LOG_FN (vdk__warn, 'w')

/* A broken internal invariant: tell the panic sink, then abort, as the
 * VDDK does; continuing could write to the wrong place of a disk. */
void
vdk__panic (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vlog ('p', fmt, ap);
  va_end (ap);
  abort ();
}
