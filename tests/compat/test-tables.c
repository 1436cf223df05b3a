/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-tables.c - the translations between the VDDK's numbers and
 * vdk's, row by row (compat/vix-tables.c, compat/vix-error.c).  Open
 * flags, disk types and adapters are numbered differently on the two
 * sides, so a cast anywhere would show up here as a wrong value. */
#include "tap.h"
#include "vix-internal.h"

static void
open_flags (void)
{
  static const struct { uint32_t vix; unsigned vdk; } rows[] = {
    { 0, 0 },
    { VIXDISKLIB_FLAG_OPEN_UNBUFFERED, VDK_OPEN_UNBUFFERED },
    { VIXDISKLIB_FLAG_OPEN_SINGLE_LINK, VDK_OPEN_SINGLE_LINK },
    { VIXDISKLIB_FLAG_OPEN_READ_ONLY, VDK_OPEN_READ_ONLY },
    { VIXDISKLIB_FLAG_OPEN_READ_ONLY | VIXDISKLIB_FLAG_OPEN_UNBUFFERED,
      VDK_OPEN_READ_ONLY | VDK_OPEN_UNBUFFERED },
    { VIXDISKLIB_FLAG_OPEN_READ_ONLY | VIXDISKLIB_FLAG_OPEN_SINGLE_LINK,
      VDK_OPEN_READ_ONLY | VDK_OPEN_SINGLE_LINK },
    { VIXDISKLIB_FLAG_OPEN_COMPRESSION_ZLIB, 0 },
    { VIXDISKLIB_FLAG_OPEN_COMPRESSION_FASTLZ, 0 },
    { VIXDISKLIB_FLAG_OPEN_COMPRESSION_SKIPZ | VIXDISKLIB_FLAG_OPEN_READ_ONLY,
      VDK_OPEN_READ_ONLY },
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    unsigned got = 0xdead;
    is_int (vix__open_flags_to_vdk (rows[i].vix, &got), 0,
            "open flags 0x%x accepted", (unsigned) rows[i].vix);
    is_int (got, rows[i].vdk, "open flags 0x%x -> vdk 0x%x",
            (unsigned) rows[i].vix, rows[i].vdk);
  }
  for (unsigned bit = 3; bit < 32; bit++) {
    unsigned got;
    uint32_t f = (uint32_t) 1 << bit;
    if (f & VIXDISKLIB_FLAG_OPEN_COMPRESSION_MASK)
      continue;
    is_int (vix__open_flags_to_vdk (f, &got), -1,
            "unknown open flag 0x%x refused", (unsigned) f);
  }
}

static void
disk_types (void)
{
  static const int rows[][2] = {
    { VIXDISKLIB_DISK_MONOLITHIC_SPARSE, VDK_TYPE_MONOLITHIC_SPARSE },
    { VIXDISKLIB_DISK_MONOLITHIC_FLAT, VDK_TYPE_MONOLITHIC_FLAT },
    { VIXDISKLIB_DISK_SPLIT_SPARSE, VDK_TYPE_SPLIT_SPARSE },
    { VIXDISKLIB_DISK_SPLIT_FLAT, VDK_TYPE_SPLIT_FLAT },
    { VIXDISKLIB_DISK_VMFS_FLAT, VDK_TYPE_VMFS },
    { VIXDISKLIB_DISK_STREAM_OPTIMIZED, VDK_TYPE_STREAM_OPTIMIZED },
    { VIXDISKLIB_DISK_VMFS_THIN, VDK_TYPE_VMFS_THIN },
    { VIXDISKLIB_DISK_VMFS_SPARSE, VDK_TYPE_VMFS_SPARSE },
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    is_int (vix__disk_type_to_vdk (rows[i][0]), rows[i][1],
            "disk type %s -> vdk %s", vix__disk_type_name (rows[i][0]),
            vdk_type_name (rows[i][1]));
    is_int (vix__disk_type_from_vdk (rows[i][1]), rows[i][0],
            "vdk %s -> disk type %d", vdk_type_name (rows[i][1]), rows[i][0]);
  }
  is_int (vix__disk_type_to_vdk (VIXDISKLIB_DISK_UNKNOWN), -1,
          "DISK_UNKNOWN has no vdk type");
  is_int (vix__disk_type_to_vdk (0), -1, "type 0 has none");
  is_int (vix__disk_type_to_vdk (9), -1, "type 9 has none");
  is_int (vix__disk_type_from_vdk (VDK_TYPE_RAW), -1, "raw has no VDDK type");
  is_int (vix__disk_type_from_vdk (VDK_TYPE_SESPARSE), -1,
          "seSparse has no VDDK type");
}

static void
adapters (void)
{
  static const int rows[][2] = {
    { VIXDISKLIB_ADAPTER_IDE, VDK_ADAPTER_IDE },
    { VIXDISKLIB_ADAPTER_SCSI_BUSLOGIC, VDK_ADAPTER_BUSLOGIC },
    { VIXDISKLIB_ADAPTER_SCSI_LSILOGIC, VDK_ADAPTER_LSILOGIC },
  };
  for (size_t i = 0; i < 3; i++) {
    is_int (vix__adapter_to_vdk (rows[i][0]), rows[i][1],
            "adapter %d -> vdk %s", rows[i][0], vdk_adapter_name (rows[i][1]));
    is_int (vix__adapter_from_vdk (rows[i][1]), rows[i][0],
            "vdk %s -> adapter %d", vdk_adapter_name (rows[i][1]), rows[i][0]);
  }
  is_int (vix__adapter_from_vdk (VDK_ADAPTER_PVSCSI),
          VIXDISKLIB_ADAPTER_UNKNOWN, "pvscsi -> ADAPTER_UNKNOWN");
  is_int (vix__adapter_from_vdk (VDK_ADAPTER_LEGACYESX),
          VIXDISKLIB_ADAPTER_UNKNOWN, "legacyESX -> ADAPTER_UNKNOWN");
  is_int (vix__adapter_to_vdk (VIXDISKLIB_ADAPTER_UNKNOWN), -1,
          "ADAPTER_UNKNOWN makes no vdk adapter");
  is_int (vix__adapter_to_vdk (0), -1, "adapter 0 has none");
  is_int (vix__adapter_to_vdk (4), -1, "adapter 4 has none");
}

static void
errors (void)
{
  static const struct { int vdk; VixError vix; } rows[] = {
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
    { VDK_E_HAS_SNAPSHOTS, VIX_E_OBJECT_IS_BUSY },
  };
  size_t n = sizeof rows / sizeof rows[0];
  for (size_t i = 0; i < n; i++) {
    is_int (vix__error_from_vdk (rows[i].vdk), rows[i].vix,
            "vdk error %d (%s) -> VixError %d", rows[i].vdk,
            vdk_error_text (rows[i].vdk), (int) rows[i].vix);
    ok (vix__error_text (rows[i].vix) != NULL, "VixError %d has a text",
        (int) rows[i].vix);
  }
  /* Every vdk code up to the last one this test knows is in the table;
   * codes vdk adds later (ahead of a row here) become VIX_E_FAIL. */
  is_int (vix__error_from_vdk (1000), VIX_E_FAIL, "an unknown code -> FAIL");
  ok (vix__error_text (VIX_E_BUFFER_TOOSMALL) != NULL, "BUFFER_TOOSMALL text");
  ok (vix__error_text (VIX_E_MNTAPI_VOLUME_NOT_WRITABLE) != NULL,
      "VixMntapi codes have texts");
  ok (vix__error_text (12345) == NULL, "code 12345 has no text");
  {
    char *t = VixDiskLib_GetErrorText (12345, NULL);
    ok (t && strstr (t, "12345"), "GetErrorText of an unknown code names it");
    VixDiskLib_FreeErrorText (t);
  }
  {
    /* The detail of this thread's last failure follows the text. */
    VixError e = vix__fail (VIX_E_INVALID_ARG, "VixDiskLib_Test", "detail %d", 42);
    char *t = VixDiskLib_GetErrorText (e, NULL);
    is_str (t, "One of the parameters was invalid: VixDiskLib_Test: detail 42",
            "GetErrorText adds the detail of this thread's failure");
    VixDiskLib_FreeErrorText (t);
    t = VixDiskLib_GetErrorText (VIX_E_FILE_NOT_FOUND, NULL);
    is_str (t, "A file was not found", "another code gets no detail");
    VixDiskLib_FreeErrorText (t);
  }
}

int
main (void)
{
  open_flags ();
  disk_types ();
  adapters ();
  errors ();
  return tap_done ();
}
