/* Unit tests: geometry as VMware computes it, type and adapter names. */
#include "tap.h"
#include "vdk.h"

int
main (void)
{
  struct vdk_geometry g;

  g = vdk_geometry_for (20971520, VDK_ADAPTER_IDE);
  ok (g.cylinders == 16383 && g.heads == 16 && g.sectors == 63,
      "10 GiB IDE caps cylinders at 16383 (%u/%u/%u)", g.cylinders, g.heads,
      g.sectors);
  g = vdk_geometry_for (10485760, VDK_ADAPTER_LSILOGIC);
  ok (g.cylinders == 652 && g.heads == 255 && g.sectors == 63,
      "5 GiB lsilogic is 652/255/63 (KB 306526)");
  g = vdk_geometry_for (2097152, VDK_ADAPTER_IDE);
  is_int (g.cylinders, 2080, "1 GiB IDE cylinders = 2097152/(16*63)");
  g = vdk_geometry_for (100, VDK_ADAPTER_BUSLOGIC);
  is_int (g.cylinders, 1, "tiny disk still has one cylinder");
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
