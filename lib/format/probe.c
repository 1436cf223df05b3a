/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Content probing: what kind of file starts a disk.
 *
 * Detection (docs/vmdk-format.md): "KDMV" at offset 0 is a hosted
 * sparse extent whose embedded descriptor names the file itself (we
 * always use the file actually opened, whatever name the descriptor
 * gives); "COWD" is an ESX redo-log extent; text whose first
 * non-comment line is `version=` (or that starts "# Disk
 * DescriptorFile") is a descriptor; anything else is a raw image -
 * unless it carries the magic of another image format (qcow2, QED, VHD,
 * VHDX, VDI, Parallels) or of an optical-disc file system (ISO 9660,
 * UDF): read as raw, those would serve the other format's metadata as
 * disk content (`vdk convert q.qcow2 q.vmdk` made a "disk" of qcow2
 * tables), so the probe refuses them by name.  Opening with an explicit
 * raw format (VDK_OPEN_FORMAT_RAW, `-f raw`) skips the probe. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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

/* Other formats' magic, at each format's published offset. */
static const struct {
  uint64_t off;
  const char *magic;
  size_t n;
  const char *name;
} foreign[] = {
  { 0, "QFI\xfb", 4, "qcow2" },              /* qcow and qcow2 */
  { 0, "QED\0", 4, "QED" },
  { 0, "vhdxfile", 8, "VHDX" },
  { 0, "conectix", 8, "VHD (dynamic)" },      /* footer copy at 0 */
  { 0x40, "\x7f\x10\xda\xbe", 4, "VDI" },    /* VirtualBox signature */
  { 0, "WithoutFreeSpace", 16, "Parallels" },
  { 0, "WithouFreSpacExt", 16, "Parallels" },
  { 0x8001, "CD001", 5, "ISO 9660" },          /* volume descriptor 16 */
  { 0x8001, "BEA01", 5, "UDF" },               /* extended area */
};

/* Another format's magic at `off`, read only if the file holds it. */
static bool
magic_at (struct vdk_io *io, uint64_t size, uint64_t off, const char *magic,
          size_t n)
{
  char b[64];
  return off <= size && n <= sizeof b && size - off >= n
    && vdk__io_pread (io, b, n, off) == 0 && memcmp (b, magic, n) == 0;
}

/* The name of the non-VMDK image format whose magic the file carries,
 * or NULL. */
const char *
vdk__probe_foreign (struct vdk_io *io, uint64_t size)
{
  for (size_t i = 0; i < ARRAY_SIZE (foreign); i++)
    if (magic_at (io, size, foreign[i].off, foreign[i].magic, foreign[i].n))
      return i == 0 && magic_at (io, size, 4, "\0\0\0\1", 4) ? "qcow"
        : foreign[i].name;
  /* A fixed VHD is raw data plus a 512-byte footer (511 in old
   * Virtual PC files). */
  if (size >= 512 && (magic_at (io, size, size - 512, "conectix", 8)
                      || magic_at (io, size, size - 511, "conectix", 8)))
    return "VHD (fixed)";
  return NULL;
}

/* The same table on a buffer holding the first VDK__PROBE_BYTES bytes.
 * (A fixed VHD's footer at the end of the file is not in it.) */
static const char *
foreign_in (const uint8_t *head, uint64_t size)
{
  _Static_assert (0x8001 + 5 <= VDK__PROBE_BYTES,
                  "the probe window holds every magic of the table");
  for (size_t i = 0; i < ARRAY_SIZE (foreign); i++)
    if (foreign[i].off + foreign[i].n <= size
        && memcmp (head + foreign[i].off, foreign[i].magic,
                   foreign[i].n) == 0)
      return i == 0 && size >= 8 && memcmp (head + 4, "\0\0\0\1", 4) == 0
        ? "qcow" : foreign[i].name;
  return NULL;
}

char
vdk__probe_buf (const uint8_t *head, uint64_t size, const char **other)
{
  const char *f;
  if (size >= 4 && le32_get (head) == KDMV_MAGIC)
    return 'K';
  if (size >= 4 && le32_get (head) == COWD_MAGIC)
    return 'C';
  if (looks_like_descriptor ((const char *) head,
                             (size_t) MIN (size, VDK__PROBE_BYTES)))
    return 'D';
  if ((f = foreign_in (head, size))) {
    if (other)
      *other = f;
    return 'F';
  }
  return 'R';
}

int
vdk__probe (struct vdk_io *io, char *kind)
{
  CLEANUP_FREE uint8_t *buf = malloc (VDK__PROBE_BYTES);
  const char *other;
  uint64_t size;

  if (!buf)
    return vdk__err (ENOMEM, "out of memory");
  if (vdk__io_size (io, &size) == -1)
    return -1;
  if (size == 0)
    return vdk__err (ENOTSUP, "%s: file is empty: not a disk", io->path);
  if (vdk__io_pread (io, buf, VDK__PROBE_BYTES, 0) == -1)
    return -1;
  *kind = vdk__probe_buf (buf, size, NULL);
  if (*kind == 'R' || *kind == 'F') {
    if ((other = vdk__probe_foreign (io, size)))
      return vdk__errc (VDK_E_UNSUPPORTED, ENOTSUP, "%s: found %s image "
                        "metadata; vdk reads only VMDK and raw disks: open "
                        "it as raw (-f raw) to take its bytes as they are",
                        io->path, other);
    *kind = 'R';
  }
  return 0;
}

const struct vdk_extent_ops *
vdk__probe_format (struct vdk_io *io)
{
  CLEANUP_FREE uint8_t *buf = malloc (VDK__PROBE_BYTES);
  uint64_t size;
  size_t n;

  if (!buf) {
    vdk__err (ENOMEM, "out of memory");
    return NULL;
  }
  if (vdk__io_size (io, &size) == -1
      || vdk__io_pread (io, buf, VDK__PROBE_BYTES, 0) == -1)
    return NULL;
  n = (size_t) MIN (size, VDK__PROBE_BYTES);
  for (size_t i = 0; vdk__formats[i]; i++)
    if (vdk__formats[i]->probe && vdk__formats[i]->probe (buf, n, size))
      return vdk__formats[i];
  return NULL;
}
