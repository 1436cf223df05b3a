#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Child chains, both ways, and the CID rule.
#
# 1. A qemu-img backing chain (data in both layers, written by qemu-io)
#    reads through vdk exactly as qemu-img convert flattens it.
# 2. A three-deep chain made with `vdk child` and written with `vdk
#    write` (each layer overwriting part of the one below, unaligned
#    too) flattens through qemu-img convert exactly as expected; writing
#    a child never touches its parents; qemu-img check is clean.
# 3. Writing to a parent after a child was made changes the parent's
#    CID: reading the child must then fail with a CID mismatch message
#    naming both files, while the parent alone still opens and reads.
source "$(dirname "$0")/../lib.sh"
require qemu-img qemu-io jq cmp

# ---- 1. qemu-made chain --------------------------------------------------
q="$T/q"
mkdir "$q"
qemu-img create -q -f vmdk "$q/base.vmdk" 64M
qemu-io -f vmdk -c 'write -P 0x11 0 4M' -c 'write -P 0x12 40M 1M' \
  "$q/base.vmdk" >/dev/null
(cd "$q" && qemu-img create -q -f vmdk -b base.vmdk -F vmdk child.vmdk)
qemu-io -f vmdk -c 'write -P 0x22 1M 1M' -c 'write -P 0x23 3000 777' \
  -c 'write -z 40M 64k' -c 'write -P 0x24 63M 1M' "$q/child.vmdk" >/dev/null
qemu-img convert -f vmdk -O raw "$q/child.vmdk" "$q/child.raw"
qemu-img convert -f vmdk -O raw "$q/base.vmdk" "$q/base.raw"
check_vdk_read "qemu chain: vdk read child equals qemu-img convert" \
  "$q/child.vmdk" "$q/child.raw"
check_vdk_read "qemu chain: vdk read base equals qemu-img convert" \
  "$q/base.vmdk" "$q/base.raw"
run_vdk info --json "$q/child.vmdk"
check_eq "qemu chain: links" 2 "$(jq -r .links "$T/out")"
check_eq "qemu chain: parent hint" base.vmdk "$(jq -r .parent "$T/out")"
qcid=$(qemu-img info --output=json "$q/base.vmdk" | jq -r '."format-specific".data.cid')
check_eq "qemu chain: parent_cid is the base's CID" "$qcid" \
  "$(hex2dec "$(jq -r .parent_cid "$T/out")")"
check_vdk "qemu chain: vdk convert flattens it" convert "$q/child.vmdk" \
  "$q/flat.raw"
[ -f "$q/flat.raw" ] && check_same "qemu chain: flattened raw is right" \
  "$q/flat.raw" "$q/child.raw"

# ---- 2. vdk-made chain, three deep --------------------------------------
v="$T/v"
mkdir "$v"
exp="$v/expect.raw"
truncate -s 64M "$exp"
head -c $((4 * MiB)) /dev/urandom >"$T/a"
head -c $((1 * MiB)) /dev/urandom >"$T/b"
head -c 5000 /dev/urandom >"$T/c"

# layer DISK PATTERN OFFSET: write one pattern, record it in the expected raw.
layer () {
  raw_put "$exp" "$2" "$3"
  run_vdk write "$1" --offset "$3" <"$2"
  [ "$rc" -eq 0 ] || fail "vdk write $(basename "$2") at $3 into $1: $(head -2 "$T/err")"
}

check_vdk "vdk create base" create "$v/base.vmdk" 64M
layer "$v/base.vmdk" "$T/a" 0
layer "$v/base.vmdk" "$T/b" $((60 * MiB))
cp "$exp" "$v/base.expect"
base_hash=$(sha256sum <"$v/base.vmdk")

check_vdk "vdk child base -> c1" child "$v/base.vmdk" "$v/c1.vmdk"
layer "$v/c1.vmdk" "$T/b" $((2 * MiB))
layer "$v/c1.vmdk" "$T/c" 123457
cp "$exp" "$v/c1.expect"
c1_hash=$(sha256sum <"$v/c1.vmdk")

check_vdk "vdk child c1 -> c2" child "$v/c1.vmdk" "$v/c2.vmdk"
layer "$v/c2.vmdk" "$T/c" $((60 * MiB - 2500))
layer "$v/c2.vmdk" "$T/c" 1
head -c 65536 /dev/zero >"$T/zero64k"
layer "$v/c2.vmdk" "$T/zero64k" $((3 * MiB))

check_eq "writing children leaves the base unchanged" "$base_hash" \
  "$(sha256sum <"$v/base.vmdk")"
check_eq "writing c2 leaves c1 unchanged" "$c1_hash" \
  "$(sha256sum <"$v/c1.vmdk")"
check "qemu-img check c2" qemu-img check -q -f vmdk "$v/c2.vmdk"
rm -f "$v/c2.raw"
if qemu-img convert -f vmdk -O raw "$v/c2.vmdk" "$v/c2.raw"; then
  check_same "vdk chain: qemu-img convert of c2 is right" "$v/c2.raw" "$exp"
else
  fail "vdk chain: qemu-img convert of c2 failed"
fi
check_qemu_same "vdk chain: qemu-img compare c2" "$v/c2.vmdk" "$exp"
check_vdk_read "vdk chain: vdk read c2" "$v/c2.vmdk" "$exp"
check_vdk_read "vdk chain: vdk read c1" "$v/c1.vmdk" "$v/c1.expect"
check_vdk_read "vdk chain: vdk read base" "$v/base.vmdk" "$v/base.expect"
run_vdk info --json "$v/c2.vmdk"
check_eq "vdk chain: links of c2" 3 "$(jq -r .links "$T/out")"
check_eq "vdk chain: parent of c2" c1.vmdk "$(jq -r .parent "$T/out")"
c2_pcid=$(jq -r .parent_cid "$T/out")
run_vdk info --json "$v/c1.vmdk"
c1_cid=$(jq -r .cid "$T/out")
check_eq "vdk chain: c2's parent_cid is c1's CID" "$c1_cid" "$c2_pcid"
if command -v vmdkinfo >/dev/null; then
  vp=$(vmdkinfo "$v/c2.vmdk" 2>&1 \
         | sed -n 's/^[[:space:]]*Parent content identifier:[[:space:]]*0x//p')
  check_eq "vdk chain: vmdkinfo sees c1's CID as c2's parent CID" \
    "$(hex2dec "$c1_cid")" "$(hex2dec "$vp")"
fi
check_vdk "vdk chain: convert c2 to sparse" convert "$v/c2.vmdk" \
  "$v/flat.vmdk"
check_qemu_same "vdk chain: converted chain equals the expected raw" \
  "$v/flat.vmdk" "$exp"
run_vdk info --json "$v/flat.vmdk"
check_eq "vdk chain: converted disk has no parent" "1 null" \
  "$(jq -r '"\(.links) \(.parent_cid)"' "$T/out")"

# --single-link copies the top link alone: the parents' data is gone
# except inside the 64 KiB grains c2 wrote (copied up whole on write).
check_vdk "convert --single-link c2" convert --single-link -t raw \
  "$v/c2.vmdk" "$v/top.raw"
truncate -s 64M "$v/top.expect"
for g in 0 $((60 * 16 - 1)) $((60 * 16)); do # grains of c2's writes
  dd if="$exp" of="$v/top.expect" bs=64K skip="$g" seek="$g" count=1 \
     conv=notrunc status=none
done
[ -f "$v/top.raw" ] && check_same "--single-link holds only c2's own writes" \
  "$v/top.raw" "$v/top.expect"

# ---- 2b. an ESX redo log (vmfsSparse, COWD) child, read by qemu ---------
e="$T/esx"
mkdir "$e"
check_vdk "esx: base" create "$e/base.vmdk" 32M
head -c $((2 * MiB)) /dev/urandom >"$T/eb"
check_vdk "esx: base data" write "$e/base.vmdk" --offset 0 <"$T/eb"
check_vdk "esx: vmfsSparse child" child -t vmfsSparse "$e/base.vmdk" \
  "$e/redo.vmdk"
head -c 100000 /dev/urandom >"$T/ec"
check_vdk "esx: child data" write "$e/redo.vmdk" --offset 5000 <"$T/ec"
truncate -s 32M "$e/expect.raw"
raw_put "$e/expect.raw" "$T/eb" 0
raw_put "$e/expect.raw" "$T/ec" 5000
run_vdk info --json "$e/redo.vmdk"
check_eq "esx: child createType" vmfsSparse "$(jq -r .create_type "$T/out")"
check_qemu_same "esx: qemu-img reads the vmfsSparse chain" "$e/redo.vmdk" \
  "$e/expect.raw"
check_vdk_read "esx: vdk reads it" "$e/redo.vmdk" "$e/expect.raw"

# ---- 3. the CID rule ----------------------------------------------------
printf 'changed' >"$T/changed"
check_vdk "write to the base after children exist" write "$v/base.vmdk" \
  --offset 0 <"$T/changed"
raw_put "$v/base.expect" "$T/changed" 0
run_vdk read "$v/c1.vmdk"
check_eq "read of c1 over a modified base fails" 1 "$rc"
check_eq "nothing on stdout" 0 "$(stat -c %s "$T/out")"
if grep -qi 'cid' "$T/err" && grep -q 'c1.vmdk' "$T/err" \
    && grep -q 'base.vmdk' "$T/err"; then
  pass "CID mismatch message names the CID, c1.vmdk and base.vmdk"
else
  fail "CID mismatch message: $(cat "$T/err")"
fi
check_eq "one line on stderr" 1 "$(wc -l <"$T/err")"
run_vdk read "$v/c2.vmdk"
check_eq "read of c2 (grandchild of the modified base) fails" 1 "$rc"
check_vdk "info of the modified base still works" info "$v/base.vmdk"
check_vdk_read "read of the modified base still works" "$v/base.vmdk" \
  "$v/base.expect"

finish
