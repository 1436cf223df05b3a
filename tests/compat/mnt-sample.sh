#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The VixMntapi sample (mnt-sample.c) on a disk with an ext4 partition:
# volumes listed, a read-only mount read through the returned path, a
# read-write mount through borrowed handles.  Nothing may be left behind
# (mounts, loop devices, state) and qemu-img check is clean afterwards.
source "$(dirname "$0")/../lib.sh"
set -e
require_mount_env
require sfdisk mkfs.ext4 qemu-img
: "${MNT_SAMPLE:?MNT_SAMPLE must point at the mnt-sample program}"

make_files
truncate -s 64M "$T/disk.img"
printf 'label: dos\n,40M,L\n' | sfdisk -q "$T/disk.img" >/dev/null
put_fs "$T/disk.img" 1 ext4 VIXVOL
to_vmdk "$T/disk.img" "$T/disk.vmdk"

if "$MNT_SAMPLE" "$T/disk.vmdk" hello.txt "hello from vdk" > "$T/tap"; then
  pass "mnt-sample: every check passed"
else
  fail "mnt-sample reported failures"
fi
sed 's/^/    | /' "$T/tap" | grep -v '| ok' || true
assert_nothing_left "mnt-sample"
check "qemu-img check after the read-write mount" \
  qemu-img check -q "$T/disk.vmdk"
finish
