/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A disk is a chain of links: child -> ... -> base.
 *
 * Open resolves the chain from the top: a link whose descriptor has a
 * parentFileNameHint has a parent, found relative to the link's folder
 * (confined like extent names: an absolute or escaping hint is tried by
 * its base name in the child's folder, and followed as written only when
 * external paths are allowed).  A hint written on Windows
 * (C:\VMs\base.vmdk, \\server\share\base.vmdk, ..\base\base.vmdk) names
 * folders of another host: only its base name is looked for, in the
 * child's folder, as for escaping hints (a VM copied from a Windows host
 * keeps them).  Parents are always opened read-only.
 * The parent's CID must equal the child's parentCID (VMware's rule that
 * a changed parent is never silently used), unless the caller asked for
 * VDK_OPEN_NO_CID_CHECK.  Errors: VDK_E_CID_MISMATCH for that rule,
 * VDK_E_PARTIAL_CHAIN for a parent that is not there, VDK_E_CORRUPT for
 * a chain that loops.
 *
 * Reads ask the top link; ranges it does not hold (HOLE) fall to the
 * parent.  Writes go to the top link, and the parts of a new grain the
 * write does not cover are filled from the links below (fill_from_parent).
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "disk/disk.h"

#define MAX_CHAIN 255     /* deeper than any real snapshot tree; stops loops */

/* A hint written on a Windows host: a drive letter (C:\dir\base.vmdk,
 * C:base.vmdk), a UNC name (\\server\share\base.vmdk) or a backslash
 * anywhere (..\base\base.vmdk).  Its folders mean nothing here. */
static bool
windows_hint (const char *hint)
{
  bool drive = ((hint[0] | 0x20) >= 'a' && (hint[0] | 0x20) <= 'z'
                && hint[1] == ':');
  return drive || strchr (hint, '\\') != NULL;
}

/* The last component of a hint; '/', a backslash and a drive's ':'
 * all separate. */
static const char *
hint_base (const char *hint)
{
  const char *b = hint;
  for (const char *p = hint; *p; p++)
    if (*p == '/' || *p == '\\' || (p == hint + 1 && *p == ':'))
      b = p + 1;
  return b;
}

/* The hint's base name in the child's folder, if that file exists;
 * NULL (error unset) if not. */
static char *
beside_child (struct vdk_link *l, const char *base)
{
  struct vdk_fs_stat st;
  char *p;

  if (!*base || strcmp (base, ".") == 0 || strcmp (base, "..") == 0)
    return NULL;
  p = vdk__path_resolve (l->dir, base, false);
  if (p && vdk__fs_stat (p, &st) == 0 && st.exists)
    return p;
  free (p);
  return NULL;
}

/* A Windows-style hint: the folders mean nothing on this host, so the
 * base name is looked for in the child's folder (a Linux name that
 * merely holds a backslash is tried as written first). */
static char *
find_windows_parent (struct vdk_link *l, const char *hint)
{
  const char *base = hint_base (hint);
  struct vdk_fs_stat st;
  char *p = vdk__path_resolve (l->dir, hint, false);

  if (p && vdk__fs_stat (p, &st) == 0 && st.exists)
    return p;
  free (p);
  if ((p = beside_child (l, base)))
    return p;
  vdk__errc (VDK_E_PARTIAL_CHAIN, ENOENT, "%s: parent \"%s\" is a Windows "
             "path, and no \"%s\" is in the disk's folder %s", l->path, hint,
             base, l->dir);
  return NULL;
}

static char *
find_parent (struct vdk_link *l, const char *hint)
{
  char *p;

  if (!l->dir) {
    vdk__errc (VDK_E_NOT_SUPPORTED_BY_TRANSPORT, ENOTSUP, "%s: a parent is "
               "found only beside a local file", l->path);
    return NULL;
  }
  if (windows_hint (hint))
    return find_windows_parent (l, hint);
  if (l->allow_external)
    return hint[0] == '/' ? strdup (hint) : vdk__path_join (l->dir, hint);
  if ((p = vdk__path_resolve (l->dir, hint, false)))
    return p;
  if (vdk_last_errno () == EPERM) {
    /* Outside the folder: try the same base name inside it. */
    const char *base = vdk__path_base (hint);
    if ((p = beside_child (l, base)))
      return p;
    vdk__err (EPERM, "%s: parent \"%s\" lies outside the disk's folder %s "
              "and no \"%s\" is inside it", l->path, hint, l->dir, base);
    return NULL;
  }
  vdk__err_prefix ("%s: parent", l->path);
  if (vdk_last_error_code () == VDK_E_NOT_FOUND)
    vdk__err_recode (VDK_E_PARTIAL_CHAIN);
  return NULL;
}

char *
vdk__link_parent_path (struct vdk_link *l)
{
  const char *hint = l->desc ? vdk__desc_get (l->desc, "parentFileNameHint")
    : NULL;

  if (!hint || !*hint) {
    vdk__err (ENOENT, "%s: has no parent", l->path);
    return NULL;
  }
  return find_parent (l, hint);
}

static int
check_cid (struct vdk_link *child, struct vdk_link *parent)
{
  uint32_t want = vdk__desc_cid (child->desc, "parentCID");
  uint32_t have = parent->desc ? vdk__desc_cid (parent->desc, "CID")
    : UINT32_MAX;

  if (want == UINT32_MAX)
    return 0;                   /* the child does not record one */
  if (want != have)
    return vdk__errc (VDK_E_CID_MISMATCH, 0, "%s: parent %s has CID %08x "
                      "but the child "
                     "expects parentCID %08x: the parent was modified after "
                     "the child was created", child->path, parent->path,
                     have, want);
  return 0;
}

/* Does ppath name a link already in the chain (a loop)? */
static struct vdk_link *
in_chain (struct vdk_disk *d, const char *ppath)
{
  CLEANUP_FREE char *want = realpath (ppath, NULL);
  for (struct vdk_link *l = d->top; want && l; l = l->parent) {
    CLEANUP_FREE char *have = realpath (l->path, NULL);
    if (have && strcmp (have, want) == 0)
      return l;
  }
  return NULL;
}

/* The sector sizes a link's DDB declares (ddb.logicalSectorSize,
 * ddb.physicalSectorSize; 512 when absent).  vdk addresses disks in
 * 512-byte sectors: a 4Kn disk (logical size 4096) is refused, a 512e
 * disk (physical 4096) is served and reported. */
int
vdk__link_sector_sizes (struct vdk_link *l, uint32_t *logical,
                        uint32_t *physical)
{
  const char *lv = l->desc ? vdk__desc_get (l->desc, "ddb.logicalSectorSize")
    : NULL;
  const char *pv = l->desc
    ? vdk__desc_get (l->desc, "ddb.physicalSectorSize") : NULL;
  unsigned long lg = lv ? strtoul (lv, NULL, 10) : SECTOR;
  unsigned long ph = pv ? strtoul (pv, NULL, 10) : SECTOR;

  *logical = SECTOR, *physical = SECTOR;
  if (lg != SECTOR)
    return vdk__errc (VDK_E_UNSUPPORTED, ENOTSUP, "%s: logical sector size "
                      "%s: only 512-byte sectors are supported (4Kn disks "
                      "are not)", l->path, lv);
  if (ph < SECTOR || ph > 65536 || !IS_POWER_OF_2 (ph))
    return vdk__errc (VDK_E_CORRUPT, 0, "%s: physical sector size %s "
                      "is not a power of two from 512 to 65536", l->path,
                      pv);
  *physical = (uint32_t) ph;
  return 0;
}

static int
check_sectors (struct vdk_link *l)
{
  uint32_t logical, physical;
  return vdk__link_sector_sizes (l, &logical, &physical);
}

static int
open_parents (struct vdk_disk *d, unsigned flags)
{
  struct vdk_link *l = d->top;
  /* The caller's format names the top link only: parents are what
   * their child's descriptor says they are, found by their content. */
  unsigned pflags = (flags & ~(VDK_OPEN_SINGLE_LINK | VDK__OPEN_FORMATS))
    | VDK_OPEN_READ_ONLY | VDK__OPEN_PARENT;

  while (l->desc && vdk__desc_get (l->desc, "parentFileNameHint")) {
    const char *hint = vdk__desc_get (l->desc, "parentFileNameHint");
    CLEANUP_FREE char *ppath = NULL;

    if (d->nlinks >= MAX_CHAIN)
      return vdk__errc (VDK_E_CORRUPT, ELOOP, "%s: chain deeper than %d "
                        "links (a loop?)", d->top->path, MAX_CHAIN);
    if (!*hint)
      return vdk__err (EFSCORRUPTED, "%s: empty parentFileNameHint",
                       l->path);
    if (!(ppath = find_parent (l, hint)))
      return -1;
    if (in_chain (d, ppath))
      return vdk__errc (VDK_E_CORRUPT, ELOOP, "%s: parent \"%s\" is %s "
                        "itself: the chain loops", l->path, hint,
                        in_chain (d, ppath)->path);
    if (!(l->parent = vdk__link_open (ppath, pflags))) {
      vdk__err_prefix ("%s: cannot open parent", l->path);
      /* A parent that is not there leaves the chain partial. */
      return vdk_last_error_code () == VDK_E_NOT_FOUND
        ? vdk__err_recode (VDK_E_PARTIAL_CHAIN) : -1;
    }
    l->parent->depth = l->depth + 1;
    d->nlinks++;
    if (check_sectors (l->parent) == -1)
      return -1;
    if (!(flags & VDK_OPEN_NO_CID_CHECK) && check_cid (l, l->parent) == -1)
      return -1;
    l = l->parent;
  }
  return 0;
}

struct vdk_disk *
vdk__disk_open (const char *path, unsigned flags)
{
  struct vdk_disk *d = calloc (1, sizeof *d);
  if (!d) {
    vdk__err (ENOMEM, "out of memory");
    return NULL;
  }
  d->flags = flags;
  if (!(d->top = vdk__link_open (path, flags))) {
    free (d);
    return NULL;
  }
  d->nlinks = 1;
  if (check_sectors (d->top) == -1
      || (!(flags & VDK_OPEN_SINGLE_LINK) && open_parents (d, flags) == -1)) {
    vdk__disk_free (d, NULL);
    return NULL;
  }
  return d;
}

void
vdk__disk_free (struct vdk_disk *d, bool *flush_failed)
{
  struct vdk_link *l;
  if (!d)
    return;
  l = d->top;
  while (l) {
    struct vdk_link *p = l->parent;
    vdk__link_close (l, flush_failed);
    l = p;
  }
  vdk__remote_free (d->remote);
  free (d);
}

/* ---- data path ---- */

/* Read from link l (or zeroes where l has no bytes). */
static int
read_below (struct vdk_link *l, void *buf, uint64_t len, uint64_t off)
{
  uint64_t n;
  if (!l) {
    memset (buf, 0, len);
    return 0;
  }
  n = off < l->capacity ? MIN (len, l->capacity - off) : 0;
  if (n && vdk__link_pread (l, buf, n, off) == -1)
    return -1;
  memset ((char *) buf + n, 0, len - n);
  return 0;
}

static int
fill_from_parent (void *ctx, void *buf, uint64_t len, uint64_t off)
{
  return read_below (ctx, buf, len, off);
}

int
vdk__link_pread (struct vdk_link *l, void *buf, uint64_t len, uint64_t off)
{
  char *p = buf;
  while (len > 0) {
    struct vdk_extent *e = vdk__link_extent_at (l, off);
    uint64_t eoff, n, pnum, host;
    int st;
    if (!e)
      return vdk__errc (VDK_E_OUT_OF_RANGE, 0, "%s: read at %" PRIu64
                        " is past the end", l->path, off);
    eoff = off - e->start;
    n = MIN (len, e->length - eoff);
    if (vdk__ext_map (e, eoff, n, &pnum, &st, &host) == -1)
      return -1;
    if (st == VDK_BLOCK_DATA) {
      if (host != UINT64_MAX
          ? vdk__io_pread (e->io, p, pnum, host) == -1
          : vdk__ext_pread (e, p, pnum, eoff) == -1)
        return -1;
    } else if (st == VDK_BLOCK_HOLE) {
      if (read_below (l->parent, p, pnum, off) == -1)
        return -1;
    } else
      memset (p, 0, pnum);
    p += pnum, off += pnum, len -= pnum;
  }
  return 0;
}

/* Apply fn to each extent piece of [off, off+len). */
static int
for_extents (struct vdk_link *l, const uint8_t *buf, uint64_t len,
             uint64_t off, bool zero)
{
  vdk_fill_fn fill = l->parent ? fill_from_parent : NULL;
  while (len > 0) {
    struct vdk_extent *e = vdk__link_extent_at (l, off);
    uint64_t eoff, n;
    if (!e)
      return vdk__errc (VDK_E_OUT_OF_RANGE, 0, "%s: write at %" PRIu64
                        " is past the end", l->path, off);
    eoff = off - e->start;
    n = MIN (len, e->length - eoff);
    if (zero ? vdk__ext_zero (e, eoff, n, fill, l->parent) == -1
        : vdk__ext_pwrite (e, buf, n, eoff, fill, l->parent) == -1)
      return -1;
    if (buf)
      buf += n;
    off += n, len -= n;
  }
  return 0;
}

/* ---- probed raw images ----
 *
 * A raw image opened without an explicit format was taken for raw
 * because its first bytes are not a VMDK.  A guest that owns those
 * bytes could write a KDMV header (or descriptor text) naming another
 * file as its parent, and the next open would serve that file (the
 * class of qemu's CVE-2008-2004).  So, as qemu does, a write into the
 * probe window of such an image is refused, writing nothing, when the
 * window would afterwards probe as anything but raw.  Opening with
 * VDK_OPEN_FORMAT_RAW (vdk -f raw) says the caller knows: no guard.
 * The check and the write happen under the link's lock, so two writes
 * of halves of a header cannot each pass alone. */
static int
guard_probe_window (struct vdk_link *l, const uint8_t *buf, uint64_t len,
                    uint64_t off)
{
  CLEANUP_FREE uint8_t *head = calloc (1, VDK__PROBE_BYTES);
  uint64_t n = MIN (l->capacity, (uint64_t) VDK__PROBE_BYTES);
  uint64_t end = MIN (off + len, n);          /* off < n <= capacity */
  const char *other = "another image format";
  char kind;

  if (!head)
    return vdk__err (ENOMEM, "out of memory");
  if (vdk__link_pread (l, head, n, 0) == -1)
    return -1;
  if (buf)
    memcpy (head + off, buf, end - off);
  else
    memset (head + off, 0, end - off);
  kind = vdk__probe_buf (head, l->capacity, &other);
  if (kind == 'R')
    return 0;
  return vdk__errc (VDK_E_ACCESS_DENIED, EPERM, "%s: write to the first "
                    "%u bytes refused: the image was probed as raw and this "
                    "write would make it read as %s next time; open it "
                    "with an explicit raw format (vdk -f raw) to allow it",
                    l->path, VDK__PROBE_BYTES,
                    kind == 'D' ? "a VMDK descriptor"
                    : kind == 'K' ? "a VMDK sparse extent"
                    : kind == 'C' ? "a VMDK COWD extent" : other);
}

static int
write_or_zero (struct vdk_link *l, const void *buf, uint64_t len,
               uint64_t off, bool zero)
{
  if (vdk__link_begin_write (l) == -1)
    return -1;
  if (l->probed_raw && off < VDK__PROBE_BYTES && len > 0) {
    SCOPED_LOCK (&l->lock);
    if (guard_probe_window (l, buf, len, off) == -1)
      return -1;
    return for_extents (l, buf, len, off, zero);
  }
  return for_extents (l, buf, len, off, zero);
}

int
vdk__link_pwrite (struct vdk_link *l, const void *buf, uint64_t len,
                  uint64_t off)
{
  return write_or_zero (l, buf, len, off, false);
}

int
vdk__link_zero (struct vdk_link *l, uint64_t len, uint64_t off)
{
  return write_or_zero (l, NULL, len, off, true);
}

int
vdk__link_status (struct vdk_link *l, uint64_t off, uint64_t len,
                  bool top_only, uint64_t *pnum, int *state, int *depth)
{
  struct vdk_extent *e = vdk__link_extent_at (l, off);
  uint64_t host;

  if (!e)
    return vdk__errc (VDK_E_OUT_OF_RANGE, 0, "%s: offset %" PRIu64
                      " is past the end", l->path, off);
  len = MIN (len, e->length - (off - e->start));
  if (vdk__ext_map (e, off - e->start, len, pnum, state, &host) == -1)
    return -1;
  *depth = l->depth;
  if (*state != VDK_BLOCK_HOLE)
    return 0;
  *depth = -1;
  if (top_only)
    return 0;
  if (!l->parent || off >= l->parent->capacity) {
    *depth = -1;
    return 0;
  }
  return vdk__link_status (l->parent, off,
                           MIN (*pnum, l->parent->capacity - off), false,
                           pnum, state, depth);
}
