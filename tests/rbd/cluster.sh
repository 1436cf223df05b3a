#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/rbd/cluster.sh - a throwaway single-node Ceph cluster (one
# monitor, one memstore OSD, no manager) in a folder, for the rbd tests
# and bench/rbd.sh.  Facts: docs/scale.md and the Ceph notes it cites.
#
# Sourced:   source cluster.sh; cluster_start DIR; ...; cluster_stop DIR
# Run:       cluster.sh start DIR   (prints "export CEPH_CONF=...")
#            cluster.sh stop DIR
#
# cluster_start writes DIR/ceph.conf (the client's keyring named in it,
# so CEPH_CONF alone is enough for rbd, rados, qemu-img and librbd),
# starts the two daemons with pid files and waits, bounded, until the
# OSD is up and a pool "rbd" is initialised.  It exports CEPH_CONF and
# clears CEPH_ARGS (an inherited one would point the tools elsewhere).
# Only rbd, rados and the mon/osd binaries are used, and every `ceph`
# call runs under `timeout`: without a manager some of its commands
# wait forever.  cluster_stop sends SIGTERM to the pids it started
# (checked by their command line naming DIR's conf), waits up to 5 s,
# then SIGKILL.  Memstore keeps data in RAM (the OSD grows to about
# twice what was written): keep test images small.

CLUSTER_TIMEOUT=${CLUSTER_TIMEOUT:-60}

# A free loopback TCP port (the kernel picks one).
cluster_free_port () {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

cluster_conf () {
  local dir=$1 fsid=$2 port=$3
  cat <<EOF
[global]
fsid = $fsid
mon initial members = a
mon host = [v2:127.0.0.1:$port]
ms bind msgr1 = false
ms bind ipv6 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
mon warn on insecure global id reclaim = false
mon warn on insecure global id reclaim allowed = false
log file = $dir/log/\$name.log
log to syslog = false
log to stderr = false
err to stderr = false
mon cluster log file = $dir/log/\$cluster.\$channel.log
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon allow pool delete = true
paxos propose interval = 0.1
mon mgr mkfs grace = 100000
mon mgr inactive grace = 100000
mon data avail warn = 2
mon data avail crit = 1
run dir = $dir/run
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
[mon]
mon data = $dir/mon/\$cluster-\$id
[osd]
osd data = $dir/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = 8589934592
osd max object name len = 256
osd max object namespace len = 64
[client]
keyring = $dir/client.admin.keyring
EOF
}

# Run `ceph` bounded (no manager: some commands would never return).
cluster_ceph () {
  timeout 20 ceph --connect-timeout 10 "$@"
}

cluster_keys () {
  local dir=$1
  ceph-authtool --create-keyring "$dir/mon.keyring" --gen-key -n mon. \
    --cap mon 'allow *' >/dev/null &&
  ceph-authtool --create-keyring "$dir/client.admin.keyring" --gen-key \
    -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
    --cap mgr 'allow *' --cap mds 'allow *' >/dev/null &&
  ceph-authtool "$dir/mon.keyring" --import-keyring \
    "$dir/client.admin.keyring" >/dev/null
}

# Wait (bounded) for a command to succeed.
cluster_wait () {
  local what=$1 i
  shift
  for ((i = 0; i < CLUSTER_TIMEOUT * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "cluster: $what: not ready after ${CLUSTER_TIMEOUT}s" >&2
  return 1
}

cluster_osd_up () {
  cluster_ceph osd dump 2>/dev/null | grep -q '^osd\.0 up .* in '
}

cluster_start () {
  local dir=$1 fsid port uuid id
  dir=$(cd "$dir" && pwd) || return 1
  fsid=$(cat /proc/sys/kernel/random/uuid)
  port=$(cluster_free_port) || return 1
  mkdir -p "$dir/log" "$dir/run" "$dir/mon" "$dir/osd" || return 1
  cluster_conf "$dir" "$fsid" "$port" >"$dir/ceph.conf"
  export CEPH_CONF=$dir/ceph.conf
  export CEPH_ARGS=""
  cluster_keys "$dir" || return 1
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$port]" \
    "$dir/monmap" >/dev/null || return 1
  ceph-mon --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/mon.keyring" \
    >"$dir/log/mkfs-mon.out" 2>&1 || { cat "$dir/log/mkfs-mon.out" >&2; return 1; }
  ceph-mon -c "$CEPH_CONF" -i a -f >"$dir/log/mon.out" 2>&1 &
  echo $! >"$dir/mon.pid"
  uuid=$(cat /proc/sys/kernel/random/uuid)
  id=$(cluster_ceph osd new "$uuid") || { echo "cluster: osd new failed" >&2; return 1; }
  mkdir -p "$dir/osd/ceph-$id"
  ceph-osd -c "$CEPH_CONF" -i "$id" --mkfs --mkkey --osd-uuid "$uuid" \
    --no-mon-config >"$dir/log/mkfs-osd.out" 2>&1 \
    || { cat "$dir/log/mkfs-osd.out" >&2; return 1; }
  cluster_ceph auth add "osd.$id" osd 'allow *' mon 'allow profile osd' \
    -i "$dir/osd/ceph-$id/keyring" >/dev/null 2>&1 || return 1
  ceph-osd -c "$CEPH_CONF" -i "$id" -f >"$dir/log/osd.out" 2>&1 &
  echo $! >"$dir/osd.pid"
  cluster_wait "osd.$id up" cluster_osd_up || return 1
  cluster_ceph osd pool create rbd 8 >/dev/null 2>&1 || return 1
  timeout 30 rbd pool init rbd || return 1
}

# Stop one daemon started by cluster_start, if its pid is still ours.
cluster_kill () {
  local dir=$1 name=$2 pid i
  [ -s "$dir/$name.pid" ] || return 0
  pid=$(cat "$dir/$name.pid")
  grep -qa -- "$dir/ceph.conf" "/proc/$pid/cmdline" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$dir/$name.pid"
}

cluster_stop () {
  local dir=$1
  [ -d "$dir" ] || return 0
  dir=$(cd "$dir" && pwd)
  cluster_kill "$dir" osd
  cluster_kill "$dir" mon
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -u
  case "${1:-}" in
    start)
      [ $# -eq 2 ] || { echo "usage: $0 start|stop DIR" >&2; exit 1; }
      if ! cluster_start "$2"; then
        cluster_stop "$2"
        exit 1
      fi
      echo "export CEPH_CONF=$CEPH_CONF CEPH_ARGS="
      ;;
    stop) [ $# -eq 2 ] || exit 1; cluster_stop "$2" ;;
    *) echo "usage: $0 start|stop DIR" >&2; exit 1 ;;
  esac
fi
