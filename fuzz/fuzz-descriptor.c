/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the VMDK descriptor parser and writer.  Whatever parses
 * must format, and the formatted text must parse again to the same
 * number of extents and keys (the writer is the reader's inverse). */
#include <stdio.h>
#include <stdlib.h>

#include "ops/ops.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char err[256];
  struct vdk_desc *d = vdk__desc_parse ((const char *) data, size, err,
                                        sizeof err), *d2;
  char *text;

  if (!d)
    return 0;
  text = vdk__desc_format (d);
  if (text) {
    d2 = vdk__desc_parse (text, strlen (text), err, sizeof err);
    if (!d2 || d2->nextents != d->nextents || d2->nddb != d->nddb
        || d2->nheader != d->nheader) {
      fprintf (stderr, "descriptor did not survive a round trip: %s\n",
               d2 ? "counts differ" : err);
      abort ();
    }
    vdk__desc_free (d2);
    free (text);
  }
  vdk__desc_free (d);
  return 0;
}
