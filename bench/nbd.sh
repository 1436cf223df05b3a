#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/nbd.sh - `vdk serve` against qemu-nbd, same disk, same run.
#
# The disk: bench/make-disk.py's 4 GiB raw image with 1 GiB of data,
# made a monolithicSparse VMDK by qemu-img, on /dev/shm; both servers
# export that same file (qemu-nbd a copy of it: its image locks refuse a
# file another server holds).  nbdkit's own file plugin over the raw
# image is the ceiling: the cost of nbdkit and the wire with no disk
# format at all.  Best of $RUNS runs each:
#   1. nbdcopy reading the whole export to null: over a unix socket, over
#      loopback TCP, and over TCP with TLS-PSK;  ratio vdk/qemu-nbd of
#      the elapsed time (goal <= 0.6)
#   2. fio's nbd engine (libnbd), random 4 KiB reads at iodepth 16 for
#      $FIO_SECS seconds over the unix socket, best of $RUNS with the
#      servers taking turns;  ratio vdk/qemu-nbd of the IOPS (goal >= 3)
#   3. fio's nbd engine, sequential 1 MiB reads at iodepth 4 (the same
#      turns);  ratio of the bandwidth
#   4. vdk's own client reading the whole export (vdk read URI) against
#      nbdcopy to stdout, both from vdk serve
# Every figure comes with CPU seconds: the client's (user + system, from
# /usr/bin/time or fio) and the server's (from /proc/PID/stat before and
# after, all its threads), which stay meaningful on a busy machine where
# wall time mostly measures the other load.  Each copy is checked
# against the image once.  Not part of the tests.
# Environment: VDK (default build/tools/vdk), RUNS (3), FIO_SECS (10),
# BENCH_DIR (/dev/shm).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-3}
fio_secs=${FIO_SECS:-10}
for c in qemu-img qemu-nbd nbdkit nbdcopy fio psktool jq /usr/bin/time; do
  command -v "$c" >/dev/null || { echo "$c is needed" >&2; exit 1; }
done
vdk=$(realpath "${VDK:-$root/build/tools/vdk}")
export VDK_NBDKIT_PLUGIN=${VDK_NBDKIT_PLUGIN:-$(dirname "$vdk")/../plugins/nbdkit/nbdkit-vdk-plugin.so}
[ -x "$vdk" ] && [ -r "$VDK_NBDKIT_PLUGIN" ] \
  || { echo "build vdk first (ninja -C build)" >&2; exit 1; }
hz=$(getconf CLK_TCK)

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

# wait_pid FILE: the pid a server wrote to FILE once it listens.
wait_pid () {
  local i
  for ((i = 0; i < 600; i++)); do
    [ -s "$1" ] && { cat "$1"; return; }
    sleep 0.05
  done
  echo "no server wrote $1" >&2; exit 1
}
wait_sock () {
  local i
  for ((i = 0; i < 600; i++)); do [ -S "$1" ] && return; sleep 0.05; done
  echo "nothing listens on $1" >&2; exit 1
}
wait_port () {
  local i
  for ((i = 0; i < 600; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.05
  done
  echo "nothing listens on port $1" >&2; exit 1
}
port_vdk=$((20000 + RANDOM % 10000)); port_q=$((port_vdk + 1))
port_vt=$((port_vdk + 2)); port_qt=$((port_vdk + 3))

# vdk serve: unix, TCP, TCP+TLS; the pid files name nbdkit itself.
"$vdk" serve -r --pid-file v.pid --unix "$work/v.sock" disk.vmdk \
  >/dev/null & pids+=($!)
"$vdk" serve -r --pid-file vt.pid --bind 127.0.0.1 --port "$port_vdk" \
  disk.vmdk >/dev/null & pids+=($!)
"$vdk" serve -r --pid-file vs.pid --bind 127.0.0.1 --port "$port_vt" \
  --tls-psk keys.psk disk.vmdk >/dev/null & pids+=($!)
# qemu-nbd: the same three (persistent, shared), each on its own copy.
for k in 1 2 3; do cp --sparse=always disk.vmdk "q$k.vmdk"; done
qemu-nbd -r -t -e 0 -f vmdk \
  -k "$work/q.sock" q1.vmdk 2>>q.log & qpid=$!; pids+=($qpid)
qemu-nbd -r -t -e 0 -f vmdk -b 127.0.0.1 -p "$port_q" q2.vmdk 2>>q.log & qtpid=$!
pids+=($qtpid)
mkdir -p qpsk && cp keys.psk qpsk/
qemu-nbd -r -t -e 0 -f vmdk -b 127.0.0.1 -p "$port_qt" \
  --object tls-creds-psk,id=tls0,dir="$work/qpsk",endpoint=server \
  --tls-creds tls0 q3.vmdk 2>>q.log & qspid=$!; pids+=($qspid)
# nbdkit's file plugin on the raw image: the ceiling.
nbdkit -f -r -P f.pid -U "$work/f.sock" file in.raw & pids+=($!)
vpid=$(wait_pid v.pid); vtpid=$(wait_pid vt.pid); vspid=$(wait_pid vs.pid)
fpid=$(wait_pid f.pid)
wait_sock q.sock
for p in $port_q $port_qt; do wait_port "$p"; done

U_v="nbd+unix:///?socket=$work/v.sock"; U_q="nbd+unix:///?socket=$work/q.sock"
U_f="nbd+unix:///?socket=$work/f.sock"
T_v="nbd://127.0.0.1:$port_vdk/"; T_q="nbd://127.0.0.1:$port_q/"
S_v="nbds://alice@127.0.0.1:$port_vt/?tls-psk-file=$work/keys.psk"
S_q="nbds://alice@127.0.0.1:$port_qt/?tls-psk-file=$work/keys.psk"

# (Into a file: nbdcopy into a pipe hangs against qemu-nbd with TLS.)
for u in "$U_v" "$U_q" "$U_f" "$S_v" "$S_q"; do
  timeout 300 nbdcopy "$u" copy.raw
  [ "$(md5sum <copy.raw | cut -d' ' -f1)" = "$sum" ] \
    || { echo "wrong data from $u" >&2; exit 1; }
  rm -f copy.raw
done
[ "$("$vdk" read "$U_v" | md5sum | cut -d' ' -f1)" = "$sum" ] \
  || { echo "wrong data from vdk read" >&2; exit 1; }
echo "data verified; best of $runs runs; CPU seconds: client + server"

# server_cpu PID: CPU seconds (user + system, all threads) so far.
server_cpu () { awk -v hz="$hz" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
fsub () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
# (Parenthesised: in awk, "printf x, b > 0" writes to a file named 0.)
ratio () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# best SERVER_PID CMD...: "WALL CLIENT_CPU SERVER_CPU" of the fastest of
# $runs runs of CMD (stdout discarded).
best () {
  local pid=$1 i s0 s1 line b="" bw=""
  shift
  for ((i = 0; i < runs; i++)); do
    s0=$(server_cpu "$pid")
    /usr/bin/time -f '%e %U %S' -o "$work/time" timeout 900 "$@" >/dev/null
    s1=$(server_cpu "$pid")
    line=$(awk -v s="$(fsub "$s1" "$s0")" \
             '{ printf "%.2f %.2f %.2f", $1, $2 + $3, s }' "$work/time")
    if [ -z "$b" ] || awk "BEGIN{exit !(${line%% *} < $bw)}"; then
      b=$line; bw=${line%% *}
    fi
  done
  echo "$b"
}
show () {         # show LABEL "WALL CCPU SCPU"
  set -- "$1" $2
  printf "%-11s %7.2fs wall  cpu %5.2fs + %5.2fs" "$1" "$2" "$3" "$4"
}

echo "1. nbdcopy EXPORT null (the whole 4 GiB export, 1 GiB of data):"
for set in "unix $vpid $U_v $qpid $U_q" "tcp $vtpid $T_v $qtpid $T_q" \
           "tcp+tls-psk $vspid $S_v $qspid $S_q"; do
  set -- $set
  v=$(best "$2" nbdcopy "$3" null:); q=$(best "$4" nbdcopy "$5" null:)
  printf "   %-12s %s\n" "$1" "$(show "vdk serve" "$v")"
  printf "   %-12s %s\n" "" "$(show "qemu-nbd" "$q")"
  if [ "$1" = unix ]; then
    f=$(best "$fpid" nbdcopy "$U_f" null:)
    printf "   %-12s %s\n" "" "$(show "nbdkit file" "$f")"
  fi
  printf "   %-12s ratio vdk/qemu-nbd %s (goal <= 0.6)\n" "" \
    "$(ratio "${v%% *}" "${q%% *}")"
done

# fio_run PID URI RW BS DEPTH: "IOPS MIB/S CLIENT_CPU SERVER_CPU".  The
# engine prints "connected" on stdout, so the JSON goes to a file.
fio_run () {
  local s0 s1
  s0=$(server_cpu "$1")
  fio --name=b --ioengine=nbd --uri="$2" --rw="$3" --bs="$4" \
    --iodepth="$5" --runtime="$fio_secs" --time_based --randrepeat=0 \
    --output-format=json --output="$work/fio.json" >/dev/null 2>&1
  s1=$(server_cpu "$1")
  jq -r --arg s "$(fsub "$s1" "$s0")" '.jobs[0] |
    "\(.read.iops | floor) \(.read.bw / 1024 | floor)
     \((.usr_cpu + .sys_cpu) * .elapsed / 100 * 100 | floor / 100) \($s)"' \
    "$work/fio.json" | tr '\n' ' '
}
fio_best () {     # fio_best "IOPS ..." "IOPS ...": the one with more IOPS
  if [ -z "$1" ] || [ "${2%% *}" -gt "${1%% *}" ]; then echo "$2"; else echo "$1"; fi
}
fio_show () {     # fio_show LABEL "IOPS MIBS CCPU SCPU"
  set -- "$1" $2
  printf "   %-11s %8s IOPS %6s MiB/s  cpu %5.2fs + %5.2fs\n" "$1" "$2" \
    "$3" "$4" "$5"
}
n=2
for kind in "randread 4k 16" "read 1m 4"; do
  set -- $kind
  echo "$n. fio nbd engine, $1 bs=$2 iodepth=$3, ${fio_secs}s, best of $runs, unix socket:"
  n=$((n + 1))
  # Best of $runs, the three servers taking turns: this machine's speed
  # drifts by a fifth from one minute to the next, which a single
  # window per server would put into the ratio.
  fv="" fq="" ff=""
  for ((i = 0; i < runs; i++)); do
    fv=$(fio_best "$fv" "$(fio_run "$vpid" "$U_v" "$@")")
    fq=$(fio_best "$fq" "$(fio_run "$qpid" "$U_q" "$@")")
    ff=$(fio_best "$ff" "$(fio_run "$fpid" "$U_f" "$@")")
  done
  fio_show "vdk serve" "$fv"; fio_show "qemu-nbd" "$fq"
  fio_show "nbdkit file" "$ff"
  if [ "$1" = randread ]; then
    echo "   ratio vdk/qemu-nbd $(ratio "${fv%% *}" "${fq%% *}") IOPS (goal >= 3)"
  else
    v=${fv#* }; q=${fq#* }
    echo "   ratio vdk/qemu-nbd $(ratio "${v%% *}" "${q%% *}") bandwidth"
  fi
done

echo "4. reading the whole export from vdk serve (unix socket) to stdout:"
v=$(best "$vpid" "$vdk" read "$U_v"); n=$(best "$vpid" nbdcopy "$U_v" -)
echo "   $(show "vdk read" "$v")"
echo "   $(show "nbdcopy" "$n")"
echo "   ratio vdk read/nbdcopy $(ratio "${v%% *}" "${n%% *}")"
