/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LD_PRELOAD into an NBD client (nbdinfo): after each successful TLS
 * handshake, print "tls-cipher NAME" on stderr, so a test can see which
 * cipher the server settled on (libnbd does not say). */
#include <dlfcn.h>
#include <stdio.h>

#include <gnutls/gnutls.h>

int
gnutls_handshake (gnutls_session_t s)
{
  int (*real) (gnutls_session_t) =
    (int (*) (gnutls_session_t)) dlsym (RTLD_NEXT, "gnutls_handshake");
  int r = real (s);

  if (r == 0)
    fprintf (stderr, "tls-cipher %s\n",
             gnutls_cipher_get_name (gnutls_cipher_get (s)));
  return r;
}
