#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# VixDiskLib over the network: vix-sample --remote connects with
# ConnectEx and a server name to `vdk serve` (TLS-PSK: user = identity,
# password = hex key), opens "[datastore] path" exports and a ticket,
# reads, writes (also asynchronously), reads metadata from the export
# description, and sees the VDDK's codes for a wrong key, a missing
# export and a transport the server refuses.
source "$(dirname "$0")/../lib.sh"
source "$TESTS_DIR/nbd/nbd-lib.sh"
set -e
require psktool
: "${VIX_SAMPLE:?VIX_SAMPLE must point at vix-sample}"
: "${VDISKMANAGER:?VDISKMANAGER must point at vdk-vdiskmanager}"

# A libvdk without its NBD client fails ConnectEx with a server at once.
"$VIX_SAMPLE" --remote 127.0.0.1 1 nobody 00 x > "$T/probe" 2>&1 || true
if grep -q "without its NBD client" "$T/probe"; then
  skip "libvdk has no NBD client yet (ConnectEx with a server says so)"
fi

mkdir -p "$T/ds/vm" "$T/tickets"
psktool -u alice -p "$T/keys.psk" >/dev/null 2>&1
key=$(sed -n 's/^alice://p' "$T/keys.psk")
[ -n "$key" ] || die "psktool made no key"
for d in disk t; do
  "$VDISKMANAGER" -q -c -s 16384 -a lsilogic -t 0 "$T/ds/vm/$d.vmdk"
done

port=$(free_port)
serve_start --datastore "ds1=$T/ds" --tls-psk "$T/keys.psk" \
  --bind 127.0.0.1 --port "$port"
ticket=$(vdk ticket create --store "$T/tickets" "$T/ds/vm/t.vmdk")
tport=$(free_port)
serve_start --tickets "$T/tickets" --tls-psk "$T/keys.psk" \
  --bind 127.0.0.1 --port "$tport"

"$VIX_SAMPLE" --remote 127.0.0.1 "$port" alice "$key" "[ds1] vm/disk.vmdk" \
  > "$T/tap" 2>&1 || true
sed 's/^/    | /' "$T/tap" | grep -v '| ok' || true
check "every remote check passed" sh -c "grep -q '^1\\.\\.' '$T/tap' && ! grep -q '^not ok' '$T/tap'"
"$VIX_SAMPLE" --remote 127.0.0.1 "$tport" alice "$key" "$ticket" \
  > "$T/tap2" 2>&1 || true
check "a ticket opens as a disk path" grep -q "^ok .* - Open $ticket remotely" "$T/tap2"
finish
