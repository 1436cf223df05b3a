/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd-chain.c - `vdk compare` and `vdk rebase`.
 *
 * compare (qemu-img compare's contract): exit 0 when the guest-visible
 * contents of A and B are the same, 1 when they differ (printing the
 * first differing byte offset), 2 on any error.  Each disk is read
 * through its chain.  The two are walked together with
 * vdk_block_status: a range where neither holds data (zero or hole in
 * both) is equal without reading; where one holds data only that one is
 * read and must be zero; where both do both are read.  Past the end of
 * the smaller disk the larger must read as zeroes.  With -s (strict)
 * sizes must be equal and each range must have the same state in both
 * (data, zero, hole, as `vdk map` shows them).
 *
 * rebase is vdk_rebase (lib/ops/rebase.c) with a progress bar.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vdk-common.h"
#include "vdk-tool.h"

#define CMP_CHUNK ((uint64_t) 1 << 20)

enum { SAME = 0, DIFFERENT = 1, ERROR = 2 };

struct cmp {
  vdk_disk *a, *b;
  uint64_t cap_a, cap_b;
  bool strict;
  uint8_t *buf_a, *buf_b;
  struct tool_progress progress;
  uint64_t total;
};

static int
cmp_error (void)
{
  tool_lib_error ();
  return ERROR;
}

static int
mismatch (uint64_t offset)
{
  printf ("Content mismatch at offset %" PRIu64 "!\n", offset);
  return DIFFERENT;
}

/* Offset of the first byte where a and b differ (b NULL: of the first
 * non-zero byte of a); n if none. */
static uint64_t
first_difference (const uint8_t *a, const uint8_t *b, uint64_t n)
{
  uint64_t i = 0;

  /* Skip equal (or zero) 4 KiB blocks with one call each. */
  while (i + 4096 <= n
         && (b ? memcmp (a + i, b + i, 4096) == 0 : is_zero (a + i, 4096)))
    i += 4096;
  for (; i < n; i++)
    if (b ? a[i] != b[i] : a[i] != 0)
      break;
  return i;
}

/* Compare [off, off+n) (n <= CMP_CHUNK); which: 'a', 'b' or '2' (both
 * read).  Returns SAME, DIFFERENT (printed) or ERROR. */
static int
cmp_range (struct cmp *c, uint64_t off, uint64_t n, char which)
{
  uint64_t at;

  if (which != 'b' && vdk_pread (c->a, c->buf_a, n, off) == -1)
    return cmp_error ();
  if (which != 'a' && vdk_pread (c->b, c->buf_b, n, off) == -1)
    return cmp_error ();
  if (which == '2')
    at = first_difference (c->buf_a, c->buf_b, n);
  else
    at = first_difference (which == 'a' ? c->buf_a : c->buf_b, NULL, n);
  return at < n ? mismatch (off + at) : SAME;
}

/* Walk [off, end) of disk d alone: it must read as zeroes (the part of
 * the larger disk past the end of the smaller). */
static int
cmp_tail (struct cmp *c, vdk_disk *d, uint64_t off, uint64_t end)
{
  while (off < end) {
    uint64_t len = 0, n;
    int state = 0, depth = 0, r;

    if (vdk_block_status (d, off, end - off, 0, &len, &state, &depth) == -1)
      return cmp_error ();
    n = MIN (MIN (len, end - off), CMP_CHUNK);
    if (n == 0)
      n = MIN (end - off, CMP_CHUNK);
    if (state == VDK_BLOCK_DATA
        && (r = cmp_range (c, off, n, d == c->a ? 'a' : 'b')) != SAME)
      return r;
    off += n;
    tool_progress_cb (&c->progress, off, c->total);
  }
  return SAME;
}

/* One step at off of the common part; *step is how far it got. */
static int
cmp_step (struct cmp *c, uint64_t off, uint64_t end, uint64_t *step)
{
  uint64_t la = 0, lb = 0, n;
  int sa = 0, sb = 0, da = 0, db = 0;

  if (vdk_block_status (c->a, off, end - off, 0, &la, &sa, &da) == -1
      || vdk_block_status (c->b, off, end - off, 0, &lb, &sb, &db) == -1)
    return cmp_error ();
  n = MIN (MIN (la, lb), CMP_CHUNK);
  if (n == 0 || n > end - off)
    n = MIN (end - off, CMP_CHUNK);
  *step = n;
  if (c->strict && sa != sb) {
    printf ("Strict mode: Offset %" PRIu64 " block status mismatch!\n", off);
    return DIFFERENT;
  }
  if (sa != VDK_BLOCK_DATA && sb != VDK_BLOCK_DATA)
    return SAME;
  return cmp_range (c, off, n, sa == VDK_BLOCK_DATA
                    ? (sb == VDK_BLOCK_DATA ? '2' : 'a') : 'b');
}

static int
compare_open (struct cmp *c)
{
  uint64_t common = MIN (c->cap_a, c->cap_b), off = 0, step = 0;
  int r;

  if (c->cap_a != c->cap_b) {     /* qemu-img compare's words */
    printf ("%s: Image size mismatch!\n", c->strict ? "Strict mode"
            : "Warning");
    if (c->strict)
      return DIFFERENT;
  }
  while (off < common) {
    if ((r = cmp_step (c, off, common, &step)) != SAME)
      return r;
    off += step;
    tool_progress_cb (&c->progress, off, c->total);
  }
  if (c->cap_a != c->cap_b) {
    r = c->cap_a > c->cap_b ? cmp_tail (c, c->a, common, c->cap_a)
      : cmp_tail (c, c->b, common, c->cap_b);
    if (r != SAME)
      return r;
  }
  printf ("Images are identical.\n");
  return SAME;
}

int
run_compare (const struct cmd_opts *o)
{
  struct cmp c = { .strict = o->strict };
  unsigned flags = VDK_OPEN_READ_ONLY | o->open_flags;
  int r = ERROR;

  c.a = tool_open (o->args[0], flags);
  if (c.a == NULL)
    return cmp_error ();
  c.b = tool_open (o->args[1], flags);
  if (c.b == NULL) {
    r = cmp_error ();           /* before vdk_close clears the error */
    vdk_close (c.a);
    return r;
  }
  c.cap_a = vdk_capacity (c.a);
  c.cap_b = vdk_capacity (c.b);
  c.total = MAX (c.cap_a, c.cap_b);
  c.buf_a = malloc (CMP_CHUNK);
  c.buf_b = malloc (CMP_CHUNK);
  tool_progress_init (&c.progress, "compare", o->progress);
  if (c.buf_a == NULL || c.buf_b == NULL)
    tool_error ("%s: %s", o->args[0], strerror (ENOMEM));
  else
    r = compare_open (&c);
  tool_progress_end (&c.progress);
  free (c.buf_a);
  free (c.buf_b);
  vdk_close (c.a);
  vdk_close (c.b);
  return r;
}

int
run_rebase (const struct cmd_opts *o)
{
  struct vdk_rebase_params p = VDK_REBASE_PARAMS_INIT;
  struct tool_progress progress;
  int r;

  tool_progress_init (&progress, "rebase", o->progress);
  p.open_flags = o->open_flags;
  p.progress = tool_progress_cb;
  p.opaque = &progress;
  r = vdk_rebase (o->args[0], o->args[1], &p);
  tool_progress_end (&progress);
  return r == -1 ? tool_lib_error () : 0;
}
