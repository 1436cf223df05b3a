/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: custom extent lists (FLAT, ZERO, RDONLY, NOACCESS keep
 * their places), the unclean-shutdown mark, and one handle used from
 * several threads at once. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "vdk.h"
#include "vdk-common.h"

#include "../tmpdir.h"

static void
write_file (const char *path, const void *data, size_t len)
{
  FILE *f = fopen (path, "w");
  if (!f || fwrite (data, 1, len, f) != len)
    diag ("cannot write %s", path);
  if (f)
    fclose (f);
}

static void
test_custom_extents (void)
{
  static const char desc[] =
    "# Disk DescriptorFile\nversion=1\nCID=11111111\nparentCID=ffffffff\n"
    "createType=\"custom\"\n"
    "RW 8 FLAT \"a.bin\" 0\n"
    "RW 8 ZERO\n"
    "RDONLY 8 FLAT \"b.bin\" 2\n"
    "NOACCESS 8 FLAT \"c.bin\" 0\n";
  uint8_t a[4096], b[6144], buf[4096];
  vdk_disk *d;

  memset (a, 'a', sizeof a);
  memset (b, 'x', 1024);
  memset (b + 1024, 'b', sizeof b - 1024);
  write_file (P ("a.bin"), a, sizeof a);
  write_file (P ("b.bin"), b, sizeof b);
  write_file (P ("custom.vmdk"), desc, strlen (desc));
  d = vdk_open (P ("custom.vmdk"), 0);
  ok (d != NULL, "custom descriptor opens (%s)", d ? "" : vdk_last_error ());
  if (!d)
    return;
  is_int (vdk_capacity (d), 32 * 512, "ZERO and NOACCESS keep their places");
  ok (vdk_pread (d, buf, 4096, 4096) == 0 && is_zero (buf, 4096),
      "ZERO extent reads zeroes");
  ok (vdk_pread (d, buf, 4096, 8192) == 0 && buf[0] == 'b'
      && buf[4095] == 'b', "RDONLY extent read at its offset (sector 2)");
  ok (vdk_pread (d, buf, 512, 0) == 0 && buf[0] == 'a', "first extent");
  ok (vdk_pwrite (d, buf, 512, 8192) == -1 && vdk_last_errno () == EROFS,
      "write to RDONLY extent refused: %s", vdk_last_error ());
  ok (vdk_pread (d, buf, 512, 12288) == -1 && vdk_last_errno () == EACCES,
      "read of NOACCESS extent refused: %s", vdk_last_error ());
  /* NOACCESS, one rule (issue 9, defect 9): map and write refuse too,
   * naming the extent's file, and check reports the missing data. */
  {
    uint64_t pnum;
    int st, depth;
    ok (vdk_block_status (d, 12288, 4096, 0, &pnum, &st, &depth) == -1
        && vdk_last_errno () == EACCES
        && strstr (vdk_last_error (), "c.bin") != NULL,
        "map of NOACCESS extent refused, not called zero: %s",
        vdk_last_error ());
    ok (vdk_block_status (d, 0, 4096, 0, &pnum, &st, &depth) == 0,
        "map before it still works");
    ok (vdk_pwrite (d, buf, 512, 12800) == -1 && vdk_last_errno () == EACCES
        && strstr (vdk_last_error (), "\"c.bin\"") != NULL,
        "write to NOACCESS extent names its file: %s", vdk_last_error ());
    ok (vdk_pwrite (d, buf, 512, 4096) == -1
        && strcasestr (vdk_last_error (), "zero") != NULL,
        "write to a ZERO extent says ZERO: %s", vdk_last_error ());
  }
  ok (vdk_pwrite (d, "hi", 2, 100) == 0, "write to RW extent");
  vdk_close (d);
  {
    struct vdk_check_report *rep = NULL;
    ok (vdk_check (P ("custom.vmdk"), 0, 0, &rep) == 0 && rep
        && rep->nproblems == 1 && strstr (rep->problems[0]->what, "NOACCESS"),
        "check reports the NOACCESS extent as a problem");
    vdk_free_check_report (rep);
  }
  d = vdk_open (P ("custom.vmdk"), VDK_OPEN_READ_ONLY);
  ok (d && vdk_pread (d, buf, 4, 99) == 0 && memcmp (buf, "ahia", 4) == 0,
      "write landed in a.bin");
  vdk_close (d);
}

static uint8_t
unclean_byte (const char *path)
{
  uint8_t b = 0xff;
  FILE *f = fopen (path, "r");
  if (f && (fseek (f, 72, SEEK_SET) != 0 || fread (&b, 1, 1, f) != 1))
    b = 0xfe;
  if (f)
    fclose (f);
  return b;
}

static void
test_unclean_mark (void)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  vdk_disk *d;
  p.capacity = 4 << 20;
  ok (vdk_create (P ("u.vmdk"), &p) == 0, "create");
  d = vdk_open (P ("u.vmdk"), 0);
  is_int (unclean_byte (P ("u.vmdk")), 0, "clean after open");
  ok (vdk_pwrite (d, "x", 1, 0) == 0, "write");
  is_int (unclean_byte (P ("u.vmdk")), 1, "unclean mark set by first write");
  vdk_close (d);
  is_int (unclean_byte (P ("u.vmdk")), 0, "cleared on clean close");
}

struct job {
  vdk_disk *d;
  int id, errors;
};

#define REGION (1u << 20)

static void *
worker (void *arg)
{
  struct job *j = arg;
  uint8_t *buf = malloc (65536), *back = malloc (65536);
  unsigned seed = (unsigned) j->id;
  for (int i = 0; i < 200; i++) {
    uint64_t off = (uint64_t) j->id * REGION + (rand_r (&seed) % (REGION - 65536));
    size_t len = 1 + rand_r (&seed) % 65536;
    memset (buf, 'a' + j->id, len);
    if (vdk_pwrite (j->d, buf, len, off) == -1
        || vdk_pread (j->d, back, len, off) == -1
        || memcmp (buf, back, len) != 0)
      j->errors++;
  }
  free (buf);
  free (back);
  return NULL;
}

static void
test_threads (void)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  pthread_t th[4];
  struct job jobs[4];
  vdk_disk *d;
  int errors = 0;

  p.capacity = 4 * REGION;
  ok (vdk_create (P ("t.vmdk"), &p) == 0, "create for threads");
  d = vdk_open (P ("t.vmdk"), 0);
  for (int i = 0; i < 4; i++) {
    jobs[i] = (struct job) { .d = d, .id = i };
    pthread_create (&th[i], NULL, worker, &jobs[i]);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join (th[i], NULL);
    errors += jobs[i].errors;
  }
  is_int (errors, 0, "4 threads writing and reading one handle agree");
  ok (vdk_close (d) == 0, "close");
  d = vdk_open (P ("t.vmdk"), VDK_OPEN_READ_ONLY);
  uint8_t *all = malloc (4 * REGION);
  int foreign = 0;
  ok (d && vdk_pread (d, all, 4 * REGION, 0) == 0, "read back");
  for (uint64_t i = 0; i < 4 * REGION; i++)
    if (all[i] && all[i] != 'a' + i / REGION)
      foreign++;
  is_int (foreign, 0, "each thread's bytes stayed in its own region");
  free (all);
  vdk_close (d);
}

/* VDK_OPEN_UNBUFFERED: O_DIRECT serves aligned calls, the page cache the
 * rest (and everything where the host refuses O_DIRECT); the bytes must
 * be the same either way. */
static void
test_unbuffered (void)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  uint8_t *a = aligned_alloc (4096, 1 << 20);
  uint8_t *b = aligned_alloc (4096, 1 << 20);
  vdk_disk *d;
  p.type = VDK_TYPE_MONOLITHIC_FLAT;
  p.capacity = 8 << 20;
  for (size_t i = 0; i < (1 << 20); i++)
    a[i] = (uint8_t) (i * 13 + 7);
  ok (vdk_create (P ("direct.vmdk"), &p) == 0, "create flat disk");
  d = vdk_open (P ("direct.vmdk"), VDK_OPEN_UNBUFFERED);
  ok (d && vdk_pwrite (d, a, 1 << 20, 1 << 20) == 0, "aligned write");
  ok (vdk_pwrite (d, a + 100, 5000, 3 * (1 << 20) + 7) == 0,
      "unaligned write");
  ok (vdk_pread (d, b, 1 << 20, 1 << 20) == 0 && memcmp (a, b, 1 << 20) == 0,
      "aligned read back");
  ok (vdk_pread (d, b, 5000, 3 * (1 << 20) + 7) == 0
      && memcmp (a + 100, b, 5000) == 0, "unaligned read back");
  ok (vdk_close (d) == 0, "close");
  d = vdk_open (P ("direct.vmdk"), VDK_OPEN_READ_ONLY);
  ok (d && vdk_pread (d, b, 1 << 20, 1 << 20) == 0
      && memcmp (a, b, 1 << 20) == 0, "buffered open sees the same bytes");
  vdk_close (d);
  free (a);
  free (b);
}

int
main (void)
{
  if (tmpdir_make ("vdk-ext") == -1)
    return 1;
  test_custom_extents ();
  test_unclean_mark ();
  test_threads ();
  test_unbuffered ();
  tmpdir_remove ();
  return tap_done ();
}
