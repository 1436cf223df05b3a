#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Read-write mounts write through to the disk; --redo writes to a new
# child and leaves the base byte-identical; --discard drops the child.
source "$(dirname "$0")/../lib.sh"
set -e
require_mount_env
require sfdisk mkfs.ext4 mkfs.xfs mkfs.vfat mcopy mkntfs ntfs-3g qemu-img python3 sha256sum

make_files
make_mbr_disk "$T/disk.img"
to_vmdk "$T/disk.img" "$T/disk.vmdk"
mkdir -p "$T/mnt"
head -c 3000000 /dev/urandom > "$T/written.bin"

# Default is read-only: writing fails.
vdk mount "$T/disk.vmdk" 1 "$T/mnt"
if cp "$T/written.bin" "$T/mnt/" 2>/dev/null; then die "read-only mount took a write"; fi
grep " $T/mnt " /proc/mounts | grep -q "[ ,]ro[ ,]" || die "not mounted ro"
vdk umount "$T/mnt"
pass "default mount is read-only"

# rw on ext4, xfs and ntfs: write, unmount, mount again, read back.
for n in 1 2 6; do
  vdk mount -w "$T/disk.vmdk" "$n" "$T/mnt"
  cp "$T/written.bin" "$T/mnt/written.bin"
  mkdir "$T/mnt/newdir"
  echo "volume $n" > "$T/mnt/newdir/note.txt"
  vdk umount "$T/mnt"
  assert_nothing_left "rw $n"
  vdk mount "$T/disk.vmdk" "$n" "$T/mnt"
  cmp "$T/written.bin" "$T/mnt/written.bin" || die "volume $n: written file differs"
  [ "$(cat "$T/mnt/newdir/note.txt")" = "volume $n" ] || die "volume $n: note"
  check_files "$T/mnt" "rw volume $n"
  vdk umount "$T/mnt"
  pass "volume $n: rw mount wrote a file that a second mount reads back"
done
qemu-img check -q "$T/disk.vmdk" || die "qemu-img check after rw"
pass "qemu-img check is clean after rw mounts"

# --redo: the base stays byte-identical; the child holds the write.
sum_before=$(sha256sum < "$T/disk.vmdk")
vdk mount --redo "$T/redo.vmdk" "$T/disk.vmdk" 1 "$T/mnt"
[ -f "$T/redo.vmdk" ] || die "--redo did not create the child"
echo "through the redo log" > "$T/mnt/redo.txt"
vdk umount "$T/mnt"
[ "$(sha256sum < "$T/disk.vmdk")" = "$sum_before" ] || die "--redo changed the base"
vdk mount "$T/redo.vmdk" 1 "$T/mnt"
[ "$(cat "$T/mnt/redo.txt")" = "through the redo log" ] || die "child lacks the write"
check_files "$T/mnt" "redo child"
vdk umount "$T/mnt"
vdk mount "$T/disk.vmdk" 1 "$T/mnt"
[ ! -e "$T/mnt/redo.txt" ] || die "the base shows the redo write"
vdk umount "$T/mnt"
qemu-img compare -q "$T/disk.vmdk" "$T/disk.img" && die "compare expected a difference (rw writes)" || true
qemu-img info "$T/redo.vmdk" | grep -q "backing file" || die "qemu-img sees no parent in the child"
pass "--redo: base sha256 unchanged, write visible through the child"

# --discard (at mount time) removes the child at umount.
vdk mount --redo "$T/redo2.vmdk" --discard "$T/disk.vmdk" 1 "$T/mnt"
echo x > "$T/mnt/x.txt"
vdk umount "$T/mnt"
[ ! -e "$T/redo2.vmdk" ] || die "--discard kept the child"
[ "$(sha256sum < "$T/disk.vmdk")" = "$sum_before" ] || die "--discard changed the base"
# ... and at umount time.
vdk mount --redo "$T/redo3.vmdk" "$T/disk.vmdk" 1 "$T/mnt"
vdk umount --discard "$T/mnt"
[ ! -e "$T/redo3.vmdk" ] || die "umount --discard kept the child"
assert_nothing_left "discard"
pass "--discard at mount and at umount removes the child"

# A file system on the whole disk (no partition table): volume "disk".
make_fs ext4 "$T/whole.img" 48M WHOLE
to_vmdk "$T/whole.img" "$T/whole.vmdk"
vdk volumes "$T/whole.vmdk" | grep -q "^disk .*ext4" || { vdk volumes "$T/whole.vmdk"; die "whole-disk volume not listed"; }
vdk mount -w "$T/whole.vmdk" disk "$T/mnt"
check_files "$T/mnt" "whole-disk ext4"
cp "$T/written.bin" "$T/mnt/w.bin"
vdk umount "$T/mnt"
vdk mount "$T/whole.vmdk" disk "$T/mnt"
cmp "$T/written.bin" "$T/mnt/w.bin" || die "whole-disk rw write lost"
vdk umount "$T/mnt"
assert_nothing_left "whole disk"
pass "file system on the whole disk: mounted rw, write read back"

# Writes into a child qemu-img made land in the child, and qemu-img reads
# them back: convert the child to raw and loop-mount that with the kernel.
qemu-img create -q -f vmdk -b "$T/disk.vmdk" -F vmdk "$T/qchild.vmdk"
sum_base=$(sha256sum < "$T/disk.vmdk")
vdk mount -w "$T/qchild.vmdk" 1 "$T/mnt"
cp "$T/written.bin" "$T/mnt/q.bin"
vdk umount "$T/mnt"
[ "$(sha256sum < "$T/disk.vmdk")" = "$sum_base" ] || die "write into the child changed its parent"
qemu-img check -q "$T/qchild.vmdk" || die "qemu-img check of the child"
qemu-img convert -f vmdk -O raw "$T/qchild.vmdk" "$T/qchild.raw"
start=$(part_field "$T/disk.img" 1 start)
size=$(part_field "$T/disk.img" 1 size)
mkdir -p "$T/kmnt"
mount -o loop,ro,noload,offset="$start",sizelimit="$size" "$T/qchild.raw" "$T/kmnt"
r=0; cmp "$T/written.bin" "$T/kmnt/q.bin" || r=$?
umount "$T/kmnt"
[ $r = 0 ] || die "qemu-img does not see the write in the child"
assert_nothing_left "qemu child"
pass "rw mount of a qemu-img child: parent unchanged, qemu-img reads the write"
finish
