#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/run.sh [BUILDDIR] [MESON TEST ARGS...] - run the whole test suite
# of one build folder and summarise it.
#
# Runs `meson test` (without stopping at the first failure), then reads
# BUILDDIR/meson-logs/testlog.json and prints one line per test and, as
# the very last line, "N passed, N failed, N skipped".  SKIP counts as
# skipped; FAIL, TIMEOUT, ERROR and an unexpected pass count as failed.
# Exits 1 if anything failed or the log is missing.
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)

# Version managers such as pyenv put shims before /usr/bin; each python3
# call then starts a chain of bash scripts (measured: 0.5 s idle, 6 s
# under load, per call).  The tests need only the system's python3.
if [ -x /usr/bin/python3 ]; then
  export PATH="/usr/bin:$PATH"
fi
build=${1:-$here/build}
[ $# -gt 0 ] && shift

if [ ! -d "$build" ]; then
  echo "run.sh: build folder '$build' does not exist" >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

# meson names the log after a --wrapper or --setup (testlog-valgrind.json),
# so take whichever log this run wrote.
rm -f "$build"/meson-logs/testlog*.json
meson test -C "$build" --print-errorlogs "$@"
meson_rc=$?
log=$(ls -t "$build"/meson-logs/testlog*.json 2>/dev/null | head -1)
log=${log:-$build/meson-logs/testlog.json}

if [ ! -s "$log" ]; then
  echo "run.sh: meson test wrote no $log (exit $meson_rc)" >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

python3 - "$log" "$meson_rc" <<'EOF'
import json
import sys

log, meson_rc = sys.argv[1], int(sys.argv[2])
passed = failed = skipped = 0
rows = []
with open(log) as f:
    for line in f:
        line = line.strip()
        if not line:
            continue
        t = json.loads(line)
        status = t.get("result", "ERROR")
        if status in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif status == "SKIP":
            skipped += 1
        else:
            failed += 1
        rows.append((status, t.get("name", "?"), t.get("duration", 0.0)))

print()
for status, name, duration in rows:
    print("%-8s %-50s %7.1fs" % (status, name, duration))
if meson_rc != 0 and failed == 0:
    # meson itself failed (e.g. a build error) without a failing test.
    failed = 1
    print("meson test exited with status %d" % meson_rc)
print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
sys.exit(1 if failed else 0)
EOF
