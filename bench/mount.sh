#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark: vdk mount against libvmdk's vmdkmount, same input, same run.
#
#   1. sequential read (dd bs=1M) of the whole-disk file of a 4 GiB sparse
#      VMDK holding 1 GiB of data: `vdk mount --flat` vs `vmdkmount`;
#   2. copying a 1 GiB file out of the ext4 volume of that disk:
#      `vdk mount` vs vmdkmount + `mount -o loop,ro,offset=...`.
# Everything lives on /dev/shm so both read from memory: the figures are
# the cost of each FUSE stack.  Two figures each, best of $RUNS runs on
# fresh mounts (no page cache reused): wall time, and CPU time of the
# reader plus the FUSE daemon, which stays meaningful on a busy machine
# where wall time mostly measures the other load.
#
# Usage: bench/mount.sh [VDK]   (default: vdk in PATH); needs root.
set -eu
VDK=${1:-${VDK:-vdk}}
RUNS=${RUNS:-3}
command -v vmdkmount >/dev/null || { echo "vmdkmount (libvmdk-utils) missing"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }

B=$(mktemp -d /dev/shm/vdk-bench.XXXXXX)
export VDK_RUN_DIR=$B/run
cleanup () {
  set +e
  for m in "$B"/m "$B"/f; do "$VDK" umount --force "$m" >/dev/null 2>&1; done
  umount "$B/m2" 2>/dev/null; fusermount3 -u "$B/v" 2>/dev/null
  "$VDK" mount --cleanup >/dev/null 2>&1
  rm -rf "$B"
}
trap cleanup EXIT
mkdir -p "$B/f" "$B/v" "$B/m" "$B/m2" "$B/files"

echo "# building a 4 GiB disk with a 1 GiB file in ext4 on /dev/shm"
head -c 1G /dev/urandom > "$B/files/big.bin"
truncate -s 4G "$B/disk.img"
printf 'label: dos\n,,L\n' | sfdisk -q "$B/disk.img" >/dev/null
truncate -s $((4096 - 1))M "$B/part.img"
mkfs.ext4 -q -F -d "$B/files" "$B/part.img"
dd if="$B/part.img" of="$B/disk.img" bs=1M seek=1 conv=notrunc,sparse status=none
rm -f "$B/part.img"
qemu-img convert -f raw -O vmdk "$B/disk.img" "$B/disk.vmdk"
rm -f "$B/disk.img"
echo "# disk.vmdk: $(du -h "$B/disk.vmdk" | cut -f1) allocated, 4 GiB virtual"

now () { date +%s.%N; }
# CPU seconds (user + system) a process has used so far.
cpu_of () { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"; }
# The reader runs under /usr/bin/time; its CPU seconds land in $B/rt.
timed () { /usr/bin/time -f '%U %S' -o "$B/rt" "$@"; }
reader_cpu () { awk '{ printf "%.2f", $1 + $2 }' "$B/rt"; }

# Each run prints "WALL CPU": wall seconds of the read and CPU seconds
# of the reader plus the FUSE daemon (loop kernel threads not counted).
read_vdk_flat () {
  "$VDK" mount --flat "$B/disk.vmdk" "$B/f"
  local pid t0 t1
  pid=$("$VDK" mounts --json | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' | head -1)
  t0=$(now); timed dd if="$B/f/disk" of=/dev/null bs=1M status=none; t1=$(now)
  echo "$(echo "$t1 - $t0" | bc -l) $(echo "$(reader_cpu) + $(cpu_of "$pid")" | bc -l)"
  "$VDK" umount "$B/f"
}
read_vmdkmount () {
  vmdkmount "$B/disk.vmdk" "$B/v" >/dev/null
  local pid t0 t1
  pid=$(pgrep -n -x vmdkmount)
  t0=$(now); timed dd if="$B/v/vmdk1" of=/dev/null bs=1M status=none; t1=$(now)
  echo "$(echo "$t1 - $t0" | bc -l) $(echo "$(reader_cpu) + $(cpu_of "$pid")" | bc -l)"
  fusermount3 -u "$B/v"
  sleep 0.2
}
copy_vdk () {
  "$VDK" mount "$B/disk.vmdk" 1 "$B/m"
  local pid t0 t1
  pid=$("$VDK" mounts --json | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' | head -1)
  t0=$(now); timed cat "$B/m/big.bin" > /dev/null; t1=$(now)
  echo "$(echo "$t1 - $t0" | bc -l) $(echo "$(reader_cpu) + $(cpu_of "$pid")" | bc -l)"
  "$VDK" umount "$B/m"
}
copy_vmdkmount () {
  vmdkmount "$B/disk.vmdk" "$B/v" >/dev/null
  local pid t0 t1
  pid=$(pgrep -n -x vmdkmount)
  mount -o loop,ro,noload,offset=1048576 "$B/v/vmdk1" "$B/m2"
  t0=$(now); timed cat "$B/m2/big.bin" > /dev/null; t1=$(now)
  echo "$(echo "$t1 - $t0" | bc -l) $(echo "$(reader_cpu) + $(cpu_of "$pid")" | bc -l)"
  umount "$B/m2"
  fusermount3 -u "$B/v"
  sleep 0.2
}

# best_of CMD...: the shortest wall time and the smallest CPU time of
# $RUNS runs, "WALL CPU".
best_of () {
  local w c out bw= bc_=
  for _ in $(seq "$RUNS"); do
    out=$("$@")   # waits for the unmount too
    read -r w c <<< "$out"
    if [ -z "$bw" ] || [ "$(echo "$w < $bw" | bc -l)" = 1 ]; then bw=$w; fi
    if [ -z "$bc_" ] || [ "$(echo "$c < $bc_" | bc -l)" = 1 ]; then bc_=$c; fi
  done
  printf '%.3f %.2f\n' "$bw" "$bc_"
}

# Check both read the same bytes before timing anything.
"$VDK" mount --flat "$B/disk.vmdk" "$B/f"
vmdkmount "$B/disk.vmdk" "$B/v" >/dev/null
cmp "$B/f/disk" "$B/v/vmdk1" || { echo "vdk and vmdkmount disagree"; exit 1; }
"$VDK" umount "$B/f"; fusermount3 -u "$B/v"; sleep 0.2

echo "# load average before timing: $(cut -d' ' -f1-3 /proc/loadavg)"
out=$(best_of read_vdk_flat); read -r t_vdk u_vdk <<< "$out"
out=$(best_of read_vmdkmount); read -r t_vm u_vm <<< "$out"
out=$(best_of copy_vdk); read -r c_vdk cu_vdk <<< "$out"
out=$(best_of copy_vmdkmount); read -r c_vm cu_vm <<< "$out"
ratio () { echo "scale=3; $1 / $2" | bc -l; }
mbs () { echo "scale=0; 4096 / $1" | bc -l; }
echo "sequential read of the 4 GiB disk file (dd bs=1M), best of $RUNS:"
echo "  vdk mount --flat  ${t_vdk} s wall ($(mbs "$t_vdk") MiB/s)  ${u_vdk} s CPU"
echo "  vmdkmount         ${t_vm} s wall ($(mbs "$t_vm") MiB/s)  ${u_vm} s CPU"
echo "  ratio vdk/vmdkmount  wall $(ratio "$t_vdk" "$t_vm")  CPU $(ratio "$u_vdk" "$u_vm")"
echo "copy of a 1 GiB file out of the ext4 volume, best of $RUNS:"
echo "  vdk mount         ${c_vdk} s wall  ${cu_vdk} s CPU"
echo "  vmdkmount + loop  ${c_vm} s wall  ${cu_vm} s CPU"
echo "  ratio vdk/vmdkmount  wall $(ratio "$c_vdk" "$c_vm")  CPU $(ratio "$cu_vdk" "$cu_vm")"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
