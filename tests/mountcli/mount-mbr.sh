#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdk mount of every volume of an MBR disk (primaries + logicals; ext4,
# xfs, vfat, ntfs) as raw, monolithicSparse, twoGbMaxExtentSparse,
# streamOptimized VMDK and a qemu-img child chain: the known files must
# read back byte for byte, and umount must leave nothing behind.
source "$(dirname "$0")/../lib.sh"
set -e
require_mount_env
require sfdisk mkfs.ext4 mkfs.xfs mkfs.vfat mcopy mkntfs ntfs-3g qemu-img python3 blkid

make_files
make_mbr_disk "$T/disk.img"
to_vmdk "$T/disk.img" "$T/sparse.vmdk"
to_vmdk "$T/disk.img" "$T/split.vmdk" twoGbMaxExtentSparse
to_vmdk "$T/disk.img" "$T/stream.vmdk" streamOptimized
qemu-img create -q -f vmdk -b "$T/sparse.vmdk" -F vmdk "$T/child.vmdk"
mkdir -p "$T/mnt"

# The volume list, against sfdisk and blkid of the raw image.
vdk volumes --json "$T/disk.img" > "$T/vols.json"
for n in 1 2 5 6; do
  python3 - "$T/vols.json" "$n" "$(part_field "$T/disk.img" $n start)" \
    "$(part_field "$T/disk.img" $n size)" <<'PY' || die "volume $n listed wrongly"
import json, sys
vols = {v["name"]: v for v in json.load(open(sys.argv[1]))["volumes"]}
v = vols[sys.argv[2]]
assert v["start"] == int(sys.argv[3]), (v["start"], sys.argv[3])
assert v["size"] == int(sys.argv[4]), (v["size"], sys.argv[4])
PY
done
pass "volumes: starts and sizes match sfdisk"

fs_of () { python3 -c 'import json,sys; print({v["name"]: v["fs_type"] for v in json.load(open(sys.argv[1]))["volumes"]}[sys.argv[2]])' "$T/vols.json" "$1"; }
[ "$(fs_of 1)" = ext4 ] && [ "$(fs_of 2)" = xfs ] && [ "$(fs_of 5)" = vfat ] &&
  [ "$(fs_of 6)" = ntfs ] || die "file system types wrong"
for n in 1 2 5 6; do
  start=$(part_field "$T/disk.img" $n start)
  size=$(part_field "$T/disk.img" $n size)
  label=$(blkid -p -o value -s LABEL -O "$start" -S "$size" "$T/disk.img")
  uuid=$(blkid -p -o value -s UUID -O "$start" -S "$size" "$T/disk.img")
  python3 - "$T/vols.json" "$n" "$label" "$uuid" <<'PY' || die "volume $n: label/uuid differ from blkid"
import json, sys
v = {v["name"]: v for v in json.load(open(sys.argv[1]))["volumes"]}[sys.argv[2]]
assert (v["fs_label"] or "") == sys.argv[3], (v["fs_label"], sys.argv[3])
assert (v["fs_uuid"] or "") == sys.argv[4], (v["fs_uuid"], sys.argv[4])
PY
done
pass "volumes: file system types ext4 xfs vfat ntfs; labels and UUIDs as blkid"

# The table: header, and one row per volume with kind, start, fs, label.
vdk volumes "$T/sparse.vmdk" > "$T/table"
head -n1 "$T/table" | grep -q "^VOLUME *KIND .*START .*SIZE .*TYPE .*FS .*LABEL" ||
  { cat "$T/table"; die "table header"; }
for row in "1 *mbr .* $(part_field "$T/disk.img" 1 start) .* ext4 *EXT4VOL" \
           "2 *mbr .* xfs *XFSVOL" "3 *mbr .*(container)" "5 *mbr .* vfat *FATVOL" \
           "6 *mbr .* ntfs *NTFSVOL"; do
  grep -q "^$row" "$T/table" || { cat "$T/table"; die "table row /$row/"; }
done
pass "volumes: table lists 1 2 3 5 6 with kind, start, fs and label"

mounted_vols="1 2 6"
if kernel_has_fs vfat; then mounted_vols="$mounted_vols 5"; fi

for img in disk.img sparse.vmdk split.vmdk stream.vmdk child.vmdk; do
  if ! vdk_reads "$T/$img"; then
    echo "# $img: the library does not read it (yet); skipped"
    continue
  fi
  for n in $mounted_vols; do
    vdk mount "$T/$img" "$n" "$T/mnt" || die "$img: mount of $n failed"
    check_files "$T/mnt" "$img volume $n"
    grep -q " $T/mnt " /proc/mounts || die "$img $n: not in /proc/mounts"
    vdk umount "$T/mnt" || die "$img: umount of $n failed"
    assert_nothing_left "$img volume $n"
    pass "$img: volume $n mounted, files equal, nothing left after umount"
  done
done

# vfat without kernel support: the error names it, nothing is left; the
# volume file is still readable with mtools.
if ! kernel_has_fs vfat; then
  if vdk mount "$T/disk.img" 5 "$T/mnt" 2> "$T/err"; then
    die "vfat mount succeeded without vfat in /proc/filesystems"
  fi
  grep -q "does not support vfat" "$T/err" || { cat "$T/err"; die "vfat message"; }
  assert_nothing_left "vfat refused"
  pass "vfat refused with: $(cat "$T/err")"
fi
mkdir -p "$T/flat"
vdk mount --flat "$T/sparse.vmdk" "$T/flat"
mcopy -n -i "$T/flat/vol5" ::/data.bin "$T/fat-data.bin"
cmp "$T/files/data.bin" "$T/fat-data.bin" || die "vfat via mtools"
vdk umount "$T/flat"
assert_nothing_left "flat"
pass "vfat volume file read with mtools"
finish
