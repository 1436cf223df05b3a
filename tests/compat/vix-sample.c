/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vix-sample.c - what VMware's vixDiskLibSample does, written only
 * against compat/vixDiskLib.h, run against vdk's libvixDiskLib.
 *
 *   vix-sample                  linked against libvixDiskLib.so.8
 *   vix-sample-dl LIBDIR        the same program, built with VIX_DLOPEN:
 *                               it loads LIBDIR/lib64/libvixDiskLib.so.N
 *                               (N = 8, 7, 6) with dlopen and finds every
 *                               call with dlsym by name, as third-party
 *                               consumers (nbdkit's vddk plugin) do
 *   vix-sample --remote SERVER PORT USER KEY EXPORT [TICKET]
 *                               the remote part only: ConnectEx with a
 *                               server name against `vdk serve` (TLS-PSK
 *                               identity USER, hex KEY), the disk EXPORT
 *                               ("[datastore] path") and a ticket
 *
 * Output is TAP.  Each check compares a VixError with the exact code a
 * VDDK program would see, or data read back with what was written. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef VIX_DLOPEN
#include <dlfcn.h>
#endif

#include "tap.h"
#include "../tmpdir.h"
#include "vixDiskLib.h"

/* ---- calls, direct or through dlsym ------------------------------------ */

#define VIX_CALLS(X) \
  X (InitEx) X (Exit) X (ListTransportModes) X (Cleanup) \
  X (AllocateConnectParams) X (FreeConnectParams) X (GetConnectParams) \
  X (Connect) X (ConnectEx) X (Disconnect) X (PrepareForAccess) \
  X (EndAccess) X (Create) X (CreateChild) X (Open) X (Close) X (GetInfo) \
  X (FreeInfo) X (GetTransportMode) X (Read) X (Write) X (ReadAsync) \
  X (WriteAsync) X (Wait) X (Flush) X (ReadMetadata) X (WriteMetadata) \
  X (GetMetadataKeys) X (Grow) X (Shrink) X (Defragment) X (Rename) \
  X (Unlink) X (Clone) X (SpaceNeededForClone) X (IsAttachPossible) \
  X (Attach) X (CheckRepair) X (QueryAllocatedBlocks) X (FreeBlockList) \
  X (GetErrorText) X (FreeErrorText) X (Init)

#ifdef VIX_DLOPEN
#define DECLARE(n) static __typeof__ (VixDiskLib_##n) *vix_##n;
VIX_CALLS (DECLARE)
#define VIX(n) vix_##n

static int
load (const char *libdir)
{
  static const char *const versions[] = { "8", "7", "6" };
  char path[4096];
  void *dl = NULL;

  for (size_t i = 0; !dl && i < 3; i++) {
    snprintf (path, sizeof path, "%s/lib64/libvixDiskLib.so.%s", libdir,
              versions[i]);
    dl = dlopen (path, RTLD_NOW);
  }
  if (!ok (dl != NULL, "dlopen %s/lib64/libvixDiskLib.so.N", libdir)) {
    diag ("%s", dlerror ());
    return -1;
  }
  int missing = 0;
#define LOAD(n)                                                         \
  vix_##n = (__typeof__ (vix_##n)) dlsym (dl, "VixDiskLib_" #n);        \
  if (!vix_##n) { diag ("no symbol VixDiskLib_" #n); missing++; }
  VIX_CALLS (LOAD)
  ok (missing == 0, "dlsym finds every VixDiskLib call by name");
  return missing ? -1 : 0;
}
#else
#define VIX(n) VixDiskLib_##n
#endif

/* ---- helpers ---------------------------------------------------------- */

#define CAP 16384 /* sectors: 8 MiB */

static int log_calls;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void
logger (const char *fmt, va_list ap)
{
  (void) fmt;
  (void) ap;
  pthread_mutex_lock (&log_lock);
  log_calls++;
  pthread_mutex_unlock (&log_lock);
}

#define is_vix(got, want, ...) is_int (VIX_ERROR_CODE (got), want, __VA_ARGS__)

static void
fill (uint8 *buf, size_t n, unsigned seed)
{
  for (size_t i = 0; i < n; i++)
    buf[i] = (uint8) (seed * 131 + i * 7 + (i >> 9));
}

static int last_pct = -1;
static Bool
progress (void *data, int pct)
{
  (void) data;
  __atomic_store_n (&last_pct, pct, __ATOMIC_RELAXED); /* threads too */
  return TRUE;
}

/* The error text of `err` contains `part`. */
static void
text_has (VixError err, const char *part, const char *what)
{
  char *t = VIX (GetErrorText) (err, NULL);
  ok (t && strstr (t, part) != NULL, "%s: error text names %s", what, part);
  if (t)
    diag ("%s", t);
  VIX (FreeErrorText) (t);
}

static VixError
create (VixDiskLibConnection c, const char *name, VixDiskLibDiskType type,
        VixDiskLibSectorType cap)
{
  VixDiskLibCreateParams p;
  char path[300]; /* not P (): threads create disks too */
  snprintf (path, sizeof path, "%s/%s", dir, name);
  memset (&p, 0, sizeof p);
  p.diskType = type;
  p.adapterType = VIXDISKLIB_ADAPTER_SCSI_LSILOGIC;
  p.hwVersion = VIXDISKLIB_HWVERSION_ESX4X;
  p.capacity = cap;
  return VIX (Create) (c, path, &p, progress, NULL);
}

/* ---- every disk type ------------------------------------------------- */

static void
each_type (VixDiskLibConnection c)
{
  static const VixDiskLibDiskType types[] = {
    VIXDISKLIB_DISK_MONOLITHIC_SPARSE, VIXDISKLIB_DISK_MONOLITHIC_FLAT,
    VIXDISKLIB_DISK_SPLIT_SPARSE, VIXDISKLIB_DISK_SPLIT_FLAT,
    VIXDISKLIB_DISK_VMFS_FLAT, VIXDISKLIB_DISK_STREAM_OPTIMIZED,
    VIXDISKLIB_DISK_VMFS_THIN,
  };
  static uint8 w[64 * 512], r[64 * 512];

  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    char name[64];
    VixDiskLibHandle h;
    VixDiskLibInfo *info = NULL;
    int stream = types[i] == VIXDISKLIB_DISK_STREAM_OPTIMIZED;

    snprintf (name, sizeof name, "type%d.vmdk", (int) types[i]);
    last_pct = -1;
    is_vix (create (c, name, types[i], CAP), VIX_OK, "Create type %d", (int) types[i]);
    is_int (last_pct, 100, "type %d: progress ends at 100", (int) types[i]);
    if (!ok (VIX (Open) (c, P (name), stream ? VIXDISKLIB_FLAG_OPEN_READ_ONLY : 0,
                         &h) == VIX_OK, "Open type %d", (int) types[i]))
      continue;
    if (VIX (GetInfo) (h, &info) == VIX_OK) {
      is_int (info->capacity, CAP, "type %d: capacity", (int) types[i]);
      is_int (info->adapterType, VIXDISKLIB_ADAPTER_SCSI_LSILOGIC,
              "type %d: adapter comes back as LSILOGIC", (int) types[i]);
      is_int (info->numLinks, 1, "type %d: one link", (int) types[i]);
      is_int (info->logicalSectorSize, 512, "type %d: logical sector",
              (int) types[i]);
      ok (info->parentFileNameHint == NULL, "type %d: no parent",
          (int) types[i]);
      VIX (FreeInfo) (info);
    } else
      ok (0, "GetInfo type %d", (int) types[i]);
    if (!stream) {
      fill (w, sizeof w, (unsigned) i);
      is_vix (VIX (Write) (h, 1000, 64, w), VIX_OK, "type %d: Write", (int) types[i]);
      is_vix (VIX (Read) (h, 1000, 64, r), VIX_OK, "type %d: Read", (int) types[i]);
      ok (memcmp (w, r, sizeof w) == 0, "type %d: read back what was written",
          (int) types[i]);
    } else {
      memset (r, 1, sizeof r);
      is_vix (VIX (Read) (h, 0, 64, r), VIX_OK, "stream: Read");
      ok (r[0] == 0 && r[sizeof r - 1] == 0, "stream: an empty disk reads zeroes");
    }
    is_vix (VIX (Close) (h), VIX_OK, "Close type %d", (int) types[i]);
  }
}

/* ---- sector sizes: the 7.0 fields of the create parameters ------------ */

static void
sector_sizes (VixDiskLibConnection c)
{
  VixDiskLibCreateParams p;
  VixDiskLibHandle h;
  VixDiskLibInfo *info;

  memset (&p, 0, sizeof p);
  p.diskType = VIXDISKLIB_DISK_MONOLITHIC_SPARSE;
  p.adapterType = VIXDISKLIB_ADAPTER_IDE;
  p.hwVersion = VIXDISKLIB_HWVERSION_WORKSTATION_5;
  p.capacity = CAP;
  p.logicalSectorSize = 4096;
#ifdef VIX_DLOPEN
  /* InitEx said 6.5, as nbdkit does: a 6.x program's struct ends at
   * capacity, so whatever lies beyond is not read. */
  is_vix (VIX (Create) (c, P ("ss.vmdk"), &p, NULL, NULL), VIX_OK,
          "a 6.5 caller's struct: the sector-size fields are not read");
#else
  is_vix (VIX (Create) (c, P ("ss.vmdk"), &p, NULL, NULL),
          VIX_E_HOST_DISK_SECTORSIZE, "4096-byte logical sectors refused");
  p.logicalSectorSize = 512;
  p.physicalSectorSize = 4096;
  is_vix (VIX (Create) (c, P ("ss.vmdk"), &p, NULL, NULL), VIX_OK,
          "a 512e disk (physical 4096)");
#endif
  if (VIX (Open) (c, P ("ss.vmdk"), VIXDISKLIB_FLAG_OPEN_READ_ONLY, &h)
      != VIX_OK) {
    ok (0, "Open ss.vmdk");
    return;
  }
  VIX (GetInfo) (h, &info);
  is_int (info->logicalSectorSize, 512, "logicalSectorSize 512");
#ifdef VIX_DLOPEN
  is_int (info->physicalSectorSize, 512, "physicalSectorSize 512");
#else
  is_int (info->physicalSectorSize, 4096, "physicalSectorSize 4096");
#endif
  is_int (info->adapterType, VIXDISKLIB_ADAPTER_IDE, "adapter IDE");
  VIX (FreeInfo) (info);
  VIX (Close) (h);
}

/* ---- open flags, metadata, allocated blocks --------------------------- */

static void
flags_and_metadata (VixDiskLibConnection c)
{
  VixDiskLibHandle h, h2;
  static uint8 buf[128 * 512];
  char val[64], keys[4096];
  size_t need = 0;

  is_vix (create (c, "meta.vmdk", VIXDISKLIB_DISK_MONOLITHIC_SPARSE, CAP),
          VIX_OK, "Create meta.vmdk");
  /* READ_ONLY is VDDK bit 4 (vdk's UNBUFFERED): a cast would open it
   * read-write. */
  is_vix (VIX (Open) (c, P ("meta.vmdk"), VIXDISKLIB_FLAG_OPEN_READ_ONLY, &h),
          VIX_OK, "Open READ_ONLY");
  is_vix (VIX (Write) (h, 0, 1, buf), VIX_E_FILE_READ_ONLY,
          "Write through a READ_ONLY handle");
  is_vix (VIX (Open) (c, P ("meta.vmdk"), VIXDISKLIB_FLAG_OPEN_READ_ONLY, &h2),
          VIX_OK, "two READ_ONLY opens share the disk");
  VIX (Close) (h2);
  VIX (Close) (h);
  is_vix (VIX (Open) (c, P ("meta.vmdk"), 0x100, &h), VIX_E_INVALID_ARG,
          "an unknown open flag is refused");
  is_vix (VIX (Open) (c, P ("meta.vmdk"), VIXDISKLIB_FLAG_OPEN_UNBUFFERED
                      | VIXDISKLIB_FLAG_OPEN_COMPRESSION_ZLIB, &h),
          VIX_OK, "Open UNBUFFERED with a compression flag");
  is_vix (VIX (Write) (h, 0, 1, buf), VIX_OK, "UNBUFFERED is writable");
  is_vix (VIX (Open) (c, P ("meta.vmdk"), 0, &h2), VIX_E_FILE_ALREADY_LOCKED,
          "a second writer is refused (locked)");
  text_has (VIX_E_FILE_ALREADY_LOCKED, "meta.vmdk", "locked");
  is_str (VIX (GetTransportMode) (h), "file", "GetTransportMode");

  /* Buffer protocol. */
  is_vix (VIX (ReadMetadata) (h, "adapterType", NULL, 0, &need),
          VIX_E_BUFFER_TOOSMALL, "ReadMetadata with no buffer");
  is_int (need, strlen ("lsilogic") + 1, "required length counts the NUL");
  memset (val, 'x', sizeof val);
  is_vix (VIX (ReadMetadata) (h, "adapterType", val, need - 1, &need),
          VIX_E_BUFFER_TOOSMALL, "ReadMetadata one byte short");
  ok (val[0] == 'x', "a too-small buffer is left untouched");
  is_vix (VIX (ReadMetadata) (h, "adapterType", val, need, &need), VIX_OK,
          "ReadMetadata with the required length");
  is_str (val, "lsilogic", "adapterType value");
  is_vix (VIX (WriteMetadata) (h, "vdkSample", "hello"), VIX_OK,
          "WriteMetadata adds a key");
  is_vix (VIX (ReadMetadata) (h, "vdkSample", val, sizeof val, &need), VIX_OK,
          "ReadMetadata of the new key");
  is_str (val, "hello", "the new key's value");
  is_vix (VIX (WriteMetadata) (h, "vdkSample", ""), VIX_OK,
          "a key can be emptied");
  is_vix (VIX (ReadMetadata) (h, "noSuchKey", val, sizeof val, &need),
          VIX_E_DISK_KEY_NOTFOUND, "ReadMetadata of a missing key");
  is_vix (VIX (GetMetadataKeys) (h, NULL, 0, &need), VIX_E_BUFFER_TOOSMALL,
          "GetMetadataKeys with no buffer");
  ok (need > 1 && need < sizeof keys, "GetMetadataKeys required length %zu",
      need);
  is_vix (VIX (GetMetadataKeys) (h, keys, need, NULL), VIX_OK,
          "GetMetadataKeys");
  {
    int adapter = 0, sample = 0, prefixed = 0;
    size_t total = 1;
    for (const char *k = keys; *k; k += strlen (k) + 1) {
      adapter |= strcmp (k, "adapterType") == 0;
      sample |= strcmp (k, "vdkSample") == 0;
      prefixed |= strncmp (k, "ddb.", 4) == 0;
      total += strlen (k) + 1;
    }
    ok (adapter && sample, "keys include adapterType and vdkSample");
    ok (!prefixed, "keys come without the ddb. prefix");
    is_int (total, need, "keys + final NUL fill the required length");
  }

  /* Allocated blocks: one chunk written at sector 384. */
  VixDiskLibBlockList *bl = NULL;
  fill (buf, 512, 9);
  is_vix (VIX (Write) (h, 400, 1, buf), VIX_OK, "Write sector 400");
  is_vix (VIX (QueryAllocatedBlocks) (h, 256, 1024, 128, &bl), VIX_OK,
          "QueryAllocatedBlocks");
  if (bl) {
    is_int (bl->numBlocks, 1, "one allocated chunk");
    is_int (bl->blocks[0].offset, 384, "at sector 384");
    is_int (bl->blocks[0].length, 128, "128 sectors long");
    is_vix (VIX (FreeBlockList) (bl), VIX_OK, "FreeBlockList");
  }
  is_vix (VIX (QueryAllocatedBlocks) (h, 0, 1024, 64, &bl), VIX_E_INVALID_ARG,
          "a chunk under 128 sectors is refused");
  is_vix (VIX (QueryAllocatedBlocks) (h, 0, CAP + 128, 128, &bl),
          VIX_E_INVALID_ARG, "a range past the end is refused");
  is_vix (VIX (Read) (h, CAP - 1, 2, buf), VIX_E_DISK_OUTOFRANGE,
          "Read past the end");
  VIX (Close) (h);
}

/* ---- asynchronous I/O ------------------------------------------------ */

struct done {
  pthread_mutex_t lock;
  int n, failed;
  VixError last;
};

static void
on_done (void *data, VixError result)
{
  struct done *d = data;
  pthread_mutex_lock (&d->lock);
  d->n++;
  if (result != VIX_OK) {
    d->failed++;
    d->last = result;
  }
  pthread_mutex_unlock (&d->lock);
}

static void
async_io (VixDiskLibConnection c)
{
  static uint8 w[16][32 * 512], r[16][32 * 512];
  struct done d = { PTHREAD_MUTEX_INITIALIZER, 0, 0, VIX_OK };
  VixDiskLibHandle h;
  int queued = 0, same = 1;

  is_vix (create (c, "async.vmdk", VIXDISKLIB_DISK_MONOLITHIC_SPARSE, CAP),
          VIX_OK, "Create async.vmdk");
  if (VIX (Open) (c, P ("async.vmdk"), 0, &h) != VIX_OK) {
    ok (0, "Open async.vmdk");
    return;
  }
  for (int i = 0; i < 16; i++) {
    fill (w[i], sizeof w[i], 100 + (unsigned) i);
    queued += VIX (WriteAsync) (h, (uint64) i * 64, 32, w[i], on_done, &d)
              == VIX_ASYNC;
  }
  is_int (queued, 16, "WriteAsync returns VIX_ASYNC");
  is_vix (VIX (Wait) (h), VIX_OK, "Wait after the writes");
  is_int (d.n, 16, "every write completed before Wait returned");
  is_int (d.failed, 0, "no write failed");
  d.n = 0;
  for (int i = 0; i < 16; i++)
    VIX (ReadAsync) (h, (uint64) i * 64, 32, r[i], on_done, &d);
  is_vix (VIX (Wait) (h), VIX_OK, "Wait after the reads");
  for (int i = 0; i < 16; i++)
    same &= memcmp (w[i], r[i], sizeof w[i]) == 0;
  ok (d.n == 16 && same, "ReadAsync reads back every write");
  d.n = 0;
  is_int (VIX (ReadAsync) (h, CAP - 1, 2, r[0], on_done, &d), VIX_ASYNC,
          "ReadAsync past the end is queued");
  ok (VIX (Wait) (h) != VIX_OK, "Wait reports the failed request");
  is_int (d.failed, 1, "the callback saw the failure");
  is_int (VIX_ERROR_CODE (d.last), VIX_E_DISK_OUTOFRANGE,
          "with VIX_E_DISK_OUTOFRANGE");
  is_vix (VIX (Flush) (h), VIX_OK, "Flush");
  VIX (Close) (h);
}

/* ---- chains: child, clone, chain errors --------------------------------- */

static int
same_content (VixDiskLibConnection c, const char *a, const char *b)
{
  static uint8 x[256 * 512], y[256 * 512];
  VixDiskLibHandle ha, hb;
  int same = 1;

  if (VIX (Open) (c, a, VIXDISKLIB_FLAG_OPEN_READ_ONLY, &ha) != VIX_OK)
    return 0;
  if (VIX (Open) (c, b, VIXDISKLIB_FLAG_OPEN_READ_ONLY, &hb) != VIX_OK) {
    VIX (Close) (ha);
    return 0;
  }
  for (uint64 s = 0; same && s < CAP; s += 256)
    same = VIX (Read) (ha, s, 256, x) == VIX_OK
           && VIX (Read) (hb, s, 256, y) == VIX_OK
           && memcmp (x, y, sizeof x) == 0;
  VIX (Close) (ha);
  VIX (Close) (hb);
  return same;
}

static void
chains (VixDiskLibConnection c)
{
  static uint8 w[8 * 512], r[8 * 512];
  VixDiskLibHandle base, child;
  VixDiskLibInfo *info;
  VixDiskLibCreateParams cp;
  uint64 need = 0;
  VixError err;

  create (c, "base.vmdk", VIXDISKLIB_DISK_MONOLITHIC_SPARSE, CAP);
  if (VIX (Open) (c, P ("base.vmdk"), 0, &base) != VIX_OK) {
    ok (0, "Open base.vmdk");
    return;
  }
  fill (w, sizeof w, 1);
  VIX (Write) (base, 0, 8, w);
  is_vix (VIX (CreateChild) (base, P ("child.vmdk"),
                             VIXDISKLIB_DISK_MONOLITHIC_SPARSE, NULL, NULL),
          VIX_OK, "CreateChild");
  is_vix (VIX (Write) (base, 0, 8, w), VIX_E_FILE_READ_ONLY,
          "the parent handle refuses writes after CreateChild");
  VIX (Close) (base);
  is_vix (VIX (Open) (c, P ("child.vmdk"), 0, &child), VIX_OK, "Open child");
  is_vix (VIX (GetInfo) (child, &info), VIX_OK, "GetInfo child");
  is_int (info->numLinks, 2, "the child's chain has two links");
  ok (info->parentFileNameHint && strstr (info->parentFileNameHint, "base.vmdk"),
      "parentFileNameHint names base.vmdk");
  VIX (FreeInfo) (info);
  is_vix (VIX (Read) (child, 0, 8, r), VIX_OK, "Read through the child");
  ok (memcmp (w, r, sizeof w) == 0, "the child reads the parent's data");
  fill (w, sizeof w, 2);
  is_vix (VIX (Write) (child, 8, 8, w), VIX_OK, "Write the child");
  is_vix (VIX (SpaceNeededForClone) (child, VIXDISKLIB_DISK_UNKNOWN, &need),
          VIX_OK, "SpaceNeededForClone");
  ok (need > 8 * 512, "space needed %llu bytes", (unsigned long long) need);
  VIX (Close) (child);

  memset (&cp, 0, sizeof cp);
  cp.diskType = VIXDISKLIB_DISK_MONOLITHIC_SPARSE;
  cp.adapterType = VIXDISKLIB_ADAPTER_UNKNOWN;
  cp.capacity = CAP;
  last_pct = -1;
  is_vix (VIX (Clone) (c, P ("clone.vmdk"), c, P ("child.vmdk"), &cp,
                       progress, NULL, FALSE), VIX_OK, "Clone the chain");
  is_int (last_pct, 100, "Clone progress reaches 100");
  ok (same_content (c, P ("clone.vmdk"), P ("child.vmdk")),
      "the clone reads as the chain");
  is_vix (VIX (Clone) (c, P ("clone.vmdk"), c, P ("base.vmdk"), &cp, NULL,
                       NULL, FALSE), VIX_E_FILE_ALREADY_EXISTS,
          "Clone onto an existing disk without overWrite");
  cp.diskType = VIXDISKLIB_DISK_STREAM_OPTIMIZED;
  is_vix (VIX (Clone) (c, P ("clone.vmdk"), c, P ("base.vmdk"), &cp, NULL,
                       NULL, TRUE), VIX_OK, "Clone with overWrite");
  ok (same_content (c, P ("clone.vmdk"), P ("base.vmdk")),
      "the overwritten clone reads as the new source");

  /* CID mismatch: the parent written behind its child's back. */
  if (VIX (Open) (c, P ("base.vmdk"), 0, &base) == VIX_OK) {
    VIX (Write) (base, 100, 8, w);
    VIX (Close) (base);
  }
  err = VIX (Open) (c, P ("child.vmdk"), 0, &child);
  is_vix (err, VIX_E_DISK_CID_MISMATCH, "Open a child whose parent changed");
  text_has (err, "child.vmdk", "CID mismatch");
  /* A missing parent. */
  rename (P ("base.vmdk"), P ("gone.vmdk"));
  err = VIX (Open) (c, P ("child.vmdk"), 0, &child);
  is_vix (err, VIX_E_DISK_PARTIALCHAIN, "Open a child whose parent is gone");
  text_has (err, "base.vmdk", "missing parent");
  is_vix (VIX (Open) (c, P ("child.vmdk"), VIXDISKLIB_FLAG_OPEN_SINGLE_LINK
                      | VIXDISKLIB_FLAG_OPEN_READ_ONLY, &child),
          VIX_OK, "SINGLE_LINK opens the child alone");
  VIX (Close) (child);
  rename (P ("gone.vmdk"), P ("base.vmdk"));
  err = VIX (Open) (c, P ("nothing.vmdk"), 0, &child);
  is_vix (err, VIX_E_FILE_NOT_FOUND, "Open a file that does not exist");
  text_has (err, "nothing.vmdk", "not found");
}

/* ---- maintenance ---------------------------------------------------- */

static void
maintenance (VixDiskLibConnection c)
{
  static uint8 w[128 * 512], r[128 * 512];
  VixDiskLibHandle h, parent, child;
  VixDiskLibInfo *info;
  struct stat st;

  create (c, "m.vmdk", VIXDISKLIB_DISK_MONOLITHIC_SPARSE, CAP);
  is_vix (VIX (Grow) (c, P ("m.vmdk"), 2 * CAP, TRUE, progress, NULL),
          VIX_OK, "Grow to twice the size");
  VIX (Open) (c, P ("m.vmdk"), 0, &h);
  VIX (GetInfo) (h, &info);
  is_int (info->capacity, 2 * CAP, "the grown capacity");
  VIX (FreeInfo) (info);
  is_vix (VIX (Grow) (c, P ("m.vmdk"), 3 * CAP, FALSE, NULL, NULL),
          VIX_E_FILE_ALREADY_LOCKED, "Grow of an open disk is refused");
  memset (w, 0, sizeof w);
  VIX (Write) (h, 0, 128, w);        /* a grain of zeroes: shrinkable */
  fill (w, sizeof w, 5);
  VIX (Write) (h, 1024, 128, w);
  VIX (Flush) (h);
  stat (P ("m.vmdk"), &st);
  off_t before = st.st_size;
  is_vix (VIX (Shrink) (h, progress, NULL), VIX_OK, "Shrink an open handle");
  stat (P ("m.vmdk"), &st);
  ok (st.st_size < before, "Shrink gave space back (%lld -> %lld)",
      (long long) before, (long long) st.st_size);
  is_vix (VIX (Read) (h, 1024, 128, r), VIX_OK, "the handle reads after Shrink");
  ok (memcmp (w, r, sizeof w) == 0, "with the data kept");
  is_vix (VIX (Defragment) (h, NULL, NULL), VIX_OK, "Defragment an open handle");
  is_vix (VIX (Read) (h, 1024, 128, r), VIX_OK, "the handle reads after Defragment");
  ok (memcmp (w, r, sizeof w) == 0, "with the data kept");
  VIX (Close) (h);
  is_vix (VIX (CheckRepair) (c, P ("m.vmdk"), FALSE), VIX_OK, "CheckRepair");
  is_vix (VIX (Rename) (P ("m.vmdk"), P ("n.vmdk")), VIX_OK, "Rename");
  ok (access (P ("m.vmdk"), F_OK) != 0 && access (P ("n.vmdk"), F_OK) == 0,
      "the disk has its new name");
  is_vix (VIX (Unlink) (c, P ("n.vmdk")), VIX_OK, "Unlink");
  ok (access (P ("n.vmdk"), F_OK) != 0, "the disk is gone");

  /* Attach: a child re-parented onto a copy of its parent. */
  create (c, "a.vmdk", VIXDISKLIB_DISK_MONOLITHIC_SPARSE, CAP);
  VIX (Open) (c, P ("a.vmdk"), 0, &h);
  VIX (Write) (h, 0, 128, w);
  VIX (CreateChild) (h, P ("a-child.vmdk"), VIXDISKLIB_DISK_MONOLITHIC_SPARSE,
                     NULL, NULL);
  VIX (Close) (h);
  VixDiskLibCreateParams cp;
  memset (&cp, 0, sizeof cp);
  cp.diskType = VIXDISKLIB_DISK_MONOLITHIC_SPARSE;
  cp.adapterType = VIXDISKLIB_ADAPTER_UNKNOWN;
  VIX (Clone) (c, P ("a2.vmdk"), c, P ("a.vmdk"), &cp, NULL, NULL, FALSE);
  VIX (Open) (c, P ("a2.vmdk"), VIXDISKLIB_FLAG_OPEN_READ_ONLY, &parent);
  VIX (Open) (c, P ("a-child.vmdk"), 0, &child);
  is_vix (VIX (IsAttachPossible) (parent, child), VIX_OK, "IsAttachPossible");
  is_vix (VIX (Attach) (child, parent), VIX_E_DISK_ATTACH_ROOTLINK,
          "a base cannot be attached as a child");
  is_vix (VIX (Attach) (parent, child), VIX_OK, "Attach");
  VIX (GetInfo) (child, &info);
  ok (info->parentFileNameHint && strstr (info->parentFileNameHint, "a2.vmdk"),
      "the child's parent is now a2.vmdk");
  VIX (FreeInfo) (info);
  is_vix (VIX (Read) (child, 0, 128, r), VIX_OK, "Read the attached chain");
  ok (memcmp (w, r, sizeof w) == 0, "it reads the new parent's data");
  is_vix (VIX (Read) (parent, 0, 1, r), VIX_E_DISK_NOIO,
          "the parent handle is spent after Attach");
  is_vix (VIX (Close) (parent), VIX_OK, "Close frees the spent handle");
  VIX (Close) (child);
}

/* ---- connections -------------------------------------------------------- */

static void
connections (void)
{
  VixDiskLibConnectParams *p = VIX (AllocateConnectParams) (), *q = NULL;
  VixDiskLibConnection c;
  char host[] = "caller-owned";
  uint32 cleaned = 7, left = 7;

  ok (p != NULL, "AllocateConnectParams");
  /* nbdkit stores its own strings in an allocated struct, then frees
   * the struct: the library must not free them. */
  p->vmxSpec = host;
  p->credType = VIXDISKLIB_CRED_UID;
  is_vix (VIX (ConnectEx) (p, TRUE, NULL, "file:san:hotadd:nbd", &c), VIX_OK,
          "ConnectEx local with a transport list");
  is_vix (VIX (GetConnectParams) (c, &q), VIX_OK, "GetConnectParams");
  ok (q && q->vmxSpec && strcmp (q->vmxSpec, host) == 0 && q->vmxSpec != host,
      "GetConnectParams returns a copy");
  VIX (FreeConnectParams) (q);
  p->vmxSpec = NULL;
  VIX (FreeConnectParams) (p);
  ok (strcmp (host, "caller-owned") == 0, "the caller's string survives");
  is_vix (VIX (PrepareForAccess) (NULL, "vix-sample"), VIX_OK,
          "PrepareForAccess");
  is_vix (VIX (EndAccess) (NULL, "vix-sample"), VIX_OK, "EndAccess");
  is_vix (VIX (Cleanup) (NULL, &cleaned, &left), VIX_OK, "Cleanup");
  is_int (left, 0, "Cleanup leaves nothing to clean");
  {
    const char *m = VIX (ListTransportModes) ();
    ok (m && strstr (m, "file") && strstr (m, "nbd"),
        "ListTransportModes lists file and nbd (%s)", m ? m : "");
  }
  /* A readOnly connection opens every disk read-only. */
  VixDiskLibHandle h;
  static uint8 b[512];
  if (VIX (Open) (c, P ("meta.vmdk"), 0, &h) == VIX_OK) {
    is_vix (VIX (Write) (h, 0, 1, b), VIX_E_FILE_READ_ONLY,
            "a readOnly connection refuses writes");
    VIX (Close) (h);
  } else
    ok (0, "Open through the readOnly connection");
  is_vix (VIX (Disconnect) (c), VIX_OK, "Disconnect");

  /* A server that is not there: Open fails with a code and a reason. */
  VixDiskLibConnectParams rp;
  char server[] = "127.0.0.1", user[] = "alice", key[] = "00ff";
  memset (&rp, 0, sizeof rp);
  rp.serverName = server;
  rp.nfcHostPort = 1;
  rp.credType = VIXDISKLIB_CRED_SESSIONID;
  is_vix (VIX (ConnectEx) (&rp, TRUE, NULL, NULL, &c), VIX_E_NOT_SUPPORTED,
          "session-cookie credentials are refused");
  rp.credType = VIXDISKLIB_CRED_UID;
  rp.creds.uid.userName = user;
  rp.creds.uid.password = key;
  is_vix (VIX (ConnectEx) (&rp, TRUE, NULL, "san:hotadd", &c),
          VIX_E_NOT_SUPPORTED, "ConnectEx with transports vdk does not offer");
  text_has (VIX_E_NOT_SUPPORTED, "nbdssl, nbd", "no transport offered");
  VixError err = VIX (ConnectEx) (&rp, TRUE, NULL, "nbd", &c);
  if (err != VIX_OK) {
    /* A libvdk without its NBD client says so at ConnectEx. */
    is_vix (err, VIX_E_NOT_SUPPORTED, "ConnectEx with a server: no client");
    text_has (err, "NBD client", "no NBD client");
    return;
  }
  err = VIX (Open) (c, "[ds1] vm/disk.vmdk", VIXDISKLIB_FLAG_OPEN_READ_ONLY,
                    &h);
  ok (err != VIX_OK && err != VIX_E_FAIL,
      "Open on a server that is not there fails with a code (%d)", (int) err);
  text_has (err, "VixDiskLib_Open", "no server");
  VIX (Disconnect) (c);
}

/* ---- threads: InitEx from a thread, Open/Close from several at once --- */

struct worker {
  VixDiskLibConnection c;
  int id;
  int good;
};

static void *
worker (void *arg)
{
  struct worker *w = arg;
  uint8 buf[16 * 512], back[16 * 512];
  char name[32];
  VixDiskLibHandle h;

  char path[300];
  snprintf (name, sizeof name, "thread%d.vmdk", w->id);
  snprintf (path, sizeof path, "%s/%s", dir, name);
  w->good = create (w->c, name, VIXDISKLIB_DISK_MONOLITHIC_SPARSE, CAP) == VIX_OK;
  for (int round = 0; w->good && round < 20; round++) {
    VixError e;
    fill (buf, sizeof buf, (unsigned) (w->id * 100 + round));
    if ((e = VIX (Open) (w->c, path, 0, &h)) != VIX_OK) {
      char *t = VIX (GetErrorText) (e, NULL);
      diag ("thread %d round %d: %s", w->id, round, t ? t : "?");
      VIX (FreeErrorText) (t);
      w->good = 0;
      break;
    }
    w->good = VIX (Write) (h, (uint64) round * 16, 16, buf) == VIX_OK
              && VIX (Read) (h, (uint64) round * 16, 16, back) == VIX_OK
              && memcmp (buf, back, sizeof buf) == 0;
    w->good &= VIX (Close) (h) == VIX_OK;
  }
  return NULL;
}

static void *
init_in_thread (void *arg)
{
  VixError *err = arg;
  *err = VIX (InitEx) (8, 0, logger, logger, logger, NULL, NULL);
  return NULL;
}

static void
threads (VixDiskLibConnection c)
{
  pthread_t t[4];
  struct worker w[4];
  VixError err = VIX_E_FAIL;
  int all = 1;

  pthread_create (&t[0], NULL, init_in_thread, &err);
  pthread_join (t[0], NULL);
  is_vix (err, VIX_OK, "InitEx from another thread (counted: Exit pairs it)");
  for (int i = 0; i < 4; i++) {
    w[i].c = c;
    w[i].id = i;
    pthread_create (&t[i], NULL, worker, &w[i]);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join (t[i], NULL);
    all &= w[i].good;
  }
  ok (all, "four threads open, write, read and close at once");
  VIX (Exit) ();
}

/* ---- remote: ConnectEx with a server name against `vdk serve` ------- */
#ifndef VIX_DLOPEN

struct remote {
  char *server, *user, *key, *exp, *ticket;
  uint32 port;
};

static VixError
remote_connect (const struct remote *r, const char *key,
                const char *transports, VixDiskLibConnection *c)
{
  VixDiskLibConnectParams *p = VIX (AllocateConnectParams) ();
  VixError err;
  p->serverName = r->server;
  p->nfcHostPort = r->port;
  p->credType = VIXDISKLIB_CRED_UID;
  p->creds.uid.userName = r->user;
  p->creds.uid.password = (char *) key;
  err = VIX (ConnectEx) (p, FALSE, NULL, transports, c);
  p->serverName = p->creds.uid.userName = p->creds.uid.password = NULL;
  VIX (FreeConnectParams) (p);
  return err;
}

static void
remote_disk (VixDiskLibConnection c, const char *name, int writable)
{
  static uint8 w[64 * 512], r[64 * 512];
  struct done d = { PTHREAD_MUTEX_INITIALIZER, 0, 0, VIX_OK };
  VixDiskLibHandle h;
  VixDiskLibInfo *info;
  VixDiskLibBlockList *bl = NULL;
  char val[64];
  size_t need;

  if (!ok (VIX (Open) (c, name, 0, &h) == VIX_OK, "Open %s remotely", name))
    return;
  is_str (VIX (GetTransportMode) (h), "nbdssl", "GetTransportMode says nbdssl");
  is_vix (VIX (GetInfo) (h, &info), VIX_OK, "GetInfo remote");
  is_int (info->capacity, CAP, "remote capacity");
  is_int (info->adapterType, VIXDISKLIB_ADAPTER_SCSI_LSILOGIC,
          "the adapter comes from the export description");
  VIX (FreeInfo) (info);
  is_vix (VIX (ReadMetadata) (h, "adapterType", val, sizeof val, &need),
          VIX_OK, "ReadMetadata remote");
  is_str (val, "lsilogic", "remote adapterType");
  is_vix (VIX (WriteMetadata) (h, "x", "y"),
          VIX_E_NOT_SUPPORTED_ON_REMOTE_OBJECT, "WriteMetadata remote");
  if (writable) {
    fill (w, sizeof w, 77);
    is_vix (VIX (Write) (h, 2048, 64, w), VIX_OK, "Write remote");
    is_vix (VIX (Read) (h, 2048, 64, r), VIX_OK, "Read remote");
    ok (memcmp (w, r, sizeof w) == 0, "remote read back");
    is_int (VIX (WriteAsync) (h, 4096, 64, w, on_done, &d), VIX_ASYNC,
            "WriteAsync remote");
    is_int (VIX (ReadAsync) (h, 2048, 64, r, on_done, &d), VIX_ASYNC,
            "ReadAsync remote");
    is_vix (VIX (Wait) (h), VIX_OK, "Wait remote");
    ok (d.n == 2 && d.failed == 0, "both completed");
    is_vix (VIX (Flush) (h), VIX_OK, "Flush remote");
    is_vix (VIX (QueryAllocatedBlocks) (h, 0, CAP, 128, &bl), VIX_OK,
            "QueryAllocatedBlocks remote");
    if (bl)
      ok (bl->numBlocks >= 1 && bl->blocks[0].offset == 2048,
          "the written chunks are allocated (%u blocks)",
          (unsigned) bl->numBlocks);
    VIX (FreeBlockList) (bl);
  }
  is_vix (VIX (Shrink) (h, NULL, NULL), VIX_E_NOT_SUPPORTED_ON_REMOTE_OBJECT,
          "Shrink remote is refused");
  is_vix (VIX (Close) (h), VIX_OK, "Close remote");
}

static int
remote_main (const struct remote *r)
{
  VixDiskLibConnection c;
  VixDiskLibHandle h;

  is_vix (VIX (InitEx) (8, 0, logger, logger, logger, NULL, NULL), VIX_OK,
          "InitEx");
  VixError cerr = remote_connect (r, r->key, NULL, &c);
  is_vix (cerr, VIX_OK, "ConnectEx with a server, default transports");
  if (cerr != VIX_OK) {
    char *t = VIX (GetErrorText) (cerr, NULL);
    diag ("%s", t ? t : "?");
    VIX (FreeErrorText) (t);
    return tap_done ();
  }
  remote_disk (c, r->exp, 1);
  if (r->ticket)
    remote_disk (c, r->ticket, 1);
  is_vix (VIX (Open) (c, "[nosuch] x.vmdk", 0, &h), VIX_E_FILE_NOT_FOUND,
          "an export the server does not have");
  VIX (Disconnect) (c);
  remote_connect (r, "00112233445566778899aabbccddeeff", "nbdssl", &c);
  VixError err = VIX (Open) (c, r->exp, 0, &h);
  is_vix (err, VIX_E_AUTHENTICATION_FAIL, "a wrong key");
  text_has (err, "VixDiskLib_Open", "wrong key");
  VIX (Disconnect) (c);
  remote_connect (r, r->key, "nbd", &c);
  ok (VIX (Open) (c, r->exp, 0, &h) != VIX_OK,
      "plain nbd to a server that requires TLS fails");
  VIX (Disconnect) (c);
  VIX (Exit) ();
  return tap_done ();
}
#endif

int
main (int argc, char **argv)
{
  VixDiskLibConnection c;
  VixDiskLibConnectParams cp;

#ifdef VIX_DLOPEN
  if (argc < 2) {
    printf ("Bail out! usage: vix-sample-dl LIBDIR\n");
    return 1;
  }
  if (load (argv[1]) == -1)
    return tap_done ();
#endif
#ifndef VIX_DLOPEN
  if (argc >= 7 && strcmp (argv[1], "--remote") == 0) {
    struct remote r = { argv[2], argv[4], argv[5], argv[6],
                        argc > 7 ? argv[7] : NULL,
                        (uint32) strtoul (argv[3], NULL, 10) };
    return remote_main (&r);
  }
#endif
  (void) argc;
  (void) argv;
  if (tmpdir_make_tmpfs ("vdk-vix-sample") == -1)
    return 1;
  /* Cleanup tears down dead vdk mounts: only this test's (none). */
  setenv ("VDK_RUN_DIR", P ("run"), 1);
#ifdef VIX_DLOPEN
  /* As nbdkit's vddk plugin: the 6.5 API, libdir given. */
  is_vix (VIX (InitEx) (6, 5, logger, logger, logger, argv[1], NULL), VIX_OK,
          "InitEx 6.5");
#else
  is_vix (VIX (InitEx) (8, 0, logger, logger, logger, NULL, NULL), VIX_OK,
          "InitEx 8.0");
#endif
  memset (&cp, 0, sizeof cp);
  is_vix (VIX (ConnectEx) (&cp, FALSE, NULL, NULL, &c), VIX_OK,
          "ConnectEx with no server: local");
  each_type (c);
  sector_sizes (c);
  flags_and_metadata (c);
  async_io (c);
  chains (c);
  maintenance (c);
  threads (c);
  VIX (Disconnect) (c);
  is_vix (VIX (Connect) (NULL, &c), VIX_OK, "Connect (NULL): local");
  connections ();
  VIX (Disconnect) (c);
  VIX (Exit) ();
  tmpdir_remove ();
  return tap_done ();
}
