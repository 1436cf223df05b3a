/* Disk type names: createType strings of the descriptor and
 * vmware-vdiskmanager's -t numbers. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>

#include "format/format.h"

static const char *const create_types[VDK__TYPE_COUNT] = {
  "raw", "monolithicSparse", "monolithicFlat", "twoGbMaxExtentSparse",
  "twoGbMaxExtentFlat", "streamOptimized", "vmfs", "vmfsThin", "vmfsSparse",
  "seSparse", "vmfsRawDeviceMap", "vmfsPassthroughRawDeviceMap",
  "fullDevice", "partitionedDevice", "custom",
};

VDK_API const char *
vdk_type_name (int type)
{
  return type >= 0 && type < VDK__TYPE_COUNT ? create_types[type] : NULL;
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
  for (int i = 0; i < VDK__TYPE_COUNT; i++)
    if (strcasecmp (ct, create_types[i]) == 0)
      return i;
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
  if (!name || !*name)
    return -1;
  if (name[1] == 0 && name[0] >= '0' && name[0] <= '6')
    return numbers[name[0] - '0'];
  for (int i = 0; i < VDK__TYPE_COUNT; i++)
    if (strcasecmp (name, create_types[i]) == 0)
      return i;
  return -1;
}
