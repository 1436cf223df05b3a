/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: geometry as VMware computes it, type and adapter names. */
#include "tap.h"
#include "vdk.h"

/* vdk_geometry_for into *g (the library allocates, we copy and free). */
static int
geometry (uint64_t sectors, int adapter, struct vdk_geometry *g)
{
  struct vdk_geometry *p = NULL;
  int r = vdk_geometry_for (sectors, adapter, &p);
  if (r == 0)
    *g = *p;
  vdk_free_geometry (p);
  return r;
}

int
main (void)
{
  struct vdk_geometry g = { 0, 0, 0 }, *none = &g;

  ok (geometry (20971520, VDK_ADAPTER_IDE, &g) == 0
      && g.cylinders == 16383 && g.heads == 16 && g.sectors == 63,
      "10 GiB IDE caps cylinders at 16383 (%u/%u/%u)", g.cylinders, g.heads,
      g.sectors);
  ok (geometry (10485760, VDK_ADAPTER_LSILOGIC, &g) == 0
      && g.cylinders == 652 && g.heads == 255 && g.sectors == 63,
      "5 GiB lsilogic is 652/255/63 (KB 306526)");
  geometry (2097152, VDK_ADAPTER_IDE, &g);
  is_int (g.cylinders, 2080, "1 GiB IDE cylinders = 2097152/(16*63)");
  geometry (100, VDK_ADAPTER_BUSLOGIC, &g);
  is_int (g.cylinders, 1, "tiny disk still has one cylinder");
  ok (vdk_geometry_for (100, 99, &none) == -1 && none == NULL
      && vdk_last_error_code () == VDK_E_INVALID_ARG,
      "an unknown adapter has no geometry");
  vdk_free_geometry (NULL);
  is_int (vdk_type_from_name ("0"), VDK_TYPE_MONOLITHIC_SPARSE, "type 0");
  is_int (vdk_type_from_name ("1"), VDK_TYPE_SPLIT_SPARSE, "type 1");
  is_int (vdk_type_from_name ("2"), VDK_TYPE_MONOLITHIC_FLAT, "type 2");
  is_int (vdk_type_from_name ("3"), VDK_TYPE_SPLIT_FLAT, "type 3");
  is_int (vdk_type_from_name ("monolithicsparse"), VDK_TYPE_MONOLITHIC_SPARSE,
          "names are case-insensitive");
  is_int (vdk_type_from_name ("raw"), VDK_TYPE_RAW, "raw");
  is_int (vdk_type_from_name ("nonsense"), -1, "unknown type");
  is_int (vdk_type_from_name ("7"), -1, "unknown number");
  is_str (vdk_type_name (VDK_TYPE_SPLIT_FLAT), "twoGbMaxExtentFlat",
          "type name");
  is_int (vdk_adapter_from_name ("LSILOGIC"), VDK_ADAPTER_LSILOGIC,
          "adapter name");
  is_int (vdk_adapter_from_name ("scsi"), -1, "unknown adapter");
  return tap_done ();
}
