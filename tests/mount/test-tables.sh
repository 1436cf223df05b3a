#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# MBR (primaries, extended, logicals) and GPT disks made with sfdisk and
# sgdisk, each partition formatted with mkfs.ext4 / mkfs.xfs / mkfs.vfat /
# mkntfs / mkswap through a loop device: the volume list must match
# `sfdisk --json` (number, start, size, type, GPT GUID and name) and
# `blkid -p` on each partition's byte range (TYPE, LABEL, UUID).  The same
# listing must come back from VMDK copies made by qemu-img (sparse and
# twoGbMaxExtentSparse) when vdk opens them.
source "$(dirname "$0")/../lib.sh"
VOL_DUMP=${VOL_DUMP:?VOL_DUMP must name the vol-dump program}
require sfdisk sgdisk jq blkid mkfs.ext4 mkfs.xfs mkfs.vfat mkntfs mkswap losetup
require_loop

# mkfs on the byte range of partition N (from sfdisk --json).
format () {
  local img=$1 n=$2 start size dev
  shift 2
  start=$(sfdisk --json "$img" | jq ".partitiontable.partitions[] |
          select(.node | test(\"[^0-9]$n\$\")) | .start")
  size=$(sfdisk --json "$img" | jq ".partitiontable.partitions[] |
          select(.node | test(\"[^0-9]$n\$\")) | .size")
  loop_attach "$img" $((start * 512)) $((size * 512)) || return 1
  dev=$LOOP
  "$@" "$dev" >/dev/null 2>&1 || { echo "mkfs failed: $*"; return 1; }
  loop_detach "$dev"
}

make_mbr () {
  local img=$T/mbr.img
  truncate -s 1G "$img"
  printf 'label: dos\nlabel-id: 0x5eed1234\n,64M,L\n,64M,c\n,,Ex\n,320M,L\n,64M,7\n,32M,S\n' |
    sfdisk -q "$img" || return 1
  format "$img" 1 mkfs.ext4 -q -F -L mbr-ext4 &&
  format "$img" 2 mkfs.vfat -F 32 -n MBRFAT &&
  format "$img" 5 mkfs.xfs -f -L mbrxfs &&
  format "$img" 6 mkntfs -q -F -Q -L mbr-ntfs &&
  format "$img" 7 mkswap -L mbrswap
}

make_gpt () {
  local img=$T/gpt.img
  truncate -s 1G "$img"
  sgdisk -o -n 1:2048:+64M -t 1:ef00 -c 1:ESP -n 2:0:+64M -t 2:8300 \
    -c 2:root -n 3:0:+64M -t 3:0700 -c 3:data -n 4:0:+320M -t 4:8300 \
    -c 4:xfs -n 5:0:+16M -t 5:8e00 -c 5:empty "$img" >/dev/null || return 1
  format "$img" 1 mkfs.vfat -F 16 -n ESPLABEL &&
  format "$img" 2 mkfs.ext4 -q -F -L gpt-ext4 &&
  format "$img" 3 mkntfs -q -F -Q -L gpt-ntfs &&
  format "$img" 4 mkfs.xfs -f -L gptxfs || return 1
  # exFAT and btrfs when their tools are installed (optional peers).
  if command -v mkfs.exfat >/dev/null; then
    sgdisk -n 6:0:+64M -t 6:0700 -c 6:exfat "$img" >/dev/null &&
      format "$img" 6 mkfs.exfat -L GPTEXFAT || return 1
  fi
  if command -v mkfs.btrfs >/dev/null; then
    sgdisk -n 7:0:+160M -t 7:8300 -c 7:btrfs "$img" >/dev/null &&
      format "$img" 7 mkfs.btrfs -f -L gpt-btrfs || return 1
  fi
}

# Compare vol-dump's listing of IMG with sfdisk and blkid.
check_image () {
  local img=$1 list=$T/list.txt label n start size type want
  "$VOL_DUMP" -l "$img" >"$list" || { fail "vol-dump $img failed"; return; }
  label=$(sfdisk --json "$img" | jq -r .partitiontable.label)
  check_eq "$img table" "$([ "$label" = dos ] && echo mbr || echo gpt)" \
    "$(awk -F'\t' '$1=="D"{print $5}' "$list")"
  check_eq "$img volume count" "$(sfdisk --json "$img" | jq '.partitiontable.partitions | length')" \
    "$(grep -c '^V' "$list")"
  while read -r n start size type uuid name; do
    check_eq "$img $n start" $((start * 512)) "$(vfield "$list" "$n" 6)"
    check_eq "$img $n size" $((size * 512)) "$(vfield "$list" "$n" 7)"
    if [ "$label" = dos ]; then
      want=$(printf '0x%02x' "0x$type")
      check_eq "$img $n uuid" "$(sfdisk --json "$img" | jq -r .partitiontable.id | sed 's/^0x//')-$(printf '%016X' $((start * 512)))" \
        "$(vfield "$list" "$n" 12)"
    else
      want=$type
      check_eq "$img $n GUID" "$uuid" "$(vfield "$list" "$n" 12)"
      check_eq "$img $n name" "$name" "$(vfield "$list" "$n" 21)"
    fi
    check_eq "$img $n type" "$want" "$(vfield "$list" "$n" 8)"
    case $type in 5|f|85) continue ;; esac   # extended: no file system
    blkid_range "$img" $((start * 512)) $((size * 512))
    check_eq "$img $n fs type" "$B_TYPE" "$(vfield "$list" "$n" 9)"
    check_eq "$img $n fs label" "$B_LABEL" "$(vfield "$list" "$n" 10)"
    check_eq "$img $n fs uuid" "$B_UUID" "$(vfield "$list" "$n" 11)"
  done < <(sfdisk --json "$img" | jq -r '.partitiontable.partitions[] |
    "\(.node | capture("(?<n>[0-9]+)$").n) \(.start) \(.size) \(.type)
     \(.uuid // "-") \(.name // "-")"' | paste -d' ' - -)
}

# A VMDK copy must list exactly like the raw image (disk names aside).
check_vmdk () {
  local img=$1 sub=$2 vmdk=$T/conv-$sub.vmdk
  command -v qemu-img >/dev/null || { echo "no qemu-img: VMDK skipped"; return; }
  qemu-img convert -f raw -O vmdk -o subformat="$sub" "$img" "$vmdk" ||
    { fail "qemu-img convert $sub"; return; }
  if ! "$VOL_DUMP" "$vmdk" >"$T/vmdk.txt" 2>"$T/vmdk.err"; then
    fail "vol-dump $sub VMDK: $(cat "$T/vmdk.err")"
    return
  fi
  "$VOL_DUMP" "$img" >"$T/raw.txt"
  if cmp -s "$T/raw.txt" "$T/vmdk.txt"; then pass
  else fail "$sub VMDK listing differs from raw:"; diff "$T/raw.txt" "$T/vmdk.txt"
  fi
  rm -f "$T"/conv-*
}

make_mbr || skip "could not build the MBR fixture"
make_gpt || skip "could not build the GPT fixture"
check_image "$T/mbr.img"
check_image "$T/gpt.img"
# A hybrid MBR (sgdisk -h) is reported; the GPT still decides.
cp "$T/gpt.img" "$T/hybrid.img"
if sgdisk -h 2:3 "$T/hybrid.img" >/dev/null 2>&1; then
  "$VOL_DUMP" -l "$T/hybrid.img" >"$T/hybrid.txt"
  check_eq "hybrid MBR flag" 1 "$(awk -F'\t' '$1=="D"{print $7}' "$T/hybrid.txt")"
  "$VOL_DUMP" "$T/gpt.img" >"$T/gptlist.txt"
  if diff -q <(grep '^V' "$T/hybrid.txt") "$T/gptlist.txt" >/dev/null; then pass
  else fail "hybrid MBR changed the GPT listing"; fi
fi
# Logical partitions name their extended partition.
check_eq "logical 5 parent" 3 "$("$VOL_DUMP" "$T/mbr.img" | awk -F'\t' '$2=="5"{print $14}')"
# A bare file system without a partition table is the volume "disk".
truncate -s 64M "$T/bare.img"
mkfs.ext4 -q -F -L bare-ext4 "$T/bare.img"
"$VOL_DUMP" "$T/bare.img" >"$T/bare.txt"
blkid_range "$T/bare.img" 0 $((64 * 1048576))
check_eq "bare disk volume" disk "$(vfield "$T/bare.txt" disk 3)"
check_eq "bare disk fs" "$B_TYPE" "$(vfield "$T/bare.txt" disk 9)"
check_eq "bare disk label" "$B_LABEL" "$(vfield "$T/bare.txt" disk 10)"
# A blank disk has no volumes at all.
truncate -s 1M "$T/blank.img"
check_eq "blank disk" 0 "$("$VOL_DUMP" "$T/blank.img" | grep -c '^V')"

for sub in monolithicSparse twoGbMaxExtentSparse streamOptimized; do
  check_vmdk "$T/mbr.img" $sub
  check_vmdk "$T/gpt.img" $sub
done

# A child chain made by qemu: the empty child lists like its base; after
# qemu-io zeroes partition 1's first MiB in the child, the child loses
# that file system and the base keeps it.
if command -v qemu-img >/dev/null && command -v qemu-io >/dev/null; then
  qemu-img convert -f raw -O vmdk "$T/mbr.img" "$T/base.vmdk"
  qemu-img create -q -f vmdk -b base.vmdk -F vmdk "$T/child.vmdk"
  "$VOL_DUMP" "$T/base.vmdk" | cut -f2- >"$T/base.txt"
  "$VOL_DUMP" "$T/child.vmdk" | cut -f2- >"$T/child.txt"
  cmp -s "$T/base.txt" "$T/child.txt" && pass || fail "empty child lists differently"
  p1=$(vfield <("$VOL_DUMP" -n "$T/mbr.img") 1 6)
  qemu-io -f vmdk -c "write -z $p1 1M" "$T/child.vmdk" >/dev/null
  "$VOL_DUMP" "$T/child.vmdk" >"$T/child.txt"
  "$VOL_DUMP" "$T/base.vmdk" >"$T/base.txt"
  check_eq "child: partition 1 lost its fs" - "$(vfield "$T/child.txt" 1 9)"
  blkid_range "$T/mbr.img" "$p1" $((64 * 1048576))
  check_eq "base keeps it" "$B_TYPE" "$(vfield "$T/base.txt" 1 9)"
  check_eq "child: partition 5 unchanged" "$(vfield "$T/base.txt" 5 10)" \
    "$(vfield "$T/child.txt" 5 10)"
fi
# The volume reader returns the partition's bytes (first MiB of 5).
"$VOL_DUMP" -n "$T/mbr.img" >"$T/list.txt"
p5=$(vfield "$T/list.txt" 5 6)
"$VOL_DUMP" -r 5 -O 0 -L 1048576 "$T/mbr.img" >"$T/p5"
if dd if="$T/mbr.img" bs=1M skip=$((p5 / 1048576)) count=1 status=none |
   cmp -s - "$T/p5"; then pass; else fail "partition 5 bytes differ"; fi
finish
