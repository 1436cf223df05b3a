#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# --help of every command against the man pages (helpman.py), vdk help,
# and sizes with fractions.
source "$(dirname "$0")/../lib.sh"

check "--help and man pages agree" python3 "$TESTS_DIR/tool/helpman.py" \
  "$VDK" "$TESTS_DIR/../docs" "$TESTS_DIR/../tools"
[ "$failures" -eq 0 ] || python3 "$TESTS_DIR/tool/helpman.py" "$VDK" \
  "$TESTS_DIR/../docs" "$TESTS_DIR/../tools" | grep -v '^ok' | head -40

run_vdk help
check_eq "vdk help exits 0" 0 "$rc"
grep -q '^  convert ' "$T/out" && pass "vdk help lists the commands" \
  || fail "vdk help lists no commands"
run_vdk help no-such-command
check_eq "vdk help of an unknown command exits 1" 1 "$rc"
grep -q "unknown command 'no-such-command'" "$T/err" \
  && pass "and says so" || fail "vdk help no-such-command: $(head -1 "$T/err")"

# Sizes: a fraction is taken when it makes whole bytes.
size_of () {
  rm -f "$T/s.raw"
  vdk create -t raw "$T/s.raw" "$1" 2>"$T/err" && stat -c %s "$T/s.raw"
}
check_eq "1.5G" $((3 * GiB / 2)) "$(size_of 1.5G)"
check_eq "0.5K" 512 "$(size_of 0.5K)"
check_eq "1.25M" $((5 * MiB / 4)) "$(size_of 1.25M)"
check_eq "2.50GiB" $((5 * GiB / 2)) "$(size_of 2.50GiB)"
for bad in 1.1K 1.5 1.K .5G 1.5.5G 0.0000001G; do
  if size_of "$bad" >/dev/null; then
    fail "size '$bad' was taken"
  elif grep -q "invalid size '$bad'" "$T/err"; then
    pass "size '$bad' refused: $(sed 's/.*: //' "$T/err")"
  else
    fail "size '$bad': $(cat "$T/err")"
  fi
done
run_vdk read --offset 1.5K --length 0.5K "$T/s.raw" 2>/dev/null
rm -f "$T/s.raw"; vdk create -t raw "$T/s.raw" 4K
run_vdk read --offset 1.5K --length 0.5K "$T/s.raw"
check_eq "read --offset 1.5K --length 0.5K" "0 512" "$rc $(wc -c <"$T/out")"
finish
