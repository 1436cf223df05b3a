#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdk measure, and memory that stays flat in the disk size.
#
# measure must print exactly the bytes of the files `vdk convert` then
# writes for every uncompressed type (descriptor included), an upper
# bound for streamOptimized, and follow --single-link.  Then a 2 TiB
# twoGbMaxExtentSparse disk (1024 extents) with a few MiB scattered over
# it is measured and converted to streamOptimized and monolithicSparse:
# each run must stay under 64 MiB peak RSS, and the outputs must hold
# exactly the written data.
source "$(dirname "$0")/../lib.sh"
require qemu-img cmp
: "${STREAM_CHECK:?STREAM_CHECK must name the stream-check helper}"
[ -x /usr/bin/time ] || skip "GNU time (/usr/bin/time) is not installed"

files_size () {   # total apparent size of the files in a folder
  local total=0 f
  for f in "$1"/*; do
    total=$((total + $(stat -c %s "$f")))
  done
  echo "$total"
}

# A chain: sparse base with data + a child with more.
check_vdk "base" create -a lsilogic -H 13 "$T/base.vmdk" 150M
head -c 2000000 /dev/urandom >"$T/a"
check_vdk "base data" write "$T/base.vmdk" --offset 1000 <"$T/a"
yes 'text text' | head -c 3000000 >"$T/b"
check_vdk "more base data" write "$T/base.vmdk" --offset $((90 * MiB)) <"$T/b"
check_vdk "child" child "$T/base.vmdk" "$T/child.vmdk"
check_vdk "child data" write "$T/child.vmdk" --offset $((40 * MiB + 3)) <"$T/a"
head -c 65536 /dev/zero >"$T/z"
check_vdk "zeroes in the child" write "$T/child.vmdk" --offset $((60 * MiB)) \
  <"$T/z"

for single in "" --single-link; do
  for t in raw monolithicSparse twoGbMaxExtentSparse monolithicFlat \
           twoGbMaxExtentFlat vmfs vmfsThin streamOptimized; do
    d="$T/o"
    rm -rf "$d"
    mkdir "$d"
    name="disk-$t.vmdk"
    [ "$t" = raw ] && name=disk.img
    run_vdk measure $single -t "$t" "$T/child.vmdk" "$d/$name"
    m=$(cat "$T/out")
    check_vdk "$t$single: convert" convert $single -t "$t" \
      "$T/child.vmdk" "$d/$name"
    got=$(files_size "$d")
    if [ "$t" = streamOptimized ]; then
      [ "$m" -ge "$got" ] && pass "$t$single: measure $m >= $got" \
        || fail "$t$single: measure $m < actual $got"
    else
      check_eq "$t$single: measure is exact" "$got" "$m"
    fi
  done
done
run_vdk measure --json -t vmfs "$T/child.vmdk"
grep -q '"exact": true' "$T/out" && pass "measure --json" \
  || fail "measure --json: $(cat "$T/out")"
run_vdk measure -t nosuchtype "$T/child.vmdk"
check_eq "measure: unknown type" 1 "$rc"

# ---- 2 TiB ----
big="$T/big.vmdk"
check_vdk "2 TiB twoGbMaxExtentSparse" create -t twoGbMaxExtentSparse "$big" 2T
head -c $((1 * MiB)) /dev/urandom >"$T/c"
offs="0 7777777777 555555555555 1099511627776 $((2 * 1024 * GiB - MiB))"
for o in $offs; do
  check_vdk "write 1 MiB at $o" write "$big" --offset "$o" <"$T/c"
done
# Grains (64 KiB) touched: 16 per aligned MiB, 17 per unaligned one.
grains=0
for o in $offs; do
  grains=$((grains + ($((o % 65536)) ? 17 : 16)))
done

# Sanitizer builds carry shadow memory and quarantines: their RSS says
# nothing about vdk's, so it is printed but not judged there.
# (ldd's whole output is read first: `ldd | grep -q` under pipefail
# fails when grep exits before ldd has written everything.)
sanitized=
case "$(ldd "$VDK" 2>/dev/null)" in
  *libasan*|*libtsan*) sanitized=1 ;;
esac
rss_ok () {   # NAME KB
  if [ -n "$sanitized" ]; then
    echo "# $1: peak RSS $(($2 / 1024)) MiB (sanitizer build: not judged)"
  elif [ "$2" -lt 65536 ]; then
    pass "$1: peak RSS $(($2 / 1024)) MiB < 64 MiB"
  else
    fail "$1: peak RSS $(($2 / 1024)) MiB"
  fi
}
for t in streamOptimized monolithicSparse; do
  /usr/bin/time -f %M -o "$T/rss" "$VDK" convert -t "$t" "$big" \
    "$T/big-$t.vmdk" 2>"$T/err"
  check_eq "2 TiB -> $t" 0 "$?"
  rss_ok "2 TiB -> $t" "$(tail -1 "$T/rss")"
  for o in $offs; do
    r=$(cmp <("$VDK" read --offset "$o" --length $MiB "$T/big-$t.vmdk") \
          "$T/c" 2>&1)
    [ -z "$r" ] && pass "$t: data at $o" || fail "$t: data at $o: $r"
  done
done
out=$("$STREAM_CHECK" "$T/big-streamOptimized.vmdk")
check_eq "the 2 TiB stream holds exactly the written grains" \
  "$T/big-streamOptimized.vmdk: ok, $grains grains" "$out"
/usr/bin/time -f %M -o "$T/rss" "$VDK" measure -t monolithicSparse "$big" \
  "$T/big-monolithicSparse.vmdk" >"$T/out"
rss_ok "measure 2 TiB" "$(tail -1 "$T/rss")"
check_eq "measure of the 2 TiB disk is exact" \
  "$(stat -c %s "$T/big-monolithicSparse.vmdk")" "$(cat "$T/out")"
finish
