/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vix-ops.c - VixDiskLib's whole-disk calls: grow, shrink, defragment,
 * rename, unlink, clone, space needed, attach, check/repair and the
 * allocated-block map, on vdk's public API.
 *
 * vdk's maintenance calls open the disk themselves, for writing, and
 * refuse a disk another handle holds (OFD locks conflict within one
 * process too).  The VDDK's Shrink, Defragment and Attach take open
 * handles, so they close the handle's disk, run vdk's call and open the
 * disk again with the same flags; if the reopen fails the handle stays
 * allocated with no disk (every call on it then fails with
 * VIX_E_DISK_NOIO, Close frees it).  These calls are for local disks
 * only, as in the VDDK.
 *
 * Progress: vdk reports bytes done of a total, the VDDK percentages;
 * vix__progress converts and calls the VDDK function once per change.
 * The VDDK ignores the function's answer, so vdk never cancels. */
#include <stdlib.h>
#include <string.h>

#include "vix-internal.h"

#define PROGRESS(fn, data) { (fn), (data), -1 }

static VixError
local_only (const char *call, VixDiskLibHandle h)
{
  if (!h || !h->disk)
    return vix__fail (h ? VIX_E_DISK_NOIO : VIX_E_INVALID_ARG, call,
                      "no open disk");
  if (h->remote)
    return vix__fail (VIX_E_NOT_SUPPORTED_ON_REMOTE_OBJECT, call,
                      "%s: only local disks", h->path);
  return VIX_OK;
}

/* The open flags vdk's maintenance calls take from a handle's. */
static unsigned
maint_flags (VixDiskLibHandle h)
{
  return h->vdk_flags & (VDK_OPEN_ALLOW_EXTERNAL | VDK_OPEN_FORMAT_RAW
                         | VDK_OPEN_FORMAT_VMDK);
}

typedef int (*rewrite_fn) (const char *, unsigned, vdk_progress_fn, void *);

/* Close, run `fn` on the file, reopen; the first error wins. */
static VixError
rewrite (const char *call, VixDiskLibHandle h, rewrite_fn fn,
         VixDiskLibProgressFunc pf, void *pd)
{
  struct vix_progress prog = PROGRESS (pf, pd);
  VixError err;
  int r;

  if ((err = local_only (call, h)) != VIX_OK)
    return err;
  if (h->vdk_flags & VDK_OPEN_READ_ONLY)
    return vix__fail (VIX_E_FILE_READ_ONLY, call,
                      "%s was opened read-only", h->path);
  r = vdk_close (h->disk);
  h->disk = NULL;
  if (r == -1 || fn (h->path, maint_flags (h), vix__progress, &prog) == -1)
    err = vix__fail_vdk (call);
  if (vix__reopen (h) == -1 && err == VIX_OK)
    err = vix__fail_vdk (call);
  return err;
}

VIX_API VixError
VixDiskLib_Shrink (VixDiskLibHandle h, VixDiskLibProgressFunc pf, void *pd)
{
  return rewrite ("VixDiskLib_Shrink", h, vdk_shrink, pf, pd);
}

VIX_API VixError
VixDiskLib_Defragment (VixDiskLibHandle h, VixDiskLibProgressFunc pf,
                       void *pd)
{
  return rewrite ("VixDiskLib_Defragment", h, vdk_defrag, pf, pd);
}

/* The geometry keys Grow keeps when updateGeometry is FALSE. */
static const char *const geo_keys[] = {
  "geometry.cylinders", "geometry.heads", "geometry.sectors",
};
#define NGEO (sizeof geo_keys / sizeof geo_keys[0])

static int
geo_save (const char *path, char *vals[NGEO])
{
  vdk_disk *d = vdk_open (path, VDK_OPEN_READ_ONLY);
  if (!d)
    return -1;
  for (size_t i = 0; i < NGEO; i++)
    if (vdk_meta_get (d, geo_keys[i], &vals[i]) == -1)
      vals[i] = NULL;
  vdk_close (d);
  return 0;
}

static int
geo_restore (const char *path, char *vals[NGEO])
{
  vdk_disk *d = vdk_open (path, 0);
  int r = 0;
  if (!d)
    return -1;
  for (size_t i = 0; i < NGEO; i++)
    if (vals[i] && vdk_meta_set (d, geo_keys[i], vals[i]) == -1)
      r = -1;
  if (vdk_close (d) == -1)
    r = -1;
  return r;
}

VIX_API VixError
VixDiskLib_Grow (VixDiskLibConnection conn, const char *path,
                 VixDiskLibSectorType capacity, Bool updateGeometry,
                 VixDiskLibProgressFunc pf, void *pd)
{
  const char *call = "VixDiskLib_Grow";
  struct vdk_grow_params p = VDK_GROW_PARAMS_INIT;
  struct vix_progress prog = PROGRESS (pf, pd);
  char *geo[NGEO] = { NULL };
  VixError err = VIX_OK;

  if (!path || capacity == 0 || capacity > UINT64_MAX / VIXDISKLIB_SECTOR_SIZE)
    return vix__fail (VIX_E_INVALID_ARG, call, "no path or a bad capacity");
  if (conn && conn->remote)
    return vix__fail (VIX_E_NOT_SUPPORTED_ON_REMOTE_OBJECT, call,
                      "%s: only local disks", path);
  if (!updateGeometry && geo_save (path, geo) == -1)
    return vix__fail_vdk (call);
  p.capacity = capacity * VIXDISKLIB_SECTOR_SIZE;
  p.progress = vix__progress;
  p.opaque = &prog;
  if (vdk_grow_ex (path, &p) == -1
      || (!updateGeometry && geo_restore (path, geo) == -1))
    err = vix__fail_vdk (call);
  for (size_t i = 0; i < NGEO; i++)
    free (geo[i]);
  return err;
}

VIX_API VixError
VixDiskLib_Rename (const char *src, const char *dst)
{
  if (!src || !dst)
    return vix__fail (VIX_E_INVALID_ARG, "VixDiskLib_Rename", "no path");
  if (vdk_rename (src, dst) == -1)
    return vix__fail_vdk ("VixDiskLib_Rename");
  return VIX_OK;
}

VIX_API VixError
VixDiskLib_Unlink (VixDiskLibConnection conn, const char *path)
{
  if (!path)
    return vix__fail (VIX_E_INVALID_ARG, "VixDiskLib_Unlink", "no path");
  if (conn && conn->remote)
    return vix__fail (VIX_E_NOT_SUPPORTED_ON_REMOTE_OBJECT,
                      "VixDiskLib_Unlink", "%s: only local disks", path);
  if (vdk_unlink (path) == -1)
    return vix__fail_vdk ("VixDiskLib_Unlink");
  return VIX_OK;
}

/* ---- Clone ------------------------------------------------------------ */

static VixError
clone_params (const char *call, const VixDiskLibCreateParams *cp,
              struct vdk_clone_params *p)
{
  if (!cp)
    return vix__fail (VIX_E_INVALID_ARG, call, "no create parameters");
  if ((p->type = vix__disk_type_to_vdk (cp->diskType)) == -1)
    return vix__fail (VIX_E_INVALID_ARG, call, "unknown disk type %d",
                      (int) cp->diskType);
  if (cp->adapterType == VIXDISKLIB_ADAPTER_UNKNOWN)
    p->adapter = -1;
  else if ((p->adapter = vix__adapter_to_vdk (cp->adapterType)) == -1)
    return vix__fail (VIX_E_INVALID_ARG, call, "unknown adapter type %d",
                      (int) cp->adapterType);
  p->hw_version = cp->hwVersion;
  return VIX_OK;
}

VIX_API VixError
VixDiskLib_Clone (const VixDiskLibConnection dstConn, const char *dstPath,
                  const VixDiskLibConnection srcConn, const char *srcPath,
                  const VixDiskLibCreateParams *cp,
                  VixDiskLibProgressFunc pf, void *pd, Bool overWrite)
{
  const char *call = "VixDiskLib_Clone";
  struct vdk_clone_params p = VDK_CLONE_PARAMS_INIT;
  struct vix_progress prog = PROGRESS (pf, pd);
  VixError err;
  vdk_disk *src;

  if (!dstPath || !srcPath)
    return vix__fail (VIX_E_INVALID_ARG, call, "no path");
  if (dstConn && dstConn->remote)
    return vix__fail (VIX_E_NOT_SUPPORTED_ON_REMOTE_OBJECT, call,
                      "%s: vdk clones into local files only", dstPath);
  if ((err = clone_params (call, cp, &p)) != VIX_OK)
    return err;
  if (overWrite)
    p.flags |= VDK_CLONE_OVERWRITE;
  p.progress = vix__progress;
  p.opaque = &prog;
  if (!(src = vix__open (srcConn, srcPath, VDK_OPEN_READ_ONLY)))
    return vix__fail_vdk (call);
  if (vdk_clone (src, dstPath, &p) == -1)
    err = vix__fail_vdk (call);
  vdk_close (src);
  return err;
}

VIX_API VixError
VixDiskLib_SpaceNeededForClone (VixDiskLibHandle h, VixDiskLibDiskType type,
                                uint64 *spaceNeeded)
{
  const char *call = "VixDiskLib_SpaceNeededForClone";
  struct vdk_clone_params p = VDK_CLONE_PARAMS_INIT;
  uint64_t bytes;

  if (!h || !h->disk || !spaceNeeded)
    return vix__fail (VIX_E_INVALID_ARG, call, "no disk or no result");
  if (type == VIXDISKLIB_DISK_UNKNOWN) {
    struct vdk_info *vi;
    if (vdk_get_info (h->disk, &vi) == -1)
      return vix__fail_vdk (call);
    p.type = vi->type;
    vdk_free_info (vi);
  } else if ((p.type = vix__disk_type_to_vdk (type)) == -1)
    return vix__fail (VIX_E_INVALID_ARG, call, "unknown disk type %d",
                      (int) type);
  if (vdk_measure (h->disk, NULL, &p, &bytes) == -1)
    return vix__fail_vdk (call);
  *spaceNeeded = bytes;
  return VIX_OK;
}

/* ---- Attach ---------------------------------------------------------- */

/* The VDDK re-parents what it is told to: the caller holds both chains
 * and answers for their contents, so vdk's attach runs without its
 * contents proof (VDK_ATTACH_UNSAFE).  A child with no parent is a base
 * (root link) and cannot be attached. */
static VixError
attach (const char *call, VixDiskLibHandle parent, VixDiskLibHandle child,
        unsigned flags)
{
  struct vdk_info *vi;
  VixError err = VIX_OK;
  int has_parent;

  if ((err = local_only (call, parent)) != VIX_OK
      || (err = local_only (call, child)) != VIX_OK)
    return err;
  if (vdk_get_info (child->disk, &vi) == -1)
    return vix__fail_vdk (call);
  has_parent = vi->has_parent;
  vdk_free_info (vi);
  if (!has_parent)
    return vix__fail (VIX_E_DISK_ATTACH_ROOTLINK, call,
                      "%s has no parent: a base disk cannot be attached",
                      child->path);
  if (vdk_close (child->disk) == -1 || vdk_close (parent->disk) == -1) {
    err = vix__fail_vdk (call);
    flags |= VDK_ATTACH_DRY_RUN; /* reopen what can be reopened */
  }
  child->disk = parent->disk = NULL;
  if (err == VIX_OK
      && vdk_attach (child->path, parent->path, flags | VDK_ATTACH_UNSAFE,
                     maint_flags (child)) == -1)
    err = vix__fail_vdk (call);
  if (vix__reopen (child) == -1 && err == VIX_OK)
    err = vix__fail_vdk (call);
  /* After a real attach the parent handle is spent (the child's chain
   * holds the parent now); after a dry run it is as it was. */
  if ((flags & VDK_ATTACH_DRY_RUN) && vix__reopen (parent) == -1
      && err == VIX_OK)
    err = vix__fail_vdk (call);
  return err;
}

VIX_API VixError
VixDiskLib_IsAttachPossible (VixDiskLibHandle parent, VixDiskLibHandle child)
{
  return attach ("VixDiskLib_IsAttachPossible", parent, child,
                 VDK_ATTACH_DRY_RUN);
}

VIX_API VixError
VixDiskLib_Attach (VixDiskLibHandle parent, VixDiskLibHandle child)
{
  return attach ("VixDiskLib_Attach", parent, child, 0);
}

/* ---- Check, allocated blocks ------------------------------------------ */

/* The return code says whether the check (and the repair asked for)
 * ran, not whether the disk is healthy, as in the VDDK; problems go to
 * the warning log.  A repair that left problems is VIX_E_DISK_CANTREPAIR. */
VIX_API VixError
VixDiskLib_CheckRepair (const VixDiskLibConnection conn, const char *file,
                        Bool repair)
{
  const char *call = "VixDiskLib_CheckRepair";
  struct vdk_check_report *rep;
  size_t left = 0;

  if (!file)
    return vix__fail (VIX_E_INVALID_ARG, call, "no file");
  if (conn && conn->remote)
    return vix__fail (VIX_E_NOT_SUPPORTED_ON_REMOTE_OBJECT, call,
                      "%s: only local disks", file);
  if (vdk_check (file, repair ? VDK_CHECK_REPAIR : 0, 0, &rep) == -1)
    return vix__fail_vdk (call);
  for (size_t i = 0; i < rep->nproblems; i++)
    if (!rep->problems[i]->repaired)
      left++;
  vdk_free_check_report (rep);
  if (repair && left)
    return vix__fail (VIX_E_DISK_CANTREPAIR, call,
                      "%s: %zu problem(s) could not be repaired", file, left);
  return VIX_OK;
}

VIX_API VixError
VixDiskLib_QueryAllocatedBlocks (VixDiskLibHandle h,
                                 VixDiskLibSectorType start,
                                 VixDiskLibSectorType n,
                                 VixDiskLibSectorType chunk,
                                 VixDiskLibBlockList **out)
{
  const char *call = "VixDiskLib_QueryAllocatedBlocks";
  struct vdk_block_list *l;
  VixDiskLibBlockList *bl;
  size_t size, count;

  if (!h || !h->disk || !out)
    return vix__fail (VIX_E_INVALID_ARG, call, "no disk or no result");
  if (chunk < VIXDISKLIB_MIN_CHUNK_SIZE
      || n / chunk > VIXDISKLIB_MAX_CHUNK_NUMBER)
    return vix__fail (VIX_E_INVALID_ARG, call,
                      "chunk of %llu sectors (at least %d), %llu sectors "
                      "(at most %d chunks)", (unsigned long long) chunk,
                      VIXDISKLIB_MIN_CHUNK_SIZE, (unsigned long long) n,
                      VIXDISKLIB_MAX_CHUNK_NUMBER);
  if (vdk_query_allocated_blocks (h->disk, start, n, chunk,
                                  (h->vdk_flags & VDK_OPEN_SINGLE_LINK) != 0,
                                  &l) == -1) {
    /* The VDDK calls a range past the end an invalid parameter. */
    if (vdk_last_error_code () == VDK_E_OUT_OF_RANGE)
      return vix__fail (VIX_E_INVALID_ARG, call, "%s", vdk_last_error ());
    return vix__fail_vdk (call);
  }
  /* l->n <= VIXDISKLIB_MAX_CHUNK_NUMBER, so the size cannot overflow. */
  count = l->n ? l->n : 1;
  size = offsetof (VixDiskLibBlockList, blocks)
         + count * sizeof (VixDiskLibBlock);
  if (!(bl = calloc (1, size < sizeof *bl ? sizeof *bl : size))) {
    vdk_free_block_list (l);
    return vix__fail (VIX_E_OUT_OF_MEMORY, call, "out of memory");
  }
  bl->numBlocks = (uint32) l->n;
  for (size_t i = 0; i < l->n; i++) {
    bl->blocks[i].offset = l->blocks[i]->offset;
    bl->blocks[i].length = l->blocks[i]->length;
  }
  vdk_free_block_list (l);
  *out = bl;
  return VIX_OK;
}

VIX_API VixError
VixDiskLib_FreeBlockList (VixDiskLibBlockList *blockList)
{
  free (blockList);
  return VIX_OK;
}
