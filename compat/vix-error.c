/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vix-error.c - VixError codes: vdk's errors translated, the VDDK's
 * texts, and the thread's last failure for GetErrorText.
 *
 * Every vdk_error code has a row: the VixError a VDDK program expects
 * for that failure.  A code added to vdk later and not yet listed here
 * becomes VIX_E_FAIL ("Unknown error") rather than a wrong specific
 * code.  The texts are the VDDK's meanings in vdk's words.
 *
 * GetErrorText(err) returns the text for err; when err is also the
 * last error a call of this library returned in the calling thread, the
 * detail of that failure (the call, the file and the cause, as vdk
 * reported them) follows after ": ".  The last failure is thread-local,
 * so concurrent threads never see each other's details. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vix-internal.h"

static const struct {
  int vdk;
  VixError vix;
} from_vdk[] = {
  { VDK_E_OK, VIX_OK },
  { VDK_E_FAILED, VIX_E_FAIL },
  { VDK_E_NOT_FOUND, VIX_E_FILE_NOT_FOUND },
  { VDK_E_EXISTS, VIX_E_FILE_ALREADY_EXISTS },
  { VDK_E_INVALID_ARG, VIX_E_INVALID_ARG },
  { VDK_E_CORRUPT, VIX_E_DISK_NEEDSREPAIR },
  { VDK_E_UNSUPPORTED, VIX_E_NOT_SUPPORTED },
  { VDK_E_CID_MISMATCH, VIX_E_DISK_CID_MISMATCH },
  { VDK_E_PARTIAL_CHAIN, VIX_E_DISK_PARTIALCHAIN },
  { VDK_E_LOCKED, VIX_E_FILE_ALREADY_LOCKED },
  { VDK_E_READ_ONLY, VIX_E_FILE_READ_ONLY },
  { VDK_E_NO_SPACE, VIX_E_DISK_FULL },
  { VDK_E_IO, VIX_E_FILE_ERROR },
  { VDK_E_OUT_OF_RANGE, VIX_E_DISK_OUTOFRANGE },
  { VDK_E_CANCELLED, VIX_E_CANCELLED },
  { VDK_E_KEY_NOT_FOUND, VIX_E_DISK_KEY_NOTFOUND },
  { VDK_E_NO_MEMORY, VIX_E_OUT_OF_MEMORY },
  { VDK_E_AUTH, VIX_E_AUTHENTICATION_FAIL },
  { VDK_E_CONNECT, VIX_E_CANNOT_CONNECT_TO_HOST },
  { VDK_E_CONNECTION_LOST, VIX_E_HOST_CONNECTION_LOST },
  { VDK_E_NOT_SUPPORTED_BY_TRANSPORT, VIX_E_NOT_SUPPORTED_ON_REMOTE_OBJECT },
  { VDK_E_ACCESS_DENIED, VIX_E_FILE_ACCESS_ERROR },
  { VDK_E_TLS, VIX_E_NET_HTTP_SSL_CONNECT_ERROR },
  { VDK_E_TICKET, VIX_E_AUTHENTICATION_FAIL },
  /* The VDDK has no code for a disk with store-side snapshots: the
   * nearest is "the object is busy" (it is held by something else). */
  { VDK_E_HAS_SNAPSHOTS, VIX_E_OBJECT_IS_BUSY },
};

static const struct {
  VixError code;
  const char *text;
} texts[] = {
  { VIX_OK, "The operation was successful" },
  { VIX_E_FAIL, "Unknown error" },
  { VIX_E_OUT_OF_MEMORY, "Memory allocation failed: out of memory" },
  { VIX_E_INVALID_ARG, "One of the parameters was invalid" },
  { VIX_E_FILE_NOT_FOUND, "A file was not found" },
  { VIX_E_OBJECT_IS_BUSY, "This function cannot be performed because the handle is executing another function" },
  { VIX_E_NOT_SUPPORTED, "The operation is not supported" },
  { VIX_E_FILE_ERROR, "A file access error occurred on the host or guest operating system" },
  { VIX_E_DISK_FULL, "An error occurred while writing a file; the disk is full" },
  { VIX_E_INCORRECT_FILE_TYPE, "An error occurred while accessing a file: wrong file type" },
  { VIX_E_CANCELLED, "The operation was canceled" },
  { VIX_E_FILE_READ_ONLY, "The file is write-protected" },
  { VIX_E_FILE_ALREADY_EXISTS, "The file already exists" },
  { VIX_E_FILE_ACCESS_ERROR, "You do not have access rights to this file" },
  { VIX_E_REQUIRES_LARGE_FILES, "The file system does not support sufficiently large files" },
  { VIX_E_FILE_ALREADY_LOCKED, "The file is already in use" },
  { VIX_E_NOT_SUPPORTED_ON_REMOTE_OBJECT, "The operation is not supported on remote objects" },
  { VIX_E_FILE_TOO_BIG, "The file is too big for the file system" },
  { VIX_E_FILE_NAME_INVALID, "The file name is not valid" },
  { VIX_E_ALREADY_EXISTS, "Already exists" },
  { VIX_E_BUFFER_TOOSMALL, "Buffer is too small" },
  { VIX_E_OBJECT_NOT_FOUND, "The request refers to an object that does not exist" },
  { VIX_E_HOST_NOT_CONNECTED, "Unable to connect to the host" },
  { VIX_E_INVALID_UTF8_STRING, "The string parameter has incorrect encoding" },
  { VIX_E_AUTHENTICATION_FAIL, "Authentication failed" },
  { VIX_E_HOST_CONNECTION_LOST, "The connection to the host was lost" },
  { VIX_E_ARGUMENT_TOO_BIG, "An argument is too big" },
  { VIX_E_HOST_DISK_INVALID_VALUE, "The disk returned an invalid value" },
  { VIX_E_HOST_DISK_SECTORSIZE, "The disk has an unsupported sector size" },
  { VIX_E_HOST_FILE_ERROR_EOF, "Read beyond the end of file" },
  { VIX_E_HOST_NETBLKDEV_HANDSHAKE, "Error in the network block device protocol handshake" },
  { VIX_E_HOST_SOCKET_CREATION_ERROR, "Unable to create a socket" },
  { VIX_E_HOST_SERVER_NOT_FOUND, "The specified server could not be found" },
  { VIX_E_HOST_NETWORK_CONN_REFUSED, "The server refused the connection" },
  { VIX_E_HOST_TCP_SOCKET_ERROR, "There was an error in communication" },
  { VIX_E_HOST_TCP_CONN_LOST, "The connection was lost" },
  { VIX_E_DISK_INVAL, "One of the parameters supplied is invalid" },
  { VIX_E_DISK_NOINIT, "The disk library has not been initialized" },
  { VIX_E_DISK_NOIO, "The called function requires the virtual disk to be opened for I/O" },
  { VIX_E_DISK_PARTIALCHAIN, "The called function cannot be performed on partial chains; open the parent virtual disk" },
  { VIX_E_DISK_NEEDSREPAIR, "The specified virtual disk needs repair" },
  { VIX_E_DISK_OUTOFRANGE, "You have requested access to an area of the virtual disk that is out of bounds" },
  { VIX_E_DISK_CID_MISMATCH, "The parent virtual disk has been modified since the child was created; the content ID of the parent does not match the parent content ID in the child" },
  { VIX_E_DISK_CANTSHRINK, "The specified virtual disk cannot be shrunk because it is not the parent disk" },
  { VIX_E_DISK_PARTMISMATCH, "The partition table on the physical disk has changed since the disk was created" },
  { VIX_E_DISK_UNSUPPORTEDDISKVERSION, "The disk was created by a newer product than this library supports" },
  { VIX_E_DISK_OPENPARENT, "The parent of this virtual disk could not be opened" },
  { VIX_E_DISK_NOTSUPPORTED, "The specified feature is not supported by this version" },
  { VIX_E_DISK_NEEDKEY, "One or more required keys were not provided" },
  { VIX_E_DISK_NOKEYOVERRIDE, "Will not create an unencrypted child of an encrypted disk without explicit request" },
  { VIX_E_DISK_NOTENCRYPTED, "Not an encrypted disk" },
  { VIX_E_DISK_NOKEY, "No keys were supplied for encrypting the disk" },
  { VIX_E_DISK_INVALIDPARTITIONTABLE, "The partition table is invalid" },
  { VIX_E_DISK_NOTNORMAL, "Only sparse extents with embedded descriptors may be encrypted" },
  { VIX_E_DISK_NOTENCDESC, "Not an encrypted descriptor file" },
  { VIX_E_DISK_NEEDVMFS, "The file system is not VMFS" },
  { VIX_E_DISK_RAWTOOBIG, "The physical disk is too big" },
  { VIX_E_DISK_TOOMANYOPENFILES, "The host's limit for open files has been exceeded" },
  { VIX_E_DISK_TOOMANYREDO, "Too many levels of redo logs" },
  { VIX_E_DISK_RAWTOOSMALL, "The physical disk is too small" },
  { VIX_E_DISK_INVALIDCHAIN, "Invalid disk chain: cannot mix hosted and managed virtual disks in the same chain" },
  { VIX_E_DISK_KEY_NOTFOUND, "The specified key was not found in the disk's metadata" },
  { VIX_E_DISK_SUBSYSTEM_INIT_FAIL, "A subsystem of the disk library failed to initialize" },
  { VIX_E_DISK_INVALID_CONNECTION, "The given connection is not valid" },
  { VIX_E_DISK_ENCODING, "The disk's metadata is in an invalid encoding" },
  { VIX_E_DISK_CANTREPAIR, "The disk is corrupted and cannot be repaired" },
  { VIX_E_DISK_INVALIDDISK, "The specified file is not a virtual disk" },
  { VIX_E_DISK_NOLICENSE, "The host is not licensed for this feature" },
  { VIX_E_DISK_NODEVICE, "The device does not exist" },
  { VIX_E_DISK_UNSUPPORTEDDEVICE, "The operation is not supported on this type of device" },
  { VIX_E_DISK_CAPACITY_MISMATCH, "The parent virtual disk's capacity is not the same as the child's" },
  { VIX_E_DISK_PARENT_NOTALLOWED, "A disk of this type cannot be a parent" },
  { VIX_E_DISK_ATTACH_ROOTLINK, "Attach failed: the child is a base disk (root link)" },
  { VIX_E_CANNOT_CONNECT_TO_HOST, "Cannot connect to the host" },
  { VIX_E_MNTAPI_MOUNTPT_NOT_FOUND, "Could not find the specified mount point" },
  { VIX_E_MNTAPI_MOUNTPT_IN_USE, "The mount point is already in use" },
  { VIX_E_MNTAPI_DISK_NOT_FOUND, "Could not find the specified virtual disk" },
  { VIX_E_MNTAPI_DISK_NOT_MOUNTED, "The specified disk is not mounted" },
  { VIX_E_MNTAPI_DISK_IS_MOUNTED, "The specified disk is already mounted" },
  { VIX_E_MNTAPI_DISK_NOT_SAFE, "It is not safe to mount the virtual disk" },
  { VIX_E_MNTAPI_DISK_CANT_OPEN, "Cannot open the virtual disk" },
  { VIX_E_MNTAPI_CANT_READ_PARTS, "Cannot read the partitions of the virtual disk" },
  { VIX_E_MNTAPI_UMOUNT_APP_NOT_FOUND, "The umount program was not found" },
  { VIX_E_MNTAPI_UMOUNT, "The umount command failed" },
  { VIX_E_MNTAPI_NO_MOUNTABLE_PARTITONS, "The virtual disk has no mountable partitions" },
  { VIX_E_MNTAPI_PARTITION_RANGE, "The partition number is out of range" },
  { VIX_E_MNTAPI_PERM, "Insufficient permissions to perform this operation" },
  { VIX_E_MNTAPI_DICT, "Error accessing the mount state" },
  { VIX_E_MNTAPI_DICT_LOCKED, "The mount state is locked by another process" },
  { VIX_E_MNTAPI_OPEN_HANDLES, "Files are still open on the mounted volume" },
  { VIX_E_MNTAPI_CANT_MAKE_VAR_DIR, "Cannot create the mount state folder" },
  { VIX_E_MNTAPI_NO_ROOT, "This operation requires root privileges" },
  { VIX_E_MNTAPI_LOOP_FAILED, "A loop device operation failed" },
  { VIX_E_MNTAPI_DAEMON, "The mount daemon failed" },
  { VIX_E_MNTAPI_INTERNAL, "An internal error occurred in the mount layer" },
  { VIX_E_MNTAPI_SYSTEM, "A system call failed in the mount layer" },
  { VIX_E_MNTAPI_NO_CONNECTION_DETAILS, "No connection details were given" },
  { VIX_E_MNTAPI_INCOMPATIBLE_VERSION, "The version of the mount library is incompatible" },
  { VIX_E_MNTAPI_OS_ERROR, "An operating system error occurred" },
  { VIX_E_MNTAPI_DRIVE_LETTER_IN_USE, "The drive letter is in use" },
  { VIX_E_MNTAPI_DRIVE_LETTER_ALREADY_ASSIGNED, "A drive letter is already assigned" },
  { VIX_E_MNTAPI_VOLUME_NOT_MOUNTED, "The volume is not mounted" },
  { VIX_E_MNTAPI_VOLUME_ALREADY_MOUNTED, "The volume is already mounted" },
  { VIX_E_MNTAPI_FORMAT_FAILURE, "Formatting the volume failed" },
  { VIX_E_MNTAPI_NO_DRIVER, "No driver for the file system was found" },
  { VIX_E_MNTAPI_ALREADY_OPENED, "The disk set is already open" },
  { VIX_E_MNTAPI_ITEM_NOT_FOUND, "The item was not found" },
  { VIX_E_MNTAPI_UNSUPPROTED_BOOT_LOADER, "The boot loader is not supported" },
  { VIX_E_MNTAPI_UNSUPPROTED_OS, "The operating system is not supported" },
  { VIX_E_MNTAPI_CODECONVERSION, "A character code conversion failed" },
  { VIX_E_MNTAPI_REGWRITE_ERROR, "Writing to the registry failed" },
  { VIX_E_MNTAPI_UNSUPPORTED_FT_VOLUME, "Fault-tolerant volumes are not supported" },
  { VIX_E_MNTAPI_PARTITION_NOT_FOUND, "The partition was not found" },
  { VIX_E_MNTAPI_PUTFILE_ERROR, "Copying a file into the volume failed" },
  { VIX_E_MNTAPI_GETFILE_ERROR, "Copying a file from the volume failed" },
  { VIX_E_MNTAPI_REG_NOT_OPENED, "The registry is not open" },
  { VIX_E_MNTAPI_REGDELKEY_ERROR, "Deleting a registry key failed" },
  { VIX_E_MNTAPI_CREATE_PARTITIONTABLE_ERROR, "Creating the partition table failed" },
  { VIX_E_MNTAPI_OPEN_FAILURE, "Opening the disk set failed" },
  { VIX_E_MNTAPI_VOLUME_NOT_WRITABLE, "The volume is not writable" },
  { VIX_ASYNC, "The asynchronous operation was queued" },
  { VIX_E_ASYNC_MIXEDMODE_UNSUPPORTED, "Mixing synchronous and asynchronous I/O is not supported" },
  { VIX_E_NET_HTTP_COULDNT_CONNECT, "Could not connect to the server" },
  { VIX_E_NET_HTTP_SSL_CONNECT_ERROR, "The TLS handshake with the server failed" },
  { VIX_E_NET_HTTP_SSL_SECURITY, "The server's certificate could not be verified" },
};

static __thread VixError last_err;
static __thread char last_detail[1024];

VixError
vix__error_from_vdk (int vdk_code)
{
  for (size_t i = 0; i < sizeof from_vdk / sizeof from_vdk[0]; i++)
    if (from_vdk[i].vdk == vdk_code)
      return from_vdk[i].vix;
  return VIX_E_FAIL;
}

const char *
vix__error_text (VixError err)
{
  VixError code = VIX_ERROR_CODE (err);
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
    if (texts[i].code == code)
      return texts[i].text;
  return NULL;
}

VixError
vix__fail (VixError err, const char *call, const char *fmt, ...)
{
  va_list ap;
  int n = snprintf (last_detail, sizeof last_detail, "%s: ", call);
  if (n < 0 || (size_t) n >= sizeof last_detail)
    n = 0;
  va_start (ap, fmt);
  vsnprintf (last_detail + n, sizeof last_detail - (size_t) n, fmt, ap);
  va_end (ap);
  last_err = err;
  return err;
}

VixError
vix__fail_vdk (const char *call)
{
  int code = vdk_last_error_code ();
  VixError err = vix__error_from_vdk (code ? code : VDK_E_FAILED);
  return vix__fail (err, call, "%s", vdk_last_error ());
}

VIX_API char *
VixDiskLib_GetErrorText (VixError err, const char *locale)
{
  const char *text = vix__error_text (err);
  char *out;
  char unknown[64];

  (void) locale; /* must be NULL; only English exists */
  if (!text) {
    snprintf (unknown, sizeof unknown, "Unknown error code %llu",
              (unsigned long long) VIX_ERROR_CODE (err));
    text = unknown;
  }
  if (err != VIX_OK && err == last_err && last_detail[0]) {
    size_t n = strlen (text) + 2 + strlen (last_detail) + 1;
    if (!(out = malloc (n)))
      return NULL;
    snprintf (out, n, "%s: %s", text, last_detail);
    return out;
  }
  return strdup (text);
}

VIX_API void
VixDiskLib_FreeErrorText (char *errMsg)
{
  free (errMsg);
}
