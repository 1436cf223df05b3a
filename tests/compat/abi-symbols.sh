#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The names libvixDiskLib (and libvixMntapi) export are exactly the
# VDDK's: every call of VixDiskLib 6.5-8 (VixMntapi 1.0), nothing more,
# none with a symbol version.  The lists are typed from the reference,
# not from vdk's own map.
#
#   abi-symbols.sh VDDK_LIBDIR [LIBVIXMNTAPI.so.1]
#
# VDDK_LIBDIR is the VDDK-style folder (build/compat/vddk): its
# lib64/libvixDiskLib.so.8 is checked, and .so.7 and .so.6 must name the
# same library.
set -u
n=0 fail=0

vixdisklib="InitEx Init Exit ListTransportModes Connect ConnectEx Disconnect
 AllocateConnectParams FreeConnectParams GetConnectParams PrepareForAccess
 EndAccess Cleanup Create CreateChild Open Close GetInfo FreeInfo
 GetTransportMode Read Write ReadAsync WriteAsync Wait Flush ReadMetadata
 WriteMetadata GetMetadataKeys Grow Shrink Defragment Rename Unlink Clone
 SpaceNeededForClone IsAttachPossible Attach CheckRepair
 QueryAllocatedBlocks FreeBlockList GetErrorText FreeErrorText"
vixmntapi="Init Exit OpenDisks OpenDiskSet GetDiskSetInfo FreeDiskSetInfo
 GetVolumeHandles FreeVolumeHandles GetVolumeInfo FreeVolumeInfo
 MountVolume DismountVolume GetOsInfo FreeOsInfo CloseDiskSet"

result () {
  n=$((n + 1))
  if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}

check_lib () {   # check_lib LIB SONAME PREFIX NAMES
  local lib=$1 soname=$2 prefix=$3 want got extra missing
  want=$(for f in $4; do echo "${prefix}_$f"; done | sort)
  got=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TWDBRV]$/ {print $3}' |
        grep -v '^_' | sort)
  missing=$(comm -23 <(echo "$want") <(echo "$got" | sed 's/@.*//'))
  extra=$(comm -13 <(echo "$want") <(echo "$got" | sed 's/@.*//'))
  result $([ -z "$missing" ]; echo $?) "$(basename "$lib") exports every ${prefix} call"
  [ -n "$missing" ] && echo "# missing: $(echo $missing)"
  result $([ -z "$extra" ]; echo $?) "$(basename "$lib") exports nothing else"
  [ -n "$extra" ] && echo "# extra: $(echo $extra)"
  result $(echo "$got" | grep -q '@'; [ $? -ne 0 ]; echo $?) \
    "$(basename "$lib"): no symbol versions"
  result $(readelf -d "$lib" | grep -q "SONAME.*\[$soname\]"; echo $?) \
    "$(basename "$lib"): soname is $soname"
}

command -v nm >/dev/null || { echo "1..0 # SKIP nm is not installed"; exit 0; }
dir=$1/lib64
check_lib "$dir/libvixDiskLib.so.8" libvixDiskLib.so.8 VixDiskLib "$vixdisklib"
for v in 7 6; do
  result $([ "$(readlink -f "$dir/libvixDiskLib.so.$v")" = \
             "$(readlink -f "$dir/libvixDiskLib.so.8")" ]; echo $?) \
    "libvixDiskLib.so.$v is the same library"
done
result $(readelf -d "$dir/libvixDiskLib.so.8" | grep -q 'R.*PATH.*\$ORIGIN'; echo $?) \
  "the VDDK-style copy finds libvdk through an \$ORIGIN run path"
[ $# -ge 2 ] && check_lib "$2" libvixMntapi.so.1 VixMntapi "$vixmntapi"
echo "1..$n"
exit $fail
