# Shared by the tests of vdk volumes / mount / umount / mounts.
# Source it; it sets -e, makes $T (a scratch folder) and $VDK_RUN_DIR (the
# tests' own state folder, so real mounts on the machine are never
# touched) and installs a trap that undoes every mount, loop device and
# file this test made, whatever happened.
#
# Fixtures are built from real tools: sfdisk / sgdisk partition a sparse
# raw image, each partition gets a file system made by mkfs.ext4 -d,
# mkfs.xfs, mkfs.vfat + mcopy, mkntfs + ntfs-3g, holding the files of
# $T/files; qemu-img converts the raw image to VMDK variants.

set -eu
set -o pipefail

: "${VDK:?VDK must point at the vdk binary}"
T=$(mktemp -d "${TMPDIR:-/tmp}/vdk-mountcli.XXXXXX")
export VDK_RUN_DIR=$T/run
TEST_NAME=$(basename "$0" .sh)

skip () { echo "SKIP $TEST_NAME: $*"; exit 77; }
fail () { echo "FAIL $TEST_NAME: $*" >&2; exit 1; }
ok () { echo "ok - $*"; }

# What every mount test needs; exits 77 naming what is missing.
require_mount_env () {
  [ "$(id -u)" = 0 ] || skip "needs root (loop devices, mount(2))"
  [ -c /dev/fuse ] || skip "/dev/fuse is missing (modprobe fuse)"
  grep -qw fuse /proc/filesystems || skip "no FUSE in the kernel"
  [ -c /dev/loop-control ] || skip "no loop devices (modprobe loop)"
  losetup -f >/dev/null 2>&1 || skip "no free loop device"
  "$VDK" mounts >/dev/null 2>&1 || skip "vdk built without mount support"
}

require_tools () {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || skip "$t is not installed"
  done
}

cleanup () {
  set +e
  cd /
  if [ -d "$VDK_RUN_DIR" ]; then
    local d
    for d in "$VDK_RUN_DIR"/*/; do
      [ -f "$d/state" ] || continue
      local mp fu
      mp=$(sed -n 's/^mountpoint=//p' "$d/state")
      fu=$(sed -n 's/^fuse=//p' "$d/state")
      "$VDK" umount --force "${mp:-$fu}" >/dev/null 2>&1
    done
    "$VDK" mount --cleanup >/dev/null 2>&1
  fi
  # Belt and braces: whatever is still mounted or attached under $T.
  awk -v t="$T" 'index($2, t) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r m; do umount -l "$m"; done
  losetup -a | awk -F: -v t="$T" 'index($0, t) { print $1 }' |
    while read -r l; do losetup -d "$l"; done
  [ -d "$VDK_RUN_DIR" ] && for d in "$VDK_RUN_DIR"/*/; do
    [ -f "$d/state" ] || continue
    p=$(sed -n 's/^pid=//p' "$d/state"); [ -n "$p" ] && kill "$p" 2>/dev/null
  done
  rm -rf "$T"
}
trap cleanup EXIT

# Nothing of a mount may remain: no state, no loop device on $T, no FUSE
# or file system mount under $T.
assert_nothing_left () {
  local what=$1
  if ls "$VDK_RUN_DIR"/*/ >/dev/null 2>&1; then
    ls -R "$VDK_RUN_DIR" >&2; fail "$what: state left in $VDK_RUN_DIR"
  fi
  if losetup -a | grep -q "$T"; then
    losetup -a >&2; fail "$what: loop device left"
  fi
  if grep -q " $T" /proc/mounts; then
    grep " $T" /proc/mounts >&2; fail "$what: mount left"
  fi
}

# ---- fixtures -----------------------------------------------------------

# The known files every file system of the fixtures holds.
make_files () {
  mkdir -p "$T/files/sub"
  echo "hello from vdk" > "$T/files/hello.txt"
  head -c 1234567 /dev/urandom > "$T/files/data.bin"
  seq 1 20000 > "$T/files/sub/numbers.txt"
}

# Compare the known files with what is under $1.
check_files () {
  local dir=$1 what=$2 f
  for f in hello.txt data.bin sub/numbers.txt; do
    cmp "$T/files/$f" "$dir/$f" || fail "$what: $f differs or is missing"
  done
}

# make_fs TYPE IMAGE SIZE LABEL: a file system image holding $T/files.
make_fs () {
  local type=$1 img=$2 size=$3 label=$4
  rm -f "$img"
  truncate -s "$size" "$img"
  case $type in
  ext4) mkfs.ext4 -q -F -L "$label" -d "$T/files" "$img" ;;
  xfs)
    mkfs.xfs -q -f -L "$label" "$img"
    mkdir -p "$T/fsmnt"
    mount -o loop "$img" "$T/fsmnt"
    cp -r "$T/files/." "$T/fsmnt/"
    umount "$T/fsmnt" ;;
  vfat)
    mkfs.vfat -n "$label" "$img" >/dev/null
    mcopy -s -i "$img" "$T/files/hello.txt" "$T/files/data.bin" \
      "$T/files/sub" ::/ ;;
  ntfs)
    mkntfs -q -F -Q -L "$label" "$img" >/dev/null 2>&1
    mkdir -p "$T/fsmnt"
    ntfs-3g "$img" "$T/fsmnt"
    cp -r "$T/files/." "$T/fsmnt/"
    umount "$T/fsmnt" ;;
  *) fail "make_fs: unknown type $type" ;;
  esac
}

# part_field DISK N start|size: bytes, from sfdisk --json (MBR and GPT).
part_field () {
  sfdisk --json "$1" | python3 -c '
import json, sys
n, key = int(sys.argv[1]), sys.argv[2]
pt = json.load(sys.stdin)["partitiontable"]
ss = pt.get("sectorsize", 512)
for p in pt["partitions"]:
    if p["node"].endswith(str(n)) and not p["node"][-len(str(n))-1].isdigit():
        print(p[key] * ss)
' "$2" "$3"
}

# put_fs DISK N TYPE LABEL: make a file system the size of partition N
# and copy it there.
put_fs () {
  local disk=$1 n=$2 type=$3 label=$4 start size
  start=$(part_field "$disk" "$n" start)
  size=$(part_field "$disk" "$n" size)
  make_fs "$type" "$T/part$n.img" "$size" "$label"
  dd if="$T/part$n.img" of="$disk" bs=1M conv=notrunc,sparse \
     oflag=seek_bytes seek="$start" status=none
  rm -f "$T/part$n.img"
}

# MBR: 1 ext4, 2 xfs (xfs wants >= 300 MB), 3 extended with logicals
# 5 vfat and 6 ntfs.
make_mbr_disk () {
  local disk=$1
  truncate -s 420M "$disk"
  printf 'label: dos\nlabel-id: 0x1234abcd\n,32M,L\n,300M,L\n,,Ex\n,32M,c\n,32M,7\n' |
    sfdisk -q "$disk" >/dev/null
  put_fs "$disk" 1 ext4 EXT4VOL
  put_fs "$disk" 2 xfs XFSVOL
  put_fs "$disk" 5 vfat FATVOL
  put_fs "$disk" 6 ntfs NTFSVOL
}

# GPT: 1 ext4, 2 ntfs, 3 empty.
make_gpt_disk () {
  local disk=$1
  truncate -s 100M "$disk"
  sgdisk -o -n 1:2048:+32M -t 1:8300 -c 1:linuxdata \
    -n 2:0:+32M -t 2:0700 -c 2:windata -n 3:0:+8M -t 3:8300 "$disk" \
    >/dev/null
  put_fs "$disk" 1 ext4 GPTEXT4
  put_fs "$disk" 2 ntfs GPTNTFS
}

# to_vmdk RAW OUT [subformat]: convert with qemu-img.
to_vmdk () {
  local raw=$1 out=$2 sub=${3:-monolithicSparse}
  qemu-img convert -f raw -O vmdk -o subformat="$sub" "$raw" "$out"
}

# True if vdk reads DISK (a format the library may not support yet).
vdk_reads () {
  "$VDK" volumes "$1" >/dev/null 2>&1
}

# The mount process of the mount at $1 (from vdk mounts --json).
mount_pid () {
  "$VDK" mounts --json | python3 -c '
import json, sys
for m in json.load(sys.stdin):
    if sys.argv[1] in (m["mountpoint"], m["fuse"]):
        print(m["pid"])' "$1"
}

kernel_has_fs () {
  grep -qw "$1" /proc/filesystems
}
