#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Maintenance commands: check, grow, shrink, defrag, commit, attach, map.
#
# Every command must keep the guest-visible contents (checked against an
# expected raw file with qemu-img compare and vdk read) and leave a disk
# qemu-img checks clean, and each must do its job visibly:
# check tells a good disk from a damaged one without writing; grow
# changes the size qemu-img sees and reads zeroes in the new part;
# shrink gives back grains of zero bytes; defrag puts grains in disk
# order (qemu-img map); commit moves the child's data into the parent;
# attach re-parents only when contents stay the same (or --unsafe);
# map reports the same data ranges as qemu-img map.
source "$(dirname "$0")/../lib.sh"
require qemu-img qemu-io jq python3 cmp

# ---- check ------------------------------------------------------------
d="$T/good.vmdk"
check_vdk "check: create" create "$d" 64M
head -c $((2 * MiB)) /dev/urandom >"$T/r2"
check_vdk "check: write" write "$d" --offset 1M <"$T/r2"
run_vdk check "$d"
check_eq "check of a good disk exits 0" 0 "$rc"
run_vdk check --json "$d"
check_eq "check --json: clean" "true 0" \
  "$(jq -r '"\(.clean) \(.problems | length)"' "$T/out" 2>&1)"

bad="$T/bad.vmdk"
qemu-img create -q -f vmdk "$bad" 16M
qemu-io -f vmdk -c 'write -P 0x5a 0 1M' "$bad" >/dev/null
python3 "$VMDKEDIT" gte0 "$bad" 0x7fffff00
h=$(sha256sum <"$bad")
run_vdk check --json "$bad"
check_eq "check of a grain past EOF exits 2" 2 "$rc"
check_eq "check reports a problem" true \
  "$(jq -r '.clean == false and (.problems | length) >= 1' "$T/out" 2>&1)"
check_eq "check without --repair writes nothing" "$h" "$(sha256sum <"$bad")"

u="$T/unclean.vmdk"
check_vdk "unclean: create" create "$u" 16M
check_vdk "unclean: write" write "$u" --offset 0 <"$T/r2"
python3 "$VMDKEDIT" hdr "$u" uncleanShutdown 1
h=$(sha256sum <"$u")
run_vdk check "$u"
check_eq "check without --repair leaves the unclean mark" "$h" "$(sha256sum <"$u")"
run_vdk check --repair "$u"
check_eq "check --repair exits 0" 0 "$rc"
check_eq "check --repair clears the unclean mark" 0 \
  "$(python3 "$VMDKEDIT" hdr-get "$u" uncleanShutdown)"
check_vdk_read "check --repair keeps the data" "$u" "$T/r2" --length 2M

# ---- grow ---------------------------------------------------------------
for type in monolithicSparse twoGbMaxExtentSparse monolithicFlat; do
  g="$T/grow-$type.vmdk"
  check_vdk "grow $type: create 16M" create -t "$type" "$g" 16M
  check_vdk "grow $type: write" write "$g" --offset 4096 <"$T/r2"
  check_vdk "grow $type: to 2G+512M" grow "$g" $((2 * GiB + 512 * MiB))
  check_eq "grow $type: qemu-img sees the new size" $((2 * GiB + 512 * MiB)) \
    "$(qemu-img info --output=json "$g" | jq -r '."virtual-size"')"
  run_vdk info --json "$g"
  check_eq "grow $type: vdk sees the new size" $((2 * GiB + 512 * MiB)) \
    "$(jq -r .capacity "$T/out")"
  check_eq "grow $type: extents add up" $(((2 * GiB + 512 * MiB) / 512)) \
    "$(jq '[.extents[].size / 512] | add' "$T/out")"
  check "grow $type: qemu-img check" qemu-img check -q -f vmdk "$g"
  check_vdk_read "grow $type: old data intact" "$g" "$T/r2" \
    --offset 4096 --length 2M
  head -c $((1 * MiB)) /dev/zero >"$T/z1"
  check_vdk_read "grow $type: the new part reads zeroes" "$g" "$T/z1" \
    --offset $((2 * GiB)) --length 1M
  h=$(sha256sum <"$g")
  run_vdk grow "$g" 8M
  check_eq "grow $type: shrinking by grow fails" 1 "$rc"
  check_eq "grow $type: ... and changes nothing" "$h" "$(sha256sum <"$g")"
  run_vdk rm "$g"
done

# ---- shrink -------------------------------------------------------------
s="$T/shrink.vmdk"
qemu-img create -q -f vmdk "$s" 64M
qemu-io -f vmdk -c 'write -P 0x33 0 4M' -c 'write -P 0 4M 8M' \
  -c 'write -P 0x44 12M 1M' "$s" >/dev/null
qemu-img convert -f vmdk -O raw "$s" "$T/shrink.raw"
before=$(stat -c %s "$s")
check_vdk "shrink" shrink "$s"
after=$(stat -c %s "$s")
[ "$after" -le $((before - 7 * MiB)) ] \
  && pass "shrink gave back the 8 MiB of zero grains ($before -> $after)" \
  || fail "shrink: $before -> $after bytes"
check "shrink: qemu-img check" qemu-img check -q -f vmdk "$s"
check_qemu_same "shrink: contents unchanged" "$s" "$T/shrink.raw"

# ---- defrag -------------------------------------------------------------
f="$T/frag.vmdk"
qemu-img create -q -f vmdk "$f" 64M
for mb in 48 32 16 0; do # grains allocated in reverse disk order
  qemu-io -f vmdk -c "write -P $((mb + 1)) ${mb}M 1M" "$f" >/dev/null
done
qemu-img convert -f vmdk -O raw "$f" "$T/frag.raw"
check_vdk "defrag" defrag "$f"
check "defrag: qemu-img check" qemu-img check -q -f vmdk "$f"
check_qemu_same "defrag: contents unchanged" "$f" "$T/frag.raw"
order=$(qemu-img map --output=json "$f" \
  | jq '[.[] | select(.data) | .offset] | . == sort')
check_eq "defrag: host offsets ascend with disk offsets" true "$order"

# ---- commit -------------------------------------------------------------
c="$T/commit"
mkdir "$c"
check_vdk "commit: base" create "$c/base.vmdk" 32M
check_vdk "commit: base data" write "$c/base.vmdk" --offset 0 <"$T/r2"
check_vdk "commit: child" child "$c/base.vmdk" "$c/child.vmdk"
head -c 70000 /dev/urandom >"$T/r3"
check_vdk "commit: child data" write "$c/child.vmdk" --offset 1000000 <"$T/r3"
vdk read "$c/child.vmdk" >"$T/child.raw"
check_vdk "commit child into base" commit "$c/child.vmdk"
check_vdk_read "commit: base now holds the child's view" "$c/base.vmdk" \
  "$T/child.raw"
check_vdk_read "commit: the child still opens and reads the same" \
  "$c/child.vmdk" "$T/child.raw"
check "commit: qemu-img check base" qemu-img check -q -f vmdk "$c/base.vmdk"

# ---- attach -------------------------------------------------------------
a="$T/attach"
mkdir "$a"
check_vdk "attach: base A" create "$a/A.vmdk" 32M
check_vdk "attach: A data" write "$a/A.vmdk" --offset 0 <"$T/r2"
check_vdk "attach: B = copy of A" convert "$a/A.vmdk" "$a/B.vmdk"
check_vdk "attach: D differs" create "$a/D.vmdk" 32M
check_vdk "attach: child C of A" child "$a/A.vmdk" "$a/C.vmdk"
check_vdk "attach: C data" write "$a/C.vmdk" --offset 5M <"$T/r3"
vdk read "$a/C.vmdk" >"$T/c.raw"
check_vdk "attach C to B (same contents)" attach "$a/C.vmdk" "$a/B.vmdk"
run_vdk info --json "$a/C.vmdk"
check_eq "attach: C's parent is B" B.vmdk "$(jq -r .parent "$T/out")"
check_vdk_read "attach: C reads the same" "$a/C.vmdk" "$T/c.raw"
h=$(sha256sum <"$a/C.vmdk")
run_vdk attach "$a/C.vmdk" "$a/D.vmdk"
check_eq "attach to a parent with other contents fails" 1 "$rc"
grep -q -- "--unsafe attaches" "$T/err" \
  && pass "... and names --unsafe: $(cat "$T/err")" \
  || fail "... without naming --unsafe: $(cat "$T/err")"
check_eq "... and leaves C alone" "$h" "$(sha256sum <"$a/C.vmdk")"
check_vdk "attach --unsafe to D" attach --unsafe "$a/C.vmdk" "$a/D.vmdk"
truncate -s 32M "$T/cd.raw"
raw_put "$T/cd.raw" "$T/r3" $((5 * MiB))
check_vdk_read "attach --unsafe: C shows D plus its own data" "$a/C.vmdk" \
  "$T/cd.raw"

# ---- map ----------------------------------------------------------------
m="$T/map.vmdk"
qemu-img create -q -f vmdk "$m" 64M
qemu-io -f vmdk -c 'write -P 1 0 1M' -c 'write -P 2 10M 64k' \
  -c 'write -P 3 63M 1M' "$m" >/dev/null
run_vdk map --json "$m"
check_eq "map exit" 0 "$rc"
# [start, length] of data ranges, adjacent ranges merged.
MERGE='reduce .[] as $r ([]; if length > 0 and (.[-1][0] + .[-1][1]) == $r[0]
  then .[-1][1] += $r[1] else . + [$r] end)'
vmap=$(jq -c "[.[] | select(.state == \"data\") | [.start, .length]] | $MERGE" "$T/out")
qmap=$(qemu-img map --output=json "$m" \
  | jq -c "[.[] | select(.data) | [.start, .length]] | $MERGE")
check_eq "map: the data ranges qemu-img map reports" "$qmap" "$vmap"
check_eq "map: runs cover the disk" $((64 * MiB)) \
  "$(jq '[.[].length] | add' "$T/out")"
check_vdk "map: child" child "$m" "$T/mapc.vmdk"
printf 'x' | vdk write "$T/mapc.vmdk" --offset $((20 * MiB))
run_vdk map --json "$T/mapc.vmdk"
check_eq "map: child data at depth 0, parent data at depth 1" "0 1" \
  "$(jq -r '[(.[] | select(.start <= 20971520 and .start + .length > 20971520) | .depth), (.[] | select(.start == 0) | .depth)] | map(tostring) | join(" ")' "$T/out")"
run_vdk map --json --top-only "$T/mapc.vmdk"
check_eq "map --top-only: parent data is a hole" hole \
  "$(jq -r '.[] | select(.start == 0) | .state' "$T/out")"

finish
