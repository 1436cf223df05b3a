#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Mounting the disks people have.
#
# 1. A linked clone whose parent lies in ../base/: `vdk volumes` and
#    `vdk mount` refuse it naming --allow-external-paths, and with the
#    option list its file system and mount it (files read back).
# 2. A chain whose CIDs disagree: volumes and mount refuse it naming
#    --no-cid-check; with the option the chain is listed and mounted
#    read-only and no file changes (sha256); -w and --redo refuse it.
# 3. A disk a read-write `vdk mount` holds: a writer's error names the
#    mount point and `vdk umount`; info and volumes still read it, with a
#    note.
source "$(dirname "$0")/../lib.sh"
set -e
require_mount_env
require mkfs.ext4 sha256sum
kernel_has_fs ext4 || skip "no ext4 in the kernel"

make_files
mkdir -p "$T/vm/base" "$T/vm/clone" "$T/mnt"
make_fs ext4 "$T/fs.img" 32M CLONEFS
vdk convert "$T/fs.img" "$T/vm/base/base.vmdk"
vdk child --allow-external-paths "$T/vm/base/base.vmdk" \
  "$T/vm/clone/clone.vmdk"
clone=$T/vm/clone/clone.vmdk

# refused WHAT PATTERN vdk-args...: exit 1, PATTERN in the message.
refused () {
  local what=$1 pattern=$2 rc=0
  shift 2
  vdk "$@" >"$T/out" 2>"$T/err" || rc=$?
  if [ "$rc" = 1 ] && grep -q -- "$pattern" "$T/err"; then
    pass "$what"
  else
    fail "$what: exit $rc: $(cat "$T/err")"
  fi
  assert_nothing_left "$what"
}

# ---- 1. external parent ------------------------------------------------------
refused "volumes of a linked clone names --allow-external-paths" \
  --allow-external-paths volumes "$clone"
refused "mount of a linked clone names --allow-external-paths" \
  --allow-external-paths mount "$clone" disk "$T/mnt"
vdk volumes --allow-external-paths --json "$clone" >"$T/vols"
python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))["volumes"]
sys.exit(0 if any(x["fs_type"] == "ext4" and x["fs_label"] == "CLONEFS"
                  for x in v) else 1)' "$T/vols" \
  && pass "volumes --allow-external-paths lists the clone's ext4" \
  || fail "volumes --allow-external-paths: $(cat "$T/vols")"
vdk mount --allow-external-paths "$clone" disk "$T/mnt"
check_files "$T/mnt" "linked clone mounted with --allow-external-paths"
vdk umount "$T/mnt"
assert_nothing_left "external mount"
pass "mount --allow-external-paths mounts the linked clone"

# ---- 2. --no-cid-check --------------------------------------------------------
# Rewrite the base's first MiB with its own bytes: same data, new CID.
vdk read "$T/vm/base/base.vmdk" --length 1M >"$T/first.raw"
vdk write "$T/vm/base/base.vmdk" <"$T/first.raw"
before=$(sha256sum "$T/vm/base/base.vmdk" "$clone")
refused "volumes of a CID mismatch names --no-cid-check" --no-cid-check \
  volumes --allow-external-paths "$clone"
refused "mount of a CID mismatch names --no-cid-check" --no-cid-check \
  mount --allow-external-paths "$clone" disk "$T/mnt"
vdk volumes --allow-external-paths --no-cid-check "$clone" >"$T/vols"
grep -q CLONEFS "$T/vols" && pass "volumes --no-cid-check lists it" \
  || fail "volumes --no-cid-check: $(cat "$T/vols")"
vdk mount --allow-external-paths --no-cid-check "$clone" disk "$T/mnt"
check_files "$T/mnt" "mounted with --no-cid-check"
grep " $T/mnt " /proc/mounts | grep -q '[ ,]ro[ ,]' \
  && pass "the --no-cid-check mount is read-only" \
  || fail "the --no-cid-check mount is not read-only"
vdk umount "$T/mnt"
assert_nothing_left "no-cid-check mount"
refused "mount -w --no-cid-check is refused" "cannot be used with" \
  mount -w --allow-external-paths --no-cid-check "$clone" disk "$T/mnt"
refused "mount --redo --no-cid-check is refused" "cannot be used with" \
  mount --redo "$T/redo.vmdk" --allow-external-paths --no-cid-check \
  "$clone" disk "$T/mnt"
[ ! -e "$T/redo.vmdk" ] && pass "no redo file was made" \
  || fail "a redo file was made"
check_eq "the evidence is unchanged (sha256)" "$before" \
  "$(sha256sum "$T/vm/base/base.vmdk" "$clone")"

# ---- 3. a disk a read-write mount holds -------------------------------------
vdk convert "$T/fs.img" "$T/held.vmdk"
vdk mount -w "$T/held.vmdk" disk "$T/mnt"
rc=0
vdk write "$T/held.vmdk" --offset 0 </dev/null >"$T/out" 2>"$T/err" || rc=$?
check_eq "a writer of a disk a mount holds fails" 1 "$rc"
grep -q "mounted read-write at $T/mnt" "$T/err" \
  && grep -q "vdk umount $T/mnt" "$T/err" \
  && pass "... naming the mount point and how to end it" \
  || fail "... says: $(cat "$T/err")"
rc=0
vdk info --json "$T/held.vmdk" >"$T/out" 2>"$T/err" || rc=$?
check_eq "info of a disk a read-write mount holds works" 0 "$rc"
check_eq "... showing its capacity" $((32 * 1024 * 1024)) \
  "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["capacity"])' "$T/out")"
grep -q "mounted read-write at $T/mnt" "$T/err" && pass "... with a note" \
  || fail "... no note: $(cat "$T/err")"
rc=0
vdk volumes "$T/held.vmdk" >"$T/out" 2>"$T/err" || rc=$?
check_eq "volumes of a disk a read-write mount holds works" 0 "$rc"
grep -q CLONEFS "$T/out" && grep -q "$T/mnt" "$T/out" \
  && pass "... listing its file system where it is mounted" \
  || fail "... lists: $(cat "$T/out")"
vdk umount "$T/mnt"
assert_nothing_left "held mount"

finish
