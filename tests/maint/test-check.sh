#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdk check / check --repair on deliberately damaged disks, one per fault
# kind.  A plain check must list the fault, exit 2 and not change a
# byte; --repair must make the repairable ones clean (then vdk check
# exits 0 and qemu-img check is clean) and leave the others reported
# (exit 2).  Damage is done with damage.py and the interop vmdkedit.py.
source "$(dirname "$0")/../lib.sh"
require qemu-img qemu-io python3
DAMAGE="$(dirname "$0")/damage.py"

# fresh NAME: a 16 MiB sparse disk with 2 MiB of data at 0 (grains in
# table 0) in $T/NAME/d.vmdk; sets $d.
fresh () {
  mkdir -p "$T/$1"
  d="$T/$1/d.vmdk"
  "$VDK" create "$d" 16M >/dev/null
  head -c $((2 * MiB)) /dev/urandom >"$T/$1/data"
  "$VDK" write "$d" --offset 0 <"$T/$1/data" >/dev/null
}

# expect_fault NAME FILE PATTERN REPAIRABLE: REPAIRABLE is yes, no, or
# lost (repair makes the disk sound but some data had no valid copy:
# it names the lost bytes and exits 2; a check afterwards is clean).
expect_fault () {
  local name=$1 f=$2 pat=$3 repairable=$4 before after
  before=$(hash_tree "$(dirname "$f")")
  run_vdk check "$f"
  check_eq "$name: check exits 2" 2 "$rc"
  if grep -q -- "$pat" "$T/out"; then
    pass "$name: check names the fault"
  else
    fail "$name: no '$pat' in: $(head -5 "$T/out")"
  fi
  after=$(hash_tree "$(dirname "$f")")
  check_eq "$name: check changed nothing" "$before" "$after"
  run_vdk check --repair "$f"
  if [ "$repairable" = yes ] || [ "$repairable" = lost ]; then
    if [ "$repairable" = lost ]; then
      check_eq "$name: check --repair exits 2 (data lost)" 2 "$rc"
      grep -q "data lost: .*bytes [0-9]*\.\.[0-9]*" "$T/out" \
        && pass "$name: repair names the bytes lost" \
        || fail "$name: no lost range in: $(head -5 "$T/out")"
    else
      check_eq "$name: check --repair exits 0" 0 "$rc"
    fi
    grep -q "^changed: " "$T/out" && pass "$name: repair lists its changes" \
        || fail "$name: repair printed no change"
    run_vdk check "$f"
    check_eq "$name: clean after repair" 0 "$rc"
    check "$name: qemu-img check after repair" qemu-img check -q "$f"
  else
    check_eq "$name: not repairable: still exit 2" 2 "$rc"
  fi
}

fresh clean
run_vdk check "$d"
check_eq "a good disk checks clean" 0 "$rc"

fresh gte-eof
python3 "$DAMAGE" gte "$d" 0 3 0x7fffff00
expect_fault "grain past EOF" "$d" "beyond end of file" lost
check_eq "grain past EOF: the dropped grain reads as unallocated" 0 \
  "$(python3 "$DAMAGE" get-gte "$d" 0 3)"

fresh gd-eof
python3 "$DAMAGE" gd "$d" 0 0x7fffff00
expect_fault "table past EOF" "$d" "grain table at sector .* beyond end" lost

fresh shared
g=$(python3 "$DAMAGE" get-gte "$d" 0 0)
python3 "$DAMAGE" gte "$d" 0 5 "$g"
expect_fault "two entries share a grain" "$d" "share a grain" no

fresh gt-meta
python3 "$DAMAGE" gd "$d" 0 2
desc_before=$(python3 "$VMDKEDIT" desc-get "$d")
expect_fault "grain table over metadata" "$d" \
  "grain table 0 (sector 2) overlaps the header/descriptor" no
check_eq "grain table over metadata: repair leaves the descriptor alone" \
  "$desc_before" "$(python3 "$VMDKEDIT" desc-get "$d")"

fresh rgt-differs
python3 "$DAMAGE" gte "$d" 0 7 0 redundant
expect_fault "primary and redundant tables differ" "$d" \
  "primary and redundant copies differ" yes

fresh rgd-differs
python3 "$DAMAGE" gd "$d" 0 0 redundant
expect_fault "primary and redundant directories differ" "$d" \
  "primary and redundant copies differ" yes

fresh unclean
python3 "$DAMAGE" unclean "$d" 1
expect_fault "unclean-shutdown mark" "$d" "unclean-shutdown mark is set" yes
check_eq "unclean mark cleared" 0 \
  "$(python3 "$VMDKEDIT" hdr-get "$d" uncleanShutdown)"

fresh size
python3 "$VMDKEDIT" desc-sub "$d" "RW 32768 SPARSE" "RW 65536 SPARSE"
expect_fault "descriptor extent larger than the sparse header" "$d" \
  "extent size differs" no

# A header larger than the descriptor is what a grow stopped between the
# extent and the descriptor leaves: readers use the descriptor's size,
# check notes it and exits 0, and a grow completes the disk.
fresh size2
python3 "$VMDKEDIT" desc-sub "$d" "RW 32768 SPARSE" "RW 16384 SPARSE"
run_vdk check "$d"
check_eq "sparse header larger than the descriptor: check exits 0" 0 "$rc"
grep -q "^note: .*the sparse header holds 32768 sectors, the descriptor uses 16384" \
  "$T/out" && pass "sparse header larger than the descriptor: noted" \
  || fail "no note of the larger header in: $(head -5 "$T/out")"
check_vdk "the interrupted grow completes" grow "$d" 16M
run_vdk check "$d"
check_eq "clean after the grow" 0 "$rc"
check_vdk_read "the data reads back after the grow" "$d" "$T/size2/data" \
  --length $((2 * MiB))

mkdir -p "$T/flat"
"$VDK" create -t monolithicFlat "$T/flat/f.vmdk" 8M >/dev/null
truncate -s 4M "$T/flat/f-flat.vmdk"
expect_fault "flat extent shorter than the descriptor" "$T/flat/f.vmdk" \
  "extent size differs" yes

fresh cid
"$VDK" child "$d" "$T/cid/c.vmdk" >/dev/null
echo parent-changed | "$VDK" write "$d" --offset 0 >/dev/null
expect_fault "chain CID mismatch" "$T/cid/c.vmdk" "chain CID mismatch" no

fresh cowd
if "$VDK" child -t vmfsSparse "$d" "$T/cowd/c.vmdk" >/dev/null 2>&1; then
  head -c $MiB /dev/urandom | "$VDK" write "$T/cowd/c.vmdk" >/dev/null
  run_vdk check "$T/cowd/c.vmdk"
  check_eq "a good vmfsSparse (COWD) child checks clean" 0 "$rc"
  python3 - "$T/cowd/c-delta.vmdk" <<'PYEOF'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(20)
    gd = struct.unpack("<I", f.read(4))[0]
    f.seek(gd * 512)
    gt = struct.unpack("<I", f.read(4))[0]
    f.seek(gt * 512 + 8)
    f.write(struct.pack("<I", 0x7fffff00))
PYEOF
  expect_fault "COWD grain past EOF" "$T/cowd/c.vmdk" "beyond end of file" no
else
  echo "# vdk cannot make vmfsSparse children here: COWD case not run"
fi

mkdir -p "$T/stream"
qemu-img convert -q -f raw -O vmdk -o subformat=streamOptimized \
  "$T/clean/data" "$T/stream/q.vmdk"
run_vdk check "$T/stream/q.vmdk"
check_eq "a QEMU stream (directory in the header) checks clean" 0 "$rc"
cp "$T/clean/data" "$T/stream/data.raw"
if "$VDK" convert -t streamOptimized "$T/stream/data.raw" "$T/stream/s.vmdk" \
     2>/dev/null; then
  run_vdk check "$T/stream/s.vmdk"
  check_eq "a complete stream (footer) checks clean" 0 "$rc"
  size=$(stat -c %s "$T/stream/s.vmdk")
  truncate -s $((size - 1024)) "$T/stream/s.vmdk"
  expect_fault "stream without a valid footer" "$T/stream/s.vmdk" \
    "no valid footer" no
else
  echo "# vdk cannot write streamOptimized here: footer case not run"
fi

run_vdk check "$T/missing.vmdk"
check_eq "a missing file: could not check (exit 1)" 1 "$rc"
finish
