/* Thread-local errors and the log sinks.
 *
 * Every public call names itself with vdk__set_call() on entry; lower
 * layers report with vdk__err(), which formats "CALL: message" into a
 * thread-local buffer and records an errno value.  Context is added on
 * the way up with vdk__err_prefix() ("base.vmdk: grain table ...").
 * The library never prints by itself: vdk__info/vdk__warn go to the
 * sinks given to vdk_init, which default to stderr. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static __thread char err_msg[2048];
static __thread int err_num;
static __thread int err_code;
static __thread const char *err_call;

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

/* The code an errno value means when the caller gave none. */
static int
code_of_errno (int e)
{
  switch (e) {
  case 0: return VDK_E_OK;
  case ENOENT: return VDK_E_NOT_FOUND;
  case EEXIST: return VDK_E_EXISTS;
  case EINVAL: return VDK_E_INVALID_ARG;
  case ENOTSUP: return VDK_E_UNSUPPORTED;
  case EBUSY: return VDK_E_LOCKED;
  case EROFS: return VDK_E_READ_ONLY;
  case ENOSPC: case EDQUOT: case EFBIG: return VDK_E_NO_SPACE;
  case EIO: return VDK_E_IO;
  case ERANGE: return VDK_E_OUT_OF_RANGE;
  case ECANCELED: return VDK_E_CANCELLED;
  case ENOMEM: return VDK_E_NO_MEMORY;
  case EACCES: case EPERM: return VDK_E_ACCESS_DENIED;
  case ECONNREFUSED: case EHOSTUNREACH: case ENETUNREACH:
    return VDK_E_CONNECT;
  case ECONNRESET: case EPIPE: case ENOTCONN: return VDK_E_CONNECTION_LOST;
  default: return VDK_E_FAILED;
  }
}

VDK_API const char *
vdk_version (void)
{
  return VDK_VERSION_STRING;
}

void
vdk__set_call (const char *call)
{
  err_call = call;
  err_msg[0] = 0;
  err_num = 0;
  err_code = 0;
}

/* The current message without its "CALL: " prefix, for code that keeps
 * a message to report it again later (worker threads, sticky errors):
 * reporting the whole message would name the call twice. */
const char *
vdk__err_body (void)
{
  size_t n = err_call ? strlen (err_call) : 0;
  if (n && strncmp (err_msg, err_call, n) == 0
      && strncmp (err_msg + n, ": ", 2) == 0)
    return err_msg + n + 2;
  return err_msg;
}

/* After a nested public call (vdk_measure calls vdk_create): name the
 * outer call again without losing the inner call's error, whose message
 * is renamed "outer: ...".  vdk__set_call here would clear the message
 * and a failure would be reported as "no error". */
void
vdk__resume_call (const char *call)
{
  size_t n = err_call ? strlen (err_call) : 0;
  char rest[sizeof err_msg];

  if (err_msg[0] && call && n && strncmp (err_msg, err_call, n) == 0
      && strncmp (err_msg + n, ": ", 2) == 0) {
    snprintf (rest, sizeof rest, "%s", err_msg + n + 2);
    snprintf (err_msg, sizeof err_msg, "%s: %.2000s", call, rest);
  }
  err_call = call;
}

static int
verr (int code, int errnum, const char *fmt, va_list ap)
{
  int n = 0;

  if (err_call)
    n = snprintf (err_msg, sizeof err_msg, "%s: ", err_call);
  vsnprintf (err_msg + n, sizeof err_msg - n, fmt, ap);
  err_num = errnum ? errnum : EIO;
  err_code = code ? code : code_of_errno (err_num);
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
  const char *body = err_msg;
  size_t clen = err_call ? strlen (err_call) + 2 : 0;
  va_list ap;

  if (clen && strncmp (err_msg, err_call, clen - 2) == 0)
    body = err_msg + clen;
  snprintf (rest, sizeof rest, "%s", body);
  va_start (ap, fmt);
  vsnprintf (prefix, sizeof prefix, fmt, ap);
  va_end (ap);
  snprintf (err_msg, sizeof err_msg, "%s%s%.1000s: %.1000s",
            err_call ? err_call : "", err_call ? ": " : "", prefix, rest);
  if (!err_num)
    err_num = EIO;
  if (!err_code)
    err_code = code_of_errno (err_num);
  errno = err_num;
  return -1;
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
