#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdk mount: a volume named by file-system UUID or label (UUID=, LABEL=,
# as mount(8) takes them); -o generic options become mount flags
# (nosymfollow, noexec, noatime, ... shown in /proc/self/mountinfo and
# enforced); a mount point that is not empty is refused; umount --force
# of a busy mount exits 0 and leaves nothing in vdk mounts.
source "$(dirname "$0")/../lib.sh"
require_mount_env
require mkfs.ext4 sfdisk python3 jq
kernel_has_fs ext4 || skip "no ext4 in the kernel"

make_files
ln -s hello.txt "$T/files/link"
truncate -s 64M "$T/disk.img"
printf 'label: gpt\nsize=24M\nsize=24M\n' | sfdisk -q "$T/disk.img" >/dev/null
put_fs "$T/disk.img" 1 ext4 ALPHA
put_fs "$T/disk.img" 2 ext4 BETA
vdk convert "$T/disk.img" "$T/disk.vmdk" || die "convert"
mkdir -p "$T/mnt"
uuid2=$(vdk volumes --json "$T/disk.vmdk" \
  | jq -r '.volumes[] | select(.fs_label == "BETA") | .fs_uuid')
[ -n "$uuid2" ] && [ "$uuid2" != null ] || die "no UUID for BETA"

# By label, by UUID (any case), refusals that name the problem.
check "mount LABEL=ALPHA" vdk mount "$T/disk.vmdk" LABEL=ALPHA "$T/mnt"
check_eq "LABEL=ALPHA is volume 1" 1 \
  "$(vdk mounts --json | jq -r '.[0].volume')"
check_files "$T/mnt" "LABEL=ALPHA"
check "umount" vdk umount "$T/mnt"
check "mount UUID= (upper case)" vdk mount "$T/disk.vmdk" \
  "UUID=${uuid2^^}" "$T/mnt"
check_eq "UUID= of BETA is volume 2" 2 \
  "$(vdk mounts --json | jq -r '.[0].volume')"
check "umount" vdk umount "$T/mnt"
run_vdk mount "$T/disk.vmdk" LABEL=NOSUCH "$T/mnt"
check_eq "an unknown label is refused" 1 "$rc"
grep -q "no volume has LABEL=NOSUCH" "$T/err" && pass "... naming it" \
  || fail "... message: $(cat "$T/err")"

# -o flags.
check "mount -o nosymfollow,noexec,noatime" vdk mount \
  -o nosymfollow,noexec,noatime "$T/disk.vmdk" 1 "$T/mnt"
opts=$(awk -v m="$T/mnt" '$5 == m { print $6 }' /proc/self/mountinfo)
for f in nosymfollow noexec noatime nosuid nodev ro; do
  case ",$opts," in
    *",$f,"*) pass "-o: $f is a flag of the mount ($opts)" ;;
    *) fail "-o: $f missing from the mount's flags ($opts)" ;;
  esac
done
cat "$T/mnt/link" >/dev/null 2>&1 \
  && fail "nosymfollow: a symbolic link was followed" \
  || pass "nosymfollow: symbolic links are not followed"
check "umount" vdk umount "$T/mnt"

# A mount point that holds something is refused, as vdk-mount(1) says.
touch "$T/mnt/keep"
run_vdk mount "$T/disk.vmdk" 1 "$T/mnt"
check_eq "a non-empty mount point is refused" 1 "$rc"
grep -q "is not empty" "$T/err" && pass "... saying so" \
  || fail "... message: $(cat "$T/err")"
[ -e "$T/mnt/keep" ] && ! grep -q " $T/mnt " /proc/mounts \
  && pass "... and nothing was mounted over it" || fail "mounted anyway"
rm -f "$T/mnt/keep"
assert_nothing_left "refused non-empty mount point"

# umount --force of a busy mount: exit 0, no stale entry.
check "mount for --force" vdk mount "$T/disk.vmdk" 1 "$T/mnt"
exec 4<"$T/mnt/hello.txt"           # keeps the file system busy
run_vdk umount "$T/mnt"
check_eq "umount of a busy mount fails" 1 "$rc"
run_vdk umount --force "$T/mnt"
check_eq "umount --force exits 0" 0 "$rc"
[ -s "$T/err" ] && fail "umount --force printed: $(cat "$T/err")" \
  || pass "umount --force prints nothing"
check_eq "no entry is left in vdk mounts" "[]" "$(vdk mounts --json)"
grep -q " $T/mnt " /proc/mounts && fail "the mount point is still mounted" \
  || pass "the mount point is free at once"
exec 4<&-
# The mount process ends with the last user and removes its state (no
# vdk mount --cleanup needed); bounded wait, not a timing check.
for _ in $(seq 100); do
  ls "$VDK_RUN_DIR"/*/ >/dev/null 2>&1 || losetup -a | grep -q "$T" || break
  sleep 0.1
done
assert_nothing_left "umount --force"
pass "umount --force: the mount process ended by itself and left nothing"
finish
