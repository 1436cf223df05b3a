#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdk serve against the standard NBD tools: nbdinfo, nbdcopy, qemu-img.
#
# For a sparse disk, a streamOptimized disk and a two-link chain, served
# over a unix socket: nbdcopy and qemu-img read the exact bytes, `nbdinfo
# --map` agrees with `vdk map` (holes, zeroes, data across the chain),
# `nbdinfo --json` carries the disk's information as the description.
# Then writes: nbdcopy into a served disk lands exactly; a served disk
# is locked against a local writer; a streamOptimized disk is exported
# read-only; TCP on loopback; datastore names stay inside their folder.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/nbd-lib.sh"
require jq

# ---- fixtures ----
base="$T/base.raw"
truncate -s 64M "$base"
head -c 3M /dev/urandom | dd of="$base" bs=64K seek=10 conv=notrunc status=none
head -c 1M /dev/urandom | dd of="$base" bs=1M seek=40 conv=notrunc status=none
vdk convert "$base" "$T/s.vmdk" || die "convert to sparse"
vdk convert -t streamOptimized "$base" "$T/st.vmdk" || die "convert to stream"
cp "$T/s.vmdk" "$T/p.vmdk"
vdk child "$T/p.vmdk" "$T/c.vmdk" || die "child"
head -c 1M /dev/urandom >"$T/patch"
vdk write --offset $((20 * MiB)) "$T/c.vmdk" <"$T/patch" || die "write child"
cp "$base" "$T/chain.raw"
dd if="$T/patch" of="$T/chain.raw" bs=1M seek=20 conv=notrunc status=none

# ---- reads: sparse, stream, chain ----
check_export () {
  local name=$1 disk=$2 expect=$3 type=$4 desc
  serve_start -r --unix "$T/$name.sock" "$disk"
  check "$name: nbdcopy reads it" nbdcopy "$URI" "$T/$name.out"
  check_same "$name: nbdcopy's copy is byte-exact" "$T/$name.out" "$expect"
  check "$name: qemu-img compare with the raw image" \
    qemu-img compare -q -f raw -F raw "$URI" "$expect"
  check_eq "$name: nbdinfo --map agrees with vdk map" \
    "$(vdk_map "$disk")" "$(nbd_map "$URI")"
  desc=$(nbdinfo --json "$URI" | jq -r '.exports[0].description')
  check_eq "$name: description names the create type" "$type" \
    "$(jq -r .type <<<"$desc")"
  check_eq "$name: description gives the capacity" $((64 * MiB)) \
    "$(jq -r .capacity <<<"$desc")"
  check_eq "$name: description carries the DDB" "$(vdk meta "$disk" \
    ddb.uuid 2>/dev/null)" "$(jq -r '.ddb["ddb.uuid"] // empty' <<<"$desc")"
  check_eq "$name: minimum block size 512" 512 \
    "$(nbdinfo --json "$URI" | jq '.exports[0].block_size_minimum')"
  check "$name: multi-conn advertised" nbdinfo --can multi-conn "$URI"
  serve_stop
}
check_export sparse "$T/s.vmdk" "$base" monolithicSparse
check_export stream "$T/st.vmdk" "$base" streamOptimized
check_export chain "$T/c.vmdk" "$T/chain.raw" monolithicSparse

# ---- the chain's map shows the parent's data through the child ----
serve_start -r --unix "$T/m.sock" "$T/c.vmdk"
check "chain map: data at 640 KiB comes from the parent" \
  grep -q "^655360 3145728 data$" <(nbd_map "$URI")
serve_stop

# ---- writes ----
cp "$T/s.vmdk" "$T/w.vmdk"
head -c 64M /dev/urandom >"$T/new.raw"
truncate -s 64M "$T/new.raw"
dd if=/dev/zero of="$T/new.raw" bs=1M seek=8 count=8 conv=notrunc status=none
serve_start --unix "$T/w.sock" "$T/w.vmdk"
check "nbdcopy writes into a served disk" nbdcopy "$T/new.raw" "$URI"
run_vdk write "$T/w.vmdk" </dev/null
check_eq "a served disk refuses a second local writer" 1 "$rc"
check "... saying it is in use" grep -qi "in use" "$T/err"
serve_stop
check_vdk_read "written data is exact after the server stopped" \
  "$T/w.vmdk" "$T/new.raw"
check "qemu-img check of the written disk" qemu-img check -q "$T/w.vmdk"

serve_start --unix "$T/sw.sock" "$T/st.vmdk"
check "a streamOptimized disk is exported read-only" \
  nbdinfo --is read-only "$URI"
serve_stop

# ---- loopback TCP ----
port=$(free_port)
serve_start -r --bind 127.0.0.1 --port "$port" "$T/s.vmdk"
check_eq "TCP URI printed" "nbd://127.0.0.1:$port/" "$URI"
check "nbdcopy over loopback TCP" nbdcopy "$URI" "$T/tcp.out"
check_same "... byte-exact" "$T/tcp.out" "$base"
serve_stop
# IPv6 loopback, when the host has it: the address goes in brackets.
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
     2>/dev/null; then
  port=$(free_port)
  serve_start -r --bind ::1 --port "$port" "$T/s.vmdk"
  check_eq "IPv6 URI printed with brackets" "nbd://[::1]:$port/" "$URI"
  check "nbdinfo over IPv6 through it" nbdinfo --size "$URI"
  serve_stop
else
  echo "# IPv6 check not run: this host has no ::1"
fi

# ---- datastores ----
mkdir -p "$T/ds/vm" "$T/outside"
cp "$T/s.vmdk" "$T/ds/vm/d.vmdk"
cp "$base" "$T/outside/secret.raw"
ln -s ../outside/secret.raw "$T/ds/vm/link.raw"
serve_start -r --unix "$T/ds.sock" --datastore "ds1=$T/ds"
sock="socket=$T/ds.sock"
check "a datastore disk by its VDDK name" \
  nbdcopy "nbd+unix:///%5Bds1%5D%20vm/d.vmdk?$sock" "$T/ds.out"
check_same "... byte-exact" "$T/ds.out" "$base"
for bad in "%5Bds1%5D%20../outside/secret.raw" "%5Bds1%5D%20vm/link.raw" \
           "%5Bds2%5D%20vm/d.vmdk" "%5Bds1%5D%20/etc/passwd" ""; do
  if nbdinfo "nbd+unix:///$bad?$sock" >"$T/bad.out" 2>&1; then
    fail "datastore export '$bad' must be refused"
  else
    pass "datastore export '$bad' refused"
  fi
done
check "the export list reveals no paths" \
  test -z "$(nbdinfo --list --json "nbd+unix:///?$sock" 2>/dev/null \
             | jq -r '.exports[]?."export-name"' | grep -v '^$')"
serve_stop

# ---- as a daemon with a pid file ----
run_vdk serve -r --daemon --pid-file "$T/d.pid" --unix "$T/d.sock" \
  "$T/s.vmdk"
check_eq "serve --daemon returns once ready" 0 "$rc"
dpid=$(cat "$T/d.pid" 2>/dev/null || echo 0)
at_exit "kill $dpid 2>/dev/null"
check_eq "... printing the URI" "nbd+unix:///?socket=$T/d.sock" \
  "$(head -1 "$T/out")"
check "... and serving" timeout 60 nbdinfo --size \
  "nbd+unix:///?socket=$T/d.sock"
kill -TERM "$dpid" 2>/dev/null
for ((i = 0; i < 200; i++)); do kill -0 "$dpid" 2>/dev/null || break
  sleep 0.05; done
check "... and SIGTERM stops it" test "$i" -lt 200
run_vdk write "$T/s.vmdk" </dev/null
check_eq "... having closed the disk (a local writer may open it)" 0 "$rc"

# ---- bad command lines ----
run_vdk serve
check_eq "serve without a disk is a usage error" 1 "$rc"
run_vdk serve --unix "$T/x.sock" "$T/missing.vmdk"
check_eq "serving a missing disk fails" 1 "$rc"
finish
