/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vol-dump: a small driver of the volume API for the shell tests.
 *
 *   vol-dump [-n] [-w] [-l] [-o] DISK...       list volumes (TSV)
 *   vol-dump -r NAME [-O OFF -L LEN] DISK...   volume bytes to stdout
 *   vol-dump -W NAME [-O OFF] DISK...          stdin into the volume
 *
 * -n skips file-system identification, -w prints the scan warnings
 * ("W<TAB>text"), -l the disk layouts ("D<TAB>..."), -o the OS guess
 * ("O<TAB>key<TAB>value").  Volume lines are "V" then the fields below,
 * tab-separated, "-" for an empty string.  Exit 1 with the library's
 * message on stderr when a call fails.  Uses only the public API. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vdk-mount.h"

static const char *
s (const char *v)
{
  return v && v[0] ? v : "-";
}

static void
print_volume (const struct vdk_volume_info *v)
{
  printf ("V\t%s\t%s\t%s\t%d\t%" PRIu64 "\t%" PRIu64 "\t%s\t%s\t%s\t%s\t%s"
          "\t%s\t%s\t%" PRIu64 "\t%zu\t%u\t%d\t%d\t%d\t%s\t%s\t%s\n",
          v->name, v->kind, v->layout, v->disk, v->start, v->size,
          s (v->part_type), s (v->fs_type), s (v->fs_label), s (v->fs_uuid),
          s (v->uuid), s (v->group), s (v->parent), v->stripe_size,
          v->nmembers, v->flags, v->complete, v->degraded, v->readable,
          s (v->part_label), s (v->type_name), s (v->problem));
}

static void
print_layouts (vdk_diskset *set)
{
  for (size_t i = 0; i < vdk_diskset_count (set); i++) {
    const struct vdk_disk_layout *l = vdk_diskset_disk_layout (set, i);
    printf ("D\t%zu\t%s\t%" PRIu64 "\t%s\t%s\t%d\t%d\t%d\t%d\n", i, l->name,
            l->size, s (l->table), s (l->table_id), l->hybrid_mbr,
            l->gpt_backup_used, l->lvm_pv, l->ldm);
  }
}

static int
print_os (vdk_diskset *set)
{
  struct vdk_os_info *os;

  if (vdk_diskset_os_info (set, &os) == -1)
    return -1;
  printf ("O\tfamily\t%s\nO\tvendor\t%s\nO\tsystem\t%s\nO\tboot\t%s\n"
          "O\tfolder\t%s\n", s (os->family), s (os->vendor),
          s (os->system_volume), s (os->boot_volume), s (os->os_folder));
  vdk_free_os_info (os);
  return 0;
}

static int
copy_out (vdk_volume *vol, uint64_t off, uint64_t len)
{
  static char buf[1 << 20];

  while (len > 0) {
    size_t n = len < sizeof buf ? (size_t) len : sizeof buf;
    if (vdk_volume_pread (vol, buf, n, off) == -1
        || fwrite (buf, 1, n, stdout) != n)
      return -1;
    off += n, len -= n;
  }
  return 0;
}

static int
copy_in (vdk_volume *vol, uint64_t off)
{
  static char buf[1 << 20];
  size_t n;

  while ((n = fread (buf, 1, sizeof buf, stdin)) > 0) {
    if (vdk_volume_pwrite (vol, buf, n, off) == -1)
      return -1;
    off += n;
  }
  return vdk_volume_flush (vol);
}

static int
do_io (vdk_diskset *set, const char *name, int write, uint64_t off,
       int64_t len)
{
  vdk_volume *vol = vdk_volume_open (set, name,
                                     write ? 0 : VDK_VOLUME_READ_ONLY);
  int r;

  if (!vol)
    return -1;
  if (write)
    r = copy_in (vol, off);
  else
    r = copy_out (vol, off, len < 0 ? vdk_volume_size (vol) - off
                  : (uint64_t) len);
  vdk_volume_close (vol);
  return r;
}

int
main (int argc, char **argv)
{
  const char *rname = NULL, *wname = NULL;
  unsigned scan = 0;
  int c, warn = 0, layout = 0, os = 0;
  uint64_t off = 0;
  int64_t len = -1;
  vdk_diskset *set;

  while ((c = getopt (argc, argv, "nwlor:W:O:L:")) != -1)
    switch (c) {
    case 'n': scan |= VDK_SCAN_NO_FS; break;
    case 'w': warn = 1; break;
    case 'l': layout = 1; break;
    case 'o': os = 1; break;
    case 'r': rname = optarg; break;
    case 'W': wname = optarg; break;
    case 'O': off = strtoull (optarg, NULL, 0); break;
    case 'L': len = strtoll (optarg, NULL, 0); break;
    default:
      fprintf (stderr, "usage: vol-dump [-nwlo] [-r|-W NAME] DISK...\n");
      return 1;
    }
  set = vdk_diskset_open ((const char *const *) argv + optind,
                          (size_t) (argc - optind),
                          wname ? 0 : VDK_OPEN_READ_ONLY);
  if (!set || vdk_diskset_scan (set, scan) == -1)
    goto fail;
  if (rname || wname) {
    if (do_io (set, rname ? rname : wname, wname != NULL, off, len) == -1)
      goto fail;
  }
  else {
    if (layout)
      print_layouts (set);
    for (size_t i = 0; i < vdk_volume_count (set); i++)
      print_volume (vdk_volume_get_info (set, i));
    if (warn)
      for (size_t i = 0; i < vdk_diskset_warning_count (set); i++)
        printf ("W\t%s\n", vdk_diskset_warning (set, i));
    if (os && print_os (set) == -1)
      goto fail;
  }
  fflush (stdout);
  return vdk_diskset_close (set) == -1;
 fail:
  fprintf (stderr, "vol-dump: %s\n", vdk_last_error ());
  vdk_diskset_close (set);
  return 1;
}
