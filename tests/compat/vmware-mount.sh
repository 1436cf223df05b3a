#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vmware-mount's documented command lines run unchanged against
# vdk-mount (installed here under VMware's name): -p in vmware-mount's
# columns, a read-write mount by default, -r, -o, -l, -L, -d, flat mode
# (-f, MOUNTPOINT/flat), -k and -x; then the documented shrink workflow
# with vmware-vdiskmanager: mount, -p, -d, -k gives the space back.
source "$(dirname "$0")/../lib.sh"
set -e
require_mount_env
require sfdisk mkfs.ext4 qemu-img
: "${VMOUNT:?VMOUNT must point at vdk-mount}"
: "${VDISKMANAGER:?VDISKMANAGER must point at vdk-vdiskmanager}"

mkdir -p "$T/bin" "$T/m1" "$T/m2" "$T/flat"
ln -s "$VMOUNT" "$T/bin/vmware-mount"
ln -s "$VDISKMANAGER" "$T/bin/vmware-vdiskmanager"
export PATH="$T/bin:$PATH"
cd "$T"

make_files
truncate -s 128M disk.img
printf 'label: dos\n,40M,L\n,40M,L\n' | sfdisk -q disk.img >/dev/null
put_fs disk.img 1 ext4 ONE
put_fs disk.img 2 ext4 TWO
to_vmdk disk.img disk.vmdk

vmware-mount -p disk.vmdk > parts.txt
check "-p header in vmware-mount's columns" \
  grep -q '^Nr      Start       Size Type Id Sytem' parts.txt
check "-p lists partition 1" grep -Eq '^ 1 +2048 +81920 BIOS 83 Linux' parts.txt
check "-p lists partition 2" grep -Eq '^ 2 +83968 +81920 BIOS 83 Linux' parts.txt

# diskPath partNum mountPoint: read-write by default.  The disk is then
# the mount's alone: a second mount of it is refused, saying why.
vmware-mount disk.vmdk 1 m1
check_files m1 "partition 1 mounted"
check "read-write by default" sh -c 'echo written > m1/new.txt && sync'
check "-l lists the mount" sh -c "vmware-mount -l disk.vmdk | grep -q '$T/m1'"
rc=0; vmware-mount -r disk.vmdk 2 m2 2> err.txt || rc=$?
check_eq "a second mount of a disk mounted read-write fails" 1 "$rc"
check "saying what to do" grep -q "read-only" err.txt
vmware-mount -d m1
check "-d unmounts" sh -c "! grep -q ' $T/m1 ' /proc/mounts"
assert_nothing_left "-d"
check "qemu-img check after the rw mount" qemu-img check -q disk.vmdk

# Two partitions of one disk at once, read-only.
vmware-mount -r -o noatime disk.vmdk 1 m1
vmware-mount -r disk.vmdk 2 m2
check_files m2 "partition 2 mounted beside partition 1"
check "-r mounts read-only" sh -c '! touch m2/x 2>/dev/null'
check "-o reaches mount(8)" grep -q " $T/m1 .*noatime" /proc/mounts
check "-l lists both mounts" sh -c \
  "vmware-mount -l disk.vmdk | grep -q '$T/m1' && vmware-mount -l disk.vmdk | grep -q '$T/m2'"
check "-L lists the disk" sh -c "vmware-mount -L | grep -q '$T/disk.vmdk'"
vmware-mount -d m2
check "-d unmounts one" sh -c "! grep -q ' $T/m2 ' /proc/mounts"
vmware-mount -k disk.vmdk
check "-k unmounts the rest of the disk" sh -c "! grep -q ' $T/m1 ' /proc/mounts"
assert_nothing_left "-d and -k"

# What the rw mount wrote is there; mount with the default partition.
vmware-mount -r disk.vmdk m1
check_eq "the file written read-write is on the disk" written "$(cat m1/new.txt)"
vmware-mount -x
check "-x unmounts everything" sh -c "! grep -q ' $T/m1 ' /proc/mounts"

# Flat mode.
qemu-img convert -O raw disk.vmdk now.raw
vmware-mount -f disk.vmdk flat
check "-f: MOUNTPOINT/flat is the whole disk" cmp flat/flat now.raw
vmware-mount -d flat
check "-d ends flat mode" test ! -e flat/flat
assert_nothing_left "flat mode"

# The shrink workflow: data written and deleted in the guest, then
# -p zero-fills the free space, and -k gives it back.
vmware-mount disk.vmdk 1 m1
head -c 24M /dev/urandom > m1/big.bin
sync
rm m1/big.bin
sync
before=$(stat -c %s disk.vmdk)
vmware-vdiskmanager -p m1 > out.txt
check "-p says so" grep -q "Shrink preparation completed successfully" out.txt
vmware-mount -d m1
vmware-vdiskmanager -k disk.vmdk > out.txt
after=$(stat -c %s disk.vmdk)
check "mount, -p, -d, -k gave space back ($before -> $after)" \
  test "$after" -lt $((before - 16 * MiB))
check "qemu-img check after the shrink" qemu-img check -q disk.vmdk
vmware-mount -r disk.vmdk 1 m1
check_files m1 "the files survive the shrink"
vmware-mount -d m1
assert_nothing_left "shrink workflow"
finish
