#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# LVM2 volumes made by lvm2 itself on loop devices (no device-mapper
# here, so with activation disabled): a linear LV holding an ext4 file
# system, a striped LV over two PVs, a linear LV in two segments on two
# PVs, raid1 and old-style mirror LVs whose metadata is written by hand
# and loaded with vgcfgrestore (lvm2 checks it), and a PV inside an MBR
# partition.  Known bytes are written at the PV offsets that
# `pvs`/`lvs` report; vdk must read every LV back exactly, find the ext4
# file system as blkid does, and still read the raid1 LV with one PV gone.
source "$(dirname "$0")/../lib.sh"
VOL_DUMP=${VOL_DUMP:?VOL_DUMP must name the vol-dump program}
require pvcreate vgcreate lvcreate lvs pvs vgcfgbackup vgcfgrestore sfdisk \
  mkfs.ext4 blkid losetup
require_loop
VG=vdkt$$
VGP=vdkp$$
VGR=vdkr$$

cd "$T" || exit 1
lvm_vg "$VG" 64M pv1.img pv2.img
L1=${PVS[0]} L2=${PVS[1]}
lvm_q lvcreate -an -Zn -L 8M -n lin "$VG" "$L1" >/dev/null &&
lvm_q lvcreate -an -Zn -i2 -I64k -L 16M -n str "$VG" >/dev/null ||
  skip "lvcreate failed"

# raid1 needs dm to create; write its metadata by hand into the backup
# and let vgcfgrestore validate and commit it.
raid_lv () {   # name pv pe count id-digit
  printf '%s {\nid = "MIRMIR-0000-0000-0000-0000-0000-00000%s"\n' "$1" "$5"
  printf 'status = ["READ", "WRITE"]\nflags = []\nsegment_count = 1\n'
  printf 'segment1 {\nstart_extent = 0\nextent_count = %s\ntype = "striped"\n' "$4"
  printf 'stripe_count = 1\nstripes = ["%s", %s]\n}\n}\n' "$2" "$3"
}
{
  printf 'mir {\nid = "MIRMIR-0000-0000-0000-0000-0000-000001"\n'
  printf 'status = ["READ", "WRITE", "VISIBLE"]\nflags = []\nsegment_count = 1\n'
  printf 'segment1 {\nstart_extent = 0\nextent_count = 2\ntype = "raid1"\n'
  printf 'device_count = 2\nregion_size = 1024\n'
  printf 'raids = ["mir_rmeta_0", "mir_rimage_0", "mir_rmeta_1", "mir_rimage_1"]\n}\n}\n'
  raid_lv mir_rmeta_0 pv0 4 1 2
  raid_lv mir_rimage_0 pv0 5 2 3
  raid_lv mir_rmeta_1 pv1 2 1 4
  raid_lv mir_rimage_1 pv1 3 2 5
  # The old dm-mirror type (core log), also refused by lvcreate here.
  printf 'mm {\nid = "MIRMIR-0000-0000-0000-0000-0000-000006"\n'
  printf 'status = ["READ", "WRITE", "VISIBLE"]\nflags = []\nsegment_count = 1\n'
  printf 'segment1 {\nstart_extent = 0\nextent_count = 2\ntype = "mirror"\n'
  printf 'mirror_count = 2\nregion_size = 1024\n'
  printf 'mirrors = ["mm_mimage_0", 0, "mm_mimage_1", 0]\n}\n}\n'
  raid_lv mm_mimage_0 pv0 7 2 7
  raid_lv mm_mimage_1 pv1 5 2 8
} >extra.txt
lvm_q vgcfgbackup -f vg.txt "$VG" >/dev/null
awk -v f=extra.txt '{print} /^\tlogical_volumes \{/{while((getline l < f)>0) print l}' \
  vg.txt >vg2.txt
lvm_q vgcfgrestore -f vg2.txt "$VG" >/dev/null || skip "vgcfgrestore refused the raid1 metadata"

# A linear LV in two segments on two PVs (fills the free extents).
lvm_q lvcreate -an -Zn -L 48M -n span "$VG" >/dev/null || skip "lvcreate span failed"

# raid5 (= raid5_ls) and raid0 over three PVs, also by vgcfgrestore.
lvm_vg "$VGR" 32M r1.img r2.img r3.img
R1=${PVS[0]} R2=${PVS[1]} R3=${PVS[2]}
lvsec () {  # name id-digits status extents body
  printf '%s {\nid = "RRRRRR-0000-0000-0000-0000-0000-0000%s"\nstatus = [%s]\n' "$1" "$2" "$3"
  printf 'flags = []\nsegment_count = 1\nsegment1 {\nstart_extent = 0\n'
  printf 'extent_count = %s\n%s\n}\n}\n' "$4" "$5"
}
linseg () { printf 'type = "striped"\nstripe_count = 1\nstripes = ["%s", %s]' "$1" "$2"; }
{
  lvsec r5 01 '"READ", "WRITE", "VISIBLE"' 2 "$(printf '%s\n' 'type = "raid5"' \
    'device_count = 3' 'stripe_size = 128' 'region_size = 1024' \
    'raids = ["r5_rmeta_0", "r5_rimage_0", "r5_rmeta_1", "r5_rimage_1", "r5_rmeta_2", "r5_rimage_2"]')"
  for i in 0 1 2; do
    lvsec r5_rmeta_$i 2$i '"READ", "WRITE"' 1 "$(linseg pv$i 0)"
    lvsec r5_rimage_$i 3$i '"READ", "WRITE"' 1 "$(linseg pv$i 1)"
  done
  lvsec r0 04 '"READ", "WRITE", "VISIBLE"' 2 "$(printf '%s\n' 'type = "raid0"' \
    'device_count = 2' 'stripe_size = 128' 'raid0_lvs = ["r0_rimage_0", "r0_rimage_1"]')"
  for i in 0 1; do lvsec r0_rimage_$i 5$i '"READ", "WRITE"' 1 "$(linseg pv$i 2)"; done
} >extra-r.txt
lvm_q vgcfgbackup -f vgr.txt "$VGR" >/dev/null
awk -v f=extra-r.txt '/^}$/ && !done {print "\tlogical_volumes {"; while((getline l < f)>0) print l; print "\t}"; done=1} {print}' \
  vgr.txt >vgr2.txt
lvm_q vgcfgrestore -f vgr2.txt "$VGR" >/dev/null || skip "vgcfgrestore refused raid5/raid0"

# The PV inside an MBR partition.
truncate -s 64M part.img
printf 'label: dos\n2048,,8e\n' | sfdisk -q part.img
loop_attach part.img 1048576 $((64 * 1048576 - 1048576)) && L3=$LOOP ||
  skip "losetup failed"
lvm_forget "$VGP"
lvm_q pvcreate -ff -y "$L3" >/dev/null && lvm_q vgcreate -s 4M "$VGP" "$L3" >/dev/null &&
  lvm_q lvcreate -an -Zn -L 8M -n inpart "$VGP" >/dev/null || skip "PV in partition failed"

# What lvm2 says: PE start per PV and the PE ranges of each LV segment.
declare -A PESTART DEV2IMG=(["$L1"]=pv1.img ["$L2"]=pv2.img ["$L3"]=part.img
  ["$R1"]=r1.img ["$R2"]=r2.img ["$R3"]=r3.img)
declare -A IMGBASE=([pv1.img]=0 [pv2.img]=0 [part.img]=1048576 [r1.img]=0
  [r2.img]=0 [r3.img]=0)
while read -r dev pe; do PESTART[$dev]=$pe; done < <(lvm_q pvs --noheadings \
  --units b --nosuffix -o pv_name,pe_start "$L1" "$L2" "$L3" "$R1" "$R2" "$R3")
E=$((4 * 1048576))
lvm_q lvs -a --segments --noheadings --separator '|' --units b --nosuffix \
  -o vg_name,lv_name,segtype,stripes,stripe_size,seg_start_pe,seg_pe_ranges \
  "$VG" "$VGP" "$VGR" |
  sed 's/^ *//; s/ *$//' >segs.txt
[ -s segs.txt ] || skip "lvs printed nothing"

# Byte offset on its image of PE `pe` of device `dev`.
pe_off () { echo $(( ${IMGBASE[${DEV2IMG[$1]}]} + ${PESTART[$1]} + $2 * E )); }

# Write FILE's bytes where the LV's segment(s) put them.
place_linear () {   # file ranges(dev:a-b) first-LE-of-the-segment
  local dev=${2%%:*} first=${2#*:} last
  last=${first#*-} first=${first%-*}
  dd if="$1" of="${DEV2IMG[$dev]}" bs=64K skip=$(($3 * E / 65536)) \
    count=$(((last - first + 1) * E / 65536)) \
    seek=$(( $(pe_off "$dev" "$first") / 65536 )) conv=notrunc status=none
}
place_striped () {  # file stripe_size ranges(dev:a-b dev:a-b)
  local f=$1 c=$2 size k i stripe row r devs=() firsts=()
  for r in ${3//,/ }; do devs+=("${r%%:*}"); r=${r#*:}; firsts+=("${r%-*}"); done
  k=${#devs[@]}
  size=$(stat -c %s "$f")
  for ((i = 0; i < size / c; i++)); do
    stripe=$((i % k)) row=$((i / k))
    dd if="$f" of="${DEV2IMG[${devs[$stripe]}]}" bs="$c" skip="$i" count=1 \
      seek=$(( ($(pe_off "${devs[$stripe]}" "${firsts[$stripe]}") + row * c) / c )) \
      conv=notrunc status=none
  done
}

for l in "${LOOPS[@]}"; do losetup -d "$l"; done
LOOPS=()

head -c $((8 * 1048576)) /dev/zero >lin.data
mkfs.ext4 -q -F -L lvm-lin lin.data
head -c $((16 * 1048576)) /dev/urandom >str.data
head -c $((8 * 1048576)) /dev/urandom >mir.data
head -c $((8 * 1048576)) /dev/urandom >inpart.data
head -c $((48 * 1048576)) /dev/urandom >span.data
head -c $((8 * 1048576)) /dev/urandom >mm.data
while IFS='|' read -r vg lv type stripes ssize le ranges; do
  case $lv in
    lin|inpart|span) place_linear "$lv.data" "$ranges" "$le" ;;
    str) place_striped str.data "$ssize" "$ranges" ;;
    \[mir_rimage_*\]) place_linear mir.data "$ranges" "$le" ;;
    \[mm_mimage_*\]) place_linear mm.data "$ranges" "$le" ;;
  esac
done <segs.txt
# raid0 images are stripes; raid5 images get md's left-symmetric layout
# (parity on image (n-1) - row mod n, data after it) with XOR parity.
head -c $((8 * 1048576)) /dev/urandom >r0.data
head -c $((8 * 1048576)) /dev/urandom >r5.data
imgs () { awk -F'|' -v p="[$1_rimage_" 'index($2, p) == 1 {print $2, $7}' segs.txt |
  sort | while read -r _ r; do d=${r%%:*} f=${r#*:}; echo "${DEV2IMG[$d]} $(pe_off "$d" "${f%-*}")"; done; }
cat >place.py <<'PY'
import sys
data, chunk, parity = open(sys.argv[1], 'rb').read(), int(sys.argv[2]), sys.argv[3] == '1'
cols = [(sys.argv[i], int(sys.argv[i + 1])) for i in range(4, len(sys.argv), 2)]
n = len(cols); nd = n - 1 if parity else n
files = {p: open(p, 'r+b') for p, _ in cols}
for row in range(len(data) // (chunk * nd)):
    chunks = [data[(row * nd + d) * chunk:(row * nd + d + 1) * chunk] for d in range(nd)]
    if parity:
        pcol = (n - 1) - row % n
        par = bytes(chunk)
        for c in chunks:
            par = bytes(a ^ b for a, b in zip(par, c))
        place = [(pcol, par)] + [((pcol + 1 + d) % n, c) for d, c in enumerate(chunks)]
    else:
        place = list(enumerate(chunks))
    for col, c in place:
        path, off = cols[col]
        files[path].seek(off + row * chunk); files[path].write(c)
PY
python3 place.py r0.data 65536 0 $(imgs r0)
python3 place.py r5.data 65536 1 $(imgs r5)
check_eq "span has two segments" 2 "$(grep -c '|span|' segs.txt)"

# vdk reads each LV back exactly.
"$VOL_DUMP" -w pv1.img pv2.img part.img r1.img r2.img r3.img >list.txt ||
  fail "vol-dump failed"
for lv in lin str mir mm span; do
  check_eq "$lv layout" "$(awk -F'|' -v l=$lv '$2==l{print $3; exit}' segs.txt | sed 's/raid1/mirror/')" \
    "$(vfield list.txt "$VG/$lv" 4)"
  check_eq "$lv size" "$(stat -c %s $lv.data)" "$(vfield list.txt "$VG/$lv" 7)"
  if "$VOL_DUMP" -r "$VG/$lv" pv1.img pv2.img | cmp -s - $lv.data; then pass
  else fail "$VG/$lv bytes differ"; fi
done
for lv in r0 r5; do
  check_eq "$lv layout" "$(awk -F'|' -v l=$lv '$2==l{print $3; exit}' segs.txt | sed 's/raid0/striped/')" \
    "$(vfield list.txt "$VGR/$lv" 4)"
  check_eq "$lv stripe size" "$(awk -F'|' -v l=$lv '$2==l{print $5; exit}' segs.txt)" \
    "$(vfield list.txt "$VGR/$lv" 15)"
  if "$VOL_DUMP" -r "$VGR/$lv" r1.img r2.img r3.img | cmp -s - $lv.data; then pass
  else fail "$VGR/$lv bytes differ"; fi
done
if "$VOL_DUMP" -r "$VGR/r5" r1.img r3.img | cmp -s - r5.data; then pass
else fail "raid5 with a PV missing is not rebuilt"; fi
if "$VOL_DUMP" -r "$VGP/inpart" part.img | cmp -s - inpart.data; then pass
else fail "LV in a partition reads wrong"; fi
check_eq "inpart lies in partition 1" 2 "$(vfield list.txt "$VGP/inpart" 5)"
check_eq "inpart's parent" 3:1 "$(vfield list.txt "$VGP/inpart" 14)"
check_eq "lin has no parent" - "$(vfield list.txt "$VG/lin" 14)"
blkid_range lin.data 0 $((8 * 1048576))
check_eq "ext4 on the LV" "$B_TYPE" "$(vfield list.txt "$VG/lin" 9)"
check_eq "ext4 label" "$B_LABEL" "$(vfield list.txt "$VG/lin" 10)"
check_eq "ext4 uuid" "$B_UUID" "$(vfield list.txt "$VG/lin" 11)"
blkid_range part.img 1048576 $((63 * 1048576))
check_eq "PV partition type" "$B_TYPE" "$(vfield list.txt 3:1 9)"

# Writes go through: raid1 writes both legs, striped writes its columns.
head -c $((8 * 1048576)) /dev/urandom >mir2.data
"$VOL_DUMP" -W "$VG/mir" pv1.img pv2.img <mir2.data || fail "raid1 write failed"
while IFS='|' read -r vg lv type stripes ssize le ranges; do
  case $lv in
    \[mir_rimage_*\])
      dev=${ranges%%:*} first=${ranges#*:}; first=${first%-*}
      if dd if="${DEV2IMG[$dev]}" bs=64K skip=$(( $(pe_off "$dev" "$first") / 65536 )) \
         count=128 status=none | cmp -s - mir2.data; then pass
      else fail "raid1 leg $lv not written"; fi ;;
  esac
done <segs.txt
cp mir2.data mir.data
head -c $((16 * 1048576)) /dev/urandom >str2.data
"$VOL_DUMP" -W "$VG/str" pv1.img pv2.img <str2.data || fail "striped write failed"
if "$VOL_DUMP" -r "$VG/str" pv1.img pv2.img | cmp -s - str2.data; then pass
else fail "striped write does not read back"; fi

# OS guess from the volumes: ext4 on LVM, nothing Windows.
"$VOL_DUMP" -o pv1.img pv2.img part.img >os.txt
check_eq "OS family" linux "$(awk -F'\t' '$2=="family"{print $3}' os.txt)"
check_eq "OS volume" "$VG/lin" "$(awk -F'\t' '$2=="system"{print $3}' os.txt)"

# One PV missing: raid1 still reads, linear and striped do not.
"$VOL_DUMP" pv2.img >deg.txt
check_eq "mirror degraded" 1 "$(vfield deg.txt "$VG/mir" 19)"
check_eq "linear unreadable" 0 "$(vfield deg.txt "$VG/lin" 20)"
if "$VOL_DUMP" -r "$VG/mir" pv2.img | cmp -s - mir.data; then pass
else fail "degraded mirror reads wrong"; fi
if "$VOL_DUMP" -r "$VG/str" pv2.img >/dev/null 2>err.txt; then
  fail "striped LV with a PV missing opened"
else
  grep -q "missing from the set" err.txt && pass || fail "unclear error: $(cat err.txt)"
fi
finish
