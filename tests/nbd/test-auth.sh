#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Credentials and tickets of `vdk serve`, seen from vdk's client and
# from nbdinfo.
#
# TLS with pre-shared keys and with X.509 certificates is required when
# configured: a client without a key, with a wrong key, a plain client
# and a client trusting another certificate authority are refused, each
# with its own error code (TLS, AUTH), and not even the export list is
# reachable.  Tickets: a live ticket opens its disk (in its mode, for
# several connections), expired, revoked and unknown tickets are refused
# (TICKET), the export list stays empty.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/nbd-lib.sh"
require psktool certtool
[ -x "${NBD_TOOL:-}" ] || skip "nbd-tool was not built"

base="$T/base.raw"
truncate -s 16M "$base"
head -c 1M /dev/urandom | dd of="$base" bs=64K seek=3 conv=notrunc status=none
vdk convert "$base" "$T/d.vmdk" || die "convert"

# ---- TLS with pre-shared keys ----
psktool -u alice -p "$T/keys.psk" >/dev/null 2>&1 || die "psktool"
psktool -u alice -p "$T/wrong.psk" >/dev/null 2>&1 || die "psktool"
psktool -u mallory -p "$T/other.psk" >/dev/null 2>&1 || die "psktool"
serve_start -r --unix "$T/psk.sock" --tls-psk "$T/keys.psk" "$T/d.vmdk"
check "the printed URI is nbds+unix with the key file" \
  grep -q "^nbds+unix://alice@/?socket=$T/psk.sock&tls-psk-file=" <<<"$URI"
check_vdk_read "read over TLS-PSK through the printed URI" "$URI" "$base"
o=$("$NBD_TOOL" open --socket "$T/psk.sock" --user alice \
    --key-file "$T/keys.psk")
check_eq "vdk_open_ex with the key: transport nbdssl" \
  "nbdssl $((16 * MiB))" "$o"
o=$("$NBD_TOOL" open --socket "$T/psk.sock" --user alice \
    --password "$(cut -d: -f2 "$T/keys.psk")")
check_eq "vdk_open_ex with the key as a password" "nbdssl $((16 * MiB))" "$o"
o=$("$NBD_TOOL" open --socket "$T/psk.sock" --transports nbd)
check "no key (plain nbd): refused as TLS required" \
  grep -q "^error TLS " <<<"$o"
o=$("$NBD_TOOL" open --socket "$T/psk.sock" --user alice \
    --key-file "$T/wrong.psk" --transports nbdssl)
check "a wrong key: AUTH" grep -q "^error AUTH " <<<"$o"
o=$("$NBD_TOOL" open --socket "$T/psk.sock" --user mallory \
    --key-file "$T/other.psk" --transports nbdssl)
check "an unknown identity: AUTH" grep -q "^error AUTH " <<<"$o"
o=$("$NBD_TOOL" open --socket "$T/psk.sock" --user alice \
    --key-file "$T/wrong.psk")
check "nbdssl:nbd with a wrong key reports the key, not TLS" \
  grep -q "^error AUTH " <<<"$o"
if nbdinfo "nbd+unix:///?socket=$T/psk.sock" >/dev/null 2>&1; then
  fail "a plain nbdinfo must be refused"
else
  pass "a plain nbdinfo is refused"
fi
if nbdinfo --list "nbd+unix:///?socket=$T/psk.sock" >/dev/null 2>&1; then
  fail "the export list must not be reachable without TLS"
else
  pass "the export list is not reachable without TLS"
fi
check "nbdinfo with the key" nbdinfo \
  "nbds+unix://alice@/?socket=$T/psk.sock&tls-psk-file=$T/keys.psk"

# The cipher (tools/cmd-serve.c): a SHA-256 key leaves ChaCha20-Poly1305
# and AES-128-GCM, and GnuTLS's order picks ChaCha20, ten times slower
# on a CPU with AES instructions; vdk serve then asks for AES-128-GCM,
# unless the caller set GNUTLS_SYSTEM_PRIORITY_FILE.
cipher_of () {   # cipher_of URI: the cipher nbdinfo's handshake got
  LD_PRELOAD=$TLS_CIPHER_SHIM nbdinfo "$1" 2>&1 >/dev/null \
    | sed -n 's/^tls-cipher //p' | head -1
}
if [ -z "${TLS_CIPHER_SHIM:-}" ]; then
  echo "# cipher checks not run: the tls-cipher shim is not built" \
    "(sanitizer build, or no GnuTLS headers)"
elif ! grep -Eq '^(flags|Features).* aes( |$)' /proc/cpuinfo; then
  echo "# cipher checks not run: this CPU has no AES instructions," \
    "so GnuTLS's ChaCha20 is the right choice"
else
  check_eq "with AES instructions the server settles on AES-128-GCM" \
    AES-128-GCM \
    "$(cipher_of "nbds+unix://alice@/?socket=$T/psk.sock&tls-psk-file=$T/keys.psk")"
  printf '[overrides]\ntls-disabled-cipher = AES-128-GCM\n' >"$T/gnutls.cfg"
  psk_pid=$SERVE_PID
  GNUTLS_SYSTEM_PRIORITY_FILE=$T/gnutls.cfg \
    serve_start -r --unix "$T/psk2.sock" --tls-psk "$T/keys.psk" "$T/d.vmdk"
  check_eq "the caller's GNUTLS_SYSTEM_PRIORITY_FILE is kept" \
    CHACHA20-POLY1305 \
    "$(cipher_of "nbds+unix://alice@/?socket=$T/psk2.sock&tls-psk-file=$T/keys.psk")"
  serve_stop
  SERVE_PID=$psk_pid
fi
serve_stop

# The printed URI percent-encodes what it names: a socket and a key file
# in a folder called "a b&c" (an & ends a query value; a space ends the
# URI for most tools).
# The identity is encoded too, '/' included (it would end the authority).
odd="$T/a b&c"
mkdir -p "$odd"
psktool -u "al/ice x" -p "$odd/k ey.psk" >/dev/null 2>&1 || die "psktool"
serve_start -r --unix "$odd/s o&ck" --tls-psk "$odd/k ey.psk" "$T/d.vmdk"
check "a URI with odd names is percent-encoded" \
  grep -q '^nbds+unix://al%2Fice%20x@/?socket=.*/a%20b%26c/s%20o%26ck&tls-psk-file=.*/a%20b%26c/k%20ey\.psk$' \
  <<<"$URI"
check "nbdinfo reads through it" nbdinfo --size "$URI"
check_vdk_read "vdk reads through it" "$URI" "$base"
serve_stop

# ---- TLS with X.509 certificates (loopback TCP) ----
make_ca () {      # DIR NAME: a CA key and certificate in DIR
  mkdir -p "$1"
  certtool --generate-privkey --outfile "$1/ca-key.pem" >/dev/null 2>&1
  printf 'cn = %s\nca\ncert_signing_key\nexpiration_days = 2\n' "$2" \
    >"$1/ca.info"
  certtool --generate-self-signed --load-privkey "$1/ca-key.pem" \
    --template "$1/ca.info" --outfile "$1/ca-cert.pem" >/dev/null 2>&1
}
make_ca "$T/pki" "vdk test CA" || die "CA"
make_ca "$T/evil" "another CA" || die "second CA"
certtool --generate-privkey --outfile "$T/pki/server-key.pem" >/dev/null 2>&1
printf 'cn = localhost\ndns_name = localhost\nip_address = 127.0.0.1\n%s\n' \
  'tls_www_server
encryption_key
signing_key
expiration_days = 2' >"$T/pki/server.info"
certtool --generate-certificate --load-ca-certificate "$T/pki/ca-cert.pem" \
  --load-ca-privkey "$T/pki/ca-key.pem" --load-privkey "$T/pki/server-key.pem" \
  --template "$T/pki/server.info" --outfile "$T/pki/server-cert.pem" \
  >/dev/null 2>&1 || die "server certificate"
mkdir -p "$T/client" "$T/client-evil"
cp "$T/pki/ca-cert.pem" "$T/client/"
cp "$T/evil/ca-cert.pem" "$T/client-evil/"
port=$(free_port)
serve_start -r --bind 127.0.0.1 --port "$port" --tls-certificates "$T/pki" \
  "$T/d.vmdk"
good="nbds://localhost:$port/?tls-certificates=$T/client"
check_vdk_read "read over X.509 TLS" "$good" "$base"
o=$("$NBD_TOOL" open --server localhost --port "$port" \
    --certificates "$T/client")
check_eq "vdk_open_ex with certificates: nbdssl" "nbdssl $((16 * MiB))" "$o"
o=$("$NBD_TOOL" open --server localhost --port "$port" \
    --certificates "$T/client-evil" --transports nbdssl)
check "a client trusting another CA: AUTH" grep -q "^error AUTH " <<<"$o"
o=$("$NBD_TOOL" open --server localhost --port "$port" --transports nbd)
check "a plain client: TLS" grep -q "^error TLS " <<<"$o"
if nbdinfo "nbd://localhost:$port/" >/dev/null 2>&1; then
  fail "a plain nbdinfo must be refused by the X.509 server"
else
  pass "a plain nbdinfo is refused by the X.509 server"
fi
serve_stop

# ---- tickets ----
mkdir -p "$T/ds/vm"
cp "$T/d.vmdk" "$T/ds/vm/d.vmdk"
cp "$T/d.vmdk" "$T/local.vmdk"
store="$T/tickets"
run_vdk ticket create --store "$store" --disk "[ds1] vm/d.vmdk"
check_eq "ticket create" 0 "$rc"
rw=$(cat "$T/out")
check "a ticket id is 64 hex digits" grep -qE '^[0-9a-f]{64}$' <<<"$rw"
ro=$(vdk ticket create --store "$store" --read-only --disk "[ds1] vm/d.vmdk")
local_t=$(vdk ticket create --store "$store" "$T/local.vmdk")
gone=$(vdk ticket create --store "$store" --disk "[ds1] vm/d.vmdk")
old=$(vdk ticket create --store "$store" --disk "[ds1] vm/d.vmdk")
# expire one by hand (no waiting in tests)
sed -i 's/^expires=.*/expires=1000/' "$store/$old"
check_vdk "ticket revoke" ticket revoke --store "$store" "$gone"
run_vdk ticket list --store "$store" --json
check_eq "ticket list shows the four left" 4 "$(jq length "$T/out")"
check_eq "... one of them expired" 1 \
  "$(jq '[.[] | select(.live == false)] | length' "$T/out")"
check_eq "... one read-only" "$ro" \
  "$(jq -r '.[] | select(.read_only) | .id' "$T/out")"

serve_start --unix "$T/t.sock" --tickets "$store" --datastore "ds1=$T/ds"
S="socket=$T/t.sock"
o=$("$NBD_TOOL" open --socket "$T/t.sock" --ticket "$rw" --write)
check_eq "a live read-write ticket opens and writes" \
  "nbd $((16 * MiB))
write ok" "$o"
check "the same ticket again (clients reconnect)" \
  nbdcopy "nbd+unix:///$rw?$S" "$T/t.out"
o=$("$NBD_TOOL" open --socket "$T/t.sock" --ticket "$ro" --write)
check "a read-only ticket refuses writes" grep -q "^error READ_ONLY" <<<"$o"
check_vdk_read "a ticket for a local file" "nbd+unix:///$local_t?$S" "$base"
o=$("$NBD_TOOL" open --socket "$T/t.sock" --ticket "$old")
check "an expired ticket: TICKET" grep -q "^error TICKET " <<<"$o"
o=$("$NBD_TOOL" open --socket "$T/t.sock" --ticket "$gone")
check "a revoked ticket: TICKET" grep -q "^error TICKET " <<<"$o"
o=$("$NBD_TOOL" open --socket "$T/t.sock" --ticket "$(printf '%064d' 7)")
check "an unknown ticket: TICKET" grep -q "^error TICKET " <<<"$o"
run_vdk read "nbd+unix:///%5Bds1%5D%20vm/d.vmdk?$S"
check_eq "with tickets, a datastore name alone is refused" 1 "$rc"
run_vdk read "nbd+unix:///?$S"
check_eq "with tickets, the default export is refused" 1 "$rc"
check "no export is listed" test -z \
  "$(nbdinfo --list --json "nbd+unix:///?$S" 2>/dev/null \
     | jq -r '.exports[]?."export-name"')"
check "the server log says why, without paths" \
  grep -q "unknown or expired ticket" "$T/serve.$nservers.err"
serve_stop
finish
