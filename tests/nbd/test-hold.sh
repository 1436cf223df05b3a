#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What `vdk serve` promises beyond the bytes, and what vdk's client
# makes of it:
# - allocation crosses the wire: `vdk map` of a URI shows the holes,
#   zeroed grains and data the server reports, as `vdk map` of the disk
#   and `nbdinfo --map` do, and `vdk convert` of a URI copies only data;
# - a disk served read-write is held (locked against local writers)
#   between connections: a datastore disk until the server stops, a
#   ticket's disk until the ticket ends;
# - a ticket revoked or expired while a connection is open ends that
#   connection's access (its requests fail: VDK_E_TICKET);
# - `vdk serve -f raw` serves a raw image whatever its first bytes say;
# - `vdk serve --daemon` returns only once the server accepts, and fails
#   when the server cannot open its disk.
# Nothing waits on a clock: ticket ends are polled for, bounded.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/nbd-lib.sh"
require qemu-io

# ---- allocation over the wire ----
qemu-img create -q -f vmdk -o zeroed_grain=on "$T/z.vmdk" 64M
qemu-io -f vmdk -c "write -P 0xaa 0 4M" -c "write -z 1M 1M" \
  -c "write -P 0x55 40M 1M" "$T/z.vmdk" >/dev/null || die "qemu-io"
qemu-img convert -f vmdk -O raw "$T/z.vmdk" "$T/z.raw"
serve_start -r --unix "$T/z.sock" "$T/z.vmdk"
local_map=$(vdk_map "$T/z.vmdk")
check "the disk has zeroed grains" grep -q " zero$" <<<"$local_map"
check "... and holes" grep -q " hole$" <<<"$local_map"
check_eq "vdk map of the URI is vdk map of the disk" "$local_map" \
  "$(vdk_map "$URI")"
check_eq "... and nbdinfo --map of the export" "$local_map" \
  "$(nbd_map "$URI")"
run_vdk map --json "$URI"
check_eq "vdk map --json of the URI: holes lie in no link" \
  "$(jq -c '[.[] | select(.state == "hole") | .depth] | unique' "$T/out")" \
  "[null]"
check_vdk "vdk convert of the URI" convert "$URI" "$T/zc.vmdk"
check_eq "... copies only the data" "$(grep " data$" <<<"$local_map")" \
  "$(vdk_map "$T/zc.vmdk" | grep " data$")"
check "... byte-exact" qemu-img compare -q -f vmdk -F raw "$T/zc.vmdk" \
  "$T/z.raw"
serve_stop

# ---- a datastore disk written is held until the server stops ----
mkdir -p "$T/ds"
cp "$T/z.vmdk" "$T/ds/d.vmdk"
head -c 64K /dev/urandom >"$T/patch"
serve_start --unix "$T/ds.sock" --datastore "ds1=$T/ds"
U="nbd+unix:///%5Bds1%5D%20d.vmdk?socket=$T/ds.sock"
check_vdk "a datastore disk not yet written is not held" \
  write "$T/ds/d.vmdk" </dev/null
check_vdk "a client writes it and disconnects" \
  write --offset $((8 * MiB)) "$U" <"$T/patch"
run_vdk write "$T/ds/d.vmdk" </dev/null
check_eq "between connections a local writer is refused" 1 "$rc"
check "... saying the disk is in use" grep -qi "in use" "$T/err"
run_vdk info "$U"
check "a later connection gets the held disk's description" \
  grep -q "create type: *monolithicSparse" "$T/out"
check_vdk "a reader is served meanwhile" read --offset $((8 * MiB)) \
  --length 65536 "$U"
check_same "... the data written" "$T/out" "$T/patch"
serve_stop
check_vdk "the server stopped: the disk is free" write "$T/ds/d.vmdk" \
  </dev/null

# ---- tickets: the disk is held while the ticket lives; access ends ----
store="$T/tickets"
t=$(vdk ticket create --store "$store" --disk "[ds1] d.vmdk") \
  || die "ticket create"
t2=$(vdk ticket create --store "$store" --read-only --disk "[ds1] d.vmdk")
serve_start --unix "$T/t.sock" --tickets "$store" --datastore "ds1=$T/ds"
Ut="nbd+unix:///$t?socket=$T/t.sock"
Ut2="nbd+unix:///$t2?socket=$T/t.sock"
check_vdk "a read-write ticket writes, then disconnects" \
  write --offset $((9 * MiB)) "$Ut" <"$T/patch"
run_vdk info "$Ut"
check "the ticket's next connection gets the description" \
  grep -q "create type: *monolithicSparse" "$T/out"
run_vdk write "$T/ds/d.vmdk" </dev/null
check_eq "the live ticket's disk refuses a local writer" 1 "$rc"
check "... saying it is in use" grep -qi "in use" "$T/err"

# session NAME URI: nbd-tool session as a coprocess, open checked.
session () {
  local line
  coproc SESS { "$NBD_TOOL" session "$1"; }
  read -r -t 60 line <&"${SESS[0]}"
  check_eq "a session with the ticket opens" open "$line"
}
# session_read_until_error: ask for reads until one fails (at most 30 s
# of retries), the last answer in $line.
session_read_until_error () {
  local i
  for ((i = 0; i < 300; i++)); do
    echo read >&"${SESS[1]}"
    read -r -t 60 line <&"${SESS[0]}" || break
    [ "$line" = ok ] || break
    sleep 0.1
  done
}
session_end () {
  echo quit >&"${SESS[1]}"
  wait "$SESS_PID" 2>/dev/null
}

session "$Ut2"
echo read >&"${SESS[1]}"
read -r -t 60 line <&"${SESS[0]}"
check_eq "... and reads" ok "$line"
sed -i 's/^expires=.*/expires=1000/' "$store/$t2"
session_read_until_error
check "a ticket that expires ends the open connection's reads: TICKET" \
  grep -q "^error TICKET " <<<"$line"
check "... saying the server ended access" grep -q "ended access" <<<"$line"
session_end

session "$Ut"
echo read >&"${SESS[1]}"
read -r -t 60 line <&"${SESS[0]}"
check_eq "a read-write ticket's session reads" ok "$line"
check_vdk "the ticket is revoked" ticket revoke --store "$store" "$t"
session_read_until_error
check "a revoked ticket ends the open connection's reads: TICKET" \
  grep -q "^error TICKET " <<<"$line"
session_end
for ((i = 0; i < 300; i++)); do
  run_vdk write "$T/ds/d.vmdk" </dev/null
  [ "$rc" = 0 ] && break
  sleep 0.1
done
check_eq "the ended ticket's hold is released: a local writer opens it" \
  0 "$rc"
run_vdk read "$Ut"
check_eq "a new connection with the revoked ticket is refused" 1 "$rc"
serve_stop

# ---- -f raw|vmdk ----
{ head -c 512 "$T/z.vmdk"; head -c $((4 * MiB - 512)) /dev/urandom; } \
  >"$T/kdmv.raw"
serve_start -r -f raw --unix "$T/r.sock" "$T/kdmv.raw"
check_eq "-f raw: a raw image starting with a KDMV header is served raw" \
  $((4 * MiB)) "$(nbdinfo --size "$URI")"
check "... its bytes as they are" nbdcopy "$URI" "$T/r.out"
check_same "... byte-exact" "$T/r.out" "$T/kdmv.raw"
serve_stop
run_vdk serve -r --format vmdk --unix "$T/v.sock" "$T/z.raw"
check_eq "-f vmdk refuses a raw image" 1 "$rc"
run_vdk serve -f qcow2 --unix "$T/v.sock" "$T/z.raw"
check_eq "an unknown -f is a usage error" 1 "$rc"
check "... naming it" grep -q "qcow2" "$T/err"

# ---- --daemon: ready means accepting, with the disk open ----
cp "$T/z.vmdk" "$T/held.vmdk"
serve_start --unix "$T/h1.sock" "$T/held.vmdk"
run_vdk serve --daemon --pid-file "$T/h2.pid" --unix "$T/h2.sock" \
  "$T/held.vmdk"
check_eq "--daemon fails when the server cannot open its disk" 1 "$rc"
if [ -s "$T/h2.pid" ]; then
  at_exit "kill $(cat "$T/h2.pid") 2>/dev/null"
fi
serve_stop
run_vdk serve --daemon --pid-file "$T/h3.pid" --unix "$T/h3.sock" \
  "$T/held.vmdk"
check_eq "--daemon of a free disk starts" 0 "$rc"
dpid=$(cat "$T/h3.pid" 2>/dev/null || echo 0)
at_exit "kill $dpid 2>/dev/null"
check "... and the disk is held when it returns" \
  bash -c "! vdk write '$T/held.vmdk' </dev/null 2>/dev/null"
check "... and it answers at once" timeout 60 nbdinfo --size \
  "nbd+unix:///?socket=$T/h3.sock"
kill -TERM "$dpid" 2>/dev/null
finish
