/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* trim-tool DISK MODE OFFSET LENGTH: call vdk_trim or vdk_zero_ex on a
 * disk, for the interop test of trim (test-trim.sh).  MODE is trim,
 * zero, may-trim, fast or fast-may-trim.  Exit status: 0 done, 2 the
 * call failed with VDK_E_UNSUPPORTED, 1 any other failure.  Built on the
 * public header only, like any program using libvdk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vdk.h"

int
main (int argc, char **argv)
{
  vdk_disk *d;
  uint64_t off, len;
  int r;

  if (argc != 5) {
    fprintf (stderr, "usage: trim-tool DISK MODE OFFSET LENGTH\n");
    return 1;
  }
  off = strtoull (argv[3], NULL, 0);
  len = strtoull (argv[4], NULL, 0);
  if (!(d = vdk_open (argv[1], 0))) {
    fprintf (stderr, "trim-tool: %s\n", vdk_last_error ());
    return 1;
  }
  if (strcmp (argv[2], "trim") == 0)
    r = vdk_trim (d, off, len);
  else if (strcmp (argv[2], "zero") == 0)
    r = vdk_zero_ex (d, off, len, 0);
  else if (strcmp (argv[2], "may-trim") == 0)
    r = vdk_zero_ex (d, off, len, VDK_ZERO_MAY_TRIM);
  else if (strcmp (argv[2], "fast") == 0)
    r = vdk_zero_ex (d, off, len, VDK_ZERO_FAST);
  else if (strcmp (argv[2], "fast-may-trim") == 0)
    r = vdk_zero_ex (d, off, len, VDK_ZERO_FAST | VDK_ZERO_MAY_TRIM);
  else {
    fprintf (stderr, "trim-tool: unknown mode %s\n", argv[2]);
    vdk_close (d);
    return 1;
  }
  if (r == -1) {
    int code = vdk_last_error_code ();
    fprintf (stderr, "trim-tool: %s\n", vdk_last_error ());
    vdk_close (d);
    return code == VDK_E_UNSUPPORTED ? 2 : 1;
  }
  if (vdk_close (d) == -1) {
    fprintf (stderr, "trim-tool: %s\n", vdk_last_error ());
    return 1;
  }
  return 0;
}
