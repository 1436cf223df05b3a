/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdk_defrag: lay a sparse disk out again in LBA order (vmware-
 * vdiskmanager -d, VixDiskLib_Defragment).
 *
 * Every sparse extent of the link is rewritten (ops/rewrite.c): grain
 * tables first (preallocated after the header, as a new extent has
 * them), then every allocated grain in address order, contiguous.  The
 * guest-visible contents and every entry's state (data, zeroed grain,
 * unallocated) are kept, so children stay valid and the CID does not
 * change.  Crash safe by replacement (new file, fsync, rename). */
#include "maint.h"

VDK_API int
vdk_defrag (const char *path, unsigned open_flags, vdk_progress_fn progress,
            void *opaque)
{
  vdk__set_call ("vdk_defrag");
  return vdk__rewrite_link (path, open_flags, false, progress, opaque);
}
