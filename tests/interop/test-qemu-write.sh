#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdk writes into disks qemu made, and qemu goes on using them.
#
# For every hosted subformat (sparse with and without zeroed grains):
# qemu-img creates the disk and qemu-io writes data and zeroes; vdk then
# writes over the edge of qemu's data, into a zeroed grain, zeroes over
# qemu's data, across the 2 GiB extent boundary and into the last sector.
# Afterwards qemu-img check is clean, qemu-img compare and vdk read match
# the expected raw, the CID changed (and qemu-img sees the new one), every
# sparse extent is marked cleanly shut down, and qemu-io can write the
# disk again with both tools still agreeing.
source "$(dirname "$0")/../lib.sh"
require qemu-img qemu-io jq python3 cmp

SIZE=$((2 * GiB + 64 * MiB))

vput () { # vput DISK RAW PATTERN OFFSET
  raw_put "$2" "$3" "$4"
  run_vdk write "$1" --offset "$4" <"$3"
  [ "$rc" -eq 0 ] || fail "vdk write $(basename "$3") at $4: $(head -2 "$T/err")"
}

head -c 100000 /dev/urandom >"$T/p1"
head -c 65536 /dev/urandom >"$T/p2"
head -c 65536 /dev/zero >"$T/z"
head -c 2000 /dev/urandom >"$T/p3"
head -c 512 /dev/urandom >"$T/p4"

one_case () {
  local sub=$1 zg=$2 name="$1${2:+,zeroed_grain=$2}" dir d exp cid0 cid1 f
  dir="$T/$sub-${zg:-x}"
  mkdir "$dir"
  d="$dir/d.vmdk"
  exp="$dir/expect.raw"
  qemu-img create -q -f vmdk -o "subformat=$sub${zg:+,zeroed_grain=$zg}" \
    "$d" "$SIZE" || { fail "$name: qemu-img create"; return; }
  qemu-io -f vmdk -c 'write -P 0x5a 0 1M' -c 'write -P 0x11 10M 64k' \
    -c 'write -z 2M 64k' "$d" >/dev/null
  qemu-img convert -f vmdk -O raw "$d" "$exp"
  run_vdk info --json "$d"
  cid0=$(jq -r .cid "$T/out")

  vput "$d" "$exp" "$T/p1" $((1 * MiB - 5000))
  vput "$d" "$exp" "$T/p2" $((2 * MiB))
  vput "$d" "$exp" "$T/z" $((10 * MiB))
  vput "$d" "$exp" "$T/p3" $((2 * GiB - 1000))
  vput "$d" "$exp" "$T/p4" $((SIZE - 512))

  check "$name: qemu-img check after vdk wrote" qemu-img check -q -f vmdk "$d"
  check_qemu_same "$name: qemu-img compare after vdk wrote" "$d" "$exp"
  check_vdk_read "$name: vdk read after vdk wrote" "$d" "$exp"
  run_vdk info --json "$d"
  cid1=$(jq -r .cid "$T/out")
  [ "$cid1" != "$cid0" ] && pass "$name: writing changed the CID" \
    || fail "$name: CID still $cid0 after writes"
  check_eq "$name: qemu-img reads the new CID" "$(hex2dec "$cid1")" \
    "$(qemu-img info --output=json "$d" | jq -r '."format-specific".data.cid')"
  for f in "$dir"/d*.vmdk; do
    [ "$(head -c 4 "$f")" = KDMV ] || continue
    check_eq "$name: $(basename "$f") marked clean" 0 \
      "$(python3 "$VMDKEDIT" hdr-get "$f" uncleanShutdown)"
  done

  qemu-io -f vmdk -c 'write -P 0x77 3M 64k' -c "write -P 0x78 $((2 * GiB)) 4k" \
    "$d" >/dev/null || fail "$name: qemu-io cannot write after vdk"
  qemu-io -f raw -c 'write -P 0x77 3M 64k' -c "write -P 0x78 $((2 * GiB)) 4k" \
    "$exp" >/dev/null
  check "$name: qemu-img check after qemu wrote again" \
    qemu-img check -q -f vmdk "$d"
  check_vdk_read "$name: vdk read after qemu wrote again" "$d" "$exp"
  rm -rf "$dir"
}

for zg in on off; do
  one_case monolithicSparse "$zg"
  one_case twoGbMaxExtentSparse "$zg"
done
one_case monolithicFlat ""
one_case twoGbMaxExtentFlat ""

# A vdk child of a qemu-made disk reads right through qemu.
q="$T/chain"
mkdir "$q"
qemu-img create -q -f vmdk "$q/base.vmdk" 32M
qemu-io -f vmdk -c 'write -P 0x31 0 2M' "$q/base.vmdk" >/dev/null
qemu-img convert -f vmdk -O raw "$q/base.vmdk" "$q/expect.raw"
check_vdk "vdk child of a qemu-made disk" child "$q/base.vmdk" "$q/c.vmdk"
vput "$q/c.vmdk" "$q/expect.raw" "$T/p1" 777
check_qemu_same "qemu-img reads the vdk child of a qemu disk" "$q/c.vmdk" \
  "$q/expect.raw"
check "qemu-img check of that child" qemu-img check -q -f vmdk "$q/c.vmdk"

finish
