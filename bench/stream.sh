#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/stream.sh - streamOptimized (and monolithicSparse) conversion:
# vdk against qemu-img, same input, same run.
#
# The input is bench/convert.sh's: on /dev/shm (tmpfs, so CPU work is
# measured, not a disk) a 4 GiB raw disk holding 1 GiB of data in 4 MiB
# chunks scattered over it, half random bytes and half text.  Then,
# best of $RUNS runs (default 1):
#   raw -> streamOptimized    vdk convert -t streamOptimized
#                             vs qemu-img convert -O vmdk -o subformat=...
#   streamOptimized -> raw    both read the same qemu-img made stream
#   raw -> monolithicSparse   and monolithicSparse -> raw, likewise
# Every output is verified (qemu-img compare / cmp) before its time is
# reported.  Prints elapsed seconds, the ratio vdk/qemu-img (goals: 0.25
# for raw -> stream, 0.5 for the others), CPU seconds (user + system) of
# each and their ratio, and peak RSS of each tool.
# Environment: VDK (default build/tools/vdk, built if missing), RUNS,
# BENCH_DIR (default /dev/shm), LEVEL (vdk's -c; default: vdk's own).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-1}

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
level=()
[ -n "${LEVEL:-}" ] && level=(-c "$LEVEL")

work=$(mktemp -d "${BENCH_DIR:-/dev/shm}/vdk-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

echo "making a 4 GiB raw disk with 1 GiB of data in $work"
python3 "$root/bench/make-disk.py" in.raw

# best OUT CMD...: run CMD $runs times; sets best_s, peak_kb and cpu_s
# (user + system seconds of the fastest run: on a shared machine the
# wall-clock ratio depends on the load, the CPU one much less).
best () {
  local out=$1 i t kb u sy
  shift
  best_s="" peak_kb=0 cpu_s=0
  for ((i = 0; i < runs; i++)); do
    rm -f "$out"
    sync
    /usr/bin/time -f '%e %M %U %S' -o time.txt "$@" >/dev/null
    read -r t kb u sy <time.txt
    if [ -z "$best_s" ] || awk "BEGIN{exit !($t < $best_s)}"; then
      best_s=$t
      cpu_s=$(awk "BEGIN{print $u + $sy}")
    fi
    [ "$kb" -gt "$peak_kb" ] && peak_kb=$kb
  done
}

results=()
report () {   # NAME VDK-S VDK-KB VDK-CPU QEMU-S QEMU-KB QEMU-CPU GOAL
  local line
  line=$(awk -v w="$1" -v vt="$2" -v vkb="$3" -v vc="$4" -v qt="$5" \
    -v qkb="$6" -v qc="$7" -v goal="$8" \
    'BEGIN { r = qt > 0 ? vt / qt : 0; rc = qc > 0 ? vc / qc : 0;
             printf "%-24s vdk %6.2fs  qemu-img %6.2fs  ratio %5.2f " \
                    "(goal <= %s)  cpu %5.2fs/%5.2fs = %4.2f  " \
                    "RSS vdk %5.1f MiB  qemu-img %5.1f MiB",
                    w, vt, qt, r, goal, vc, qc, rc, vkb / 1024, qkb / 1024 }')
  results+=("$line")
}

same () { qemu-img compare -q -f "$3" -F raw "$1" "$2" \
            || { echo "$1 differs from the input" >&2; exit 1; }; }

echo "raw -> streamOptimized"
best v.vmdk "$vdk" convert -t streamOptimized "${level[@]}" in.raw v.vmdk
v1=$best_s v1kb=$peak_kb v1c=$cpu_s
best q.vmdk qemu-img convert -f raw -O vmdk -o subformat=streamOptimized \
  in.raw q.vmdk
q1=$best_s q1kb=$peak_kb q1c=$cpu_s
same v.vmdk in.raw vmdk
same q.vmdk in.raw vmdk
echo "  sizes: vdk $(stat -c %s v.vmdk) bytes, qemu-img $(stat -c %s q.vmdk) bytes"
report "raw -> streamOptimized" "$v1" "$v1kb" "$v1c" "$q1" "$q1kb" "$q1c" 0.25

echo "streamOptimized -> raw (input: the qemu-img made stream)"
best v.raw "$vdk" convert -t raw q.vmdk v.raw
v2=$best_s v2kb=$peak_kb v2c=$cpu_s
best q.raw qemu-img convert -f vmdk -O raw q.vmdk q.raw
q2=$best_s q2kb=$peak_kb q2c=$cpu_s
cmp v.raw in.raw || { echo "vdk raw output differs" >&2; exit 1; }
cmp q.raw in.raw || { echo "qemu-img raw output differs" >&2; exit 1; }
report "streamOptimized -> raw" "$v2" "$v2kb" "$v2c" "$q2" "$q2kb" "$q2c" 0.5
rm -f v.raw q.raw v.vmdk

echo "raw -> monolithicSparse"
best vs.vmdk "$vdk" convert -t monolithicSparse in.raw vs.vmdk
v3=$best_s v3kb=$peak_kb v3c=$cpu_s
best qs.vmdk qemu-img convert -f raw -O vmdk in.raw qs.vmdk
q3=$best_s q3kb=$peak_kb q3c=$cpu_s
same vs.vmdk in.raw vmdk
same qs.vmdk in.raw vmdk
report "raw -> monolithicSparse" "$v3" "$v3kb" "$v3c" "$q3" "$q3kb" "$q3c" 0.5
rm -f vs.vmdk

echo "monolithicSparse -> raw (input: the qemu-img made sparse disk)"
best v.raw "$vdk" convert -t raw qs.vmdk v.raw
v4=$best_s v4kb=$peak_kb v4c=$cpu_s
best q.raw qemu-img convert -f vmdk -O raw qs.vmdk q.raw
q4=$best_s q4kb=$peak_kb q4c=$cpu_s
cmp v.raw in.raw || { echo "vdk raw output differs" >&2; exit 1; }
cmp q.raw in.raw || { echo "qemu-img raw output differs" >&2; exit 1; }
report "monolithicSparse -> raw" "$v4" "$v4kb" "$v4c" "$q4" "$q4kb" "$q4c" 0.5

echo
echo "best of $runs run(s), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), outputs verified:"
printf '%s\n' "${results[@]}"
