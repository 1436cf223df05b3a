/* Content probing: what kind of file starts a disk.
 *
 * Detection (docs/vmdk-format.md): "KDMV" at offset 0 is a hosted
 * sparse extent whose embedded descriptor names the file itself (we
 * always use the file actually opened, whatever name the descriptor
 * gives); "COWD" is an ESX redo-log extent; text whose first
 * non-comment line is `version=` (or that starts "# Disk
 * DescriptorFile") is a descriptor; anything else is a raw image. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>

#include "format/format.h"

static bool
looks_like_descriptor (const char *t, size_t n)
{
  const char *p = t, *end = t + n;
  if (n >= 21 && strncasecmp (t, "# Disk DescriptorFile", 21) == 0)
    return true;
  while (p < end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
      p++;
    if (p < end && *p == '#') {
      const char *nl = memchr (p, '\n', (size_t) (end - p));
      p = nl ? nl + 1 : end;
      continue;
    }
    if ((size_t) (end - p) < 7 || strncasecmp (p, "version", 7) != 0)
      return false;
    p += 7;
    while (p < end && (*p == ' ' || *p == '\t'))
      p++;
    return p < end && *p == '=';
  }
  return false;
}

char
vdk__probe_buf (const uint8_t head[VDK__PROBE_BYTES], uint64_t size)
{
  if (size >= 4 && le32_get (head) == KDMV_MAGIC)
    return 'K';
  if (size >= 4 && le32_get (head) == COWD_MAGIC)
    return 'C';
  if (looks_like_descriptor ((const char *) head,
                             (size_t) MIN (size, VDK__PROBE_BYTES)))
    return 'D';
  return 'R';
}

int
vdk__probe (struct vdk_io *io, char *kind)
{
  uint8_t buf[VDK__PROBE_BYTES];
  uint64_t size;

  if (vdk__io_size (io, &size) == -1)
    return -1;
  if (size == 0)
    return vdk__err (ENOTSUP, "%s: file is empty: not a disk", io->path);
  if (vdk__io_pread (io, buf, sizeof buf, 0) == -1)
    return -1;
  *kind = vdk__probe_buf (buf, size);
  return 0;
}
