#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdk reads what qemu writes.
#
# For every hosted subformat qemu-img creates (sparse ones with and
# without zeroed-grain entries), qemu-io writes patterns at aligned and
# unaligned offsets, zeroes whole grains (which become zeroed-grain GTEs
# with zeroed_grain=on), writes across a grain boundary, across the 2 GiB
# extent boundary of the split types, beyond 4 GiB and into the last
# sector.  `vdk read` of the whole disk and of byte ranges must equal
# `qemu-img convert -O raw` byte for byte, and reading must not change
# any file of the disk.
source "$(dirname "$0")/../lib.sh"
require qemu-img qemu-io cmp sha256sum

SIZE=$((4608 * MiB)) # 4.5 GiB: three 2 GiB extents for the split types

qemu_write () {
  qemu-io -f vmdk \
    -c 'write -P 0x5a 0 1M' \
    -c 'write -z 1M 64k' \
    -c 'write -z 128k 64k' \
    -c 'write -P 0x11 10M 4k' \
    -c 'write -P 0x22 12345 1000' \
    -c "write -P 0x33 $((64 * 1024 - 100)) 300" \
    -c "write -P 0x44 $((2 * GiB - 3000)) 6000" \
    -c "write -P 0x55 $((4 * GiB + 7)) 70000" \
    -c "write -P 0x66 $((SIZE - 4096)) 4096" \
    -c "write -z $((4 * GiB + 4096)) 512" \
    "$1" >/dev/null
}

# check_range NAME DISK REF OFFSET LENGTH: vdk read of a byte range.
check_range () {
  local name=$1 disk=$2 ref=$3 off=$4 len=$5
  tail -c +$((off + 1)) "$ref" | head -c "$len" >"$T/slice"
  check_vdk_read "$name: read --offset $off --length $len" "$disk" \
    "$T/slice" --offset "$off" --length "$len"
}

one_case () {
  local sub=$1 zg=$2 name="$1${2:+,zeroed_grain=$2}" dir opts before after
  dir="$T/$sub-${zg:-default}"
  mkdir "$dir"
  opts="subformat=$sub${zg:+,zeroed_grain=$zg}"
  if ! qemu-img create -q -f vmdk -o "$opts" "$dir/d.vmdk" "$SIZE"; then
    fail "$name: qemu-img create failed"
    return
  fi
  if ! qemu_write "$dir/d.vmdk"; then
    fail "$name: qemu-io write failed"
    return
  fi
  qemu-img convert -f vmdk -O raw "$dir/d.vmdk" "$dir/ref.raw"
  before=$(hash_tree "$dir" | grep -v ref.raw)

  check_vdk_read "$name: whole disk equals qemu-img convert" \
    "$dir/d.vmdk" "$dir/ref.raw"
  check_range "$name" "$dir/d.vmdk" "$dir/ref.raw" 12000 2000
  check_range "$name" "$dir/d.vmdk" "$dir/ref.raw" $((2 * GiB - 3500)) 7000
  check_range "$name" "$dir/d.vmdk" "$dir/ref.raw" $((4 * GiB)) 100000
  check_range "$name" "$dir/d.vmdk" "$dir/ref.raw" $((SIZE - 1)) 1

  after=$(hash_tree "$dir" | grep -v ref.raw)
  check_eq "$name: reading leaves every file unchanged" "$before" "$after"

  run_vdk info --json "$dir/d.vmdk"
  check_eq "$name: info capacity" "$SIZE" "$(jq -r .capacity "$T/out")"
  check_eq "$name: info create_type" "$sub" "$(jq -r .create_type "$T/out")"
  rm -rf "$dir"
}

require jq
for sub in monolithicSparse twoGbMaxExtentSparse; do
  for zg in on off; do
    one_case "$sub" "$zg"
  done
done
for sub in monolithicFlat twoGbMaxExtentFlat; do
  one_case "$sub" ""
done

finish
