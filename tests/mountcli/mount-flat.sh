#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdk mount --flat: the disk file equals qemu-img's raw conversion and
# each volume file equals the partition's byte range; files are read-only
# unless -w; two disks give disk1/disk2; the folder goes away on umount.
source "$(dirname "$0")/../lib.sh"
set -e
require_mount_env
require sfdisk sgdisk mkfs.ext4 mkfs.xfs mkfs.vfat mcopy mkntfs ntfs-3g qemu-img python3

make_files
make_mbr_disk "$T/disk.img"
make_gpt_disk "$T/gpt.img"
to_vmdk "$T/disk.img" "$T/disk.vmdk" twoGbMaxExtentSparse
to_vmdk "$T/gpt.img" "$T/gpt.vmdk"
qemu-img convert -f vmdk -O raw "$T/disk.vmdk" "$T/disk-qemu.raw"
mkdir -p "$T/flat"

vdk mount --flat "$T/disk.vmdk" "$T/flat"
ls "$T/flat" > "$T/ls"
printf 'disk\nvol1\nvol2\nvol3\nvol5\nvol6\n' | cmp - "$T/ls" || { cat "$T/ls"; die "flat listing"; }
cmp "$T/flat/disk" "$T/disk-qemu.raw" || die "disk file differs from qemu-img convert -O raw"
cmp "$T/flat/disk" "$T/disk.img" || die "disk file differs from the raw image"
for n in 1 2 5 6; do
  start=$(part_field "$T/disk.img" $n start)
  size=$(part_field "$T/disk.img" $n size)
  [ "$(stat -c %s "$T/flat/vol$n")" = "$size" ] || die "vol$n size"
  cmp "$T/flat/vol$n" <(tail -c +$((start + 1)) "$T/disk.img" | head -c "$size") ||
    die "vol$n differs from the partition's byte range"
done
# Unaligned reads across the whole file: dd at odd offsets.
dd if="$T/flat/disk" bs=4097 skip=1000 count=300 status=none | \
  cmp - <(dd if="$T/disk.img" bs=4097 skip=1000 count=300 status=none) ||
  die "odd-sized reads differ"
if echo x 2>/dev/null > "$T/flat/vol1"; then die "flat file writable without -w"; fi
vdk mounts | grep -q "(flat)" || die "vdk mounts does not list the flat mount"
vdk umount "$T/flat"
assert_nothing_left "flat"
[ -z "$(ls -A "$T/flat")" ] || die "flat folder not empty after umount"
pass "flat: disk and volume files equal qemu-img's raw and the partition ranges"

# Two disks in one set.
vdk mount --flat "$T/disk.vmdk" "$T/gpt.vmdk" "$T/flat"
cmp "$T/flat/disk1" "$T/disk.img" || die "disk1"
cmp "$T/flat/disk2" "$T/gpt.img" || die "disk2"
start=$(part_field "$T/gpt.img" 1 start)
size=$(part_field "$T/gpt.img" 1 size)
cmp "$T/flat/vol2:1" <(tail -c +$((start + 1)) "$T/gpt.img" | head -c "$size") ||
  die "vol2:1 differs"
vdk umount "$T/flat"
assert_nothing_left "flat two disks"
pass "flat: a two-disk set exposes disk1, disk2 and vol2:1"

# -w: writes through the volume file land in the disk.
cp "$T/gpt.vmdk" "$T/w.vmdk"
vdk mount -w --flat "$T/w.vmdk" "$T/flat"
head -c 65536 /dev/urandom > "$T/pattern"
dd if="$T/pattern" of="$T/flat/vol3" bs=65536 seek=3 conv=notrunc status=none
vdk umount "$T/flat"
start=$(part_field "$T/gpt.img" 3 start)
qemu-img convert -f vmdk -O raw "$T/w.vmdk" "$T/w.raw"
cmp "$T/pattern" <(tail -c +$((start + 3 * 65536 + 1)) "$T/w.raw" | head -c 65536) ||
  die "write through vol3 not in the disk"
assert_nothing_left "flat -w"
pass "flat -w: a write to a volume file lands at the partition offset"
finish
