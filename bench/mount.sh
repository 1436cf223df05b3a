#!/bin/bash
# Benchmark: vdk mount against libvmdk's vmdkmount, same input, same run.
#
#   1. sequential read (dd bs=1M) of the whole-disk file of a 4 GiB sparse
#      VMDK holding 1 GiB of data: `vdk mount --flat` vs `vmdkmount`;
#   2. copying a 1 GiB file out of the ext4 volume of that disk:
#      `vdk mount` vs vmdkmount + `mount -o loop,ro,offset=...`.
# Everything lives on /dev/shm so both read from memory: the figures are
# the CPU cost of each FUSE stack.  Each figure is the best of $RUNS runs,
# each on a fresh mount (so no page cache is reused).
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
# best_of CMD...: the shortest wall time of $RUNS runs, in seconds.
best_of () {
  local best= t0 t1 d
  for _ in $(seq "$RUNS"); do
    t0=$(now); "$@"; t1=$(now)
    d=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$d < $best" | bc -l)" = 1 ]; then best=$d; fi
  done
  printf '%.3f' "$best"
}

read_vdk_flat () {
  "$VDK" mount --flat "$B/disk.vmdk" "$B/f"
  dd if="$B/f/disk" of=/dev/null bs=1M status=none
  "$VDK" umount "$B/f"
}
read_vmdkmount () {
  vmdkmount "$B/disk.vmdk" "$B/v" >/dev/null
  dd if="$B/v/vmdk1" of=/dev/null bs=1M status=none
  fusermount3 -u "$B/v"
  sleep 0.2
}
copy_vdk () {
  "$VDK" mount "$B/disk.vmdk" 1 "$B/m"
  cat "$B/m/big.bin" > /dev/null
  "$VDK" umount "$B/m"
}
copy_vmdkmount () {
  vmdkmount "$B/disk.vmdk" "$B/v" >/dev/null
  mount -o loop,ro,noload,offset=1048576 "$B/v/vmdk1" "$B/m2"
  cat "$B/m2/big.bin" > /dev/null
  umount "$B/m2"
  fusermount3 -u "$B/v"
  sleep 0.2
}

# Check both read the same bytes before timing anything.
"$VDK" mount --flat "$B/disk.vmdk" "$B/f"
vmdkmount "$B/disk.vmdk" "$B/v" >/dev/null
cmp "$B/f/disk" "$B/v/vmdk1" || { echo "vdk and vmdkmount disagree"; exit 1; }
"$VDK" umount "$B/f"; fusermount3 -u "$B/v"; sleep 0.2

t_vdk=$(best_of read_vdk_flat)
t_vm=$(best_of read_vmdkmount)
c_vdk=$(best_of copy_vdk)
c_vm=$(best_of copy_vmdkmount)
mbs () { echo "scale=0; 4096 / $1" | bc -l; }
echo "sequential read of the 4 GiB disk file (dd bs=1M):"
echo "  vdk mount --flat  ${t_vdk} s  ($(mbs "$t_vdk") MiB/s)"
echo "  vmdkmount         ${t_vm} s  ($(mbs "$t_vm") MiB/s)"
echo "  ratio vdk/vmdkmount  $(echo "scale=3; $t_vdk / $t_vm" | bc -l)"
echo "copy of a 1 GiB file out of the ext4 volume:"
echo "  vdk mount         ${c_vdk} s"
echo "  vmdkmount + loop  ${c_vm} s"
echo "  ratio vdk/vmdkmount  $(echo "scale=3; $c_vdk / $c_vm" | bc -l)"
