/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Random bytes for CIDs and UUIDs.
 *
 * A CID tells a child which parent it was made from and a new CID marks
 * every first write: two disks made with the same "random" CID defeat
 * that check, so a predictable generator (rand(3), unseeded, gives the
 * same values on every run) is never used.  getrandom(2) comes first;
 * where it is missing (ENOSYS: old kernels, some seccomp sandboxes) the
 * kernel's /dev/urandom serves; when neither works the call fails with a
 * clear error and the caller creates or changes nothing.
 *
 * No locking: each call is independent. */
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "error.h"

ssize_t (*vdk__getrandom_hook) (void *buf, size_t len);
const char *vdk__urandom_path = "/dev/urandom";

static int
from_getrandom (uint8_t *p, size_t len)
{
  while (len > 0) {
    ssize_t n = vdk__getrandom_hook ? vdk__getrandom_hook (p, len)
      : getrandom (p, len, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;              /* errno says why */
    p += n, len -= (size_t) n;
  }
  return 0;
}

static int
from_device (uint8_t *p, size_t len)
{
  int fd = open (vdk__urandom_path, O_RDONLY | O_CLOEXEC);
  int saved;

  if (fd == -1)
    return -1;
  while (len > 0) {
    ssize_t n = read (fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      saved = n == 0 ? EIO : errno;
      close (fd);
      errno = saved;
      return -1;
    }
    p += n, len -= (size_t) n;
  }
  close (fd);
  return 0;
}

int
vdk__random (void *buf, size_t len)
{
  int first;

  if (from_getrandom (buf, len) == 0)
    return 0;
  first = errno;
  if (from_device (buf, len) == 0)
    return 0;
  return vdk__errc (VDK_E_FAILED, errno, "no source of random numbers for "
                    "CIDs and UUIDs: getrandom: %s; %s: %s", strerror (first),
                    vdk__urandom_path, strerror (errno));
}

int
vdk__random32 (uint32_t *out)
{
  return vdk__random (out, sizeof *out);
}
