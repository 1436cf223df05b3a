#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Trim and fast zero (vdk_trim, vdk_zero_ex) judged by qemu.
#
# On disks qemu-img made (monolithicSparse with and without zeroed
# grains, a zeroed-grain child, monolithicFlat; a streamOptimized disk,
# which cannot give space back, is left untouched), trim-tool trims or
# zeroes ranges with unaligned ends.  Afterwards: `vdk map --json`
# shows the trimmed grains gone (holes, or zeroed grains in a child over
# parent data), `qemu-img check` is clean, `qemu-img compare` matches
# the expected raw content (trimmed grains read zero, partial grains at
# the edges keep their data, a child never shows its parent's data),
# and the host file's allocated blocks (st_blocks) dropped.
source "$(dirname "$0")/../lib.sh"
require qemu-img qemu-io python3 stat
: "${TRIM_TOOL:?TRIM_TOOL must name the trim-tool helper}"

trim () { "$TRIM_TOOL" "$@"; }
blocks () { stat -c %b "$1"; }

# map_states DISK START END: the states `vdk map --json` gives to
# [START, END), joined with commas ("hole", "zero,hole", ...).
map_states () {
  vdk map --json "$1" | python3 -c '
import json, sys
s, e = int(sys.argv[1]), int(sys.argv[2])
out = []
for r in json.load(sys.stdin):
    if r["start"] < e and r["start"] + r["length"] > s and r["state"] not in out:
        out.append(r["state"])
print(",".join(out))' "$2" "$3"
}

# Zero [OFF, OFF+LEN) of a raw file.
raw_zero () {
  dd if=/dev/zero of="$1" bs=64K seek="$2" count="$3" iflag=count_bytes \
     oflag=seek_bytes conv=notrunc status=none
}

base_case () {
  local zg=$1 d="$T/base-$1.vmdk" exp="$T/base-$1.raw" b0 b1
  qemu-img create -q -f vmdk -o "zeroed_grain=$zg" "$d" 16M
  qemu-io -f vmdk -c 'write -P 0x5a 0 8M' "$d" >/dev/null
  qemu-img convert -f vmdk -O raw "$d" "$exp"
  b0=$(blocks "$d")
  # 1M+100 .. 5M+32K: whole grains 1M+64K .. 5M go, the edges stay
  check "zeroed_grain=$zg: vdk_trim" trim "$d" trim $((MiB + 100)) $((4 * MiB + 32768 - 100))
  raw_zero "$exp" $((MiB + 65536)) $((4 * MiB - 65536))
  b1=$(blocks "$d")
  check_eq "zeroed_grain=$zg: trimmed grains are holes in vdk map" hole \
    "$(map_states "$d" $((MiB + 65536)) $((5 * MiB)))"
  check_eq "zeroed_grain=$zg: edge grains keep their data" data \
    "$(map_states "$d" $MiB $((MiB + 65536)))"
  check "zeroed_grain=$zg: qemu-img check is clean" qemu-img check -q "$d"
  check_qemu_same "zeroed_grain=$zg: content as expected" "$d" "$exp"
  check "zeroed_grain=$zg: host blocks freed ($b0 -> $b1)" \
    test "$b1" -le $((b0 - 4 * 1024 * 2 + 256))
  # zero with may-trim over an unaligned range writes the edges too
  check "zeroed_grain=$zg: vdk_zero_ex may-trim" trim "$d" may-trim 100 $((MiB - 200))
  raw_zero "$exp" 100 $((MiB - 200))
  check "zeroed_grain=$zg: qemu-img check after zero" qemu-img check -q "$d"
  check_qemu_same "zeroed_grain=$zg: content after zero" "$d" "$exp"
  # fast zero refuses partial grains, and writes nothing
  trim "$d" fast-may-trim $((6 * MiB + 1)) 65536 2>/dev/null
  check_eq "zeroed_grain=$zg: fast zero of a partial grain: unsupported" 2 $?
  check_qemu_same "zeroed_grain=$zg: unchanged by the refused fast zero" \
    "$d" "$exp"
}

child_case () {
  local b="$T/parent.vmdk" c="$T/child.vmdk" exp="$T/child.raw"
  qemu-img create -q -f vmdk "$b" 16M
  qemu-io -f vmdk -c 'write -P 0x11 0 8M' "$b" >/dev/null
  qemu-img create -q -f vmdk -o zeroed_grain=on -b "$b" -F vmdk "$c"
  qemu-io -f vmdk -c 'write -P 0x22 0 2M' -c 'write -P 0x33 12M 1M' "$c" \
    >/dev/null
  qemu-img convert -f vmdk -O raw "$c" "$exp"
  # over parent data (0..8M) grains become zeroed grains, over the
  # empty parent (12M..13M) holes
  check "child: vdk_trim 0..13M" trim "$c" trim 0 $((13 * MiB))
  raw_zero "$exp" 0 $((13 * MiB))
  check_eq "child: over parent data, zeroed grains" zero \
    "$(map_states "$c" 0 $((8 * MiB)))"
  check_eq "child: over an empty parent, holes" hole \
    "$(map_states "$c" $((12 * MiB)) $((13 * MiB)))"
  check "child: qemu-img check is clean" qemu-img check -q "$c"
  check_qemu_same "child: reads zero, not the parent's data" "$c" "$exp"
}

flat_case () {
  local d="$T/flat.vmdk" f="$T/flat-flat.vmdk" exp="$T/flat.raw" b0 b1
  qemu-img create -q -f vmdk -o subformat=monolithicFlat "$d" 16M
  qemu-io -f vmdk -c 'write -P 0x44 0 8M' "$d" >/dev/null
  qemu-img convert -f vmdk -O raw "$d" "$exp"
  b0=$(blocks "$f")
  check "flat: vdk_trim 2M..6M" trim "$d" trim $((2 * MiB)) $((4 * MiB))
  raw_zero "$exp" $((2 * MiB)) $((4 * MiB))
  b1=$(blocks "$f")
  check "flat: host blocks freed ($b0 -> $b1)" test "$b1" -le $((b0 - 8192))
  check_eq "flat: the range is zero in vdk map" zero \
    "$(map_states "$d" $((2 * MiB)) $((6 * MiB)))"
  check "flat: vdk_zero_ex fast, unaligned" trim "$d" fast 1000 5000
  raw_zero "$exp" 1000 5000
  check_qemu_same "flat: content as expected" "$d" "$exp"
}

# A format that cannot give space back: trim succeeds and writes nothing.
stream_case () {
  local d="$T/s.vmdk"
  check_vdk "stream: create" create -t streamOptimized "$d" 4M
  head -c 1048576 /dev/urandom >"$T/s.data"
  run_vdk write "$d" <"$T/s.data"
  cp "$d" "$T/s.before"
  check "stream: vdk_trim succeeds doing nothing" trim "$d" trim 0 $MiB
  check_same "stream: the file is unchanged" "$T/s.before" "$d"
}

base_case off
base_case on
stream_case
child_case
flat_case
finish
