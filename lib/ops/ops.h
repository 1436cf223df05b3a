/* The ops layer: whole-disk operations (lib/ops). */
#ifndef VDK_OPS_H
#define VDK_OPS_H

#include "disk/disk.h"

/* ---- geometry and naming (ops/create.c) ------------------------------ */
uint64_t vdk__split_extent_sectors (void);
int vdk__check_split_size (const char *path, uint64_t bytes);
int vdk__desc_set_geometry (struct vdk_desc *d, uint64_t sectors);

/* The create parameters vdk_clone uses for its output (ops/clone.c). */
void vdk__clone_create_params (vdk_disk *src,
                               const struct vdk_clone_params *p,
                               struct vdk_create_params *cp);

/* vdk_clone onto an existing destination, VDK_CLONE_OVERWRITE
 * (ops/replace.c). */
int vdk__clone_replace (vdk_disk *src, const char *dst,
                        const struct vdk_clone_params *params);

#endif /* VDK_OPS_H */
