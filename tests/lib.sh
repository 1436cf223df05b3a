# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/lib.sh - the one vocabulary of the shell tests (sourced by every
# test script: `source "$(dirname "$0")/../lib.sh"`).
#
# A test runs in a private folder $T (on /dev/shm, tmpfs, where sparse
# files cost nothing, else $TMPDIR or /tmp) that is removed on exit with
# everything the test left in it: mounts under $T, vdk mounts recorded in
# the test's own $VDK_RUN_DIR (so real mounts on the machine are never
# touched), loop devices on files under $T.  A test adds its own undo
# steps with `at_exit CMD`; it never replaces the EXIT trap.
#
# Checks do not stop a test: `pass`/`fail` (and the check_* helpers built
# on them) count and print, and `finish` exits 1 if any check failed or
# none ran, so one run shows every broken case.  `die` is for a step the
# rest of the test cannot go on without.  A missing peer, privilege or
# kernel feature skips the test with exit status 77 and says why.
#
# Sections: core, the vdk tool and disks, loop devices, volumes
# (vol-dump), mounts and file-system fixtures.

set -u -o pipefail

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEST_NAME=$(basename "$0" .sh)

# ---- core ---------------------------------------------------------------

checks=0
failures=0
EXIT_HOOKS=()

skip () {
  echo "SKIP $TEST_NAME: $*"
  exit 77
}

die () {
  echo "FAIL - $*" >&2
  exit 1
}

# require CMD...: skip unless every command is installed.
require () {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || skip "$c is not installed"
  done
}

require_root () {
  [ "$(id -u)" = 0 ] || skip "needs root${1:+ ($1)}"
}

pass () {
  checks=$((checks + 1))
  echo "ok${1:+ - $*}"
}

fail () {
  checks=$((checks + 1))
  failures=$((failures + 1))
  echo "FAIL - $*"
}

# check DESCRIPTION COMMAND...: passes if the command exits 0.
check () {
  local what=$1
  shift
  if "$@" >"$T/.check.out" 2>&1; then
    pass "$what"
  else
    fail "$what (exit $?: $*)"
    sed 's/^/    | /' "$T/.check.out" | head -20
  fi
}

# check_eq DESCRIPTION EXPECTED GOT
check_eq () {
  if [ "$2" = "$3" ]; then
    pass "$1"
  else
    fail "$1: expected '$2', got '$3'"
  fi
}

# check_same DESCRIPTION FILE1 FILE2: byte-for-byte equal.
check_same () {
  local r
  r=$(cmp "$2" "$3" 2>&1) && pass "$1" || fail "$1: $r"
}

finish () {
  echo "# $checks checks, $failures failed"
  [ "$checks" -gt 0 ] || die "nothing was checked"
  [ "$failures" -eq 0 ]
  exit $?
}

# at_exit CMD...: run CMD when the test exits, before the folder goes.
at_exit () {
  EXIT_HOOKS+=("$*")
}

# kill_tree PID: SIGKILL to PID and everything below it.
kill_tree () {
  local c
  for c in $(pgrep -P "$1"); do
    kill_tree "$c"
  done
  kill -KILL "$1" 2>/dev/null
}

# serve_stop [PID]: SIGTERM to a server started in the background
# (default $SERVE_PID, the last `vdk serve` of tests/nbd/nbd-lib.sh),
# then wait for it.  nbdkit with a sanitizer runtime preloaded (ASan
# builds) can hang at exit after TLS sessions (in freelocale): a server
# still there after 10 s goes with its whole process tree by SIGKILL, so
# a test never hangs on it.
serve_stop () {
  local pid=${1:-$SERVE_PID} i
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "# server $pid did not stop in 10 s: killed" >&2
    kill_tree "$pid"
  fi
  wait "$pid" 2>/dev/null
}

cleanup () {
  local i
  set +e
  cd /
  for ((i = ${#EXIT_HOOKS[@]} - 1; i >= 0; i--)); do
    eval "${EXIT_HOOKS[i]}"
  done
  mounts_cleanup
  loops_cleanup
  rm -rf "$T"
}

T=$(mktemp -d "${TMPDIR:-/dev/shm}/vdk-$TEST_NAME.XXXXXX" 2>/dev/null) \
  || T=$(mktemp -d "/tmp/vdk-$TEST_NAME.XXXXXX") \
  || { echo "cannot make a temporary folder" >&2; exit 99; }
trap cleanup EXIT

# The system's python3 when there is one, not a version manager's shim
# (a chain of bash scripts: seconds per call under load), however the
# test was started (tests/run.sh also puts /usr/bin first).
if [ -x /usr/bin/python3 ]; then
  python3 () { /usr/bin/python3 "$@"; }
fi

GiB=$((1024 * 1024 * 1024))
MiB=$((1024 * 1024))

# ---- the vdk tool and disks ---------------------------------------------

if [ -n "${VDK:-}" ] && [ ! -x "$VDK" ]; then
  echo "vdk tool '$VDK' is not executable" >&2
  exit 99
fi
VMDKEDIT="$TESTS_DIR/interop/vmdkedit.py"

# The tool under test ($VDK, set by meson), run through $VDK_WRAPPER when
# set, e.g. VDK_WRAPPER="valgrind -q --error-exitcode=88" meson test ...
vdk () {
  # shellcheck disable=SC2086 # the wrapper is a word list on purpose
  ${VDK_WRAPPER:-} "${VDK:?VDK must name the vdk tool under test}" "$@"
}

# Run the tool, capturing stdout/stderr in $T/out and $T/err and the exit
# status in $rc.
run_vdk () {
  rc=0
  vdk "$@" >"$T/out" 2>"$T/err" || rc=$?
}

# check_vdk DESCRIPTION ARGS...: `vdk ARGS` must succeed.
check_vdk () {
  local what=$1
  shift
  run_vdk "$@"
  if [ "$rc" -eq 0 ]; then
    pass "$what"
  else
    fail "$what (vdk $*: exit $rc)"
    sed 's/^/    | /' "$T/err" | head -20
  fi
}

# Content of a disk through vdk, compared with an expected raw file.
check_vdk_read () {
  local what=$1 disk=$2 expect=$3 r
  shift 3
  r=$(cmp <(vdk read "$@" "$disk" 2>"$T/read.err") "$expect" 2>&1)
  if [ -z "$r" ] && [ ! -s "$T/read.err" ]; then
    pass "$what"
  else
    fail "$what: ${r:-} $(head -3 "$T/read.err")"
  fi
}

# qemu-img compare: guest-visible contents identical.
check_qemu_same () {
  local what=$1 a=$2 b=$3 fa=${4:-vmdk} fb=${5:-raw}
  check "$what" qemu-img compare -q -f "$fa" -F "$fb" "$a" "$b"
}

# True if vdk reads DISK (a format the library may not support yet).
vdk_reads () {
  vdk volumes "$1" >/dev/null 2>&1
}

# to_vmdk RAW OUT [subformat]: convert with qemu-img.
to_vmdk () {
  local raw=$1 out=$2 sub=${3:-monolithicSparse}
  qemu-img convert -f raw -O vmdk -o subformat="$sub" "$raw" "$out"
}

# Fingerprint of every regular file under a folder: sha256 of files up
# to 64 MiB, size and modification time (ns) of bigger ones.
hash_tree () {
  (cd "$1" &&
     find . -type f -size -65537k -print0 | sort -z | xargs -0r sha256sum &&
     find . -type f -size +65536k -printf '%p %s %T@\n' | sort)
}

# raw_put FILE PATTERN OFFSET: write the file PATTERN at byte OFFSET.
raw_put () {
  dd if="$2" of="$1" bs=64K seek="$3" oflag=seek_bytes conv=notrunc \
     status=none
}

# Decimal value of a hex string, or "not-hex(...)" so a check fails cleanly.
hex2dec () {
  if [[ $1 =~ ^[0-9a-fA-F]{1,16}$ ]]; then
    echo $((16#$1))
  else
    echo "not-hex($1)"
  fi
}

# ---- loop devices -------------------------------------------------------

LOOPS=()

require_loop () {
  require_root "loop devices"
  [ -e /dev/loop-control ] || skip "no loop devices (modprobe loop)"
  require losetup
}

# loop_attach FILE [OFFSET SIZE]: the device is left in $LOOP.  Call it
# directly, not in $(...): the list of loops to detach lives in this shell.
loop_attach () {
  if [ $# -ge 3 ]; then
    LOOP=$(losetup -f --show -o "$2" --sizelimit "$3" "$1") || return 1
  else
    LOOP=$(losetup -f --show "$1") || return 1
  fi
  LOOPS+=("$LOOP")
}

loop_detach () {
  losetup -d "$1"
  local keep=() l
  for l in "${LOOPS[@]}"; do [ "$l" = "$1" ] || keep+=("$l"); done
  LOOPS=("${keep[@]}")
}

# Every loop of the list, and every loop backed by a file under $T should
# one have escaped the list (attached in a subshell or by the tool).
loops_cleanup () {
  local l
  for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null; done
  command -v losetup >/dev/null 2>&1 || return 0
  losetup -a 2>/dev/null | awk -F: -v t="$T" 'index($0, t) { print $1 }' |
    while read -r l; do losetup -d "$l" 2>/dev/null; done
}

# ---- LVM: lvm2 on loop devices --------------------------------------------
#
# No device-mapper here: every lvm2 command runs with activation off, and
# a test's volume groups are forgotten by lvm2 (its /etc/lvm backup and
# archive entries removed) when the test exits.

LVM_CONF='global { activation = 0 } devices { use_devicesfile = 0 }'
export LVM_SUPPRESS_FD_WARNINGS=1

# lvm_q COMMAND ARGS...: an lvm2 command with activation off, quiet.
lvm_q () {
  "$@" --config "$LVM_CONF" 2>/dev/null
}

# lvm_forget VG: remove lvm2's records of VG when the test exits.
lvm_forget () {
  at_exit "rm -rf /etc/lvm/backup/$1 /etc/lvm/archive/$1_*"
}

# lvm_vg VG SIZE FILE...: new PV files of SIZE on loop devices (left in
# PVS) and a volume group of 4 MiB extents over them; skips if lvm2
# refuses.
lvm_vg () {
  local vg=$1 size=$2 f
  shift 2
  PVS=()
  truncate -s "$size" "$@"
  for f in "$@"; do
    loop_attach "$f" || skip "losetup failed"
    PVS+=("$LOOP")
  done
  lvm_forget "$vg"
  lvm_q pvcreate -ff -y "${PVS[@]}" >/dev/null || skip "pvcreate failed"
  lvm_q vgcreate -s 4M "$vg" "${PVS[@]}" >/dev/null || skip "vgcreate failed"
}

# ---- volumes (vol-dump, a driver of the public volume API) --------------

# vfield LIST NAME N: field N (1-based, "V" is 1) of volume NAME.
vfield () {
  awk -F'\t' -v n="$2" -v f="$3" '$1 == "V" && $2 == n { print $f }' "$1"
}

# blkid_range IMAGE OFFSET SIZE: blkid's view of a byte range; sets
# B_TYPE B_LABEL B_UUID.
blkid_range () {
  local out k v
  B_TYPE=- B_LABEL=- B_UUID=-
  out=$(blkid -p -o export -O "$2" -S "$3" "$1" 2>/dev/null) || true
  while IFS='=' read -r k v; do
    case $k in
      TYPE) B_TYPE=$v ;;
      LABEL) B_LABEL=$v ;;
      UUID) B_UUID=$v ;;
    esac
  done <<<"$out"
}

# ---- mounts -------------------------------------------------------------

export VDK_RUN_DIR=$T/run

# What every mount test needs; skips naming what is missing.
require_mount_env () {
  require_root "loop devices, mount(2)"
  [ -c /dev/fuse ] || skip "/dev/fuse is missing (modprobe fuse)"
  grep -qw fuse /proc/filesystems || skip "no FUSE in the kernel"
  [ -c /dev/loop-control ] || skip "no loop devices (modprobe loop)"
  losetup -f >/dev/null 2>&1 || skip "no free loop device"
  vdk mounts >/dev/null 2>&1 || skip "vdk built without mount support"
}

kernel_has_fs () {
  grep -qw "$1" /proc/filesystems
}

# Undo every vdk mount of this test (from its state folder), then
# whatever is still mounted under $T, and stop mount processes left.
mounts_cleanup () {
  local d mp fu p
  if [ -d "$VDK_RUN_DIR" ] && [ -n "${VDK:-}" ]; then
    for d in "$VDK_RUN_DIR"/*/; do
      [ -f "$d/state" ] || continue
      mp=$(sed -n 's/^mountpoint=//p' "$d/state")
      fu=$(sed -n 's/^fuse=//p' "$d/state")
      "$VDK" umount --force "${mp:-$fu}" >/dev/null 2>&1
    done
    "$VDK" mount --cleanup >/dev/null 2>&1
  fi
  awk -v t="$T" 'index($2, t) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r mp; do umount -l "$mp"; done
  [ -d "$VDK_RUN_DIR" ] || return 0
  for d in "$VDK_RUN_DIR"/*/; do
    [ -f "$d/state" ] || continue
    p=$(sed -n 's/^pid=//p' "$d/state")
    [ -n "$p" ] && kill "$p" 2>/dev/null
  done
}

# Nothing of a mount may remain: no state, no loop device on $T, no FUSE
# or file system mount under $T.
assert_nothing_left () {
  local what=$1
  if ls "$VDK_RUN_DIR"/*/ >/dev/null 2>&1; then
    ls -R "$VDK_RUN_DIR" >&2; die "$what: state left in $VDK_RUN_DIR"
  fi
  if losetup -a | grep -q "$T"; then
    losetup -a >&2; die "$what: loop device left"
  fi
  if grep -q " $T" /proc/mounts; then
    grep " $T" /proc/mounts >&2; die "$what: mount left"
  fi
}

# The mount process of the mount at $1 (from vdk mounts --json).
mount_pid () {
  vdk mounts --json | python3 -c '
import json, sys
for m in json.load(sys.stdin):
    if sys.argv[1] in (m["mountpoint"], m["fuse"]):
        print(m["pid"])' "$1"
}

# ---- file-system fixtures (for the mount tests) --------------------------
#
# sfdisk / sgdisk partition a sparse raw image, each partition gets a
# file system made by mkfs.ext4 -d, mkfs.xfs, mkfs.vfat + mcopy, mkntfs +
# ntfs-3g, holding the files of $T/files; to_vmdk makes VMDK variants.

# The known files every file system of the fixtures holds.
make_files () {
  mkdir -p "$T/files/sub"
  echo "hello from vdk" > "$T/files/hello.txt"
  head -c 1234567 /dev/urandom > "$T/files/data.bin"
  seq 1 20000 > "$T/files/sub/numbers.txt"
}

# check_files DIR WHAT: the known files are under DIR.
check_files () {
  local dir=$1 what=$2 f
  for f in hello.txt data.bin sub/numbers.txt; do
    cmp "$T/files/$f" "$dir/$f" || die "$what: $f differs or is missing"
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
  *) die "make_fs: unknown type $type" ;;
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
