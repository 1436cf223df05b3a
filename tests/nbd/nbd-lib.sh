# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/nbd/nbd-lib.sh - helpers of the NBD tests (sourced after
# ../lib.sh).  Every server a test starts runs under `timeout`, is
# killed by the test's exit hooks, and listens on a unix socket in $T or
# on a loopback port.
require nbdkit nbdinfo nbdcopy qemu-img
[ -n "${VDK_NBDKIT_PLUGIN:-}" ] && [ -r "$VDK_NBDKIT_PLUGIN" ] \
  || skip "the nbdkit plugin was not built (nbdkit-plugin-dev missing)"
export VDK_NBDKIT_PLUGIN
# Servers stop by themselves after this long whatever happens.
SERVER_TIMEOUT=${SERVER_TIMEOUT:-300}
nservers=0

# serve_start ARGS...: `vdk serve ARGS` in the background; waits for the
# URI it prints (in $URI) and sets $SERVE_PID.  Dies if it does not start.
serve_start () {
  nservers=$((nservers + 1))
  local out="$T/serve.$nservers.out" err="$T/serve.$nservers.err" i
  # shellcheck disable=SC2086
  timeout -s TERM "$SERVER_TIMEOUT" ${VDK_WRAPPER:-} "$VDK" serve "$@" \
    >"$out" 2>"$err" &
  SERVE_PID=$!
  at_exit "serve_stop $SERVE_PID"
  for ((i = 0; i < 600; i++)); do
    if [ -s "$out" ]; then
      URI=$(head -1 "$out")
      return 0
    fi
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.05
  done
  sed 's/^/    | /' "$err" >&2
  die "vdk serve $* did not start"
}

# serve_fails ARGS...: `vdk serve ARGS` must exit nonzero by itself.
# A free loopback TCP port.
free_port () {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Merge "start length state" lines: adjacent runs of one state join.
merge_runs () {
  awk 'NF >= 3 { if ($3 == st && $1 == end) { end += $2 } else {
         if (st != "") print beg, end - beg, st; beg = $1; end = $1 + $2;
         st = $3 } } END { if (st != "") print beg, end - beg, st }'
}

# The map of an export as "start length data|zero|hole", merged.
nbd_map () {
  nbdinfo --map=base:allocation "$1" \
    | awk '{ s = ($3 == 0) ? "data" : ($3 == 2) ? "zero" : "hole";
             print $1, $2, s }' | merge_runs
}

# The map of a local disk the same way.
vdk_map () {
  vdk map "$1" | awk 'NR > 1 { print $1, $2, $3 }' | merge_runs
}
