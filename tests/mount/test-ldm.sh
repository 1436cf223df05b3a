#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Windows dynamic disks: the 19 sample images made by Windows 2003 R2 and
# 2008 R2 (tests/data/ldm; MBR- and GPT-style dynamic disks).  For
# every disk group and volume `ldmtool` reports, vdk must list the same
# name, GUID, size and kind; simple/spanned/striped/mirrored bytes must
# equal what dd extracts from the partitions ldmtool names; every volume
# must be NTFS for blkid with a readable test.txt (ntfscat); degraded sets
# (a mirror leg or a RAID-5 column missing) must read the same bytes; and
# damaged metadata (a partition VBLK pointing past the disk, a broken
# TOCBLOCK) must give a clear problem or warning.
source "$(dirname "$0")/../lib.sh"
VOL_DUMP=${VOL_DUMP:?VOL_DUMP must name the vol-dump program}
require ldmtool jq blkid ntfscat tar xz python3
FIX=${LDM_FIXTURES:-$(dirname "$0")/../data/ldm}
[ -f "$FIX/ldm-data.tar.xz" ] || skip "no LDM fixtures at $FIX"
cd "$T" && tar -SJxf "$FIX/ldm-data.tar.xz" || skip "cannot unpack"
ls ldm-2003r2-*.img ldm-2008r2-*.img >/dev/null || skip "no images"

ldm () { ldmtool "$@" 2>/dev/null; }

# ldmtool's "type" -> vdk layout.
layout_of () {
  case $1 in
    simple|spanned) echo linear ;;
    striped) echo striped ;;
    mirrored) echo mirror ;;
    RAID5) echo raid5 ;;
    *) echo "?$1" ;;
  esac
}

# Bytes of partition P of group DG, from ldmtool's numbers, to stdout.
part_bytes () {
  local dg=$1 p=$2 start size disk dstart dev
  read -r start size disk < <(ldm "${ARGS[@]}" show partition "$dg" "$p" |
    jq -r '"\(.start) \(.size) \(.disk)"')
  read -r dstart dev < <(ldm "${ARGS[@]}" show disk "$dg" "$disk" |
    jq -r '"\(."data-start") \(.device)"')
  dd if="$dev" bs=512 skip=$((dstart + start)) count="$size" status=none
}

# Rebuild a volume from its partitions as ldmtool describes them.
expected_bytes () {
  local dg=$1 vol=$2 type chunk parts p i n
  type=$(jq -r .type vol.json) chunk=$(jq -r '."chunk-size"' vol.json)
  mapfile -t parts < <(jq -r '.partitions[]' vol.json)
  case $type in
    simple|spanned) for p in "${parts[@]}"; do part_bytes "$dg" "$p"; done ;;
    mirrored) part_bytes "$dg" "${parts[0]}" ;;
    striped)
      n=${#parts[@]}
      for i in "${!parts[@]}"; do part_bytes "$dg" "${parts[$i]}" >col$i; done
      for ((i = 0; i < $(stat -c %s col0) / (chunk * 512); i++)); do
        for ((c = 0; c < n; c++)); do
          dd if=col$c bs=$((chunk * 512)) skip=$i count=1 status=none
        done
      done ;;
  esac
}

check_group () {    # images...
  local list=$T/list.txt dg vol name size type guid got
  ARGS=()
  for f in "$@"; do ARGS+=(-d "$f"); done
  "$VOL_DUMP" -w "$@" >"$list" || { fail "vol-dump $*"; return; }
  for dg in $(ldm "${ARGS[@]}" scan | jq -r '.[]'); do
    for vol in $(ldm "${ARGS[@]}" show diskgroup "$dg" | jq -r '.volumes[]'); do
      ldm "${ARGS[@]}" show volume "$dg" "$vol" >vol.json
      read -r size type guid < <(jq -r '"\(.size) \(.type) \(.guid)"' vol.json)
      check_eq "$vol kind" ldm "$(vfield "$list" "$vol" 3)"
      check_eq "$vol GUID" "$guid" "$(vfield "$list" "$vol" 12)"
      check_eq "$vol size" $((size * 512)) "$(vfield "$list" "$vol" 7)"
      check_eq "$vol layout" "$(layout_of "$type")" "$(vfield "$list" "$vol" 4)"
      check_eq "$vol complete" 1 "$(vfield "$list" "$vol" 18)"
      "$VOL_DUMP" -r "$vol" "$@" >vol.img || { fail "$vol read"; continue; }
      blkid_range vol.img 0 $((size * 512))
      check_eq "$vol fs (blkid on the bytes)" ntfs "$B_TYPE"
      check_eq "$vol fs type" "$B_TYPE" "$(vfield "$list" "$vol" 9)"
      check_eq "$vol fs label" "$B_LABEL" "$(vfield "$list" "$vol" 10)"
      check_eq "$vol fs uuid" "$B_UUID" "$(vfield "$list" "$vol" 11)"
      got=$(ntfscat vol.img test.txt 2>/dev/null | head -c 100)
      [ -n "$got" ] && pass || fail "$vol: ntfscat test.txt failed"
      if [ "$type" != RAID5 ]; then
        expected_bytes "$dg" "$vol" >want.img
        cmp -s vol.img want.img && pass || fail "$vol bytes differ from ldmtool's partitions"
      fi
      cp vol.img "full-$dg-$vol.img"
    done
  done
}

check_group ldm-2003r2-*.img
check_group ldm-2008r2-*.img

# OS guess: NTFS on dynamic disks says Windows.
"$VOL_DUMP" -o ldm-2008r2-*.img >os.txt
check_eq "OS family" windows "$(awk -F'\t' '$1=="O" && $2=="family"{print $3}' os.txt)"

# Degraded: RAID-5 without its second disk, a mirror with one leg.
"$VOL_DUMP" ldm-2008r2-raid5-1.img ldm-2008r2-raid5-3.img >deg.txt
check_eq "raid5 degraded" 1 "$(vfield deg.txt Volume4 19)"
check_eq "raid5 readable" 1 "$(vfield deg.txt Volume4 20)"
"$VOL_DUMP" -r Volume4 ldm-2008r2-raid5-1.img ldm-2008r2-raid5-3.img |
  cmp -s - full-06495a84-fbfd-11e1-8cf9-52540061f5db-Volume4.img && pass || fail "rebuilt RAID-5 differs"
"$VOL_DUMP" -r Volume3 ldm-2003r2-mirrored-2.img | cmp -s - full-03c0c4fc-8b6f-402b-9431-4be2e5823b1c-Volume3.img &&
  pass || fail "mirror leg 2 alone differs"
check_eq "spanned with a disk missing" \
  "2 of 3 members are on disks missing from the set" "$(vfield deg.txt Volume5 23)"
if "$VOL_DUMP" -r Volume4 -W Volume4 ldm-2008r2-raid5-1.img \
   ldm-2008r2-raid5-3.img </dev/null 2>err.txt; then
  fail "degraded RAID-5 opened for writing"
else
  grep -q "read-only\|not supported" err.txt && pass || fail "unclear: $(cat err.txt)"
fi

# Both groups at once: names clash, so they get the group prefix.
"$VOL_DUMP" ldm-2003r2-simple-1.img ldm-2008r2-raid5-*.img >both.txt
grep -q $'^V\tRed-nzv8x6obywgDg0/Volume1\t' both.txt && pass ||
  fail "clashing LDM names are not prefixed with the group"

# Damage: partition Disk1-01 pointing past the end; a broken TOCBLOCK.
cp ldm-2003r2-simple-1.img bad.img
python3 - bad.img <<'EOF'
import sys, struct
f = open(sys.argv[1], 'r+b'); d = f.read()
ph = d[6 * 512:7 * 512]
cfg = struct.unpack('>Q', ph[299:307])[0] * 512
i = d.find(b'\x08Disk1-01', cfg)      # partition record: name var-string
assert i > 0
f.seek(i + 9 + 4 + 8); f.write(struct.pack('>Q', 1 << 40))
EOF
"$VOL_DUMP" bad.img >bad.txt
check_eq "VBLK out of range" 0 "$(vfield bad.txt Volume1 20)"
grep -q "Disk1-01 lies beyond the end" bad.txt && pass || fail "no clear problem: $(grep Volume1 bad.txt)"
cp ldm-2003r2-simple-1.img bad.img
python3 - bad.img <<'EOF'
import sys, struct
f = open(sys.argv[1], 'r+b'); d = f.read(7 * 512)
cfg = struct.unpack('>Q', d[6 * 512 + 299:6 * 512 + 307])[0]
f.seek((cfg + 2) * 512); f.write(b'TOCBLOCX')
EOF
"$VOL_DUMP" -w bad.img >bad.txt
grep -q "no TOCBLOCK" bad.txt && pass || fail "broken TOCBLOCK not reported"
# PRIVHEAD in sector 6 wiped: the copy in the last sector serves.
cp ldm-2003r2-simple-1.img ph.img
dd if=/dev/zero of=ph.img bs=512 seek=6 count=1 conv=notrunc status=none
"$VOL_DUMP" -w ph.img >ph.txt
check_eq "Volume1 from the PRIVHEAD copy" 1 "$(vfield ph.txt Volume1 20)"
grep -q "using the copy in the last sector" ph.txt && pass || fail "PRIVHEAD fallback not reported"
check_eq "no LDM volumes from a broken database" 0 "$(grep -c $'^V\t[^\t]*\tldm' bad.txt)"
finish
