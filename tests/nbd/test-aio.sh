#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Asynchronous I/O over NBD (vdk_aio_* on a remote disk): many requests
# in flight on the connection, each callback run exactly once with its
# own result (one out-of-range request fails alone), vdk_aio_wait
# returning only after every callback; data equal to synchronous reads;
# synchronous reads made inside callbacks.
# Against nbdkit with a delay, more requests are at the server at once
# than worker threads could make, over several connections (multi-conn).
# Then the server is killed with requests in flight: every outstanding
# request reports "connection lost" (VDK_E_CONNECTION_LOST), so does a
# later synchronous call, and a new handle works once the server is
# back.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/nbd-lib.sh"
[ -x "${NBD_TOOL:-}" ] || skip "nbd-tool was not built"

base="$T/base.raw"
head -c 24M /dev/urandom >"$base"
vdk convert "$base" "$T/d.vmdk" || die "convert"

serve_start -r --unix "$T/a.sock" "$T/d.vmdk"
check "500 requests in flight on a unix socket" \
  "$NBD_TOOL" aio "$URI" 500
# A callback may make synchronous calls (vdk.h): they ran on the
# connection's thread and waited for a reply only it could read.
check "synchronous reads inside aio callbacks (bounded: a deadlock fails)" \
  timeout 60 "$NBD_TOOL" aio-nested "$URI"
serve_stop
port=$(free_port)
serve_start -r --bind 127.0.0.1 --port "$port" "$T/d.vmdk"
check "300 requests in flight over loopback TCP" "$NBD_TOOL" aio "$URI" 300
serve_stop

# In flight for real, and over several connections: against nbdkit's
# memory plugin (which advertises multi-conn) behind the delay filter,
# every read takes 50 ms, and the log filter records when each starts
# and returns.  The library's fallback (synchronous calls on
# AIO_THREADS = 4 worker threads, lib/disk/aio.c) never has more than 4
# at once; libnbd's aio calls over up to NBD_MAX_CONNS = 4 connections
# reach nbdkit's 16 threads on each.
rm -f "$T/log.txt"
timeout -s KILL 60 nbdkit -f -U "$T/m.sock" --filter=log --filter=delay \
  memory 64M logfile="$T/log.txt" delay-read=50ms &
mpid=$!
at_exit "kill $mpid 2>/dev/null"
for ((i = 0; i < 200; i++)); do [ -S "$T/m.sock" ] && break; sleep 0.05; done
check "200 delayed requests against nbdkit's memory plugin" \
  timeout 60 "$NBD_TOOL" aio "nbd+unix:///?socket=$T/m.sock" 200
kill "$mpid"; wait "$mpid" 2>/dev/null
# in_flight: "CONNECTIONS MAX": connections that served reads, and the
# most reads between their start and their return at one time.
read -r nconn maxin < <(awk '
  { c = $3; sub("connection=", "", c) }
  / Read id=/ && !/return=/ { seen[c] = 1; if (++n > m) m = n }
  /\.\.\.Read id=.* return=/ { n-- }
  END { k = 0; for (c in seen) k++; print k, m + 0 }' "$T/log.txt")
check "multi-conn: reads came over more than one connection ($nconn)" \
  test "${nconn:-0}" -gt 1
check "more reads at once ($maxin) than the 4 fallback workers allow" \
  test "${maxin:-0}" -gt 8

serve_start -r --unix "$T/k.sock" --pid-file "$T/nbdkit.pid" "$T/d.vmdk"
pid=$(cat "$T/nbdkit.pid")
"$NBD_TOOL" aio-lost "$URI" "$pid" >"$T/lost.out" 2>&1
rc=$?
sed 's/^/    | /' "$T/lost.out"
check_eq "server killed mid-transfer: every outstanding request lost" 0 "$rc"
check "... vdk_aio_wait says connection lost" \
  grep -q "^wait: CONNECTION_LOST .*connection lost" "$T/lost.out"
wait "$SERVE_PID" 2>/dev/null
rm -f "$T/k.sock"   # left by the killed server
serve_start -r --unix "$T/k.sock" "$T/d.vmdk"
check_vdk_read "a new handle reads once the server is back" "$URI" "$base"
serve_stop
finish
