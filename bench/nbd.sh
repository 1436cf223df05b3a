#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/nbd.sh - `vdk serve` against qemu-nbd, same disk, same run.
#
# The disk: bench/make-disk.py's 4 GiB raw image with 1 GiB of data,
# made a monolithicSparse VMDK by qemu-img, on /dev/shm; both servers
# export that same file.  Best of $RUNS each:
#   1. nbdcopy reading the whole export to null: over a unix socket, over
#      loopback TCP, and over TCP with TLS-PSK;  ratio vdk/qemu-nbd of
#      the elapsed time (goal <= 0.6)
#   2. fio's nbd engine, random 4 KiB reads at iodepth 16 for $FIO_SECS
#      seconds over the unix socket;  ratio vdk/qemu-nbd of the IOPS
#      (goal >= 3), with nbdkit's file plugin on the raw image as the
#      ceiling
#   3. vdk's own client reading the whole export (vdk read URI) against
#      nbdcopy to stdout, both from vdk serve
# Each copy is checked against the image once.  Not part of the tests.
# Environment: VDK (default build/tools/vdk), RUNS (3), FIO_SECS (10),
# BENCH_DIR (/dev/shm).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-3}
fio_secs=${FIO_SECS:-10}
for c in qemu-img qemu-nbd nbdkit nbdcopy fio psktool jq; do
  command -v "$c" >/dev/null || { echo "$c is needed" >&2; exit 1; }
done
vdk=$(realpath "${VDK:-$root/build/tools/vdk}")
export VDK_NBDKIT_PLUGIN=${VDK_NBDKIT_PLUGIN:-$root/build/plugins/nbdkit/nbdkit-vdk-plugin.so}
[ -x "$vdk" ] && [ -r "$VDK_NBDKIT_PLUGIN" ] \
  || { echo "build vdk first (ninja -C build)" >&2; exit 1; }

work=$(mktemp -d "${BENCH_DIR:-/dev/shm}/vdk-nbd-bench.XXXXXX")
pids=()
cleanup () {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
echo "making the 4 GiB disk (1 GiB of data) in $work"
python3 "$root/bench/make-disk.py" in.raw
qemu-img convert -f raw -O vmdk in.raw disk.vmdk
psktool -u alice -p keys.psk >/dev/null 2>&1
sum=$(md5sum <in.raw | cut -d' ' -f1)

wait_sock () { for _ in $(seq 400); do [ -S "$1" ] && return; sleep 0.05; done; }
wait_port () {
  for _ in $(seq 400); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.05
  done
}
port_vdk=$((20000 + RANDOM % 10000)); port_q=$((port_vdk + 1))
port_vt=$((port_vdk + 2)); port_qt=$((port_vdk + 3))

# vdk serve: unix, TCP, TCP+TLS
"$vdk" serve -r --unix "$work/v.sock" disk.vmdk >/dev/null & pids+=($!)
"$vdk" serve -r --bind 127.0.0.1 --port "$port_vdk" disk.vmdk >/dev/null &
pids+=($!)
"$vdk" serve -r --bind 127.0.0.1 --port "$port_vt" --tls-psk keys.psk \
  disk.vmdk >/dev/null & pids+=($!)
# qemu-nbd: the same three (persistent, shared), each on its own copy
# (qemu's image locks refuse a file another server holds)
for k in 1 2 3; do cp --sparse=always disk.vmdk "q$k.vmdk"; done
qemu-nbd -r -t -e 0 -f vmdk -k "$work/q.sock" q1.vmdk & pids+=($!)
qemu-nbd -r -t -e 0 -f vmdk -b 127.0.0.1 -p "$port_q" q2.vmdk & pids+=($!)
mkdir -p qpsk && cp keys.psk qpsk/
qemu-nbd -r -t -e 0 -f vmdk -b 127.0.0.1 -p "$port_qt" \
  --object tls-creds-psk,id=tls0,dir="$work/qpsk",endpoint=server \
  --tls-creds tls0 q3.vmdk & pids+=($!)
# nbdkit's file plugin on the raw image: the ceiling for fio
nbdkit -f -r -U "$work/f.sock" file in.raw & pids+=($!)
wait_sock v.sock; wait_sock q.sock; wait_sock f.sock
for p in $port_vdk $port_q $port_vt $port_qt; do wait_port "$p"; done

best () {          # best CMD...: best elapsed seconds of $runs runs
  local i t b=""
  for ((i = 0; i < runs; i++)); do
    t=$( { /usr/bin/time -f '%e' "$@" >/dev/null 2>/dev/null; } 2>&1 | tail -1)
    if [ -z "$b" ] || awk "BEGIN{exit !($t < $b)}"; then b=$t; fi
  done
  echo "$b"
}
ratio () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b > 0 ? a / b : 0 }'; }

U_v="nbd+unix:///?socket=$work/v.sock"; U_q="nbd+unix:///?socket=$work/q.sock"
T_v="nbd://127.0.0.1:$port_vdk/"; T_q="nbd://127.0.0.1:$port_q/"
S_v="nbds://alice@127.0.0.1:$port_vt/?tls-psk-file=$work/keys.psk"
S_q="nbds://alice@127.0.0.1:$port_qt/?tls-psk-file=$work/keys.psk"

for u in "$U_v" "$U_q" "$S_v" "$S_q"; do
  [ "$(nbdcopy "$u" - | md5sum | cut -d' ' -f1)" = "$sum" ] \
    || { echo "wrong data from $u" >&2; exit 1; }
done
[ "$("$vdk" read "$U_v" | md5sum | cut -d' ' -f1)" = "$sum" ] \
  || { echo "wrong data from vdk read" >&2; exit 1; }
echo "data verified; best of $runs runs"

echo "1. nbdcopy EXPORT null:"
for pair in "unix $U_v $U_q" "tcp $T_v $T_q" "tcp+tls-psk $S_v $S_q"; do
  set -- $pair
  v=$(best nbdcopy "$2" null:); q=$(best nbdcopy "$3" null:)
  printf "   %-12s vdk serve %6.2fs  qemu-nbd %6.2fs  ratio %s (goal <= 0.6)\n" \
    "$1" "$v" "$q" "$(ratio "$v" "$q")"
done

fio_iops () {
  fio --name=rr --ioengine=nbd --uri="$1" --rw=randread --bs=4k \
    --iodepth=16 --runtime="$fio_secs" --time_based --output-format=json \
    2>/dev/null | jq '.jobs[0].read.iops | floor'
}
echo "2. fio nbd engine, random 4 KiB reads, iodepth 16, ${fio_secs}s, unix socket:"
fv=$(fio_iops "$U_v"); fq=$(fio_iops "$U_q"); ff=$(fio_iops "nbd+unix:///?socket=$work/f.sock")
printf "   vdk serve %s IOPS  qemu-nbd %s IOPS  ratio %s (goal >= 3)  nbdkit file (ceiling) %s IOPS\n" \
  "$fv" "$fq" "$(ratio "$fv" "$fq")" "$ff"

echo "3. reading the whole export from vdk serve (unix socket) to stdout:"
v=$(best "$vdk" read "$U_v"); n=$(best nbdcopy "$U_v" -)
printf "   vdk read %6.2fs  nbdcopy %6.2fs  ratio %s\n" "$v" "$n" "$(ratio "$v" "$n")"
