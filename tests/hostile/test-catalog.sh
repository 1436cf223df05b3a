#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The hostile catalog (issue 9): crafted inputs made by mkcases.py (and
# the LVM/partition cases of mkvolumes.py), each run once through the
# vdk tool.  For every case:
# - the exit status is the expected one (1 for a refusal; a status of
#   128 or more is a crash),
# - stderr matches the case's pattern: a clear error naming the problem,
# - the run takes at most LIMIT_SECS seconds and LIMIT_KIB KiB of peak
#   memory (docs/security.md states 2 s and 64 MiB for a file of a few
#   KiB; the margins here are generous so sanitizer builds and a loaded
#   machine pass: these are limits, not benchmarks).
# Time and memory come from GNU time (%e, %M).
source "$(dirname "$0")/../lib.sh"
require python3
[ -x /usr/bin/time ] || skip "GNU time (/usr/bin/time) is not installed"

HERE=$(cd "$(dirname "$0")" && pwd)
LIMIT_SECS=${LIMIT_SECS:-20}
LIMIT_KIB=${LIMIT_KIB:-$((512 * 1024))}

python3 "$HERE/mkcases.py" "$T/cases" || { fail "mkcases.py failed"; finish; }
ncases=0
while IFS=$'\t' read -r name want regex args; do
  [ -n "$name" ] || continue
  ncases=$((ncases + 1))
  read -r -a argv <<<"$args"
  rc=0
  # Commands that read stdin (write) get the case's "stdin" file.
  stdin=/dev/null
  [ -f "$T/cases/$name/stdin" ] && stdin=$T/cases/$name/stdin
  (cd "$T/cases/$name" &&
     /usr/bin/time -f '%e %M' -o "$T/time" \
       ${VDK_WRAPPER:-} "$VDK" "${argv[@]}" <"$stdin" >"$T/out" 2>"$T/err") \
    || rc=$?
  read -r secs kib <"$T/time" || { secs=0; kib=0; }
  # GNU time adds "Command exited with non-zero status N" first.
  if grep -q '^Command' "$T/time"; then
    read -r secs kib < <(tail -1 "$T/time")
  fi
  what="$name: vdk ${argv[*]}"
  if [ "$rc" -ge 128 ]; then
    fail "$what crashed (status $rc): $(head -3 "$T/err")"
  elif [ "$rc" -ne "$want" ]; then
    fail "$what: expected exit $want, got $rc: $(head -3 "$T/err")"
  elif [ "$want" -eq 1 ] && ! grep -Eq -- "$regex" "$T/err"; then
    fail "$what: stderr does not match /$regex/: $(head -3 "$T/err")"
  elif [ "$want" -gt 1 ] && ! cat "$T/out" "$T/err" | grep -Eq -- "$regex"; then
    fail "$what: output does not match /$regex/: $(head -3 "$T/out")"
  elif [ "$want" -eq 0 ] && [ "$regex" != - ] \
         && ! cat "$T/out" "$T/err" | grep -Eq -- "$regex"; then
    fail "$what: output does not match /$regex/: $(head -3 "$T/out")"
  else
    pass "$what ($(head -c 150 "$T/err" | tr '\n' ' '))"
  fi
  if awk -v s="$secs" -v l="$LIMIT_SECS" 'BEGIN { exit !(s > l) }'; then
    fail "$name: took ${secs}s, more than ${LIMIT_SECS}s"
  fi
  if [ "$kib" -gt "$LIMIT_KIB" ]; then
    fail "$name: peak memory ${kib} KiB, more than ${LIMIT_KIB} KiB"
  fi
done <"$T/cases/cases"
# ---- images made by qemu-img: refused by name (defect 4) ----------------
if command -v qemu-img >/dev/null 2>&1; then
  for f in qcow2:qcow2 qed:QED vpc:VHD vhdx:VHDX vdi:VDI parallels:Parallels; do
    fmt=${f%%:*} want=${f#*:}
    qemu-img create -q -f "$fmt" "$T/q.$fmt" 16M 2>/dev/null || continue
    ncases=$((ncases + 1))
    for cmd in info read; do
      run_vdk "$cmd" "$T/q.$fmt"
      [ "$rc" -eq 1 ] && grep -q "$want" "$T/err" \
        && pass "qemu-img $fmt: vdk $cmd refuses it as $want" \
        || fail "qemu-img $fmt: vdk $cmd: exit $rc: $(head -2 "$T/err")"
    done
    run_vdk convert "$T/q.$fmt" "$T/q-out.vmdk"
    [ "$rc" -eq 1 ] && [ ! -e "$T/q-out.vmdk" ] \
      && pass "qemu-img $fmt: convert refuses, writes nothing" \
      || fail "qemu-img $fmt: convert: exit $rc, output left: $(ls "$T"/q-out* 2>&1)"
  done
fi

# ---- untrusted text: escaped for terminals, valid UTF-8 JSON (defect 12) --
ncases=$((ncases + 1))
mkdir -p "$T/text"
truncate -s 1M "$T/text/x-flat.vmdk"
printf '# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 2048 FLAT "x-flat.vmdk" 0\nddb.comment = "\033]0;pwned\007\033[2J\377\376 bad"\nddb.uuid = "\033[31mred\200"\n' \
  >"$T/text/d.vmdk"
run_vdk info "$T/text/d.vmdk"
! grep -q $'\033' "$T/out" && grep -q 'x1B' "$T/out" \
  && pass "info: escape sequences in ddb values are escaped" \
  || fail "info: raw escape bytes reach the terminal: $(od -c "$T/out" | grep -m1 033)"
run_vdk meta "$T/text/d.vmdk"
! grep -q $'\033' "$T/out" && grep -q 'x1B' "$T/out" \
  && pass "meta: escape sequences are escaped" \
  || fail "meta: raw escape bytes reach the terminal"
run_vdk info --json "$T/text/d.vmdk"
python3 -c 'import json, sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8", "strict"))' \
  "$T/out" 2>"$T/py.err" \
  && pass "info --json is valid UTF-8 JSON" \
  || fail "info --json: $(tail -1 "$T/py.err")"
# A parent hint with an escape sequence: the error names it escaped.
printf '# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=12345678\ncreateType="monolithicFlat"\nparentFileNameHint="\033[2Jp.vmdk"\nRW 2048 FLAT "x-flat.vmdk" 0\n' \
  >"$T/text/c.vmdk"
run_vdk read "$T/text/c.vmdk"
[ "$rc" -eq 1 ] && ! grep -q $'\033' "$T/err" \
  && pass "an error naming a hostile parent hint is escaped" \
  || fail "error output: exit $rc, raw escape: $(od -c "$T/err" | grep -m1 033)"
# GPT names with escapes, invalid UTF-16 (lone surrogates) and a label.
if vdk volumes --help >/dev/null 2>&1; then
  python3 "$HERE/mkgpt.py" "$T/text/gpt.img"
  run_vdk volumes --json "$T/text/gpt.img"
  python3 -c 'import json, sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8", "strict"))' \
    "$T/out" 2>"$T/py.err" \
    && pass "volumes --json with hostile GPT names is valid UTF-8 JSON" \
    || fail "volumes --json: $(tail -1 "$T/py.err"): $(head -c 300 "$T/out")"
  run_vdk volumes "$T/text/gpt.img"
  [ "$rc" -eq 0 ] && ! grep -q $'\033' "$T/out" \
    && pass "volumes: partition names escaped" \
    || fail "volumes: exit $rc or raw escape bytes: $(head -3 "$T/out")"
fi

# ---- a split disk in use by another writer: "in use", no crash (defect 5)
ncases=$((ncases + 1))
mkdir -p "$T/busy"
vdk create -t twoGbMaxExtentSparse "$T/busy/s.vmdk" 10M >/dev/null 2>&1
mkfifo "$T/busy/fifo"
vdk write "$T/busy/s.vmdk" <"$T/busy/fifo" >/dev/null 2>&1 &
holder=$!
exec 9>"$T/busy/fifo"           # the writer now waits for input, locked
sleep 1
busy () {
  run_vdk "$@" </dev/null
  [ "$rc" -eq 1 ] && grep -q "in use" "$T/err" \
    && pass "busy split disk: vdk $1 says in use" \
    || fail "busy split disk: vdk $*: exit $rc: $(head -2 "$T/err")"
}
busy write "$T/busy/s.vmdk"
busy meta "$T/busy/s.vmdk" ddb.x y
busy check --repair "$T/busy/s.vmdk"
busy shrink "$T/busy/s.vmdk"
exec 9>&-
wait "$holder"

# ---- check --repair restores from the intact copy (defect 2) -------------
mkdir -p "$T/repair"
head -c 1M /dev/urandom >"$T/repair/pat"
vdk create "$T/repair/orig.vmdk" 64M >/dev/null
vdk write "$T/repair/orig.vmdk" <"$T/repair/pat" >/dev/null
# repair_case NAME DAMAGE... : damage a copy, repair it, compare.
repair_case () {
  local name=$1 d="$T/repair/$1.vmdk"
  shift
  ncases=$((ncases + 1))
  cp "$T/repair/orig.vmdk" "$d"
  python3 "$HERE/damage-tables.py" "$d" "$@"
  run_vdk check --repair "$d"
  cp "$T/out" "$T/repair/$name.out"
  repair_rc=$rc
  vdk read "$d" 2>/dev/null | head -c 1M >"$T/repair/$name.got"
}
repair_case gd gd
[ "$repair_rc" -eq 0 ] && grep -q "restored from the redundant directory" \
  "$T/repair/gd.out" && cmp -s "$T/repair/gd.got" "$T/repair/pat" \
  && pass "bad primary GD entry: restored from the redundant copy, data intact" \
  || fail "bad primary GD entry: exit $repair_rc, data $(cmp "$T/repair/gd.got" "$T/repair/pat" 2>&1 | head -1): $(head -3 "$T/repair/gd.out")"
repair_case gte gte:3 rgte:5
[ "$repair_rc" -eq 0 ] && grep -q "entry 3: restored from the redundant" \
  "$T/repair/gte.out" && cmp -s "$T/repair/gte.got" "$T/repair/pat" \
  && pass "bad GT entries in either copy: restored from the other, data intact" \
  || fail "bad GT entries: exit $repair_rc: $(head -3 "$T/repair/gte.out")"
repair_case lost gte:9 rgte:9
[ "$repair_rc" -eq 2 ] \
  && grep -q "data lost: bytes 589824..655359" "$T/repair/lost.out" \
  && cmp -s <(head -c 589824 "$T/repair/lost.got") <(head -c 589824 "$T/repair/pat") \
  && pass "both copies bad: repair says which bytes are lost and exits 2" \
  || fail "both copies bad: exit $repair_rc: $(grep -m2 lost "$T/repair/lost.out")"
run_vdk check "$T/repair/gd.vmdk"
check_eq "after repair the disk checks clean" 0 "$rc"

echo "# $ncases hostile cases"
[ "$ncases" -ge 1 ] || fail "no cases were made"
finish
