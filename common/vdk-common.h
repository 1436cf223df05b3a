/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Header-only helpers shared by the library, tools and tests:
 * little-endian access, checked arithmetic, cleanup macros, min/max.
 * Nothing here knows about disks. */
#ifndef VDK_COMMON_H
#define VDK_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

/* ---- checked arithmetic: true on overflow ---- */
#define ADD_OVERFLOW(a, b, r) __builtin_add_overflow((a), (b), (r))
#define MUL_OVERFLOW(a, b, r) __builtin_mul_overflow((a), (b), (r))
#define SUB_OVERFLOW(a, b, r) __builtin_sub_overflow((a), (b), (r))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define ARRAY_SIZE(a) (sizeof (a) / sizeof ((a)[0]))
#define IS_POWER_OF_2(x) ((x) != 0 && ((x) & ((x) - 1)) == 0)
#define DIV_ROUND_UP(a, b) (((a) + (b) - 1) / (b))
#define ROUND_UP(a, b) (DIV_ROUND_UP((a), (b)) * (b))

/* ---- little-endian loads and stores from unaligned buffers ---- */
static inline uint16_t
le16_get (const void *p)
{
  const uint8_t *b = p;
  return (uint16_t) (b[0] | (b[1] << 8));
}

static inline uint32_t
le32_get (const void *p)
{
  const uint8_t *b = p;
  return (uint32_t) b[0] | ((uint32_t) b[1] << 8) |
    ((uint32_t) b[2] << 16) | ((uint32_t) b[3] << 24);
}

static inline uint64_t
le64_get (const void *p)
{
  const uint8_t *b = p;
  return (uint64_t) le32_get (b) | ((uint64_t) le32_get (b + 4) << 32);
}

static inline void
le16_put (void *p, uint16_t v)
{
  uint8_t *b = p;
  b[0] = (uint8_t) v;
  b[1] = (uint8_t) (v >> 8);
}

static inline void
le32_put (void *p, uint32_t v)
{
  uint8_t *b = p;
  b[0] = (uint8_t) v;
  b[1] = (uint8_t) (v >> 8);
  b[2] = (uint8_t) (v >> 16);
  b[3] = (uint8_t) (v >> 24);
}

static inline void
le64_put (void *p, uint64_t v)
{
  le32_put (p, (uint32_t) v);
  le32_put ((uint8_t *) p + 4, (uint32_t) (v >> 32));
}

static inline uint32_t
be32_get (const void *p)
{
  const uint8_t *b = p;
  return ((uint32_t) b[0] << 24) | ((uint32_t) b[1] << 16) |
    ((uint32_t) b[2] << 8) | (uint32_t) b[3];
}

static inline uint64_t
be64_get (const void *p)
{
  const uint8_t *b = p;
  return ((uint64_t) be32_get (b) << 32) | be32_get (b + 4);
}

/* ---- URIs ---- */

/* c as it goes into a URI component: itself when unreserved (RFC 3986:
 * letters, digits, "-._~", and '/' if keep_slash), else "%XX".  Writes
 * out[] (NUL-terminated) and returns its length, 1 or 3. */
static inline size_t
vdk_pct_encode (char out[4], unsigned char c, bool keep_slash)
{
  static const char hex[] = "0123456789ABCDEF";
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
      || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
      || c == '~' || (keep_slash && c == '/')) {
    out[0] = (char) c, out[1] = '\0';
    return 1;
  }
  out[0] = '%', out[1] = hex[c >> 4], out[2] = hex[c & 15], out[3] = '\0';
  return 3;
}

/* ---- cleanup ---- */
static inline void
vdk_cleanup_free (void *ptr)
{
  free (*(void **) ptr);
}
#define CLEANUP_FREE __attribute__ ((cleanup (vdk_cleanup_free)))

static inline void
vdk_cleanup_unlock (pthread_mutex_t **m)
{
  if (*m)
    pthread_mutex_unlock (*m);
}
#define SCOPED_LOCK_CAT_(a, b) a##b
#define SCOPED_LOCK_CAT(a, b) SCOPED_LOCK_CAT_ (a, b)
/* Hold `mutex` until the end of the enclosing block. */
#define SCOPED_LOCK(mutex)                                              \
  __attribute__ ((cleanup (vdk_cleanup_unlock), unused))                \
  pthread_mutex_t *                                                     \
  SCOPED_LOCK_CAT (scoped_lock_, __LINE__) =                            \
    (pthread_mutex_lock (mutex), (mutex))

/* True if `len` bytes at `buf` are all zero.  Word at a time. */
static inline bool
is_zero (const void *buf, size_t len)
{
  const unsigned char *p = buf;
  while (len > 0 && ((uintptr_t) p & 7)) {
    if (*p)
      return false;
    p++, len--;
  }
  const uint64_t *w = (const uint64_t *) p;
  while (len >= 64) {
    if (w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7])
      return false;
    w += 8, len -= 64;
  }
  p = (const unsigned char *) w;
  while (len > 0) {
    if (*p)
      return false;
    p++, len--;
  }
  return true;
}

#endif /* VDK_COMMON_H */
