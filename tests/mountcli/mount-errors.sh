#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Failures say what is wrong and how to fix it, and leave nothing behind:
# missing mount point, unknown volume, container volume, unsupported or
# wrong file system type, not root, and (through VDK_TEST_SYSROOT, which
# points the checks at look-alike /dev and /proc) no /dev/fuse, fuse
# module not loaded, no loop devices.
source "$(dirname "$0")/../lib.sh"
set -e
require_mount_env
require sfdisk mkfs.ext4 mkfs.xfs mkfs.vfat mcopy mkntfs ntfs-3g qemu-img setpriv

make_files
make_mbr_disk "$T/disk.img"
to_vmdk "$T/disk.img" "$T/disk.vmdk"
mkdir -p "$T/mnt"

# expect_error WHAT PATTERN vdk-args...: fails with PATTERN in stderr,
# exit status 1, and nothing left behind.
expect_error () {
  local what=$1 pattern=$2 rc=0
  shift 2
  vdk "$@" > "$T/out" 2> "$T/err" || rc=$?
  [ "$rc" = 1 ] || { cat "$T/err"; die "$what: exit status $rc, not 1"; }
  grep -q -- "$pattern" "$T/err" || { cat "$T/err"; die "$what: message lacks '$pattern'"; }
  [ "$(wc -l < "$T/err")" -ge 1 ] || die "$what: no message"
  ! grep -q 'vdk_[a-z_]*:' "$T/err" || { cat "$T/err"; die "$what: names a library call"; }
  assert_nothing_left "$what"
  pass "$what: $(head -n1 "$T/err")"
}

expect_error "missing mount point" "mkdir -p $T/nowhere" \
  mount "$T/disk.vmdk" 1 "$T/nowhere"
touch "$T/afile"
expect_error "mount point is a file" "is not a directory" \
  mount "$T/disk.vmdk" 1 "$T/afile"
expect_error "unknown volume number" 'no volume "9"' \
  mount "$T/disk.vmdk" 9 "$T/mnt"
expect_error "unknown volume name" 'no volume "vg0/root"' \
  mount "$T/disk.vmdk" vg0/root "$T/mnt"
expect_error "extended partition" "container" \
  mount "$T/disk.vmdk" 3 "$T/mnt"
expect_error "unknown file system type" "does not support nosuchfs" \
  mount -t nosuchfs "$T/disk.vmdk" 1 "$T/mnt"
expect_error "missing disk" "nothere.vmdk" \
  mount "$T/nothere.vmdk" 1 "$T/mnt"
expect_error "read-only with --redo" "conflicts" \
  mount -r --redo "$T/r.vmdk" "$T/disk.vmdk" 1 "$T/mnt"
expect_error "umount of a folder vdk did not mount" "not mounted by vdk" \
  umount "$T/mnt"

# Failure after the daemon and the loop device exist: mount(2) refuses
# xfs on an ext4 volume.  Everything must be undone in reverse.
expect_error "wrong -t (mount(2) fails)" "wrong file system type" \
  mount -t xfs "$T/disk.vmdk" 1 "$T/mnt"
pgrep -f "$VDK_RUN_DIR" >/dev/null && die "a mount process survived the failure"
# ... and with --redo the new child is removed again.
expect_error "--redo with a failing mount" "wrong file system type" \
  mount -t xfs --redo "$T/redo.vmdk" "$T/disk.vmdk" 1 "$T/mnt"
[ ! -e "$T/redo.vmdk" ] || die "failed --redo mount left the child"
pass "failed --redo mount removed its child"

# Not root.
chmod 755 "$T"
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups \
  "$VDK" mount "$T/disk.vmdk" 1 "$T/mnt" 2> "$T/err" || rc=$?
[ "$rc" = 1 ] && grep -q "needs root" "$T/err" || { cat "$T/err"; die "not root"; }
assert_nothing_left "not root"
pass "not root: $(cat "$T/err")"

# The machine lacks FUSE or loop devices: look-alike /dev and /proc.
S=$T/sysroot
mkdir -p "$S/dev" "$S/proc"
grep -v -w fuse /proc/filesystems > "$S/proc/filesystems"
export VDK_TEST_SYSROOT=$S
expect_error "no /dev/fuse, no fuse module" "modprobe fuse" \
  mount "$T/disk.vmdk" 1 "$T/mnt"
mknod "$S/dev/fuse" c 1 3   # stands in for /dev/fuse: opens fine
expect_error "fuse module not loaded" "fuse module is not loaded" \
  mount "$T/disk.vmdk" 1 "$T/mnt"
cp /proc/filesystems "$S/proc/filesystems"
rm "$S/dev/fuse"
expect_error "/dev/fuse missing, module loaded" "mknod -m 0666 /dev/fuse" \
  mount "$T/disk.vmdk" 1 "$T/mnt"
mknod "$S/dev/fuse" c 1 3
expect_error "no loop devices" "modprobe loop" \
  mount "$T/disk.vmdk" 1 "$T/mnt"
mknod "$S/dev/loop-control" c 10 237
grep -v -w ext4 /proc/filesystems > "$S/proc/filesystems"
expect_error "file system not in the kernel" "modprobe ext4" \
  mount "$T/disk.vmdk" 1 "$T/mnt"
unset VDK_TEST_SYSROOT

# And after all that, a normal mount still works.
vdk mount "$T/disk.vmdk" 1 "$T/mnt"
check_files "$T/mnt" "after the errors"
vdk umount "$T/mnt"
assert_nothing_left "final"
pass "a normal mount works after the failures"
finish
