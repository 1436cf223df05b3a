#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vdk info: allocated bytes on the host (as qemu-img info's actual-size
# and du), the unclean-shutdown (dirty) flag, and --chain (every link,
# top first, in text and JSON).
source "$(dirname "$0")/../lib.sh"
require qemu-img jq
cd "$T" || die "cd $T"

head -c 5M /dev/urandom > data
truncate -s 64M data
for type in monolithicSparse twoGbMaxExtentSparse monolithicFlat raw; do
  f=$type.vmdk
  [ "$type" = raw ] && f=disk.raw
  check_vdk "$type: convert" convert -t "$type" data "$f"
  got=$(vdk info --json "$f" | jq .allocated)
  want=$(qemu-img info --output=json "$f" | jq '."actual-size"')
  check_eq "$type: allocated is qemu-img's actual-size" "$want" "$got"
  check_eq "$type: info text shows it" "$got" \
    "$(vdk info "$f" | sed -n 's/^allocated: *\([0-9]*\) .*/\1/p')"
done
# du counts the same blocks (every file of the disk once).
check_eq "twoGbMaxExtentSparse: allocated is du of its files" \
  "$(du -B1 -c twoGbMaxExtentSparse*.vmdk | tail -1 | cut -f1)" \
  "$(vdk info --json twoGbMaxExtentSparse.vmdk | jq .allocated)"
[ "$(vdk info --json monolithicSparse.vmdk | jq .allocated)" -ge $((5 * MiB)) ] \
  && pass "allocated covers the data written" \
  || fail "allocated below the 5 MiB of data"

# The dirty flag: set by a write that was not closed, cleared by repair.
check_eq "a clean disk is not dirty" "false no" \
  "$(vdk info --json monolithicSparse.vmdk | jq .dirty) $(vdk info monolithicSparse.vmdk | sed -n 's/^dirty: *//p')"
python3 "$VMDKEDIT" hdr monolithicSparse.vmdk uncleanShutdown 1
check_eq "the unclean-shutdown mark makes it dirty (JSON)" true \
  "$(vdk info --json monolithicSparse.vmdk | jq .dirty)"
vdk info monolithicSparse.vmdk | grep -q '^dirty: *yes' \
  && pass "... and in the text" || fail "text: $(vdk info monolithicSparse.vmdk | grep dirty)"
vdk check --repair monolithicSparse.vmdk >/dev/null
check_eq "check --repair clears it" false \
  "$(vdk info --json monolithicSparse.vmdk | jq .dirty)"
# A writer killed before its close leaves the mark (as VMware would see).
check_vdk "killed: create" create killed.vmdk 16M
mkfifo feed
"$VDK" write killed.vmdk < feed &
writer=$!
exec 3>feed
head -c 1M /dev/urandom >&3
for _ in $(seq 100); do     # until the first write has set the mark
  [ "$(python3 "$VMDKEDIT" hdr-get killed.vmdk uncleanShutdown)" = 1 ] && break
  sleep 0.1
done
kill -KILL "$writer"
wait "$writer" 2>/dev/null
exec 3>&-
check_eq "a writer killed mid-way leaves the disk dirty" true \
  "$(vdk info --json killed.vmdk | jq .dirty)"
# vmfsSparse (COWD) keeps its own mark.
check_vdk "COWD child" child -t vmfsSparse twoGbMaxExtentSparse.vmdk esx.vmdk
check_eq "a clean COWD child is not dirty" false \
  "$(vdk info --json esx.vmdk | jq .dirty)"

# --chain: every link, top first.
check_vdk "child 1" child monolithicSparse.vmdk c1.vmdk
check_vdk "child 2" child c1.vmdk c2.vmdk
printf 'top' | vdk write c2.vmdk --offset 1M
run_vdk info --json --chain c2.vmdk
check_eq "--chain --json: one object per link, top first" \
  "$T/c2.vmdk 0 3|$T/c1.vmdk 1 2|$T/monolithicSparse.vmdk 2 1|" \
  "$(jq -r '.[] | "\(.path) \(.depth) \(.links)"' "$T/out" | tr '\n' '|')"
check_eq "--chain: each link's own parent" "c1.vmdk monolithicSparse.vmdk null" \
  "$(jq -r '[.[].parent] | map(tostring) | join(" ")' "$T/out")"
check_eq "--chain: parent_cid of a link is the CID of the next" \
  "$(jq -r '.[1].cid, .[2].cid' "$T/out" | tr '\n' ' ')" \
  "$(jq -r '.[0].parent_cid, .[1].parent_cid' "$T/out" | tr '\n' ' ')"
check_eq "--chain agrees with qemu-img info --backing-chain" \
  "$(qemu-img info --backing-chain --output=json c2.vmdk | jq -r '[.[]."virtual-size", .[]."actual-size"] | map(tostring) | join(" ")')" \
  "$(jq -r '[.[].capacity, .[].allocated] | map(tostring) | join(" ")' "$T/out")"
run_vdk info --chain c2.vmdk
check_eq "--chain text: a block per link" "link 0: link 1: link 2: " \
  "$(grep -o '^link [0-9]*: ' "$T/out" | tr '\n' ' ' | sed 's/  */ /g')"
run_vdk info --json c2.vmdk
check_eq "without --chain: the top link alone, as an object" "object 0" \
  "$(jq -r '"\(type) \(.depth)"' "$T/out")"
finish
