#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# streamOptimized in depth: both of qemu-img's directions, vdk's true
# streams checked by qemu-img (compare, check), vmdkinfo and the strict
# sequential reader (stream-check), compression levels, create + write
# in order, the append-only rule, chains through a stream, measure.
#
# The source disk's size is not a multiple of the 64 KiB grain, so the
# last grain is short; it holds random data (incompressible), text,
# explicit zeroes (omitted from a stream), and data in its last bytes.
source "$(dirname "$0")/../lib.sh"
require qemu-img cmp jq
: "${STREAM_CHECK:?STREAM_CHECK must name the stream-check helper}"

src="$T/src.raw"
SIZE=$((96 * MiB + 1536))
truncate -s "$SIZE" "$src"
head -c 3000000 /dev/urandom >"$T/rnd"
raw_put "$src" "$T/rnd" 12345
yes 'streamOptimized grains compress well' | head -c $((5 * MiB)) >"$T/txt"
raw_put "$src" "$T/txt" $((40 * MiB))
dd if=/dev/zero of="$src" bs=1M seek=60 count=4 conv=notrunc status=none
head -c 4000 /dev/urandom >"$T/tail"
raw_put "$src" "$T/tail" $((SIZE - 4000))
# A region of its own (32 MiB per grain table) with one grain.
printf 'lonely grain' >"$T/one"
raw_put "$src" "$T/one" $((70 * MiB + 7))

# ---- qemu-img's streams (tables at the front, no footer) ----
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$src" \
  "$T/q.vmdk"
check_vdk_read "vdk reads qemu-img's streamOptimized disk" "$T/q.vmdk" "$src"
run_vdk info --json "$T/q.vmdk"
check_eq "info: create type" streamOptimized "$(jq -r .create_type "$T/out")"
check_eq "info: capacity" "$SIZE" "$(jq -r .capacity "$T/out")"
check_vdk "vdk converts qemu's stream to raw" convert "$T/q.vmdk" "$T/q.raw"
check_same "... byte-exact" "$T/q.raw" "$src"
rm -f "$T/q.raw"
run_vdk write "$T/q.vmdk" --offset 0 <"$T/one"
check_eq "writing qemu's stream layout is refused" 1 "$rc"
grep -q "already holds data" "$T/err" && pass "... with a clear message" \
  || fail "... message: $(cat "$T/err")"

# ---- vdk's true streams ----
check_vdk "vdk convert -t streamOptimized" convert -t streamOptimized \
  "$src" "$T/v.vmdk"
check "stream-check: a valid true stream" "$STREAM_CHECK" "$T/v.vmdk"
check_qemu_same "qemu-img compare vdk's stream with the source" \
  "$T/v.vmdk" "$src"
check "qemu-img check" qemu-img check -q -f vmdk "$T/v.vmdk"
check_vdk_read "vdk reads its own stream" "$T/v.vmdk" "$src"
if command -v vmdkinfo >/dev/null; then
  out=$(vmdkinfo "$T/v.vmdk" 2>&1)
  check_eq "vmdkinfo accepts it" 0 "$?"
  grep -q "Stream optimized" <<<"$out" && pass "vmdkinfo: Stream optimized" \
    || fail "vmdkinfo says: $out"
fi
# Header: version 3, compressed + markers, GD_AT_END, deflate.
hdr=$(od -An -tx1 -j4 -N8 "$T/v.vmdk" | tr -d ' \n')
check_eq "header version 3, flags 0x30001" 0300000001000300 "$hdr"
gd=$(od -An -tx8 -j56 -N8 "$T/v.vmdk" | tr -d ' ')
check_eq "header gdOffset = GD_AT_END" ffffffffffffffff "$gd"
size=$(stat -c %s "$T/v.vmdk")
[ "$size" -lt $((3000000 + 2 * MiB)) ] \
  && pass "zero grains omitted, text compressed ($size bytes)" \
  || fail "stream is $size bytes"
vsize=$size

# qemu-img's stream -> vdk stream -> raw, via vdk only.
check_vdk "qemu stream -> vdk stream" convert -t streamOptimized \
  "$T/q.vmdk" "$T/qv.vmdk"
check "stream-check: converted from qemu's stream" "$STREAM_CHECK" \
  "$T/qv.vmdk"
check_qemu_same "... same contents" "$T/qv.vmdk" "$src"

# Compression levels.
check_vdk "-c 1" convert -t streamOptimized -c 1 "$src" "$T/c1.vmdk"
check_vdk "-c 12" convert -t 5 -c 12 "$src" "$T/c12.vmdk"
check "stream-check -c 1 and -c 12" "$STREAM_CHECK" "$T/c1.vmdk" \
  "$T/c12.vmdk"
check_qemu_same "-c 1 contents" "$T/c1.vmdk" "$src"
check_qemu_same "-c 12 contents" "$T/c12.vmdk" "$src"
s1=$(stat -c %s "$T/c1.vmdk") s12=$(stat -c %s "$T/c12.vmdk")
[ "$s12" -le "$s1" ] && pass "level 12 ($s12) <= level 1 ($s1)" \
  || fail "level 12 gives $s12 bytes, level 1 $s1"
for bad in 0 13 x; do
  run_vdk convert -t streamOptimized -c "$bad" "$src" "$T/bad.vmdk"
  check_eq "-c $bad is refused" 1 "$rc"
  grep -q "compression level" "$T/err" && pass "... message names the level" \
    || fail "... message: $(cat "$T/err")"
  [ ! -e "$T/bad.vmdk" ] && pass "... nothing created" || fail "bad.vmdk made"
done

# measure: an upper bound for a stream.
run_vdk measure -t streamOptimized "$src" "$T/v.vmdk"
[ "$rc" -eq 0 ] && [ "$(cat "$T/out")" -ge "$vsize" ] \
  && pass "measure ($(cat "$T/out")) >= the stream ($vsize)" \
  || fail "measure: rc $rc, $(cat "$T/out" "$T/err")"

# ---- create + write in order, append-only ----
check_vdk "create -t streamOptimized" create -t streamOptimized \
  "$T/w.vmdk" 10M
check "stream-check: the empty stream" "$STREAM_CHECK" "$T/w.vmdk"
check_vdk "create -t 5 (vmware-vdiskmanager's number)" create -t 5 \
  "$T/w5.vmdk" 1M
run_vdk info --json "$T/w5.vmdk"
check_eq "-t 5 is streamOptimized" streamOptimized \
  "$(jq -r .create_type "$T/out")"
truncate -s 10M "$T/w.raw"
check_qemu_same "qemu-img reads the empty stream as zeroes" "$T/w.vmdk" \
  "$T/w.raw"
head -c 100000 /dev/urandom >"$T/a"
raw_put "$T/w.raw" "$T/a" 777
check_vdk "write into the new stream" write "$T/w.vmdk" --offset 777 <"$T/a"
check "stream-check after the write" "$STREAM_CHECK" "$T/w.vmdk"
check_qemu_same "qemu-img reads the written stream" "$T/w.vmdk" "$T/w.raw"
run_vdk write "$T/w.vmdk" --offset $((5 * MiB)) <"$T/a"
check_eq "a second write session is refused" 1 "$rc"
grep -q "already holds data" "$T/err" && pass "... with a clear message" \
  || fail "... message: $(cat "$T/err")"
check_qemu_same "... and changed nothing" "$T/w.vmdk" "$T/w.raw"
check "... stream still valid" "$STREAM_CHECK" "$T/w.vmdk"

# ---- chains through streams ----
check_vdk "a child on a stream" child "$T/v.vmdk" "$T/vc.vmdk"
printf 'child data' >"$T/cd"
check_vdk "write the child" write "$T/vc.vmdk" --offset $((40 * MiB)) \
  <"$T/cd"
cp "$src" "$T/exp.raw"
raw_put "$T/exp.raw" "$T/cd" $((40 * MiB))
check_vdk_read "child over a stream reads right" "$T/vc.vmdk" "$T/exp.raw"
check_qemu_same "qemu-img agrees" "$T/vc.vmdk" "$T/exp.raw"
check_vdk "flatten the chain into a stream" convert -t streamOptimized \
  "$T/vc.vmdk" "$T/flat.vmdk"
check "stream-check: flattened chain" "$STREAM_CHECK" "$T/flat.vmdk"
check_qemu_same "flattened contents" "$T/flat.vmdk" "$T/exp.raw"
check_vdk "--single-link: only the child's data" convert --single-link \
  -t streamOptimized "$T/vc.vmdk" "$T/top.vmdk"
# The child holds whole grains: its one grain, completed from the parent.
truncate -s "$SIZE" "$T/top.raw"
dd if="$T/exp.raw" of="$T/top.raw" bs=64K skip=640 seek=640 count=1 \
  conv=notrunc status=none
check_qemu_same "single-link contents" "$T/top.vmdk" "$T/top.raw"
finish
