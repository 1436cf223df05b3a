#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# LVM2 logical volumes, made by lvm2 on loop devices with activation
# disabled (this kernel has no device-mapper): a linear LV whose ext4
# file system is placed with dd at the PV offset lvm2 reports, and a
# striped LV over two PVs filled through vdk's own writable volume file.
# Both PVs are then converted to VMDK; `vdk mount PV1 PV2 vg/lv DIR`
# must show the known files for each LV, and vg/lin also from raw PVs.
source "$(dirname "$0")/../lib.sh"
set -e
require_mount_env
require pvcreate vgcreate lvcreate pvs lvs mkfs.ext4 qemu-img losetup
VG=vdkmnt$$

make_files
cd "$T"
lvm_vg "$VG" 96M pv1.img pv2.img
L1=${PVS[0]} L2=${PVS[1]}
lvm_q lvcreate -an -Zn -L 32M -n lin "$VG" "$L1" >/dev/null &&
  lvm_q lvcreate -an -Zn -i2 -I64k -L 32M -n str "$VG" >/dev/null ||
  skip "lvcreate failed"
pe_start=$(lvm_q pvs --noheadings --units b --nosuffix -o pe_start "$L1" | tr -d ' ')
first_pe=$(lvm_q lvs --noheadings -o seg_pe_ranges "$VG/lin" | sed 's/.*:\([0-9]*\)-.*/\1/')
loop_detach "$L1"; loop_detach "$L2"

# Linear: ext4 at pe_start + first_pe * 4 MiB, as lvm2 says.
make_fs ext4 "$T/lin.img" 32M LINEAR
dd if="$T/lin.img" of=pv1.img bs=1M conv=notrunc,sparse oflag=seek_bytes \
  seek=$((pe_start + first_pe * 4194304)) status=none
pass "lvm2 made $VG/lin (PE start $pe_start, first PE $first_pe) and $VG/str"

# Striped: through vdk's writable volume file.
make_fs ext4 "$T/str.img" 32M STRIPED
mkdir -p flat mnt
vdk mount -w --flat pv1.img pv2.img flat
[ -f "flat/$VG-str" ] || { ls flat; die "no volume file $VG-str"; }
dd if="$T/str.img" of="flat/$VG-str" bs=1M conv=notrunc status=none
vdk umount flat
assert_nothing_left "flat -w"

vdk mount pv1.img pv2.img "$VG/lin" mnt
check_files mnt "raw PVs $VG/lin"
vdk umount mnt
pass "$VG/lin mounted from the raw PVs"

to_vmdk pv1.img pv1.vmdk
to_vmdk pv2.img pv2.vmdk twoGbMaxExtentSparse
for lv in lin str; do
  vdk mount pv1.vmdk pv2.vmdk "$VG/$lv" mnt
  check_files mnt "VMDK PVs $VG/$lv"
  grep -q " $T/mnt ext4 " /proc/mounts || die "$lv not ext4"
  vdk umount mnt
  assert_nothing_left "$VG/$lv"
  pass "$VG/$lv mounted from a two-VMDK set"
done
# One PV missing: the striped LV cannot be mounted, with a message.
if vdk mount pv1.vmdk "$VG/str" mnt 2> err; then die "striped LV mounted with a PV missing"; fi
grep -qi "str" err || { cat err; die "message for the missing PV"; }
assert_nothing_left "missing PV"
pass "striped LV with a PV missing refused: $(cat err)"
finish
