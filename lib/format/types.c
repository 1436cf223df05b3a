/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Disk types: createType strings of the descriptor, vmware-vdiskmanager's
 * -t numbers, and what each type is made of - one row per type, read by
 * create, child creation, grow and link opening instead of comparisons
 * on the type.
 *
 * Facts (docs/vmdk-format.md §1.4, §4): monolithic types are one file
 * (sparse ones embed their descriptor); twoGbMaxExtent* split into
 * extents of at most 2 GiB named NAME-s001.vmdk / NAME-f001.vmdk; flat
 * data of a monolithic or ESX flat disk is NAME-flat.vmdk, a vmfsSparse
 * redo log NAME-delta.vmdk; raw device mappings and device disks map
 * files outside their folder by design. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>

#include "format/format.h"

#define CREATE VDK_TYPE_F_CREATE
#define GROW VDK_TYPE_F_GROW

static const struct vdk_type_info types[] = {
  { VDK_TYPE_RAW, "raw", &vdk__flat_ops, VDK_EXT_FLAT,
    VDK_TYPE_F_NO_DESC | CREATE | GROW, 0, NULL },
  { VDK_TYPE_MONOLITHIC_SPARSE, "monolithicSparse", &vdk__sparse_ops,
    VDK_EXT_SPARSE, VDK_TYPE_F_EMBEDDED | CREATE | VDK_TYPE_F_CHILD | GROW,
    0, NULL },
  { VDK_TYPE_MONOLITHIC_FLAT, "monolithicFlat", &vdk__flat_ops, VDK_EXT_FLAT,
    CREATE | GROW, 0, "-flat" },
  { VDK_TYPE_SPLIT_SPARSE, "twoGbMaxExtentSparse", &vdk__sparse_ops,
    VDK_EXT_SPARSE, VDK_TYPE_F_SPLIT | CREATE | GROW, 's', NULL },
  { VDK_TYPE_SPLIT_FLAT, "twoGbMaxExtentFlat", &vdk__flat_ops, VDK_EXT_FLAT,
    VDK_TYPE_F_SPLIT | CREATE | GROW, 'f', NULL },
  { VDK_TYPE_STREAM_OPTIMIZED, "streamOptimized", &vdk__stream_ops,
    VDK_EXT_SPARSE, VDK_TYPE_F_EMBEDDED | CREATE, 0, NULL },
  { VDK_TYPE_VMFS, "vmfs", &vdk__flat_ops, VDK_EXT_VMFS, CREATE | GROW, 0,
    "-flat" },
  { VDK_TYPE_VMFS_THIN, "vmfsThin", &vdk__flat_ops, VDK_EXT_VMFS,
    CREATE | GROW | VDK_TYPE_F_THIN, 0, "-flat" },
  { VDK_TYPE_VMFS_SPARSE, "vmfsSparse", &vdk__cowd_ops, VDK_EXT_VMFSSPARSE,
    VDK_TYPE_F_CHILD, 0, "-delta" },
  { VDK_TYPE_SESPARSE, "seSparse", &vdk__sesparse_ops, VDK_EXT_SESPARSE, 0,
    0, NULL },
  { VDK_TYPE_VMFS_RDM, "vmfsRawDeviceMap", &vdk__flat_ops, VDK_EXT_VMFSRDM,
    VDK_TYPE_F_EXTERNAL | GROW, 0, NULL },
  { VDK_TYPE_VMFS_RDMP, "vmfsPassthroughRawDeviceMap", &vdk__flat_ops,
    VDK_EXT_VMFSRAW, VDK_TYPE_F_EXTERNAL | GROW, 0, NULL },
  { VDK_TYPE_FULL_DEVICE, "fullDevice", &vdk__flat_ops, VDK_EXT_FLAT,
    VDK_TYPE_F_EXTERNAL | GROW, 0, NULL },
  { VDK_TYPE_PARTITIONED_DEVICE, "partitionedDevice", &vdk__flat_ops,
    VDK_EXT_FLAT, VDK_TYPE_F_EXTERNAL | GROW, 0, NULL },
  { VDK_TYPE_CUSTOM, "custom", NULL, -1, GROW, 0, NULL },
};

const struct vdk_type_info *
vdk__type_info (int type)
{
  for (size_t i = 0; i < ARRAY_SIZE (types); i++)
    if (types[i].type == type)
      return &types[i];
  return NULL;
}

VDK_API const char *
vdk_type_name (int type)
{
  const struct vdk_type_info *t = vdk__type_info (type);
  return t ? t->name : NULL;
}

static const struct vdk_type_info *
type_by_name (const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE (types); i++)
    if (strcasecmp (name, types[i].name) == 0)
      return &types[i];
  return NULL;
}

int
vdk__type_from_create_type (const char *ct)
{
  static const struct { const char *name; int type; } aliases[] = {
    { "vmfsPreallocated", VDK_TYPE_VMFS },
    { "vmfsEagerZeroedThick", VDK_TYPE_VMFS },
    { "vmfsRaw", VDK_TYPE_VMFS_RDM }, { "vmfsRDM", VDK_TYPE_VMFS_RDM },
    { "vmfsRDMP", VDK_TYPE_VMFS_RDMP },
  };
  const struct vdk_type_info *t = type_by_name (ct);
  if (t)
    return t->type;
  for (size_t i = 0; i < ARRAY_SIZE (aliases); i++)
    if (strcasecmp (ct, aliases[i].name) == 0)
      return aliases[i].type;
  return VDK_TYPE_CUSTOM;
}

VDK_API int
vdk_type_from_name (const char *name)
{
  /* vmware-vdiskmanager -t numbers */
  static const int numbers[] = {
    VDK_TYPE_MONOLITHIC_SPARSE, VDK_TYPE_SPLIT_SPARSE,
    VDK_TYPE_MONOLITHIC_FLAT, VDK_TYPE_SPLIT_FLAT, VDK_TYPE_VMFS,
    VDK_TYPE_STREAM_OPTIMIZED, VDK_TYPE_VMFS_THIN,
  };
  const struct vdk_type_info *t;
  if (!name || !*name)
    return -1;
  if (name[1] == 0 && name[0] >= '0' && name[0] <= '6')
    return numbers[name[0] - '0'];
  t = type_by_name (name);
  return t ? t->type : -1;
}
