#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdk convert: raw <-> every hosted type, byte-exact both ways.
#
# The source raw disk holds random data in scattered chunks (aligned and
# unaligned), a run of explicit zero bytes and large holes.  Converting
# to each type must give a disk qemu-img calls identical to the source;
# converting back to raw must give the source byte for byte; a sparse
# output must skip holes and zero runs, so its file is far smaller than
# the disk.  Also: the output type follows the destination name, -a sets
# the adapter, -p draws nothing when stderr is not a terminal, and an
# existing destination is refused and left alone.
source "$(dirname "$0")/../lib.sh"
require qemu-img jq cmp

src="$T/src.raw"
SIZE=$((2 * GiB + 96 * MiB)) # more than one 2 GiB extent
truncate -s "$SIZE" "$src"
data=0
for spec in 0:1048576 5000:70000 $((33 * MiB)):$((3 * MiB)) \
            $((2 * GiB - 100000)):200000 $((SIZE - 8192)):8192; do
  off=${spec%%:*}
  len=${spec##*:}
  head -c "$len" /dev/urandom >"$T/chunk"
  raw_put "$src" "$T/chunk" "$off"
  data=$((data + len))
done
# 8 MiB of explicit zero bytes: allocated in the raw file, no data.
dd if=/dev/zero of="$src" bs=1M seek=100 count=8 conv=notrunc status=none

for type in monolithicSparse monolithicFlat twoGbMaxExtentSparse \
            twoGbMaxExtentFlat; do
  out="$T/out-$type.vmdk"
  check_vdk "$type: convert raw -> $type" convert -t "$type" "$src" "$out"
  [ "$rc" -eq 0 ] || continue
  run_vdk info --json "$out"
  check_eq "$type: output create_type" "$type" "$(jq -r .create_type "$T/out")"
  check_eq "$type: output capacity" "$SIZE" "$(jq -r .capacity "$T/out")"
  check_qemu_same "$type: qemu-img compare output with source" "$out" "$src"
  check "$type: qemu-img check" qemu-img check -q -f vmdk "$out"
  check_vdk "$type: convert back to raw" convert -t raw "$out" "$T/back.raw"
  [ -f "$T/back.raw" ] && check_same "$type: round trip is byte-exact" \
    "$T/back.raw" "$src"
  rm -f "$T/back.raw"
  case $type in
    *Sparse)
      used=0
      for f in "$T"/out-"$type"*; do
        used=$((used + $(stat -c %s "$f")))
      done
      # Data plus metadata (GD/GTs of 2 GiB: ~1 MiB per extent, grain
      # rounding of the unaligned chunks) stays far below the disk size.
      if [ "$used" -lt $((data + 8 * MiB)) ]; then
        pass "$type: holes and zeroes skipped ($used bytes for $data of data)"
      else
        fail "$type: output uses $used bytes for $data bytes of data"
      fi ;;
  esac
  run_vdk rm "$out"
  rm -f "$T"/out-"$type"*
done

# qemu-made sparse input, converted by vdk to raw.
qemu-img convert -f raw -O vmdk "$src" "$T/q.vmdk"
check_vdk "convert a qemu-made vmdk to raw" convert "$T/q.vmdk" "$T/q.raw"
[ -f "$T/q.raw" ] && check_same "qemu-made vmdk -> raw is byte-exact" \
  "$T/q.raw" "$src"
rm -f "$T/q.raw"

# Output type from the destination name.
check_vdk "convert to x.img" convert "$T/q.vmdk" "$T/x.img"
check_eq "x.img is raw of the right size" "$SIZE" "$(stat -c %s "$T/x.img" 2>&1)"
run_vdk info --json "$T/x.img"
check_eq "x.img: format raw" raw "$(jq -r .format "$T/out")"
rm -f "$T/x.img"
check_vdk "convert to y.vmdk, adapter lsilogic, -p" convert -p -a lsilogic \
  "$src" "$T/y.vmdk"
check_eq "-p draws nothing when stderr is not a terminal" "" "$(cat "$T/err")"
run_vdk info --json "$T/y.vmdk"
check_eq "y.vmdk is monolithicSparse" monolithicSparse \
  "$(jq -r .create_type "$T/out")"
check_eq "y.vmdk has adapter lsilogic" lsilogic "$(jq -r .adapter "$T/out")"

# measure predicts the bytes convert writes (exactly, for these types).
for type in monolithicSparse monolithicFlat twoGbMaxExtentSparse; do
  run_vdk measure -t "$type" "$T/q.vmdk" "$T/m.vmdk"
  predicted=$(cat "$T/out")
  check_vdk "measure then convert -t $type" convert -t "$type" "$T/q.vmdk" \
    "$T/m.vmdk"
  used=0
  for f in "$T"/m.vmdk "$T"/m-*.vmdk; do
    [ -e "$f" ] && used=$((used + $(stat -c %s "$f")))
  done
  check_eq "measure -t $type is exact" "$used" "$predicted"
  rm -f "$T"/m.vmdk "$T"/m-*.vmdk
done

# Compression levels of streamOptimized output: both read back right,
# and the highest level is no larger than the lowest.
for level in 1 12; do
  check_vdk "convert -t streamOptimized -c $level" convert \
    -t streamOptimized -c "$level" "$src" "$T/s$level.vmdk"
  check_qemu_same "-c $level output identical to the source" \
    "$T/s$level.vmdk" "$src"
done
s1=$(stat -c %s "$T/s1.vmdk" 2>/dev/null || echo 0)
s12=$(stat -c %s "$T/s12.vmdk" 2>/dev/null || echo 1)
[ "$s12" -le "$s1" ] && pass "-c 12 ($s12) <= -c 1 ($s1)" \
  || fail "-c 12 gives $s12 bytes, more than -c 1 ($s1)"
run_vdk convert -t streamOptimized -c 13 "$src" "$T/s13.vmdk"
check_eq "-c 13 is refused" 1 "$rc"
[ ! -e "$T/s13.vmdk" ] && pass "... creating nothing" || fail "-c 13 made a file"

# -p on a terminal draws a bar that ends at 100% (script(1) gives the
# command a pseudo-terminal).
if command -v script >/dev/null; then
  script -qec "$(printf '%q ' ${VDK_WRAPPER:-} "$VDK") convert -p $(printf '%q' "$src") $(printf '%q' "$T/tty.vmdk")" \
    /dev/null >"$T/tty.out" 2>&1
  check_eq "convert -p on a terminal exits 0" 0 "$?"
  grep -q 'convert  *[0-9.]*% \[#*' "$T/tty.out" && grep -q '100\.0%' "$T/tty.out" \
    && pass "-p draws a progress bar up to 100%" \
    || fail "-p on a terminal printed: $(tr '\r' '\n' <"$T/tty.out" | tail -3)"
  check_qemu_same "convert -p output identical" "$T/tty.vmdk" "$src"
fi

# An existing destination is refused and not touched.
before=$(sha256sum <"$T/y.vmdk")
run_vdk convert "$src" "$T/y.vmdk"
check_eq "convert onto an existing file fails" 1 "$rc"
check_eq "... and leaves it unchanged" "$before" "$(sha256sum <"$T/y.vmdk")"

finish
