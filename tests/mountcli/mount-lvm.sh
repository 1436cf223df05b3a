#!/bin/bash
# LVM2 logical volumes, made by lvm2 on loop devices with activation
# disabled (this kernel has no device-mapper): a linear LV whose ext4
# file system is placed with dd at the PV offset lvm2 reports, and a
# striped LV over two PVs filled through vdk's own writable volume file.
# Both PVs are then converted to VMDK; `vdk mount PV1 PV2 vg/lv DIR`
# must show the known files for each LV, and vg/lin also from raw PVs.
. "$(dirname "$0")/common.sh"
require_mount_env
require_tools pvcreate vgcreate lvcreate pvs lvs mkfs.ext4 qemu-img losetup
export LVM_SUPPRESS_FD_WARNINGS=1
CONF='global { activation = 0 } devices { use_devicesfile = 0 }'
VG=vdkmnt$$
lvm_q () { "$@" --config "$CONF" 2>/dev/null; }
L1= L2=
cleanup_lvm () {
  [ -n "$L1" ] && losetup -d "$L1" 2>/dev/null
  [ -n "$L2" ] && losetup -d "$L2" 2>/dev/null
  rm -rf /etc/lvm/backup/"$VG" /etc/lvm/archive/"$VG"_*
  cleanup
}
trap cleanup_lvm EXIT

make_files
cd "$T"
truncate -s 96M pv1.img pv2.img
L1=$(losetup -f --show pv1.img) && L2=$(losetup -f --show pv2.img) || skip "losetup failed"
lvm_q pvcreate -ff -y "$L1" "$L2" >/dev/null || skip "pvcreate failed"
lvm_q vgcreate -s 4M "$VG" "$L1" "$L2" >/dev/null || skip "vgcreate failed"
lvm_q lvcreate -an -Zn -L 32M -n lin "$VG" "$L1" >/dev/null &&
  lvm_q lvcreate -an -Zn -i2 -I64k -L 32M -n str "$VG" >/dev/null ||
  skip "lvcreate failed"
pe_start=$(lvm_q pvs --noheadings --units b --nosuffix -o pe_start "$L1" | tr -d ' ')
first_pe=$(lvm_q lvs --noheadings -o seg_pe_ranges "$VG/lin" | sed 's/.*:\([0-9]*\)-.*/\1/')
losetup -d "$L1"; losetup -d "$L2"; L1= L2=

# Linear: ext4 at pe_start + first_pe * 4 MiB, as lvm2 says.
make_fs ext4 "$T/lin.img" 32M LINEAR
dd if="$T/lin.img" of=pv1.img bs=1M conv=notrunc,sparse oflag=seek_bytes \
  seek=$((pe_start + first_pe * 4194304)) status=none
ok "lvm2 made $VG/lin (PE start $pe_start, first PE $first_pe) and $VG/str"

# Striped: through vdk's writable volume file.
make_fs ext4 "$T/str.img" 32M STRIPED
mkdir -p flat mnt
"$VDK" mount -w --flat pv1.img pv2.img flat
[ -f "flat/$VG-str" ] || { ls flat; fail "no volume file $VG-str"; }
dd if="$T/str.img" of="flat/$VG-str" bs=1M conv=notrunc status=none
"$VDK" umount flat
assert_nothing_left "flat -w"

"$VDK" mount pv1.img pv2.img "$VG/lin" mnt
check_files mnt "raw PVs $VG/lin"
"$VDK" umount mnt
ok "$VG/lin mounted from the raw PVs"

to_vmdk pv1.img pv1.vmdk
to_vmdk pv2.img pv2.vmdk twoGbMaxExtentSparse
for lv in lin str; do
  "$VDK" mount pv1.vmdk pv2.vmdk "$VG/$lv" mnt
  check_files mnt "VMDK PVs $VG/$lv"
  grep -q " $T/mnt ext4 " /proc/mounts || fail "$lv not ext4"
  "$VDK" umount mnt
  assert_nothing_left "$VG/$lv"
  ok "$VG/$lv mounted from a two-VMDK set"
done
# One PV missing: the striped LV cannot be mounted, with a message.
if "$VDK" mount pv1.vmdk "$VG/str" mnt 2> err; then fail "striped LV mounted with a PV missing"; fi
grep -qi "str" err || { cat err; fail "message for the missing PV"; }
assert_nothing_left "missing PV"
ok "striped LV with a PV missing refused: $(cat err)"
