#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdk's own NBD client (the nbd io backend) against three servers:
# `vdk serve`, qemu-nbd and nbdkit's memory plugin, over unix sockets
# and loopback TCP.
#
# Every subcommand that takes a disk takes a URI: info (from the export
# description: create type, CIDs, DDB), read, map, write, meta (reads
# work, writes are refused as "not supported by this transport"),
# check (what a client can check), convert from an export and into an
# existing one.  vdk_open_ex's connection fields (server, port, socket,
# transport list) and vdk_get_transport_mode.  A read-only export
# refuses writes.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/nbd-lib.sh"
require jq qemu-nbd
[ -x "${NBD_TOOL:-}" ] || skip "nbd-tool was not built"

base="$T/base.raw"
truncate -s 32M "$base"
head -c 2M /dev/urandom | dd of="$base" bs=64K seek=7 conv=notrunc status=none
head -c 512K /dev/urandom | dd of="$base" bs=1M seek=30 conv=notrunc status=none
vdk convert -a lsilogic "$base" "$T/s.vmdk" || die "convert"
cp "$T/s.vmdk" "$T/p.vmdk"
vdk child "$T/p.vmdk" "$T/c.vmdk" || die "child"
head -c 100000 /dev/urandom >"$T/patch"
vdk write --offset 3000 "$T/c.vmdk" <"$T/patch" || die "write child"
cp "$base" "$T/chain.raw"
dd if="$T/patch" of="$T/chain.raw" bs=1 seek=3000 conv=notrunc status=none

# ---- against vdk serve: a chain, read-only ----
serve_start -r --unix "$T/c.sock" "$T/c.vmdk"
U=$URI
check_vdk_read "read a served chain through a URI" "$U" "$T/chain.raw"
run_vdk info --json "$U"
check_eq "info: create type from the description" monolithicSparse \
  "$(jq -r .create_type "$T/out")"
check_eq "info: the child's CID" "$(vdk info --json "$T/c.vmdk" | jq -r .cid)" \
  "$(jq -r .cid "$T/out")"
check_eq "info: the parent CID" \
  "$(vdk info --json "$T/c.vmdk" | jq -r .parent_cid)" \
  "$(jq -r .parent_cid "$T/out")"
check_eq "info: the links of the chain" 2 "$(jq -r .links "$T/out")"
check_eq "info: capacity" $((32 * MiB)) "$(jq -r .capacity "$T/out")"
run_vdk meta "$U" ddb.adapterType
check_eq "meta get over NBD" lsilogic "$(cat "$T/out")"
run_vdk meta "$U" ddb.adapterType ide
check_eq "meta set over NBD fails" 1 "$rc"
check "... not supported by this transport" \
  grep -q "not supported by this transport" "$T/err"
run_vdk write "$U" <"$T/patch"
check_eq "a read-only export refuses writes" 1 "$rc"
check "... saying read-only" grep -qi "read-only" "$T/err"
data_runs () { awk '$3 == "data" { print $1, $2 }'; }
check_eq "map over NBD: the same data runs as the local chain" \
  "$(vdk_map "$T/c.vmdk" | data_runs)" \
  "$(vdk map "$U" | awk 'NR > 1 { print $1, $2, $3 }' | merge_runs | data_runs)"
check_vdk "check of a remote disk" check "$U"
check "... notes that every byte was read" grep -q "every byte" "$T/out"
check_vdk "convert from an export" convert "$U" "$T/from.vmdk"
check_vdk_read "... byte-exact" "$T/from.vmdk" "$T/chain.raw"
out=$("$NBD_TOOL" open --socket "$T/c.sock" --transports nbdssl:nbd)
check_eq "vdk_open_ex with a socket: transport nbd after nbdssl failed" \
  "nbd $((32 * MiB))" "$out"
out=$("$NBD_TOOL" open --socket "$T/c.sock" --transports nbd --write)
check "vdk_open_ex on a read-only export refuses the write" \
  grep -q "READ_ONLY" <<<"$out"
serve_stop

# ---- against vdk serve over TCP: writes, convert into ----
port=$(free_port)
cp "$T/s.vmdk" "$T/w.vmdk"
serve_start --bind 127.0.0.1 --port "$port" "$T/w.vmdk"
U=$URI
out=$("$NBD_TOOL" open --server 127.0.0.1 --port "$port" --transports nbd)
check_eq "vdk_open_ex with server and port" "nbd $((32 * MiB))" "$out"
head -c 32M /dev/urandom >"$T/new.raw"
dd if=/dev/zero of="$T/new.raw" bs=1M seek=4 count=20 conv=notrunc status=none
check_vdk "convert into an existing export over TCP" convert "$T/new.raw" "$U"
check_vdk_read "... reads back through the URI" "$U" "$T/new.raw"
check_vdk "write at an unaligned offset" write --offset 1001 "$U" <"$T/patch"
dd if="$T/patch" of="$T/new.raw" bs=1 seek=1001 conv=notrunc status=none
check "... nbdcopy sees it" nbdcopy "$U" "$T/w.out"
check_same "... byte-exact" "$T/w.out" "$T/new.raw"
# Several clients at once: four processes write their own MiB each
# while a fifth writes through four threads (extra connections).
for k in 1 2 3 4; do
  head -c 1M /dev/urandom >"$T/part$k"
  dd if="$T/part$k" of="$T/new.raw" bs=1M seek=$((24 + k)) conv=notrunc \
    status=none
  vdk write --offset $(((24 + k) * MiB)) "$U" <"$T/part$k" \
    >"$T/part$k.out" 2>&1 &
done
"$NBD_TOOL" threads "$U" 4 >"$T/threads.out" 2>&1
trc=$?
wait_ok=0
for k in 1 2 3 4; do wait -n || wait_ok=1; done
check_eq "five clients writing at once all succeed" "0 0" "$trc $wait_ok"
for ((k = 0; k < 4; k++)); do       # what nbd-tool threads wrote
  python3 - "$T/new.raw" "$k" <<'PY'
import struct, sys
path, k = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    for off in range(0, 4 << 20, 64 << 10):
        blk = bytearray(bytes([65 + k]) * (64 << 10))
        blk[0:8] = struct.pack("<Q", off)
        f.seek(k * (4 << 20) + off)
        f.write(blk)
PY
done
check "... then the data is exact" nbdcopy "$U" "$T/w2.out"
check_same "... byte for byte" "$T/w2.out" "$T/new.raw"
serve_stop
check_vdk_read "the served disk holds the writes after the server stopped" \
  "$T/w.vmdk" "$T/new.raw"
check "qemu-img check of the disk written over NBD" qemu-img check -q "$T/w.vmdk"

# ---- against qemu-nbd ----
cp "$base" "$T/q.raw"
timeout -s TERM "$SERVER_TIMEOUT" qemu-nbd -f raw -t -x exp -k "$T/q.sock" \
  "$T/q.raw" 2>"$T/qemu-nbd.err" &
qpid=$!
at_exit "kill $qpid 2>/dev/null; wait $qpid 2>/dev/null"
for ((i = 0; i < 200; i++)); do [ -S "$T/q.sock" ] && break; sleep 0.05; done
U="nbd+unix:///exp?socket=$T/q.sock"
check_vdk_read "read from qemu-nbd" "$U" "$base"
run_vdk info --json "$U"
check_eq "qemu-nbd's export is raw to vdk" raw "$(jq -r .create_type "$T/out")"
check_vdk "write into qemu-nbd's export" write --offset 5000 "$U" <"$T/patch"
dd if="$T/patch" of="$base" bs=1 seek=5000 conv=notrunc status=none
check_vdk_read "... reads back" "$U" "$base"
check_eq "transport mode against qemu-nbd" "nbd $((32 * MiB))" \
  "$("$NBD_TOOL" open --socket "$T/q.sock" --transports nbd exp)"
kill "$qpid"; wait "$qpid" 2>/dev/null
check_same "qemu-nbd's file holds the write" "$T/q.raw" "$base"

# ---- against nbdkit's memory plugin ----
timeout -s TERM "$SERVER_TIMEOUT" nbdkit -f --exit-with-parent \
  -U "$T/m.sock" memory 32M &
mpid=$!
at_exit "kill $mpid 2>/dev/null; wait $mpid 2>/dev/null"
for ((i = 0; i < 200; i++)); do [ -S "$T/m.sock" ] && break; sleep 0.05; done
U="nbd+unix:///?socket=$T/m.sock"
check_vdk "convert into nbdkit memory" convert "$T/s.vmdk" "$U"
check "nbdcopy agrees" nbdcopy "$U" "$T/m.out"
check "... with vdk's own read" cmp "$T/m.out" <(vdk read "$T/s.vmdk")
check "aio: many requests in flight against nbdkit" "$NBD_TOOL" aio "$U" 200
check "threads writing at once through one handle (multi-conn)" \
  "$NBD_TOOL" threads "$U" 4
kill "$mpid"; wait "$mpid" 2>/dev/null

# ---- errors that need no server ----
out=$("$NBD_TOOL" open --socket "$T/none.sock" --transports nbd)
check "no server: CONNECT" grep -q "^error CONNECT" <<<"$out"
out=$("$NBD_TOOL" open --socket "$T/none.sock" --transports bogus)
check "an unknown transport is refused" grep -q "^error UNSUPPORTED" <<<"$out"
out=$("$NBD_TOOL" open --transports nbd "$T/s.vmdk")
check "a local path with a list without file" \
  grep -q "^error INVALID_ARG" <<<"$out"
out=$("$NBD_TOOL" open --transports file "$T/s.vmdk")
check_eq "transport mode of a local disk" "file $((32 * MiB))" "$out"
finish
