/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* librbd and librados loaded on first use: see io/rbd-lib.h. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "io/rbd-lib.h"
#include "error.h"

struct vdk__rbd_lib rbdl;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[256];   /* empty after a successful load */

/* dlsym into a member; a missing function ends the load. */
static int
resolve (void *h, const char *name, void **slot)
{
  if (load_error[0])
    return -1;
  if (!(*slot = dlsym (h, name))) {
    snprintf (load_error, sizeof load_error, "the installed Ceph "
              "libraries lack %s (librbd is too old)", name);
    return -1;
  }
  return 0;
}

static void
load (void)
{
  void *rados, *rbd;

  /* Never closed: librados keeps threads and atexit handlers. */
  if (!(rados = dlopen ("librados.so.2", RTLD_NOW | RTLD_LOCAL))
      || !(rbd = dlopen ("librbd.so.1", RTLD_NOW | RTLD_LOCAL))) {
    snprintf (load_error, sizeof load_error, "rbd: names need librbd "
              "(the Debian package librbd1): %s", dlerror ());
    return;
  }
#define RESOLVE(lib, f) resolve (lib, #f, (void **) &rbdl.f);
#define RADOS(f) RESOLVE (rados, f)
#define RBD(f) RESOLVE (rbd, f)
  VDK_RADOS_FUNCTIONS (RADOS)
  VDK_RBD_FUNCTIONS (RBD)
#undef RBD
#undef RADOS
#undef RESOLVE
}

int
vdk__rbd_load (void)
{
  pthread_once (&load_once, load);
  if (load_error[0])
    return vdk__errc (VDK_E_UNSUPPORTED, ENOTSUP, "%s", load_error);
  return 0;
}
