#!/bin/bash
# MBR (primaries, extended, logicals) and GPT disks made with sfdisk and
# sgdisk, each partition formatted with mkfs.ext4 / mkfs.xfs / mkfs.vfat /
# mkntfs / mkswap through a loop device: the volume list must match
# `sfdisk --json` (number, start, size, type, GPT GUID and name) and
# `blkid -p` on each partition's byte range (TYPE, LABEL, UUID).  The same
# listing must come back from VMDK copies made by qemu-img (sparse and
# twoGbMaxExtentSparse) when vdk opens them.
. "$(dirname "$0")/lib.sh"
need sfdisk sgdisk jq blkid mkfs.ext4 mkfs.xfs mkfs.vfat mkntfs mkswap losetup
need_root

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
  local img=$TMP/mbr.img
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
  local img=$TMP/gpt.img
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
  local img=$1 list=$TMP/list.txt label n start size type want
  "$VOL_DUMP" -l "$img" >"$list" || { bad "vol-dump $img failed"; return; }
  label=$(sfdisk --json "$img" | jq -r .partitiontable.label)
  expect_eq "$img table" "$(awk -F'\t' '$1=="D"{print $5}' "$list")" \
    "$([ "$label" = dos ] && echo mbr || echo gpt)"
  expect_eq "$img volume count" "$(grep -c '^V' "$list")" \
    "$(sfdisk --json "$img" | jq '.partitiontable.partitions | length')"
  while read -r n start size type uuid name; do
    expect_eq "$img $n start" "$(vfield "$list" "$n" 6)" $((start * 512))
    expect_eq "$img $n size" "$(vfield "$list" "$n" 7)" $((size * 512))
    if [ "$label" = dos ]; then
      want=$(printf '0x%02x' "0x$type")
      expect_eq "$img $n uuid" "$(vfield "$list" "$n" 12)" \
        "$(sfdisk --json "$img" | jq -r .partitiontable.id | sed 's/^0x//')-$(printf '%016X' $((start * 512)))"
    else
      want=$type
      expect_eq "$img $n GUID" "$(vfield "$list" "$n" 12)" "$uuid"
      expect_eq "$img $n name" "$(vfield "$list" "$n" 21)" "$name"
    fi
    expect_eq "$img $n type" "$(vfield "$list" "$n" 8)" "$want"
    case $type in 5|f|85) continue ;; esac   # extended: no file system
    blkid_range "$img" $((start * 512)) $((size * 512))
    expect_eq "$img $n fs type" "$(vfield "$list" "$n" 9)" "$B_TYPE"
    expect_eq "$img $n fs label" "$(vfield "$list" "$n" 10)" "$B_LABEL"
    expect_eq "$img $n fs uuid" "$(vfield "$list" "$n" 11)" "$B_UUID"
  done < <(sfdisk --json "$img" | jq -r '.partitiontable.partitions[] |
    "\(.node | capture("(?<n>[0-9]+)$").n) \(.start) \(.size) \(.type)
     \(.uuid // "-") \(.name // "-")"' | paste -d' ' - -)
}

# A VMDK copy must list exactly like the raw image (disk names aside).
check_vmdk () {
  local img=$1 sub=$2 vmdk=$TMP/conv-$sub.vmdk
  command -v qemu-img >/dev/null || { echo "no qemu-img: VMDK skipped"; return; }
  qemu-img convert -f raw -O vmdk -o subformat="$sub" "$img" "$vmdk" ||
    { bad "qemu-img convert $sub"; return; }
  if ! "$VOL_DUMP" "$vmdk" >"$TMP/vmdk.txt" 2>"$TMP/vmdk.err"; then
    bad "vol-dump $sub VMDK: $(cat "$TMP/vmdk.err")"
    return
  fi
  "$VOL_DUMP" "$img" >"$TMP/raw.txt"
  if cmp -s "$TMP/raw.txt" "$TMP/vmdk.txt"; then ok
  else bad "$sub VMDK listing differs from raw:"; diff "$TMP/raw.txt" "$TMP/vmdk.txt"
  fi
  rm -f "$TMP"/conv-*
}

make_mbr || skip "could not build the MBR fixture"
make_gpt || skip "could not build the GPT fixture"
check_image "$TMP/mbr.img"
check_image "$TMP/gpt.img"
# A hybrid MBR (sgdisk -h) is reported; the GPT still decides.
cp "$TMP/gpt.img" "$TMP/hybrid.img"
if sgdisk -h 2:3 "$TMP/hybrid.img" >/dev/null 2>&1; then
  "$VOL_DUMP" -l "$TMP/hybrid.img" >"$TMP/hybrid.txt"
  expect_eq "hybrid MBR flag" "$(awk -F'\t' '$1=="D"{print $7}' "$TMP/hybrid.txt")" 1
  "$VOL_DUMP" "$TMP/gpt.img" >"$TMP/gptlist.txt"
  if diff -q <(grep '^V' "$TMP/hybrid.txt") "$TMP/gptlist.txt" >/dev/null; then ok
  else bad "hybrid MBR changed the GPT listing"; fi
fi
# Logical partitions name their extended partition.
expect_eq "logical 5 parent" "$("$VOL_DUMP" "$TMP/mbr.img" | awk -F'\t' '$2=="5"{print $14}')" 3
# A bare file system without a partition table is the volume "disk".
truncate -s 64M "$TMP/bare.img"
mkfs.ext4 -q -F -L bare-ext4 "$TMP/bare.img"
"$VOL_DUMP" "$TMP/bare.img" >"$TMP/bare.txt"
blkid_range "$TMP/bare.img" 0 $((64 * 1048576))
expect_eq "bare disk volume" "$(vfield "$TMP/bare.txt" disk 3)" disk
expect_eq "bare disk fs" "$(vfield "$TMP/bare.txt" disk 9)" "$B_TYPE"
expect_eq "bare disk label" "$(vfield "$TMP/bare.txt" disk 10)" "$B_LABEL"
# A blank disk has no volumes at all.
truncate -s 1M "$TMP/blank.img"
expect_eq "blank disk" "$("$VOL_DUMP" "$TMP/blank.img" | grep -c '^V')" 0

for sub in monolithicSparse twoGbMaxExtentSparse streamOptimized; do
  check_vmdk "$TMP/mbr.img" $sub
  check_vmdk "$TMP/gpt.img" $sub
done

# A child chain made by qemu: the empty child lists like its base; after
# qemu-io zeroes partition 1's first MiB in the child, the child loses
# that file system and the base keeps it.
if command -v qemu-img >/dev/null && command -v qemu-io >/dev/null; then
  qemu-img convert -f raw -O vmdk "$TMP/mbr.img" "$TMP/base.vmdk"
  qemu-img create -q -f vmdk -b base.vmdk -F vmdk "$TMP/child.vmdk"
  "$VOL_DUMP" "$TMP/base.vmdk" | cut -f2- >"$TMP/base.txt"
  "$VOL_DUMP" "$TMP/child.vmdk" | cut -f2- >"$TMP/child.txt"
  cmp -s "$TMP/base.txt" "$TMP/child.txt" && ok || bad "empty child lists differently"
  p1=$(vfield <("$VOL_DUMP" -n "$TMP/mbr.img") 1 6)
  qemu-io -f vmdk -c "write -z $p1 1M" "$TMP/child.vmdk" >/dev/null
  "$VOL_DUMP" "$TMP/child.vmdk" >"$TMP/child.txt"
  "$VOL_DUMP" "$TMP/base.vmdk" >"$TMP/base.txt"
  expect_eq "child: partition 1 lost its fs" "$(vfield "$TMP/child.txt" 1 9)" -
  blkid_range "$TMP/mbr.img" "$p1" $((64 * 1048576))
  expect_eq "base keeps it" "$(vfield "$TMP/base.txt" 1 9)" "$B_TYPE"
  expect_eq "child: partition 5 unchanged" "$(vfield "$TMP/child.txt" 5 10)" \
    "$(vfield "$TMP/base.txt" 5 10)"
fi
# The volume reader returns the partition's bytes (first MiB of 5).
"$VOL_DUMP" -n "$TMP/mbr.img" >"$TMP/list.txt"
p5=$(vfield "$TMP/list.txt" 5 6)
"$VOL_DUMP" -r 5 -O 0 -L 1048576 "$TMP/mbr.img" >"$TMP/p5"
if dd if="$TMP/mbr.img" bs=1M skip=$((p5 / 1048576)) count=1 status=none |
   cmp -s - "$TMP/p5"; then ok; else bad "partition 5 bytes differ"; fi
finish
