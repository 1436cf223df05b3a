/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The streamOptimized writer through the public API: append-only order,
 * partial grains, a flush in the middle of a grain and writes that
 * continue it (the reopened grain), reads while writing, all-zero
 * grains omitted, zero writes, the strict walker on every stage, and
 * the refusal to write a stream that already holds data. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ops/ops.h"
#include "tap.h"
#include "../tmpdir.h"

#define CAP (40u << 20)            /* 40 MiB: two grain-table regions */
static uint8_t model[CAP];

static int
walk (const char *path, uint64_t *grains)
{
  struct vdk_io *io = vdk__io_open (path, VDK_IO_READONLY);
  char err[512];
  int r;
  if (!io)
    return -1;
  r = vdk__stream_walk (io, grains, err, sizeof err);
  if (r == -1)
    diag ("walk: %s", err);
  vdk__io_close (io);
  return r;
}

static void
put (vdk_disk *d, uint64_t off, size_t len, int seed)
{
  uint8_t *b = malloc (len);
  for (size_t i = 0; i < len; i++)
    b[i] = (uint8_t) (seed * 31 + i * 7 + (i >> 9));
  memcpy (model + off, b, len);
  int r = vdk_pwrite (d, b, len, off);
  ok (r == 0, "write %zu bytes at %" PRIu64 "%s%s", len, off,
      r ? ": " : "", r ? vdk_last_error () : "");
  free (b);
}

static int
same_as_model (vdk_disk *d)
{
  uint8_t *b = malloc (CAP);
  int r = vdk_pread (d, b, CAP, 0) == 0 && memcmp (b, model, CAP) == 0;
  free (b);
  return r;
}

int
main (void)
{
  char path[300];
  struct vdk_create_params cp = VDK_CREATE_PARAMS_INIT;
  uint64_t grains = 0;
  vdk_disk *d;
  uint8_t b[4096];
  int r;

  if (tmpdir_make ("vdk-sw") == -1)
    return 1;
  snprintf (path, sizeof path, "%s/s.vmdk", dir);
  cp.type = VDK_TYPE_STREAM_OPTIMIZED;
  cp.capacity = CAP;
  ok (vdk_create (path, &cp) == 0, "create: %s", vdk_last_error ());
  ok (walk (path, &grains) == 0 && grains == 0, "empty stream is valid");

  d = vdk_open (path, 0);
  ok (d != NULL, "open for writing: %s", vdk_last_error ());
  put (d, 1000, 3000, 1);                      /* partial grain 0 */
  put (d, 5000, 200000, 2);                    /* grains 0..3 */
  ok (same_as_model (d), "reads while writing see the data");
  ok (vdk_flush (d) == 0, "flush in the middle of a grain");
  r = walk (path, &grains);
  ok (r == 0 && grains == 4, "flushed stream is valid (%" PRIu64 " grains)",
      grains);
  put (d, 205000, 1000, 3);                    /* continues grain 3 */
  ok (vdk_zero (d, 206000, 1 << 20) == 0, "zero write: %s",
      vdk_last_error ());
  memset (b, 0, sizeof b);
  ok (vdk_pwrite (d, b, sizeof b, 3u << 20) == 0, "all-zero write");
  put (d, 33u << 20, 70000, 4);                /* second region */
  ok (same_as_model (d), "reads after reopening a grain");
  r = vdk_pwrite (d, b, 512, 1u << 20);
  ok (r == -1 && vdk_last_error_code () == VDK_E_UNSUPPORTED
      && strstr (vdk_last_error (), "increasing order"),
      "a write before the end is refused: %s", vdk_last_error ());
  put (d, CAP - 700, 700, 5);                  /* the last bytes */
  ok (vdk_close (d) == 0, "close: %s", vdk_last_error ());
  r = walk (path, &grains);
  ok (r == 0 && grains == 7, "final stream is valid (%" PRIu64 " grains: "
      "4 + 2 + 1)", grains);

  d = vdk_open (path, VDK_OPEN_READ_ONLY);
  ok (d && same_as_model (d), "content after reopening");
  vdk_close (d);
  d = vdk_open (path, 0);
  r = d ? vdk_pwrite (d, b, 512, CAP - 512) : 0;
  ok (r == -1 && vdk_last_errno () == EROFS
      && strstr (vdk_last_error (), "already holds data"),
      "a stream with data is not writable: %s", vdk_last_error ());
  vdk_close (d);
  ok (walk (path, &grains) == 0, "the refused write changed nothing");
  /* A caller built against version 1 of vdk_clone_params (no
   * compress_level) still converts, with the default level. */
  {
    struct clone_params_v1 {
      uint32_t version;
      int type, adapter;
      uint32_t hw_version;
      unsigned flags;
      vdk_progress_fn progress;
      void *opaque;
    } *v1 = calloc (1, sizeof *v1);   /* heap: ASan sees any overread */
    char out[300];
    vdk_disk *src = vdk_open (path, VDK_OPEN_READ_ONLY), *o;
    v1->version = 1, v1->type = VDK_TYPE_STREAM_OPTIMIZED, v1->adapter = -1;
    snprintf (out, sizeof out, "%s/v1.vmdk", dir);
    r = vdk_clone (src, out, (const struct vdk_clone_params *) v1);
    ok (r == 0, "vdk_clone with version 1 parameters: %s",
        r ? vdk_last_error () : "ok");
    r = walk (out, &grains);
    ok (r == 0 && grains == 7, "... a valid stream of 7 grains");
    o = vdk_open (out, VDK_OPEN_READ_ONLY);
    ok (o && same_as_model (o), "... with the same contents");
    vdk_close (o);
    vdk_close (src);
    vdk_unlink (out);
    free (v1);
  }
  vdk_unlink (path);
  tmpdir_remove ();
  return tap_done ();
}
