/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Crash simulation: random write/zero/flush workloads on a monolithic
 * sparse disk, a split sparse disk (across the extent boundary), a
 * monolithic flat disk, a sparse child and a vmfsSparse (COWD) child of
 * a sparse parent, "crashed" at
 * every write boundary of the run (io/crash.c), once with all unsynced
 * writes dropped, once with a random subset kept and once torn at
 * sector granularity.  After each crash the disk is reopened normally:
 * vdk check must find nothing but the unclean-shutdown mark, qemu-img
 * check (sampled, where qemu reads the format) must be clean, and every
 * write completed before the last successful flush must read back
 * exactly (workload.h says what each sector may hold).
 *
 * Names: a descriptor is replaced by writing a temporary file, renaming
 * it over the old one and syncing the folder.  rename_crash() crashes
 * just before the rename, between the rename and the folder sync, and
 * after the sync: the old descriptor must survive the first two (the
 * unsynced rename is lost; the new text is left in the temporary file)
 * unless the crash keeps every change, and the new one the third. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "ops/ops.h"
#include "workload.h"
#include "../tmpdir.h"

#define NOPS 40
#define WINLEN ((uint64_t) 8 << 20)
#define MAXLEN ((uint64_t) 192 << 10)

struct setup {
  const char *name;
  int type;
  uint64_t cap, win;
  bool child;
  int child_type;       /* 0 = monolithicSparse */
  int nops;             /* workload length (COWD's 1-sector grains make
                         * many more write boundaries per op) */
};

static char cmd[2048];
static uint8_t *init_buf, *got, *wbuf;
static struct wl_op ops[NOPS];

static int
sh (const char *fmt, const char *a)
{
  snprintf (cmd, sizeof cmd, fmt, a, a, a);
  return system (cmd);
}

static int
make_pristine (const struct setup *s)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  char path[512];
  p.type = s->type;
  p.capacity = s->cap;
  snprintf (path, sizeof path, "%s/P", dir);
  sh ("rm -rf %s && mkdir -p %s", path);
  snprintf (path, sizeof path, "%s/P/d.vmdk", dir);
  if (vdk_create (path, &p) == -1)
    return -1;
  if (s->child) {
    vdk_disk *d = vdk_open (path, 0);
    char cpath[512];
    if (!d)
      return -1;
    for (uint64_t o = 0; o < WINLEN; o += (1 << 20)) {  /* parent data */
      wl_fill (wbuf, 999, o, MAXLEN);
      if (vdk_pwrite (d, wbuf, MAXLEN, o) == -1)
        return -1;
    }
    snprintf (cpath, sizeof cpath, "%s/P/c.vmdk", dir);
    if (vdk_close (d) == -1
        || vdk_create_child_path (path, cpath, s->child_type
                                  ? s->child_type : VDK_TYPE_DEFAULT, 0))
      return -1;
  }
  return 0;
}

static const char *
top (const struct setup *s, const char *sub)
{
  static char p[512];
  snprintf (p, sizeof p, "%s/%s/%s", dir, sub, s->child ? "c.vmdk" : "d.vmdk");
  return p;
}

static int
read_window (const struct setup *s, const char *sub, uint8_t *buf)
{
  vdk_disk *d = vdk_open (top (s, sub), VDK_OPEN_READ_ONLY);
  int r = d ? vdk_pread (d, buf, WINLEN, s->win) : -1;
  if (d)
    vdk_close (d);
  return r;
}

/* One run, crashing after `k` writes (0 = never); returns the number of
 * ops known durable and sets *maybe. */
static int
run (const struct setup *s, uint64_t k, int mode, int *maybe)
{
  char w[300];
  vdk_disk *d;
  int durable = 0, i;

  snprintf (w, sizeof w, "%s/W", dir);
  snprintf (cmd, sizeof cmd, "rm -rf %s && cp -a %s/P %s", w, dir, w);
  if (system (cmd) != 0)
    return -1;
  vdk__crash_install (k, (uint32_t) (k * 2654435761u + (unsigned) mode));
  if (!(d = vdk_open (top (s, "W"), 0))) {
    vdk__crash_uninstall ();
    return -1;
  }
  for (i = 0; i < s->nops; i++) {
    if (wl_apply (d, &ops[i], i, wbuf) == -1)
      break;
    if (ops[i].kind == WL_FLUSH)
      durable = i + 1;
  }
  *maybe = i < s->nops ? i + 1 : s->nops;
  vdk__crash_now (mode);
  vdk_close (d);
  vdk__crash_uninstall ();
  return durable;
}

/* Problems that a crash must not cause: anything but the unclean mark
 * and its consequence, redundant tables that lag (an interrupted
 * flush).  With `repair`, run check --repair first and then demand a
 * clean check. */
static int
corruption (const char *path, bool repair, char *first, size_t n)
{
  struct vdk_check_report *r;
  int bad = 0;
  if (repair && vdk_check (path, VDK_CHECK_REPAIR, 0, &r) == 0)
    vdk_free_check_report (r);
  if (vdk_check (path, 0, 0, &r) == -1) {
    snprintf (first, n, "check failed: %s", vdk_last_error ());
    return 1;
  }
  for (size_t i = 0; i < r->nproblems; i++)
    if ((repair || (!strstr (r->problems[i]->what, "unclean-shutdown")
                    && !strstr (r->problems[i]->what, "cut short by the "
                                "unclean shutdown")))
        && !bad++)
      snprintf (first, n, "%s%s", repair ? "after repair: " : "",
                r->problems[i]->what);
  vdk_free_check_report (r);
  return bad;
}

static bool
qemu_ok (const char *path)
{
  snprintf (cmd, sizeof cmd, "qemu-img check -q -f vmdk '%s' >/dev/null 2>&1",
            path);
  return system (cmd) == 0;
}

/* Crash at every write boundary of the workload in three modes. */
static void
crash_all (const struct setup *s, bool use_qemu)
{
  static const int modes[] = { VDK_CRASH_DROP_ALL, VDK_CRASH_SUBSET,
                               VDK_CRASH_TORN };
  int maybe, durable;
  uint64_t writes, runs = 0, bad_check = 0, bad_qemu = 0, bad_data = 0;
  char first[512] = "", where[600] = "";

  durable = run (s, 0, VDK_CRASH_KEEP_ALL, &maybe);
  writes = vdk__crash_writes ();
  if (!ok (durable >= 0, "%s: full run without crash", s->name))
    return;
  diag ("%s: %" PRIu64 " write boundaries", s->name, writes);
  for (uint64_t k = 1; k <= writes; k++)
    for (size_t m = 0; m < ARRAY_SIZE (modes); m++) {
      uint64_t bad = UINT64_MAX;
      runs++;
      if ((durable = run (s, k, modes[m], &maybe)) < 0) {
        bad_data++;
        snprintf (where, sizeof where, "crash after %" PRIu64 " writes: "
                  "reopen failed: %s", k, vdk_last_error ());
        continue;
      }
      if ((corruption (top (s, "W"), false, first, sizeof first)
           || (k % 4 == 0 && corruption (top (s, "W"), true, first,
                                         sizeof first)))
          && !bad_check++)
        snprintf (where, sizeof where, "crash after %" PRIu64 " writes, "
                  "mode %d: %s", k, modes[m], first);
      if (use_qemu && (k + m) % 5 == 0 && !qemu_ok (top (s, "W"))
          && !bad_qemu++)
        diag ("%s: qemu-img check failed after %" PRIu64 " writes", s->name,
              k);
      if (read_window (s, "W", got) == -1) {
        if (!bad_data++)
          snprintf (where, sizeof where, "crash after %" PRIu64 " writes, "
                    "mode %d: read failed: %s", k, modes[m],
                    vdk_last_error ());
      } else if ((bad = wl_verify (ops, durable, maybe, got, init_buf,
                                   s->win, WINLEN)) != UINT64_MAX
                 && !bad_data++)
        snprintf (where, sizeof where, "crash after %" PRIu64 " writes, "
                  "mode %d: sector %" PRIu64 " holds a value no flushed "
                  "or later write put there", k, modes[m], bad);
    }
  if (where[0])
    diag ("%s: first failure: %s", s->name, where);
  ok (bad_check == 0, "%s: vdk check finds no corruption after %" PRIu64
      " crashes, and check --repair leaves it clean (%" PRIu64 " bad)",
      s->name, runs, bad_check);
  if (use_qemu)
    ok (bad_qemu == 0, "%s: qemu-img check clean on sampled crashes (%"
        PRIu64 " bad)", s->name, bad_qemu);
  ok (bad_data == 0, "%s: every flushed write reads back after %" PRIu64
      " crashes (%" PRIu64 " bad)", s->name, runs, bad_data);
}

static uint64_t rename_at;     /* the write number of the first rename */

static int
note_rename (struct vdk_io *io, const char *path, int op, uint64_t off,
             size_t n)
{
  (void) io, (void) path, (void) off, (void) n;
  if (op == 'n' && !rename_at)
    rename_at = vdk__crash_writes () + 1;
  return 0;
}

/* The CID in a descriptor file, 0 if none can be read. */
static uint32_t
desc_cid (const char *path)
{
  char text[4096], *c;
  FILE *f = fopen (path, "r");
  size_t n = f ? fread (text, 1, sizeof text - 1, f) : 0;
  unsigned cid = 0;
  if (f)
    fclose (f);
  text[n] = 0;
  if ((c = strstr (text, "\nCID=")))
    sscanf (c + 5, "%x", &cid);
  return cid;
}

/* Copy the pristine flat disk to R, write one sector with a crash after
 * k writes, and return the CID the descriptor has afterwards. */
static uint32_t
crash_first_write (uint64_t k, int mode)
{
  char path[512];
  vdk_disk *d;
  snprintf (cmd, sizeof cmd, "rm -rf %s/R && cp -a %s/RP %s/R", dir, dir, dir);
  if (system (cmd) != 0)
    return 0;
  snprintf (path, sizeof path, "%s/R/d.vmdk", dir);
  vdk__crash_install (k, 7);
  if ((d = vdk_open (path, 0))) {
    memset (wbuf, 0x5a, 512);
    vdk_pwrite (d, wbuf, 512, 0);
    vdk__crash_now (mode);
    vdk_close (d);
  }
  vdk__crash_uninstall ();
  d = vdk_open (path, VDK_OPEN_READ_ONLY);
  if (!d)
    diag ("reopen after the crash failed: %s", vdk_last_error ());
  vdk_close (d);
  return d ? desc_cid (path) : 0;
}

static bool
tmp_left (void)
{
  snprintf (cmd, sizeof cmd, "ls %s/R/d.vmdk.tmp* >/dev/null 2>&1", dir);
  return system (cmd) == 0;
}

static void
rename_crash (void)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  char path[512];
  uint32_t old, cid;

  p.type = VDK_TYPE_MONOLITHIC_FLAT;
  p.capacity = 1 << 20;
  snprintf (path, sizeof path, "%s/RP", dir);
  sh ("rm -rf %s && mkdir -p %s", path);
  snprintf (path, sizeof path, "%s/RP/d.vmdk", dir);
  if (!ok (vdk_create (path, &p) == 0 && (old = desc_cid (path)) != 0,
           "names: create a monolithicFlat disk"))
    return;
  vdk__io_fault_hook = note_rename;
  cid = crash_first_write (0, VDK_CRASH_KEEP_ALL);
  vdk__io_fault_hook = NULL;
  if (!ok (rename_at > 1 && cid != 0 && cid != old, "names: the first "
           "write replaces the descriptor (rename is write %" PRIu64 ")",
           rename_at))
    return;
  is_int (crash_first_write (rename_at - 1, VDK_CRASH_KEEP_ALL), old,
          "names: a crash before the rename keeps the old descriptor");
  is_int (crash_first_write (rename_at, VDK_CRASH_DROP_ALL), old,
          "names: a crash between the rename and the folder sync loses "
          "the rename: the old descriptor is back");
  ok (tmp_left (), "names: ... and the new text is left in the temporary "
      "file");
  ok (crash_first_write (rename_at, VDK_CRASH_KEEP_ALL) != old,
      "names: the same crash keeping every change has the new descriptor");
  ok (!tmp_left (), "names: ... and no temporary file");
  ok (crash_first_write (rename_at + 1, VDK_CRASH_DROP_ALL) != old,
      "names: after the folder sync the new descriptor survives a crash "
      "that drops everything unsynced");
}

int
main (void)
{
  const struct setup setups[] = {
    { "monolithicSparse", VDK_TYPE_MONOLITHIC_SPARSE, 64 << 20, 0, false, 0,
      NOPS },
    { "twoGbMaxExtentSparse", VDK_TYPE_SPLIT_SPARSE, (uint64_t) 2100 << 20,
      (uint64_t) 4192256 * 512 - (4 << 20), false, 0, NOPS },
    { "monolithicFlat", VDK_TYPE_MONOLITHIC_FLAT, 16 << 20, 0, false, 0,
      NOPS },
    { "child", VDK_TYPE_MONOLITHIC_SPARSE, 64 << 20, 0, true, 0, NOPS },
    { "vmfsSparse (COWD) child", VDK_TYPE_MONOLITHIC_SPARSE, 64 << 20, 0,
      true, VDK_TYPE_VMFS_SPARSE, 16 },
  };
  bool have_qemu = system ("qemu-img --version >/dev/null 2>&1") == 0;

  init_buf = malloc (WINLEN), got = malloc (WINLEN), wbuf = malloc (MAXLEN);
  if (!init_buf || !got || !wbuf) {
    printf ("Bail out! no memory\n");
    return 1;
  }
  if (tmpdir_make_tmpfs ("vdk-crash") == -1)
    return 1;
  vdk_init (NULL, NULL, NULL);
  if (!have_qemu)
    diag ("qemu-img not installed: its checks are skipped");
  rename_crash ();
  for (size_t i = 0; i < ARRAY_SIZE (setups); i++) {
    const struct setup *s = &setups[i];
    wl_gen (ops, s->nops, 0x5eed + (uint32_t) i, s->win, WINLEN, MAXLEN);
    if (!ok (make_pristine (s) == 0 && read_window (s, "P", init_buf) == 0,
             "%s: create the disk", s->name)) {
      diag ("%s", vdk_last_error ());
      continue;
    }
    crash_all (s, have_qemu && s->type != VDK_TYPE_MONOLITHIC_FLAT);
  }
  tmpdir_remove ();
  return tap_done ();
}
