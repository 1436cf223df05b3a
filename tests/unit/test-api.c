/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the public API's contract (include/vdk.h conventions):
 * - vdk_open_ex: versions, flags and formats it accepts and refuses,
 *   the remote fields' transport list and a server that is not there,
 *   explicit formats
 *   (a raw image that starts with KDMV read as raw; a raw image refused
 *   as a VMDK);
 * - what a handle tells about itself (path, flags, transport);
 * - probed raw images refuse writes that would make them probe as a
 *   VMDK, and writes nothing then; an explicit raw format allows them;
 * - every options struct and flags argument refuses versions newer than
 *   the library and unknown bits with VDK_E_INVALID_ARG, before any
 *   file is touched.
 * Each refusal is checked by its code, not only by -1. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "vdk.h"
#include "vdk-mount.h"

#include "../tmpdir.h"

#define UNKNOWN_BIT 0x80000000u

static int
exists (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0;
}

static int
write_file (const char *path, const void *data, size_t n, off_t size)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int r = fd >= 0 && write (fd, data, n) == (ssize_t) n
    && ftruncate (fd, size) == 0 ? 0 : -1;
  if (fd >= 0)
    close (fd);
  return r;
}

static int
read_file (const char *path, void *buf, size_t n)
{
  int fd = open (path, O_RDONLY);
  int r = fd >= 0 && read (fd, buf, n) == (ssize_t) n ? 0 : -1;
  if (fd >= 0)
    close (fd);
  return r;
}

/* Open with params and expect failure with `code`. */
static void
open_refused (const struct vdk_open_params *p, int code, const char *what)
{
  vdk_disk *d = vdk_open_ex (P ("raw.img"), p);
  ok (d == NULL, "open_ex refuses %s", what);
  is_int (vdk_last_error_code (), code, "  ... with code %d (%s)", code,
          vdk_last_error ());
  if (d)
    vdk_close (d);
}

static void
test_open_params (void)
{
  struct vdk_open_params p = VDK_OPEN_PARAMS_INIT;
  vdk_disk *d;

  open_refused (NULL, VDK_E_INVALID_ARG, "NULL params");
  p.version = 0;
  open_refused (&p, VDK_E_INVALID_ARG, "version 0");
  p.version = VDK_OPEN_PARAMS_VERSION + 1;
  open_refused (&p, VDK_E_INVALID_ARG, "a version newer than the library");
  p.version = VDK_OPEN_PARAMS_VERSION;
  p.flags = UNKNOWN_BIT;
  open_refused (&p, VDK_E_INVALID_ARG, "unknown flag bits");
  p.flags = VDK_OPEN_FORMAT_RAW | VDK_OPEN_FORMAT_VMDK;
  open_refused (&p, VDK_E_INVALID_ARG, "both format flags");
  p.flags = VDK_OPEN_FORMAT_VMDK;
  p.format = VDK_FORMAT_RAW;
  open_refused (&p, VDK_E_INVALID_ARG, "a format flag that disagrees");
  p.flags = 0;
  p.format = 7;
  open_refused (&p, VDK_E_INVALID_ARG, "an unknown format");
  p.format = VDK_FORMAT_AUTO;
  /* Remote fields: nothing listens at the socket, so the connection
   * fails as such (without libnbd: no backend serves nbd://). */
  p.socket = P ("no-server.sock");
#ifdef VDK_HAVE_LIBNBD
  open_refused (&p, VDK_E_CONNECT, "a socket nobody listens on");
  ok (strstr (vdk_last_error (), "no-server.sock") != NULL,
      "  ... naming the socket");
#else
  open_refused (&p, VDK_E_UNSUPPORTED, "a socket without the nbd backend");
#endif
  p.socket = NULL;
  p.transports = "nbdssl:nbd";
  open_refused (&p, VDK_E_INVALID_ARG, "a local disk with transports "
                "nbdssl:nbd (no file)");
  p.transports = "file:bogus";
  open_refused (&p, VDK_E_UNSUPPORTED, "an unknown transport");
  p.transports = "";
  open_refused (&p, VDK_E_INVALID_ARG, "an empty transport list");
  p.transports = "file:nbd";
  d = vdk_open_ex (P ("raw.img"), &p);
  ok (d != NULL, "open_ex with transports \"file:nbd\" opens a local disk");
  is_str (vdk_get_transport_mode (d), "file", "  ... by file");
  vdk_close (d);
  p.transports = "file";
  d = vdk_open_ex (P ("raw.img"), &p);
  ok (d != NULL, "open_ex with transports \"file\" works");
  is_str (vdk_get_transport_mode (d), "file", "transport mode is \"file\"");
  vdk_close (d);

  d = vdk_open (P ("raw.img"), UNKNOWN_BIT);
  ok (d == NULL && vdk_last_error_code () == VDK_E_INVALID_ARG,
      "vdk_open refuses unknown flag bits");
  d = vdk_open (P ("raw.img"), 0x10000u);
  ok (d == NULL && vdk_last_error_code () == VDK_E_INVALID_ARG,
      "vdk_open refuses the library's internal flag bits");
}

static void
test_handle (void)
{
  struct vdk_open_params p = VDK_OPEN_PARAMS_INIT;
  unsigned want = VDK_OPEN_READ_ONLY | VDK_OPEN_FORMAT_RAW;
  vdk_disk *d, *again;

  p.flags = VDK_OPEN_READ_ONLY;
  p.format = VDK_FORMAT_RAW;
  d = vdk_open_ex (P ("kdmv.img"), &p);
  ok (d != NULL, "open_ex a KDMV file as raw");
  is_str (vdk_disk_path (d), P ("kdmv.img"), "vdk_disk_path is the path");
  is_int (vdk_disk_flags (d), want, "vdk_disk_flags has read-only + raw");
  is_str (vdk_get_transport_mode (d), "file", "transport \"file\"");
  again = vdk_open (vdk_disk_path (d), vdk_disk_flags (d));
  ok (again && vdk_capacity (again) == vdk_capacity (d),
      "reopening with path and flags opens it the same way");
  vdk_close (again);
  vdk_close (d);
  ok (vdk_disk_path (NULL) == NULL && vdk_disk_flags (NULL) == 0
      && vdk_get_transport_mode (NULL) == NULL, "NULL handle: NULL, 0, NULL");
}

static void
test_formats (void)
{
  struct vdk_open_params p = VDK_OPEN_PARAMS_INIT;
  char head[512], want[512];
  struct vdk_info *in = NULL;
  vdk_disk *d;

  p.format = VDK_FORMAT_RAW;
  d = vdk_open_ex (P ("kdmv.img"), &p);
  ok (d && vdk_pread (d, head, sizeof head, 0) == 0,
      "read a KDMV file as raw");
  ok (read_file (P ("kdmv.img"), want, sizeof want) == 0
      && memcmp (head, want, sizeof head) == 0 && memcmp (head, "KDMV", 4) == 0,
      "  ... its first sector is the KDMV header itself");
  ok (d && vdk_get_info (d, &in) == 0 && in->type == VDK_TYPE_RAW,
      "  ... and info calls it raw");
  vdk_free_info (in);
  vdk_close (d);

  p.format = VDK_FORMAT_AUTO;
  d = vdk_open_ex (P ("kdmv.img"), &p);
  ok (d && vdk_get_info (d, &in) == 0
      && in->type == VDK_TYPE_MONOLITHIC_SPARSE,
      "AUTO probes the KDMV file as monolithicSparse");
  vdk_free_info (in);
  vdk_close (d);

  p.format = VDK_FORMAT_VMDK;
  d = vdk_open_ex (P ("kdmv.img"), &p);
  ok (d != NULL, "VDK_FORMAT_VMDK opens a VMDK");
  vdk_close (d);
  d = vdk_open_ex (P ("raw.img"), &p);
  ok (d == NULL && vdk_last_error_code () == VDK_E_UNSUPPORTED,
      "VDK_FORMAT_VMDK refuses a raw image (%s)", vdk_last_error ());
  d = vdk_open (P ("raw.img"), VDK_OPEN_FORMAT_VMDK);
  ok (d == NULL && vdk_last_error_code () == VDK_E_UNSUPPORTED,
      "so does the VDK_OPEN_FORMAT_VMDK flag");
}

/* A probed raw image refuses writes that would make it a VMDK. */
static void
test_probed_raw_guard (void)
{
  struct vdk_open_params p = VDK_OPEN_PARAMS_INIT;
  char kdmv[512], now[4096], before[4096];
  const char *desc = "# Disk DescriptorFile\nversion=1\n";
  vdk_disk *d;

  ok (read_file (P ("kdmv.img"), kdmv, sizeof kdmv) == 0, "KDMV sector");
  ok (read_file (P ("raw.img"), before, sizeof before) == 0, "raw head");
  d = vdk_open (P ("raw.img"), 0);
  ok (d && vdk_pwrite (d, kdmv, sizeof kdmv, 0) == -1,
      "pwrite of a KDMV sector at 0 of a probed raw image fails");
  is_int (vdk_last_error_code (), VDK_E_ACCESS_DENIED,
          "  ... with VDK_E_ACCESS_DENIED (%s)", vdk_last_error ());
  ok (vdk_write (d, 0, 1, kdmv) == -1, "so does vdk_write of sector 0");
  ok (vdk_pwrite (d, desc, strlen (desc), 0) == -1,
      "so does descriptor text at 0");
  ok (vdk_pwrite (d, "KDMV", 4, 0) == -1, "so does the bare magic");
  ok (vdk_pwrite (d, "xyz", 3, 100) == 0, "a harmless write in the window "
      "works");
  ok (vdk_pwrite (d, kdmv, sizeof kdmv, 4096) == 0,
      "a KDMV sector past the probe window works");
  ok (vdk_close (d) == 0, "close");
  ok (read_file (P ("raw.img"), now, sizeof now) == 0
      && memcmp (now, before, 100) == 0 && memcmp (now + 100, "xyz", 3) == 0
      && memcmp (now + 103, before + 103, sizeof now - 103) == 0,
      "the refused writes wrote nothing");

  p.format = VDK_FORMAT_RAW;
  d = vdk_open_ex (P ("raw.img"), &p);
  ok (d && vdk_pwrite (d, kdmv, sizeof kdmv, 0) == 0,
      "with VDK_FORMAT_RAW the KDMV write is allowed");
  vdk_close (d);
  ok (read_file (P ("raw.img"), now, 512) == 0
      && memcmp (now, kdmv, 512) == 0, "  ... and is on disk");
  /* Put the image back for later tests. */
  ok (write_file (P ("raw.img"), before, sizeof before, 1 << 20) == 0,
      "restore raw.img");
}

static void
test_create_params (void)
{
  struct vdk_create_params c = VDK_CREATE_PARAMS_INIT;

  c.capacity = 1 << 20;
  c.version = VDK_CREATE_PARAMS_VERSION + 1;
  ok (vdk_create (P ("new.vmdk"), &c) == -1
      && vdk_last_error_code () == VDK_E_INVALID_ARG,
      "create refuses a newer params version (%s)", vdk_last_error ());
  c.version = 0;
  ok (vdk_create (P ("new.vmdk"), &c) == -1
      && vdk_last_error_code () == VDK_E_INVALID_ARG,
      "create refuses version 0");
  c.version = VDK_CREATE_PARAMS_VERSION;
  c.flags = UNKNOWN_BIT;
  ok (vdk_create (P ("new.vmdk"), &c) == -1
      && vdk_last_error_code () == VDK_E_INVALID_ARG,
      "create refuses unknown flags (%s)", vdk_last_error ());
  ok (vdk_create (P ("new.vmdk"), NULL) == -1
      && vdk_last_error_code () == VDK_E_INVALID_ARG,
      "create refuses NULL params");
  ok (!exists (P ("new.vmdk")), "nothing was created");
}

static void
test_clone_params (void)
{
  struct vdk_clone_params c = VDK_CLONE_PARAMS_INIT;
  vdk_disk *src = vdk_open (P ("raw.img"), VDK_OPEN_READ_ONLY);
  uint64_t bytes;

  ok (src != NULL, "open a clone source");
  c.version = VDK_CLONE_PARAMS_VERSION + 1;
  ok (vdk_clone (src, P ("copy.vmdk"), &c) == -1
      && vdk_last_error_code () == VDK_E_INVALID_ARG,
      "clone refuses a newer params version (%s)", vdk_last_error ());
  ok (vdk_measure (src, NULL, &c, &bytes) == -1
      && vdk_last_error_code () == VDK_E_INVALID_ARG,
      "measure refuses a newer params version");
  c.version = VDK_CLONE_PARAMS_VERSION;
  c.flags = UNKNOWN_BIT;
  ok (vdk_clone (src, P ("copy.vmdk"), &c) == -1
      && vdk_last_error_code () == VDK_E_INVALID_ARG,
      "clone refuses unknown flags (%s)", vdk_last_error ());
  ok (vdk_measure (src, NULL, &c, &bytes) == -1
      && vdk_last_error_code () == VDK_E_INVALID_ARG,
      "measure refuses unknown flags");
  ok (!exists (P ("copy.vmdk")), "nothing was created");
  c.flags = 0;
  c.version = 1;              /* an old caller: compress_level unread */
  ok (vdk_measure (src, NULL, &c, &bytes) == 0,
      "measure accepts the older version 1");
  vdk_close (src);
}

/* Calls that take a path, flags and open flags. */
static void
test_path_call_flags (void)
{
  struct vdk_check_report *rep = NULL;

#define REFUSED(call, what)                                             \
  ok ((call) == -1 && vdk_last_error_code () == VDK_E_INVALID_ARG,      \
      what " (%s)", vdk_last_error ())
  REFUSED (vdk_check (P ("kdmv.img"), UNKNOWN_BIT, 0, &rep),
           "check refuses unknown flags");
  REFUSED (vdk_check (P ("kdmv.img"), 0, UNKNOWN_BIT, &rep),
           "check refuses unknown open flags");
  REFUSED (vdk_grow (P ("kdmv.img"), 4 << 20, UNKNOWN_BIT),
           "grow refuses unknown open flags");
  REFUSED (vdk_shrink (P ("kdmv.img"), UNKNOWN_BIT, NULL, NULL),
           "shrink refuses unknown open flags");
  REFUSED (vdk_defrag (P ("kdmv.img"), UNKNOWN_BIT, NULL, NULL),
           "defrag refuses unknown open flags");
  REFUSED (vdk_commit (P ("kdmv.img"), UNKNOWN_BIT, NULL, NULL),
           "commit refuses unknown open flags");
  REFUSED (vdk_attach (P ("kdmv.img"), P ("base.vmdk"), UNKNOWN_BIT, 0),
           "attach refuses unknown flags");
  REFUSED (vdk_attach (P ("kdmv.img"), P ("base.vmdk"), 0, UNKNOWN_BIT),
           "attach refuses unknown open flags");
  REFUSED (vdk_create_child_path (P ("base.vmdk"), P ("c.vmdk"), 0,
                                  UNKNOWN_BIT),
           "create_child_path refuses unknown open flags");
  ok (!exists (P ("c.vmdk")), "no child was created");
  vdk_free_check_report (rep);
}

static void
test_volume_flags (void)
{
  vdk_diskset *set = vdk_diskset_new ();
  if (!set && vdk_last_error_code () == VDK_E_UNSUPPORTED) {
    diag ("skip volume flags: volumes are not built in (%s)",
          vdk_last_error ());
    return;
  }
  ok (set != NULL, "new disk set");
  ok (vdk_diskset_scan (set, UNKNOWN_BIT) == -1
      && vdk_last_error_code () == VDK_E_INVALID_ARG,
      "scan refuses unknown flags (%s)", vdk_last_error ());
  ok (vdk_volume_open (set, "1", UNKNOWN_BIT) == NULL
      && vdk_last_error_code () == VDK_E_INVALID_ARG,
      "volume_open refuses unknown flags");
  vdk_diskset_close (set);
}

/* Every string of a returned struct belongs to it: read them all after
 * vdk_close (ASan turns a use-after-free into a failure here). */
static void
test_info_after_close (void)
{
  struct vdk_info *in = NULL;
  vdk_disk *d = vdk_open (P ("base.vmdk"), VDK_OPEN_READ_ONLY);
  size_t total = 0;

  ok (d && vdk_get_info (d, &in) == 0, "get info");
  ok (vdk_close (d) == 0, "close the disk before reading the info");
  if (!in)
    return;
  is_str (in->create_type, "monolithicSparse", "create_type after close");
  ok (in->physical && in->bios && in->physical->heads == 16
      && in->physical->sectors == 63 && in->bios->heads == 0,
      "geometry structs after close (%u/%u/%u)", in->physical->cylinders,
      in->physical->heads, in->physical->sectors);
  ok (in->num_extents == 1 && in->extents && in->extents[0],
      "one extent, reached through a pointer");
  for (size_t i = 0; i < in->num_extents; i++)
    total += strlen (in->extents[i]->type) + strlen (in->extents[i]->access)
      + strlen (in->extents[i]->file) + strlen (in->extents[i]->path);
  ok (total > 0, "every extent string readable after close");
  is_str (in->extents[0]->type, "SPARSE", "extent type after close");
  is_str (in->extents[0]->access, "RW", "extent access after close");
  ok (in->uuid && strlen (in->uuid) > 0, "uuid after close");
  vdk_free_info (in);
}

/* Lists are arrays of pointers to structs the library allocated. */
static void
test_pointer_lists (void)
{
  struct vdk_block_list *bl = NULL;
  struct vdk_check_report *rep = NULL;
  char buf[65536];
  vdk_disk *d = vdk_open (P ("base.vmdk"), 0);
  uint64_t total = 0;

  memset (buf, 1, sizeof buf);
  ok (d && vdk_pwrite (d, buf, sizeof buf, 0) == 0
      && vdk_pwrite (d, buf, sizeof buf, 1 << 20) == 0, "write two grains");
  ok (vdk_query_allocated_blocks (d, 0, 4096, 128, 0, &bl) == 0
      && bl->n == 2, "two allocated runs");
  for (size_t i = 0; bl && i < bl->n; i++)
    total += bl->blocks[i]->length;
  is_int (total, 256, "  ... of 128 sectors each, through pointers");
  ok (bl && bl->n == 2 && bl->blocks[1]->offset == 2048,
      "  ... the second at sector 2048");
  vdk_free_block_list (bl);
  vdk_close (d);
  ok (vdk_check (P ("raw.img"), 0, VDK_OPEN_FORMAT_VMDK, &rep) == -1
      && vdk_last_error_code () == VDK_E_UNSUPPORTED,
      "check -f vmdk of a raw image fails (%s)", vdk_last_error ());
  ok (vdk_check (P ("base.vmdk"), 0, 0, &rep) == 0 && rep->nproblems == 0,
      "check of a clean disk: no problems");
  vdk_free_check_report (rep);
}

static void
test_child_types (void)
{
  vdk_disk *base = vdk_open (P ("kdmv.img"), VDK_OPEN_READ_ONLY);
  struct vdk_info *in = NULL;
  vdk_disk *d;

  ok (base != NULL, "open a parent");
  ok (vdk_create_child (base, P ("raw-child.vmdk"), VDK_TYPE_RAW) == -1
      && vdk_last_error_code () == VDK_E_UNSUPPORTED,
      "VDK_TYPE_RAW is not taken for the default (%s)", vdk_last_error ());
  ok (!exists (P ("raw-child.vmdk")), "  ... and nothing was created");
  ok (vdk_create_child (base, P ("kid.vmdk"), VDK_TYPE_DEFAULT) == 0,
      "VDK_TYPE_DEFAULT makes a child");
  vdk_close (base);
  d = vdk_open (P ("kid.vmdk"), VDK_OPEN_READ_ONLY);
  ok (d && vdk_get_info (d, &in) == 0
      && in->type == VDK_TYPE_MONOLITHIC_SPARSE && in->links == 2,
      "  ... a monolithicSparse child of two links");
  vdk_free_info (in);
  vdk_close (d);
}

static int
make_fixtures (void)
{
  struct vdk_create_params c = VDK_CREATE_PARAMS_INIT;
  char buf[4096];

  memset (buf, 0x5a, sizeof buf);
  c.capacity = 2 << 20;
  return write_file (P ("raw.img"), buf, sizeof buf, 1 << 20) == 0
    && vdk_create (P ("kdmv.img"), &c) == 0
    && vdk_create (P ("base.vmdk"), &c) == 0 ? 0 : -1;
}

int
main (void)
{
  if (tmpdir_make ("vdk-api") == -1)
    return 1;
  if (!ok (make_fixtures () == 0, "fixtures (%s)", vdk_last_error ()))
    return tap_done ();
  test_open_params ();
  test_handle ();
  test_formats ();
  test_probed_raw_guard ();
  test_create_params ();
  test_clone_params ();
  test_path_call_flags ();
  test_volume_flags ();
  test_info_after_close ();
  test_pointer_lists ();
  test_child_types ();
  tmpdir_remove ();
  return tap_done ();
}
