#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/convert.sh - vdk convert against qemu-img convert, same input,
# same run.
#
# Builds on /dev/shm (tmpfs, so the CPU work is measured, not a disk) a
# 4 GiB raw disk holding 1 GiB of data in 4 MiB chunks scattered over the
# disk, half random bytes and half text.  Then, best of 3 runs each:
#   raw -> monolithicSparse   vdk convert  vs  qemu-img convert -O vmdk
#   monolithicSparse -> raw   (both read the same qemu-made sparse disk)
# Every output is verified (qemu-img compare / cmp) before its time is
# reported.  Prints elapsed seconds, the ratio vdk/qemu-img (below 1 means
# vdk is faster), peak RSS of each tool, and the direct limit: the time
# to read the 1 GiB of data once and write it once (dd bs=1M from the
# dense sparse-extent file into a new file on the same tmpfs), with
# vdk's ratio to it.  Not part of the test suite.
# Environment: VDK (the tool; default build/tools/vdk, built if missing),
# RUNS (default 3), BENCH_DIR (default /dev/shm).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-3}

if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi
command -v qemu-img >/dev/null || { echo "qemu-img is needed" >&2; exit 1; }

vdk=${VDK:-$root/build/tools/vdk}
if [ ! -x "$vdk" ]; then
  echo "building vdk in $root/build"
  [ -d "$root/build/meson-private" ] || meson setup "$root/build" >/dev/null
  ninja -C "$root/build" >/dev/null
fi

vdk=$(realpath "$vdk")

work=$(mktemp -d "${BENCH_DIR:-/dev/shm}/vdk-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

echo "making a 4 GiB raw disk with 1 GiB of data in $work"
python3 "$root/bench/make-disk.py" in.raw

# best NAME CMD...: run CMD $runs times; sets best_s and peak_kb.
best () {
  local out=$1 i t kb
  shift
  best_s="" peak_kb=0
  for ((i = 0; i < runs; i++)); do
    rm -f "$out" "${out%.vmdk}"-*.vmdk
    sync
    if ! /usr/bin/time -f '%e %M' -o time.txt "$@" >/dev/null; then
      echo "failed: $*" >&2
      exit 1
    fi
    read -r t kb <time.txt
    if [ -z "$best_s" ] || awk "BEGIN{exit !($t < $best_s)}"; then
      best_s=$t
    fi
    if [ "$kb" -gt "$peak_kb" ]; then
      peak_kb=$kb
    fi
  done
}

report () {
  local what=$1 vt=$2 vkb=$3 qt=$4 qkb=$5
  awk -v w="$what" -v vt="$vt" -v qt="$qt" -v vkb="$vkb" -v qkb="$qkb" \
    'BEGIN { r = qt > 0 ? vt / qt : 0;
             printf "%-28s vdk %7.2fs  qemu-img %7.2fs  ratio %5.2f  " \
                    "RSS vdk %6.1f MiB  qemu-img %6.1f MiB\n",
                    w, vt, qt, r, vkb / 1024, qkb / 1024 }'
}

echo "raw -> monolithicSparse"
best out-vdk.vmdk "$vdk" convert -t monolithicSparse in.raw out-vdk.vmdk
v1=$best_s v1kb=$peak_kb
best out-qemu.vmdk qemu-img convert -f raw -O vmdk in.raw out-qemu.vmdk
q1=$best_s q1kb=$peak_kb
qemu-img compare -q -f vmdk -F raw out-vdk.vmdk in.raw \
  || { echo "vdk output differs from the input" >&2; exit 1; }
qemu-img compare -q -f vmdk -F raw out-qemu.vmdk in.raw \
  || { echo "qemu-img output differs from the input" >&2; exit 1; }
echo "  sizes: vdk $(stat -c %s out-vdk.vmdk) bytes, qemu-img $(stat -c %s out-qemu.vmdk) bytes"
rm -f out-vdk.vmdk

echo "monolithicSparse -> raw (input: the qemu-img made sparse disk)"
best out-vdk.raw "$vdk" convert -t raw out-qemu.vmdk out-vdk.raw
v2=$best_s v2kb=$peak_kb
best out-qemu.raw qemu-img convert -f vmdk -O raw out-qemu.vmdk out-qemu.raw
q2=$best_s q2kb=$peak_kb
cmp out-vdk.raw in.raw || { echo "vdk raw output differs" >&2; exit 1; }
cmp out-qemu.raw in.raw || { echo "qemu-img raw output differs" >&2; exit 1; }

echo "direct limit: the 1 GiB of data read once and written once (dd bs=1M)"
best limit.out dd if=out-qemu.vmdk of=limit.out bs=1M status=none
lim=$best_s

echo
echo "best of $runs runs, outputs verified:"
report "raw -> monolithicSparse" "$v1" "$v1kb" "$q1" "$q1kb"
report "monolithicSparse -> raw" "$v2" "$v2kb" "$q2" "$q2kb"
awk -v l="$lim" -v a="$v1" -v b="$v2" 'BEGIN {
  printf "%-28s %7.2fs  vdk/limit: raw -> sparse %5.2f, sparse -> raw %5.2f\n",
         "direct limit (dd)", l, (l > 0 ? a / l : 0), (l > 0 ? b / l : 0) }'
