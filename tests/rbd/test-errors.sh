#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Disks in Ceph RBD: each failure is a clear error with its own code.
# No cluster at the configured address (within the timeout, bounded here
# by `timeout` so a regression cannot hang the suite), no such pool or
# image or snapshot, a key the cluster refuses, a client whose
# capabilities do not allow the pool (a restricted key made here), an
# image in use by another writer (the exclusive lock), a bad name.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/rbd-lib.sh"

head -c 8M /dev/urandom >"$T/data.raw"
rbd_put "$T/data.raw" img || die "rbd import"

# code_of WHAT CODE ARGS...: rbd-tool open ARGS fails with that code.
code_of () {
  local what=$1 code=$2 out
  shift 2
  out=$(timeout 60 "$RBD_TOOL" open "$@" 2>&1)
  case $out in
  "error $code "*) pass "$what ($code)" ;;
  *) fail "$what: expected error $code, got: $out" ;;
  esac
}

# ---- no cluster -------------------------------------------------------
port=$(cluster_free_port)
sed "s/^mon host = .*/mon host = [v2:127.0.0.1:$port]/" "$CEPH_CONF" \
  >"$T/dead.conf"
rc=0
timeout 60 "$VDK" info "rbd:rbd/img:conf=$T/dead.conf:timeout=2" \
  >/dev/null 2>"$T/err" || rc=$?
check_eq "no cluster: vdk gives up by itself (exit 1, not the timeout)" 1 "$rc"
check "... saying no monitor answered within 2 s" \
  grep -q "no Ceph monitor answered within 2 s" "$T/err"
code_of "no cluster through the open parameters" CONNECT \
  --conf "$T/dead.conf" --timeout 2 rbd:rbd/img

# ---- names that do not exist ------------------------------------------
vdk_fails_with "unknown pool" 'no pool "nopool"' info rbd:nopool/img
code_of "unknown pool" NOT_FOUND rbd:nopool/img
vdk_fails_with "unknown image" "no such image" info rbd:rbd/nothing
code_of "unknown image" NOT_FOUND rbd:rbd/nothing
code_of "unknown snapshot" NOT_FOUND rbd:rbd/img@nosnap
vdk_fails_with "a bad name" "not an RBD name" info rbd:justapool
code_of "a bad option" INVALID_ARG "rbd:rbd/img:colour=blue"
vdk_fails_with "no configuration file" "cannot read the Ceph configuration" \
  info "rbd:rbd/img:conf=$T/none.conf"

# ---- keys and capabilities --------------------------------------------
# client.limited may use pool "other" only; client.wrong's keyring holds
# a key the cluster never saw.
cluster_ceph auth get-or-create client.limited mon 'profile rbd' \
  osd 'profile rbd pool=other' >"$T/limited.keyring" 2>/dev/null \
  || die "auth get-or-create"
ceph-authtool --create-keyring "$T/wrong.keyring" --gen-key \
  -n client.wrong >/dev/null || die "ceph-authtool"
code_of "a key the cluster refuses" AUTH \
  --id wrong --keyring "$T/wrong.keyring" --timeout 10 rbd:rbd/img
vdk_fails_with "... vdk names the refused client" \
  "refused the key of client.wrong" \
  info "rbd:rbd/img:id=wrong:keyring=$T/wrong.keyring:timeout=10"
code_of "capabilities that do not allow the pool" ACCESS_DENIED \
  --id limited --keyring "$T/limited.keyring" rbd:rbd/img
vdk_fails_with "... vdk says permission denied" "permission denied" \
  read "rbd:rbd/img:id=limited:keyring=$T/limited.keyring"
check_vdk_read "the admin client reads it" rbd:rbd/img "$T/data.raw"

# ---- a second writer --------------------------------------------------
# A writer that stays: `vdk serve` (read-write) holds the image open.
if [ -n "${VDK_NBDKIT_PLUGIN:-}" ] && command -v nbdkit >/dev/null; then
  export VDK_NBDKIT_PLUGIN
  timeout -s TERM 120 "$VDK" serve --unix "$T/w.sock" rbd:rbd/img \
    >"$T/serve.out" 2>"$T/serve.err" &
  holder=$!
  at_exit "serve_stop $holder"
  for ((i = 0; i < 300; i++)); do
    [ -s "$T/serve.out" ] && break
    kill -0 "$holder" 2>/dev/null || break
    sleep 0.1
  done
  [ -s "$T/serve.out" ] || { cat "$T/serve.err" >&2; die "vdk serve"; }
  code_of "a second writer is refused" LOCKED rbd:rbd/img
  vdk_fails_with "... vdk says it is in use" "in use" \
    write rbd:rbd/img <"$T/data.raw"
  check "a reader still opens it" "$RBD_TOOL" open --read-only rbd:rbd/img
  # rm --snapshots of an image in use removes nothing: not even its
  # snapshots (rbd_remove would refuse the image afterwards).
  rbd snap create rbd/img@held >/dev/null 2>&1 || die "snap create held"
  vdk_fails_with "rm --snapshots of an image in use refused" "in use" \
    rm --snapshots rbd:rbd/img
  rbd snap ls rbd/img 2>/dev/null | grep -qw held \
    && pass "... and its snapshot is still there" \
    || fail "rm --snapshots of a busy image removed its snapshot"
  serve_stop "$holder"
  rbd snap rm rbd/img@held >/dev/null 2>&1 || die "snap rm held"
  check "once the writer is gone another opens it" \
    "$RBD_TOOL" open rbd:rbd/img
else
  echo "# the second-writer case needs nbdkit and the vdk plugin: not run"
fi

# ---- snapshots --------------------------------------------------------
rbd snap create rbd/img@s >/dev/null 2>&1 || die "snap create"
vdk_fails_with "rm of an image with snapshots" \
  "has 1 snapshot.*vdk rm --snapshots" rm rbd:rbd/img
vdk_fails_with "writing a snapshot" "read-only" \
  write rbd:rbd/img@s <"$T/data.raw"
# ---- librbd is loaded only for rbd: names -----------------------------
# (io/rbd-lib.h: linking it cost every vdk process 40 ms and 20 MiB.)
loaded () {   # loaded ARGS...: does `vdk ARGS` load librbd?
  LD_DEBUG=files "$VDK" "$@" 2>&1 >/dev/null | grep 'file=librbd\.so' >/dev/null
}
ldd "$VDK" | grep -q librbd && fail "vdk is linked with librbd" \
  || pass "vdk is not linked with librbd"
loaded info "$T/data.raw" && fail "vdk info of a file loads librbd" \
  || pass "vdk info of a file does not load librbd"
check "vdk info of an rbd: name loads it" loaded info rbd:rbd/img
finish
