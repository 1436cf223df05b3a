#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Mounting from a program: mount-lib (public headers only) mounts the
# ext4 volume of an MBR disk read-only with vdk_mount_volume, reads a
# file through the returned path, unmounts; then read-write on a folder
# of its own.  Nothing may be left behind, and qemu-img check is clean.
source "$(dirname "$0")/../lib.sh"
set -e
require_mount_env
require sfdisk mkfs.ext4 qemu-img
: "${MOUNT_LIB:?MOUNT_LIB must point at the mount-lib test program}"

make_files
truncate -s 64M "$T/disk.img"
printf 'label: dos\n,40M,L\n' | sfdisk -q "$T/disk.img" >/dev/null
put_fs "$T/disk.img" 1 ext4 LIBVOL
to_vmdk "$T/disk.img" "$T/disk.vmdk"

mkdir -p "$T/mnt"
"$MOUNT_LIB" "$T/disk.vmdk" hello.txt "hello from vdk" "$T/mnt" ||
  die "mount-lib reported failures"
assert_nothing_left "mount-lib"
qemu-img check -q "$T/disk.vmdk" || die "qemu-img check after the rw mount"
pass "mounted, read and unmounted from a C program; nothing left"
finish
