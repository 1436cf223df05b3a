#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fuzz/run.sh SECONDS [TARGET...] - run a libFuzzer campaign.
#
# Builds (once) a clang build with ASan+UBSan and the libFuzzer targets
# in build-fuzz/ beside the source, then runs each target (all by
# default) for SECONDS seconds with -fork=1 (a crash does not end the
# campaign; each one is saved), starting from its seed corpus and a
# working corpus in build-fuzz/campaign/TARGET (the seeds are never
# rewritten: minimise and copy what should be kept by hand).  Prints,
# per target, the executions, the coverage (libFuzzer's "cov:" edges and
# "ft:" features) and the crash files; the full log is
# build-fuzz/campaign/TARGET.log.  A crash found becomes a seed: copy it
# into fuzz/corpus/TARGET/ with a name saying what it caught, so the
# normal test run replays it.
#
# Environment: FUZZ_JOBS (default 1) parallel jobs per target; keep it at
# 1 on a shared machine.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
build=$here/build-fuzz

if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" "$here" -Dfuzz=true \
    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || exit 1
fi
ninja -C "$build" -j"${FUZZ_JOBS:-1}" >/dev/null || exit 1

if [ $# -eq 0 ]; then
  set -- $(cd "$build/fuzz" && ls fuzz-* | grep -v '\.p$' | sed 's/^fuzz-//')
fi
mkdir -p "$build/campaign"
status=0
for t in "$@"; do
  bin=$build/fuzz/fuzz-$t
  seeds=$here/fuzz/corpus/$t
  [ "$t" = sparse-check ] && seeds=$here/fuzz/corpus/sparse
  work=$build/campaign/$t
  log=$build/campaign/$t.log
  [ -x "$bin" ] || { echo "$t: no fuzzer binary $bin" >&2; status=1; continue; }
  mkdir -p "$work" "$build/campaign/crashes-$t"
  (cd "$build/campaign/crashes-$t" &&
     ASAN_OPTIONS=detect_leaks=1 "$bin" -fork=1 -ignore_crashes=1 \
       -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
       -print_final_stats=1 "$work" "$seeds" >"$log" 2>&1)
  # -fork=1 status lines: "#N: cov: C ft: F corp: ... exec/s E ..."
  execs=$(grep -o '^#[0-9]*:' "$log" | tail -1 | tr -d '#:')
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
  crashes=$(ls "$build/campaign/crashes-$t" 2>/dev/null | grep -c . || true)
  echo "$t: ${secs}s, executions $execs, ${cov:-cov: ?}, crash files $crashes"
done
exit $status
