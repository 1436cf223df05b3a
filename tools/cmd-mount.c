/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdk volumes / mount / umount / mounts: the vmware-mount of vdk.
 *
 * Design
 * - `vdk volumes` prints the volume list of include/vdk-mount.h: a table
 *   like `vmware-mount -p`, or JSON, with where each volume is mounted
 *   (vdk_mount_list: live mounts of exactly the same disks).
 * - `vdk mount` parses its arguments and calls vdk_mount_daemon: the
 *   library checks the machine, opens the disks in a daemon that serves
 *   the mount after this process exits, and returns its errors here.
 *   Read-only unless -w, -o rw or --redo (a child that takes the writes;
 *   --discard deletes it at unmount).
 * - `vdk umount` is vdk_mount_find + vdk_unmount; `vdk mounts` prints
 *   vdk_mount_list; `vdk mount --cleanup` is vdk_mount_cleanup.
 * The tool keeps argument parsing and printing only.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vdk.h>
#include <vdk-mount.h>

#include "vdk-tool.h"
#include "cmd-mount.h"

/* vdk_mount_daemon takes up to 32 disks. */
#define MAX_DISKS 32

/* ---- small helpers ---------------------------------------------------- */

/* Always valid UTF-8 JSON, whatever bytes a label holds (text.c). */
static void
human_size (uint64_t bytes, char *buf, size_t size)
{
  static const char units[] = "BKMGTPE";
  double v = (double) bytes;
  int u = 0;
  while (v >= 1024 && u < 6) {
    v /= 1024;
    u++;
  }
  if (u == 0)
    snprintf (buf, size, "%" PRIu64 "B", bytes);
  else
    snprintf (buf, size, "%.1f%c", v, units[u]);
}

static int
lib_fail (void)
{
  return tool_lib_error ();
}

/* ---- vdk volumes ------------------------------------------------------ */

static const char volumes_usage[] =
  "Usage: vdk volumes [-f FORMAT] [--json] [--allow-external-paths]\n"
  "                   [--no-cid-check] DISK...\n"
  "List the partitions and volumes of a set of disks.\n"
  "  -f, --format FORMAT     raw, vmdk or auto (default): how the disks\n"
  "                          are read (see vdk help info)\n"
  "  --json                  one JSON object\n"
  "  --allow-external-paths  follow extents and parents outside each\n"
  "                          disk's folder\n"
  "  --no-cid-check          read chains whose content IDs disagree, as\n"
  "                          they are (nothing is written)\n"
  "  -h, --help              show this help\n"
  "  -V, --version           show the version\n";

/* Options every command that opens disks takes (long only). */
enum { OPT_EXTERNAL = 0x200, OPT_NO_CID };
#define OPEN_LONG_OPTS \
  { "allow-external-paths", no_argument, NULL, OPT_EXTERNAL }, \
  { "no-cid-check", no_argument, NULL, OPT_NO_CID }

static vdk_diskset *
open_scanned (char **paths, int n, unsigned flags)
{
  vdk_diskset *set = vdk_diskset_open ((const char *const *) paths,
                                       (size_t) n, flags);
  if (set == NULL)
    return NULL;
  if (vdk_diskset_scan (set, 0) == -1) {
    vdk_diskset_close (set);
    return NULL;
  }
  for (size_t i = 0; i < vdk_diskset_warning_count (set); i++)
    tool_error ("warning: %s", vdk_diskset_warning (set, i));
  return set;
}

/* Where a volume of these disks is mounted now, from the live vdk mounts
 * of exactly the same disks; NULL if it is not.  Returned strings live
 * in `mounts`. */
struct mounts {
  vdk_mount **list;
  size_t n;
  char **disks;
  size_t ndisks;
};

static void
mounts_load (struct mounts *m, char **disks, int ndisks)
{
  if (vdk_mount_list (&m->list, &m->n) == -1) {
    m->list = NULL;
    m->n = 0;
  }
  m->ndisks = (size_t) ndisks;
  m->disks = calloc ((size_t) ndisks, sizeof *m->disks);
  for (size_t i = 0; m->disks && i < m->ndisks; i++)
    m->disks[i] = realpath (disks[i], NULL);
}

static bool
same_disks (const struct mounts *m, const struct vdk_mount_info *mi)
{
  if (m->disks == NULL || mi->ndisks != m->ndisks)
    return false;
  for (size_t i = 0; i < m->ndisks; i++)
    if (!m->disks[i] || strcmp (m->disks[i], mi->disks[i]))
      return false;
  return true;
}

static const char *
mounted_at (const struct mounts *m, const char *volume)
{
  for (size_t i = 0; i < m->n; i++) {
    const struct vdk_mount_info *mi = vdk_mount_get_info (m->list[i]);
    if (mi->alive && !mi->flat && strcmp (mi->volume, volume) == 0
        && same_disks (m, mi))
      return mi->mountpoint;
  }
  return NULL;
}

static void
mounts_free (struct mounts *m)
{
  vdk_mount_list_free (m->list, m->n);
  for (size_t i = 0; m->disks && i < m->ndisks; i++)
    free (m->disks[i]);
  free (m->disks);
}

static bool
volume_listed (const struct vdk_volume_info *v)
{
  return !(v->flags & VDK_VOLUME_HIDDEN);
}

static void
print_volumes_table (const vdk_diskset *set, const struct mounts *m)
{
  printf ("%-10s %-4s %-9s %14s %8s  %-20s %-11s %-12s %s\n", "VOLUME",
          "KIND", "LAYOUT", "START", "SIZE", "TYPE", "FS", "LABEL",
          "MOUNTED");
  for (size_t i = 0; i < vdk_volume_count (set); i++) {
    const struct vdk_volume_info *v = vdk_volume_get_info (set, i);
    char size[32];
    if (!volume_listed (v))
      continue;
    human_size (v->size, size, sizeof size);
    const char *at = mounted_at (m, v->name);
    printf ("%-10s %-4s %-9s %14" PRIu64 " %8s  %-20s %-11s %-12s %s%s%s\n",
            tool_safe (v->name), v->kind, v->layout, v->start, size,
            tool_safe (v->type_name[0] ? v->type_name : v->part_type),
            (v->flags & VDK_VOLUME_CONTAINER) ? "(container)"
            : v->fs_type[0] ? tool_safe (v->fs_type) : "-",
            v->fs_label[0] ? tool_safe (v->fs_label) : "-",
            at ? tool_safe (at) : "-",
            v->problem ? "  ! " : "", v->problem ? tool_safe (v->problem) : "");
  }
}

static void
print_volume_json (struct tool_json *j, const struct vdk_volume_info *v,
                   const char *at)
{
  tool_json_object (j, NULL);
  tool_json_str (j, "name", v->name);
  tool_json_str (j, "kind", v->kind);
  tool_json_str (j, "layout", v->layout);
  tool_json_int (j, "disk", v->disk);
  tool_json_uint (j, "start", v->start);
  tool_json_uint (j, "size", v->size);
  tool_json_str_or_null (j, "part_type", v->part_type);
  tool_json_str_or_null (j, "type_name", v->type_name);
  tool_json_str_or_null (j, "part_label", v->part_label);
  tool_json_str_or_null (j, "uuid", v->uuid);
  tool_json_str_or_null (j, "fs_type", v->fs_type);
  tool_json_str_or_null (j, "fs_label", v->fs_label);
  tool_json_str_or_null (j, "fs_uuid", v->fs_uuid);
  tool_json_str_or_null (j, "group", v->group);
  tool_json_str_or_null (j, "parent", v->parent);
  tool_json_bool (j, "container", (v->flags & VDK_VOLUME_CONTAINER) != 0);
  tool_json_bool (j, "complete", v->complete);
  tool_json_bool (j, "degraded", v->degraded);
  tool_json_bool (j, "readable", v->readable);
  tool_json_str_or_null (j, "problem", v->problem);
  tool_json_bool (j, "mounted", at != NULL);
  tool_json_str (j, "mountpoint", at);
  tool_json_object_end (j);
}

static void
print_volumes_json (const vdk_diskset *set, const struct mounts *m,
                    char **paths)
{
  struct tool_json j;

  tool_json_init (&j, stdout);
  tool_json_object (&j, NULL);
  tool_json_array (&j, "disks");
  for (size_t i = 0; i < vdk_diskset_count (set); i++) {
    const struct vdk_disk_layout *d = vdk_diskset_disk_layout (set, i);
    tool_json_object (&j, NULL);
    tool_json_str (&j, "name", d ? d->name : NULL);
    tool_json_path (&j, "path", paths[i]);
    if (d)
      tool_json_uint (&j, "size", d->size);
    else
      tool_json_null (&j, "size");
    tool_json_str_or_null (&j, "table", d ? d->table : NULL);
    tool_json_str_or_null (&j, "table_id", d ? d->table_id : NULL);
    tool_json_object_end (&j);
  }
  tool_json_array_end (&j);
  tool_json_array (&j, "volumes");
  for (size_t i = 0; i < vdk_volume_count (set); i++) {
    const struct vdk_volume_info *v = vdk_volume_get_info (set, i);
    if (volume_listed (v))
      print_volume_json (&j, v, mounted_at (m, v->name));
  }
  tool_json_array_end (&j);
  tool_json_object_end (&j);
}

int
cmd_volumes (int argc, char **argv)
{
  static const struct option longopts[] = {
    { "json", no_argument, NULL, 'j' },
    { "format", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    OPEN_LONG_OPTS,
    { NULL, 0, NULL, 0 },
  };
  bool json = false;
  unsigned format = 0;
  int c;
  tool_offer_options (true, true);
  while ((c = getopt_long (argc, argv, "+f:hV", longopts, NULL)) != -1) {
    switch (c) {
    case 'j': json = true; break;
    case OPT_EXTERNAL: format |= VDK_OPEN_ALLOW_EXTERNAL; break;
    case OPT_NO_CID: format |= VDK_OPEN_NO_CID_CHECK; break;
    case 'f':
      if (tool_parse_format ("volumes", volumes_usage, optarg, &format) == -1)
        return 1;
      break;
    case 'h': fputs (volumes_usage, stdout); return 0;
    case 'V': tool_print_version (); return 0;
    default: return tool_usage_error ("volumes", volumes_usage,
                                      "unknown option");
    }
  }
  if (optind >= argc)
    return tool_usage_error ("volumes", volumes_usage, "no DISK given");
  vdk_diskset *set = open_scanned (argv + optind, argc - optind,
                                   VDK_OPEN_READ_ONLY | format);
  /* A disk a read-write mount holds is listed all the same (see
   * tool_inspect_retry). */
  if (set == NULL && vdk_last_error_code () == VDK_E_LOCKED) {
    if (tool_inspect_retry (&format) == -1)
      return 1;
    set = open_scanned (argv + optind, argc - optind, format);
  }
  if (set == NULL)
    return lib_fail ();
  struct mounts *m = calloc (1, sizeof *m);
  if (m == NULL) {
    vdk_diskset_close (set);
    return tool_error ("out of memory"), 1;
  }
  mounts_load (m, argv + optind, argc - optind);
  if (json)
    print_volumes_json (set, m, argv + optind);
  else
    print_volumes_table (set, m);
  mounts_free (m);
  free (m);
  vdk_diskset_close (set);
  return 0;
}

/* ---- vdk mount -------------------------------------------------------- */

static const char mount_usage[] =
  "Usage: vdk mount [-r|-w] [-f FORMAT] [-t FSTYPE] [-o OPTS]\n"
  "                 [--allow-external-paths] [--no-cid-check]\n"
  "                 [--redo FILE [--discard]] DISK... VOLUME MOUNTPOINT\n"
  "       vdk mount [-w] --flat DISK... DIR\n"
  "       vdk mount --cleanup\n"
  "Mount a volume of a set of disks (read-only unless -w, -o rw or --redo).\n"
  "  -r, --read-only         read-only (the default)\n"
  "  -w, --rw                read-write: writes go to the disk\n"
  "  -f, --format FORMAT     raw, vmdk or auto (default): how the disks\n"
  "                          are read\n"
  "  -t, --type FSTYPE       file system type (default: what libblkid\n"
  "                          found)\n"
  "  -o, --options OPTS      mount options (ro, rw, noexec, ... become\n"
  "                          flags; the rest go to the file system)\n"
  "  --redo FILE             write to a new child disk FILE; the base is\n"
  "                          not changed\n"
  "  --discard               with --redo: delete FILE at unmount\n"
  "  --flat                  only serve the disk and volume files in DIR\n"
  "  --max-read N            largest FUSE read (default 1M)\n"
  "  --allow-external-paths  follow extents and parents outside each\n"
  "                          disk's folder (a linked clone's ../base/\n"
  "                          parent)\n"
  "  --no-cid-check          read a chain whose content IDs disagree, as\n"
  "                          it is (read-only mounts only)\n"
  "  --cleanup               remove what crashed mount processes left\n"
  "                          behind\n"
  "  -h, --help              show this help\n"
  "  -V, --version           show the version\n";

struct mount_opts {
  bool ro, rw, flat, cleanup, discard;
  unsigned format;       /* VDK_OPEN_FORMAT_* of -f, ALLOW_EXTERNAL,
                            NO_CID_CHECK */
  const char *fstype, *opts, *redo;
  uint64_t max_read;
  char **disks;
  int ndisks;
  const char *volume, *target;
};

enum { OPT_REDO = 256, OPT_DISCARD, OPT_FLAT, OPT_CLEANUP, OPT_MAX_READ,
       OPT_VERSION };
_Static_assert ((int) OPT_VERSION < (int) OPT_EXTERNAL, "option values overlap");

static bool
has_option (const char *opts, const char *name)
{
  size_t len = strlen (name);
  for (const char *p = opts; p && *p;) {
    if (strncmp (p, name, len) == 0 && (p[len] == ',' || p[len] == 0))
      return true;
    p = strchr (p, ',');
    p = p ? p + 1 : NULL;
  }
  return false;
}

static int
parse_mount_opt (int c, struct mount_opts *o)
{
  const char *why;
  switch (c) {
  case 'r': o->ro = true; return 0;
  case 'w': o->rw = true; return 0;
  case 't': o->fstype = optarg; return 0;
  case 'f':
    return tool_parse_format ("mount", mount_usage, optarg, &o->format) == -1
      ? 1 : 0;
  case 'o': o->opts = optarg; return 0;
  case OPT_REDO: o->redo = optarg; return 0;
  case OPT_DISCARD: o->discard = true; return 0;
  case OPT_FLAT: o->flat = true; return 0;
  case OPT_CLEANUP: o->cleanup = true; return 0;
  case OPT_EXTERNAL: o->format |= VDK_OPEN_ALLOW_EXTERNAL; return 0;
  case OPT_NO_CID: o->format |= VDK_OPEN_NO_CID_CHECK; return 0;
  case OPT_MAX_READ:
    if (tool_parse_bytes (optarg, &o->max_read, &why) == -1
        || o->max_read < 4096 || o->max_read > (1u << 24))
      return tool_usage_error ("mount", mount_usage, "--max-read %s: %s",
                               optarg, "give 4K..16M");
    return 0;
  default:
    return tool_usage_error ("mount", mount_usage, "unknown option");
  }
}

/* 0 parsed, 1 error printed, 2 help/version printed. */
static int
parse_mount_args (int argc, char **argv, struct mount_opts *o)
{
  static const struct option longopts[] = {
    { "read-only", no_argument, NULL, 'r' },
    { "rw", no_argument, NULL, 'w' },
    { "type", required_argument, NULL, 't' },
    { "format", required_argument, NULL, 'f' },
    { "options", required_argument, NULL, 'o' },
    { "redo", required_argument, NULL, OPT_REDO },
    { "discard", no_argument, NULL, OPT_DISCARD },
    { "flat", no_argument, NULL, OPT_FLAT },
    { "cleanup", no_argument, NULL, OPT_CLEANUP },
    { "max-read", required_argument, NULL, OPT_MAX_READ },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, OPT_VERSION },
    OPEN_LONG_OPTS,
    { NULL, 0, NULL, 0 },
  };
  int c;
  tool_offer_options (true, true);
  while ((c = getopt_long (argc, argv, "rwf:t:o:hV", longopts, NULL)) != -1) {
    if (c == 'h') {
      fputs (mount_usage, stdout);
      return 2;
    }
    if (c == 'V' || c == OPT_VERSION) {
      tool_print_version ();
      return 2;
    }
    if (parse_mount_opt (c, o) != 0)
      return 1;
  }
  o->disks = argv + optind;
  o->ndisks = argc - optind;
  return 0;
}

static int
check_mount_args (struct mount_opts *o)
{
  int need = o->cleanup ? 0 : o->flat ? 2 : 3;
  if (o->cleanup ? o->ndisks != 0 : o->ndisks < need)
    return tool_usage_error ("mount", mount_usage, o->cleanup
                             ? "--cleanup takes no arguments"
                             : "missing DISK, VOLUME or MOUNTPOINT");
  if (o->cleanup)
    return 0;
  o->target = o->disks[--o->ndisks];
  if (!o->flat)
    o->volume = o->disks[--o->ndisks];
  if (o->ndisks > MAX_DISKS)
    return tool_usage_error ("mount", mount_usage, "more than %d disks",
                             MAX_DISKS);
  if (has_option (o->opts, "rw"))
    o->rw = true;
  if (has_option (o->opts, "ro"))
    o->ro = true;
  if (o->ro && (o->rw || o->redo))
    return tool_usage_error ("mount", mount_usage,
                             "read-only (-r, -o ro) conflicts with %s",
                             o->redo ? "--redo" : "-w/-o rw");
  if (o->redo && o->ndisks != 1)
    return tool_usage_error ("mount", mount_usage,
                             "--redo needs exactly one DISK");
  if (o->discard && !o->redo)
    return tool_usage_error ("mount", mount_usage,
                             "--discard needs --redo FILE");
  if (o->flat && (o->fstype || o->opts))
    return tool_usage_error ("mount", mount_usage,
                             "--flat mounts no file system (-t/-o)");
  if (o->redo)
    o->rw = true;
  if ((o->format & VDK_OPEN_NO_CID_CHECK) && o->rw)
    return tool_usage_error ("mount", mount_usage, "--no-cid-check reads a "
                             "chain as it is and cannot be used with %s",
                             o->redo ? "--redo" : "-w/-o rw");
  return 0;
}

/* Absolute paths are the library's business; the redo child keeps its
 * given name for messages. */
static int
run_mount (const struct mount_opts *o)
{
  struct vdk_mount_params p = VDK_MOUNT_PARAMS_INIT;
  p.flags = (o->rw ? VDK_MOUNT_WRITABLE : 0)
    | (o->discard ? VDK_MOUNT_DISCARD : 0);
  p.fstype = o->fstype;
  p.options = o->opts;
  p.max_read = (uint32_t) o->max_read;
  p.redo = o->redo;
  p.open_flags = o->format;
  vdk_mount *m = vdk_mount_daemon ((const char *const *) o->disks,
                                   (size_t) o->ndisks, o->volume, o->target,
                                   &p);
  if (m == NULL)
    return lib_fail ();
  vdk_mount_release (m);
  return 0;
}

static int
run_cleanup (void)
{
  unsigned cleaned = 0, alive = 0;
  int r = vdk_mount_cleanup (&cleaned, &alive);
  if (r == -1 && cleaned == 0 && alive == 0
      && vdk_last_error_code () == VDK_E_ACCESS_DENIED)
    return lib_fail ();
  printf ("cleaned %u mount%s; %u still in use\n", cleaned,
          cleaned == 1 ? "" : "s", alive);
  return r == -1 ? lib_fail () : 0;
}

int
cmd_mount (int argc, char **argv)
{
  struct mount_opts o = { .max_read = 1u << 20 };
  int r = parse_mount_args (argc, argv, &o);
  if (r != 0)
    return r == 2 ? 0 : 1;
  if (check_mount_args (&o) != 0)
    return 1;
  if (o.cleanup)
    return run_cleanup ();
  return run_mount (&o);
}

/* ---- vdk umount ------------------------------------------------------- */

static const char umount_usage[] =
  "Usage: vdk umount [--force] [--discard] MOUNTPOINT\n"
  "Unmount what vdk mount mounted: file system, loop device, FUSE folder,\n"
  "mount process (which flushes and closes the disks).\n"
  "  -f, --force             unmount lazily even while files are open\n"
  "  --discard               delete the --redo child disk\n"
  "  -h, --help              show this help\n"
  "  -V, --version           show the version\n";

int
cmd_umount (int argc, char **argv)
{
  static const struct option longopts[] = {
    { "force", no_argument, NULL, 'f' },
    { "discard", no_argument, NULL, 'd' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
  };
  bool force = false, discard = false;
  int c;
  while ((c = getopt_long (argc, argv, "fhV", longopts, NULL)) != -1) {
    switch (c) {
    case 'f': force = true; break;
    case 'd': discard = true; break;
    case 'h': fputs (umount_usage, stdout); return 0;
    case 'V': tool_print_version (); return 0;
    default: return tool_usage_error ("umount", umount_usage,
                                      "unknown option");
    }
  }
  if (argc - optind != 1)
    return tool_usage_error ("umount", umount_usage,
                             "give exactly one MOUNTPOINT");
  vdk_mount *m = vdk_mount_find (argv[optind]);
  if (m == NULL)
    return lib_fail ();
  unsigned flags = (force ? VDK_UNMOUNT_FORCE : 0)
    | (discard ? VDK_UNMOUNT_DISCARD : 0);
  if (vdk_unmount (m, flags) == -1) {
    lib_fail ();
    vdk_mount_release (m);
    return 1;
  }
  return 0;
}

/* ---- vdk mounts ------------------------------------------------------- */

static const char mounts_usage[] =
  "Usage: vdk mounts [--json]\n"
  "List the mounts made by vdk mount.\n"
  "  --json                  a JSON array\n"
  "  -h, --help              show this help\n"
  "  -V, --version           show the version\n";

static void
print_mount_json (struct tool_json *j, const struct vdk_mount_info *mi)
{
  char loop[32];

  tool_json_object (j, NULL);
  tool_json_str (j, "id", mi->id);
  tool_json_int (j, "pid", mi->pid);
  tool_json_bool (j, "alive", mi->alive);
  tool_json_array (j, "disks");
  for (size_t i = 0; i < mi->ndisks; i++)
    tool_json_path (j, NULL, mi->disks[i]);
  tool_json_array_end (j);
  tool_json_str_or_null (j, "volume", mi->flat ? NULL : mi->volume);
  tool_json_str_or_null (j, "fs_type", mi->fstype);
  tool_json_str_or_null (j, "mountpoint", mi->flat ? NULL : mi->mountpoint);
  tool_json_str_or_null (j, "fuse", mi->fuse_dir);
  tool_json_str_or_null (j, "volume_file", mi->volume_file);
  snprintf (loop, sizeof loop, "/dev/loop%d", mi->loop);
  tool_json_str (j, "loop", mi->loop >= 0 ? loop : NULL);
  tool_json_bool (j, "writable", mi->writable);
  tool_json_bool (j, "flat", mi->flat);
  tool_json_str_or_null (j, "redo", mi->redo);
  tool_json_object_end (j);
}

static void
print_mount_line (const struct vdk_mount_info *mi)
{
  char loop[32] = "-";
  if (mi->loop >= 0)
    snprintf (loop, sizeof loop, "/dev/loop%d", mi->loop);
  printf ("%-10s %-7d %-5s %-10s %-7s %-12s %-3s %s <- %s%s\n", mi->id,
          mi->pid, mi->alive ? "yes" : "DEAD",
          mi->flat ? "(flat)" : tool_safe (mi->volume),
          mi->fstype[0] ? tool_safe (mi->fstype) : "-",
          loop, mi->writable ? "rw" : "ro",
          tool_safe (mi->flat ? mi->fuse_dir : mi->mountpoint),
          mi->ndisks ? tool_safe (mi->disks[0]) : "?",
          mi->ndisks > 1 ? " ..." : "");
}

int
cmd_mounts (int argc, char **argv)
{
  static const struct option longopts[] = {
    { "json", no_argument, NULL, 'j' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
  };
  bool json = false;
  int c;
  while ((c = getopt_long (argc, argv, "hV", longopts, NULL)) != -1) {
    switch (c) {
    case 'j': json = true; break;
    case 'h': fputs (mounts_usage, stdout); return 0;
    case 'V': tool_print_version (); return 0;
    default: return tool_usage_error ("mounts", mounts_usage,
                                      "unknown option");
    }
  }
  if (optind != argc)
    return tool_usage_error ("mounts", mounts_usage, "no arguments");
  vdk_mount **list;
  size_t n;
  if (vdk_mount_list (&list, &n) == -1)
    return lib_fail ();
  struct tool_json j;
  tool_json_init (&j, stdout);
  if (json)
    tool_json_array (&j, NULL);
  else
    printf ("%-10s %-7s %-5s %-10s %-7s %-12s %-3s %s\n", "ID", "PID",
            "ALIVE", "VOLUME", "FS", "LOOP", "RW", "MOUNTPOINT <- DISK");
  for (size_t i = 0; i < n; i++) {
    const struct vdk_mount_info *mi = vdk_mount_get_info (list[i]);
    if (json)
      print_mount_json (&j, mi);
    else
      print_mount_line (mi);
  }
  vdk_mount_list_free (list, n);
  if (json)
    tool_json_array_end (&j);
  return 0;
}
