#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# GPT (sgdisk): the volume list matches sgdisk and blkid; ext4 and NTFS
# volumes mount with their files; a volume without a file system is
# listed but refused by mount with a clear message.
source "$(dirname "$0")/../lib.sh"
set -e
require_mount_env
require sgdisk sfdisk mkfs.ext4 mkntfs ntfs-3g qemu-img python3 blkid

make_files
make_gpt_disk "$T/gpt.img"
to_vmdk "$T/gpt.img" "$T/gpt.vmdk"
mkdir -p "$T/mnt"

vdk volumes --json "$T/gpt.vmdk" > "$T/vols.json"
for n in 1 2 3; do
  guid=$(sgdisk -i "$n" "$T/gpt.img" | sed -n 's/^Partition unique GUID: //p')
  start=$(part_field "$T/gpt.img" $n start)
  size=$(part_field "$T/gpt.img" $n size)
  fstype=$(blkid -p -o value -s TYPE -O "$start" -S "$size" "$T/gpt.img" || true)
  python3 - "$T/vols.json" "$n" "$start" "$size" "$guid" "$fstype" <<'PY' ||
import json, sys
vols = {v["name"]: v for v in json.load(open(sys.argv[1]))["volumes"]}
v = vols[sys.argv[2]]
assert v["kind"] == "gpt", v
assert v["start"] == int(sys.argv[3]), (v["start"], sys.argv[3])
assert v["size"] == int(sys.argv[4]), (v["size"], sys.argv[4])
assert v["uuid"].upper() == sys.argv[5].upper(), (v["uuid"], sys.argv[5])
assert (v["fs_type"] or "") == sys.argv[6], (v["fs_type"], sys.argv[6])
PY
    die "GPT volume $n differs from sgdisk/blkid"
done
pass "volumes: GPT entries match sgdisk (start, size, GUID) and blkid (type)"

for n in 1 2; do
  vdk mount "$T/gpt.vmdk" "$n" "$T/mnt"
  check_files "$T/mnt" "GPT volume $n"
  # While mounted, `vdk volumes` says where (and only for that volume).
  vdk volumes --json "$T/gpt.vmdk" > "$T/vols-m.json"
  python3 - "$T/vols-m.json" "$n" "$(realpath "$T/mnt")" <<'PY' ||
import json, sys
for v in json.load(open(sys.argv[1]))["volumes"]:
    want = sys.argv[3] if v["name"] == sys.argv[2] else None
    assert v["mountpoint"] == want, (v["name"], v["mountpoint"], want)
    assert v["mounted"] == (want is not None), v
PY
    die "vdk volumes does not show GPT volume $n mounted at $T/mnt"
  vdk umount "$T/mnt"
  vdk volumes --json "$T/gpt.vmdk" | grep -q '"mountpoint": *"' \
    && die "a volume still shows a mount point after umount"
  assert_nothing_left "GPT $n"
  pass "GPT volume $n mounted with its files"
done

if vdk mount "$T/gpt.vmdk" 3 "$T/mnt" 2> "$T/err"; then
  die "mount of a volume without a file system succeeded"
fi
grep -q "no file system" "$T/err" || { cat "$T/err"; die "message for no fs"; }
assert_nothing_left "no fs"
pass "volume without a file system refused: $(cat "$T/err")"
finish
