# lib.sh - helpers sourced by every interop test.
#
# A test runs `$VDK` (the tool under test, set by meson; always through
# the `vdk` function below) against real peers (qemu-img, qemu-io,
# vmdkinfo) in a private temporary folder on /dev/shm (tmpfs: sparse
# files cost nothing) or /tmp.  Checks do not
# stop the test: each failure is counted and printed, and `finish` exits
# 1 if any check failed, so one run shows every broken case.  A missing
# peer skips the test with exit status 77 and says why.

set -u -o pipefail

: "${VDK:?VDK must name the vdk tool under test}"
if [ ! -x "$VDK" ]; then
  echo "vdk tool '$VDK' is not executable" >&2
  exit 99
fi
INTEROP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The tool under test, run through $VDK_WRAPPER when set, e.g.
#   VDK_WRAPPER="valgrind -q --error-exitcode=88" meson test ...
vdk () {
  # shellcheck disable=SC2086 # the wrapper is a word list on purpose
  ${VDK_WRAPPER:-} "$VDK" "$@"
}
VMDKEDIT="$INTEROP_DIR/vmdkedit.py"

failures=0
checks=0

skip () {
  echo "SKIP: $*"
  exit 77
}

require () {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || skip "$c is not installed"
  done
}

# Private folder, removed on exit.
T=$(mktemp -d /dev/shm/vdk-interop.XXXXXX 2>/dev/null) \
  || T=$(mktemp -d /tmp/vdk-interop.XXXXXX) \
  || { echo "cannot make a temporary folder" >&2; exit 99; }
trap 'rm -rf "$T"' EXIT

pass () {
  checks=$((checks + 1))
  echo "ok - $*"
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

# check_same DESCRIPTION FILE1 FILE2: byte-for-byte equal.
check_same () {
  local r
  r=$(cmp "$2" "$3" 2>&1) && pass "$1" || fail "$1: $r"
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

# Fingerprint of every regular file under a folder: sha256 of files up
# to 64 MiB, size and modification time (ns) of bigger ones.
hash_tree () {
  (cd "$1" &&
     find . -type f -size -65537k -print0 | sort -z | xargs -0r sha256sum &&
     find . -type f -size +65536k -printf '%p %s %T@\n' | sort)
}

# Write COUNT bytes of the file PATTERN at OFFSET of a raw file.
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

finish () {
  echo "# $checks checks, $failures failed"
  [ "$failures" -eq 0 ]
  exit $?
}

GiB=$((1024 * 1024 * 1024))
MiB=$((1024 * 1024))
