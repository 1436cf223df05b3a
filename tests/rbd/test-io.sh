#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Disks in Ceph RBD: the data path against a real cluster.  Sparse,
# stream and chained VMDKs converted into RBD read back byte-exact
# through `rbd export`, `vdk read` and qemu-img's own rbd: driver; a
# thin image's holes show in `vdk map`; create, namespaces, rename;
# trim and zero; a snapshot reads its point in time after later writes
# and converts to streamOptimized; rm refuses an image with snapshots
# unless told; hundreds of asynchronous requests in flight; the open
# parameters' Ceph fields.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/rbd-lib.sh"
require qemu-img

# 48 MiB: data in [0, 8M) and [16M, 20M) (whole 4 MiB objects), zeroes
# elsewhere.
raw="$T/base.raw"
truncate -s 48M "$raw"
head -c 8M /dev/urandom | dd of="$raw" conv=notrunc status=none
head -c 4M /dev/urandom | dd of="$raw" bs=1M seek=16 conv=notrunc status=none

# ---- convert VMDKs into RBD -------------------------------------------
qemu-img convert -f raw -O vmdk "$raw" "$T/sparse.vmdk"
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$raw" \
  "$T/stream.vmdk"
check_vdk "convert a sparse VMDK into RBD" convert "$T/sparse.vmdk" \
  rbd:rbd/sparse
check_rbd_export "sparse VMDK in RBD" sparse "$raw"
check "qemu-img's rbd: driver agrees" qemu-img compare -q -f vmdk -F raw \
  "$T/sparse.vmdk" "rbd:rbd/sparse:conf=$CEPH_CONF"
check_vdk "convert a streamOptimized VMDK into RBD" convert \
  "$T/stream.vmdk" rbd:rbd/stream
check_rbd_export "stream VMDK in RBD" stream "$raw"

# A chain: base + child with new data at 30 MiB; RBD gets it flattened.
vdk convert "$raw" "$T/chain-base.vmdk" >/dev/null || die "base"
vdk child "$T/chain-base.vmdk" "$T/chain.vmdk" || die "child"
head -c 1M /dev/urandom >"$T/new.bin"
vdk write "$T/chain.vmdk" --offset $((30 * MiB)) <"$T/new.bin" || die "write"
cp "$raw" "$T/chain.raw"
dd if="$T/new.bin" of="$T/chain.raw" bs=1M seek=30 conv=notrunc status=none
check_vdk "convert a chained VMDK into RBD" convert "$T/chain.vmdk" \
  rbd:rbd/chain
check_rbd_export "chain in RBD (flattened)" chain "$T/chain.raw"

# ---- thin: holes stay holes and show in vdk map -----------------------
vdk map rbd:rbd/sparse >"$T/map" || die "map"
check "vdk map: the hole at 8 MiB (8 MiB long)" \
  grep -Eq '^ +8388608 +8388608 +zero' "$T/map"
check "vdk map: data at 16 MiB" grep -Eq '^ +16777216 +4194304 +data' "$T/map"
check "vdk map: nothing allocated after 20 MiB" \
  grep -Eq '^ +20971520 +29360128 +zero' "$T/map"
used=$(rbd du --format json rbd/sparse 2>/dev/null |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["images"][0]["used_size"])')
check_eq "the converted image holds only its 12 MiB of data" \
  $((12 * MiB)) "$used"

# ---- create, namespaces, rename, info ---------------------------------
check_vdk "vdk create -t raw rbd:rbd/new 32M" create -t raw rbd:rbd/new 32M
size=$(rbd info --format json rbd/new | python3 -c \
  'import json,sys; print(json.load(sys.stdin)["size"])')
check_eq "the new image is 32 MiB" $((32 * MiB)) "$size"
vdk_fails_with "create refuses an existing image" "exists" \
  create -t raw rbd:rbd/new 32M
vdk_fails_with "create refuses a VMDK type in RBD" "raw disk only" \
  create -t monolithicSparse rbd:rbd/other 32M
check_vdk "vdk info rbd:rbd/new" info rbd:rbd/new
check "... a raw disk of 32 MiB" grep -Eq '^capacity: +33554432' "$T/out"
rbd namespace create rbd/ns1 || die "namespace"
check_vdk "create in a namespace (rbd:POOL/NS/IMAGE)" create rbd:rbd/ns1/img 8M
check "... rbd lists it in the namespace" \
  bash -c "rbd ls rbd/ns1 | grep -qx img"
check_vdk "rename within the pool" rename rbd:rbd/new rbd:rbd/renamed
check "... rbd lists the new name" bash -c "rbd ls rbd | grep -qx renamed"

# ---- trim and zero ----------------------------------------------------
vdk convert "$raw" rbd:rbd/punch >/dev/null || die "convert punch"
check "trim a whole object (rbd_discard)" \
  "$RBD_TOOL" punch rbd:rbd/punch trim $((4 * MiB)) $((4 * MiB))
check "zero 100 KiB inside another (rbd_write_zeroes)" \
  "$RBD_TOOL" punch rbd:rbd/punch zero $((1 * MiB + 512)) 102400
cp "$raw" "$T/punch.raw"
dd if=/dev/zero of="$T/punch.raw" bs=1M seek=4 count=4 conv=notrunc \
  status=none
dd if=/dev/zero of="$T/punch.raw" bs=512 seek=$((2048 + 1)) count=200 \
  conv=notrunc status=none
check_rbd_export "trimmed and zeroed ranges read as zero" punch \
  "$T/punch.raw"
vdk map rbd:rbd/punch >"$T/map"
check "the trimmed object is a hole again" \
  grep -Eq '^ +4194304 +12582912 +zero' "$T/map"

# ---- snapshots --------------------------------------------------------
rbd snap create rbd/sparse@before >/dev/null 2>&1 || die "snap create"
head -c 2M /dev/urandom >"$T/later.bin"
vdk write rbd:rbd/sparse --offset $((10 * MiB)) <"$T/later.bin" \
  || die "write after the snapshot"
check_vdk_read "the snapshot reads its point in time after later writes" \
  rbd:rbd/sparse@before "$raw"
cp "$raw" "$T/after.raw"
dd if="$T/later.bin" of="$T/after.raw" bs=1M seek=10 conv=notrunc \
  status=none
check_vdk_read "the image reads the later write" rbd:rbd/sparse \
  "$T/after.raw"
check_vdk "convert the snapshot to streamOptimized" convert \
  -t streamOptimized rbd:rbd/sparse@before "$T/backup.vmdk"
check_qemu_same "... the backup is the snapshot" "$T/backup.vmdk" "$raw"
check_vdk "convert the snapshot to monolithicSparse" convert \
  rbd:rbd/sparse@before "$T/backup2.vmdk"
check_qemu_same "... that backup too" "$T/backup2.vmdk" "$raw"
vdk_fails_with "a snapshot is read-only" "read-only" \
  write rbd:rbd/sparse@before <"$T/new.bin"
vdk_fails_with "rm refuses an image that has snapshots" "has 1 snapshot" \
  rm rbd:rbd/sparse
check "... and the image is still there" \
  bash -c "rbd ls rbd | grep -qx sparse"
check_vdk "rm --snapshots removes them and the image" rm --snapshots \
  rbd:rbd/sparse
check "... gone" bash -c "! rbd ls rbd | grep -qx sparse"
check_vdk "rm of an image without snapshots" rm rbd:rbd/stream

# ---- asynchronous I/O and open parameters -----------------------------
vdk create rbd:rbd/aio 32M >/dev/null || die "create aio"
check "400 asynchronous writes, then 400 reads, in flight" \
  "$RBD_TOOL" aio rbd:rbd/aio 400
"$RBD_TOOL" open --conf "$CEPH_CONF" --id admin \
  --keyring "$T/ceph/client.admin.keyring" --timeout 10 --read-only \
  rbd:rbd/chain >"$T/open.out" 2>&1
check_eq "vdk_open_ex with the Ceph fields of the open parameters" \
  "rbd $((48 * MiB))" "$(cat "$T/open.out")"
check_vdk_read "options in the name (conf=, id=, keyring=)" \
  "rbd:rbd/chain:conf=$CEPH_CONF:id=admin:keyring=$T/ceph/client.admin.keyring" \
  "$T/chain.raw"
finish
