# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/rbd/rbd-lib.sh - what the rbd tests share (sourced after
# ../lib.sh): each test file starts its own throwaway cluster
# (cluster.sh: one monitor, one memstore OSD, pool "rbd") in $T/ceph and
# always stops it.  bash runs no EXIT trap on a signal it does not trap,
# so INT, TERM and HUP exit through it.
require ceph-mon ceph-osd monmaptool ceph-authtool rbd rados ceph python3
[ -n "${RBD_BUILT:-}" ] || skip "vdk was built without librbd (librbd-dev)"
source "$(dirname "${BASH_SOURCE[0]}")/cluster.sh"
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$T/ceph"
at_exit "cluster_stop '$T/ceph'"
cluster_start "$T/ceph" || {
  tail -20 "$T"/ceph/log/*.log >&2 2>/dev/null
  die "the test cluster did not start"
}

# rbd_put RAW IMAGE: an image holding RAW's bytes, made by Ceph's tool.
rbd_put () {
  rbd import --no-progress "$1" "rbd/$2" >/dev/null
}

# check_rbd_export WHAT IMAGE EXPECTED: `rbd export` of the image is the
# expected raw file, and so is `vdk read rbd:rbd/IMAGE`.
check_rbd_export () {
  local what=$1 img=$2 expect=$3
  rbd export --no-progress "rbd/$img" "$T/export.raw" >/dev/null 2>&1 \
    || { fail "$what: rbd export failed"; return; }
  check_same "$what (rbd export)" "$T/export.raw" "$expect"
  check_vdk_read "$what (vdk read)" "rbd:rbd/$img" "$expect"
  rm -f "$T/export.raw"
}

# vdk_fails_with WHAT PATTERN ARGS...: vdk exits 1 with PATTERN in its
# one line of error.
vdk_fails_with () {
  local what=$1 pat=$2
  shift 2
  run_vdk "$@"
  if [ "$rc" = 1 ] && grep -q -- "$pat" "$T/err"; then
    pass "$what"
  else
    fail "$what: exit $rc, expected /$pat/ in: $(head -2 "$T/err")"
  fi
}

