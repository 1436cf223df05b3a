#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The command line contract of `vdk`.
#
# --help and --version on the top level and on every subcommand print to
# stdout (nothing on stderr) and exit 0; misuse prints a usage on stderr,
# nothing on stdout, and exits 1; sizes take K/M/G/T suffixes; type
# names and vmware-vdiskmanager numbers both work; read and write move
# bytes exactly at the offsets given; errors name the file.
source "$(dirname "$0")/../lib.sh"
require jq cmp

run_vdk --version
check_eq "vdk --version exit" 0 "$rc"
version=$(cat "$T/out")
[[ $version =~ ^vdk\ [0-9]+\.[0-9]+\.[0-9]+ ]] \
  && pass "vdk --version: $version" || fail "vdk --version printed '$version'"
run_vdk --help
check_eq "vdk --help exit" 0 "$rc"
grep -q '^Usage: vdk' "$T/out" && pass "vdk --help prints a usage" \
  || fail "vdk --help: $(head -2 "$T/out")"

# Every command `vdk --help` lists, which must include the core ones.
cmds=$(sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p' "$T/out" | tr '\n' ' ')
for c in create child info convert read write meta rename rm check grow \
         shrink defrag attach commit map; do
  [[ " $cmds " == *" $c "* ]] || fail "vdk --help does not list $c"
done
for c in $cmds; do
  run_vdk "$c" --help
  if [ "$rc" -eq 0 ] && grep -qi usage "$T/out" && [ ! -s "$T/err" ]; then
    pass "vdk $c --help"
  else
    fail "vdk $c --help: exit $rc, stdout $(head -1 "$T/out"), stderr $(head -1 "$T/err")"
  fi
  run_vdk "$c" --version
  if [ "$rc" -eq 0 ] && [ "$(cat "$T/out")" = "$version" ] && [ ! -s "$T/err" ]; then
    pass "vdk $c --version"
  else
    fail "vdk $c --version: exit $rc, stdout '$(cat "$T/out")'"
  fi
done

# misuse DESCRIPTION ARGS...: exit 1, usage or message on stderr only.
misuse () {
  local what=$1
  shift
  run_vdk "$@"
  if [ "$rc" -eq 1 ] && [ -s "$T/err" ] && [ ! -s "$T/out" ]; then
    pass "misuse: $what"
  else
    fail "misuse: $what: exit $rc, stdout $(head -c 100 "$T/out")"
  fi
}
misuse "no command"
misuse "unknown command" frobnicate
misuse "unknown top-level option" --frobnicate
for c in create child info convert read write rename rm; do
  misuse "$c without arguments" "$c"
done
misuse "info with two files" info a.vmdk b.vmdk
misuse "info with an unknown option" info --frobnicate x.vmdk
misuse "read with an option lacking its value" read x.vmdk --offset
misuse "create with an unknown type" create -t frobSparse "$T/u.vmdk" 1M
misuse "create with an unknown adapter" create -a scsi9 "$T/u.vmdk" 1M
misuse "create with a bad hw version" create -H seven "$T/u.vmdk" 1M
misuse "meta with four arguments" meta x.vmdk k v w
[ ! -e "$T/u.vmdk" ] && pass "misuse created no file" || fail "misuse made u.vmdk"

# Errors on missing files name the file.
run_vdk info "$T/nothere.vmdk"
if [ "$rc" -eq 1 ] && grep -q nothere.vmdk "$T/err" \
    && [ "$(wc -l <"$T/err")" -eq 1 ]; then
  pass "info of a missing file: $(cat "$T/err")"
else
  fail "info of a missing file: exit $rc: $(cat "$T/err")"
fi

# Sizes and type names.
check_vdk "create 1536K" create "$T/k.vmdk" 1536K
run_vdk info --json "$T/k.vmdk"
check_eq "1536K is 1572864 bytes" 1572864 "$(jq -r .capacity "$T/out")"
check_vdk "create 1G" create "$T/g.vmdk" 1G
run_vdk info --json "$T/g.vmdk"
check_eq "1G is 1073741824 bytes" 1073741824 "$(jq -r .capacity "$T/out")"
check_vdk "create 2T" create "$T/t.vmdk" 2T
run_vdk info --json "$T/t.vmdk"
check_eq "2T is 2199023255552 bytes" 2199023255552 "$(jq -r .capacity "$T/out")"
i=0
for t in monolithicSparse twoGbMaxExtentSparse monolithicFlat twoGbMaxExtentFlat; do
  check_vdk "create -t $i" create -t "$i" "$T/n$i.vmdk" 1M
  run_vdk info --json "$T/n$i.vmdk"
  check_eq "-t $i is $t" "$t" "$(jq -r .create_type "$T/out")"
  check_vdk "rm n$i" rm "$T/n$i.vmdk"
  i=$((i + 1))
done
check_vdk "create --type=MONOLITHICSPARSE (case-insensitive)" create \
  --type=MONOLITHICSPARSE "$T/cs.vmdk" 1M
run_vdk info "$T/cs.vmdk"
check_eq "plain info exit" 0 "$rc"
grep -q 'monolithicSparse' "$T/out" && grep -q '1048576' "$T/out" \
  && pass "plain info shows type and capacity" \
  || fail "plain info: $(cat "$T/out")"

# read/write at byte offsets; reads past the end fail.
d="$T/rw.vmdk"
check_vdk "create rw.vmdk" create "$d" 1M
printf 'hello, world' | vdk write "$d" --offset 1000 \
  && pass "write 12 bytes at 1000" || fail "write at 1000 failed"
run_vdk read "$d" --offset 1000 --length 12
check_eq "read them back" "hello, world" "$(cat "$T/out")"
run_vdk read "$d" --offset 999 --length 1
check_eq "the byte before is zero" 00 "$(od -An -tx1 "$T/out" | tr -d ' \n')"
run_vdk read "$d"
check_eq "read without range gives the whole disk" 1048576 \
  "$(stat -c %s "$T/out")"
run_vdk read "$d" --offset 1M --length 0
check_eq "an empty read at the end works" "0 0" "$rc $(stat -c %s "$T/out")"
run_vdk read "$d" --offset 1048000 --length 1000
check_eq "a read past the end fails" 1 "$rc"
grep -q rw.vmdk "$T/err" && pass "... naming the file" \
  || fail "read past the end: $(cat "$T/err")"
printf 'xy' >"$T/xy"
run_vdk write "$d" --offset $((1048576 - 1)) <"$T/xy"
check_eq "a write past the end fails" 1 "$rc"
run_vdk read "$d" --offset 1M
check_eq "read from the end gives nothing" "0 0" "$rc $(stat -c %s "$T/out")"
run_vdk read "$d" --offset 2M
check_eq "read from beyond the end fails" 1 "$rc"
head -c $((3 * MiB)) /dev/urandom >"$T/big"
check_vdk "create big.vmdk" create "$T/big.vmdk" 8M
check_vdk "write 3 MiB from stdin (several chunks)" write "$T/big.vmdk" \
  --offset 4097 <"$T/big"
check_vdk_read "3 MiB read back across chunks" "$T/big.vmdk" "$T/big" \
  --offset 4097 --length $((3 * MiB))

# Raw images: written and read in place, byte for byte.
qemu-img create -q -f raw "$T/plain.img" 5M 2>/dev/null || truncate -s 5M "$T/plain.img"
cp "$T/plain.img" "$T/plain.expect"
head -c 777777 /dev/urandom >"$T/rawdata"
check_vdk "write into a raw image" write "$T/plain.img" --offset 1234567 \
  <"$T/rawdata"
raw_put "$T/plain.expect" "$T/rawdata" 1234567
check_same "the raw image holds exactly the bytes written" "$T/plain.img" \
  "$T/plain.expect"
check_eq "the raw image keeps its size" $((5 * MiB)) "$(stat -c %s "$T/plain.img")"
check_vdk_read "vdk read of the raw image" "$T/plain.img" "$T/plain.expect"
run_vdk meta "$T/plain.img"
check_eq "meta of a raw image fails" 1 "$rc"

# A write of zeroes into a hole allocates nothing; reads keep the CID.
check_vdk "create z.vmdk" create "$T/z.vmdk" 64M
before=$(stat -c %s "$T/z.vmdk")
head -c $((4 * MiB)) /dev/zero >"$T/zeros"
check_vdk "write 4 MiB of zeroes" write "$T/z.vmdk" --offset 1M <"$T/zeros"
check_eq "zeroes into a hole allocate no grain" "$before" \
  "$(stat -c %s "$T/z.vmdk")"
run_vdk info --json "$T/z.vmdk"
cid=$(jq -r .cid "$T/out")
check_vdk_read "the zeroes read back" "$T/z.vmdk" "$T/zeros" \
  --offset 1M --length 4M
run_vdk info --json "$T/z.vmdk"
check_eq "reading and info keep the CID" "$cid" "$(jq -r .cid "$T/out")"

# File names with spaces, backslashes, tabs and UTF-8 survive JSON.
odd=$'we ird\\ \xc3\xa9\tname.vmdk'
check_vdk "create a disk with an odd name" create "$T/$odd" 1M
run_vdk info --json "$T/$odd"
check_eq "info --json escapes the name" "$odd" \
  "$(jq -r '.extents[0].file' "$T/out" 2>&1)"

# A split disk past 2048 extents is refused before any file is made, on
# create and on grow (8000 TiB would otherwise be ~4 million files).
mkdir "$T/huge"
run_vdk create -t twoGbMaxExtentFlat "$T/huge/h.vmdk" 8000T
check_eq "create of an 8000 TiB split disk fails" 1 "$rc"
check_eq "... and makes no file" 0 "$(find "$T/huge" -type f | wc -l)"
grep -q "at most 2048 extents" "$T/err" && pass "... with the reason" \
  || fail "no reason given: $(cat "$T/err")"
check_vdk "create a small split disk" create -t twoGbMaxExtentSparse \
  "$T/huge/s.vmdk" 1M
run_vdk grow "$T/huge/s.vmdk" 8000T
check_eq "grow of a split disk to 8000 TiB fails" 1 "$rc"
check_eq "... and adds no extent" 2 "$(find "$T/huge" -type f | wc -l)"

finish
