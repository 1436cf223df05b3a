#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Windows dynamic disks (the LDM sample images of tests/data/ldm,
# made by Windows 2003 R2 and 2008 R2; MBR- and GPT-style): every NTFS
# volume (simple, spanned, striped, mirrored, RAID-5) mounts through
# ntfs-3g and its test.txt reads the same as ntfscat reads it from the
# --flat volume file; degraded sets (a mirror leg, a RAID-5 column
# missing) still mount read-only with the same content.
source "$(dirname "$0")/../lib.sh"
set -e
require_mount_env
require ntfs-3g ntfscat tar xz python3
FIX=${LDM_FIXTURES:-$(cd "$(dirname "$0")/.." && pwd)/data/ldm}
[ -f "$FIX/ldm-data.tar.xz" ] || skip "no LDM fixtures at $FIX"
mkdir -p "$T/ldm" "$T/mnt" "$T/flat"
tar -C "$T/ldm" -SJxf "$FIX/ldm-data.tar.xz" || skip "cannot unpack the LDM images"
cd "$T/ldm"

ldm_volumes () {  # images... -> names of the ldm volumes
  vdk volumes --json "$@" | python3 -c '
import json, sys
for v in json.load(sys.stdin)["volumes"]:
    if v["kind"] == "ldm" and v["readable"]:
        print(v["name"])'
}

# check_set LABEL images...: mount every LDM volume, compare test.txt.
check_set () {
  local label=$1 vol n=0
  shift
  for vol in $(ldm_volumes "$@"); do
    vdk mount --flat "$@" "$T/flat"
    ntfscat "$T/flat/$vol" test.txt > "$T/expect.txt" 2>/dev/null ||
      die "$label $vol: ntfscat cannot read test.txt from the volume file"
    vdk umount "$T/flat"
    [ -s "$T/expect.txt" ] || die "$label $vol: empty test.txt"
    vdk mount "$@" "$vol" "$T/mnt" || die "$label: mount $vol failed"
    cmp "$T/expect.txt" "$T/mnt/test.txt" || die "$label $vol: test.txt differs"
    vdk umount "$T/mnt"
    assert_nothing_left "$label $vol"
    n=$((n + 1))
  done
  [ "$n" -gt 0 ] || die "$label: no LDM volume found"
  pass "$label: $n NTFS volume(s) mounted, test.txt equal ($(tr -d '\r\n' < "$T/expect.txt" | head -c 40))"
}

check_set "2003 R2 (MBR dynamic disks)" ldm-2003r2-*.img
check_set "2008 R2 (MBR + GPT dynamic disks)" ldm-2008r2-*.img
check_set "2003 R2 mirror, one leg" ldm-2003r2-mirrored-1.img
check_set "2008 R2 RAID-5, column 3 missing" ldm-2008r2-raid5-1.img ldm-2008r2-raid5-2.img
finish
