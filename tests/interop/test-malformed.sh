#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Malformed and hostile inputs.
#
# Each case damages a good disk made by qemu-img (sparse header fields,
# grain directory and tables, descriptor lines, extent paths, chains) or
# passes a bad size to `vdk create`.  For every command that opens the
# disk (info, read, convert, write) vdk must:
# - exit with status 1 (a signal, i.e. status >= 128, is a crash; under
#   the ASan build a sanitizer report also changes the status),
# - print exactly one line on stderr, naming the disk it was given,
# - write nothing: every file of the case (and any file a descriptor
#   points to outside it) has the same hash afterwards, and convert
#   leaves no output behind.
# Corruption that only shows when a grain is reached (a grain table or a
# grain beyond the end of the file) is checked with read and convert.
source "$(dirname "$0")/../lib.sh"
require qemu-img qemu-io python3 sha256sum

edit () { python3 "$VMDKEDIT" "$@" || fail "vmdkedit $* failed"; }

fix="$T/fix"
mkdir "$fix"
qemu-img create -q -f vmdk "$fix/sparse.vmdk" 16M
qemu-io -f vmdk -c 'write -P 0x5a 0 1M' "$fix/sparse.vmdk" >/dev/null
qemu-img create -q -f vmdk -o subformat=monolithicFlat "$fix/d.vmdk" 16M
FLAT_LINE='RW 32768 FLAT "d-flat.vmdk" 0'
grep -q "^$FLAT_LINE" "$fix/d.vmdk" \
  || skip "qemu-img wrote an unexpected flat descriptor: $(cat "$fix/d.vmdk")"

# new_case NAME KIND: a folder $C/disk holding a copy of a good disk;
# sets D to the disk's path.  KIND: sparse, flat or none.
new_case () {
  C="$T/c/$1"
  mkdir -p "$C/disk"
  case $2 in
    sparse) cp "$fix/sparse.vmdk" "$C/disk/d.vmdk" ;;
    flat) cp "$fix/d.vmdk" "$fix/d-flat.vmdk" "$C/disk/" ;;
  esac
  D="$C/disk/d.vmdk"
}

# one_run CASE CMD DISK: run one command and check the rules above.
one_run () {
  local name=$1 cmd=$2 disk=$3 base
  base=$(basename "$disk")
  rm -f "$T/conv.raw"
  case $cmd in
    info) run_vdk info --json "$disk" </dev/null ;;
    read) run_vdk read "$disk" </dev/null ;;
    convert) run_vdk convert "$disk" "$T/conv.raw" </dev/null ;;
    write) printf 'vdk was here' >"$T/in"
           run_vdk write "$disk" --offset 512 <"$T/in" ;;
  esac
  if [ "$rc" -ge 128 ]; then
    fail "$name: vdk $cmd crashed (status $rc): $(head -3 "$T/err")"
    return
  fi
  if [ "$rc" -ne 1 ]; then
    fail "$name: vdk $cmd: expected exit 1, got $rc: $(head -3 "$T/err")"
    return
  fi
  local lines
  lines=$(wc -l <"$T/err")
  if [ "$lines" -eq 1 ] && grep -qF "$base" "$T/err" \
      && ! grep -q 'vdk_[a-z_]*:' "$T/err"; then
    pass "$name: vdk $cmd fails: $(cat "$T/err")"
  else
    fail "$name: vdk $cmd: want one line naming $base and no library call, got $lines: $(head -5 "$T/err")"
  fi
  [ ! -e "$T/conv.raw" ] || fail "$name: vdk convert left its output behind"
}

# expect_fail NAME "CMDS" [EXTRA_FILE]: run CMDS on $D, then check that
# no file changed.
expect_fail () {
  local name=$1 cmds=$2 extra=${3:-} before after cmd
  before=$(hash_tree "$C"; [ -z "$extra" ] || sha256sum "$extra")
  for cmd in $cmds; do
    one_run "$name" "$cmd" "$D"
  done
  after=$(hash_tree "$C"; [ -z "$extra" ] || sha256sum "$extra")
  if [ "$before" = "$after" ]; then
    pass "$name: no file was written"
  else
    fail "$name: files changed: $(diff <(echo "$before") <(echo "$after") | tail -n +2 | head -4)"
  fi
}

ALL="info read convert write"
LAZY="read convert"

# ---- sparse extent header and tables -----------------------------------
new_case truncated-header sparse
head -c 100 "$fix/sparse.vmdk" >"$D"
expect_fail truncated-header "$ALL"

new_case truncated-before-gd sparse
truncate -s 11264 "$D" # header + descriptor; GD at sector 21 is gone
expect_fail truncated-before-gd "$ALL"

new_case gd-past-eof sparse
edit hdr "$D" gdOffset 0x100000
edit hdr "$D" rgdOffset 0x100000
expect_fail gd-past-eof "$ALL"

new_case gt-past-eof sparse
edit gd0 "$D" 0x7fffff00
expect_fail gt-past-eof "$LAZY"

new_case grain-past-eof sparse
edit gte0 "$D" 0x7fffff00
expect_fail grain-past-eof "$LAZY"

new_case grain-size-0 sparse
edit hdr "$D" grainSize 0
expect_fail grain-size-0 "$ALL"

new_case grain-size-100 sparse
edit hdr "$D" grainSize 100
expect_fail grain-size-100 "$ALL"

new_case grain-size-huge sparse
edit hdr "$D" grainSize 0x100000000
expect_fail grain-size-huge "$ALL"

new_case capacity-absurd sparse
edit hdr "$D" capacity 0x4000000000000000
edit desc-sub "$D" 'RW 32768 SPARSE' 'RW 4611686018427387904 SPARSE'
expect_fail capacity-absurd "$ALL"

new_case gtes-per-gt-0 sparse
edit hdr "$D" numGTEsPerGT 0
expect_fail gtes-per-gt-0 "$ALL"

new_case gtes-per-gt-huge sparse
edit hdr "$D" numGTEsPerGT 0x40000000
expect_fail gtes-per-gt-huge "$ALL"

new_case header-version-9 sparse
edit hdr "$D" version 9
expect_fail header-version-9 "$ALL"

new_case descriptor-size-huge sparse
edit hdr "$D" descriptorSize 0x100000000
expect_fail descriptor-size-huge "$ALL"

new_case descriptor-offset-past-eof sparse
edit hdr "$D" descriptorOffset 0x1000000
expect_fail descriptor-offset-past-eof "$ALL"

# ---- descriptor text and extent paths -----------------------------------
new_case missing-extent flat
rm "$C/disk/d-flat.vmdk"
expect_fail missing-extent "$ALL"

new_case extent-dotdot flat
mv "$C/disk/d-flat.vmdk" "$C/outside-flat.vmdk"
edit desc-sub "$D" '"d-flat.vmdk"' '"../outside-flat.vmdk"'
expect_fail extent-dotdot "$ALL"
check_vdk "extent-dotdot: opens with --allow-external-paths" \
  info --allow-external-paths "$D"

new_case extent-absolute flat
rm "$C/disk/d-flat.vmdk"
edit desc-sub "$D" "$FLAT_LINE" 'RW 2 FLAT "/etc/passwd" 0'
expect_fail extent-absolute "$ALL" /etc/passwd

new_case extent-symlink flat
mv "$C/disk/d-flat.vmdk" "$C/outside-flat.vmdk"
ln -s ../outside-flat.vmdk "$C/disk/d-flat.vmdk"
expect_fail extent-symlink "$ALL"

new_case bad-access-word flat
edit desc-sub "$D" "$FLAT_LINE" 'RX 32768 FLAT "d-flat.vmdk" 0'
expect_fail bad-access-word "$ALL"

new_case non-numeric-size flat
edit desc-sub "$D" "$FLAT_LINE" 'RW 32x68 FLAT "d-flat.vmdk" 0'
expect_fail non-numeric-size "$ALL"

new_case unknown-extent-type flat
edit desc-sub "$D" "$FLAT_LINE" 'RW 32768 FLOP "d-flat.vmdk" 0'
expect_fail unknown-extent-type "$ALL"

new_case missing-quotes flat
edit desc-sub "$D" "$FLAT_LINE" 'RW 32768 FLAT d-flat.vmdk 0'
expect_fail missing-quotes "$ALL"

new_case descriptor-version-9 flat
edit desc-sub "$D" 'version=1' 'version=9'
expect_fail descriptor-version-9 "$ALL"

new_case empty-descriptor flat
: >"$D"
expect_fail empty-descriptor "$ALL"

new_case no-extents flat
edit desc-sub "$D" "$FLAT_LINE" ''
expect_fail no-extents "$ALL"

new_case extent-size-mismatch flat
truncate -s 8M "$C/disk/d-flat.vmdk" # the descriptor says 16 MiB
expect_fail extent-size-mismatch "$ALL"

new_case sparse-extent-size-mismatch sparse
edit desc-sub "$D" 'RW 32768 SPARSE' 'RW 65536 SPARSE' # header: 32768
expect_fail sparse-extent-size-mismatch "$ALL"

# ---- chains -------------------------------------------------------------
# chain_case NAME: a qemu-made base.vmdk and child d.vmdk in $C/disk.
chain_case () {
  new_case "$1" none
  cp "$fix/sparse.vmdk" "$C/disk/base.vmdk"
  (cd "$C/disk" && qemu-img create -q -f vmdk -b base.vmdk -F vmdk d.vmdk)
}

chain_case cid-mismatch
cid=$(python3 "$VMDKEDIT" desc-get "$C/disk/base.vmdk" | sed -n 's/^CID=//p')
edit desc-sub "$C/disk/base.vmdk" "CID=$cid" \
  "CID=$(printf '%08x' $(( 16#$cid ^ 1 )))"
expect_fail cid-mismatch "$ALL"

chain_case missing-parent
rm "$C/disk/base.vmdk"
expect_fail missing-parent "$ALL"

chain_case parent-is-itself
pcid=$(python3 "$VMDKEDIT" desc-get "$D" | sed -n 's/^parentCID=//p')
own=$(python3 "$VMDKEDIT" desc-get "$D" | sed -n 's/^CID=//p')
edit desc-sub "$D" "parentCID=$pcid" "parentCID=$own"
edit desc-sub "$D" 'parentFileNameHint="base.vmdk"' 'parentFileNameHint="d.vmdk"'
expect_fail parent-is-itself "$ALL"

chain_case parent-outside
mv "$C/disk/base.vmdk" "$C/base.vmdk"
edit desc-sub "$D" 'parentFileNameHint="base.vmdk"' \
  'parentFileNameHint="../base.vmdk"'
expect_fail parent-outside "$ALL"
check_vdk "parent-outside: reads with --allow-external-paths" \
  read --allow-external-paths "$D"

# ---- bad sizes on create ------------------------------------------------
bad_size () {
  local what=$1 size=$2 f="$T/new-$1.vmdk"
  run_vdk create -- "$f" "$size"
  if [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] \
      && grep -qF "new-$what.vmdk" "$T/err"; then
    pass "create with size '$size' fails: $(cat "$T/err")"
  else
    fail "create with size '$size': exit $rc: $(head -3 "$T/err")"
  fi
  [ ! -e "$f" ] || fail "create with size '$size' left $f behind"
}
bad_size negative -1M
bad_size negative-bytes -512
bad_size huge 99999999999999999999
bad_size overflow-suffix 16777216T
bad_size past-int64 9223372036854775808
bad_size not-sector-multiple 1000
bad_size zero 0
bad_size garbage 12Q
bad_size empty ''

finish
