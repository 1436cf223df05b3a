#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# State and recovery: vdk mounts lists mounts; umount refuses while busy
# and --force unmounts lazily; a mount process killed with SIGKILL leaves
# state that vdk mount --cleanup removes (file system, loop, FUSE).
source "$(dirname "$0")/../lib.sh"
set -e
require_mount_env
require sfdisk mkfs.ext4 mkfs.xfs mkfs.vfat mcopy mkntfs ntfs-3g qemu-img python3

make_files
make_mbr_disk "$T/disk.img"
to_vmdk "$T/disk.img" "$T/disk.vmdk"
mkdir -p "$T/mnt" "$T/mnt2"

vdk mount "$T/disk.vmdk" 1 "$T/mnt"
vdk mount "$T/disk.vmdk" 2 "$T/mnt2"
vdk mounts --json > "$T/mounts.json"
python3 - "$T/mounts.json" "$T" <<'PY' || die "vdk mounts --json"
import json, os, sys
ms = json.load(open(sys.argv[1]))
t = sys.argv[2]
assert len(ms) == 2, ms
by = {m["mountpoint"]: m for m in ms}
for mp, vol, fs in ((t + "/mnt", "1", "ext4"), (t + "/mnt2", "2", "xfs")):
    m = by[mp]
    assert m["volume"] == vol and m["fs_type"] == fs and m["alive"], m
    assert m["disks"] == [t + "/disk.vmdk"], m
    assert m["loop"].startswith("/dev/loop"), m
    assert os.path.exists("/sys/block/" + m["loop"][5:] + "/loop/backing_file")
PY
vdk mounts | grep -q "$T/mnt2" || die "vdk mounts table"
pass "vdk mounts lists both mounts with pid, volume, fs and loop device"

# Two read-only mounts share the disk; a read-write one must wait.
mkdir -p "$T/mnt3"
loops_before=$(losetup -a | grep -c "$T" || true)
if vdk mount -w "$T/disk.vmdk" 6 "$T/mnt3" 2> "$T/err"; then
  die "read-write mount of a disk mounted read-only elsewhere succeeded"
fi
grep -q "in use" "$T/err" || { cat "$T/err"; die "message for a disk in use"; }
[ "$(losetup -a | grep -c "$T" || true)" = "$loops_before" ] || die "refused mount left a loop device"
[ "$(vdk mounts --json | grep -o '"id"' | wc -l)" = 2 ] || die "refused mount left state"
grep -q " $T/mnt3 " /proc/mounts && die "refused mount mounted"
pass "read-write mount of a disk in use refused: $(cat "$T/err")"

# Busy: a shell with its working folder in the mount.
(cd "$T/mnt" && exec sleep 30) &
busy=$!
sleep 0.3
if vdk umount "$T/mnt" 2> "$T/err"; then die "umount of a busy mount succeeded"; fi
grep -q "busy" "$T/err" && grep -q -- "--force" "$T/err" || { cat "$T/err"; die "busy message"; }
grep -q " $T/mnt " /proc/mounts || die "a refused umount changed the mount"
cmp "$T/files/data.bin" "$T/mnt/data.bin" || die "mount broken after refused umount"
pass "busy mount refused: $(cat "$T/err")"
pid1=$(mount_pid "$T/mnt")
vdk umount --force "$T/mnt" 2> "$T/err" || true
grep -q " $T/mnt " /proc/mounts && die "--force left the mount"
kill $busy 2>/dev/null; wait $busy 2>/dev/null || true
# The lazy unmount finishes once the sleeper is gone: the loop device
# clears itself, the FUSE folder is released, the mount process exits.
for i in $(seq 100); do kill -0 "$pid1" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid1" 2>/dev/null && die "mount process alive after the lazy unmount"
vdk mount --cleanup >/dev/null
pass "umount --force unmounted lazily"

# kill -9 the mount process of mnt2: state shows it dead; --cleanup
# undoes file system, loop device and FUSE folder.
pid=$(mount_pid "$T/mnt2")
[ -n "$pid" ] || die "no pid for mnt2"
kill -9 "$pid"
for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
vdk mounts | grep "$T/mnt2" | grep -q DEAD || { vdk mounts; die "dead mount not shown as DEAD"; }
vdk mount --cleanup > "$T/out"
grep -q "cleaned 1 mount" "$T/out" || { cat "$T/out"; die "cleanup count"; }
assert_nothing_left "cleanup after kill -9"
[ "$(vdk mounts --json)" = "[]" ] || die "mounts not empty after cleanup"
pass "kill -9 of the mount process cleaned by vdk mount --cleanup"

# A crash between mount(2) and saving the state: the state says "not
# mounted" but the mount point holds this mount's loop device.
vdk mount "$T/disk.vmdk" 1 "$T/mnt"
pid=$(mount_pid "$T/mnt")
kill -9 "$pid"
for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
sed -i 's/^mounted=1$/mounted=0/' "$VDK_RUN_DIR"/*/state
vdk mount --cleanup > "$T/out"
assert_nothing_left "cleanup of a mount the state did not record"
pass "cleanup finds a mounted file system the state did not record"

# SIGTERM to the mount process is an orderly stop when nothing holds the
# FUSE folder (flat): it unmounts its folder and exits.
mkdir -p "$T/flat"
vdk mount --flat "$T/disk.vmdk" "$T/flat"
pid=$(mount_pid "$T/flat")
kill -TERM "$pid"
for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && die "SIGTERM did not stop the mount process"
grep -q " $T/flat " /proc/mounts && die "SIGTERM left the FUSE folder mounted"
vdk mount --cleanup >/dev/null
assert_nothing_left "SIGTERM"
pass "SIGTERM stops a flat mount process cleanly"
finish
