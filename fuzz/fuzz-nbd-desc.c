/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the reader of a server's export description
 * (disk/remote-desc.c), which comes from the network.  Whatever it
 * accepts must make a descriptor whose text parses again with the same
 * keys: the description can never smuggle a line break or a quote into
 * a key or value. */
#include <stdio.h>
#include <stdlib.h>

#include "disk/disk.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct vdk__remote r = { .psk_fd = -1 };
  char err[256], *text;
  struct vdk_desc *d2;

  if (vdk__remote_parse ((const char *) data, size, &r) == -1)
    return 0;
  if ((text = vdk__desc_format (r.desc))) {
    d2 = vdk__desc_parse (text, strlen (text), err, sizeof err);
    if (!d2 || d2->nddb != r.desc->nddb || d2->nheader != r.desc->nheader) {
      fprintf (stderr, "a description made a descriptor that does not "
               "parse back: %s\n", d2 ? "counts differ" : err);
      abort ();
    }
    vdk__desc_free (d2);
    free (text);
  }
  vdk__desc_free (r.desc);
  return 0;
}
