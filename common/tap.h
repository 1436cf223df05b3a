/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A tiny TAP producer for vdk's C unit tests.  No framework: each test
 * program includes this, calls ok()/is_int() etc., and ends with
 * `return tap_done ();`.  Output is TAP version 13 as meson's `tap`
 * protocol reads it. */
#ifndef VDK_TAP_H
#define VDK_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline void
tap_vok (int cond, const char *fmt, va_list ap)
{
  tap_n++;
  if (!cond)
    tap_failed++;
  printf ("%sok %d - ", cond ? "" : "not ", tap_n);
  vprintf (fmt, ap);
  printf ("\n");
  fflush (stdout);
}

static inline int __attribute__ ((format (printf, 2, 3)))
ok (int cond, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  tap_vok (cond, fmt, ap);
  va_end (ap);
  return cond;
}

#define is_int(got, want, ...)                                          \
  do {                                                                  \
    long long g_ = (long long) (got), w_ = (long long) (want);          \
    if (!ok (g_ == w_, __VA_ARGS__))                                    \
      printf ("#   got %lld, want %lld\n", g_, w_);                     \
  } while (0)

#define is_str(got, want, ...)                                          \
  do {                                                                  \
    const char *g_ = (got), *w_ = (want);                               \
    if (!ok (g_ && w_ ? strcmp (g_, w_) == 0 : g_ == w_, __VA_ARGS__))  \
      printf ("#   got \"%s\", want \"%s\"\n", g_ ? g_ : "(null)",      \
              w_ ? w_ : "(null)");                                      \
  } while (0)

static inline void __attribute__ ((format (printf, 1, 2)))
diag (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  printf ("# ");
  vprintf (fmt, ap);
  printf ("\n");
  va_end (ap);
}

static inline int
tap_done (void)
{
  printf ("1..%d\n", tap_n);
  return tap_failed ? 1 : 0;
}

#endif /* VDK_TAP_H */
