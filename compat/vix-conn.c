/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vix-conn.c - VixDiskLib's library setup and connections.
 *
 * InitEx hands the log callbacks to vdk_init (vdk's sinks have the
 * VDDK's signature, printf format + va_list) and reads the config file.
 * Init and Exit are counted under one mutex, so InitEx may come from any
 * thread and a library that calls InitEx inside a program that did too
 * keeps working until the last Exit.
 *
 * Config file (InitEx configFile): `key = "value"` lines, `#` comments.
 * vdk reads two keys and ignores the VDDK's others:
 *   vdk.pskFile      TLS-PSK key file (psktool format) for NBD servers
 *   vdk.certificates X.509 folder (ca-cert.pem, ...) for NBD servers
 *
 * A connection is a copy of what Open needs: local, or an NBD server
 * with credentials and the transports vdk offers of the caller's list
 * (see vixDiskLib.h).  The caller's VixDiskLibConnectParams are deep
 * copied, so the caller may free them after ConnectEx.
 *
 * Connect params handed out by the library (AllocateConnectParams,
 * GetConnectParams) carry in `state` the list of strings the library
 * allocated for them: FreeConnectParams frees those and never a string
 * the caller stored (nbdkit fills an allocated struct with its own
 * strings and then frees the struct). */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vdk-mount.h"
#include "vix-internal.h"

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned init_count;
static uint32_t init_major;
static char *cfg_psk_file, *cfg_certificates;

/* The offered transports, in the VDDK's default order. */
#define VIX_TRANSPORTS "file:nbdssl:nbd"

uint32_t
vix__init_major (void)
{
  uint32_t m;
  pthread_mutex_lock (&init_lock);
  m = init_major;
  pthread_mutex_unlock (&init_lock);
  return m;
}

/* Store the value of `key = "value"` if the line sets `key`. */
static int
cfg_line (char *line, const char *key, char **out)
{
  size_t klen = strlen (key);
  char *p = line, *v, *end;

  while (isspace ((unsigned char) *p))
    p++;
  if (strncmp (p, key, klen) != 0)
    return 0;
  p += klen;
  while (isspace ((unsigned char) *p))
    p++;
  if (*p != '=')
    return 0;
  v = p + 1;
  while (isspace ((unsigned char) *v))
    v++;
  end = v + strlen (v);
  while (end > v && isspace ((unsigned char) end[-1]))
    end--;
  if (end - v >= 2 && *v == '"' && end[-1] == '"') {
    v++;
    end--;
  }
  *end = 0;
  free (*out);
  if (!(*out = strdup (v)))
    return -1;
  return 1;
}

static VixError
read_config (const char *file)
{
  FILE *f = fopen (file, "re");
  char line[4096];
  int r = 0;

  if (!f)
    return vix__fail (errno == ENOENT ? VIX_E_FILE_NOT_FOUND
                      : VIX_E_FILE_ACCESS_ERROR, "VixDiskLib_InitEx",
                      "config file %s: %s", file, strerror (errno));
  while (r != -1 && fgets (line, sizeof line, f)) {
    line[strcspn (line, "\r\n")] = 0;
    if (line[strspn (line, " \t")] == '#')
      continue;
    r = cfg_line (line, "vdk.pskFile", &cfg_psk_file);
    if (r == 0)
      r = cfg_line (line, "vdk.certificates", &cfg_certificates);
  }
  fclose (f);
  if (r == -1)
    return vix__fail (VIX_E_OUT_OF_MEMORY, "VixDiskLib_InitEx",
                      "out of memory");
  return VIX_OK;
}

VIX_API VixError
VixDiskLib_InitEx (uint32 majorVersion, uint32 minorVersion,
                   VixDiskLibGenericLogFunc *log,
                   VixDiskLibGenericLogFunc *warn,
                   VixDiskLibGenericLogFunc *panic, const char *libDir,
                   const char *configFile)
{
  VixError err = VIX_OK;

  (void) minorVersion;
  (void) libDir; /* vdk has no plugins to find there */
  pthread_mutex_lock (&init_lock);
  if (configFile && *configFile)
    err = read_config (configFile);
  if (err == VIX_OK) {
    if (vdk_init (log, warn, panic) == -1)
      err = vix__fail_vdk ("VixDiskLib_InitEx");
    else {
      init_count++;
      init_major = majorVersion;
    }
  }
  pthread_mutex_unlock (&init_lock);
  return err;
}

VIX_API VixError
VixDiskLib_Init (uint32 majorVersion, uint32 minorVersion,
                 VixDiskLibGenericLogFunc *log,
                 VixDiskLibGenericLogFunc *warn,
                 VixDiskLibGenericLogFunc *panic, const char *libDir)
{
  return VixDiskLib_InitEx (majorVersion, minorVersion, log, warn, panic,
                            libDir, NULL);
}

VIX_API void
VixDiskLib_Exit (void)
{
  pthread_mutex_lock (&init_lock);
  if (init_count > 0 && --init_count == 0) {
    vdk_exit ();
    free (cfg_psk_file);
    free (cfg_certificates);
    cfg_psk_file = cfg_certificates = NULL;
    init_major = 0;
  }
  pthread_mutex_unlock (&init_lock);
}

VIX_API const char *
VixDiskLib_ListTransportModes (void)
{
  return VIX_TRANSPORTS;
}

/* ---- Connect params ------------------------------------------------ */

#define CP_MAGIC 0x76647870u /* "vdxp" */
#define CP_STRINGS 9

struct cp_state {
  uint32_t magic;
  char *owned[CP_STRINGS];
};

VIX_API VixDiskLibConnectParams *
VixDiskLib_AllocateConnectParams (void)
{
  VixDiskLibConnectParams *p = calloc (1, sizeof *p);
  struct cp_state *st = calloc (1, sizeof *st);

  if (!p || !st) {
    free (p);
    free (st);
    return NULL;
  }
  st->magic = CP_MAGIC;
  p->state = st;
  p->specType = VIXDISKLIB_SPEC_VMX;
  return p;
}

VIX_API void
VixDiskLib_FreeConnectParams (VixDiskLibConnectParams *p)
{
  struct cp_state *st;

  if (!p)
    return;
  st = p->state;
  if (st && st->magic == CP_MAGIC) {
    for (size_t i = 0; i < CP_STRINGS; i++)
      free (st->owned[i]);
    st->magic = 0;
    free (st);
  }
  free (p);
}

/* *dst = copy of src, remembered in st; 0 or -1. */
static int
cp_dup (struct cp_state *st, size_t i, char **dst, const char *src)
{
  *dst = NULL;
  if (!src)
    return 0;
  if (!(*dst = st->owned[i] = strdup (src)))
    return -1;
  return 0;
}

/* A library-owned deep copy of the caller's params (or of none). */
static VixDiskLibConnectParams *
cp_copy (const VixDiskLibConnectParams *src)
{
  VixDiskLibConnectParams *p = VixDiskLib_AllocateConnectParams ();
  struct cp_state *st;
  int r = 0;

  if (!p || !src)
    return p;
  st = p->state;
  r |= cp_dup (st, 0, &p->vmxSpec, src->vmxSpec);
  r |= cp_dup (st, 1, &p->serverName, src->serverName);
  r |= cp_dup (st, 2, &p->thumbPrint, src->thumbPrint);
  p->credType = src->credType;
  if (src->credType == VIXDISKLIB_CRED_UID) {
    r |= cp_dup (st, 3, &p->creds.uid.userName, src->creds.uid.userName);
    r |= cp_dup (st, 4, &p->creds.uid.password, src->creds.uid.password);
  } else if (src->credType == VIXDISKLIB_CRED_SESSIONID) {
    r |= cp_dup (st, 3, &p->creds.sessionId.cookie,
                 src->creds.sessionId.cookie);
    r |= cp_dup (st, 4, &p->creds.sessionId.userName,
                 src->creds.sessionId.userName);
    r |= cp_dup (st, 5, &p->creds.sessionId.key, src->creds.sessionId.key);
  }
  p->port = src->port;
  p->nfcHostPort = src->nfcHostPort;
  /* vimApiVer and the 6.7 tail (FCD specs) are not copied: vdk uses
   * neither, and a 5.5-era caller's struct has no tail to read. */
  if (r) {
    VixDiskLib_FreeConnectParams (p);
    return NULL;
  }
  return p;
}

VIX_API VixError
VixDiskLib_GetConnectParams (const VixDiskLibConnection conn,
                             VixDiskLibConnectParams **out)
{
  if (!conn || !out)
    return vix__fail (VIX_E_INVALID_ARG, "VixDiskLib_GetConnectParams",
                      "no connection or no place for the result");
  if (!(*out = cp_copy (conn->params)))
    return vix__fail (VIX_E_OUT_OF_MEMORY, "VixDiskLib_GetConnectParams",
                      "out of memory");
  return VIX_OK;
}

/* ---- Connections ----------------------------------------------------- */

static void
conn_free (struct VixDiskLibConnectParam *c)
{
  if (!c)
    return;
  free (c->server);
  free (c->user);
  if (c->password) {
    memset (c->password, 0, strlen (c->password));
    free (c->password);
  }
  free (c->key_file);
  free (c->certificates);
  free (c->transports);
  VixDiskLib_FreeConnectParams (c->params);
  free (c);
}

/* The names of `list` vdk offers for this kind of connection, in the
 * caller's order; NULL list -> NULL (vdk's default order). */
static int
filter_transports (const char *list, bool remote, char **out)
{
  char *copy, *save = NULL, *tok, *res;
  size_t len = 0;

  *out = NULL;
  if (!list)
    return 0;
  if (!(copy = strdup (list)) || !(res = calloc (1, strlen (list) + 1))) {
    free (copy);
    return -1;
  }
  for (tok = strtok_r (copy, ":", &save); tok;
       tok = strtok_r (NULL, ":", &save)) {
    bool offered = strcmp (tok, "nbd") == 0 || strcmp (tok, "nbdssl") == 0
                   || (!remote && strcmp (tok, "file") == 0);
    if (!offered)
      continue;
    if (len)
      res[len++] = ':';
    memcpy (res + len, tok, strlen (tok));
    len += strlen (tok);
  }
  free (copy);
  *out = res;
  return 0;
}

static int
dup_opt (char **dst, const char *src)
{
  *dst = NULL;
  return src && !(*dst = strdup (src)) ? -1 : 0;
}

/* Does libvdk have its NBD client?  Asked without touching the network:
 * a unix socket that cannot exist fails with a connection error when it
 * does, and with VDK_E_UNSUPPORTED when remote disks are not built in. */
static VixError
remote_available (const char *call, const char *server)
{
  struct vdk_open_params p = VDK_OPEN_PARAMS_INIT;
  vdk_disk *d;

  p.flags = VDK_OPEN_READ_ONLY;
  p.transports = "nbd";
  p.socket = "/nonexistent/vdk-vix-probe.sock";
  if ((d = vdk_open_ex ("", &p))) {
    vdk_close (d);
    return VIX_OK;
  }
  if (vdk_last_error_code () == VDK_E_UNSUPPORTED)
    return vix__fail (VIX_E_NOT_SUPPORTED, call, "%s: this libvdk was built "
                      "without its NBD client, so remote connections are "
                      "not available (%s)", server, vdk_last_error ());
  return VIX_OK;
}

static VixError
conn_fill (struct VixDiskLibConnectParam *c,
           const VixDiskLibConnectParams *p, const char *transports)
{
  const char *call = "VixDiskLib_ConnectEx";
  int r = 0;

  c->remote = p && p->serverName && *p->serverName;
  if (filter_transports (transports, c->remote, &c->transports) == -1)
    return vix__fail (VIX_E_OUT_OF_MEMORY, call, "out of memory");
  if (!c->remote)
    return VIX_OK;
  if (p->credType != VIXDISKLIB_CRED_UID && p->credType != 0)
    return vix__fail (VIX_E_NOT_SUPPORTED, call,
                      "credential type %d: vdk's NBD servers take only "
                      "VIXDISKLIB_CRED_UID (user = TLS-PSK identity, "
                      "password = key)", (int) p->credType);
  r |= dup_opt (&c->server, p->serverName);
  if (p->credType == VIXDISKLIB_CRED_UID) {
    r |= dup_opt (&c->user, p->creds.uid.userName);
    r |= dup_opt (&c->password, p->creds.uid.password);
  }
  pthread_mutex_lock (&init_lock);
  r |= dup_opt (&c->key_file, cfg_psk_file);
  r |= dup_opt (&c->certificates, cfg_certificates);
  pthread_mutex_unlock (&init_lock);
  c->port = p->nfcHostPort ? p->nfcHostPort : p->port;
  if (r)
    return vix__fail (VIX_E_OUT_OF_MEMORY, call, "out of memory");
  if (c->transports && !*c->transports)
    return vix__fail (VIX_E_NOT_SUPPORTED, call, "%s: none of the "
                      "transports \"%s\" is one vdk offers (nbdssl, nbd)",
                      c->server, transports);
  return remote_available (call, c->server);
}

VIX_API VixError
VixDiskLib_ConnectEx (const VixDiskLibConnectParams *params, Bool readOnly,
                      const char *snapshotRef, const char *transportModes,
                      VixDiskLibConnection *connection)
{
  struct VixDiskLibConnectParam *c;
  VixError err;

  (void) snapshotRef; /* a vSphere snapshot; vdk has none */
  if (!connection)
    return vix__fail (VIX_E_INVALID_ARG, "VixDiskLib_ConnectEx",
                      "no place for the connection");
  *connection = NULL;
  if (!(c = calloc (1, sizeof *c)) || !(c->params = cp_copy (params))) {
    free (c);
    return vix__fail (VIX_E_OUT_OF_MEMORY, "VixDiskLib_ConnectEx",
                      "out of memory");
  }
  c->read_only = readOnly != 0;
  if ((err = conn_fill (c, params, transportModes)) != VIX_OK) {
    conn_free (c);
    return err;
  }
  *connection = c;
  return VIX_OK;
}

VIX_API VixError
VixDiskLib_Connect (const VixDiskLibConnectParams *params,
                    VixDiskLibConnection *connection)
{
  return VixDiskLib_ConnectEx (params, FALSE, NULL, NULL, connection);
}

VIX_API VixError
VixDiskLib_Disconnect (VixDiskLibConnection connection)
{
  if (!connection)
    return vix__fail (VIX_E_INVALID_ARG, "VixDiskLib_Disconnect",
                      "no connection");
  conn_free (connection);
  return VIX_OK;
}

vdk_disk *
vix__open (const struct VixDiskLibConnectParam *c, const char *path,
           unsigned vdk_flags)
{
  struct vdk_open_params p = VDK_OPEN_PARAMS_INIT;

  if (c && c->read_only)
    vdk_flags |= VDK_OPEN_READ_ONLY;
  p.flags = vdk_flags;
  if (!c || !c->remote)
    return vdk_open_ex (path, &p);
  p.transports = c->transports;
  p.server = c->server;
  p.port = c->port;
  p.user = c->user;
  p.password = c->password;
  p.key_file = c->key_file;
  p.certificates = c->certificates;
  /* The path is the export name: "[datastore] dir/name.vmdk" as `vdk
   * serve --datastore` serves it, or a ticket from `vdk ticket create`. */
  return vdk_open_ex (path, &p);
}

/* ---- vCenter calls ------------------------------------------------- */

VIX_API VixError
VixDiskLib_PrepareForAccess (const VixDiskLibConnectParams *params,
                             const char *identity)
{
  (void) params;
  (void) identity;
  return VIX_OK; /* no vCenter, no Storage vMotion to hold off */
}

VIX_API VixError
VixDiskLib_EndAccess (const VixDiskLibConnectParams *params,
                      const char *identity)
{
  (void) params;
  (void) identity;
  return VIX_OK;
}

/* What an unclean exit leaves behind on vdk is mounts whose serving
 * process died (VixMntapi); vdk_mount_cleanup tears them down. */
VIX_API VixError
VixDiskLib_Cleanup (const VixDiskLibConnectParams *params,
                    uint32 *numCleanedUp, uint32 *numRemaining)
{
  unsigned cleaned = 0, in_use = 0;
  int r, code;

  if (numCleanedUp)
    *numCleanedUp = 0;
  if (numRemaining)
    *numRemaining = 0;
  if (params && params->vmxSpec)
    return vix__fail (VIX_E_INVALID_ARG, "VixDiskLib_Cleanup",
                      "vmxSpec must be NULL");
  r = vdk_mount_cleanup (&cleaned, &in_use);
  code = vdk_last_error_code ();
  if (r == -1 && code != VDK_E_UNSUPPORTED && code != VDK_E_ACCESS_DENIED) {
    if (numRemaining)
      *numRemaining = 1;
    return vix__fail_vdk ("VixDiskLib_Cleanup");
  }
  if (numCleanedUp)
    *numCleanedUp = cleaned;
  return VIX_OK;
}
