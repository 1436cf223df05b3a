#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# qemu-img and libvmdk read what vdk writes.
#
# vdk creates every hosted type, `vdk write` puts random data at aligned
# and unaligned offsets (across a grain boundary, across the 2 GiB extent
# boundary, into the last sector) and a run of zeroes over data; the
# same bytes go into an expected raw file with dd.  Then qemu-img check
# must be clean, qemu-img compare must call the disk identical to the
# raw file, vmdkinfo must read it, and `vdk info --json` must report the
# capacity, type, geometry, CID and parent CID that the disk has.
source "$(dirname "$0")/../lib.sh"
require qemu-img jq cmp
have_vmdkinfo=1
command -v vmdkinfo >/dev/null || have_vmdkinfo=0

head -c $((1 * MiB)) /dev/urandom >"$T/p1"
head -c 6000 /dev/urandom >"$T/p2"
head -c 300 /dev/urandom >"$T/p3"
head -c 4096 /dev/urandom >"$T/p4"
head -c $((1 * MiB)) /dev/zero >"$T/z1"

# put DISK RAW PATTERN OFFSET: same bytes into the disk and the raw file.
put () {
  raw_put "$2" "$3" "$4"
  run_vdk write "$1" --offset "$4" <"$3"
  if [ "$rc" -ne 0 ]; then
    fail "vdk write $(basename "$3") at $4 into $1: exit $rc: $(head -2 "$T/err")"
  fi
}

one_type () {
  local type=$1 size=$2 dir="$T/$1" d exp ext_sum n_ext
  mkdir "$dir"
  d="$dir/d.vmdk"
  exp="$dir/expect.raw"
  check_vdk "$type: vdk create $size" create -t "$type" "$d" "$size"
  [ "$rc" -eq 0 ] || return
  truncate -s "$size" "$exp"

  put "$d" "$exp" "$T/p1" 0
  put "$d" "$exp" "$T/p2" 12345
  put "$d" "$exp" "$T/p3" $((64 * 1024 - 100))
  put "$d" "$exp" "$T/z1" $((512 * 1024))
  put "$d" "$exp" "$T/p2" $((2 * GiB - 3000))
  put "$d" "$exp" "$T/p4" $((size - 4096))
  put "$d" "$exp" "$T/p3" $((size - 300))

  check "$type: qemu-img check is clean" qemu-img check -q -f vmdk "$d"
  check_qemu_same "$type: qemu-img compare with the expected raw" \
    "$d" "$exp"
  check_vdk_read "$type: vdk read equals the expected raw" "$d" "$exp"

  run_vdk info --json "$d"
  check_eq "$type: info exit" 0 "$rc"
  check_eq "$type: format" vmdk "$(jq -r .format "$T/out")"
  check_eq "$type: capacity" "$size" "$(jq -r .capacity "$T/out")"
  check_eq "$type: create_type" "$type" "$(jq -r .create_type "$T/out")"
  check_eq "$type: parent_cid" null "$(jq -r .parent_cid "$T/out")"
  check_eq "$type: parent" null "$(jq -r .parent "$T/out")"
  check_eq "$type: links" 1 "$(jq -r .links "$T/out")"
  ext_sum=$(jq '[.extents[].size / 512] | add' "$T/out")
  check_eq "$type: extent sectors add up to the capacity" \
    $((size / 512)) "$ext_sum"
  n_ext=$(jq '.extents | length' "$T/out")
  case $type in
    twoGb*) [ "$n_ext" -ge 2 ] && pass "$type: $n_ext extents" \
              || fail "$type: expected >= 2 extents, got $n_ext" ;;
    *) check_eq "$type: one extent" 1 "$n_ext" ;;
  esac
  check_cid "$type" "$d"
  if [ "$have_vmdkinfo" = 1 ]; then
    check_vmdkinfo "$type" "$d" "$size" "$(jq -r .cid "$T/out")"
  fi
  rm -rf "$dir"
}

# The CID vdk reports is 8 hex digits and the one qemu-img reads.
check_cid () {
  local cid qcid
  cid=$(jq -r .cid "$T/out")
  if [[ $cid =~ ^[0-9a-f]{8}$ ]]; then
    pass "$1: cid $cid is 8 hex digits"
  else
    fail "$1: cid '$cid' is not 8 hex digits"
    return
  fi
  qcid=$(qemu-img info --output=json "$2" | jq -r '."format-specific".data.cid')
  check_eq "$1: qemu-img sees the same CID" "$(hex2dec "$cid")" "$qcid"
}

# libvmdk reads the disk, with the same size and CID.
check_vmdkinfo () {
  local what=$1 d=$2 size=$3 cid=$4 out
  if ! out=$(vmdkinfo "$d" 2>&1); then
    fail "$what: vmdkinfo cannot read it: $(echo "$out" | tail -3)"
    return
  fi
  pass "$what: vmdkinfo reads it"
  grep -q "Media size:.*($size bytes)" <<<"$out" \
    && pass "$what: vmdkinfo media size $size" \
    || fail "$what: vmdkinfo media size: $(grep 'Media size' <<<"$out")"
  local vcid
  vcid=$(sed -n 's/^[[:space:]]*Content identifier:[[:space:]]*0x//p' <<<"$out")
  check_eq "$what: vmdkinfo content identifier" "$(hex2dec "$cid")" \
    "$(hex2dec "$vcid")"
}

one_type monolithicSparse $((4608 * MiB))
one_type twoGbMaxExtentSparse $((4608 * MiB))
one_type monolithicFlat $((2 * GiB + 64 * MiB))
one_type twoGbMaxExtentFlat $((2 * GiB + 64 * MiB))

# Geometry, adapter and hardware version of new disks (VMware's rules:
# IDE 16 heads, 63 sectors, cylinders capped at 16383; SCSI 255/63).
geometry_case () {
  local adapter=$1 size=$2 expect=$3 hw=$4 d="$T/g-$1-$2.vmdk" got
  check_vdk "create -a $adapter -H $hw $size" create -a "$adapter" \
    -H "$hw" "$d" "$size"
  run_vdk info --json "$d"
  got=$(jq -r '"\(.geometry.cylinders)/\(.geometry.heads)/\(.geometry.sectors)"' "$T/out")
  check_eq "geometry of a $size $adapter disk" "$expect" "$got"
  check_eq "adapter of a $adapter disk" "$adapter" "$(jq -r .adapter "$T/out")"
  check_eq "hw_version" "$hw" "$(jq -r .hw_version "$T/out")"
  check_eq "descriptor says ddb.adapterType = \"$adapter\"" "$adapter" \
    "$(vdk_ddb "$d" ddb.adapterType)"
  rm -f "$d"
}

# A ddb value as written in the descriptor.
vdk_ddb () {
  python3 "$VMDKEDIT" desc-get "$1" | sed -n "s/^$2 *= *\"\(.*\)\"/\1/p"
}

geometry_case ide 10G 16383/16/63 4
geometry_case ide 1G 2080/16/63 6
geometry_case lsilogic 10G 1305/255/63 7

# Raw disks: format raw, no CID.
check_vdk "create a raw disk" create -t raw "$T/r.img" 3M
run_vdk info --json "$T/r.img"
check_eq "raw: format" raw "$(jq -r .format "$T/out")"
check_eq "raw: capacity" $((3 * MiB)) "$(jq -r .capacity "$T/out")"
check_eq "raw: cid" null "$(jq -r .cid "$T/out")"
check_eq "raw: file size" $((3 * MiB)) "$(stat -c %s "$T/r.img")"

finish
