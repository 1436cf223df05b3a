/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdk-mount - vmware-mount's command line on vdk.
 *
 *   vdk-mount [-r] [-o OPTS] DISK [PARTNUM] MOUNTPOINT   mount a partition
 *   vdk-mount -p DISK          list partitions (vmware-mount's columns)
 *   vdk-mount -l DISK          list the mounted partitions of DISK
 *   vdk-mount -L               list the disks with mounted partitions
 *   vdk-mount -d MOUNTPOINT    unmount one partition
 *   vdk-mount -f DISK MOUNTPOINT   flat mode: MOUNTPOINT/flat is the disk
 *   vdk-mount -k DISK / -K DISK    unmount everything of DISK (-K: force)
 *   vdk-mount -x / -X          unmount everything (-X: force)
 *
 * As vmware-mount's, mounts are read-write unless -r is given.  A mount
 * is served by a daemon (vdk_mount_daemon) that outlives this command,
 * and found again by its mount point (vdk_mount_find, vdk_mount_list),
 * so -d, -k and -x work from any later command.  PARTNUM is vdk's volume
 * name ("1", "5", "vg/lv", ...); without it the first volume holding a
 * file system is mounted.
 *
 * Flat mode serves the disk's files in a folder of the mount's state
 * folder and makes MOUNTPOINT/flat a symbolic link to the whole disk's
 * file there (vmware-mount names the file "flat"); -d MOUNTPOINT follows
 * that link back to the mount. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vdk-mount.h"

static const char *prog = "vdk-mount";

static void
usage (FILE *fp)
{
  fprintf (fp,
"vdk-mount (vmware-mount compatible), vdk %s\n"
"Usage: %s diskPath [partition num] mountPoint\n"
"       %s [option] [opt args]\n"
"Options:\n"
"  -p <diskPath>              list the partitions of a disk\n"
"  -l <diskPath>              list the mounted partitions of a disk\n"
"  -L                         list the disks with mounted partitions\n"
"  -d <mountPoint>            unmount a partition\n"
"  -f <diskPath> <mountPoint> mount the whole disk as <mountPoint>/flat\n"
"  -k <diskPath>              unmount every partition of a disk\n"
"  -K <diskPath>              the same, forced\n"
"  -x                         unmount everything\n"
"  -X                         the same, forced\n"
"  -r                         mount read-only (default: read-write)\n"
"  -o <options>               options for mount(8), comma-separated\n",
           vdk_version (), prog, prog);
}

static int
lib_failed (const char *what)
{
  fprintf (stderr, "%s: %s: %s\n", prog, what, vdk_last_error ());
  return 1;
}

/* ---- -p ---------------------------------------------------------------- */

static int
list_partitions (const char *disk)
{
  const char *paths[] = { disk };
  vdk_diskset *set = vdk_diskset_open (paths, 1, VDK_OPEN_READ_ONLY);
  size_t n;

  if (!set || vdk_diskset_scan (set, VDK_SCAN_NO_LVM | VDK_SCAN_NO_LDM) == -1) {
    vdk_diskset_close (set);
    return lib_failed (disk);
  }
  n = vdk_volume_count (set);
  printf ("Nr      Start       Size Type Id Sytem                   \n");
  printf ("-- ---------- ---------- ---- -- ------------------------\n");
  for (size_t i = 0; i < n; i++) {
    const struct vdk_volume_info *v = vdk_volume_get_info (set, i);
    bool gpt = strcmp (v->kind, "gpt") == 0;
    if (!gpt && strcmp (v->kind, "mbr") != 0)
      continue;
    /* MBR: the type byte in hex; GPT: EE, as vmware-mount shows them. */
    const char *id = v->part_type;
    if (gpt)
      id = "EE";
    else if (strncmp (id, "0x", 2) == 0)
      id += 2;
    printf ("%2s %10" PRIu64 " %10" PRIu64 " %-4s %2s %s\n", v->name,
            v->start / 512, v->size / 512, gpt ? "GPT" : "BIOS", id,
            v->type_name[0] ? v->type_name : "Unknown");
  }
  vdk_diskset_close (set);
  return 0;
}

/* ---- mounting -------------------------------------------------------- */

/* The first volume of `disk` that holds a file system. */
static char *
default_volume (const char *disk)
{
  const char *paths[] = { disk };
  vdk_diskset *set = vdk_diskset_open (paths, 1, VDK_OPEN_READ_ONLY);
  char *name = NULL;

  if (!set || vdk_diskset_scan (set, 0) == -1) {
    vdk_diskset_close (set);
    return NULL;
  }
  for (size_t i = 0; !name && i < vdk_volume_count (set); i++) {
    const struct vdk_volume_info *v = vdk_volume_get_info (set, i);
    if (strcmp (v->fs_usage, "filesystem") == 0 && v->readable)
      name = strdup (v->name);
  }
  vdk_diskset_close (set);
  return name;
}

static int
do_mount (const char *disk, const char *part, const char *mp, bool ro,
          const char *opts)
{
  struct vdk_mount_params p = VDK_MOUNT_PARAMS_INIT;
  const char *paths[] = { disk };
  char *dflt = NULL;
  vdk_mount *m;

  if (!part && !(part = dflt = default_volume (disk))) {
    fprintf (stderr, "%s: %s: no mountable partitions\n", prog, disk);
    return 1;
  }
  if (!ro)
    p.flags |= VDK_MOUNT_WRITABLE;
  p.options = opts;
  m = vdk_mount_daemon (paths, 1, part, mp, &p);
  free (dflt);
  if (!m && vdk_last_error_code () == VDK_E_LOCKED) {
    /* Each mount's daemon opens the disk itself: read-only ones share
     * it, a read-write one holds it alone. */
    fprintf (stderr, "%s: %s: %s; several partitions of one disk can be "
             "mounted at once only read-only (-r)\n", prog, disk,
             vdk_last_error ());
    return 1;
  }
  if (!m)
    return lib_failed (disk);
  vdk_mount_release (m);
  return 0;
}

static int
do_flat (const char *disk, const char *mp, bool ro)
{
  struct vdk_mount_params p = VDK_MOUNT_PARAMS_INIT;
  const char *paths[] = { disk };
  char link[PATH_MAX], target[PATH_MAX];
  vdk_mount *m;

  if (!ro)
    p.flags |= VDK_MOUNT_WRITABLE;
  snprintf (link, sizeof link, "%s/flat", mp);
  if (access (mp, W_OK) == -1 || access (link, F_OK) == 0) {
    fprintf (stderr, "%s: %s: %s\n", prog, mp, access (mp, W_OK) == -1
             ? strerror (errno) : "flat already exists there");
    return 1;
  }
  if (!(m = vdk_mount_daemon (paths, 1, NULL, NULL, &p)))
    return lib_failed (disk);
  snprintf (target, sizeof target, "%s/disk", vdk_mount_path (m));
  if (symlink (target, link) == -1) {
    fprintf (stderr, "%s: %s: %s\n", prog, link, strerror (errno));
    vdk_unmount (m, VDK_UNMOUNT_FORCE);
    return 1;
  }
  vdk_mount_release (m);
  return 0;
}

/* ---- unmounting and listing ------------------------------------------- */

/* The mount for a mount point: a vdk mount there, or a flat mount whose
 * "flat" link lies there. */
static vdk_mount *
find_mount (const char *mp, char *flat_link, size_t len)
{
  char link[PATH_MAX], target[PATH_MAX];
  ssize_t n;
  vdk_mount *m = vdk_mount_find (mp);

  flat_link[0] = 0;
  if (m)
    return m;
  snprintf (link, sizeof link, "%s/flat", mp);
  n = readlink (link, target, sizeof target - 1);
  if (n <= 0)
    return NULL;
  target[n] = 0;
  if (strrchr (target, '/'))
    *strrchr (target, '/') = 0; /* the flat folder */
  if ((m = vdk_mount_find (target)))
    snprintf (flat_link, len, "%s", link);
  return m;
}

static int
unmount_one (vdk_mount *m, const char *flat_link, bool force)
{
  char what[PATH_MAX];
  snprintf (what, sizeof what, "%s", flat_link && flat_link[0] ? flat_link
            : vdk_mount_path (m));
  if (vdk_unmount (m, force ? VDK_UNMOUNT_FORCE : 0) == -1) {
    fprintf (stderr, "%s: %s: %s%s\n", prog, what, vdk_last_error (),
             vdk_last_error_code () == VDK_E_LOCKED && !force
             ? " (files are open there; -K or -X force it)" : "");
    vdk_mount_release (m);
    return 1;
  }
  if (flat_link && flat_link[0])
    unlink (flat_link);
  return 0;
}

static int
do_unmount (const char *mp)
{
  char flat_link[PATH_MAX];
  vdk_mount *m = find_mount (mp, flat_link, sizeof flat_link);
  if (!m) {
    fprintf (stderr, "%s: %s: nothing is mounted there by vdk\n", prog, mp);
    return 1;
  }
  return unmount_one (m, flat_link, false);
}

/* Is mount `mi` of `disk` (a real path), or of any disk (NULL)? */
static bool
of_disk (const struct vdk_mount_info *mi, const char *disk)
{
  return !disk || (mi->ndisks > 0 && strcmp (mi->disks[0], disk) == 0);
}

static const char *
shown_at (const struct vdk_mount_info *mi)
{
  return mi->flat ? mi->fuse_dir : mi->mountpoint;
}

/* -l DISK, -L (disk NULL), -k/-K DISK, -x/-X (disk NULL) */
static int
each_mount (const char *disk_arg, bool unmount, bool force)
{
  char disk[PATH_MAX];
  vdk_mount **ms;
  size_t n;
  int r = 0;

  if (disk_arg && !realpath (disk_arg, disk)) {
    fprintf (stderr, "%s: %s: %s\n", prog, disk_arg, strerror (errno));
    return 1;
  }
  if (vdk_mount_list (&ms, &n) == -1)
    return lib_failed ("cannot list mounts");
  for (size_t i = 0; i < n; i++) {
    const struct vdk_mount_info *mi = vdk_mount_get_info (ms[i]);
    if (!mi->alive || !of_disk (mi, disk_arg ? disk : NULL))
      continue;
    if (unmount) {
      r |= unmount_one (ms[i], NULL, force);
      ms[i] = NULL; /* freed by vdk_unmount or unmount_one */
    } else if (disk_arg)
      printf ("%s\t%s\t%s\t%s\n", mi->flat ? "flat" : mi->volume,
              shown_at (mi), mi->flat ? "-" : mi->fstype,
              mi->writable ? "rw" : "ro");
    else
      printf ("%s\t%s\t%s\n", mi->ndisks ? mi->disks[0] : "?",
              mi->flat ? "flat" : mi->volume, shown_at (mi));
  }
  for (size_t i = 0; i < n; i++)
    if (ms[i])
      vdk_mount_release (ms[i]);
  free (ms);
  return r;
}

/* ---- command line ---------------------------------------------------- */

struct opts {
  char op;          /* 0 = mount; p l L d f k K x X */
  const char *arg;
  bool ro;
  const char *opts;
};

static int
parse (int argc, char **argv, struct opts *o)
{
  int c;
  while ((c = getopt (argc, argv, "p:l:Ld:fk:K:xXro:h")) != -1) {
    switch (c) {
    case 'p': case 'l': case 'd': case 'k': case 'K':
      o->op = (char) c;
      o->arg = optarg;
      break;
    case 'L': case 'f': case 'x': case 'X':
      o->op = (char) c;
      break;
    case 'r': o->ro = true; break;
    case 'o': o->opts = optarg; break;
    case 'h': usage (stdout); exit (0);
    default: usage (stderr); return -1;
    }
  }
  return 0;
}

static int
run (const struct opts *o, int nargs, char **args)
{
  switch (o->op) {
  case 'p': return list_partitions (o->arg);
  case 'l': return each_mount (o->arg, false, false);
  case 'L': return each_mount (NULL, false, false);
  case 'd': return do_unmount (o->arg);
  case 'k': case 'K': return each_mount (o->arg, true, o->op == 'K');
  case 'x': case 'X': return each_mount (NULL, true, o->op == 'X');
  case 'f':
    if (nargs != 2)
      break;
    return do_flat (args[0], args[1], o->ro);
  case 0:
    if (nargs == 2)
      return do_mount (args[0], NULL, args[1], o->ro, o->opts);
    if (nargs == 3)
      return do_mount (args[0], args[1], args[2], o->ro, o->opts);
    break;
  }
  fprintf (stderr, "%s: wrong number of arguments\n", prog);
  usage (stderr);
  return 1;
}

int
main (int argc, char **argv)
{
  struct opts o = { 0 };

  if (argc == 2 && strcmp (argv[1], "--help") == 0) {
    usage (stdout);
    return 0;
  }
  if (argc == 2 && strcmp (argv[1], "--version") == 0) {
    printf ("%s (vdk) %s\n", prog, vdk_version ());
    return 0;
  }
  if (argc < 2) {
    usage (stderr);
    return 1;
  }
  if (parse (argc, argv, &o) == -1)
    return 1;
  vdk_init (NULL, NULL, NULL);
  if (o.op && o.op != 'f' && optind != argc) {
    fprintf (stderr, "%s: -%c takes no further arguments\n", prog, o.op);
    return 1;
  }
  return run (&o, argc - optind, argv + optind);
}
