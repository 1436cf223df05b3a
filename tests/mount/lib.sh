# Shared helpers of the volume tests (sourced).  Each test makes its
# fixtures with real tools in a temporary folder, compares what vdk sees
# (through vol-dump, a driver of the public API) with what those tools
# say, and exits 0 (pass), 1 (a check failed) or 77 (skipped, with the
# reason printed).
set -u -o pipefail

VOL_DUMP=${VOL_DUMP:?VOL_DUMP must name the vol-dump program}
fails=0
checks=0
LOOPS=()
TMP=$(mktemp -d /tmp/vdk-vol.XXXXXX)

cleanup () {
  local l f
  for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null || true; done
  # Also every loop backed by a file of ours, should one have escaped
  # the list (e.g. attached in a subshell).
  for f in "$TMP"/*; do
    [ -f "$f" ] || continue
    for l in $(losetup -j "$f" 2>/dev/null | cut -d: -f1); do
      losetup -d "$l" 2>/dev/null || true
    done
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

skip () { echo "SKIP: $*"; exit 77; }

need () {
  local p
  for p in "$@"; do
    command -v "$p" >/dev/null 2>&1 || skip "$p is not installed"
  done
}

need_root () {
  [ "$(id -u)" = 0 ] || skip "needs root (loop devices)"
  [ -e /dev/loop-control ] || skip "no /dev/loop-control"
}

ok () { checks=$((checks + 1)); }
bad () { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }

# expect_eq WHAT GOT WANT
expect_eq () {
  if [ "$2" == "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}

# Attach FILE (optionally at OFFSET with SIZE); the device is left in
# $LOOP.  Call it directly, not in $(...): the list of loops to detach
# lives in this shell.
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

# Field N (vol-dump column, 1-based, "V" is 1) of volume NAME.
vfield () {
  awk -F'\t' -v n="$2" -v f="$3" '$1 == "V" && $2 == n { print $f }' "$1"
}

# blkid's view of a byte range of an image: sets B_TYPE B_LABEL B_UUID.
blkid_range () {
  local out
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

finish () {
  echo "$checks checks, $fails failed"
  [ "$checks" -gt 0 ] || { echo "FAIL: nothing was checked"; exit 1; }
  [ "$fails" = 0 ]
}
