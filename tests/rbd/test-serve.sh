#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Disks in Ceph RBD, composed: `vdk serve rbd:...` (one shared handle,
# multi-conn) read by nbdcopy with several connections, its block status
# showing the image's holes; `vdk mount rbd:POOL/IMG 1 DIR` (where the
# machine allows mounts); and the loopback scale test of docs/scale.md:
# several `vdk serve` processes over the same read-only images, several
# clients reading at once, every copy byte-exact, aggregate throughput
# printed against one server (reported, never asserted: timings on a
# shared machine are no test).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/rbd-lib.sh"
require nbdkit nbdinfo nbdcopy
[ -n "${VDK_NBDKIT_PLUGIN:-}" ] && [ -r "$VDK_NBDKIT_PLUGIN" ] \
  || skip "the nbdkit plugin was not built (nbdkit-plugin-dev missing)"
export VDK_NBDKIT_PLUGIN

SERVERS=()
# serve NAME SOCKET ARGS...: `vdk serve` in the background until the
# test ends; its pid in SERVERS, its URI in $URI.
serve () {
  local sock=$1 out="$T/serve.${#SERVERS[@]}" i
  shift
  timeout -s TERM 300 "$VDK" serve --unix "$sock" "$@" >"$out" \
    2>"$out.err" &
  SERVERS+=($!)
  at_exit "serve_stop $!"
  for ((i = 0; i < 300; i++)); do
    [ -s "$out" ] && { URI=$(head -1 "$out"); return 0; }
    kill -0 "$!" 2>/dev/null || break
    sleep 0.1
  done
  cat "$out.err" >&2
  die "vdk serve $* did not start"
}

# 32 MiB with data in [0, 12M) and [24M, 28M).
raw="$T/img.raw"
truncate -s 32M "$raw"
head -c 12M /dev/urandom | dd of="$raw" conv=notrunc status=none
head -c 4M /dev/urandom | dd of="$raw" bs=1M seek=24 conv=notrunc status=none
vdk convert "$raw" rbd:rbd/a >/dev/null || die "convert a"
rbd snap create rbd/a@s >/dev/null 2>&1 || die "snap"

# ---- one server, nbdcopy and block status -----------------------------
serve "$T/one.sock" -r rbd:rbd/a@s
check "nbdcopy (4 connections) from vdk serve rbd:rbd/a@s" \
  nbdcopy --connections=4 "$URI" "$T/copy.raw"
check_same "... byte-exact" "$T/copy.raw" "$raw"
check "the export offers multi-conn" \
  bash -c "nbdinfo '$URI' | grep -q 'can_multi_conn: true'"
nbdinfo --map "$URI" >"$T/map"
check "block status shows the image's hole at 12 MiB" \
  grep -Eq '^ +12582912 +12582912 +(2|3) ' "$T/map"
serve_stop "${SERVERS[0]}"

# ---- a writable export ------------------------------------------------
vdk create rbd:rbd/w 32M >/dev/null || die "create w"
serve "$T/w.sock" rbd:rbd/w
check "nbdcopy into vdk serve rbd:rbd/w" nbdcopy --flush "$raw" "$URI"
serve_stop "${SERVERS[1]}"
check_rbd_export "what nbdcopy wrote is in the image" w "$raw"

# ---- mount ------------------------------------------------------------
if (require_mount_env) >/dev/null 2>&1 && command -v sfdisk >/dev/null; then
  make_files
  truncate -s 64M "$T/fs.raw"
  printf 'label: gpt\n,,L\n' | sfdisk -q "$T/fs.raw" >/dev/null
  put_fs "$T/fs.raw" 1 ext4 RBDVOL
  vdk convert "$T/fs.raw" rbd:rbd/fs >/dev/null || die "convert fs"
  mkdir -p "$T/mnt"
  check_vdk "vdk mount rbd:rbd/fs 1 DIR" mount rbd:rbd/fs 1 "$T/mnt"
  check_files "$T/mnt" "the mounted volume"
  pass "the volume's files read back"
  check_vdk "vdk umount" umount "$T/mnt"
else
  echo "# mount not run: $(require_mount_env 2>&1 | head -1)"
fi

# ---- scale out over loopback ------------------------------------------
# One read-only image (a snapshot), three servers exporting it (one
# process per host in docs/scale.md), six clients at once.
vdk convert "$raw" rbd:rbd/b >/dev/null || die "convert b"
rbd snap create rbd/b@s >/dev/null 2>&1 || die "snap b"
# read_all URIS...: every URI copied at once; prints MiB/s overall.
read_all () {
  local start end i=0 pids=() bytes=0 u
  start=$(date +%s%N)
  for u in "$@"; do
    nbdcopy --connections=2 "$u" "$T/out.$i" &
    pids+=($!)
    i=$((i + 1))
  done
  for u in "${pids[@]}"; do
    wait "$u" || echo "# a copy failed" >&2
  done
  end=$(date +%s%N)
  bytes=$(( $# * 32 * MiB ))
  echo $(( bytes * 1000 / MiB / ((end - start) / 1000000 + 1) ))
}
# exact_all N: out.0 .. out.N-1 are the image.
exact_all () {
  local i
  for ((i = 0; i < $1; i++)); do
    cmp -s "$T/out.$i" "$raw" || return 1
  done
}
URIS=()
for s in 1 2 3; do
  serve "$T/scale$s.sock" -r rbd:rbd/b@s
  URIS+=("$URI")
done
one=$(read_all "${URIS[0]}" "${URIS[0]}" "${URIS[0]}" "${URIS[0]}" \
  "${URIS[0]}" "${URIS[0]}")
check "six clients of one server: every copy byte-exact" exact_all 6
rm -f "$T"/out.*
many=$(read_all "${URIS[0]}" "${URIS[1]}" "${URIS[2]}" "${URIS[0]}" \
  "${URIS[1]}" "${URIS[2]}")
check "six clients spread over three servers: every copy byte-exact" \
  exact_all 6
echo "# scale: one server $one MiB/s, three servers $many MiB/s" \
  "(six clients, one image; 2 cores, loopback)"
finish
