#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Space comes back through a mount: fstrim in an ext4 volume of a
# read-write `vdk mount` punches holes in the volume's FUSE file, which
# the library passes to the disk as a zeroing that frees grains; zeroes
# written through the mount allocate none.  After unmount `vdk map`
# shows the grains gone, the file system is intact and qemu-img check is
# clean.
source "$(dirname "$0")/../lib.sh"
set -e
require_mount_env
require sfdisk mkfs.ext4 qemu-img fstrim python3

# Bytes in `data` runs of `vdk map`.
data_bytes () {
  "$VDK" map "$1" | awk '$3 == "data" { s += $2 } END { print s + 0 }'
}

make_files
truncate -s 160M "$T/disk.img"
printf 'label: dos\n,150M,L\n' | sfdisk -q "$T/disk.img" >/dev/null
start=$(part_field "$T/disk.img" 1 start)
size=$(part_field "$T/disk.img" 1 size)
truncate -s "$size" "$T/part.img"
# nodiscard: mkfs must not trim the image file, lazy init off so the
# inode tables are written now, not later behind the test's back.
mkfs.ext4 -q -F -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 \
  -L TRIMVOL -d "$T/files" "$T/part.img"
dd if="$T/part.img" of="$T/disk.img" bs=1M conv=notrunc,sparse \
  oflag=seek_bytes seek="$start" status=none
rm -f "$T/part.img"
to_vmdk "$T/disk.img" "$T/disk.vmdk"
mkdir -p "$T/mnt"

# Fill 64 MiB of the volume with data, then delete it.
"$VDK" mount -w "$T/disk.vmdk" 1 "$T/mnt"
head -c 64M /dev/urandom > "$T/mnt/big.bin"
"$VDK" umount "$T/mnt"
before=$(data_bytes "$T/disk.vmdk")
[ "$before" -gt $((64 << 20)) ] || die "64 MiB written, but only $before bytes are data"
pass "64 MiB written: $before bytes of data grains"

"$VDK" mount -w "$T/disk.vmdk" 1 "$T/mnt"
rm "$T/mnt/big.bin"
sync
fstrim -v "$T/mnt" || die "fstrim failed"
# Zeroes written through the mount: must not allocate grains.
dd if=/dev/zero of="$T/mnt/zeros.bin" bs=1M count=16 conv=fsync status=none
"$VDK" umount "$T/mnt"
after=$(data_bytes "$T/disk.vmdk")
echo "# data before $before, after fstrim $after"
[ "$after" -lt $((before - (60 << 20))) ] ||
  die "fstrim freed $((before - after)) bytes of $before; the 64 MiB deleted should be gone"
pass "fstrim gave the grains back: $before -> $after bytes of data"
[ "$after" -lt $((16 << 20)) ] ||
  die "16 MiB of zeroes written through the mount allocated grains ($after bytes of data)"
pass "zeroes written through the mount allocated no grains"

qemu-img check -q "$T/disk.vmdk" || die "qemu-img check after fstrim"
pass "qemu-img check is clean"

"$VDK" mount "$T/disk.vmdk" 1 "$T/mnt"
check_files "$T/mnt" "after fstrim"
cmp -n $((16 << 20)) "$T/mnt/zeros.bin" /dev/zero || die "zeros.bin differs"
"$VDK" umount "$T/mnt"
start_sector=$((start / 512))
qemu-img convert -f vmdk -O raw "$T/disk.vmdk" "$T/check.raw"
dd if="$T/check.raw" of="$T/check.part" bs=512 skip="$start_sector" \
  count=$((size / 512)) status=none
e2fsck -fn "$T/check.part" >/dev/null || die "e2fsck finds damage after fstrim"
assert_nothing_left "trim"
pass "the files and e2fsck are fine after fstrim"
finish
