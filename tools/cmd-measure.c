/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd-measure.c - `vdk measure`: the bytes a conversion will need.
 *
 * Opens SRC read-only and asks vdk_measure() for the size of the files
 * `vdk convert -t TYPE SRC DST` would write (DST is optional: only its
 * base name matters, as descriptors hold file names) (exact for uncompressed
 * types, an upper bound for streamOptimized).  Prints the number, or a
 * JSON object with --json. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include "vdk-common.h"
#include "vdk-tool.h"

int
run_measure (const struct cmd_opts *o)
{
  struct vdk_clone_params params = VDK_CLONE_PARAMS_INIT;
  const char *src = o->args[0];
  uint64_t bytes = 0;
  vdk_disk *disk;
  int ret = 0;

  params.type = o->type ? vdk_type_from_name (o->type)
    : VDK_TYPE_MONOLITHIC_SPARSE;
  if (params.type < 0) {
    tool_error ("%s: unknown disk type '%s'", src, o->type);
    return 1;
  }
  if (o->single_link)
    params.flags |= VDK_CLONE_SINGLE_LINK;
  disk = tool_open (src, VDK_OPEN_READ_ONLY | o->open_flags);
  if (disk == NULL)
    return tool_lib_error ();
  if (vdk_measure (disk, o->nargs > 1 ? o->args[1] : NULL, &params,
                   &bytes) == -1)
    ret = tool_lib_error ();
  else if (o->json) {
    struct tool_json j;

    tool_json_init (&j, stdout);
    tool_json_object (&j, NULL);
    tool_json_str (&j, "create_type", vdk_type_name (params.type));
    tool_json_uint (&j, "required", bytes);
    tool_json_bool (&j, "exact", params.type != VDK_TYPE_STREAM_OPTIMIZED);
    tool_json_object_end (&j);
  } else
    printf ("%" PRIu64 "\n", bytes);
  vdk_close (disk);
  return ret;
}
