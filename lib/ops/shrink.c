/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vdk_shrink: give back the space of grains that hold only zeroes
 * (vmware-vdiskmanager -k, VixDiskLib_Shrink).
 *
 * Every sparse extent of the link is rewritten (ops/rewrite.c): all-zero
 * data grains are not copied (or become zeroed-grain entries in a child,
 * where a hole would show the parent), and space leaked by crashes or
 * overwritten tables goes too, so the file gets smaller.  Crash safe by
 * replacement: new file, fsync, rename over the old, fsync the folder.
 * Flat and zero extents are left as they are. */
#include "maint.h"

VDK_API int
vdk_shrink (const char *path, unsigned open_flags, vdk_progress_fn progress,
            void *opaque)
{
  vdk__set_call ("vdk_shrink");
  return vdk__rewrite_link (path, open_flags, true, progress, opaque);
}
