/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Real process kills: a forked writer runs a random write/zero/flush
 * workload on a sparse disk (and on a child of it) and reports each
 * successful flush through a pipe; it is killed with SIGKILL at a random
 * moment.  Then vdk check must find no corruption (the unclean mark and
 * redundant tables that lag an interrupted flush are the expected
 * traces of a kill), qemu-img check must be clean, and every write
 * acknowledged as flushed must read back (workload.h).  The contents
 * after one kill are the starting point of the next run.  Last, shrink
 * and defrag are killed at random moments: the disk must stay whole. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "vdk.h"
#include "workload.h"
#include "../tmpdir.h"

#define NOPS 300
#define ROUNDS 25
#define WINLEN ((uint64_t) 16 << 20)
#define MAXLEN ((uint64_t) 256 << 10)

static struct wl_op ops[NOPS];
static uint8_t *init_buf, *got, *wbuf;

static void
writer (const char *path, int fd)
{
  vdk_disk *d = vdk_open (path, 0);
  if (!d)
    _exit (1);
  for (int i = 0; i < NOPS; i++) {
    if (wl_apply (d, &ops[i], i, wbuf) == -1)
      _exit (2);
    if (ops[i].kind == WL_FLUSH) {
      int32_t n = i + 1;
      if (write (fd, &n, sizeof n) != sizeof n)
        _exit (3);
    }
  }
  for (;;)
    pause ();
}

/* Run one writer, kill it after `us` microseconds; returns the number
 * of ops acknowledged durable. */
static int
run_and_kill (const char *path, unsigned us)
{
  int p[2], st;
  int32_t n, durable = 0;
  pid_t pid;

  if (pipe (p) == -1)
    return -1;
  if ((pid = fork ()) == 0) {
    close (p[0]);
    writer (path, p[1]);
  }
  close (p[1]);
  usleep (us);
  kill (pid, SIGKILL);
  waitpid (pid, &st, 0);
  while (read (p[0], &n, sizeof n) == sizeof n)
    durable = n;
  close (p[0]);
  if (!WIFSIGNALED (st))
    diag ("writer exited with %d before the kill", WEXITSTATUS (st));
  return durable;
}

static int
bad_problems (const char *path, char *first, size_t len)
{
  struct vdk_check_report *r;
  int bad = 0;
  if (vdk_check (path, 0, 0, &r) == -1) {
    snprintf (first, len, "%s", vdk_last_error ());
    return 1;
  }
  for (size_t i = 0; i < r->nproblems; i++)
    if (!strstr (r->problems[i]->what, "unclean-shutdown")
        && !strstr (r->problems[i]->what, "cut short by the unclean")
        && !bad++)
      snprintf (first, len, "%s", r->problems[i]->what);
  vdk_free_check_report (r);
  return bad;
}

static int
read_window (const char *path, uint8_t *buf)
{
  vdk_disk *d = vdk_open (path, VDK_OPEN_READ_ONLY);
  int r = d ? vdk_pread (d, buf, WINLEN, 0) : -1;
  vdk_close (d);
  return r;
}

static void
rounds (const char *path, const char *name, bool qemu)
{
  int bad_check = 0, bad_qemu = 0, bad_data = 0, acked = 0;
  char first[512] = "", cmd[1024];
  struct vdk_check_report *r;

  for (int round = 0; round < ROUNDS; round++) {
    int durable;
    uint64_t bad = UINT64_MAX;
    wl_gen (ops, NOPS, 77 + (uint32_t) round, 0, WINLEN, MAXLEN);
    if (read_window (path, init_buf) == -1)
      break;
    durable = run_and_kill (path, 2000 + (unsigned) (rand () % 60000));
    acked += durable;
    if (bad_problems (path, first, sizeof first) && !bad_check++)
      diag ("%s round %d: %s", name, round, first);
    snprintf (cmd, sizeof cmd, "qemu-img check -q -f vmdk '%s' >/dev/null"
              " 2>&1", path);
    if (qemu && system (cmd) != 0 && !bad_qemu++)
      diag ("%s round %d: qemu-img check failed", name, round);
    if (read_window (path, got) == -1
        || (bad = wl_verify (ops, durable, NOPS, got, init_buf, 0, WINLEN))
           != UINT64_MAX) {
      if (!bad_data++)
        diag ("%s round %d: sector %" PRIu64 " wrong (%d ops acked)", name,
              round, bad, durable);
    }
    if (round % 5 == 4 && vdk_check (path, VDK_CHECK_REPAIR, 0, &r) == 0)
      vdk_free_check_report (r);
  }
  diag ("%s: %d ops acknowledged durable over %d kills", name, acked, ROUNDS);
  ok (bad_check == 0, "%s: vdk check finds no corruption after each kill",
      name);
  if (qemu)
    ok (bad_qemu == 0, "%s: qemu-img check clean after each kill", name);
  ok (bad_data == 0, "%s: every acknowledged flush reads back", name);
}

/* shrink and defrag killed at random moments: the disk at its path is
 * always complete (old or new file), checks clean and reads the same. */
static void
kill_rewrites (const char *path)
{
  int bad = 0, st;
  uint8_t *before = malloc (WINLEN);
  char first[512] = "", cmd[1200];
  struct vdk_check_report *r;

  if (!before || read_window (path, before) == -1) {
    ok (0, "rewrite kills: read the disk");
    free (before);
    return;
  }
  for (int round = 0; round < 20; round++) {
    pid_t pid = fork ();
    if (pid == 0)
      _exit (round % 2 ? vdk_defrag (path, 0, NULL, NULL)
             : vdk_shrink (path, 0, NULL, NULL));
    usleep ((unsigned) (rand () % 40000));
    kill (pid, SIGKILL);
    waitpid (pid, &st, 0);
    if (bad_problems (path, first, sizeof first)
        || read_window (path, got) == -1 || memcmp (got, before, WINLEN)) {
      if (!bad++)
        diag ("rewrite round %d: %s", round, first);
    }
  }
  ok (bad == 0, "shrink/defrag killed 20 times: the disk checks clean and "
      "reads the same every time");
  /* Each leftover temporary file is a kill that hit mid-rewrite;
   * check --repair removes them. */
  snprintf (cmd, sizeof cmd, "n=$(ls %s | grep -c vdk-new); echo \"# "
            "$n kills hit a rewrite in progress\"", dir);
  if (system (cmd) != 0)
    diag ("cannot count leftovers");
  if (vdk_check (path, VDK_CHECK_REPAIR, 0, &r) == 0)
    vdk_free_check_report (r);
  snprintf (cmd, sizeof cmd, "ls %s | grep -q vdk-new", dir);
  ok (system (cmd) != 0, "check --repair removes the leftover files");
  free (before);
}

int
main (void)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  char base[300], child[300];
  bool qemu = system ("qemu-img --version >/dev/null 2>&1") == 0;

  init_buf = malloc (WINLEN), got = malloc (WINLEN), wbuf = malloc (MAXLEN);
  if (!init_buf || !got || !wbuf) {
    printf ("Bail out! no memory\n");
    return 1;
  }
  if (tmpdir_make_tmpfs ("vdk-kill") == -1)
    return 1;
  srand ((unsigned) time (NULL));
  vdk_init (NULL, NULL, NULL);
  snprintf (base, sizeof base, "%s/base.vmdk", dir);
  snprintf (child, sizeof child, "%s/child.vmdk", dir);
  p.capacity = 64 << 20;
  ok (vdk_create (base, &p) == 0, "create a sparse disk");
  rounds (base, "monolithicSparse", qemu);
  ok (vdk_create_child_path (base, child,
                             VDK_TYPE_DEFAULT, 0) == 0, "create a child");
  rounds (child, "child", qemu);
  kill_rewrites (base);
  tmpdir_remove ();
  return tap_done ();
}
