#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Random damage: vdk fails cleanly or reads, never crashes or writes.
#
# A seeded generator (mutate.py) makes a few hundred damaged copies of
# good disks: random bytes in the sparse header, the embedded descriptor,
# the grain directory and tables of a monolithicSparse disk, a
# streamOptimized disk and a vmfsSparse (COWD) child, and random edits
# of a flat descriptor's text.  For each copy `vdk info` and `vdk read`
# must exit 0 or 1 (a signal, or the sanitizers' status in the ASan
# build, is a failure); a failure prints exactly one line naming the
# disk or the damaged file of it; and neither command changes any file.
# The seed is fixed so that runs repeat; VDK_CORRUPT_SEED=N and
# VDK_CORRUPT_COUNT=N (variants per kind) explore further.
source "$(dirname "$0")/../lib.sh"
require qemu-img qemu-io python3 sha256sum

seed=${VDK_CORRUPT_SEED:-20261126}
count=${VDK_CORRUPT_COUNT:-40}
echo "# seed $seed, $count variants per kind"

good="$T/good"
mkdir "$good"
qemu-img create -q -f vmdk "$good/sparse.vmdk" 8M
qemu-io -f vmdk -c 'write -P 0x5a 0 1M' -c 'write -P 0x11 5M 64k' \
  "$good/sparse.vmdk" >/dev/null
head -c 2M /dev/urandom >"$T/data.raw"
truncate -s 8M "$T/data.raw"
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized \
  "$T/data.raw" "$good/stream.vmdk"
qemu-img create -q -f vmdk -o subformat=monolithicFlat "$good/flat.vmdk" 8M
mkdir "$good/esx"
vdk create "$good/esx/base.vmdk" 8M >/dev/null 2>&1 \
  && vdk child -t vmfsSparse "$good/esx/base.vmdk" "$good/esx/cowd.vmdk" \
       >/dev/null 2>&1 \
  && printf 'redo' | vdk write "$good/esx/cowd.vmdk" --offset 4096 \
  || echo "# no vmfsSparse fixture (vdk cannot make one); skipping that kind"

python3 "$TESTS_DIR/interop/mutate.py" "$seed" "$count" "$good" "$T/cases" \
  || { fail "mutate.py failed"; finish; }

# The message names the disk or one of its files (a damaged extent).
names_a_file () {
  local f
  for f in "$1"/*.vmdk; do
    grep -qF "$(basename "$f")" "$T/err" && return 0
  done
  return 1
}

crashes=0 bad_msg=0 written=0 runs=0
for dir in "$T"/cases/*; do
  disk=$(cat "$dir/DISK")
  before=$(sha256sum "$dir"/*)
  len=()
  for cmd in info read; do
    runs=$((runs + 1))
    if [ "$cmd" = read ]; then
      rc=0
      vdk read "${len[@]}" "$dir/$disk" >/dev/null 2>"$T/err" || rc=$?
    else
      run_vdk info --json "$dir/$disk"
      # A damaged capacity may be huge: read at most the first 16 MiB.
      cap=$(sed -n 's/^ *"capacity": \([0-9]*\),$/\1/p' "$T/out")
      if [ "$rc" -eq 0 ] && [[ $cap =~ ^[0-9]+$ ]] \
          && [ "${#cap}" -lt 19 ] && [ "$cap" -gt $((16 * MiB)) ]; then
        len=(--length 16M)
      fi
    fi
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
      crashes=$((crashes + 1))
      fail "$(basename "$dir"): vdk $cmd exit $rc: $(head -3 "$T/err")"
    elif [ "$rc" -eq 1 ] && { [ "$(wc -l <"$T/err")" -ne 1 ] \
                              || ! names_a_file "$dir"; }; then
      bad_msg=$((bad_msg + 1))
      fail "$(basename "$dir"): vdk $cmd message: $(head -3 "$T/err")"
    fi
  done
  if [ "$(sha256sum "$dir"/*)" != "$before" ]; then
    written=$((written + 1))
    fail "$(basename "$dir"): info/read changed a file"
  fi
done
check_eq "no crash in $runs runs (seed $seed)" 0 "$crashes"
check_eq "every failure is one line naming a file (seed $seed)" 0 "$bad_msg"
check_eq "no variant was written to (seed $seed)" 0 "$written"
[ "$runs" -ge $((count * 6)) ] && pass "$runs runs" \
  || fail "only $runs runs for $count variants per kind"

finish
