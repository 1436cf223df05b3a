#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdk convert to standard output and from standard input: a stream (or
# raw) written in order to a pipe, read back by qemu-img; `-` as input
# from a pipe (raw, a stream) or a redirected file.
source "$(dirname "$0")/../lib.sh"
require qemu-img

# 64 MiB with 20 MiB of data in three places: more than the sink keeps
# in memory (8 MiB), so most of the output is sent while it is written.
truncate -s 64M "$T/src.raw"
head -c 12M /dev/urandom | raw_put "$T/src.raw" /dev/stdin 0
head -c 7M /dev/urandom | raw_put "$T/src.raw" /dev/stdin $((30 * MiB))
printf 'end of the disk' | raw_put "$T/src.raw" /dev/stdin $((64 * MiB - 15))
check_vdk "source as a sparse VMDK" convert "$T/src.raw" "$T/src.vmdk"

vdk convert -t streamOptimized "$T/src.vmdk" - > "$T/out.vmdk" 2>"$T/err"
check_eq "convert -t streamOptimized SRC - exits 0" 0 "$?"
check_qemu_same "the stream on stdout reads as the source (qemu-img)" \
  "$T/out.vmdk" "$T/src.raw"
check "qemu-img check of the stream" qemu-img check -q "$T/out.vmdk"
check_vdk "vdk check of the stream (strict walker)" check "$T/out.vmdk"

vdk convert -t streamOptimized -c 1 "$T/src.vmdk" - 2>"$T/err" \
  | cat > "$T/piped.vmdk"
check_eq "through a pipe: both ends exit 0" "0 0" "${PIPESTATUS[*]}"
check_qemu_same "the piped stream reads as the source" "$T/piped.vmdk" \
  "$T/src.raw"

vdk convert "$T/src.vmdk" - 2>"$T/err" | cat > "$T/default.vmdk"
check_qemu_same "without -t the output to stdout is a stream" \
  "$T/default.vmdk" "$T/src.raw"
check_eq "... of type streamOptimized" "streamOptimized" \
  "$(vdk info "$T/default.vmdk" | sed -n 's/^create type: *//p')"

vdk convert -t raw "$T/src.vmdk" - | cat > "$T/out.raw"
check_same "raw to a pipe is the disk, byte for byte" "$T/out.raw" \
  "$T/src.raw"

run_vdk convert -t monolithicSparse "$T/src.vmdk" -
check_eq "a sparse disk to stdout is refused" 1 "$rc"
[ ! -s "$T/out" ] && pass "... and writes nothing" \
  || fail "... but wrote $(wc -c <"$T/out") bytes"
grep -q "only streamOptimized and raw" "$T/err" && pass "... saying why" \
  || fail "... message: $(cat "$T/err")"

# A reader that stops early: the tool fails, it does not hang or crash.
vdk convert -t streamOptimized "$T/src.vmdk" - 2>/dev/null | head -c 4096 \
  > /dev/null
st=${PIPESTATUS[0]}
[ "$st" -ne 0 ] && [ "$st" -lt 128 -o "$st" -eq 141 ] \
  && pass "a closed pipe stops the convert (exit $st)" \
  || fail "a closed pipe: exit $st"

# Standard input.  The spool of a pipe goes to $TMPDIR.
export TMPDIR=$T/tmp
mkdir -p "$TMPDIR"
cat "$T/src.raw" | vdk convert -f raw - "$T/in1.vmdk" 2>"$T/err"
check_eq "raw from a pipe: exit 0" "0 0" "${PIPESTATUS[*]}"
check_qemu_same "raw from a pipe converts" "$T/in1.vmdk" "$T/src.raw"
cat "$T/out.vmdk" | vdk convert - "$T/in2.raw"
check_same "a stream from a pipe converts" "$T/in2.raw" "$T/src.raw"
vdk convert - "$T/in3.raw" < "$T/src.vmdk"
check_same "a sparse VMDK redirected to stdin converts" "$T/in3.raw" \
  "$T/src.raw"
cat "$T/out.vmdk" | vdk convert -t streamOptimized - - \
  | vdk convert -f vmdk - "$T/in4.raw"
check_same "stdin to stdout to stdin" "$T/in4.raw" "$T/src.raw"
[ -z "$(ls -A "$TMPDIR")" ] && pass "no spool file is left" \
  || fail "left in \$TMPDIR: $(ls "$TMPDIR")"
finish
