/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ops layer: whole-disk operations (lib/ops). */
#ifndef VDK_OPS_H
#define VDK_OPS_H

#include "disk/disk.h"

/* ---- geometry and naming (ops/create.c) ------------------------------ */
/* Number of enum vdk_adapter values (the public enum has no count). */
#define VDK__ADAPTER_COUNT (VDK_ADAPTER_LEGACYESX + 1)
/* The geometry VMware gives a new disk (vdk_geometry_for). */
struct vdk_geometry vdk__geometry_for (uint64_t capacity, int adapter);
uint64_t vdk__split_extent_sectors (void);
int vdk__check_split_size (const char *path, uint64_t bytes);
int vdk__desc_set_geometry (struct vdk_desc *d, uint64_t sectors);

/* ---- option structs and flags ---------------------------------------
 * Each public call refuses (VDK_E_INVALID_ARG) an options struct of a
 * version newer than this library knows, and flag bits it does not
 * know: a newer caller's request is never silently half-done.  A flag
 * joins its mask below when it is implemented. */
#define VDK__CREATE_FLAGS (VDK_CREATE_ZEROED_GRAIN | VDK_CREATE_NO_PREALLOC \
                           | VDK_CREATE_PREALLOC_ZEROED \
                           | VDK_CREATE_PREALLOC)
#define VDK__CLONE_FLAGS  (VDK_CLONE_SINGLE_LINK | VDK_CLONE_OVERWRITE \
                           | VDK_CLONE_PREALLOC | VDK_CLONE_PREALLOC_ZEROED)
#define VDK__COMMIT_FLAGS (VDK_COMMIT_DROP)
#define VDK__ATTACH_FLAGS (VDK_ATTACH_UNSAFE | VDK_ATTACH_DRY_RUN)
#define VDK__CHECK_FLAGS  (VDK_CHECK_REPAIR)
/* "NAME parameters": NULL, version 0 or newer than `known`. */
int vdk__check_version (const char *what, const void *params,
                        uint32_t version, uint32_t known);
int vdk__check_flags (const char *what, unsigned flags, unsigned known);
/* Version and flags of clone parameters (vdk_clone, vdk_measure). */
int vdk__check_clone_params (const struct vdk_clone_params *p);

/* The create parameters vdk_clone uses for its output (ops/clone.c). */
void vdk__clone_create_params (vdk_disk *src,
                               const struct vdk_clone_params *p,
                               struct vdk_create_params *cp);

/* vdk_clone onto an existing destination, VDK_CLONE_OVERWRITE
 * (ops/replace.c). */
int vdk__clone_replace (vdk_disk *src, const char *dst,
                        const struct vdk_clone_params *params);

#endif /* VDK_OPS_H */
