/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vixDiskLib.h - VMware VDDK's VixDiskLib API, implemented by vdk.
 *
 * vdk's libvixDiskLib.so.8 (also reachable as .so.7 and .so.6) exports
 * every call of VixDiskLib 6.5 - 8 with the VDDK's names, struct layouts,
 * enum values and error codes, so a program written against VMware's
 * VDDK runs on vdk with no change but the library it loads.  This header
 * is vdk's own, written from the published facts of that ABI; a program
 * may be compiled against it or against VMware's.
 *
 * What vdk does where the VDDK's behaviour depends on its environment:
 *
 * Connections and transports
 * - Connect/ConnectEx with NULL params, or params whose serverName is
 *   NULL, give a local connection: the "file" transport, disk paths are
 *   host paths.
 * - With a serverName the connection is to an NBD server that serves
 *   vdk disks (`vdk serve`); vdk has no vSphere client.  A libvdk built
 *   without its NBD client fails such a ConnectEx with
 *   VIX_E_NOT_SUPPORTED, saying so.  The transport
 *   list (ConnectEx transportModes, colon-separated) is honoured in
 *   order; vdk offers "file", "nbdssl" (NBD with TLS) and "nbd" (plain
 *   NBD), and other names ("san", "hotadd") are skipped.  NULL means
 *   the VDDK's default order, of which vdk offers file:nbdssl:nbd
 *   (what VixDiskLib_ListTransportModes returns).
 * - Remote credentials (credType VIXDISKLIB_CRED_UID): userName is the
 *   TLS-PSK identity and password the PSK key (hex); instead of the
 *   password, the InitEx config file may name a psktool key file with
 *   `vdk.pskFile = "/path/keys.psk"`.  `vdk.certificates = "/dir"` in
 *   the config file names an X.509 folder (ca-cert.pem, client-cert.pem,
 *   client-key.pem) whose CA verifies the server.  The NBD port is
 *   nfcHostPort, else port, else 10809.  thumbPrint, vmxSpec,
 *   snapshotRef and vimApiVer are accepted and not used.
 * - A remote disk path is an export name of the server: the VDDK's
 *   "[datastore] dir/name.vmdk" (`vdk serve --datastore NAME=DIR` serves
 *   those), a ticket minted by `vdk ticket create`, or "" for the
 *   server's default export.
 * - PrepareForAccess and EndAccess succeed and do nothing (there is no
 *   vCenter whose Storage vMotion could be disabled).  Cleanup removes
 *   vdk mounts whose serving process died (VixMntapi's leftovers).
 *
 * Library rules
 * - InitEx may be called from any thread, and more than once (each
 *   InitEx is paired with an Exit).  The log, warning and panic
 *   callbacks may be called from any thread; NULL selects vdk's
 *   defaults, which write to stderr and are thread-safe.
 * - Open and Close may be called from different threads at once.  One
 *   handle may be used from several threads at once (vdk's handles are
 *   thread-safe), which the VDDK does not promise.
 * - Open flags, disk types and adapter types are translated value by
 *   value into vdk's, never cast.  Compression flags are accepted and
 *   ignored (they only concern the VDDK's wire protocol).
 * - After CreateChild, the parent handle refuses writes
 *   (VIX_E_FILE_READ_ONLY), as the VDDK's does: write the child.
 * - Shrink, Defragment and Attach work on open handles: the call closes
 *   and reopens the disk inside.  After Attach the parent handle is
 *   closed inside; it must still be passed to Close, which frees it.
 * - Raw images open too; they have no metadata (the metadata calls
 *   fail with VIX_E_NOT_SUPPORTED).
 *
 * Errors: every call returns a VixError whose low 16 bits are one of the
 * codes below; GetErrorText gives the VDDK's text for the code, plus
 * vdk's detail (file and cause) when the code is the last error of a
 * call in the calling thread.
 */
#ifndef _VIXDISKLIB_H_
#define _VIXDISKLIB_H_

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include "vm_basic_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Errors ---------------------------------------------------------- */

typedef uint64 VixError;

#define VIX_ERROR_CODE(err) ((err) & 0xFFFF)
#define VIX_SUCCEEDED(err) (VIX_OK == (err))
#define VIX_FAILED(err) (VIX_OK != (err))

enum {
  VIX_OK = 0,

  /* General errors */
  VIX_E_FAIL = 1,
  VIX_E_OUT_OF_MEMORY = 2,
  VIX_E_INVALID_ARG = 3,
  VIX_E_FILE_NOT_FOUND = 4,
  VIX_E_OBJECT_IS_BUSY = 5,
  VIX_E_NOT_SUPPORTED = 6,
  VIX_E_FILE_ERROR = 7,
  VIX_E_DISK_FULL = 8,
  VIX_E_INCORRECT_FILE_TYPE = 9,
  VIX_E_CANCELLED = 10,
  VIX_E_FILE_READ_ONLY = 11,
  VIX_E_FILE_ALREADY_EXISTS = 12,
  VIX_E_FILE_ACCESS_ERROR = 13,
  VIX_E_REQUIRES_LARGE_FILES = 14,
  VIX_E_FILE_ALREADY_LOCKED = 15,
  VIX_E_NOT_SUPPORTED_ON_REMOTE_OBJECT = 20,
  VIX_E_FILE_TOO_BIG = 21,
  VIX_E_FILE_NAME_INVALID = 22,
  VIX_E_ALREADY_EXISTS = 23,
  VIX_E_BUFFER_TOOSMALL = 24,
  VIX_E_OBJECT_NOT_FOUND = 25,
  VIX_E_HOST_NOT_CONNECTED = 26,
  VIX_E_INVALID_UTF8_STRING = 27,
  VIX_E_AUTHENTICATION_FAIL = 35,
  VIX_E_HOST_CONNECTION_LOST = 36,
  VIX_E_ARGUMENT_TOO_BIG = 44,

  /* Host and network block devices */
  VIX_E_HOST_DISK_INVALID_VALUE = 14003,
  VIX_E_HOST_DISK_SECTORSIZE = 14004,
  VIX_E_HOST_FILE_ERROR_EOF = 14005,
  VIX_E_HOST_NETBLKDEV_HANDSHAKE = 14006,
  VIX_E_HOST_SOCKET_CREATION_ERROR = 14007,
  VIX_E_HOST_SERVER_NOT_FOUND = 14008,
  VIX_E_HOST_NETWORK_CONN_REFUSED = 14009,
  VIX_E_HOST_TCP_SOCKET_ERROR = 14010,
  VIX_E_HOST_TCP_CONN_LOST = 14011,

  /* Disk library */
  VIX_E_DISK_INVAL = 16000,
  VIX_E_DISK_NOINIT = 16001,
  VIX_E_DISK_NOIO = 16002,
  VIX_E_DISK_PARTIALCHAIN = 16003,
  VIX_E_DISK_NEEDSREPAIR = 16006,
  VIX_E_DISK_OUTOFRANGE = 16007,
  VIX_E_DISK_CID_MISMATCH = 16008,
  VIX_E_DISK_CANTSHRINK = 16009,
  VIX_E_DISK_PARTMISMATCH = 16010,
  VIX_E_DISK_UNSUPPORTEDDISKVERSION = 16011,
  VIX_E_DISK_OPENPARENT = 16012,
  VIX_E_DISK_NOTSUPPORTED = 16013,
  VIX_E_DISK_NEEDKEY = 16014,
  VIX_E_DISK_NOKEYOVERRIDE = 16015,
  VIX_E_DISK_NOTENCRYPTED = 16016,
  VIX_E_DISK_NOKEY = 16017,
  VIX_E_DISK_INVALIDPARTITIONTABLE = 16018,
  VIX_E_DISK_NOTNORMAL = 16019,
  VIX_E_DISK_NOTENCDESC = 16020,
  VIX_E_DISK_NEEDVMFS = 16022,
  VIX_E_DISK_RAWTOOBIG = 16024,
  VIX_E_DISK_TOOMANYOPENFILES = 16027,
  VIX_E_DISK_TOOMANYREDO = 16028,
  VIX_E_DISK_RAWTOOSMALL = 16029,
  VIX_E_DISK_INVALIDCHAIN = 16030,
  VIX_E_DISK_KEY_NOTFOUND = 16052,
  VIX_E_DISK_SUBSYSTEM_INIT_FAIL = 16053,
  VIX_E_DISK_INVALID_CONNECTION = 16054,
  VIX_E_DISK_ENCODING = 16061,
  VIX_E_DISK_CANTREPAIR = 16062,
  VIX_E_DISK_INVALIDDISK = 16063,
  VIX_E_DISK_NOLICENSE = 16064,
  VIX_E_DISK_NODEVICE = 16065,
  VIX_E_DISK_UNSUPPORTEDDEVICE = 16066,
  VIX_E_DISK_CAPACITY_MISMATCH = 16067,
  VIX_E_DISK_PARENT_NOTALLOWED = 16068,
  VIX_E_DISK_ATTACH_ROOTLINK = 16069,

  /* Remoting */
  VIX_E_CANNOT_CONNECT_TO_HOST = 18000,

  /* Mounting (FUSE) */
  VIX_E_MNTAPI_MOUNTPT_NOT_FOUND = 24000,
  VIX_E_MNTAPI_MOUNTPT_IN_USE = 24001,
  VIX_E_MNTAPI_DISK_NOT_FOUND = 24002,
  VIX_E_MNTAPI_DISK_NOT_MOUNTED = 24003,
  VIX_E_MNTAPI_DISK_IS_MOUNTED = 24004,
  VIX_E_MNTAPI_DISK_NOT_SAFE = 24005,
  VIX_E_MNTAPI_DISK_CANT_OPEN = 24006,
  VIX_E_MNTAPI_CANT_READ_PARTS = 24007,
  VIX_E_MNTAPI_UMOUNT_APP_NOT_FOUND = 24008,
  VIX_E_MNTAPI_UMOUNT = 24009,
  VIX_E_MNTAPI_NO_MOUNTABLE_PARTITONS = 24010,
  VIX_E_MNTAPI_PARTITION_RANGE = 24011,
  VIX_E_MNTAPI_PERM = 24012,
  VIX_E_MNTAPI_DICT = 24013,
  VIX_E_MNTAPI_DICT_LOCKED = 24014,
  VIX_E_MNTAPI_OPEN_HANDLES = 24015,
  VIX_E_MNTAPI_CANT_MAKE_VAR_DIR = 24016,
  VIX_E_MNTAPI_NO_ROOT = 24017,
  VIX_E_MNTAPI_LOOP_FAILED = 24018,
  VIX_E_MNTAPI_DAEMON = 24019,
  VIX_E_MNTAPI_INTERNAL = 24020,
  VIX_E_MNTAPI_SYSTEM = 24021,
  VIX_E_MNTAPI_NO_CONNECTION_DETAILS = 24022,

  /* VixMntapi */
  VIX_E_MNTAPI_INCOMPATIBLE_VERSION = 24300,
  VIX_E_MNTAPI_OS_ERROR = 24301,
  VIX_E_MNTAPI_DRIVE_LETTER_IN_USE = 24302,
  VIX_E_MNTAPI_DRIVE_LETTER_ALREADY_ASSIGNED = 24303,
  VIX_E_MNTAPI_VOLUME_NOT_MOUNTED = 24304,
  VIX_E_MNTAPI_VOLUME_ALREADY_MOUNTED = 24305,
  VIX_E_MNTAPI_FORMAT_FAILURE = 24306,
  VIX_E_MNTAPI_NO_DRIVER = 24307,
  VIX_E_MNTAPI_ALREADY_OPENED = 24308,
  VIX_E_MNTAPI_ITEM_NOT_FOUND = 24309,
  VIX_E_MNTAPI_UNSUPPROTED_BOOT_LOADER = 24310,
  VIX_E_MNTAPI_UNSUPPROTED_OS = 24311,
  VIX_E_MNTAPI_CODECONVERSION = 24312,
  VIX_E_MNTAPI_REGWRITE_ERROR = 24313,
  VIX_E_MNTAPI_UNSUPPORTED_FT_VOLUME = 24314,
  VIX_E_MNTAPI_PARTITION_NOT_FOUND = 24315,
  VIX_E_MNTAPI_PUTFILE_ERROR = 24316,
  VIX_E_MNTAPI_GETFILE_ERROR = 24317,
  VIX_E_MNTAPI_REG_NOT_OPENED = 24318,
  VIX_E_MNTAPI_REGDELKEY_ERROR = 24319,
  VIX_E_MNTAPI_CREATE_PARTITIONTABLE_ERROR = 24320,
  VIX_E_MNTAPI_OPEN_FAILURE = 24321,
  VIX_E_MNTAPI_VOLUME_NOT_WRITABLE = 24322,

  /* Asynchronous I/O */
  VIX_ASYNC = 25000,
  VIX_E_ASYNC_MIXEDMODE_UNSUPPORTED = 26000,

  /* HTTP */
  VIX_E_NET_HTTP_COULDNT_CONNECT = 30007,
  VIX_E_NET_HTTP_SSL_CONNECT_ERROR = 30035,
  VIX_E_NET_HTTP_SSL_SECURITY = 30201,
};

/* ---- Types and constants ----------------------------------------------- */

#define VIXDISKLIB_VERSION_MAJOR 8
#define VIXDISKLIB_VERSION_MINOR 0

typedef uint64 VixDiskLibSectorType;
#define VIXDISKLIB_SECTOR_SIZE 512

#define VIXDISKLIB_MIN_CHUNK_SIZE 128
#define VIXDISKLIB_MAX_CHUNK_NUMBER (512 * 1024)

typedef struct VixDiskLibConnectParam *VixDiskLibConnection;
typedef struct VixDiskLibHandleStruct *VixDiskLibHandle;

typedef enum {
  VIXDISKLIB_DISK_MONOLITHIC_SPARSE = 1,
  VIXDISKLIB_DISK_MONOLITHIC_FLAT = 2,
  VIXDISKLIB_DISK_SPLIT_SPARSE = 3,
  VIXDISKLIB_DISK_SPLIT_FLAT = 4,
  VIXDISKLIB_DISK_VMFS_FLAT = 5,
  VIXDISKLIB_DISK_STREAM_OPTIMIZED = 6,
  VIXDISKLIB_DISK_VMFS_THIN = 7,
  VIXDISKLIB_DISK_VMFS_SPARSE = 8,
  VIXDISKLIB_DISK_UNKNOWN = 256
} VixDiskLibDiskType;

typedef enum {
  VIXDISKLIB_ADAPTER_IDE = 1,
  VIXDISKLIB_ADAPTER_SCSI_BUSLOGIC = 2,
  VIXDISKLIB_ADAPTER_SCSI_LSILOGIC = 3,
  VIXDISKLIB_ADAPTER_UNKNOWN = 256
} VixDiskLibAdapterType;

typedef enum {
  VIXDISKLIB_CRED_UID = 1,
  VIXDISKLIB_CRED_SESSIONID = 2,
  VIXDISKLIB_CRED_TICKETID = 3,
  VIXDISKLIB_CRED_SSPI = 4,
  VIXDISKLIB_CRED_UNKNOWN = 256
} VixDiskLibCredType;

typedef enum {
  VIXDISKLIB_SPEC_VMX = 0,
  VIXDISKLIB_SPEC_VSTORAGE_OBJECT = 1,
  VIXDISKLIB_SPEC_UNKNOWN = 2
} VixDiskLibSpecType;

/* Virtual hardware versions (VixDiskLibCreateParams.hwVersion). */
#define VIXDISKLIB_HWVERSION_WORKSTATION_4 3
#define VIXDISKLIB_HWVERSION_WORKSTATION_5 4
#define VIXDISKLIB_HWVERSION_ESX30 VIXDISKLIB_HWVERSION_WORKSTATION_5
#define VIXDISKLIB_HWVERSION_WORKSTATION_6 6
#define VIXDISKLIB_HWVERSION_ESX4X 7
#define VIXDISKLIB_HWVERSION_ESX50 8
#define VIXDISKLIB_HWVERSION_ESX51 9
#define VIXDISKLIB_HWVERSION_ESX55 10
#define VIXDISKLIB_HWVERSION_ESX60 11
#define VIXDISKLIB_HWVERSION_ESX65 13
#define VIXDISKLIB_HWVERSION_CURRENT VIXDISKLIB_HWVERSION_ESX65

/* Open flags (VixDiskLib_Open). */
#define VIXDISKLIB_FLAG_OPEN_UNBUFFERED (1 << 0)
#define VIXDISKLIB_FLAG_OPEN_SINGLE_LINK (1 << 1)
#define VIXDISKLIB_FLAG_OPEN_READ_ONLY (1 << 2)
#define VIXDISKLIB_FLAG_OPEN_COMPRESSION_ZLIB (1 << 4)
#define VIXDISKLIB_FLAG_OPEN_COMPRESSION_FASTLZ (1 << 5)
#define VIXDISKLIB_FLAG_OPEN_COMPRESSION_SKIPZ (1 << 6)
#define VIXDISKLIB_FLAG_OPEN_COMPRESSION_MASK \
  (VIXDISKLIB_FLAG_OPEN_COMPRESSION_ZLIB \
   | VIXDISKLIB_FLAG_OPEN_COMPRESSION_FASTLZ \
   | VIXDISKLIB_FLAG_OPEN_COMPRESSION_SKIPZ)

typedef struct {
  uint32 cylinders;
  uint32 heads;
  uint32 sectors;
} VixDiskLibGeometry;

/* VixDiskLib_Create and _Clone.  The sector-size fields exist since VDDK
 * 7.0: they are read only from programs that passed a major version of
 * 7 or more to InitEx (0 means 512); vdk writes only 512-byte logical
 * sectors, and a physical size of 4096 makes a 512e disk. */
typedef struct {
  VixDiskLibDiskType diskType;
  VixDiskLibAdapterType adapterType;
  uint16 hwVersion;
  VixDiskLibSectorType capacity; /* sectors */
  uint32 logicalSectorSize;
  uint32 physicalSectorSize;
} VixDiskLibCreateParams;

/* VixDiskLib_GetInfo; freed with VixDiskLib_FreeInfo.  vdk always
 * allocates and fills the 7.0 sector-size fields. */
typedef struct {
  VixDiskLibGeometry biosGeo;
  VixDiskLibGeometry physGeo;
  VixDiskLibSectorType capacity; /* sectors */
  VixDiskLibAdapterType adapterType;
  int numLinks;
  char *parentFileNameHint;
  char *uuid;
  uint32 logicalSectorSize;
  uint32 physicalSectorSize;
} VixDiskLibInfo;

typedef struct {
  VixDiskLibSectorType offset; /* sectors */
  VixDiskLibSectorType length; /* sectors */
} VixDiskLibBlock;

/* numBlocks entries follow; allocated by the library. */
typedef struct {
  uint32 numBlocks;
  VixDiskLibBlock blocks[1];
} VixDiskLibBlockList;

typedef struct {
  char *id;
  char *datastoreMoRef;
  char *ssId;
} VixDiskLibVStorageObjectSpec;

typedef struct VixDiskLibUidPasswdCreds {
  char *userName;
  char *password;
} VixDiskLibUidPasswdCreds;

typedef struct VixDiskLibSessionIdCreds {
  char *cookie;
  char *userName;
  char *key;
} VixDiskLibSessionIdCreds;

struct VixDiskLibTicketIdCreds;

/* Connection parameters.  The fields after nfcHostPort exist since VDDK
 * 6.7; programs that use them get the struct from
 * VixDiskLib_AllocateConnectParams.  `state` belongs to the library. */
typedef struct {
  char *vmxSpec;
  char *serverName;
  char *thumbPrint;
  long privateUse;
  VixDiskLibCredType credType;
  union {
    VixDiskLibUidPasswdCreds uid;
    VixDiskLibSessionIdCreds sessionId;
    struct VixDiskLibTicketIdCreds *ticketId;
  } creds;
  uint32 port;
  uint32 nfcHostPort;
  char *vimApiVer;
  char reserved[8];
  void *state;
  union {
    VixDiskLibVStorageObjectSpec vStorageObjSpec;
  } spec;
  VixDiskLibSpecType specType;
} VixDiskLibConnectParams;

/* printf-style log sinks; may be called from any thread. */
typedef void (VixDiskLibGenericLogFunc) (const char *fmt, va_list args);
/* Progress in percent; the return value is ignored. */
typedef Bool (*VixDiskLibProgressFunc) (void *progressData,
                                        int percentCompleted);
/* Completion of ReadAsync/WriteAsync, on a library thread. */
typedef void (*VixDiskLibCompletionCB) (void *cbData, VixError result);

/* ---- Calls ------------------------------------------------------------ */

VixError VixDiskLib_InitEx (uint32 majorVersion, uint32 minorVersion,
                            VixDiskLibGenericLogFunc *log,
                            VixDiskLibGenericLogFunc *warn,
                            VixDiskLibGenericLogFunc *panic,
                            const char *libDir, const char *configFile);
VixError VixDiskLib_Init (uint32 majorVersion, uint32 minorVersion,
                          VixDiskLibGenericLogFunc *log,
                          VixDiskLibGenericLogFunc *warn,
                          VixDiskLibGenericLogFunc *panic,
                          const char *libDir);
void VixDiskLib_Exit (void);
const char *VixDiskLib_ListTransportModes (void);

VixError VixDiskLib_Cleanup (const VixDiskLibConnectParams *connectParams,
                             uint32 *numCleanedUp, uint32 *numRemaining);

VixDiskLibConnectParams *VixDiskLib_AllocateConnectParams (void);
void VixDiskLib_FreeConnectParams (VixDiskLibConnectParams *connectParams);
VixError VixDiskLib_GetConnectParams (const VixDiskLibConnection connection,
                                      VixDiskLibConnectParams **connectParams);

VixError VixDiskLib_Connect (const VixDiskLibConnectParams *connectParams,
                             VixDiskLibConnection *connection);
VixError VixDiskLib_ConnectEx (const VixDiskLibConnectParams *connectParams,
                               Bool readOnly, const char *snapshotRef,
                               const char *transportModes,
                               VixDiskLibConnection *connection);
VixError VixDiskLib_Disconnect (VixDiskLibConnection connection);

VixError VixDiskLib_PrepareForAccess (
    const VixDiskLibConnectParams *connectParams, const char *identity);
VixError VixDiskLib_EndAccess (const VixDiskLibConnectParams *connectParams,
                               const char *identity);

VixError VixDiskLib_Create (const VixDiskLibConnection connection,
                            const char *path,
                            const VixDiskLibCreateParams *createParams,
                            VixDiskLibProgressFunc progressFunc,
                            void *progressCallbackData);
VixError VixDiskLib_CreateChild (VixDiskLibHandle diskHandle,
                                 const char *childPath,
                                 VixDiskLibDiskType diskType,
                                 VixDiskLibProgressFunc progressFunc,
                                 void *progressCallbackData);
VixError VixDiskLib_Open (const VixDiskLibConnection connection,
                          const char *path, uint32 flags,
                          VixDiskLibHandle *diskHandle);
VixError VixDiskLib_Close (VixDiskLibHandle diskHandle);
VixError VixDiskLib_GetInfo (VixDiskLibHandle diskHandle,
                             VixDiskLibInfo **info);
void VixDiskLib_FreeInfo (VixDiskLibInfo *info);
const char *VixDiskLib_GetTransportMode (VixDiskLibHandle diskHandle);

VixError VixDiskLib_Read (VixDiskLibHandle diskHandle,
                          VixDiskLibSectorType startSector,
                          VixDiskLibSectorType numSectors, uint8 *readBuffer);
VixError VixDiskLib_Write (VixDiskLibHandle diskHandle,
                           VixDiskLibSectorType startSector,
                           VixDiskLibSectorType numSectors,
                           const uint8 *writeBuffer);
VixError VixDiskLib_ReadAsync (VixDiskLibHandle diskHandle,
                               VixDiskLibSectorType startSector,
                               VixDiskLibSectorType numSectors,
                               uint8 *readBuffer,
                               VixDiskLibCompletionCB callback,
                               void *cbData);
VixError VixDiskLib_WriteAsync (VixDiskLibHandle diskHandle,
                                VixDiskLibSectorType startSector,
                                VixDiskLibSectorType numSectors,
                                const uint8 *writeBuffer,
                                VixDiskLibCompletionCB callback,
                                void *cbData);
VixError VixDiskLib_Wait (VixDiskLibHandle diskHandle);
VixError VixDiskLib_Flush (VixDiskLibHandle diskHandle);

VixError VixDiskLib_ReadMetadata (VixDiskLibHandle diskHandle,
                                  const char *key, char *buf,
                                  size_t bufLen, size_t *requiredLen);
VixError VixDiskLib_WriteMetadata (VixDiskLibHandle diskHandle,
                                   const char *key, const char *val);
VixError VixDiskLib_GetMetadataKeys (VixDiskLibHandle diskHandle,
                                     char *keys, size_t maxLen,
                                     size_t *requiredLen);

VixError VixDiskLib_Grow (VixDiskLibConnection connection, const char *path,
                          VixDiskLibSectorType capacity,
                          Bool updateGeometry,
                          VixDiskLibProgressFunc progressFunc,
                          void *progressCallbackData);
VixError VixDiskLib_Shrink (VixDiskLibHandle diskHandle,
                            VixDiskLibProgressFunc progressFunc,
                            void *progressCallbackData);
VixError VixDiskLib_Defragment (VixDiskLibHandle diskHandle,
                                VixDiskLibProgressFunc progressFunc,
                                void *progressCallbackData);
VixError VixDiskLib_Rename (const char *srcFileName,
                            const char *dstFileName);
VixError VixDiskLib_Unlink (VixDiskLibConnection connection,
                            const char *path);
VixError VixDiskLib_Clone (const VixDiskLibConnection dstConnection,
                           const char *dstPath,
                           const VixDiskLibConnection srcConnection,
                           const char *srcPath,
                           const VixDiskLibCreateParams *vixCreateParams,
                           VixDiskLibProgressFunc progressFunc,
                           void *progressCallbackData, Bool overWrite);
VixError VixDiskLib_SpaceNeededForClone (VixDiskLibHandle diskHandle,
                                         VixDiskLibDiskType cloneDiskType,
                                         uint64 *spaceNeeded);
VixError VixDiskLib_IsAttachPossible (VixDiskLibHandle parent,
                                      VixDiskLibHandle child);
VixError VixDiskLib_Attach (VixDiskLibHandle parent, VixDiskLibHandle child);
VixError VixDiskLib_CheckRepair (const VixDiskLibConnection connection,
                                 const char *filename, Bool repair);

VixError VixDiskLib_QueryAllocatedBlocks (VixDiskLibHandle diskHandle,
                                          VixDiskLibSectorType startSector,
                                          VixDiskLibSectorType numSectors,
                                          VixDiskLibSectorType chunkSize,
                                          VixDiskLibBlockList **blockList);
VixError VixDiskLib_FreeBlockList (VixDiskLibBlockList *blockList);

char *VixDiskLib_GetErrorText (VixError err, const char *locale);
void VixDiskLib_FreeErrorText (char *errMsg);

#ifdef __cplusplus
}
#endif

#endif /* _VIXDISKLIB_H_ */
