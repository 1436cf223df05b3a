/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vix-tables.c - the VDDK's numbers and vdk's, translated by table.
 *
 * vdk numbers its open flags, disk types and adapters differently from
 * the VDDK:
 *   open flags  VDDK UNBUFFERED 1, SINGLE_LINK 2, READ_ONLY 4
 *               vdk  READ_ONLY 1, SINGLE_LINK 2, UNBUFFERED 4
 *   disk types  VDDK 5 VMFS_FLAT, 6 STREAM_OPTIMIZED
 *               vdk  5 STREAM_OPTIMIZED, 6 VMFS
 *   adapters    VDDK IDE 1, BUSLOGIC 2, LSILOGIC 3
 *               vdk  IDE 0, BUSLOGIC 1, LSILOGIC 2, PVSCSI 3, LEGACYESX 4
 * so every value goes through a table here and is never cast; a value
 * without a row is refused by the caller.  tests/compat/test-tables.c
 * checks each row. */
#include <stddef.h>

#include "vix-internal.h"

struct row {
  int vix, vdk;
};

static const struct row disk_types[] = {
  { VIXDISKLIB_DISK_MONOLITHIC_SPARSE, VDK_TYPE_MONOLITHIC_SPARSE },
  { VIXDISKLIB_DISK_MONOLITHIC_FLAT, VDK_TYPE_MONOLITHIC_FLAT },
  { VIXDISKLIB_DISK_SPLIT_SPARSE, VDK_TYPE_SPLIT_SPARSE },
  { VIXDISKLIB_DISK_SPLIT_FLAT, VDK_TYPE_SPLIT_FLAT },
  { VIXDISKLIB_DISK_VMFS_FLAT, VDK_TYPE_VMFS },
  { VIXDISKLIB_DISK_STREAM_OPTIMIZED, VDK_TYPE_STREAM_OPTIMIZED },
  { VIXDISKLIB_DISK_VMFS_THIN, VDK_TYPE_VMFS_THIN },
  { VIXDISKLIB_DISK_VMFS_SPARSE, VDK_TYPE_VMFS_SPARSE },
};

/* The VDDK has no adapter value for PVSCSI and legacy ESX: vdk reports
 * them as UNKNOWN, and never makes one from a VDDK value. */
static const struct row adapters[] = {
  { VIXDISKLIB_ADAPTER_IDE, VDK_ADAPTER_IDE },
  { VIXDISKLIB_ADAPTER_SCSI_BUSLOGIC, VDK_ADAPTER_BUSLOGIC },
  { VIXDISKLIB_ADAPTER_SCSI_LSILOGIC, VDK_ADAPTER_LSILOGIC },
};

static const struct row open_flags[] = {
  { VIXDISKLIB_FLAG_OPEN_UNBUFFERED, VDK_OPEN_UNBUFFERED },
  { VIXDISKLIB_FLAG_OPEN_SINGLE_LINK, VDK_OPEN_SINGLE_LINK },
  { VIXDISKLIB_FLAG_OPEN_READ_ONLY, VDK_OPEN_READ_ONLY },
};

#define N(a) (sizeof (a) / sizeof (a)[0])

static int
to_vdk (const struct row *t, size_t n, int vix)
{
  for (size_t i = 0; i < n; i++)
    if (t[i].vix == vix)
      return t[i].vdk;
  return -1;
}

static int
from_vdk (const struct row *t, size_t n, int vdk)
{
  for (size_t i = 0; i < n; i++)
    if (t[i].vdk == vdk)
      return t[i].vix;
  return -1;
}

int
vix__disk_type_to_vdk (int vix_type)
{
  return to_vdk (disk_types, N (disk_types), vix_type);
}

int
vix__disk_type_from_vdk (int vdk_type)
{
  return from_vdk (disk_types, N (disk_types), vdk_type);
}

int
vix__adapter_to_vdk (int vix_adapter)
{
  return to_vdk (adapters, N (adapters), vix_adapter);
}

int
vix__adapter_from_vdk (int vdk_adapter)
{
  int a = from_vdk (adapters, N (adapters), vdk_adapter);
  return a == -1 ? VIXDISKLIB_ADAPTER_UNKNOWN : a;
}

int
vix__open_flags_to_vdk (uint32_t vix_flags, unsigned *vdk_flags)
{
  unsigned out = 0;
  uint32_t rest = vix_flags & ~(uint32_t) VIXDISKLIB_FLAG_OPEN_COMPRESSION_MASK;

  for (size_t i = 0; i < N (open_flags); i++)
    if (rest & (uint32_t) open_flags[i].vix) {
      out |= (unsigned) open_flags[i].vdk;
      rest &= ~(uint32_t) open_flags[i].vix;
    }
  if (rest)
    return -1;
  *vdk_flags = out;
  return 0;
}

const char *
vix__disk_type_name (int vix_type)
{
  switch (vix_type) {
  case VIXDISKLIB_DISK_MONOLITHIC_SPARSE: return "MONOLITHIC_SPARSE";
  case VIXDISKLIB_DISK_MONOLITHIC_FLAT: return "MONOLITHIC_FLAT";
  case VIXDISKLIB_DISK_SPLIT_SPARSE: return "SPLIT_SPARSE";
  case VIXDISKLIB_DISK_SPLIT_FLAT: return "SPLIT_FLAT";
  case VIXDISKLIB_DISK_VMFS_FLAT: return "VMFS_FLAT";
  case VIXDISKLIB_DISK_STREAM_OPTIMIZED: return "STREAM_OPTIMIZED";
  case VIXDISKLIB_DISK_VMFS_THIN: return "VMFS_THIN";
  case VIXDISKLIB_DISK_VMFS_SPARSE: return "VMFS_SPARSE";
  case VIXDISKLIB_DISK_UNKNOWN: return "UNKNOWN";
  default: return "?";
  }
}
