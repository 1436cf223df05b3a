/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fault injection across operations (issue: hostile input, faults).
 *
 * Each scenario makes small disks in a folder of its own, runs one
 * operation (convert, write + flush, child creation, grow, shrink,
 * defrag, commit, check --repair, stream writing, a read-write FUSE
 * mount) and checks the result.  For every kind of store operation the
 * io layer reports to vdk__io_fault_hook (read, write, flush, punch,
 * truncate, rename, unlink, temporary file, folder sync), a first run
 * counts how many the scenario makes; then the scenario is run again
 * failing the Nth one (N from 1 to the count, all of them when there
 * are few, else a spread that includes the first and the last) in
 * three ways: EIO once (a transient error: later operations work),
 * ENOSPC from the Nth on (a full disk), and a short transfer (half the
 * bytes move, then ENOSPC from then on; reads and writes only).
 *
 * After every faulted run, with faults off, the test asserts:
 * - a failed call set an error message and code (no "no error");
 * - the folder holds exactly the files it held before the call or
 *   exactly those a successful call leaves: nothing half-replaced, no
 *   temporary file left behind;
 * - every disk of the scenario opens, `vdk_check` finds no problem, and
 *   its guest-visible contents are what the scenario allows (the old
 *   contents or the new ones; data flushed before the fault reads back).
 * A crash fails the test, of course; the ASan build runs it too.
 *
 * One TAP line per (scenario, operation kind, way of failing).  The
 * fixtures live on tmpfs: the test makes a few thousand small disks. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "ops/ops.h"
#include "vdk-mount.h"

#include "../tmpdir.h"

#define MiB (1024u * 1024u)
#define CAP (8 * MiB)            /* every disk: small, a few grains used */
#define MAX_FILES 32
/* Faulted runs per (operation kind, way): $VDK_FAULT_RUNS, default 8
 * (a spread over all the operations of that kind; every one if fewer). */
static int max_runs = 8;

/* ---- the fault ------------------------------------------------------ */

enum way { ONCE_EIO, FULL_ENOSPC, SHORT_ENOSPC };
static const char *const way_name[] = { "EIO once", "ENOSPC on", "short" };


static struct {
  bool armed;
  int op;                /* the kind of operation counted */
  long nth;              /* fail the Nth (0: count only) */
  enum way way;
  long seen;             /* operations of that kind so far */
} F;

static int
hook (struct vdk_io *io, const char *path, int op, uint64_t off, size_t n)
{
  (void) io, (void) off, (void) n;
  /* Only the scenario's own files: not /proc, the FUSE folder, ... */
  if (!F.armed || op != F.op || !path || strncmp (path, dir, strlen (dir)))
    return 0;
  F.seen++;
  if (F.nth == 0 || F.seen < F.nth)
    return 0;
  switch (F.way) {
  case ONCE_EIO: return F.seen == F.nth ? EIO : 0;
  case FULL_ENOSPC: return ENOSPC;
  case SHORT_ENOSPC:                     /* a short read fails once */
    if (F.op == 'r')
      return F.seen == F.nth ? -EIO : 0;
    return F.seen == F.nth ? -ENOSPC : ENOSPC;
  }
  return 0;
}

/* ---- helpers -------------------------------------------------------- */

/* The error of the call under test, kept before cleanup calls (which
 * clear it when they succeed). */
static int kept_code;
static char kept_msg[256];

static int
keep (int r)
{
  if (r == -1 && kept_code == 0) {
    kept_code = vdk_last_error_code ();
    snprintf (kept_msg, sizeof kept_msg, "%s", vdk_last_error ());
  }
  return r;
}

static char sdir[512];         /* the scenario's folder */

static const char *
S (const char *name)
{
  static char buf[4][1024];
  static int i;
  i = (i + 1) % 4;
  snprintf (buf[i], sizeof buf[i], "%s/%s", sdir, name);
  return buf[i];
}

static void
fill (uint8_t *buf, size_t n, unsigned seed)
{
  for (size_t i = 0; i < n; i++)
    buf[i] = (uint8_t) ((i * 31 + seed * 7 + (i >> 9)) | 1);
}

static int
make_disk (const char *name, int type, uint64_t cap)
{
  struct vdk_create_params cp = VDK_CREATE_PARAMS_INIT;
  cp.type = type;
  cp.capacity = cap;
  return vdk_create (S (name), &cp);
}

/* Write `n` bytes of pattern `seed` at `off`, flush, close. */
static int
put (const char *name, uint64_t off, size_t n, unsigned seed)
{
  vdk_disk *d = vdk_open (S (name), 0);
  uint8_t *buf = malloc (n);
  int r = -1;
  if (d && buf) {
    fill (buf, n, seed);
    r = vdk_pwrite (d, buf, n, off) == 0 && vdk_flush (d) == 0 ? 0 : -1;
  }
  free (buf);
  if (d && vdk_close (d) == -1)
    r = -1;
  return r;
}

/* The whole guest-visible contents of a disk (capacity in *cap), or
 * NULL if it does not open or read. */
static uint8_t *
slurp (const char *path, unsigned flags, uint64_t *cap)
{
  vdk_disk *d = vdk_open (path, VDK_OPEN_READ_ONLY | flags);
  uint8_t *buf = NULL;
  if (!d)
    return NULL;
  *cap = vdk_capacity (d);
  if (*cap <= 64 * MiB && (buf = malloc (*cap ? *cap : 1))
      && vdk_pread (d, buf, *cap, 0) == -1) {
    free (buf);
    buf = NULL;
  }
  vdk_close (d);
  return buf;
}

/* Set while verifying a call that failed: its disk may keep the
 * unclean-shutdown mark (the close that clears it is what failed), and
 * check rightly reports it. */
static bool call_failed;

/* 0 if the disk at `path` checks clean, else -1 with a diagnostic. */
static int
check_clean (const char *path)
{
  struct vdk_check_report *rep = NULL;
  int r = vdk_check (path, 0, 0, &rep);
  if (r == -1) {
    diag ("check %s: %s", path, vdk_last_error ());
    return -1;
  }
  for (size_t i = 0; i < rep->nproblems; i++) {
    const char *what = rep->problems[i]->what;
    if (call_failed && (strstr (what, "unclean-shutdown mark")
                        || strstr (what, "a flush cut short")))
      continue;
    diag ("check %s: %zu problems, one: %s", path, rep->nproblems, what);
    r = -1;
    break;
  }
  vdk_free_check_report (rep);
  return r;
}

/* The sorted names in the scenario's folder, one string "a\nb\n...". */
static void
listing (char *out, size_t size)
{
  char *names[MAX_FILES];
  size_t n = 0, len = 0;
  DIR *d = opendir (sdir);
  struct dirent *de;
  *out = 0;
  while (d && (de = readdir (d)) && n < MAX_FILES)
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, ".."))
      names[n++] = strdup (de->d_name);
  if (d)
    closedir (d);
  for (size_t i = 0; i < n; i++)            /* few names: insertion sort */
    for (size_t j = i; j > 0 && strcmp (names[j - 1], names[j]) > 0; j--) {
      char *t = names[j]; names[j] = names[j - 1]; names[j - 1] = t;
    }
  for (size_t i = 0; i < n; i++) {
    len += snprintf (out + len, len < size ? size - len : 0, "%s\n",
                     names[i]);
    free (names[i]);
  }
}

static void
clean_sdir (void)
{
  DIR *d = opendir (sdir);
  struct dirent *de;
  while (d && (de = readdir (d)))
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, "..")
        && unlink (S (de->d_name)) == -1)
      rmdir (S (de->d_name));           /* the mount point */
  if (d)
    closedir (d);
}

/* ---- scenarios ------------------------------------------------------ */

/* setup makes the fixtures (faults off), run is the operation under
 * test, verify checks the folder afterwards (faults off; r is what run
 * returned) and returns 0 when all is as allowed. */
struct scenario {
  const char *name;
  int (*setup) (void);
  int (*run) (void);
  int (*verify) (int r);
  bool needs_fuse;
};

/* Disk contents a scenario expects: `name` must read as `want`
 * (capacity `cap`), or, when `alt` is set, as `alt`/`alt_cap`. */
static int
expect (const char *name, const uint8_t *want, uint64_t cap,
        const uint8_t *alt, uint64_t alt_cap)
{
  uint64_t got_cap;
  uint8_t *got = slurp (S (name), 0, &got_cap);
  int r = -1;
  if (!got)
    diag ("%s does not open or read: %s", name, vdk_last_error ());
  else if (got_cap == cap && memcmp (got, want, cap) == 0)
    r = 0;
  else if (alt && got_cap == alt_cap && memcmp (got, alt, alt_cap) == 0)
    r = 0;
  else
    diag ("%s: contents (%llu bytes) are neither before nor after", name,
          (unsigned long long) got_cap);
  free (got);
  return r == 0 ? check_clean (S (name)) : -1;
}

/* The contents every data disk starts with: two runs of grains with a
 * gap, so there are holes, several grain tables' worth of data is not
 * needed at this size. */
static uint8_t before[CAP];
static uint8_t after[2 * CAP];

static void
model_base (uint8_t *m)
{
  memset (m, 0, CAP);
  fill (m, MiB, 1);
  fill (m + 5 * MiB, 512 * 1024, 2);
}

static int
base_disk (const char *name, int type)
{
  return make_disk (name, type, CAP) == 0 && put (name, 0, MiB, 1) == 0
    && put (name, 5 * MiB, 512 * 1024, 2) == 0 ? 0 : -1;
}

/* convert: sparse -> each output type, into a new file. */
static int conv_type;

static int
setup_src (void)
{
  model_base (before);
  return base_disk ("src.vmdk", VDK_TYPE_MONOLITHIC_SPARSE);
}

static int
run_convert (void)
{
  struct vdk_clone_params p = VDK_CLONE_PARAMS_INIT;
  vdk_disk *s = vdk_open (S ("src.vmdk"), VDK_OPEN_READ_ONLY);
  int r;
  if (!s)
    return keep (-1);
  p.type = conv_type;
  r = keep (vdk_clone (s, S ("dst.vmdk"), &p));
  vdk_close (s);
  return r;
}

static int
verify_convert (int r)
{
  struct stat st;
  if (expect ("src.vmdk", before, CAP, NULL, 0) == -1)
    return -1;
  if (stat (S ("dst.vmdk"), &st) == -1)
    return 0;                    /* nothing left (listing checked too) */
  return expect ("dst.vmdk", before, CAP, NULL, 0);
}

/* convert onto an existing disk (VDK_CLONE_OVERWRITE). */
static int
setup_overwrite (void)
{
  model_base (before);
  memset (after, 0, CAP);
  fill (after + 2 * MiB, MiB, 9);
  return base_disk ("src.vmdk", VDK_TYPE_MONOLITHIC_SPARSE) == 0
    && make_disk ("dst.vmdk", VDK_TYPE_MONOLITHIC_SPARSE, CAP) == 0
    && put ("dst.vmdk", 2 * MiB, MiB, 9) == 0 ? 0 : -1;
}

static int
run_overwrite (void)
{
  struct vdk_clone_params p = VDK_CLONE_PARAMS_INIT;
  vdk_disk *s = vdk_open (S ("src.vmdk"), VDK_OPEN_READ_ONLY);
  int r;
  if (!s)
    return keep (-1);
  p.flags = VDK_CLONE_OVERWRITE;
  r = keep (vdk_clone (s, S ("dst.vmdk"), &p));
  vdk_close (s);
  return r;
}

static int
verify_overwrite (int r)
{
  /* The old destination or the complete copy, never a mixture. */
  return expect ("src.vmdk", before, CAP, NULL, 0) == -1 ? -1
    : expect ("dst.vmdk", before, CAP, after, CAP);
}

/* write + flush on an existing disk: what was flushed before survives. */
static int wf_type;

static int
setup_wf (void)
{
  model_base (before);
  return base_disk ("d.vmdk", wf_type);
}

static int
run_wf (void)
{
  vdk_disk *d = vdk_open (S ("d.vmdk"), 0);
  static uint8_t buf[2 * MiB];
  int r;
  if (!d)
    return keep (-1);
  fill (buf, sizeof buf, 5);
  r = keep (vdk_pwrite (d, buf, sizeof buf, 512 * 1024) == 0
            && vdk_flush (d) == 0
            && vdk_pwrite (d, buf, 64 * 1024, 7 * MiB) == 0 ? 0 : -1);
  return keep (vdk_close (d)) == -1 ? -1 : r;
}

static int
verify_wf (int r)
{
  uint64_t cap;
  uint8_t *got = slurp (S ("d.vmdk"), 0, &cap);
  int bad = -1;
  if (!got)
    diag ("d.vmdk does not open: %s", vdk_last_error ());
  /* The first 512 KiB were flushed before the call and not touched. */
  else if (cap != CAP || memcmp (got, before, 512 * 1024) != 0)
    diag ("d.vmdk: data flushed before the fault changed");
  else
    bad = 0;
  if (got && r == 0) {                   /* a success wrote everything */
    uint8_t *want = malloc (2 * MiB);
    fill (want, 2 * MiB, 5);
    if (memcmp (got + 512 * 1024, want, 2 * MiB) != 0) {
      diag ("d.vmdk: a successful write does not read back");
      bad = -1;
    }
    free (want);
  }
  free (got);
  return bad == 0 ? check_clean (S ("d.vmdk")) : -1;
}

/* child creation */
static int
run_child (void)
{
  return keep (vdk_create_child_path (S ("src.vmdk"), S ("child.vmdk"),
                                      VDK_TYPE_DEFAULT, 0));
}

static int
verify_child (int r)
{
  struct stat st;
  if (expect ("src.vmdk", before, CAP, NULL, 0) == -1)
    return -1;
  return stat (S ("child.vmdk"), &st) == -1 ? 0
    : expect ("child.vmdk", before, CAP, NULL, 0);
}

/* grow, shrink, defrag: the disk reads the same (grow: old or new size) */
static int maint_type;

static int
setup_maint (void)
{
  model_base (before);
  if (base_disk ("d.vmdk", maint_type) == -1)
    return -1;
  /* Zeroes over allocated grains (shrink gives them back) and a grain
   * written out of order (defrag moves it). */
  vdk_disk *d = vdk_open (S ("d.vmdk"), 0);
  static uint8_t z[256 * 1024];
  int r = d && vdk_pwrite (d, z, sizeof z, 256 * 1024) == 0 ? 0 : -1;
  if (d && vdk_close (d) == -1)
    r = -1;
  memset (before + 256 * 1024, 0, sizeof z);
  memcpy (after, before, CAP);
  memset (after + CAP, 0, CAP);
  return r;
}

static int
run_grow (void)
{
  return keep (vdk_grow (S ("d.vmdk"), 2 * CAP, 0));
}

static int
verify_grow (int r)
{
  return expect ("d.vmdk", before, CAP, after, 2 * CAP);
}

static int
run_shrink (void)
{
  return keep (vdk_shrink (S ("d.vmdk"), 0, NULL, NULL));
}

static int
run_defrag (void)
{
  return keep (vdk_defrag (S ("d.vmdk"), 0, NULL, NULL));
}

static int
verify_same (int r)
{
  return expect ("d.vmdk", before, CAP, NULL, 0);
}

/* commit: the child's view never changes; the base stays sound. */
static int
setup_commit (void)
{
  model_base (before);
  if (base_disk ("base.vmdk", VDK_TYPE_MONOLITHIC_SPARSE) == -1
      || vdk_create_child_path (S ("base.vmdk"), S ("child.vmdk"),
                                VDK_TYPE_DEFAULT, 0) == -1
      || put ("child.vmdk", 768 * 1024, MiB, 6) == -1)
    return -1;
  fill (before + 768 * 1024, MiB, 6);
  return 0;
}

static int
run_commit (void)
{
  return keep (vdk_commit (S ("child.vmdk"), 0, NULL, NULL));
}

static int
verify_commit (int r)
{
  uint64_t cap;
  uint8_t *got = NULL;
  int bad;
  if (check_clean (S ("base.vmdk")) == -1)
    return -1;
  if (!call_failed || (got = slurp (S ("child.vmdk"), 0, &cap)) != NULL) {
    if (call_failed)
      free (got);
    return expect ("child.vmdk", before, CAP, NULL, 0);
  }
  /* The merge stopped and so did the write of the child's parentCID:
   * the child refuses its changed parent, and its data is intact. */
  if (vdk_last_error_code () != VDK_E_CID_MISMATCH) {
    diag ("child.vmdk does not open: %s", vdk_last_error ());
    return -1;
  }
  got = slurp (S ("child.vmdk"), VDK_OPEN_NO_CID_CHECK, &cap);
  bad = !got || cap != CAP || memcmp (got, before, CAP) != 0;
  if (bad)
    diag ("child.vmdk: contents changed under a failed commit");
  free (got);
  return bad ? -1 : 0;
}

/* check --repair of a primary grain table entry gone bad, with an
 * intact redundant copy: a failed repair must not make it worse, and a
 * repair afterwards restores the data. */
static int
setup_repair (void)
{
  uint8_t h[512], gd[4];
  int fd;
  uint32_t gt;
  model_base (before);
  if (base_disk ("d.vmdk", VDK_TYPE_MONOLITHIC_SPARSE) == -1
      || (fd = open (S ("d.vmdk"), O_RDWR)) == -1)
    return -1;
  int r = -1;
  if (pread (fd, h, 512, 0) == 512) {
    uint64_t gd_off = le64_get (h + 56);
    if (pread (fd, gd, 4, (off_t) gd_off * 512) == 4) {
      gt = le32_get (gd);
      uint8_t bad[4];
      le32_put (bad, 0x7fffff00u);       /* far past the end of file */
      r = pwrite (fd, bad, 4, (off_t) gt * 512) == 4 ? 0 : -1;
    }
  }
  close (fd);
  /* The fixture is only worth its name if check sees the damage. */
  struct vdk_check_report *rep = NULL;
  if (r == 0 && (vdk_check (S ("d.vmdk"), 0, 0, &rep) == -1
                 || rep->nproblems == 0)) {
    diag ("the damaged grain table entry went unnoticed");
    r = -1;
  }
  vdk_free_check_report (rep);
  return r;
}

static int
run_repair (void)
{
  struct vdk_check_report *rep = NULL;
  int r = keep (vdk_check (S ("d.vmdk"), VDK_CHECK_REPAIR, 0, &rep));
  vdk_free_check_report (rep);
  return r;
}

static int
verify_repair (int r)
{
  (void) run_repair ();                  /* faults off: finish the job */
  return expect ("d.vmdk", before, CAP, NULL, 0);
}

/* stream writing: vdk_create of a streamOptimized disk written in
 * order through vdk_pwrite; a failure leaves a stream that is either
 * complete or cut short at a clean point, never one that reads wrong. */
static int
setup_stream (void)
{
  model_base (before);
  memset (after, 0, CAP);
  return make_disk ("s.vmdk", VDK_TYPE_STREAM_OPTIMIZED, CAP);
}

static int
run_stream (void)
{
  static uint8_t buf[CAP];
  memcpy (buf, before, CAP);
  vdk_disk *d = vdk_open (S ("s.vmdk"), 0);
  if (!d)
    return keep (-1);
  int r = keep (vdk_pwrite (d, buf, CAP, 0));
  return keep (vdk_close (d)) == -1 ? -1 : r;
}

static int
verify_stream (int r)
{
  if (r == 0)
    return expect ("s.vmdk", before, CAP, NULL, 0);
  /* Unfinished: it reads as the empty disk it was, or it must not pass
   * for a complete one. */
  uint64_t cap;
  uint8_t *got = slurp (S ("s.vmdk"), 0, &cap);
  struct vdk_check_report *rep = NULL;
  int bad = 0;
  if (got && vdk_check (S ("s.vmdk"), 0, 0, &rep) == 0 && rep->nproblems == 0
      && memcmp (got, before, CAP) != 0 && memcmp (got, after, CAP) != 0) {
    diag ("s.vmdk: a failed stream checks clean but reads wrong");
    bad = -1;
  }
  vdk_free_check_report (rep);
  free (got);
  return bad;
}

/* A read-write FUSE mount (flat: the disk's file), served by this
 * process; writes through the file, fsync, more writes. */
static int
setup_fuse (void)
{
  model_base (before);
  return base_disk ("d.vmdk", VDK_TYPE_MONOLITHIC_SPARSE) == 0
    && mkdir (S ("mnt"), 0755) == 0 ? 0 : -1;
}

static bool fuse_synced;        /* the first write's fsync succeeded */

static int
run_fuse (void)
{
  struct vdk_mount_params mp = VDK_MOUNT_PARAMS_INIT;
  vdk_diskset *set = vdk_diskset_new ();
  vdk_disk *d = vdk_open (S ("d.vmdk"), 0);
  vdk_mount *m = NULL;
  static uint8_t buf[MiB];
  char file[700];
  int fd = -1, r = -1;

  fuse_synced = false;
  if (!set || !d || keep (vdk_diskset_add (set, d, NULL)) == -1) {
    keep (-1);
    if (d)
      vdk_close (d);
    goto out;
  }
  mp.flags = VDK_MOUNT_WRITABLE;
  if (keep (vdk_diskset_scan (set, 0)) == -1
      || !(m = vdk_mount_volume (set, NULL, S ("mnt"), &mp))) {
    keep (-1);
    goto out;
  }
  snprintf (file, sizeof file, "%s/disk", vdk_mount_path (m));
  fill (buf, sizeof buf, 8);
  if ((fd = open (file, O_RDWR)) >= 0
      && pwrite (fd, buf, sizeof buf, 2 * MiB) == (ssize_t) sizeof buf
      && fsync (fd) == 0) {
    fuse_synced = true;
    memcpy (after, before, CAP);
    memcpy (after + 2 * MiB, buf, sizeof buf);
    if (pwrite (fd, buf, 64 * 1024, 6 * MiB) == 64 * 1024 && fsync (fd) == 0)
      r = 0;
  }
  if (fd >= 0 && close (fd) == -1)
    r = -1;
  /* A failed write through the mount is an errno, not a library error. */
  if (r == -1 && kept_code == 0)
    kept_code = VDK_E_IO, snprintf (kept_msg, sizeof kept_msg, "%s",
                                    strerror (errno));
 out:
  /* An unmount that fails (its last flush did) keeps the handle: once
   * the store works again, a second one must succeed. */
  if (m && keep (vdk_unmount (m, VDK_UNMOUNT_FORCE)) == -1) {
    bool armed = F.armed;
    r = -1;
    F.armed = false;
    if (vdk_unmount (m, VDK_UNMOUNT_FORCE) == -1) {
      diag ("unmount failed twice: %s", vdk_last_error ());
      r = -2;                            /* never acceptable */
    }
    F.armed = armed;
  }
  if (set && keep (vdk_diskset_close (set)) == -1)
    r = -1;
  return r;
}

static int
verify_fuse (int r)
{
  uint64_t cap;
  uint8_t *got;
  int bad = 0;
  if (r == -2)
    return -1;
  if (!(got = slurp (S ("d.vmdk"), 0, &cap))) {
    diag ("d.vmdk does not open after the mount: %s", vdk_last_error ());
    return -1;
  }
  if (memcmp (got, before, 2 * MiB) != 0
      || (fuse_synced && memcmp (got + 2 * MiB, after + 2 * MiB, MiB) != 0)) {
    diag ("d.vmdk: data written and synced through the mount is lost");
    bad = -1;
  }
  free (got);
  return bad == 0 ? check_clean (S ("d.vmdk")) : -1;
}

/* ---- the driver ----------------------------------------------------- */

static int
setup_conv_sparse (void) { conv_type = VDK_TYPE_MONOLITHIC_SPARSE; return setup_src (); }
static int
setup_conv_stream (void) { conv_type = VDK_TYPE_STREAM_OPTIMIZED; return setup_src (); }
static int
setup_conv_split (void) { conv_type = VDK_TYPE_SPLIT_SPARSE; return setup_src (); }
static int
setup_conv_flat (void) { conv_type = VDK_TYPE_MONOLITHIC_FLAT; return setup_src (); }
static int
setup_conv_cowd (void) { conv_type = VDK_TYPE_VMFS_THIN; return setup_src (); }
static int
setup_wf_sparse (void) { wf_type = VDK_TYPE_MONOLITHIC_SPARSE; return setup_wf (); }
static int
setup_wf_split (void) { wf_type = VDK_TYPE_SPLIT_FLAT; return setup_wf (); }
static int
setup_maint_sparse (void) { maint_type = VDK_TYPE_MONOLITHIC_SPARSE; return setup_maint (); }
static int
setup_maint_split (void) { maint_type = VDK_TYPE_SPLIT_SPARSE; return setup_maint (); }

static const struct scenario scenarios[] = {
  { "convert to monolithicSparse", setup_conv_sparse, run_convert, verify_convert, false },
  { "convert to streamOptimized", setup_conv_stream, run_convert, verify_convert, false },
  { "convert to twoGbMaxExtentSparse", setup_conv_split, run_convert, verify_convert, false },
  { "convert to monolithicFlat", setup_conv_flat, run_convert, verify_convert, false },
  { "convert to vmfsThin", setup_conv_cowd, run_convert, verify_convert, false },
  { "convert onto an existing disk", setup_overwrite, run_overwrite, verify_overwrite, false },
  { "write + flush (monolithicSparse)", setup_wf_sparse, run_wf, verify_wf, false },
  { "write + flush (twoGbMaxExtentFlat)", setup_wf_split, run_wf, verify_wf, false },
  { "child creation", setup_src, run_child, verify_child, false },
  { "grow (monolithicSparse)", setup_maint_sparse, run_grow, verify_grow, false },
  { "grow (twoGbMaxExtentSparse)", setup_maint_split, run_grow, verify_grow, false },
  { "shrink", setup_maint_sparse, run_shrink, verify_same, false },
  { "defrag (twoGbMaxExtentSparse)", setup_maint_split, run_defrag, verify_same, false },
  { "commit", setup_commit, run_commit, verify_commit, false },
  { "check --repair", setup_repair, run_repair, verify_repair, false },
  { "stream writing", setup_stream, run_stream, verify_stream, false },
  { "read-write FUSE mount", setup_fuse, run_fuse, verify_fuse, true },
};

static const int kinds[] = { 'r', 'w', 'f', 'p', 'z', 'n', 'u', 't', 'd' };

/* The ways each kind fails, as stores fail: a read fails once, whole or
 * short (EIO: a bad sector), a write also with a full disk from then
 * on; a removal or folder sync only once (a store that can never
 * remove a file leaves the file, and says so). */
static unsigned
ways_of (int kind)
{
  switch (kind) {
  case 'r': return 1u << ONCE_EIO | 1u << SHORT_ENOSPC;
  case 'w': return 1u << ONCE_EIO | 1u << FULL_ENOSPC | 1u << SHORT_ENOSPC;
  case 'u': case 'd': return 1u << ONCE_EIO;
  default: return 1u << ONCE_EIO | 1u << FULL_ENOSPC;
  }
}

/* One run of `s` with the fault set up in F; 0 when everything after
 * it is as allowed. */
static int
one_run (const struct scenario *s, const char *pre_ok, const char *post_ok)
{
  char files[4096];
  int r, code;
  clean_sdir ();
  if (s->setup () == -1) {
    diag ("%s: fixture failed: %s", s->name, vdk_last_error ());
    return -1;
  }
  F.seen = 0;
  kept_code = 0, kept_msg[0] = 0;
  F.armed = true;
  r = s->run ();
  F.armed = false;
  code = kept_code;
  if (r == -1 && (code == 0 || !kept_msg[0]
                  || strcmp (kept_msg, "no error") == 0)) {
    diag ("%s: failed without an error", s->name);
    return -1;
  }
  call_failed = r != 0;
  listing (files, sizeof files);
  if (pre_ok && strcmp (files, pre_ok) && strcmp (files, post_ok)) {
    diag ("%s: files left are neither before nor after:\n%s", s->name,
          files);
    return -1;
  }
  return s->verify (r);
}

static bool
fuse_usable (void)
{
  return geteuid () == 0 && access ("/dev/fuse", R_OK | W_OK) == 0
    && !getenv ("VDK_TEST_NO_FUSE");
}

static void
run_scenario (const struct scenario *s)
{
  char pre[4096], post[4096];
  long counts[sizeof kinds / sizeof *kinds];

  if (s->needs_fuse && !fuse_usable ()) {
    ok (1, "%s # SKIP needs root and /dev/fuse", s->name);
    return;
  }
  /* The files before and after a run without faults, and how many
   * operations of each kind it makes. */
  clean_sdir ();
  if (s->setup () == -1) {
    ok (0, "%s: fixture: %s", s->name, vdk_last_error ());
    return;
  }
  listing (pre, sizeof pre);
  clean_sdir ();
  F = (typeof (F)) { 0 };
  for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
    clean_sdir ();
    s->setup ();
    F.op = kinds[k], F.nth = 0, F.seen = 0, F.armed = true;
    int r = s->run ();
    F.armed = false;
    counts[k] = F.seen;
    if (k == 0 && !ok (r == 0 && s->verify (r) == 0, "%s without faults",
                       s->name))
      return;
  }
  listing (post, sizeof post);

  for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
    long n = counts[k];
    if (n == 0)
      continue;
    for (int w = ONCE_EIO; w <= SHORT_ENOSPC; w++) {
      int bad = 0, runs = 0;
      if (!(ways_of (kinds[k]) & 1u << w))
        continue;
      for (int i = 0; i < max_runs && !bad; i++) {
        long nth = n <= max_runs ? i + 1
          : 1 + (long) ((double) i * (n - 1) / (max_runs - 1));
        if (nth > n)
          break;
        F.op = kinds[k], F.nth = nth, F.way = (enum way) w;
        if (one_run (s, pre, post) == -1) {
          diag ("  (the failing run: %s #%ld of %ld, %s)", s->name, nth, n,
                way_name[w]);
          bad = 1;
        }
        runs++;
      }
      ok (!bad, "%s: %c %s (%d runs over %ld operations)", s->name,
          kinds[k], way_name[w], runs, n);
    }
  }
}

/* VDK_FAULT_ONE="SCENARIO:KIND:NTH:WAY" (indexes; WAY 0 EIO once, 1
 * ENOSPC on, 2 short) runs one faulted run and keeps its folder: for
 * finding out what a failing line means. */
static int
run_one (const char *spec)
{
  unsigned si, way;
  char kind;
  long nth;
  if (sscanf (spec, "%u:%c:%ld:%u", &si, &kind, &nth, &way) != 4
      || si >= sizeof scenarios / sizeof *scenarios || way > SHORT_ENOSPC)
    return 2;
  snprintf (sdir, sizeof sdir, "%s/one", dir);
  mkdir (sdir, 0755);
  F.op = kind, F.nth = nth, F.way = (enum way) way;
  int r = one_run (&scenarios[si], NULL, NULL);
  printf ("# %s: run returned, kept error %d \"%s\"; verify %d; folder %s\n",
          scenarios[si].name, kept_code, kept_msg, r, sdir);
  return r == 0 ? 0 : 1;
}

int
main (void)
{
  if (tmpdir_make_tmpfs ("vdk-faults") == -1)
    return 1;
  vdk__io_fault_hook = hook;
  if (getenv ("VDK_FAULT_RUNS") && atoi (getenv ("VDK_FAULT_RUNS")) > 1)
    max_runs = atoi (getenv ("VDK_FAULT_RUNS"));
  if (getenv ("VDK_FAULT_ONE"))
    return run_one (getenv ("VDK_FAULT_ONE"));
  for (size_t i = 0; i < sizeof scenarios / sizeof *scenarios; i++) {
    snprintf (sdir, sizeof sdir, "%s/s%zu", dir, i);
    mkdir (sdir, 0755);
    run_scenario (&scenarios[i]);
    clean_sdir ();
    rmdir (sdir);
  }
  vdk__io_fault_hook = NULL;
  tmpdir_remove ();
  return tap_done ();
}
