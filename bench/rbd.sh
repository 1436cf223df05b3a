#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/rbd.sh - disks into and out of Ceph RBD: vdk against qemu-img,
# with Ceph's own `rbd import`/`rbd export` as the store's limit; same
# cluster, same run.
#
# A throwaway single-node cluster (tests/rbd/cluster.sh: one monitor,
# one memstore OSD, data in RAM) is started in $BENCH_DIR and stopped at
# the end.  The disk: bench/make-disk.py's 4 GiB raw image with 1 GiB of
# data, made a monolithicSparse VMDK by qemu-img, on /dev/shm.  Best of
# $RUNS each (every image removed between runs):
#   1. VMDK -> RBD: `vdk convert disk.vmdk rbd:rbd/v` against
#      `qemu-img convert -O raw disk.vmdk rbd:rbd/q`; the store's limit:
#      `rbd import` of the raw image (which skips zero blocks too).
#      Goal: vdk <= 0.5x qemu-img, <= 1.5x rbd import.
#   2. RBD snapshot -> streamOptimized: `vdk convert -t streamOptimized
#      rbd:rbd/v@s out.vmdk` against `qemu-img convert -O vmdk -o
#      subformat=streamOptimized rbd:...`; the store's limit: `rbd
#      export` to a file.  Goal as above.
# The results are checked once (rbd export of vdk's image, and vdk's
# stream read back, against the raw image).  Not part of the tests.
# Memory: memstore holds about twice what is written (~2-3 GiB here).
# Environment: VDK (default build/tools/vdk), RUNS (2), BENCH_DIR
# (/dev/shm).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-2}
for c in qemu-img rbd rados ceph-mon ceph-osd python3; do
  command -v "$c" >/dev/null || { echo "$c is needed" >&2; exit 1; }
done
vdk=$(realpath "${VDK:-$root/build/tools/vdk}")
[ -x "$vdk" ] || { echo "build vdk first (ninja -C build)" >&2; exit 1; }

work=$(mktemp -d "${BENCH_DIR:-/dev/shm}/vdk-rbd-bench.XXXXXX")
source "$root/tests/rbd/cluster.sh"
cleanup () {
  cluster_stop "$work/ceph"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
mkdir -p "$work/ceph"
cluster_start "$work/ceph" || { echo "the cluster did not start" >&2; exit 1; }
cd "$work"
echo "making the 4 GiB disk (1 GiB of data) in $work"
python3 "$root/bench/make-disk.py" in.raw
qemu-img convert -f raw -O vmdk in.raw disk.vmdk
rbdname () { echo "rbd:rbd/$1:conf=$CEPH_CONF"; }

# best CMD...: the best elapsed seconds of $runs runs; `pre` runs before
# each (not timed).
best () {
  local b="" t s e
  for ((i = 0; i < runs; i++)); do
    pre
    s=$(date +%s.%N)
    "$@" >/dev/null
    e=$(date +%s.%N)
    t=$(python3 -c "print('%.3f' % ($e - $s))")
    if [ -z "$b" ] || python3 -c "import sys; sys.exit(not $t < $b)"; then
      b=$t
    fi
  done
  echo "$b"
}
ratio () { python3 -c "print('%.2f' % ($1 / $2))"; }
drop () { rbd snap purge "rbd/$1" >/dev/null 2>&1 || true
          rbd rm --no-progress "rbd/$1" >/dev/null 2>&1 || true; }

echo "== 1. VMDK (4 GiB, 1 GiB data) -> RBD"
pre () { drop v; }
t_vdk=$(best "$vdk" convert disk.vmdk rbd:rbd/v)
pre () { drop q; }
t_qemu=$(best qemu-img convert -f vmdk -O raw disk.vmdk "$(rbdname q)")
pre () { drop i; }
t_imp=$(best rbd import --no-progress in.raw rbd/i)
rbd export --no-progress rbd/v - 2>/dev/null | cmp - in.raw \
  || { echo "vdk's image differs from the input" >&2; exit 1; }
printf "vdk convert       %8.2f s\n" "$t_vdk"
printf "qemu-img convert  %8.2f s   vdk/qemu-img %s (goal <= 0.5)\n" \
  "$t_qemu" "$(ratio "$t_vdk" "$t_qemu")"
printf "rbd import        %8.2f s   vdk/rbd import %s (goal <= 1.5)\n" \
  "$t_imp" "$(ratio "$t_vdk" "$t_imp")"

echo "== 2. RBD snapshot -> streamOptimized VMDK"
rbd snap create rbd/v@s >/dev/null 2>&1
pre () { rm -f out.vmdk; }
t_vdk=$(best "$vdk" convert -t streamOptimized rbd:rbd/v@s out.vmdk)
"$vdk" read out.vmdk | cmp - in.raw \
  || { echo "vdk's stream differs from the input" >&2; exit 1; }
pre () { rm -f q.vmdk; }
t_qemu=$(best qemu-img convert -f raw -O vmdk -o subformat=streamOptimized \
  "$(rbdname v@s)" q.vmdk)
pre () { rm -f exp.raw; }
t_exp=$(best rbd export --no-progress rbd/v@s exp.raw)
printf "vdk convert       %8.2f s\n" "$t_vdk"
printf "qemu-img convert  %8.2f s   vdk/qemu-img %s (goal <= 0.5)\n" \
  "$t_qemu" "$(ratio "$t_vdk" "$t_qemu")"
printf "rbd export        %8.2f s   vdk/rbd export %s (goal <= 1.5)\n" \
  "$t_exp" "$(ratio "$t_vdk" "$t_exp")"
