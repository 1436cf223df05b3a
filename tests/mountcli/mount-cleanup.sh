#!/bin/bash
# State and recovery: vdk mounts lists mounts; umount refuses while busy
# and --force unmounts lazily; a mount process killed with SIGKILL leaves
# state that vdk mount --cleanup removes (file system, loop, FUSE).
. "$(dirname "$0")/common.sh"
require_mount_env
require_tools sfdisk mkfs.ext4 mkfs.xfs mkfs.vfat mcopy mkntfs ntfs-3g qemu-img python3

make_files
make_mbr_disk "$T/disk.img"
to_vmdk "$T/disk.img" "$T/disk.vmdk"
mkdir -p "$T/mnt" "$T/mnt2"

"$VDK" mount "$T/disk.vmdk" 1 "$T/mnt"
"$VDK" mount "$T/disk.vmdk" 2 "$T/mnt2"
"$VDK" mounts --json > "$T/mounts.json"
python3 - "$T/mounts.json" "$T" <<'PY' || fail "vdk mounts --json"
import json, os, sys
ms = json.load(open(sys.argv[1]))
t = sys.argv[2]
assert len(ms) == 2, ms
by = {m["mountpoint"]: m for m in ms}
for mp, vol, fs in ((t + "/mnt", "1", "ext4"), (t + "/mnt2", "2", "xfs")):
    m = by[mp]
    assert m["volume"] == vol and m["fstype"] == fs and m["alive"], m
    assert m["disks"] == [t + "/disk.vmdk"], m
    assert m["loop"].startswith("/dev/loop"), m
    assert os.path.exists("/sys/block/" + m["loop"][5:] + "/loop/backing_file")
PY
"$VDK" mounts | grep -q "$T/mnt2" || fail "vdk mounts table"
ok "vdk mounts lists both mounts with pid, volume, fs and loop device"

# Two read-only mounts share the disk; a read-write one must wait.
mkdir -p "$T/mnt3"
loops_before=$(losetup -a | grep -c "$T" || true)
if "$VDK" mount -w "$T/disk.vmdk" 6 "$T/mnt3" 2> "$T/err"; then
  fail "read-write mount of a disk mounted read-only elsewhere succeeded"
fi
grep -q "in use" "$T/err" || { cat "$T/err"; fail "message for a disk in use"; }
[ "$(losetup -a | grep -c "$T" || true)" = "$loops_before" ] || fail "refused mount left a loop device"
[ "$("$VDK" mounts --json | grep -o '"id"' | wc -l)" = 2 ] || fail "refused mount left state"
grep -q " $T/mnt3 " /proc/mounts && fail "refused mount mounted"
ok "read-write mount of a disk in use refused: $(cat "$T/err")"

# Busy: a shell with its working folder in the mount.
(cd "$T/mnt" && exec sleep 30) &
busy=$!
sleep 0.3
if "$VDK" umount "$T/mnt" 2> "$T/err"; then fail "umount of a busy mount succeeded"; fi
grep -q "busy" "$T/err" && grep -q -- "--force" "$T/err" || { cat "$T/err"; fail "busy message"; }
grep -q " $T/mnt " /proc/mounts || fail "a refused umount changed the mount"
cmp "$T/files/data.bin" "$T/mnt/data.bin" || fail "mount broken after refused umount"
ok "busy mount refused: $(cat "$T/err")"
pid1=$(mount_pid "$T/mnt")
"$VDK" umount --force "$T/mnt" 2> "$T/err" || true
grep -q " $T/mnt " /proc/mounts && fail "--force left the mount"
kill $busy 2>/dev/null; wait $busy 2>/dev/null || true
# The lazy unmount finishes once the sleeper is gone: the loop device
# clears itself, the FUSE folder is released, the mount process exits.
for i in $(seq 100); do kill -0 "$pid1" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid1" 2>/dev/null && fail "mount process alive after the lazy unmount"
"$VDK" mount --cleanup >/dev/null
ok "umount --force unmounted lazily"

# kill -9 the mount process of mnt2: state shows it dead; --cleanup
# undoes file system, loop device and FUSE folder.
pid=$(mount_pid "$T/mnt2")
[ -n "$pid" ] || fail "no pid for mnt2"
kill -9 "$pid"
for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
"$VDK" mounts | grep "$T/mnt2" | grep -q DEAD || { "$VDK" mounts; fail "dead mount not shown as DEAD"; }
"$VDK" mount --cleanup > "$T/out"
grep -q "cleaned 1 mount" "$T/out" || { cat "$T/out"; fail "cleanup count"; }
assert_nothing_left "cleanup after kill -9"
[ "$("$VDK" mounts --json)" = "[]" ] || fail "mounts not empty after cleanup"
ok "kill -9 of the mount process cleaned by vdk mount --cleanup"

# A crash between mount(2) and saving the state: the state says "not
# mounted" but the mount point holds this mount's loop device.
"$VDK" mount "$T/disk.vmdk" 1 "$T/mnt"
pid=$(mount_pid "$T/mnt")
kill -9 "$pid"
for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
sed -i 's/^mounted=1$/mounted=0/' "$VDK_RUN_DIR"/*/state
"$VDK" mount --cleanup > "$T/out"
assert_nothing_left "cleanup of a mount the state did not record"
ok "cleanup finds a mounted file system the state did not record"

# SIGTERM to the mount process is an orderly stop when nothing holds the
# FUSE folder (flat): it unmounts its folder and exits.
mkdir -p "$T/flat"
"$VDK" mount --flat "$T/disk.vmdk" "$T/flat"
pid=$(mount_pid "$T/flat")
kill -TERM "$pid"
for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "SIGTERM did not stop the mount process"
grep -q " $T/flat " /proc/mounts && fail "SIGTERM left the FUSE folder mounted"
"$VDK" mount --cleanup >/dev/null
assert_nothing_left "SIGTERM"
ok "SIGTERM stops a flat mount process cleanly"
