#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdk meta, rename and rm.
#
# meta: list shows the ddb keys vdk wrote; get works with and without the
# "ddb." prefix; set (new key and existing key) reads back, shows in the
# descriptor text and in `vdk info`, and qemu-img still opens and checks
# the disk.  rename: every file of the disk is renamed, the descriptor's
# extent names follow, the data is intact and no old name is left.
# rm: every file goes, and removing a child leaves its parent whole.
source "$(dirname "$0")/../lib.sh"
require qemu-img jq cmp

# ---- meta ---------------------------------------------------------------
for type in monolithicSparse monolithicFlat; do
  d="$T/m-$type.vmdk"
  check_vdk "$type: create" create -t "$type" -a lsilogic "$d" 16M
  run_vdk meta "$d"
  check_eq "$type: meta list exit" 0 "$rc"
  if grep -Eq '^(ddb\.)?adapterType=lsilogic$' "$T/out" \
      && grep -Eq '^(ddb\.)?virtualHWVersion=4$' "$T/out"; then
    pass "$type: meta list shows adapterType and virtualHWVersion"
  else
    fail "$type: meta list: $(tr '\n' ' ' <"$T/out")"
  fi
  run_vdk meta "$d" ddb.adapterType
  check_eq "$type: meta get ddb.adapterType" lsilogic "$(cat "$T/out")"
  run_vdk meta "$d" adapterType
  check_eq "$type: meta get adapterType (no prefix)" lsilogic "$(cat "$T/out")"
  run_vdk meta "$d" ddb.noSuchKey
  check_eq "$type: meta get of a missing key fails" 1 "$rc"
  grep -q noSuchKey "$T/err" && pass "$type: message names the key" \
    || fail "$type: message does not name the key: $(cat "$T/err")"

  check_vdk "$type: meta set a new key" meta "$d" ddb.comment "made by vdk"
  run_vdk meta "$d" ddb.comment
  check_eq "$type: new key reads back" "made by vdk" "$(cat "$T/out")"
  check_vdk "$type: meta set an existing key" meta "$d" virtualHWVersion 9
  run_vdk meta "$d" ddb.virtualHWVersion
  check_eq "$type: changed key reads back" 9 "$(cat "$T/out")"
  run_vdk info --json "$d"
  check_eq "$type: info sees the new hw_version" 9 "$(jq -r .hw_version "$T/out")"
  desc=$(python3 "$VMDKEDIT" desc-get "$d")
  grep -q '^ddb.comment = "made by vdk"' <<<"$desc" \
    && pass "$type: descriptor holds the new key" \
    || fail "$type: descriptor lacks ddb.comment: $desc"
  check "$type: qemu-img info still opens it" qemu-img info "$d"
  check "$type: qemu-img check still clean" qemu-img check -q -f vmdk "$d"
done

# ---- rename -------------------------------------------------------------
for type in monolithicSparse monolithicFlat twoGbMaxExtentSparse \
            twoGbMaxExtentFlat; do
  dir="$T/r-$type"
  mkdir "$dir"
  size=16M
  case $type in twoGb*) size=$((2 * GiB + 32 * MiB)) ;; esac
  check_vdk "$type: create" create -t "$type" "$dir/old.vmdk" "$size"
  head -c $((3 * MiB)) /dev/urandom >"$T/data"
  check_vdk "$type: write" write "$dir/old.vmdk" --offset 4096 <"$T/data"
  vdk_files_before=$(ls "$dir" | wc -l)
  check_vdk "$type: rename old -> new" rename "$dir/old.vmdk" "$dir/new.vmdk"
  left=$(ls "$dir" | grep '^old' || true)
  check_eq "$type: no file named old* is left" "" "$left"
  check_eq "$type: as many files as before" "$vdk_files_before" \
    "$(ls "$dir" | grep -c '^new')"
  run_vdk info --json "$dir/new.vmdk"
  bad=$(jq -r '.extents[].file' "$T/out" | grep -v '^new' || true)
  check_eq "$type: every extent name starts with new" "" "$bad"
  if python3 "$VMDKEDIT" desc-get "$dir/new.vmdk" | grep -q old; then
    fail "$type: the descriptor still mentions old"
  else
    pass "$type: the descriptor no longer mentions old"
  fi
  check_vdk_read "$type: data intact after rename" "$dir/new.vmdk" \
    <(cat <(head -c 4096 /dev/zero) "$T/data") --length $((3 * MiB + 4096))
  check "$type: qemu-img opens the renamed disk" qemu-img info "$dir/new.vmdk"
  run_vdk rename "$dir/nothere.vmdk" "$dir/x.vmdk"
  check_eq "$type: renaming a missing disk fails" 1 "$rc"
  check_vdk "$type: rm" rm "$dir/new.vmdk"
  check_eq "$type: rm removes every file" "" "$(ls -A "$dir")"
done

# ---- rename refuses to overwrite, rm of a child keeps the parent ----------
check_vdk "create a" create "$T/a.vmdk" 1M
check_vdk "create b" create "$T/b.vmdk" 1M
hb=$(sha256sum <"$T/b.vmdk")
run_vdk rename "$T/a.vmdk" "$T/b.vmdk"
check_eq "rename onto an existing disk fails" 1 "$rc"
check_eq "... and leaves the target alone" "$hb" "$(sha256sum <"$T/b.vmdk")"
[ -f "$T/a.vmdk" ] && pass "... and the source" || fail "rename removed a.vmdk"
check_vdk "child of b" child "$T/b.vmdk" "$T/b1.vmdk"
check_vdk "rm the child" rm "$T/b1.vmdk"
[ ! -e "$T/b1.vmdk" ] && pass "child file gone" || fail "child file left"
check_eq "parent unchanged by rm of the child" "$hb" "$(sha256sum <"$T/b.vmdk")"
check_vdk "parent still opens" info "$T/b.vmdk"

finish
