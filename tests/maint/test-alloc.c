/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The allocated-blocks query (VixDiskLib_QueryAllocatedBlocks), progress
 * callbacks and cancellation of shrink/defrag/commit, and the library
 * side of commit and attach. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "vdk.h"
#include "../tmpdir.h"

#define MiB (1024 * 1024)

static char base[300], child[300], copy[300], cmd[1024];
static uint8_t buf[4 * MiB];

static int
put (const char *path, uint64_t off, uint64_t len, int byte)
{
  vdk_disk *d = vdk_open (path, 0);
  int r;
  if (!d)
    return -1;
  memset (buf, byte, len);
  r = byte ? vdk_pwrite (d, buf, len, off) : vdk_zero (d, off, len);
  return vdk_close (d) == -1 ? -1 : r;
}

/* The list as "off+len,off+len" (sectors). */
static const char *
query (const char *path, uint64_t chunk, int top_only)
{
  static char out[512];
  struct vdk_block_list *l;
  vdk_disk *d = vdk_open (path, VDK_OPEN_READ_ONLY);
  size_t n = 0;
  out[0] = 0;
  if (!d || vdk_query_allocated_blocks (d, 0, (64 * MiB) / 512, chunk,
                                        top_only, &l) == -1) {
    snprintf (out, sizeof out, "error: %s", vdk_last_error ());
    vdk_close (d);
    return out;
  }
  for (size_t i = 0; i < l->n; i++)
    n += (size_t) snprintf (out + n, sizeof out - n, "%s%" PRIu64 "+%"
                            PRIu64, i ? "," : "", l->blocks[i]->offset,
                            l->blocks[i]->length);
  vdk_free_block_list (l);
  vdk_close (d);
  return out;
}

static void
test_query (void)
{
  struct vdk_block_list *l = NULL;
  vdk_disk *d;

  ok (put (base, 0, 4096, 0x11) == 0, "write 4 KiB at 0");
  ok (put (base, 1 * MiB + 512, 512, 0x22) == 0, "write a sector at 1 MiB+512");
  ok (put (base, 8 * MiB, 2 * MiB, 0x33) == 0, "write 2 MiB at 8 MiB");
  is_str (query (base, 128, 0), "0+128,2048+128,16384+4096",
          "chunk 128: the written grains, chunk-aligned");
  is_str (query (base, 4096, 0), "0+4096,16384+4096",
          "chunk 4096 (2 MiB): merged, aligned");
  d = vdk_open (base, VDK_OPEN_READ_ONLY);
  ok (vdk_query_allocated_blocks (d, 0, 128, 64, 0, &l) == -1
      && vdk_last_errno () == EINVAL, "chunk below 128 sectors is refused");
  ok (vdk_query_allocated_blocks (d, 100, 128, 128, 0, &l) == -1
      && vdk_last_errno () == EINVAL, "an unaligned start is refused");
  ok (vdk_query_allocated_blocks (d, 0, 1 << 20, 128, 0, &l) == -1
      && vdk_last_errno () == EINVAL, "a range past the end is refused");
  vdk_close (d);

  ok (vdk_create_child_path (base, child,
                             VDK_TYPE_DEFAULT, 0) == 0, "create a child");
  ok (put (child, 20 * MiB, 64 * 1024, 0x44) == 0, "write in the child");
  is_str (query (child, 128, 1), "40960+128", "top_only: the child's grain");
  is_str (query (child, 128, 0), "0+128,2048+128,16384+4096,40960+128",
          "whole chain: parent and child");
}

struct prog {
  int calls, cancel_at;
  uint64_t last_done, last_total;
};

static int
progress (void *opaque, uint64_t done, uint64_t total)
{
  struct prog *p = opaque;
  p->calls++;
  p->last_done = done, p->last_total = total;
  return p->cancel_at && p->calls >= p->cancel_at;
}

static void
test_progress (void)
{
  struct prog p = { 0 };
  struct stat st0, st1;
  int r = vdk_shrink (base, 0, progress, &p);

  ok (r == 0 && p.calls > 0
      && p.last_done == p.last_total && p.last_total == 64 * MiB,
      "shrink reports progress up to the total (%d calls)", p.calls);
  p = (struct prog) { 0 };
  ok (vdk_defrag (base, 0, progress, &p) == 0 && p.calls > 0
      && p.last_done == p.last_total, "defrag reports progress");
  stat (base, &st0);
  p = (struct prog) { .cancel_at = 1 };
  ok (vdk_defrag (base, 0, progress, &p) == -1
      && vdk_last_errno () == ECANCELED, "defrag can be cancelled");
  stat (base, &st1);
  ok (st0.st_ino == st1.st_ino, "a cancelled defrag leaves the old file");
  snprintf (cmd, sizeof cmd, "ls %s | grep -q vdk-new", dir);
  ok (system (cmd) != 0, "and no temporary file");
}

static int
read_at (const char *path, uint64_t off, uint8_t want)
{
  uint8_t b[512];
  vdk_disk *d = vdk_open (path, VDK_OPEN_READ_ONLY);
  int r = d && vdk_pread (d, b, 512, off) == 0 && b[0] == want && b[511] == want;
  vdk_close (d);
  return r;
}

static void
test_commit_attach (void)
{
  struct prog p = { 0 };

  snprintf (cmd, sizeof cmd, "cp %s %s", base, copy);
  ok (system (cmd) == 0, "copy the parent");
  ok (vdk_attach (child, copy, 0, 0) == 0,
      "attach to an identical copy: %s", vdk_last_error ());
  ok (put (copy, 30 * MiB, 512, 0x55) == 0, "change the copy where the child "
      "reads through");
  ok (vdk_open (child, VDK_OPEN_READ_ONLY) == NULL,
      "the child now refuses its changed parent (CID)");
  ok (vdk_attach (child, base, 0, 0) == 0,
      "safe attach back to the unchanged original is accepted: its CID is "
      "the one the child expects (%s)", vdk_last_error ());
  ok (vdk_attach (child, base, VDK_ATTACH_UNSAFE, 0) == 0, "unsafe attach");
  ok (vdk_attach (child, copy, 0, 0) == -1 && vdk_last_errno () == EINVAL,
      "safe attach to a parent with other contents is refused");
  ok (vdk_commit (child, 0, progress, &p) == 0 && p.calls > 0,
      "commit the child: %s", vdk_last_error ());
  ok (read_at (base, 20 * MiB, 0x44), "the parent holds the child's data");
  ok (read_at (child, 20 * MiB, 0x44) && read_at (child, 8 * MiB, 0x33),
      "the child still opens (parentCID updated) and reads the same");
}

int
main (void)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;

  if (tmpdir_make_tmpfs ("vdk-alloc") == -1)
    return 1;
  vdk_init (NULL, NULL, NULL);
  snprintf (base, sizeof base, "%s/base.vmdk", dir);
  snprintf (child, sizeof child, "%s/child.vmdk", dir);
  snprintf (copy, sizeof copy, "%s/copy.vmdk", dir);
  p.capacity = 64 * MiB;
  ok (vdk_create (base, &p) == 0, "create");
  test_query ();
  test_progress ();
  test_commit_attach ();
  tmpdir_remove ();
  return tap_done ();
}
