#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdk mount --flat as a user who is not root (nobody, through setpriv):
# where FUSE lets users mount (/dev/fuse open to them, fusermount3), the
# user mounts the disk and volume files, reads them, lists and unmounts
# the mount; a volume mount (loop device, mount(2)) stays refused with
# the reason.  Skips, saying why, where FUSE does not allow users.
source "$(dirname "$0")/../lib.sh"
require_mount_env
require setpriv fusermount3

as_nobody () {
  setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
}
# A root test run makes this machine one where FUSE allows users, for
# the length of the test (many distributions ship /dev/fuse as 0666;
# containers often make it 0600): the old mode comes back at exit.
if [ "$(id -u)" = 0 ] && ! as_nobody sh -c 'exec 3<>/dev/fuse' 2>/dev/null
then
  fuse_mode=$(stat -c %a /dev/fuse)
  if chmod 666 /dev/fuse 2>/dev/null; then
    at_exit chmod "$fuse_mode" /dev/fuse
  fi
fi
as_nobody sh -c 'exec 3<>/dev/fuse' 2>/dev/null \
  || skip "FUSE does not allow users to mount here: /dev/fuse is mode $(stat -c %a /dev/fuse) (not open to other users)"

chmod 755 "$T"
mkdir -m 777 "$T/user" "$T/user/run" "$T/user/flat"
head -c 2M /dev/urandom > "$T/user/disk.raw"
truncate -s 8M "$T/user/disk.raw"
chmod 644 "$T/user/disk.raw"
U="env VDK_RUN_DIR=$T/user/run $VDK"

as_nobody $U mount --flat "$T/user/disk.raw" "$T/user/flat" 2>"$T/err"
check_eq "nobody: mount --flat exits 0" "0 " "$? $(cat "$T/err")"
grep -q " $T/user/flat fuse.vdk " /proc/mounts \
  && pass "the FUSE folder is mounted" || fail "no FUSE mount at $T/user/flat"
as_nobody cat "$T/user/flat/disk" > "$T/read" 2>"$T/err"
check_same "nobody reads the disk file through it" "$T/read" "$T/user/disk.raw"
as_nobody $U mounts --json > "$T/mounts.json"
check_eq "nobody's vdk mounts lists it" "true $T/user/flat" \
  "$(jq -r '.[0] | "\(.flat) \(.fuse)"' "$T/mounts.json")"
as_nobody $U umount "$T/user/flat" 2>"$T/err"
check_eq "nobody: umount exits 0" "0 " "$? $(cat "$T/err")"
grep -q " $T/user/flat " /proc/mounts && fail "still mounted after umount" \
  || pass "unmounted"
[ -z "$(ls -A "$T/user/run")" ] && pass "no state left" \
  || fail "state left: $(ls "$T/user/run")"

mkdir -m 777 "$T/user/mnt"
as_nobody $U mount "$T/user/disk.raw" disk "$T/user/mnt" 2>"$T/err"
check_eq "nobody: a volume mount is refused" 1 "$?"
grep -q "needs root" "$T/err" && pass "... saying it needs root" \
  || fail "... message: $(cat "$T/err")"
finish
