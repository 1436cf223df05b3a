#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# compare, rebase and commit --base/--drop against qemu-img.
#
# 1. vdk compare gives qemu-img compare's answer (exit 0 same, 1 different
#    with the same first offset, 2 error) on pairs of every kind: a chain
#    against its flattened raw, two chains that differ in one sector, a
#    larger disk with a zero or non-zero tail, strict mode on sizes, a
#    missing file.
# 2. vdk rebase of a three-deep chain onto the base and onto an unrelated
#    disk keeps every byte the child shows (qemu-img compare against the
#    raw taken before), and qemu-img info names the new parent; with its
#    old parent gone, rebase refuses and leaves the child unchanged.
# 3. vdk commit --base through two levels leaves the base exactly as
#    qemu-img commit -d -b makes it (qemu-img compare of the two bases),
#    the child still shows the same contents through the base, and the
#    link between refuses to open; --drop then empties the child (its
#    file shrinks, vdk map shows no data in it) while it reads the same.
source "$(dirname "$0")/../lib.sh"
require qemu-img qemu-io jq

# chain DIR: base (64M) -> mid -> top with data in each layer, unaligned
# writes included; DIR/top.raw and DIR/mid.raw are their contents.
chain () {
  local d=$1
  mkdir -p "$d"
  vdk create "$d/base.vmdk" 64M
  head -c $((4 * MiB)) /dev/urandom | vdk write "$d/base.vmdk"
  head -c $((1 * MiB)) /dev/urandom | vdk write "$d/base.vmdk" --offset 50M
  vdk child "$d/base.vmdk" "$d/mid.vmdk"
  head -c $((1 * MiB)) /dev/urandom | vdk write "$d/mid.vmdk" --offset 8M
  head -c 3000 /dev/urandom | vdk write "$d/mid.vmdk" --offset 1000
  vdk child "$d/mid.vmdk" "$d/top.vmdk"
  head -c 70000 /dev/urandom | vdk write "$d/top.vmdk" --offset 2M
  head -c 65536 /dev/zero | vdk write "$d/top.vmdk" --offset 50M
  vdk read "$d/top.vmdk" >"$d/top.raw"
  vdk read "$d/mid.vmdk" >"$d/mid.raw"
}

# ---- 1. compare ------------------------------------------------------------
c="$T/c"
chain "$c"
cp "$c/top.raw" "$c/diff.raw"
printf '\x5a' | dd of="$c/diff.raw" bs=1 seek=$((33 * MiB + 512)) \
  conv=notrunc status=none
cp "$c/top.raw" "$c/long0.raw"
truncate -s 80M "$c/long0.raw"
cp "$c/long0.raw" "$c/long1.raw"
printf '\x01' | dd of="$c/long1.raw" bs=1 seek=$((70 * MiB)) conv=notrunc \
  status=none

# same_answer DESCRIPTION [-s] A B: exit status and message of vdk compare
# equal those of qemu-img compare.
same_answer () {
  local what=$1 qrc=0 qout
  shift
  qout=$(qemu-img compare "$@" 2>/dev/null) || qrc=$?
  run_vdk compare "$@"
  check_eq "$what: exit status as qemu-img's" "$qrc" "$rc"
  if [ "$qrc" -le 1 ]; then
    check_eq "$what: message as qemu-img's" "$qout" "$(cat "$T/out")"
  fi
}
same_answer "chain against its raw" "$c/top.vmdk" "$c/top.raw"
same_answer "raw against chain" "$c/top.raw" "$c/top.vmdk"
same_answer "top against mid" "$c/top.vmdk" "$c/mid.vmdk"
same_answer "one byte differs" "$c/top.vmdk" "$c/diff.raw"
same_answer "longer, zero tail" "$c/top.vmdk" "$c/long0.raw"
same_answer "longer, non-zero tail" "$c/long1.raw" "$c/top.vmdk"
same_answer "strict, sizes differ" -s "$c/top.vmdk" "$c/long0.raw"
run_vdk compare "$c/top.vmdk" "$c/missing.vmdk"
check_eq "missing file: exit 2" 2 "$rc"
grep -q 'missing.vmdk' "$T/err" && pass "missing file: named" \
  || fail "missing file: not named: $(cat "$T/err")"
run_vdk compare --bogus "$c/top.vmdk" "$c/top.raw"
check_eq "misuse: exit 2" 2 "$rc"
check_eq "first differing byte" "Content mismatch at offset $((33 * MiB + 512))!" \
  "$(vdk compare "$c/diff.raw" "$c/top.vmdk")"

# ---- 2. rebase -------------------------------------------------------------
r="$T/r"
chain "$r"
mid_hash=$(sha256sum <"$r/mid.vmdk")
check_vdk "rebase top onto base" rebase "$r/top.vmdk" "$r/base.vmdk"
check_qemu_same "rebased top shows what it showed" "$r/top.vmdk" \
  "$r/top.raw"
check_eq "qemu-img names the new parent" base.vmdk \
  "$(qemu-img info --output=json "$r/top.vmdk" | jq -r '."backing-filename"')"
check_eq "the old parent is untouched" "$mid_hash" \
  "$(sha256sum <"$r/mid.vmdk")"
check "qemu-img check of the rebased child" qemu-img check -q "$r/top.vmdk"

vdk create "$r/other.vmdk" 64M
head -c $((2 * MiB)) /dev/urandom | vdk write "$r/other.vmdk" --offset 1M
check_vdk "rebase top onto an unrelated disk" rebase "$r/top.vmdk" \
  "$r/other.vmdk"
check_qemu_same "still shows what it showed" "$r/top.vmdk" "$r/top.raw"

chain "$r/gone"
rm "$r/gone/base.vmdk"
top_hash=$(sha256sum <"$r/gone/top.vmdk")
run_vdk rebase "$r/gone/top.vmdk" "$r/other.vmdk"
check_eq "rebase with the old parent gone fails" 1 "$rc"
check_eq "... leaving the child as it was" "$top_hash" \
  "$(sha256sum <"$r/gone/top.vmdk")"

# ---- 3. commit --base, --drop ----------------------------------------------
m="$T/m"
chain "$m"
mkdir "$m/q"
cp "$m"/*.vmdk "$m/q/"
(cd "$m/q" && qemu-img commit -q -d -b base.vmdk top.vmdk) \
  || fail "qemu-img commit -d -b failed"
check_vdk "commit --base through two levels" commit --base "$m/base.vmdk" \
  "$m/top.vmdk"
check_qemu_same "the base is what qemu-img commit -b makes" \
  "$m/base.vmdk" "$m/q/base.vmdk" vmdk vmdk
check_qemu_same "the child shows what it showed" "$m/top.vmdk" "$m/top.raw"
check_eq "the child names the base" base.vmdk \
  "$(qemu-img info --output=json "$m/top.vmdk" | jq -r '."backing-filename"')"
run_vdk info "$m/mid.vmdk"
check_eq "the link between refuses to open" 1 "$rc"
grep -q 'CID' "$T/err" && pass "... with a CID mismatch" \
  || fail "... but says: $(cat "$T/err")"
run_vdk commit --base "$m/other.vmdk" "$m/top.vmdk"
check_eq "commit --base of a disk outside the chain fails" 1 "$rc"

before=$(stat -c %s "$m/top.vmdk")
check_vdk "commit --drop" commit --drop "$m/top.vmdk"
after=$(stat -c %s "$m/top.vmdk")
[ "$after" -lt "$before" ] && pass "the dropped child is smaller ($after < $before)" \
  || fail "the dropped child did not shrink ($after >= $before)"
check_qemu_same "the dropped child shows the same" "$m/top.vmdk" \
  "$m/top.raw"
run_vdk map --top-only "$m/top.vmdk"
grep -qE ' (data|zero) ' "$T/out" && fail "the dropped child holds data" \
  || pass "the dropped child holds nothing"
check "qemu-img check of the dropped child" qemu-img check -q "$m/top.vmdk"

vdk child "$m/top.vmdk" "$m/cowd.vmdk" -t vmfsSparse
cowd_hash=$(sha256sum <"$m/top.vmdk")
run_vdk commit --drop "$m/cowd.vmdk"
check_eq "--drop of a vmfsSparse child is refused" 1 "$rc"
check_eq "... before anything is written" "$cowd_hash" \
  "$(sha256sum <"$m/top.vmdk")"

finish
