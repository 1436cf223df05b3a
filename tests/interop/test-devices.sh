#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Extent, parent and descriptor files that are not regular files (issue
# 9, defect 1).  A descriptor comes from a stranger: a block-device node
# in the disk's folder (what GNU tar recreates when run as root) must
# not be read or written as a monolithicFlat extent, a FIFO must never
# make vdk hang, a symlink to /dev/zero or a character-device parent is
# refused.  Devices stay usable where the user asked for them: a raw
# device named on the command line, and fullDevice / RDM disks with
# --allow-external-paths.  Every command that could block runs under
# `timeout`.
source "$(dirname "$0")/../lib.sh"

MiB=$((1024 * 1024))
TMO=20
mkdir -p "$T/vm"

# desc NAME CREATETYPE EXTENT-LINES... [-- PARENT-HINT]
desc () {
  local name=$1 ct=$2
  shift 2
  {
    printf '# Disk DescriptorFile\nversion=1\nCID=12345678\n'
    printf 'parentCID=ffffffff\ncreateType="%s"\n\n' "$ct"
    printf '%s\n' "$@"
    printf '\n#DDB\nddb.adapterType = "lsilogic"\n'
  } >"$T/vm/$name.vmdk"
}

# refused WHAT PATTERN ARGS...: vdk ARGS fails (not by timeout) and
# says PATTERN.
refused () {
  local what=$1 pat=$2
  shift 2
  rc=0
  timeout "$TMO" "$VDK" "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
  if [ "$rc" -eq 124 ]; then
    fail "$what: hung (killed after ${TMO}s)"
  elif [ "$rc" -ne 0 ] && grep -q -- "$pat" "$T/err"; then
    pass "$what"
  else
    fail "$what: exit $rc, expected an error saying '$pat': $(cat "$T/err")"
  fi
}

# ---- FIFOs: never hang -------------------------------------------------
mkfifo "$T/vm/fifo-flat.vmdk"
desc fifo monolithicFlat 'RW 2048 FLAT "fifo-flat.vmdk" 0'
refused "FIFO extent: info refused" "FIFO" info "$T/vm/fifo.vmdk"
refused "FIFO extent: read refused" "FIFO" read "$T/vm/fifo.vmdk"
refused "FIFO extent: write refused" "FIFO" write "$T/vm/fifo.vmdk"
refused "FIFO extent: refused with --allow-external-paths too" "FIFO" \
  read --allow-external-paths "$T/vm/fifo.vmdk"
refused "FIFO extent: check refused" "FIFO" check "$T/vm/fifo.vmdk"
mkfifo "$T/vm/fifo.img"
refused "FIFO named on the command line: refused" "FIFO" \
  info "$T/vm/fifo.img"
mkfifo "$T/vm/fifo-desc.vmdk"
refused "FIFO as a descriptor: refused" "FIFO" read "$T/vm/fifo-desc.vmdk"

# ---- a FIFO or a device as parent ----------------------------------------
check_vdk "create a base" create "$T/vm/base.vmdk" 1M
check_vdk "create a child" child "$T/vm/base.vmdk" "$T/vm/child.vmdk"
mv "$T/vm/base.vmdk" "$T/vm/base.real"
mkfifo "$T/vm/base.vmdk"
refused "FIFO parent: refused" "FIFO" read "$T/vm/child.vmdk"
rm "$T/vm/base.vmdk"

# ---- a symlink to /dev/zero as extent --------------------------------------
ln -s /dev/zero "$T/vm/zero-flat.vmdk"
desc zero monolithicFlat 'RW 2048 FLAT "zero-flat.vmdk" 0'
refused "symlink to /dev/zero: refused (outside the folder)" \
  "outside the disk.s folder" read "$T/vm/zero.vmdk"
refused "symlink to /dev/zero: refused with --allow-external-paths too" \
  "character device" read --allow-external-paths "$T/vm/zero.vmdk"

if [ "$(id -u)" != 0 ]; then
  echo "# not root: the device-node and loop-device checks are skipped"
else
  # ---- a character device as parent ----------------------------------------
  mknod "$T/vm/base.vmdk" c 1 3          # /dev/null's numbers
  refused "character device parent: refused" "character device" \
    read "$T/vm/child.vmdk"
  refused "character device parent: refused with --allow-external-paths" \
    "character device" read --allow-external-paths "$T/vm/child.vmdk"
  rm "$T/vm/base.vmdk"
  mv "$T/vm/base.real" "$T/vm/base.vmdk"
  check_vdk "the child reads again with its real parent" read \
    "$T/vm/child.vmdk"

  # ---- a block-device node as extent ---------------------------------------
  head -c $((4 * MiB)) /dev/urandom >"$T/lun.img"
  cp "$T/lun.img" "$T/lun.orig"
  loop=$(losetup -f --show "$T/lun.img" 2>/dev/null) \
    || skip "no loop device (losetup failed)"
  at_exit 'losetup -d "$loop" 2>/dev/null'
  read -r maj min < <(stat -L -c '%t %T' "$loop")
  mknod "$T/vm/blk-flat.vmdk" b $((16#$maj)) $((16#$min))
  desc blk monolithicFlat 'RW 8192 FLAT "blk-flat.vmdk" 0'
  refused "block-device extent: read refused" "block device" \
    read "$T/vm/blk.vmdk"
  refused "... naming --allow-external-paths" "allow-external-paths" \
    read "$T/vm/blk.vmdk"
  head -c 4096 /dev/urandom >"$T/w"
  refused "block-device extent: write refused" "block device" \
    write "$T/vm/blk.vmdk"
  refused "block-device extent: refused with --allow-external-paths too" \
    "block device" \
    write --allow-external-paths "$T/vm/blk.vmdk"
  check_same "... and the device is untouched" "$T/lun.img" "$T/lun.orig"
  refused "block-device extent: info refused" "block device" \
    info "$T/vm/blk.vmdk"
  refused "block-device extent: convert refused" "block device" \
    convert "$T/vm/blk.vmdk" "$T/out.vmdk"

  # ---- devices where the user asked for them ---------------------------------
  check_vdk_read "a raw device named on the command line reads" "$loop" \
    "$T/lun.orig"
  desc full fullDevice "RW 8192 FLAT \"$loop\" 0"
  desc rdm vmfsRawDeviceMap "RW 8192 VMFSRDM \"$loop\""
  desc rdmp vmfsPassthroughRawDeviceMap "RW 8192 VMFSRAW \"$loop\""
  desc part partitionedDevice "RW 4096 FLAT \"$loop\" 4096" \
    "RW 4096 FLAT \"$loop\" 0"
  for n in full rdm rdmp; do
    refused "$n on a loop device: refused without the override" \
      "allow-external-paths" read "$T/vm/$n.vmdk"
    check_vdk_read "$n on a loop device: reads with --allow-external-paths" \
      "$T/vm/$n.vmdk" "$T/lun.orig" --allow-external-paths
  done
  { dd if="$T/lun.orig" bs=512 skip=4096 count=4096 status=none
    dd if="$T/lun.orig" bs=512 count=4096 status=none; } >"$T/part.exp"
  check_vdk_read "partitionedDevice on a loop device reads" \
    "$T/vm/part.vmdk" "$T/part.exp" --allow-external-paths
  check_vdk "fullDevice on a loop device: writes" write \
    --allow-external-paths "$T/vm/full.vmdk" --offset 8192 <"$T/w"
  raw_put "$T/lun.orig" "$T/w" 8192
  sync
  check_same "... the write lands in the device" "$T/lun.img" "$T/lun.orig"
  losetup -d "$loop"
fi

finish
