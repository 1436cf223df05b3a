/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the io layer: the registry of backends (plain paths,
 * mem://, an unknown scheme, a test backend that serves a guest's view
 * and must never be probed), the name operations (refused on a store
 * without names, failed by the fault hook without leaving a temporary
 * file or a changed descriptor), atomic replacement, and the refusal of
 * files that are not regular files (FIFO, devices, a symlink to a
 * device, a folder) without ever blocking. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "ops/ops.h"

#include "../tmpdir.h"

static uint8_t *image;       /* a monolithicSparse file, read into memory */
static size_t image_len;

static struct vdk_io *
image_open (const char *spec, unsigned flags)
{
  struct vdk_io *io = vdk__io_open_mem (spec, image, image_len);
  if (io)
    io->readonly = (flags & VDK_IO_READONLY) != 0;
  return io;
}

static const struct vdk_io_backend guest_backend = {
  .scheme = "guest", .flags = VDK_IO_BACKEND_GUEST_VIEW, .open = image_open,
};
static const struct vdk_io_backend plain_backend = {
  .scheme = "plain", .open = image_open,
};

static int
read_file (const char *path, uint8_t **buf, size_t *len)
{
  FILE *f = fopen (path, "rb");
  long n;
  if (!f || fseek (f, 0, SEEK_END) || (n = ftell (f)) < 0
      || fseek (f, 0, SEEK_SET) || !(*buf = malloc ((size_t) n + 1))
      || fread (*buf, 1, (size_t) n, f) != (size_t) n) {
    if (f)
      fclose (f);
    return -1;
  }
  fclose (f);
  *len = (size_t) n;
  return 0;
}

static void
test_registry (void)
{
  struct vdk_io *a, *b;
  char buf[6] = "";

  ok (vdk__io_backend (P ("x.img")) == &vdk__io_file_backend,
      "a plain path is served by the file backend");
  ok (vdk__io_backend ("mem://t") == &vdk__io_mem_backend,
      "mem:// is served by the mem backend");
  bool none = vdk__io_backend ("bogus://t") == NULL;
  ok (none && vdk_last_error_code () == VDK_E_UNSUPPORTED,
      "an unknown scheme is refused as unsupported: %s", vdk_last_error ());
  ok (vdk__io_open ("mem://t", 0) == NULL && vdk_last_errno () == ENOENT,
      "mem:// without create: no such store");
  a = vdk__io_open ("mem://t", VDK_IO_CREATE);
  ok (a && vdk__io_pwrite (a, "hello", 5, 0) == 0, "mem:// created, written");
  b = vdk__io_open ("mem://t", VDK_IO_READONLY);
  ok (b && vdk__io_pread (b, buf, 5, 0) == 0 && memcmp (buf, "hello", 5) == 0,
      "a second open of the name sees the same bytes");
  vdk__io_close (a);
  vdk__io_close (b);
  ok (vdk__io_open ("mem://t", 0) == NULL,
      "the store is gone after its last close");
  ok (vdk__fs_rename ("mem://t", "mem://u") == -1
      && vdk_last_error_code () == VDK_E_NOT_SUPPORTED_BY_TRANSPORT,
      "renaming on a store without names is refused: %s", vdk_last_error ());
  ok (vdk__fs_unlink ("mem://t") == -1
      && vdk_last_error_code () == VDK_E_NOT_SUPPORTED_BY_TRANSPORT,
      "unlink on a store without names is refused");
}

/* The same bytes (a monolithicSparse VMDK) through a backend that serves
 * a guest's view and through one that does not. */
static void
test_guest_view (void)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  struct vdk_info *in = NULL;
  vdk_disk *d;

  p.type = VDK_TYPE_MONOLITHIC_SPARSE;
  p.capacity = 64 << 20;
  if (!ok (vdk_create (P ("g.vmdk"), &p) == 0
           && read_file (P ("g.vmdk"), &image, &image_len) == 0,
           "create a monolithicSparse disk"))
    return;
  vdk__io_register (&guest_backend);
  vdk__io_register (&plain_backend);
  d = vdk_open ("plain://disk", VDK_OPEN_READ_ONLY);
  ok (d && vdk_get_info (d, &in) == 0 && in->type == VDK_TYPE_MONOLITHIC_SPARSE
      && in->capacity == p.capacity,
      "a store that is not a guest's view is probed: a VMDK of 64 MiB");
  vdk_free_info (in), in = NULL;
  vdk_close (d);
  d = vdk_open ("guest://disk", VDK_OPEN_READ_ONLY);
  if (d && vdk_get_info (d, &in) == -1)
    in = NULL;
  ok (in && in->type == VDK_TYPE_RAW
      && in->capacity == ROUND_UP (image_len, 512),
      "the same bytes as a guest's view are raw (capacity %" PRIu64
      ", the store's size)", in ? in->capacity : 0);
  vdk_free_info (in);
  vdk_close (d);
  vdk__io_unregister (&guest_backend);
  vdk__io_unregister (&plain_backend);
  ok (vdk__io_backend ("guest://disk") == NULL, "unregistered");
  free (image);
}

/* ---- block status: the default from SEEK_DATA, and a store that
 * knows holes (as an NBD export does) ---- */

static struct vdk_io_ops holes_ops;
static uint64_t holes_pnum = 1;     /* what the store answers */

/* The first MiB is a hole, the rest data; 0 is a broken answer. */
static int
holes_status (struct vdk_io *io, uint64_t off, uint64_t n, uint64_t *pnum,
              int *state)
{
  (void) io;
  *state = off < (1u << 20) ? VDK_BLOCK_HOLE : VDK_BLOCK_DATA;
  *pnum = holes_pnum ? MIN (n, off < (1u << 20) ? (1u << 20) - off : n) : 0;
  return 0;
}

static struct vdk_io *
holes_open (const char *spec, unsigned flags)
{
  static uint8_t bytes[2u << 20];
  struct vdk_io *io = vdk__io_open_mem (spec, bytes, sizeof bytes);
  (void) flags;
  if (io) {
    holes_ops = *io->ops;
    holes_ops.block_status = holes_status;
    io->ops = &holes_ops;
    io->readonly = true;
  }
  return io;
}

static const struct vdk_io_backend holes_backend = {
  .scheme = "holes", .flags = VDK_IO_BACKEND_GUEST_VIEW,
  .open = holes_open,
};

static void
test_block_status (void)
{
  struct vdk_io *io;
  uint64_t pnum = 0, len = 0;
  int st = -1, depth = 0;
  vdk_disk *d;
  int fd = open (P ("bs.raw"), O_WRONLY | O_CREAT | O_TRUNC, 0600);

  ok (fd != -1 && pwrite (fd, "data", 4, 0) == 4
      && ftruncate (fd, 4 << 20) == 0, "a file: 4 bytes of data, a hole");
  if (fd != -1)
    close (fd);
  io = vdk__io_open (P ("bs.raw"), VDK_IO_READONLY);
  ok (io && vdk__io_block_status (io, 0, 4 << 20, &pnum, &st) == 0
      && st == VDK_BLOCK_DATA && pnum >= 4 && pnum < (4u << 20),
      "a file's data is DATA (%" PRIu64 " bytes)", pnum);
  ok (io && vdk__io_block_status (io, 1 << 20, 1 << 20, &pnum, &st) == 0
      && st == VDK_BLOCK_ZERO && pnum == 1u << 20,
      "a file's hole is ZERO: a file system cannot tell it from zeroes");
  ok (io && vdk__io_block_status (io, 8 << 20, 4096, &pnum, &st) == 0
      && st == VDK_BLOCK_ZERO && pnum == 4096, "past the end is ZERO");
  vdk__io_close (io);

  vdk__io_register (&holes_backend);
  d = vdk_open ("holes://disk", VDK_OPEN_READ_ONLY);
  ok (d && vdk_block_status (d, 0, 2 << 20, 0, &len, &st, &depth) == 0
      && st == VDK_BLOCK_HOLE && len == 1u << 20 && depth == -1,
      "a raw disk on a store that knows holes reports them as HOLE");
  ok (d && vdk_block_status (d, 1 << 20, 1 << 20, 0, &len, &st, &depth) == 0
      && st == VDK_BLOCK_DATA && len == 1u << 20, "... and its data as DATA");
  holes_pnum = 0;
  ok (d && vdk_block_status (d, 0, 2 << 20, 0, &len, &st, &depth) == -1
      && vdk_last_error_code () == VDK_E_IO,
      "a store answering an empty run is an I/O error, not a loop");
  holes_pnum = 1;
  vdk_close (d);
  vdk__io_unregister (&holes_backend);
}

static int fail_op, fail_errno;

static int
fault (struct vdk_io *io, const char *path, int op, uint64_t off, size_t n)
{
  (void) io, (void) path, (void) off, (void) n;
  return op == fail_op ? fail_errno : 0;
}

static size_t
leftovers (const char *pattern)
{
  glob_t g;
  size_t n = glob (pattern, 0, NULL, &g) == 0 ? g.gl_pathc : 0;
  if (n)
    globfree (&g);
  return n;
}

/* A first write replaces the descriptor (new CID); a failed rename or
 * temporary file fails the write cleanly. */
static void
test_rename_fault (void)
{
  static const struct { int op; int e; const char *what; } cases[] = {
    { 'n', EIO, "rename fails with EIO" },
    { 'n', ENOSPC, "rename fails with ENOSPC" },
    { 't', ENOSPC, "temporary file creation fails with ENOSPC" },
  };
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  uint8_t *before, *after, sector[512] = { 1 };
  size_t nb, na;

  p.type = VDK_TYPE_MONOLITHIC_FLAT;
  p.capacity = 1 << 20;
  if (!ok (vdk_create (P ("f.vmdk"), &p) == 0
           && read_file (P ("f.vmdk"), &before, &nb) == 0, "create flat"))
    return;
  vdk__io_fault_hook = fault;
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++) {
    vdk_disk *d = vdk_open (P ("f.vmdk"), 0);
    int r;
    fail_op = cases[i].op, fail_errno = cases[i].e;
    r = d ? vdk_pwrite (d, sector, 512, 0) : 0;
    ok (r == -1 && vdk_last_errno () == cases[i].e
        && strstr (vdk_last_error (), "f.vmdk"),
        "%s: the write fails naming the descriptor: %s", cases[i].what,
        vdk_last_error ());
    fail_op = 0;
    vdk_close (d);
    ok (read_file (P ("f.vmdk"), &after, &na) == 0 && na == nb
        && memcmp (before, after, nb) == 0, "%s: descriptor unchanged",
        cases[i].what);
    free (after);
    is_int (leftovers (P ("f.vmdk.tmp*")), 0, "%s: no temporary file left",
            cases[i].what);
  }
  vdk__io_fault_hook = NULL;
  free (before);
}

static void
test_replace (void)
{
  struct stat st;
  uint8_t *got;
  size_t n;
  ok (vdk__fs_replace (P ("r.txt"), "one\n", 4, 0600) == 0
      && vdk__fs_replace (P ("r.txt"), "two!\n", 5, 0640) == 0
      && read_file (P ("r.txt"), &got, &n) == 0 && n == 5
      && memcmp (got, "two!\n", 5) == 0,
      "replace writes the whole new content");
  ok (stat (P ("r.txt"), &st) == 0 && (st.st_mode & 0777) == 0640,
      "with the mode asked for");
  is_int (leftovers (P ("r.txt.tmp*")), 0, "and no temporary file");
  free (got);
}

static void
refused (const char *path, unsigned flags, int code, const char *what)
{
  struct vdk_io *io = vdk__io_open (path, flags);
  ok (!io && vdk_last_error_code () == code && strstr (vdk_last_error (), path),
      "%s is refused (code %d): %s", what, vdk_last_error_code (),
      vdk_last_error ());
  vdk__io_close (io);
}

static void
test_file_types (void)
{
  struct vdk_io *io;

  alarm (30);                   /* a FIFO must never block the open */
  if (ok (mkfifo (P ("fifo"), 0600) == 0, "make a FIFO")) {
    refused (P ("fifo"), VDK_IO_READONLY, VDK_E_UNSUPPORTED,
             "a FIFO, read-only");
    refused (P ("fifo"), 0, VDK_E_UNSUPPORTED, "a FIFO, read-write");
    refused (P ("fifo"), VDK_IO_ALLOW_DEVICE, VDK_E_UNSUPPORTED,
             "a FIFO even where devices are allowed");
  }
  alarm (0);
  refused ("/dev/null", VDK_IO_READONLY, VDK_E_ACCESS_DENIED,
           "a character device");
  if (ok (symlink ("/dev/zero", P ("zero")) == 0, "symlink to /dev/zero"))
    refused (P ("zero"), VDK_IO_READONLY, VDK_E_ACCESS_DENIED,
             "a symlink to /dev/zero");
  refused (dir, VDK_IO_READONLY, VDK_E_UNSUPPORTED, "a folder");
  io = vdk__io_open ("/dev/null", VDK_IO_READONLY | VDK_IO_ALLOW_DEVICE);
  ok (io != NULL, "a character device where devices are allowed opens");
  vdk__io_close (io);
  io = vdk__io_open (P ("g.vmdk"), VDK_IO_READONLY);
  ok (io != NULL, "a regular file opens");
  vdk__io_close (io);
}

int
main (void)
{
  if (tmpdir_make ("vdk-io") == -1) {
    printf ("Bail out! no temporary folder\n");
    return 1;
  }
  vdk_init (NULL, NULL, NULL);
  test_registry ();
  test_guest_view ();
  test_block_status ();
  test_rename_fault ();
  test_replace ();
  test_file_types ();
  tmpdir_remove ();
  return tap_done ();
}
