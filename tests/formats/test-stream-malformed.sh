#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Malformed streamOptimized files: vdk must fail with a clear message
# naming the problem (exit 1, never a crash), and the strict sequential
# reader (stream-check) must reject each one too.
#
# Damages, each applied to a fresh copy of a valid vdk stream:
#   truncated before the footer; a grain marker whose size is 0 (a
#   metadata marker where a grain belongs); a grain marker whose LBA
#   does not match its table entry (which also breaks the LBA order a
#   streaming reader checks); corrupt compressed data (inflate error);
#   a footer whose GD offset points past the end of the file; a grain
#   size beyond the sane bound; an unknown marker type; data after EOS.
source "$(dirname "$0")/../lib.sh"
require qemu-img python3
: "${STREAM_CHECK:?STREAM_CHECK must name the stream-check helper}"
EDIT="$(dirname "$0")/streamedit.py"

src="$T/src.raw"
truncate -s 8M "$src"
head -c 300000 /dev/urandom >"$T/rnd"
raw_put "$src" "$T/rnd" 0
raw_put "$src" "$T/rnd" $((5 * MiB))
"$VDK" convert -t streamOptimized "$src" "$T/good.vmdk" \
  || { echo "cannot make the valid stream" >&2; exit 99; }
check "the undamaged stream is valid" "$STREAM_CHECK" "$T/good.vmdk"
g0=$(python3 "$EDIT" grain0 "$T/good.vmdk")
footer=$(python3 "$EDIT" footer "$T/good.vmdk")

# expect_bad NAME PATTERN: vdk read fails cleanly with PATTERN in its
# message, and stream-check rejects the file.
expect_bad () {
  local name=$1 pattern=$2 f="$T/bad.vmdk"
  run_vdk read "$f"
  if [ "$rc" -eq 1 ] && grep -q -- "$pattern" "$T/err"; then
    pass "$name: vdk fails: $(head -c 200 "$T/err")"
  else
    fail "$name: vdk exit $rc, message: $(head -c 300 "$T/err")"
  fi
  if "$STREAM_CHECK" "$f" >"$T/sc" 2>&1; then
    fail "$name: stream-check accepted it"
  else
    pass "$name: stream-check rejects: $(head -c 160 "$T/sc")"
  fi
}

fresh () { cp "$T/good.vmdk" "$T/bad.vmdk"; }

fresh
truncate -s $(( $(stat -c %s "$T/bad.vmdk") - 1536 )) "$T/bad.vmdk"
expect_bad "truncated before the footer" "truncated or incomplete"

fresh
truncate -s $(( $(stat -c %s "$T/bad.vmdk") - 700 )) "$T/bad.vmdk"
expect_bad "truncated mid-sector" "truncated"

fresh
python3 "$EDIT" poke "$T/bad.vmdk" $((g0 + 8)) '<I' 0
expect_bad "metadata marker where a grain belongs" "not a grain marker"

fresh
python3 "$EDIT" poke "$T/bad.vmdk" "$g0" '<Q' 16384
expect_bad "grain marker LBA does not match its table" \
  "is for LBA 16384 but the grain table puts it at LBA 0"

fresh
python3 "$EDIT" poke "$T/bad.vmdk" "$g0" '<Q' 640
expect_bad "grain LBAs out of order" "is for LBA 640"
grep -q "out of order" "$T/sc" && pass "stream-check names the order" \
  || fail "stream-check says: $(cat "$T/sc")"

fresh
python3 "$EDIT" flip "$T/bad.vmdk" $((g0 + 40)) 64
expect_bad "corrupt compressed data" "inflate failed"

fresh
python3 "$EDIT" poke "$T/bad.vmdk" $((footer + 56)) '<Q' 999999999
expect_bad "footer GD offset past end of file" "lies beyond end of file"

fresh
python3 "$EDIT" poke "$T/bad.vmdk" $((g0 + 8)) '<I' 4000000000
expect_bad "grain size beyond the sane bound" "larger than the"

fresh
python3 "$EDIT" poke "$T/bad.vmdk" $((footer - 512 + 12)) '<I' 9
expect_bad "footer marker of an unknown type" "footer not found"

# Only a streaming reader notices these: random access never looks.
fresh
printf 'junk' >>"$T/bad.vmdk"
truncate -s $(( $(stat -c %s "$T/good.vmdk") + 512 )) "$T/bad.vmdk"
"$STREAM_CHECK" "$T/bad.vmdk" >"$T/sc" 2>&1 \
  && fail "data after EOS accepted by stream-check" \
  || pass "stream-check rejects a sector after EOS: $(cat "$T/sc")"

# The hand-made seeds of the fuzz corpus (fuzz/mkseeds-stream.py): a
# stream with a vSphere "unspecified" (type 4) marker is valid; the
# damaged ones are not; vdk reads the valid ones and QEMU's layout.
corpus="$(dirname "$0")/../../fuzz/corpus/stream"
out=$("$STREAM_CHECK" "$corpus/true-stream-type4" 2>&1)
check_eq "type 4 marker skipped by stream-check" \
  "$corpus/true-stream-type4: ok, 4 grains" "$out"
for f in truncated bad-lba bad-inflate footer-gd-past; do
  "$STREAM_CHECK" "$corpus/$f" >/dev/null 2>&1 \
    && fail "stream-check accepts the $f seed" \
    || pass "stream-check rejects the $f seed"
done
for f in true-stream true-stream-type4 raw-deflate qemu-layout zero-grain; do
  cp "$corpus/$f" "$T/seed.vmdk"
  run_vdk read "$T/seed.vmdk"
  check_eq "vdk reads the $f seed" 0 "$rc"
done
cmp <("$VDK" read "$corpus/true-stream") \
    <("$VDK" read "$corpus/true-stream-type4") >/dev/null \
  && pass "type 4 marker changes nothing read" \
  || fail "the type 4 seed reads differently"
finish
