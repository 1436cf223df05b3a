/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: every vdk_error code a local disk can produce, each made
 * by a real condition (a missing file, a changed parent, a second
 * writer, ...), with its errno and the name of the public call that
 * failed.  Also: a public call the library makes inside another one
 * (vdk_clone -> vdk_create) does not rename the error, the message never
 * carries a call name, and an error raised in a worker thread keeps its
 * code.
 *
 * Not produced here: the connection codes (AUTH, CONNECT,
 * CONNECTION_LOST, NOT_SUPPORTED_BY_TRANSPORT: they come with remote
 * disks).  VDK_E_IO comes from the io layer's fault hook, which fails
 * the real pread path with EIO; VDK_E_NO_MEMORY from a child process
 * whose address space is capped (skipped under sanitizers and valgrind,
 * which manage address space themselves). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "vdk.h"
#include "io/io.h"

#include "../tmpdir.h"

/* The thread's error is `code` with errno `errnum`, from `call`, and
 * the message names `file` (when given) but no vdk_ call. */
static void
expect (const char *what, int code, int errnum, const char *call,
        const char *file)
{
  const char *msg = vdk_last_error ();
  diag ("%s: %s: %s", what, vdk_last_error_call (), msg);
  is_int (vdk_last_error_code (), code, "%s: code %s", what,
          vdk_error_text (code));
  is_int (vdk_last_errno (), errnum, "%s: errno %s", what,
          strerror (errnum));
  is_str (vdk_last_error_call (), call, "%s: call", what);
  ok (strncmp (msg, "vdk_", 4) != 0 && !strstr (msg, ": vdk_"),
      "%s: message names no call", what);
  if (file)
    ok (strstr (msg, file) != NULL, "%s: message names %s", what, file);
}

static void
make_disk (const char *name, int type, uint64_t capacity, char fill)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  uint8_t buf[65536];
  vdk_disk *d;

  p.type = type;
  p.capacity = capacity;
  ok (vdk_create (P (name), &p) == 0, "create %s", name);
  memset (buf, fill, sizeof buf);
  d = vdk_open (P (name), 0);
  ok (d && vdk_pwrite (d, buf, sizeof buf, 0) == 0 && vdk_close (d) == 0,
      "fill %s", name);
}

static int
poke32 (const char *name, off_t off, uint32_t v)
{
  uint8_t b[4] = { v, v >> 8, v >> 16, v >> 24 };
  int fd = open (P (name), O_WRONLY);
  int r = fd >= 0 && pwrite (fd, b, 4, off) == 4 ? 0 : -1;
  if (fd >= 0)
    close (fd);
  return r;
}

static uint32_t
peek32 (const char *name, off_t off)
{
  uint8_t b[4] = { 0 };
  int fd = open (P (name), O_RDONLY);
  if (fd >= 0 && pread (fd, b, 4, off) != 4)
    memset (b, 0, 4);
  if (fd >= 0)
    close (fd);
  return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t) b[3] << 24;
}

static void
test_texts (void)
{
  int distinct = 1;
  for (int c = 0; c <= VDK_E_ACCESS_DENIED; c++)
    for (int k = 0; k < c; k++)
      if (strcmp (vdk_error_text (c), vdk_error_text (k)) == 0)
        distinct = 0;
  ok (distinct, "every code has its own text");
  is_str (vdk_error_text (VDK_E_CID_MISMATCH),
          "CID mismatch: the parent changed after the child was made",
          "text of CID_MISMATCH");
  is_str (vdk_error_text (-1), "unknown error code", "unknown code");
  is_str (vdk_error_text (1000), "unknown error code", "code too large");
}

static void
test_files (void)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  vdk_disk *d = vdk_open (P ("nothere.vmdk"), 0);

  ok (d == NULL, "open of a missing file fails");
  expect ("missing file", VDK_E_NOT_FOUND, ENOENT, "vdk_open",
          "nothere.vmdk");
  p.capacity = 1 << 20;
  ok (vdk_create (P ("a.vmdk"), &p) == 0, "create a.vmdk");
  ok (vdk_create (P ("a.vmdk"), &p) == -1, "create over a file fails");
  expect ("existing file", VDK_E_EXISTS, EEXIST, "vdk_create", "a.vmdk");
  p.capacity = 1000;
  ok (vdk_create (P ("odd.vmdk"), &p) == -1, "create of 1000 bytes fails");
  expect ("bad capacity", VDK_E_INVALID_ARG, EINVAL, "vdk_create",
          "odd.vmdk");
  ok (vdk_open ("", 0) == NULL, "open of \"\" fails");
  expect ("empty name", VDK_E_INVALID_ARG, EINVAL, "vdk_open", NULL);
  d = vdk_open (P ("a.vmdk"), 0);
  ok (d != NULL, "a successful call clears the error");
  is_int (vdk_last_error_code (), VDK_E_OK, "no code after success");
  is_str (vdk_last_error_call (), "", "no call after success");
  vdk_close (d);
}

static void
test_headers (void)
{
  make_disk ("bad.vmdk", VDK_TYPE_MONOLITHIC_SPARSE, 1 << 20, 'c');
  ok (poke32 ("bad.vmdk", 44, 0) == 0, "numGTEsPerGT = 0");
  ok (vdk_open (P ("bad.vmdk"), 0) == NULL, "open of a damaged header");
  expect ("corrupt header", VDK_E_CORRUPT, EUCLEAN, "vdk_open", "bad.vmdk");

  make_disk ("v9.vmdk", VDK_TYPE_MONOLITHIC_SPARSE, 1 << 20, 'v');
  ok (poke32 ("v9.vmdk", 4, 9) == 0, "sparse version 9");
  ok (vdk_open (P ("v9.vmdk"), 0) == NULL, "open of version 9");
  expect ("unsupported version", VDK_E_UNSUPPORTED, ENOTSUP, "vdk_open",
          "v9.vmdk");

  FILE *f = fopen (P ("d9.vmdk"), "w");
  ok (f && fputs ("# Disk DescriptorFile\nversion=9\nCID=fffffffe\n"
                  "parentCID=ffffffff\ncreateType=\"monolithicFlat\"\n"
                  "RW 2048 FLAT \"a-flat.vmdk\" 0\n", f) >= 0
      && fclose (f) == 0, "descriptor of version 9");
  ok (vdk_open (P ("d9.vmdk"), 0) == NULL, "open of descriptor version 9");
  expect ("unsupported descriptor", VDK_E_UNSUPPORTED, ENOTSUP, "vdk_open",
          "d9.vmdk");
}

static void
test_chains (void)
{
  uint8_t buf[512] = { 'Z' };
  vdk_disk *d;

  make_disk ("base.vmdk", VDK_TYPE_MONOLITHIC_SPARSE, 1 << 20, 'b');
  ok (vdk_create_child_path (P ("base.vmdk"), P ("child.vmdk"),
                              VDK_TYPE_DEFAULT, 0) == 0,
      "child of base");
  d = vdk_open (P ("base.vmdk"), VDK_OPEN_SINGLE_LINK);
  ok (d && vdk_pwrite (d, buf, 512, 4096) == 0 && vdk_close (d) == 0,
      "change the base behind the child's back");
  ok (vdk_open (P ("child.vmdk"), 0) == NULL, "open of the child fails");
  expect ("CID mismatch", VDK_E_CID_MISMATCH, EUCLEAN, "vdk_open",
          "child.vmdk");

  make_disk ("gone.vmdk", VDK_TYPE_MONOLITHIC_SPARSE, 1 << 20, 'g');
  ok (vdk_create_child_path (P ("gone.vmdk"), P ("orphan.vmdk"),
                              VDK_TYPE_DEFAULT, 0) == 0,
      "child of gone");
  ok (rename (P ("gone.vmdk"), P ("moved.vmdk")) == 0, "parent moves away");
  ok (vdk_open (P ("orphan.vmdk"), 0) == NULL, "open of the orphan fails");
  expect ("missing parent", VDK_E_PARTIAL_CHAIN, ENOENT, "vdk_open",
          "gone.vmdk");

  ok (mkdir (P ("other"), 0755) == 0, "another folder");
  ok (vdk_create_child_path (P ("moved.vmdk"), P ("other/kid.vmdk"),
                              VDK_TYPE_DEFAULT, 0)
      == 0, "child in another folder");
  ok (vdk_open (P ("other/kid.vmdk"), 0) == NULL, "escaping hint refused");
  expect ("path outside the folder", VDK_E_ACCESS_DENIED, EPERM, "vdk_open",
          "kid.vmdk");
}

static void
test_handles (void)
{
  uint8_t buf[512] = { 0 };
  char *value = NULL;
  vdk_disk *d = vdk_open (P ("a.vmdk"), 0), *d2;

  ok (d != NULL, "first writer");
  ok ((d2 = vdk_open (P ("a.vmdk"), 0)) == NULL, "second writer refused");
  expect ("second writer", VDK_E_LOCKED, EBUSY, "vdk_open", "a.vmdk");
  vdk_close (d2);
  ok (vdk_pread (d, buf, 512, 1 << 20) == -1, "read past the end fails");
  expect ("out of range", VDK_E_OUT_OF_RANGE, EINVAL, "vdk_pread",
          "a.vmdk");
  ok (vdk_meta_get (d, "noSuchKey", &value) == -1 && !value,
      "absent key fails");
  expect ("absent key", VDK_E_KEY_NOT_FOUND, ENODATA, "vdk_meta_get",
          "noSuchKey");
  vdk_close (d);

  d = vdk_open (P ("a.vmdk"), VDK_OPEN_READ_ONLY);
  ok (d && vdk_pwrite (d, buf, 512, 0) == -1, "write to a read-only open");
  expect ("read-only", VDK_E_READ_ONLY, EROFS, "vdk_pwrite", "a.vmdk");
  ok (vdk_meta_set (d, "comment", "x") == -1, "meta set read-only");
  expect ("read-only meta", VDK_E_READ_ONLY, EROFS, "vdk_meta_set",
          "a.vmdk");
  vdk_close (d);
}

static int
fail_reads (struct vdk_io *io, const char *path, int op, uint64_t off,
            size_t n)
{
  (void) io, (void) path, (void) off, (void) n;
  return op == 'r' ? EIO : 0;
}

static void
test_io (void)
{
  uint8_t buf[512];
  vdk_disk *d = vdk_open (P ("a.vmdk"), VDK_OPEN_READ_ONLY);

  vdk__io_fault_hook = fail_reads;
  ok (d && vdk_pread (d, buf, 512, 0) == -1, "read with a failing host");
  vdk__io_fault_hook = NULL;
  expect ("I/O error", VDK_E_IO, EIO, "vdk_pread", "a.vmdk");
  vdk_close (d);
}

static int
cancel_at_half (void *opaque, uint64_t done, uint64_t total)
{
  (void) opaque;
  return done * 2 >= total;
}

static void
test_clone (void)
{
  struct vdk_clone_params cp = VDK_CLONE_PARAMS_INIT;
  struct stat st;
  vdk_disk *src;

  make_disk ("big.vmdk", VDK_TYPE_MONOLITHIC_SPARSE, 64 << 20, 's');
  src = vdk_open (P ("big.vmdk"), VDK_OPEN_READ_ONLY);
  ok (src != NULL, "clone source");

  /* vdk_clone calls vdk_create: the error stays vdk_clone's. */
  ok (vdk_clone (src, P ("a.vmdk"), &cp) == -1, "clone onto a file");
  expect ("clone onto a file", VDK_E_EXISTS, EEXIST, "vdk_clone", "a.vmdk");

  cp.progress = cancel_at_half;
  cp.type = VDK_TYPE_MONOLITHIC_FLAT;
  ok (vdk_clone (src, P ("cancel.vmdk"), &cp) == -1, "clone cancelled");
  expect ("cancel", VDK_E_CANCELLED, ECANCELED, "vdk_clone", NULL);
  ok (stat (P ("cancel.vmdk"), &st) == -1, "a cancelled clone leaves no "
      "file");
  vdk_close (src);

  /* A grain table entry past the end of the file: the clone's worker
   * threads meet it, and the calling thread reports their error. */
  uint32_t gd = peek32 ("big.vmdk", 56), gt = peek32 ("big.vmdk", gd * 512);
  ok (gt && poke32 ("big.vmdk", (off_t) gt * 512, 0x7fffff00) == 0,
      "first grain points past the end");
  src = vdk_open (P ("big.vmdk"), VDK_OPEN_READ_ONLY);
  cp.progress = NULL;
  ok (src && vdk_clone (src, P ("torn.vmdk"), &cp) == -1,
      "clone of a damaged grain table");
  expect ("worker error", VDK_E_CORRUPT, EUCLEAN, "vdk_clone", "big.vmdk");
  vdk_close (src);
}

/* ENOSPC from a real full file system: a 1 MiB tmpfs (needs root). */
static void
test_no_space (void)
{
  struct vdk_create_params p = VDK_CREATE_PARAMS_INIT;
  static uint8_t buf[1 << 20];
  const char *call = "vdk_pwrite";
  vdk_disk *d;
  int r = 0;

  if (geteuid () != 0 || mkdir (P ("small"), 0755) == -1
      || mount ("vdk-test", P ("small"), "tmpfs", 0, "size=1m") == -1) {
    ok (1, "# SKIP no space: mounting a small tmpfs needs root");
    return;
  }
  p.capacity = 16 << 20;
  memset (buf, 'n', sizeof buf);
  ok (vdk_create (P ("small/full.vmdk"), &p) == 0, "create on the tmpfs");
  d = vdk_open (P ("small/full.vmdk"), 0);
  for (int i = 0; d && r == 0 && i < 4; i++)
    r = vdk_pwrite (d, buf, sizeof buf, (uint64_t) i << 20);
  if (r == 0)
    call = "vdk_flush", r = vdk_flush (d);
  ok (r == -1, "writing 4 MiB into 1 MiB fails");
  expect ("no space", VDK_E_NO_SPACE, ENOSPC, call, "full.vmdk");
  vdk_close (d);
  umount2 (P ("small"), MNT_DETACH);
}

static bool
under_checker (void)
{
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define VDK_TEST_SANITIZED 1          /* clang's way of saying it */
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) \
  || defined(VDK_TEST_SANITIZED)
  return true;
#else
  char line[512];
  bool vg = false;
  FILE *f = fopen ("/proc/self/maps", "r");
  while (f && fgets (line, sizeof line, f))
    vg |= strstr (line, "vgpreload") != NULL;
  if (f)
    fclose (f);
  return vg;
#endif
}

static uint64_t
vm_size (void)
{
  char line[256];
  unsigned long long kb = 0;
  FILE *f = fopen ("/proc/self/status", "r");
  while (f && fgets (line, sizeof line, f))
    if (sscanf (line, "VmSize: %llu kB", &kb) == 1)
      break;
  if (f)
    fclose (f);
  return (uint64_t) kb * 1024;
}

/* The child caps its address space 2 MiB above what it uses; vdk_clone
 * then cannot get its 16 MiB of copy buffers.  Exit 0 if the error is
 * NO_MEMORY / ENOMEM from vdk_clone. */
static void
oom_child (void)
{
  struct vdk_clone_params cp = VDK_CLONE_PARAMS_INIT;
  vdk_disk *src = vdk_open (P ("a.vmdk"), VDK_OPEN_READ_ONLY);
  uint64_t cap = vm_size () + (2u << 20);
  struct rlimit rl = { cap, cap };
  int r;

  if (!src || !cap || setrlimit (RLIMIT_AS, &rl) == -1)
    _exit (100);
  r = vdk_clone (src, P ("oom.vmdk"), &cp);
  diag ("out of memory: %s: %s", vdk_last_error_call (), vdk_last_error ());
  fflush (stdout);
  _exit (r == -1 && vdk_last_error_code () == VDK_E_NO_MEMORY
         && vdk_last_errno () == ENOMEM
         && strcmp (vdk_last_error_call (), "vdk_clone") == 0 ? 0 : 1);
}

static void
test_no_memory (void)
{
  int status = -1;
  pid_t pid;

  if (under_checker ()) {
    ok (1, "# SKIP out of memory: sanitizers and valgrind manage address "
        "space themselves");
    return;
  }
  fflush (stdout);
  if ((pid = fork ()) == 0)
    oom_child ();
  if (pid > 0 && waitpid (pid, &status, 0) != pid)
    status = -1;
  ok (pid > 0 && WIFEXITED (status) && WEXITSTATUS (status) == 0,
      "out of memory: code NO_MEMORY, errno ENOMEM, call vdk_clone "
      "(child status %d)", status);
}

int
main (void)
{
  if (tmpdir_make ("vdk-errors") == -1)
    return 1;
  test_texts ();
  test_files ();
  test_headers ();
  test_chains ();
  test_handles ();
  test_io ();
  test_clone ();
  test_no_space ();
  test_no_memory ();
  tmpdir_remove ();
  return tap_done ();
}
