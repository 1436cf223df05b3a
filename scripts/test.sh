#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# scripts/test.sh - install the dependencies, build vdk three times and
# run the test suite:
#   build       normal build, warnings are errors (-Dwerror_extra=true):
#               the whole suite, then the C unit tests and fuzz replays
#               under valgrind
#   build-asan  AddressSanitizer + UndefinedBehaviorSanitizer: the whole
#               suite
#   build-tsan  ThreadSanitizer (clang): the C unit tests
# Prints one combined last line "N passed, N failed, N skipped" and exits
# non-zero if any test failed or a build broke.
# Environment: VDK_BUILD_DIR, VDK_ASAN_BUILD_DIR (folder names),
# VDK_TSAN_BUILD_DIR, VDK_SKIP_DEPS=1 (do not run install-deps.sh),
# ASAN_CC (default gcc).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

build=${VDK_BUILD_DIR:-build}
asan=${VDK_ASAN_BUILD_DIR:-build-asan}
jobs=$(nproc 2>/dev/null || echo 2)

if [ "${VDK_SKIP_DEPS:-0}" != 1 ]; then
  echo "=== dependencies"
  bash scripts/install-deps.sh || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
fi

# setup DIR OPTIONS...: configure (or reconfigure) and build.
setup () {
  local dir=$1 log
  shift
  log=$(mktemp /tmp/vdk-setup.XXXXXX)
  if [ -d "$dir/meson-private" ]; then
    meson setup --reconfigure "$dir" "$@" >"$log" 2>&1
  else
    meson setup "$dir" "$@" >"$log" 2>&1
  fi || { tail -20 "$log"; rm -f "$log"; return 1; }
  rm -f "$log"
  ninja -C "$dir" -j "$jobs"
}

passed=0 failed=0 skipped=0
# tally LOG: add the counts of a run.sh summary line.
tally () {
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$1" | tail -1)
  if [ -z "$line" ]; then
    failed=$((failed + 1))
    return
  fi
  read -r p _ f _ s _ <<<"${line//,/}"
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

logdir=$(mktemp -d /tmp/vdk-test-logs.XXXXXX)
trap 'rm -rf "$logdir"' EXIT

# stage NAME: print how long the previous stage took and start timing
# NAME, so the CI log shows where the time goes.
stage_name= stage_start=$SECONDS script_start=$SECONDS
stage () {
  if [ -n "$stage_name" ]; then
    echo "=== stage '$stage_name' took $((SECONDS - stage_start)) s"
  fi
  stage_name=$1 stage_start=$SECONDS
}

stage normal
echo "=== normal build: $build"
if setup "$build" -Dwerror_extra=true; then
  bash tests/run.sh "$root/$build" 2>&1 | tee "$logdir/normal.log"
  tally "$logdir/normal.log"
else
  echo "build of $build failed"
  failed=$((failed + 1))
fi

stage valgrind
echo "=== valgrind: C unit tests and fuzz corpus replays of $build"
if [ -d "$build/meson-private" ] && command -v valgrind >/dev/null; then
  bash tests/run.sh "$root/$build" --no-rebuild --suite unit --suite fuzz \
    --timeout-multiplier 10 \
    --wrapper 'valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite' \
    2>&1 | tee "$logdir/valgrind.log"
  tally "$logdir/valgrind.log"
else
  echo "valgrind stage not run: no $build or no valgrind"
  failed=$((failed + 1))
fi

stage asan
echo "=== sanitizer build: $asan"
if CC=${ASAN_CC:-gcc} setup "$asan" -Db_sanitize=address,undefined \
     -Db_lundef=false; then
  # exitcode=86: a sanitizer report can never pass for the exit status 1
  # that the malformed-input tests expect.
  LSAN_OPTIONS=suppressions=$root/tests/lsan.supp \
  ASAN_OPTIONS=detect_leaks=1:exitcode=86 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87 \
    bash tests/run.sh "$root/$asan" --timeout-multiplier 3 2>&1 \
    | tee "$logdir/asan.log"
  tally "$logdir/asan.log"
else
  echo "build of $asan failed"
  failed=$((failed + 1))
fi

tsan=${VDK_TSAN_BUILD_DIR:-build-tsan}
stage tsan
echo "=== ThreadSanitizer build: $tsan (C unit tests, incl. threads on one handle)"
if command -v clang >/dev/null \
   && CC=clang setup "$tsan" -Db_sanitize=thread -Db_lundef=false \
        -Dmount=disabled; then
  TSAN_OPTIONS=halt_on_error=1:exitcode=88 \
    bash tests/run.sh "$root/$tsan" --no-rebuild --suite unit \
    --timeout-multiplier 5 2>&1 | tee "$logdir/tsan.log"
  tally "$logdir/tsan.log"
else
  echo "build of $tsan failed (or no clang)"
  failed=$((failed + 1))
fi

stage done
echo
echo "=== all builds (${SECONDS}s in all)"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
