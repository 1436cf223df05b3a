/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdk-vdiskmanager - vmware-vdiskmanager's command line on vdk.
 *
 * Scripts written for vmware-vdiskmanager run unchanged: the same
 * flags with the same meanings, one operation per invocation, messages
 * in the same spirit ("Virtual disk creation successful."), exit status
 * 0 on success and 1 on failure.  Every operation is one call of the
 * public library (include/vdk.h):
 *
 *   -c -s SIZE -a ADAPTER -t TYPE DISK   vdk_create (flat types
 *                                        preallocated, as VMware's)
 *   -r SRC -t TYPE DST                   vdk_clone
 *   -x SIZE DISK                         vdk_grow_ex (larger only)
 *   -k DISK                              vdk_shrink
 *   -d DISK                              vdk_defrag
 *   -n SRC DST                           vdk_rename
 *   -p MOUNTPOINT                        zero-fill the free space of a
 *                                        mounted volume, so -k gives it
 *                                        back (vdk's FUSE layer turns
 *                                        written zeroes into zeroed
 *                                        ranges, nothing is allocated)
 *   -R DISK / -e DISK                    vdk_check with / without repair
 *   -D DISK                              ddb.deletable = "true"
 *   -q                                   no progress or log messages
 *
 * Remote destinations (-h HOST -u USER -f PASSWORDFILE with -r) need a
 * vSphere host and are refused with a clear message.  Sizes take
 * vmware-vdiskmanager's units: a plain number of sectors, or KB, MB, GB
 * (and TB); the ranges are its own (1 MB .. 8192 GB, BusLogic 2040 GB). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "vdk.h"

static const char *prog = "vdk-vdiskmanager";
static bool quiet;

static void
usage (FILE *fp)
{
  fprintf (fp,
"vdk Virtual Disk Manager (vmware-vdiskmanager compatible), vdk %s\n"
"Usage: %s OPTIONS <disk-name> | <mount-point>\n"
"Offline disk manipulation utility\n"
"  Operations, only one may be specified at a time:\n"
"     -c                   : create disk; needs -s, -a and -t\n"
"     -d                   : defragment the specified virtual disk\n"
"     -k                   : shrink the specified virtual disk\n"
"     -n <source-disk>     : rename <source-disk> to <disk-name>\n"
"     -p                   : prepare the volume mounted at <mount-point>\n"
"                            for shrinking (fill its free space with zeroes)\n"
"     -r <source-disk>     : convert <source-disk> into <disk-name>; -t\n"
"                            gives the destination's disk type\n"
"     -x <new-capacity>    : expand the disk to <new-capacity>\n"
"     -R                   : check a virtual disk and repair what it can\n"
"     -e                   : check the disk chain for consistency\n"
"     -D                   : make the disk deletable\n"
"\n"
"  Other options:\n"
"     -q                   : do not print progress or log messages\n"
"\n"
"  Additional options for create and convert:\n"
"     -a <adapter>         : (with -c) ide, buslogic, lsilogic or pvscsi\n"
"     -s <size>            : capacity: sectors, or a number with KB, MB, GB\n"
"     -t <disk-type>       : disk type id:\n"
"         0 : single growable virtual disk\n"
"         1 : growable virtual disk split into 2GB files\n"
"         2 : preallocated virtual disk\n"
"         3 : preallocated virtual disk split into 2GB files\n"
"         4 : preallocated ESX-type virtual disk\n"
"         5 : compressed disk optimized for streaming\n"
"         6 : thin provisioned virtual disk - ESX 3.x and above\n"
"\n"
"     Capacity ranges: ide/lsilogic/pvscsi [1MB, 8192GB], buslogic\n"
"     [1MB, 2040GB].\n"
"  Examples:\n"
"     %s -c -s 850MB -a ide -t 0 myIdeDisk.vmdk\n"
"     %s -d myDisk.vmdk\n"
"     %s -r sourceDisk.vmdk -t 0 destinationDisk.vmdk\n"
"     %s -x 36GB myDisk.vmdk\n"
"     %s -n sourceName.vmdk destinationName.vmdk\n"
"     %s -k myDisk.vmdk\n"
"     %s -p <mount-point>\n",
           vdk_version (), prog, prog, prog, prog, prog, prog, prog, prog);
}

static int
failed (const char *what, const char *disk)
{
  fprintf (stderr, "%s: %s '%s': %s\n", prog, what, disk, vdk_last_error ());
  return 1;
}

static void
say (const char *fmt, ...)
{
  va_list ap;
  if (quiet)
    return;
  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  fflush (stdout);
}

/* "  Shrink: 42% done." redrawn on a terminal, once at 100% otherwise. */
struct progress {
  const char *label;
  int last;
};

static int
progress (void *opaque, uint64_t done, uint64_t total)
{
  struct progress *p = opaque;
  int pct = total ? (int) ((double) done * 100.0 / (double) total) : 100;
  if (quiet || pct == p->last || (pct < 100 && !isatty (1)))
    return 0;
  p->last = pct;
  printf ("  %s: %d%% done.%s", p->label, pct, isatty (1) ? "\r" : "\n");
  fflush (stdout);
  return 0;
}

static void
progress_end (struct progress *p)
{
  progress (p, 1, 1);
  if (!quiet && isatty (1))
    printf ("\n");
}

/* vmware-vdiskmanager's sizes: sectors, or KB/MB/GB/TB (K/M/G/T too). */
static int
parse_size (const char *text, uint64_t *bytes)
{
  static const struct { const char *unit; unsigned shift; } units[] = {
    { "", 9 }, { "s", 9 }, { "sectors", 9 }, { "k", 10 }, { "kb", 10 },
    { "m", 20 }, { "mb", 20 }, { "g", 30 }, { "gb", 30 }, { "t", 40 },
    { "tb", 40 },
  };
  char *end;
  uint64_t n;

  errno = 0;
  if (!text || *text < '0' || *text > '9')
    return -1;
  n = strtoull (text, &end, 10);
  if (errno || n == 0)
    return -1;
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (strcasecmp (end, units[i].unit) == 0) {
      if (n > (UINT64_MAX >> units[i].shift))
        return -1;
      *bytes = n << units[i].shift;
      return 0;
    }
  return -1;
}

static int
parse_type (const char *t)
{
  if (!t || t[0] < '0' || t[0] > '6' || t[1])
    return -1;
  return vdk_type_from_name (t);
}

static int
do_create (const char *disk, const char *size, const char *adapter,
           const char *type)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  struct progress pr = { "Create", -1 };
  uint64_t max;

  if (!size || !adapter || !type) {
    fprintf (stderr, "%s: -c needs -s <size>, -a <adapter> and -t <type>\n",
             prog);
    return 1;
  }
  if ((p.type = parse_type (type)) < 0
      || (p.adapter = vdk_adapter_from_name (adapter)) < 0
      || p.adapter == VDK_ADAPTER_LEGACYESX || parse_size (size, &p.capacity)) {
    fprintf (stderr, "%s: One of the parameters supplied is invalid "
             "(-t %s, -a %s, -s %s)\n", prog, type, adapter, size);
    return 1;
  }
  max = (uint64_t) (p.adapter == VDK_ADAPTER_BUSLOGIC ? 2040 : 8192) << 30;
  if (p.capacity < (1u << 20) || p.capacity > max) {
    fprintf (stderr, "%s: the capacity %s is outside [1MB, %" PRIu64 "GB] "
             "for a %s adapter\n", prog, size, max >> 30, adapter);
    return 1;
  }
  if (p.type == VDK_TYPE_MONOLITHIC_FLAT || p.type == VDK_TYPE_SPLIT_FLAT
      || p.type == VDK_TYPE_VMFS)
    p.flags |= VDK_CREATE_PREALLOC;
  p.progress = progress;
  p.opaque = &pr;
  say ("Creating disk '%s'\n", disk);
  if (vdk_create (disk, &p) == -1)
    return failed ("Failed to create disk", disk);
  progress_end (&pr);
  say ("Virtual disk creation successful.\n");
  return 0;
}

static int
do_convert (const char *src, const char *dst, const char *type)
{
  struct vdk_clone_params p = VDK_CLONE_PARAMS_INIT;
  struct progress pr = { "Convert", -1 };
  vdk_disk *d;
  int r;

  if ((p.type = parse_type (type)) < 0) {
    fprintf (stderr, "%s: -r needs -t <disk-type> (0..6)\n", prog);
    return 1;
  }
  if (!(d = vdk_open (src, VDK_OPEN_READ_ONLY)))
    return failed ("Failed to open the source disk", src);
  p.progress = progress;
  p.opaque = &pr;
  say ("Creating disk '%s'\n", dst);
  r = vdk_clone (d, dst, &p);
  vdk_close (d);
  if (r == -1)
    return failed ("Failed to convert disk", src);
  progress_end (&pr);
  say ("Virtual disk conversion successful.\n");
  return 0;
}

static int
do_expand (const char *disk, const char *size)
{
  struct vdk_grow_params p = VDK_GROW_PARAMS_INIT;
  struct progress pr = { "Grow", -1 };
  vdk_disk *d;
  uint64_t cur;

  if (parse_size (size, &p.capacity)) {
    fprintf (stderr, "%s: One of the parameters supplied is invalid "
             "(-x %s)\n", prog, size);
    return 1;
  }
  if (!(d = vdk_open (disk, VDK_OPEN_READ_ONLY)))
    return failed ("Failed to open the disk", disk);
  cur = vdk_capacity (d);
  vdk_close (d);
  if (p.capacity <= cur) {
    fprintf (stderr, "%s: One of the parameters supplied is invalid: the "
             "new capacity must be larger than %" PRIu64 " bytes\n", prog,
             cur);
    return 1;
  }
  p.progress = progress;
  p.opaque = &pr;
  if (vdk_grow_ex (disk, &p) == -1)
    return failed ("Failed to expand the disk", disk);
  progress_end (&pr);
  say ("Disk expansion completed successfully.\n");
  return 0;
}

static int
do_rewrite (const char *disk, bool shrink)
{
  struct progress pr = { shrink ? "Shrink" : "Defragment", -1 };
  int r = shrink ? vdk_shrink (disk, 0, progress, &pr)
                 : vdk_defrag (disk, 0, progress, &pr);
  if (r == -1)
    return failed (shrink ? "Failed to shrink the disk"
                          : "Failed to defragment the disk", disk);
  progress_end (&pr);
  say (shrink ? "Shrink completed successfully.\n"
              : "Defragmentation completed successfully.\n");
  return 0;
}

static int
do_check (const char *disk, bool repair)
{
  struct vdk_check_report *rep;
  size_t left = 0;

  if (vdk_check (disk, repair ? VDK_CHECK_REPAIR : 0, 0, &rep) == -1)
    return failed ("Failed to check the disk", disk);
  for (size_t i = 0; i < rep->nproblems; i++) {
    struct vdk_check_item *it = rep->problems[i];
    if (!it->repaired)
      left++;
    say ("  %s: %s%s\n", it->file, it->what, it->repaired ? " (repaired)" : "");
  }
  if (rep->nproblems == 0)
    say (repair ? "The virtual disk, '%s', is not corrupted.\n"
                : "Disk chain is consistent.\n", disk);
  else if (repair && left == 0)
    say ("The virtual disk, '%s', was corrupted and has been successfully "
         "repaired.\n", disk);
  else if (repair)
    fprintf (stderr, "%s: The virtual disk, '%s', is corrupted and %zu "
             "problem(s) could not be repaired.\n", prog, disk, left);
  else
    fprintf (stderr, "%s: Disk chain is not consistent: the virtual disk, "
             "'%s', is corrupted and needs repair (-R).\n", prog, disk);
  vdk_free_check_report (rep);
  return left ? 1 : 0;
}

static int
do_deletable (const char *disk)
{
  vdk_disk *d = vdk_open (disk, 0);
  if (!d)
    return failed ("Failed to open the disk", disk);
  if (vdk_meta_set (d, "deletable", "true") == -1) {
    vdk_close (d);
    return failed ("Failed to make the disk deletable", disk);
  }
  if (vdk_close (d) == -1)
    return failed ("Failed to make the disk deletable", disk);
  say ("The disk, '%s', is now deletable.\n", disk);
  return 0;
}

/* -p: fill the free space of the file system at `mp` with a file of
 * zeroes, sync it and remove it.  On a vdk mount the zeroes become
 * zeroed ranges of the disk (nothing is allocated), and the blocks the
 * guest had freed now hold zeroes, so -k can give them back. */
static int
do_prepare (const char *mp)
{
  static char zeroes[1 << 20];
  struct progress pr = { "Shrink preparation", -1 };
  struct statvfs sv;
  char path[4096];
  uint64_t total, done = 0;
  int fd, r = 0;

  if (statvfs (mp, &sv) == -1) {
    fprintf (stderr, "%s: %s: %s\n", prog, mp, strerror (errno));
    return 1;
  }
  total = (uint64_t) sv.f_bavail * sv.f_frsize;
  snprintf (path, sizeof path, "%s/.vdk-vdiskmanager-zero.%d", mp,
            (int) getpid ());
  if ((fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) == -1) {
    fprintf (stderr, "%s: %s: %s\n", prog, path, strerror (errno));
    return 1;
  }
  for (;;) {
    ssize_t n = write (fd, zeroes, sizeof zeroes);
    if (n <= 0) {
      if (n == -1 && errno != ENOSPC && errno != EFBIG) {
        fprintf (stderr, "%s: %s: %s\n", prog, path, strerror (errno));
        r = 1;
      }
      break;
    }
    done += (uint64_t) n;
    progress (&pr, done < total ? done : total, total);
  }
  if (fsync (fd) == -1 && !r) {
    fprintf (stderr, "%s: %s: %s\n", prog, path, strerror (errno));
    r = 1;
  }
  close (fd);
  unlink (path);
  if (r)
    return r;
  progress_end (&pr);
  say ("Shrink preparation completed successfully; unmount the volume and "
       "shrink the disk (-k).\n");
  return 0;
}

struct opts {
  char op;                 /* c d k n p r x R e D */
  const char *arg;         /* of -n, -r, -x */
  const char *size, *adapter, *type, *host;
};

static int
set_op (struct opts *o, char op, const char *arg)
{
  if (o->op) {
    fprintf (stderr, "%s: only one operation may be specified at a time "
             "(-%c and -%c)\n", prog, o->op, op);
    return -1;
  }
  o->op = op;
  o->arg = arg;
  return 0;
}

static int
parse (int argc, char **argv, struct opts *o)
{
  int c;

  while ((c = getopt (argc, argv, "cdkn:pr:x:ReDqa:s:t:h:u:f:U")) != -1) {
    switch (c) {
    case 'c': case 'd': case 'k': case 'p': case 'R': case 'e': case 'D':
      if (set_op (o, (char) c, NULL) == -1)
        return -1;
      break;
    case 'n': case 'r': case 'x':
      if (set_op (o, (char) c, optarg) == -1)
        return -1;
      break;
    case 'q': quiet = true; break;
    case 'a': o->adapter = optarg; break;
    case 's': o->size = optarg; break;
    case 't': o->type = optarg; break;
    case 'h': o->host = optarg; break;
    case 'u': case 'f': break; /* remote credentials: see -h */
    case 'U': usage (stdout); exit (0);
    default: usage (stderr); return -1;
    }
  }
  if (!o->op || optind != argc - 1) {
    fprintf (stderr, "%s: %s\n", prog, !o->op ? "no operation given"
             : "exactly one <disk-name> or <mount-point> is needed");
    usage (stderr);
    return -1;
  }
  return 0;
}

static int
run (const struct opts *o, const char *target)
{
  if (o->host) {
    fprintf (stderr, "%s: -h %s: remote (ESX) destinations are not "
             "supported; convert locally, then copy or serve the disk "
             "(vdk serve)\n", prog, o->host);
    return 1;
  }
  switch (o->op) {
  case 'c': return do_create (target, o->size, o->adapter, o->type);
  case 'r': return do_convert (o->arg, target, o->type);
  case 'x': return do_expand (target, o->arg);
  case 'k': return do_rewrite (target, true);
  case 'd': return do_rewrite (target, false);
  case 'p': return do_prepare (target);
  case 'R': return do_check (target, true);
  case 'e': return do_check (target, false);
  case 'D': return do_deletable (target);
  case 'n':
    if (vdk_rename (o->arg, target) == -1)
      return failed ("Failed to rename the disk", o->arg);
    say ("Renaming completed successfully.\n");
    return 0;
  }
  return 1;
}

int
main (int argc, char **argv)
{
  struct opts o = { 0 };

  if (argc == 2 && (strcmp (argv[1], "--help") == 0)) {
    usage (stdout);
    return 0;
  }
  if (argc == 2 && strcmp (argv[1], "--version") == 0) {
    printf ("%s (vdk) %s\n", prog, vdk_version ());
    return 0;
  }
  if (parse (argc, argv, &o) == -1)
    return 1;
  vdk_init (NULL, NULL, NULL);
  return run (&o, argv[optind]);
}
