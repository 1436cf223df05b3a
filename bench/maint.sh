#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/maint.sh - vdk shrink, defrag, commit and map, timed on the same
# input as their qemu-img counterparts, in one run.
#
# On /dev/shm (tmpfs: the CPU work is measured, not a disk) builds the
# 4 GiB disk of bench/convert.sh: 1 GiB of data in 4 MiB chunks, half
# random and half text, here written into a monolithicSparse disk in
# shuffled order (so grains are out of LBA order), plus 256 MiB of
# all-zero grains stored as data (what shrink gives back).  Then, best of
# RUNS (default 3) each, every output verified with qemu-img compare:
#   shrink   vdk shrink        vs  qemu-img convert -O vmdk (qemu's way)
#   defrag   vdk defrag        vs  qemu-img convert -O vmdk
#   commit   vdk commit        vs  qemu-img commit   (256 MiB child)
#   map      vdk map --json    vs  qemu-img map --output=json (mean of 20)
# Prints seconds, the ratio vdk/qemu-img (below 1: vdk is faster) and
# the file sizes.  Not part of the test suite.
# Environment: VDK (default build/tools/vdk, built if missing), RUNS,
# BENCH_DIR (default /dev/shm).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-3}

command -v qemu-img >/dev/null || { echo "qemu-img is needed" >&2; exit 1; }
command -v qemu-io >/dev/null || { echo "qemu-io is needed" >&2; exit 1; }
vdk=${VDK:-$root/build/tools/vdk}
if [ ! -x "$vdk" ]; then
  echo "building vdk in $root/build"
  [ -d "$root/build/meson-private" ] || meson setup "$root/build" >/dev/null
  ninja -C "$root/build" >/dev/null
fi

vdk=$(cd "$(dirname "$vdk")" && pwd)/$(basename "$vdk")
work=$(mktemp -d "${BENCH_DIR:-/dev/shm}/vdk-bench-maint.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

echo "making a 4 GiB sparse disk with 1 GiB of data (shuffled) in $work"
python3 - "$vdk" <<'PYEOF'
import os, random, subprocess, sys
vdk = sys.argv[1]
CHUNK, DISK = 4 << 20, 4 << 30
rng = random.Random(20261126)
words = ("the of and disk grain table sector extent vmdk data block "
         "virtual machine snapshot parent child header descriptor").split()
pool = " ".join(rng.choice(words) for _ in range(3_000_000)).encode()
slots = rng.sample(range(DISK // CHUNK), (1 << 30) // CHUNK + 64)
data, zero = slots[:256], slots[256:]
subprocess.run([vdk, "create", "frag.vmdk", "4G"], check=True)
with open("exp.raw", "wb") as raw:
    raw.truncate(DISK)
    order = data[:]
    rng.shuffle(order)
    for i, slot in enumerate(order):
        if i % 2:
            s = rng.randrange(len(pool) - CHUNK)
            buf = pool[s:s + CHUNK]
        else:
            buf = os.urandom(CHUNK)
        raw.seek(slot * CHUNK)
        raw.write(buf)
        subprocess.run([vdk, "write", "frag.vmdk", "--offset",
                        str(slot * CHUNK)], input=buf, check=True)
cmds = []
for slot in zero:
    cmds += ["-c", "write -P 0 %d %d" % (slot * CHUNK, CHUNK)]
subprocess.run(["qemu-io", "-f", "vmdk"] + cmds + ["frag.vmdk"], check=True,
               stdout=subprocess.DEVNULL)
PYEOF
fs=$(stat -c %s frag.vmdk)
echo "  frag.vmdk: $fs bytes"

# best CMD...: best elapsed seconds of $runs runs of CMD, after `prep`.
best () {
  local i t
  best_s=""
  for ((i = 0; i < runs; i++)); do
    prep
    /usr/bin/time -f '%e' -o time.txt "$@" >/dev/null
    t=$(tail -1 time.txt)
    if [ -z "$best_s" ] || awk "BEGIN{exit !($t < $best_s)}"; then
      best_s=$t
    fi
  done
}
[ -x /usr/bin/time ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
report () {
  awk -v w="$1" -v vt="$2" -v q="$3" -v qt="$4" \
    'BEGIN { printf "%-8s vdk %7.3fs   %-24s %7.3fs   ratio %5.2f\n", w, vt, q, qt,
             (qt > 0 ? vt / qt : 0) }'
}
verify () {
  qemu-img compare -q -f vmdk -F raw "$1" exp.raw \
    || { echo "$1 differs from the expected contents" >&2; exit 1; }
}

prep () { cp --sparse=always frag.vmdk t.vmdk; rm -f q.vmdk; }
best "$vdk" shrink t.vmdk; vs=$best_s
verify t.vmdk; ss=$(stat -c %s t.vmdk)
best "$vdk" defrag t.vmdk; vd=$best_s
verify t.vmdk; ds=$(stat -c %s t.vmdk)
best qemu-img convert -f vmdk -O vmdk t.vmdk q.vmdk; qc=$best_s
verify q.vmdk; qs=$(stat -c %s q.vmdk)

# commit: a child holding 256 MiB of new data over the shrunk disk.
"$vdk" shrink frag.vmdk
head -c $((256 << 20)) /dev/urandom >child.data
prep () {
  rm -f base.vmdk child.vmdk
  cp --sparse=always frag.vmdk base.vmdk
  "$vdk" child base.vmdk child.vmdk
  "$vdk" write child.vmdk --offset $((1 << 30)) <child.data
}
best "$vdk" commit child.vmdk; vc=$best_s
cp exp.raw exp2.raw
dd if=child.data of=exp2.raw bs=1M seek=1024 conv=notrunc status=none
qemu-img compare -q -f vmdk -F raw base.vmdk exp2.raw \
  || { echo "vdk commit: wrong parent contents" >&2; exit 1; }
best qemu-img commit -q -d child.vmdk; qm=$best_s
qemu-img compare -q -f vmdk -F raw base.vmdk exp2.raw \
  || { echo "qemu-img commit: wrong parent contents" >&2; exit 1; }

# map is fast: time 20 runs with a nanosecond clock, per run.
map_time () {
  local t0 t1 i
  t0=$(date +%s%N)
  for ((i = 0; i < 20; i++)); do "$@" >/dev/null; done
  t1=$(date +%s%N)
  awk -v d=$((t1 - t0)) 'BEGIN { printf "%.4f", d / 20 / 1e9 }'
}
vm=$(map_time "$vdk" map --json frag.vmdk)
qmap=$(map_time qemu-img map --output=json frag.vmdk)
[ "$("$vdk" map --json frag.vmdk | grep -c '"data"')" -gt 0 ] \
  || { echo "vdk map found no data" >&2; exit 1; }

echo
echo "best of $runs runs, outputs verified:"
report shrink "$vs" "qemu-img convert" "$qc"
report defrag "$vd" "qemu-img convert" "$qc"
report commit "$vc" "qemu-img commit" "$qm"
report map "$vm" "qemu-img map" "$qmap"
echo "sizes: before $fs, shrunk $ss, defragmented $ds, qemu-img convert $qs bytes"
