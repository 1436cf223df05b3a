/* vdk volumes / mount / umount / mounts: the vmware-mount of vdk.
 *
 * Design
 * - `vdk volumes` prints the volume list of include/vdk-mount.h: a table
 *   like `vmware-mount -p`, or JSON.
 * - `vdk mount` opens the disks here (so that open errors are printed by
 *   this process), scans them, resolves VOLUME, checks everything the
 *   machine must provide, then hands a list of files to lib/fusemount:
 *   one per whole disk ("disk", or "disk1".."diskN") and one per volume
 *   ("vol" + number: "vol1", "vol5", "vol2:1"; named volumes keep their
 *   name with '/' as '-': "vg0-root", "Volume1").  fusemount serves them
 *   from a daemon and loop-mounts the chosen one.
 * - Read-only unless -w, -o rw or --redo.  --redo FILE opens the base
 *   read-only, creates FILE as its child (vdk_create_child) and serves
 *   the child read-write, so the base stays byte-identical.  The child is
 *   kept at unmount unless --discard (at mount or at umount).
 * - The checks run before anything is made: root, FUSE, loop devices,
 *   the mount point, the volume, the file system's kernel support; so the
 *   common failures leave nothing behind at all.
 * - The per-file callbacks call vdk_pread/vdk_volume_pread, which are
 *   thread-safe by contract, straight into FUSE's reply buffer.
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
#include "fusemount.h"

/* ---- small helpers ---------------------------------------------------- */

static void
json_str (FILE *f, const char *s)
{
  fputc ('"', f);
  for (const unsigned char *p = (const unsigned char *) (s ? s : ""); *p;
       p++) {
    if (*p == '"' || *p == '\\')
      fprintf (f, "\\%c", *p);
    else if (*p < 0x20)
      fprintf (f, "\\u%04x", *p);
    else
      fputc (*p, f);
  }
  fputc ('"', f);
}

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

/* Print a library error, with `what` as context when the message is the
 * library's own. */
static int
lib_fail (void)
{
  return tool_lib_error ();
}

static int
fm_fail (void)
{
  tool_error ("%s", vdkfm_error ());
  return 1;
}

/* ---- vdk volumes ------------------------------------------------------ */

static const char volumes_usage[] =
  "Usage: vdk volumes [-f FORMAT] [--json] DISK...\n"
  "List the partitions and volumes of a set of disks.\n"
  "  -f, --format FORMAT  raw, vmdk or auto (default): how the disks are\n"
  "              read (see vdk --help)\n"
  "  --json      one JSON object\n"
  "  --help      this text\n";

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

/* Where a volume of these disks is mounted now, from the state of live
 * vdk mounts of exactly the same disks; NULL if it is not.  Returned
 * strings live in `mounts`. */
struct mounts {
  int n;
  struct vdkfm_state st[64];
  char *disks[VDKFM_MAX_DISKS];
  int ndisks;
};

static void
mounts_load (struct mounts *m, char **disks, int ndisks)
{
  char **ids;
  int n = vdkfm_state_list (&ids);
  m->n = 0;
  m->ndisks = ndisks < VDKFM_MAX_DISKS ? ndisks : VDKFM_MAX_DISKS;
  for (int i = 0; i < m->ndisks; i++)
    m->disks[i] = realpath (disks[i], NULL);
  for (int i = 0; i < n; i++) {
    if (m->n < (int) (sizeof m->st / sizeof m->st[0])
        && vdkfm_state_load (ids[i], &m->st[m->n]) == 0) {
      if (vdkfm_state_alive (&m->st[m->n]))
        m->n++;
      else
        vdkfm_state_free (&m->st[m->n]);
    }
    free (ids[i]);
  }
  if (n > 0)
    free (ids);
}

static bool
same_disks (const struct mounts *m, const struct vdkfm_state *st)
{
  if (st->ndisks != m->ndisks)
    return false;
  for (int i = 0; i < m->ndisks; i++)
    if (!m->disks[i] || !st->disks[i] || strcmp (m->disks[i], st->disks[i]))
      return false;
  return true;
}

static const char *
mounted_at (const struct mounts *m, const char *volume)
{
  for (int i = 0; i < m->n; i++)
    if (!m->st[i].flat && m->st[i].mounted
        && strcmp (m->st[i].volume, volume) == 0 && same_disks (m, &m->st[i]))
      return m->st[i].mountpoint;
  return NULL;
}

static void
mounts_free (struct mounts *m)
{
  for (int i = 0; i < m->n; i++)
    vdkfm_state_free (&m->st[i]);
  for (int i = 0; i < m->ndisks; i++)
    free (m->disks[i]);
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
            v->name, v->kind, v->layout, v->start, size,
            v->type_name[0] ? v->type_name : v->part_type,
            (v->flags & VDK_VOLUME_CONTAINER) ? "(container)"
            : v->fs_type[0] ? v->fs_type : "-",
            v->fs_label[0] ? v->fs_label : "-", at ? at : "-",
            v->problem ? "  ! " : "", v->problem ? v->problem : "");
  }
}

static void
print_volume_json (const struct vdk_volume_info *v, const char *at)
{
  printf ("{\"name\":");
  json_str (stdout, v->name);
  printf (",\"kind\":");
  json_str (stdout, v->kind);
  printf (",\"layout\":");
  json_str (stdout, v->layout);
  printf (",\"disk\":%d,\"start\":%" PRIu64 ",\"size\":%" PRIu64,
          v->disk, v->start, v->size);
  printf (",\"part_type\":");
  json_str (stdout, v->part_type);
  printf (",\"type_name\":");
  json_str (stdout, v->type_name);
  printf (",\"part_label\":");
  json_str (stdout, v->part_label);
  printf (",\"uuid\":");
  json_str (stdout, v->uuid);
  printf (",\"fs_type\":");
  json_str (stdout, v->fs_type);
  printf (",\"fs_label\":");
  json_str (stdout, v->fs_label);
  printf (",\"fs_uuid\":");
  json_str (stdout, v->fs_uuid);
  printf (",\"group\":");
  json_str (stdout, v->group);
  printf (",\"parent\":");
  json_str (stdout, v->parent);
  printf (",\"container\":%s,\"complete\":%s,\"degraded\":%s,"
          "\"readable\":%s,\"problem\":",
          (v->flags & VDK_VOLUME_CONTAINER) ? "true" : "false",
          v->complete ? "true" : "false", v->degraded ? "true" : "false",
          v->readable ? "true" : "false");
  if (v->problem)
    json_str (stdout, v->problem);
  else
    printf ("null");
  printf (",\"mounted\":%s,\"mountpoint\":", at ? "true" : "false");
  if (at)
    json_str (stdout, at);
  else
    printf ("null");
  printf ("}");
}

static void
print_volumes_json (const vdk_diskset *set, const struct mounts *m)
{
  printf ("{\"disks\":[");
  for (size_t i = 0; i < vdk_diskset_count (set); i++) {
    const struct vdk_disk_layout *d = vdk_diskset_disk_layout (set, i);
    printf ("%s{\"name\":", i ? "," : "");
    json_str (stdout, d ? d->name : "");
    printf (",\"size\":%" PRIu64 ",\"table\":", d ? d->size : 0);
    json_str (stdout, d ? d->table : "");
    printf (",\"table_id\":");
    json_str (stdout, d ? d->table_id : "");
    printf ("}");
  }
  printf ("],\"volumes\":[");
  bool first = true;
  for (size_t i = 0; i < vdk_volume_count (set); i++) {
    const struct vdk_volume_info *v = vdk_volume_get_info (set, i);
    if (!volume_listed (v))
      continue;
    printf ("%s", first ? "" : ",");
    first = false;
    print_volume_json (v, mounted_at (m, v->name));
  }
  printf ("]}\n");
}

int
cmd_volumes (int argc, char **argv)
{
  static const struct option longopts[] = {
    { "json", no_argument, NULL, 'j' },
    { "format", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
  };
  bool json = false;
  unsigned format = 0;
  int c;
  while ((c = getopt_long (argc, argv, "+jf:h", longopts, NULL)) != -1) {
    switch (c) {
    case 'j': json = true; break;
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
  if (set == NULL)
    return lib_fail ();
  struct mounts *m = calloc (1, sizeof *m);
  if (m == NULL) {
    vdk_diskset_close (set);
    return tool_error ("out of memory"), 1;
  }
  mounts_load (m, argv + optind, argc - optind);
  if (json)
    print_volumes_json (set, m);
  else
    print_volumes_table (set, m);
  mounts_free (m);
  free (m);
  vdk_diskset_close (set);
  return 0;
}

/* ---- files served by the mount process ------------------------------ */

/* A served volume; zdisk/zoff map it onto one disk range when it is one
 * (partitions, one-range linear volumes), for hole detection. */
struct vol_ctx {
  vdk_volume *vol;
  vdk_disk *zdisk;
  uint64_t zoff;
};

struct served {
  vdk_diskset *set;
  size_t nfiles;
  struct vdkfm_file files[VDKFM_MAX_DISKS + 256];
  struct vol_ctx vols[256];
  size_t nvols;
  int target;             /* index in files[] of VOLUME, -1 if none */
};

static int
disk_pread (void *opaque, void *buf, size_t count, uint64_t off)
{
  if (vdk_pread (opaque, buf, count, off) == -1) {
    errno = vdk_last_errno () ? vdk_last_errno () : EIO;
    return -1;
  }
  return 0;
}

static int
disk_pwrite (void *opaque, const void *buf, size_t count, uint64_t off)
{
  if (vdk_pwrite (opaque, buf, count, off) == -1) {
    errno = vdk_last_errno () ? vdk_last_errno () : EIO;
    return -1;
  }
  return 0;
}

static bool
disk_is_zero (void *opaque, size_t count, uint64_t off)
{
  uint64_t len;
  int state, depth;
  if (vdk_block_status (opaque, off, count, 0, &len, &state, &depth) == -1)
    return false;
  return state != VDK_BLOCK_DATA && len >= count;
}

static int
disk_flush (void *opaque)
{
  return vdk_flush (opaque) == -1 ? (errno = EIO, -1) : 0;
}

static int
vol_pread (void *opaque, void *buf, size_t count, uint64_t off)
{
  struct vol_ctx *c = opaque;
  if (vdk_volume_pread (c->vol, buf, count, off) == -1) {
    errno = vdk_last_errno () ? vdk_last_errno () : EIO;
    return -1;
  }
  return 0;
}

static int
vol_pwrite (void *opaque, const void *buf, size_t count, uint64_t off)
{
  struct vol_ctx *c = opaque;
  if (vdk_volume_pwrite (c->vol, buf, count, off) == -1) {
    errno = vdk_last_errno () ? vdk_last_errno () : EIO;
    return -1;
  }
  return 0;
}

static bool
vol_is_zero (void *opaque, size_t count, uint64_t off)
{
  struct vol_ctx *c = opaque;
  return c->zdisk && disk_is_zero (c->zdisk, count, c->zoff + off);
}

static int
vol_flush (void *opaque)
{
  struct vol_ctx *c = opaque;
  return vdk_volume_flush (c->vol) == -1 ? (errno = EIO, -1) : 0;
}

/* "vol1", "vol2:1", "vg0-root", "Volume1". */
static void
volume_file_name (const char *name, char *buf, size_t size)
{
  bool numeric = name[0] >= '0' && name[0] <= '9';
  snprintf (buf, size, "%s%s", numeric ? "vol" : "", name);
  for (char *p = buf; *p; p++)
    if (*p == '/')
      *p = '-';
}

static void
add_disk_files (struct served *s, bool writable)
{
  size_t n = vdk_diskset_count (s->set);
  for (size_t i = 0; i < n && i < VDKFM_MAX_DISKS; i++) {
    struct vdkfm_file *f = &s->files[s->nfiles++];
    vdk_disk *d = vdk_diskset_disk (s->set, i);
    if (n == 1)
      snprintf (f->name, sizeof f->name, "disk");
    else
      snprintf (f->name, sizeof f->name, "disk%zu", i + 1);
    f->size = vdk_capacity (d);
    f->pread = disk_pread;
    f->pwrite = writable ? disk_pwrite : NULL;
    f->flush = disk_flush;
    f->is_zero = disk_is_zero;
    f->opaque = d;
  }
}

/* Open a volume for serving; writable only for the mounted one. */
static int
add_volume_file (struct served *s, const struct vdk_volume_info *v,
                 bool writable)
{
  unsigned flags = writable ? 0 : VDK_VOLUME_READ_ONLY;
  vdk_volume *vol = vdk_volume_open (s->set, v->name, flags);
  if (vol == NULL)
    return -1;
  struct vdkfm_file *f = &s->files[s->nfiles];
  volume_file_name (v->name, f->name, sizeof f->name);
  for (size_t i = 0; i < s->nfiles; i++)
    if (strcmp (s->files[i].name, f->name) == 0)
      snprintf (f->name, sizeof f->name, "vol%zu", v->index);
  struct vol_ctx *c = &s->vols[s->nvols++];
  c->vol = vol;
  if (v->nmembers == 1 && v->members[0]->disk >= 0
      && (strcmp (v->layout, "partition") == 0
          || strcmp (v->layout, "linear") == 0)) {
    c->zdisk = vdk_diskset_disk (s->set, (size_t) v->members[0]->disk);
    c->zoff = v->members[0]->offset;
  }
  f->size = vdk_volume_size (vol);
  f->pread = vol_pread;
  f->pwrite = writable ? vol_pwrite : NULL;
  f->flush = vol_flush;
  f->is_zero = vol_is_zero;
  f->opaque = c;
  return (int) s->nfiles++;
}

/* Whole disks, then every readable volume; `target` (may be NULL) is
 * opened writable if `writable`.  -1 with the library's error. */
static int
build_files (struct served *s, const struct vdk_volume_info *target,
             bool writable)
{
  s->target = -1;
  add_disk_files (s, writable && target == NULL);
  for (size_t i = 0; i < vdk_volume_count (s->set) && s->nvols < 256; i++) {
    const struct vdk_volume_info *v = vdk_volume_get_info (s->set, i);
    bool is_target = target && v->index == target->index;
    if (strcmp (v->kind, "disk") == 0) {
      if (is_target)
        s->target = v->disk >= 0 ? v->disk : 0;
      continue; /* the whole-disk file already is this volume */
    }
    if (!v->readable || !volume_listed (v))
      continue;
    int idx = add_volume_file (s, v, writable && (is_target || !target));
    if (idx == -1 && is_target)
      return -1;
    if (is_target)
      s->target = idx;
  }
  if (target && s->target >= 0 && writable
      && s->files[s->target].pwrite == NULL) {
    /* A whole-disk file system mounted read-write. */
    s->files[s->target].pwrite = disk_pwrite;
  }
  return 0;
}

static int
served_finish (void *opaque, char *err, size_t errsize)
{
  struct served *s = opaque;
  for (size_t i = 0; i < s->nvols; i++)
    vdk_volume_close (s->vols[i].vol);
  int r = vdk_diskset_close (s->set);
  if (r == -1)
    snprintf (err, errsize, "%s", vdk_last_error ());
  free (s);
  return r;
}

/* ---- vdk mount -------------------------------------------------------- */

static const char mount_usage[] =
  "Usage: vdk mount [-r|-w] [-f FORMAT] [-t FSTYPE] [-o OPTS]\n"
  "                 [--redo FILE [--discard]] DISK... VOLUME MOUNTPOINT\n"
  "       vdk mount [-w] --flat DISK... DIR\n"
  "       vdk mount --cleanup\n"
  "Mount a volume of a set of disks (read-only unless -w, -o rw or --redo).\n"
  "  -r, --read-only   read-only (the default)\n"
  "  -w, --rw          read-write: writes go to the disk\n"
  "  -f, --format F    raw, vmdk or auto (default): how the disks are read\n"
  "  -t, --type FS     file system type (default: what libblkid found)\n"
  "  -o, --options O   mount options, passed through\n"
  "      --redo FILE   write to a new child disk FILE; the base is not "
  "changed\n"
  "      --discard     with --redo: delete FILE at unmount\n"
  "      --flat        only serve the disk and volume files in DIR\n"
  "      --max-read N  largest FUSE read (default 1M)\n"
  "      --cleanup     remove what crashed mount processes left behind\n";

struct mount_opts {
  bool ro, rw, flat, cleanup, discard;
  unsigned format;       /* VDK_OPEN_FORMAT_* of -f, or 0 */
  const char *fstype, *opts, *redo;
  uint64_t max_read;
  char **disks;
  int ndisks;
  const char *volume, *target;
};

enum { OPT_REDO = 256, OPT_DISCARD, OPT_FLAT, OPT_CLEANUP, OPT_MAX_READ,
       OPT_VERSION };

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
    { NULL, 0, NULL, 0 },
  };
  int c;
  while ((c = getopt_long (argc, argv, "rwf:t:o:h", longopts, NULL)) != -1) {
    if (c == 'h') {
      fputs (mount_usage, stdout);
      return 2;
    }
    if (c == OPT_VERSION) {
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
  if (o->ndisks > VDKFM_MAX_DISKS)
    return tool_usage_error ("mount", mount_usage, "more than %d disks",
                             VDKFM_MAX_DISKS);
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
  return 0;
}

/* What the machine must provide, checked before anything is made. */
static int
preflight (const struct mount_opts *o)
{
  if (vdkfm_check_root ("vdk mount") == -1 || vdkfm_check_fuse () == -1)
    return -1;
  if (!o->flat && vdkfm_check_loop () == -1)
    return -1;
  return vdkfm_check_dir (o->target, o->flat ? "folder" : "mount point");
}

/* Resolve VOLUME on a read-only scan: its name and file system type. */
static int
probe_volume (const struct mount_opts *o, char *name, size_t nsize,
              char *fstype, size_t fsize, bool *ntfs3g)
{
  vdk_diskset *set = open_scanned (o->disks, o->ndisks,
                                   VDK_OPEN_READ_ONLY | o->format);
  if (set == NULL)
    return lib_fail (), -1;
  const struct vdk_volume_info *v = vdk_volume_find (set, o->volume);
  int r = -1;
  if (v == NULL)
    tool_error ("no volume \"%s\" on %s%s (vdk volumes lists them)",
                o->volume, o->disks[0], o->ndisks > 1 ? " ..." : "");
  else if (v->flags & VDK_VOLUME_CONTAINER)
    tool_error ("volume %s is a container (%s) that holds other volumes; "
                "mount one of those", v->name, v->type_name);
  else if (!v->readable)
    tool_error ("volume %s cannot be read: %s", v->name,
                v->problem ? v->problem : "members are missing");
  else if (!o->fstype && !v->fs_type[0])
    tool_error ("volume %s has no file system that libblkid recognises; "
                "give -t FSTYPE, or use vdk mount --flat", v->name);
  else {
    snprintf (name, nsize, "%s", v->name);
    snprintf (fstype, fsize, "%s", o->fstype ? o->fstype : v->fs_type);
    r = vdkfm_check_fstype (fstype, ntfs3g);
    if (r == -1)
      tool_error ("volume %s: %s", v->name, vdkfm_error ());
  }
  vdk_diskset_close (set);
  return r;
}

/* The set to serve: the disks themselves, or for --redo a new child of
 * the base, created on the open base and reopened read-write. */
static vdk_diskset *
open_serving_set (const struct mount_opts *o)
{
  if (!o->redo)
    return open_scanned (o->disks, o->ndisks,
                         o->format | (o->rw ? 0 : VDK_OPEN_READ_ONLY));
  vdk_disk *base = tool_open (o->disks[0], VDK_OPEN_READ_ONLY | o->format);
  if (base == NULL)
    return NULL;
  int r = vdk_create_child (base, o->redo, VDK_TYPE_DEFAULT);
  vdk_close (base);
  if (r == -1)
    return NULL;
  vdk_diskset *set = open_scanned ((char **) &o->redo, 1, 0);
  if (set == NULL)
    vdk_unlink (o->redo);
  return set;
}

static void
fill_request (struct vdkfm_request *req, const struct mount_opts *o,
              struct served *s, const char *volume, const char *fstype)
{
  memset (req, 0, sizeof *req);
  req->files = s->files;
  req->nfiles = s->nfiles;
  req->volfile = o->flat ? -1 : s->target;
  req->fuse_dir = o->flat ? o->target : NULL;
  req->mountpoint = o->flat ? NULL : o->target;
  req->fstype = fstype;
  req->opts = o->opts;
  req->writable = o->rw;
  req->discard = o->discard;
  req->max_read = (unsigned) o->max_read;
  req->disks = (const char *const *) o->disks;
  req->ndisks = o->ndisks;
  req->volume = volume;
  req->redo = o->redo;
  req->finish = served_finish;
  req->opaque = s;
}

/* Absolute paths, so the state means the same from any folder. */
static void
absolute_paths (struct mount_opts *o, char **store)
{
  for (int i = 0; i < o->ndisks; i++) {
    store[i] = realpath (o->disks[i], NULL);
    if (store[i])
      o->disks[i] = store[i];
  }
  store[o->ndisks] = realpath (o->target, NULL);
  if (store[o->ndisks])
    o->target = store[o->ndisks];
}

/* After a successful mount the daemon owns the disks; this process has
 * already given up their descriptors and exits without closing its
 * copies of the handles.  Keeping them reachable here says so (and keeps
 * leak checkers quiet about a deliberate hand-over). */
static struct served *volatile handed_over;

static int run_mount_abs (struct mount_opts *o);

static int
run_mount (struct mount_opts *o)
{
  char *abs[VDKFM_MAX_DISKS + 1] = { NULL };
  int r;
  if (preflight (o) == -1)
    return fm_fail ();
  absolute_paths (o, abs);
  r = run_mount_abs (o);
  for (int i = 0; i <= o->ndisks; i++)
    free (abs[i]);
  return r;
}

static int
run_mount_abs (struct mount_opts *o)
{
  char volume[128] = "", fstype[32] = "";
  bool ntfs3g = false;
  if (!o->flat && probe_volume (o, volume, sizeof volume, fstype,
                                sizeof fstype, &ntfs3g) == -1)
    return 1;
  struct served *s = calloc (1, sizeof *s);
  if (s == NULL || (s->set = open_serving_set (o)) == NULL) {
    free (s);
    return lib_fail ();
  }
  const struct vdk_volume_info *v = o->flat ? NULL
    : vdk_volume_find (s->set, volume);
  char redo_abs[4096];
  if (o->redo && realpath (o->redo, redo_abs))
    o->redo = redo_abs;
  struct vdkfm_request req;
  struct vdkfm_state st;
  if (build_files (s, v, o->rw) == -1 || (!o->flat && s->target < 0)) {
    tool_lib_error ();
    served_finish (s, redo_abs, sizeof redo_abs);
    if (o->redo)
      vdk_unlink (o->redo);
    return 1;
  }
  fill_request (&req, o, s, volume, fstype);
  req.ntfs3g = ntfs3g;
  /* Before the fork a failure frees s (req.finish); after it the daemon
   * owns s, whether the mount then succeeds or not. */
  handed_over = s;
  if (vdkfm_mount (&req, &st) == -1) {
    fm_fail ();
    if (o->redo)
      vdk_unlink (o->redo);
    return 1;
  }
  vdkfm_state_free (&st);
  return 0;
}

static int
run_cleanup (void)
{
  int cleaned, alive, failed;
  if (vdkfm_check_root ("vdk mount --cleanup") == -1)
    return fm_fail ();
  int r = vdkfm_cleanup (&cleaned, &alive, &failed);
  printf ("cleaned %d mount%s; %d still in use\n", cleaned,
          cleaned == 1 ? "" : "s", alive);
  if (r == -1)
    return fm_fail ();
  return 0;
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
  "  --force     unmount lazily even while files are open\n"
  "  --discard   delete the --redo child disk\n";

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
  while ((c = getopt_long (argc, argv, "fh", longopts, NULL)) != -1) {
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
  if (vdkfm_check_root ("vdk umount") == -1)
    return fm_fail ();
  struct vdkfm_state st;
  if (vdkfm_state_find (argv[optind], &st) == -1)
    return fm_fail ();
  int r = vdkfm_teardown (&st, force, discard);
  vdkfm_state_free (&st);
  return r == -1 ? fm_fail () : 0;
}

/* ---- vdk mounts ------------------------------------------------------- */

static const char mounts_usage[] =
  "Usage: vdk mounts [--json]\n"
  "List the mounts made by vdk mount.\n";

static void
print_mount_json (const struct vdkfm_state *st, bool alive, bool first)
{
  printf ("%s{\"id\":", first ? "" : ",");
  json_str (stdout, st->id);
  printf (",\"pid\":%d,\"alive\":%s,\"disks\":[", (int) st->pid,
          alive ? "true" : "false");
  for (int i = 0; i < st->ndisks; i++) {
    printf ("%s", i ? "," : "");
    json_str (stdout, st->disks[i]);
  }
  printf ("],\"volume\":");
  json_str (stdout, st->volume);
  printf (",\"fstype\":");
  json_str (stdout, st->fstype);
  printf (",\"mountpoint\":");
  json_str (stdout, st->mountpoint);
  printf (",\"fuse\":");
  json_str (stdout, st->fuse);
  printf (",\"volume_file\":");
  json_str (stdout, st->volfile);
  if (st->loop >= 0)
    printf (",\"loop\":\"/dev/loop%d\"", st->loop);
  else
    printf (",\"loop\":null");
  printf (",\"writable\":%s,\"flat\":%s,\"redo\":",
          st->writable ? "true" : "false", st->flat ? "true" : "false");
  json_str (stdout, st->redo);
  printf ("}");
}

static void
print_mount_line (const struct vdkfm_state *st, bool alive)
{
  char loop[32] = "-";
  if (st->loop >= 0)
    snprintf (loop, sizeof loop, "/dev/loop%d", st->loop);
  printf ("%-10s %-7d %-5s %-10s %-7s %-12s %-3s %s <- %s%s\n", st->id,
          (int) st->pid, alive ? "yes" : "DEAD",
          st->flat ? "(flat)" : st->volume, st->fstype[0] ? st->fstype : "-",
          loop, st->writable ? "rw" : "ro",
          st->flat ? st->fuse : st->mountpoint,
          st->ndisks ? st->disks[0] : "?", st->ndisks > 1 ? " ..." : "");
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
  while ((c = getopt_long (argc, argv, "jh", longopts, NULL)) != -1) {
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
  char **ids;
  int n = vdkfm_state_list (&ids);
  if (n < 0)
    return fm_fail ();
  if (json)
    printf ("[");
  else
    printf ("%-10s %-7s %-5s %-10s %-7s %-12s %-3s %s\n", "ID", "PID",
            "ALIVE", "VOLUME", "FS", "LOOP", "RW", "MOUNTPOINT <- DISK");
  for (int i = 0, shown = 0; i < n; i++) {
    struct vdkfm_state st;
    if (vdkfm_state_load (ids[i], &st) == 0) {
      bool alive = vdkfm_state_alive (&st);
      if (json)
        print_mount_json (&st, alive, shown++ == 0);
      else
        print_mount_line (&st, alive);
      vdkfm_state_free (&st);
    }
    free (ids[i]);
  }
  free (ids);
  if (json)
    printf ("]\n");
  return 0;
}
