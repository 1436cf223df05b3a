#!/bin/bash
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
  (cd "$T/cases/$name" &&
     /usr/bin/time -f '%e %M' -o "$T/time" \
       ${VDK_WRAPPER:-} "$VDK" "${argv[@]}" >"$T/out" 2>"$T/err") || rc=$?
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
  elif [ "$want" -ne 0 ] && ! grep -Eq -- "$regex" "$T/err"; then
    fail "$what: stderr does not match /$regex/: $(head -3 "$T/err")"
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
echo "# $ncases hostile cases"
[ "$ncases" -ge 1 ] || fail "no cases were made"
finish
