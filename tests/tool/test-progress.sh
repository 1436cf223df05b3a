#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The progress bar (-p) in a pseudo-terminal 40 and 200 columns wide:
# every redraw starts with "\r" and stays shorter than the terminal (so
# it never wraps), the last one shows 100%, the rate and the time taken,
# and earlier ones the rate and the time left; one "\n" ends it.  Every
# long command draws it: convert, shrink, defrag, commit, check, create.
# Without a terminal nothing is drawn.
source "$(dirname "$0")/../lib.sh"
PTYRUN=$TESTS_DIR/tool/ptyrun.py

# A disk with data to copy and rewrite: 96 MiB, a third of it data.
vdk create "$T/base.vmdk" 96M
head -c 32M /dev/urandom | vdk write "$T/base.vmdk" --offset 16M
head -c 8M /dev/zero | vdk write "$T/base.vmdk" --offset 0  # grains of zeroes

# check_bar WHAT COLUMNS FILE [MANY]: the drawing in FILE fits COLUMNS;
# with MANY there is one before the end.
check_bar () {
  python3 - "$@" <<'PY'
import re, sys
what, cols, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = open(path, "rb").read().decode("utf-8", "replace")
bad = []
if not data.startswith("\r"):
    bad.append("does not start with \\r: %r" % data[:40])
if data.count("\n") != 1 or not data.endswith("\n"):
    bad.append("%d newlines (want one, at the end)" % data.count("\n"))
# A redraw is "\r" LINE PADDING, then "\r" LINE again when the padding
# covered a longer line: one drawing.
draws = []
for d in data.rstrip("\n").split("\r"):
    if d.strip() and not (draws and draws[-1].rstrip() == d):
        draws.append(d)
if not draws:
    bad.append("nothing drawn")
for d in draws:
    if len(d) >= cols:
        bad.append("a line of %d characters: %r" % (len(d), d))
last = draws[-1] if draws else ""
if not re.search(r"100\.0%", last):
    bad.append("the last line lacks 100.0%%: %r" % last)
if not re.search(r"[0-9.]+[BKMGTP]/s in [0-9]+:[0-9]{2}", last):
    bad.append("the last line lacks rate and time: %r" % last)
for d in draws[:-1]:
    if not re.search(r"/s ETA [-0-9]+:[-0-9]{2}", d):
        bad.append("a line without rate and time left: %r" % d)
if cols >= 60 and not re.search(r"\[#+ *\]", last):
    bad.append("no bar at %d columns: %r" % (cols, last))
if len(sys.argv) > 4 and len(draws) < 2:
    bad.append("no drawing before the end")
print("%s at %d columns: %s" % (what, cols,
      "; ".join(bad) if bad else "%d redraws, last %r" % (len(draws), last)))
sys.exit(1 if bad else 0)
PY
}

# progress COLUMNS WHAT ARGS...: run `vdk ARGS` with -p on a terminal.
# $MANY set: a drawing before the end is expected (the command reports
# progress before it is done).
progress () {
  local cols=$1 what=$2 r=0
  shift 2
  python3 "$PTYRUN" "$cols" "$T/tty" "$VDK" "$@" || r=$?
  if [ "$r" -ne 0 ]; then
    fail "$what at $cols columns: exit $r: $(tr '\r' '\n' <"$T/tty" | tail -2)"
    return
  fi
  check "$what: the bar fits $cols columns" check_bar "$what" "$cols" \
    "$T/tty" ${MANY:+many}
  sed 's/^/    | /' "$T/.check.out"
}

for cols in 40 200; do
  rm -f "$T/c.vmdk" "$T/s.vmdk"
  progress "$cols" convert convert -p "$T/base.vmdk" "$T/c.vmdk"
  MANY=1 progress "$cols" "convert to a stream" convert -p \
    -t streamOptimized "$T/base.vmdk" "$T/s.vmdk"
  progress "$cols" shrink shrink -p "$T/c.vmdk"
  progress "$cols" defrag defrag -p "$T/c.vmdk"
  rm -f "$T/child.vmdk"
  vdk child "$T/c.vmdk" "$T/child.vmdk"
  head -c 4M /dev/urandom | vdk write "$T/child.vmdk" --offset 60M
  progress "$cols" commit commit -p "$T/child.vmdk"
  MANY=1 progress "$cols" "check of a chain" check -p "$T/child.vmdk"
  rm -f "$T/pf.vmdk" "$T/pf-flat.vmdk"
  progress "$cols" "create monolithicFlat" create -p -t monolithicFlat \
    "$T/pf.vmdk" 64M
done

# No terminal, no drawing.
vdk convert -p "$T/base.vmdk" "$T/quiet.vmdk" 2>"$T/err"
check_eq "-p without a terminal draws nothing" "" "$(cat "$T/err")"
finish
