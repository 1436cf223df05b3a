#!/bin/bash
# Read-write mounts write through to the disk; --redo writes to a new
# child and leaves the base byte-identical; --discard drops the child.
. "$(dirname "$0")/common.sh"
require_mount_env
require_tools sfdisk mkfs.ext4 mkfs.xfs mkfs.vfat mcopy mkntfs ntfs-3g qemu-img python3 sha256sum

make_files
make_mbr_disk "$T/disk.img"
to_vmdk "$T/disk.img" "$T/disk.vmdk"
mkdir -p "$T/mnt"
head -c 3000000 /dev/urandom > "$T/written.bin"

# Default is read-only: writing fails.
"$VDK" mount "$T/disk.vmdk" 1 "$T/mnt"
if cp "$T/written.bin" "$T/mnt/" 2>/dev/null; then fail "read-only mount took a write"; fi
grep " $T/mnt " /proc/mounts | grep -q "[ ,]ro[ ,]" || fail "not mounted ro"
"$VDK" umount "$T/mnt"
ok "default mount is read-only"

# rw on ext4, xfs and ntfs: write, unmount, mount again, read back.
for n in 1 2 6; do
  "$VDK" mount -w "$T/disk.vmdk" "$n" "$T/mnt"
  cp "$T/written.bin" "$T/mnt/written.bin"
  mkdir "$T/mnt/newdir"
  echo "volume $n" > "$T/mnt/newdir/note.txt"
  "$VDK" umount "$T/mnt"
  assert_nothing_left "rw $n"
  "$VDK" mount "$T/disk.vmdk" "$n" "$T/mnt"
  cmp "$T/written.bin" "$T/mnt/written.bin" || fail "volume $n: written file differs"
  [ "$(cat "$T/mnt/newdir/note.txt")" = "volume $n" ] || fail "volume $n: note"
  check_files "$T/mnt" "rw volume $n"
  "$VDK" umount "$T/mnt"
  ok "volume $n: rw mount wrote a file that a second mount reads back"
done
qemu-img check -q "$T/disk.vmdk" || fail "qemu-img check after rw"
ok "qemu-img check is clean after rw mounts"

# --redo: the base stays byte-identical; the child holds the write.
sum_before=$(sha256sum < "$T/disk.vmdk")
"$VDK" mount --redo "$T/redo.vmdk" "$T/disk.vmdk" 1 "$T/mnt"
[ -f "$T/redo.vmdk" ] || fail "--redo did not create the child"
echo "through the redo log" > "$T/mnt/redo.txt"
"$VDK" umount "$T/mnt"
[ "$(sha256sum < "$T/disk.vmdk")" = "$sum_before" ] || fail "--redo changed the base"
"$VDK" mount "$T/redo.vmdk" 1 "$T/mnt"
[ "$(cat "$T/mnt/redo.txt")" = "through the redo log" ] || fail "child lacks the write"
check_files "$T/mnt" "redo child"
"$VDK" umount "$T/mnt"
"$VDK" mount "$T/disk.vmdk" 1 "$T/mnt"
[ ! -e "$T/mnt/redo.txt" ] || fail "the base shows the redo write"
"$VDK" umount "$T/mnt"
qemu-img compare -q "$T/disk.vmdk" "$T/disk.img" && fail "compare expected a difference (rw writes)" || true
qemu-img info "$T/redo.vmdk" | grep -q "backing file" || fail "qemu-img sees no parent in the child"
ok "--redo: base sha256 unchanged, write visible through the child"

# --discard (at mount time) removes the child at umount.
"$VDK" mount --redo "$T/redo2.vmdk" --discard "$T/disk.vmdk" 1 "$T/mnt"
echo x > "$T/mnt/x.txt"
"$VDK" umount "$T/mnt"
[ ! -e "$T/redo2.vmdk" ] || fail "--discard kept the child"
[ "$(sha256sum < "$T/disk.vmdk")" = "$sum_before" ] || fail "--discard changed the base"
# ... and at umount time.
"$VDK" mount --redo "$T/redo3.vmdk" "$T/disk.vmdk" 1 "$T/mnt"
"$VDK" umount --discard "$T/mnt"
[ ! -e "$T/redo3.vmdk" ] || fail "umount --discard kept the child"
assert_nothing_left "discard"
ok "--discard at mount and at umount removes the child"

# A file system on the whole disk (no partition table): volume "disk".
make_fs ext4 "$T/whole.img" 48M WHOLE
to_vmdk "$T/whole.img" "$T/whole.vmdk"
"$VDK" volumes "$T/whole.vmdk" | grep -q "^disk .*ext4" || { "$VDK" volumes "$T/whole.vmdk"; fail "whole-disk volume not listed"; }
"$VDK" mount -w "$T/whole.vmdk" disk "$T/mnt"
check_files "$T/mnt" "whole-disk ext4"
cp "$T/written.bin" "$T/mnt/w.bin"
"$VDK" umount "$T/mnt"
"$VDK" mount "$T/whole.vmdk" disk "$T/mnt"
cmp "$T/written.bin" "$T/mnt/w.bin" || fail "whole-disk rw write lost"
"$VDK" umount "$T/mnt"
assert_nothing_left "whole disk"
ok "file system on the whole disk: mounted rw, write read back"

# Writes into a child qemu-img made land in the child, and qemu-img reads
# them back: convert the child to raw and loop-mount that with the kernel.
qemu-img create -q -f vmdk -b "$T/disk.vmdk" -F vmdk "$T/qchild.vmdk"
sum_base=$(sha256sum < "$T/disk.vmdk")
"$VDK" mount -w "$T/qchild.vmdk" 1 "$T/mnt"
cp "$T/written.bin" "$T/mnt/q.bin"
"$VDK" umount "$T/mnt"
[ "$(sha256sum < "$T/disk.vmdk")" = "$sum_base" ] || fail "write into the child changed its parent"
qemu-img check -q "$T/qchild.vmdk" || fail "qemu-img check of the child"
qemu-img convert -f vmdk -O raw "$T/qchild.vmdk" "$T/qchild.raw"
start=$(part_field "$T/disk.img" 1 start)
size=$(part_field "$T/disk.img" 1 size)
mkdir -p "$T/kmnt"
mount -o loop,ro,noload,offset="$start",sizelimit="$size" "$T/qchild.raw" "$T/kmnt"
r=0; cmp "$T/written.bin" "$T/kmnt/q.bin" || r=$?
umount "$T/kmnt"
[ $r = 0 ] || fail "qemu-img does not see the write in the child"
assert_nothing_left "qemu child"
ok "rw mount of a qemu-img child: parent unchanged, qemu-img reads the write"
