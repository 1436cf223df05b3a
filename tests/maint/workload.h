/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A deterministic random write/zero/flush workload and its model, shared
 * by the crash-simulation test and the SIGKILL test.
 *
 * Every sector a write op stores carries its own signature (op id and
 * sector number, then bytes derived from both), so after a crash a
 * sector's contents can be checked against exactly the values it is
 * allowed to hold: the value of the last op that touched it before the
 * last successful flush (or its initial contents, or zero), or the
 * value of any op that touched it afterwards (those may or may not have
 * reached the disk, in whole or, across sectors, in part). */
#ifndef VDK_TEST_WORKLOAD_H
#define VDK_TEST_WORKLOAD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vdk.h"

enum { WL_WRITE, WL_ZERO, WL_FLUSH };

struct wl_op {
  int kind;
  uint64_t off, len;       /* bytes, inside the window */
};

static inline uint32_t
wl_rand (uint32_t *s)
{
  *s ^= *s << 13, *s ^= *s >> 17, *s ^= *s << 5;
  return *s;
}

/* n ops over [win, win+winlen); lengths up to maxlen; sector aligned
 * except now and then (partial grains, read-modify-write). */
static inline void
wl_gen (struct wl_op *ops, int n, uint32_t seed, uint64_t win,
        uint64_t winlen, uint64_t maxlen)
{
  uint32_t s = seed ? seed : 1;
  for (int i = 0; i < n; i++) {
    uint32_t r = wl_rand (&s) % 100;
    uint64_t len = (1 + wl_rand (&s) % (maxlen / 512)) * 512;
    uint64_t off = (wl_rand (&s) % ((winlen - len) / 512 + 1)) * 512;
    ops[i].kind = r < 15 ? WL_FLUSH : r < 25 ? WL_ZERO : WL_WRITE;
    ops[i].off = win + off;
    ops[i].len = len;
  }
}

static inline void
wl_sector (uint8_t *p, uint32_t id, uint64_t sector)
{
  memcpy (p, &id, 4);
  memcpy (p + 4, &sector, 8);
  for (int i = 12; i < 512; i++)
    p[i] = (uint8_t) (id * 31u + sector * 7u + (unsigned) i);
}

static inline void
wl_fill (uint8_t *buf, uint32_t id, uint64_t off, uint64_t len)
{
  for (uint64_t o = 0; o < len; o += 512)
    wl_sector (buf + o, id, (off + o) / 512);
}

/* Run op i (id i + 1) on the disk. */
static inline int
wl_apply (vdk_disk *d, const struct wl_op *op, int i, uint8_t *buf)
{
  if (op->kind == WL_FLUSH)
    return vdk_flush (d);
  if (op->kind == WL_ZERO)
    return vdk_zero (d, op->off, op->len);
  wl_fill (buf, (uint32_t) i + 1, op->off, op->len);
  return vdk_pwrite (d, buf, op->len, op->off);
}

static inline int
wl_touches (const struct wl_op *op, uint64_t sector)
{
  return op->kind != WL_FLUSH && sector * 512 >= op->off
    && sector * 512 < op->off + op->len;
}

/* Does sector (absolute) hold what op j would leave there (j = -1:
 * the initial contents `init`, relative to win)? */
static inline int
wl_is (const struct wl_op *ops, int j, const uint8_t *got, uint64_t sector,
       const uint8_t *init, uint64_t win)
{
  uint8_t want[512];
  if (j < 0)
    return memcmp (got, init + (sector * 512 - win), 512) == 0;
  if (ops[j].kind == WL_ZERO) {
    memset (want, 0, 512);
    return memcmp (got, want, 512) == 0;
  }
  wl_sector (want, (uint32_t) j + 1, sector);
  return memcmp (got, want, 512) == 0;
}

/* Check the window `got` (read back after a crash): ops [0, durable)
 * are known durable, ops [durable, maybe) may or may not be.  Returns
 * the first bad sector, or UINT64_MAX if all are allowed. */
static inline uint64_t
wl_verify (const struct wl_op *ops, int durable, int maybe,
           const uint8_t *got, const uint8_t *init, uint64_t win,
           uint64_t winlen)
{
  for (uint64_t s = win / 512; s < (win + winlen) / 512; s++) {
    const uint8_t *g = got + (s * 512 - win);
    int last = -1, ok;
    for (int j = 0; j < durable; j++)
      if (wl_touches (&ops[j], s))
        last = j;
    ok = wl_is (ops, last, g, s, init, win);
    for (int j = durable; !ok && j < maybe; j++)
      ok = wl_touches (&ops[j], s) && wl_is (ops, j, g, s, init, win);
    if (!ok)
      return s;
  }
  return UINT64_MAX;
}

#endif /* VDK_TEST_WORKLOAD_H */
