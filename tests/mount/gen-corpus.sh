#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Make the seed corpora of the volume fuzz targets (fuzz/corpus/{mbr,gpt,
# lvm,ldm}) with the real tools where they exist: sfdisk and sgdisk for
# partition tables, lvm2 on loop devices for LVM metadata (root needed;
# skipped otherwise).  LDM databases cannot be made on Linux and the
# Windows sample images stay out of the repository, so the LDM seeds are
# synthesised here from the documented record layouts (docs/volumes-format.md §4).
# Each seed is at most 64 KiB.  Run from anywhere; rewrites the folders.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
C=$ROOT/fuzz/corpus
source "$ROOT/tests/lib.sh"   # $T, removed with its loop devices on exit
mkdir -p "$C/mbr" "$C/gpt" "$C/lvm" "$C/ldm"

# ---- MBR: 128-sector disks ----
img () { rm -f "$1"; truncate -s 64K "$1"; }
img "$C/mbr/primaries.img"
printf 'label: dos\nlabel-id: 0x1234abcd\nstart=2,size=30,type=83\nstart=32,size=30,type=7,bootable\nstart=62,size=60,type=8e\n' |
  sfdisk -q "$C/mbr/primaries.img"
img "$C/mbr/logicals.img"
printf 'label: dos\nstart=2,size=20,type=c\nstart=22,size=100,type=5\nstart=24,size=20,type=83\nstart=46,size=20,type=82\nstart=68,size=40,type=7\n' |
  sfdisk -q "$C/mbr/logicals.img"
# The second EBR's link points back at the first: a loop.
cp "$C/mbr/logicals.img" "$C/mbr/ebr-loop.img"
ebr2=$(( $(od -An -tu4 -j $((22 * 512 + 0x1CE + 8)) -N4 "$C/mbr/logicals.img") + 22 ))
printf '\x00\x00\x00\x00' | dd of="$C/mbr/ebr-loop.img" bs=1 \
  seek=$((ebr2 * 512 + 0x1CE + 8)) conv=notrunc status=none
# A partition past the end of the disk and overlapping primaries.
img "$C/mbr/bad-ranges.img"
printf 'label: dos\nstart=2,size=60,type=83\nstart=62,size=60,type=83\n' |
  sfdisk -q "$C/mbr/bad-ranges.img"
printf '\x28\x00\x00\x00' | dd of="$C/mbr/bad-ranges.img" bs=1 \
  seek=$((0x1BE + 16 + 8)) conv=notrunc status=none      # 2 starts at 40
printf '\xff\xff\x00\x00' | dd of="$C/mbr/bad-ranges.img" bs=1 \
  seek=$((0x1BE + 12)) conv=notrunc status=none          # 1 runs off the end

# ---- GPT: 128-sector disks ----
img "$C/gpt/basic.img"
sgdisk -a 1 -n 1:34:50 -t 1:ef00 -c 1:ESP -n 2:51:70 -t 2:8300 \
  -n 3:71:94 -t 3:4201 -c 3:ldm "$C/gpt/basic.img" >/dev/null
cp "$C/gpt/basic.img" "$C/gpt/backup-only.img"
dd if=/dev/zero of="$C/gpt/backup-only.img" bs=512 seek=1 count=1 \
  conv=notrunc status=none
cp "$C/gpt/basic.img" "$C/gpt/hybrid.img"
sgdisk -h 2 "$C/gpt/hybrid.img" >/dev/null 2>&1 || true

# ---- LVM: metadata text from lvm2 itself ----
if [ "$(id -u)" = 0 ] && command -v lvcreate >/dev/null; then
  export LVM_SUPPRESS_FD_WARNINGS=1
  conf='global { activation = 0 } devices { use_devicesfile = 0 }'
  vg=vdkcorpus$$
  truncate -s 64M "$T/a.img" "$T/b.img"
  loop_attach "$T/a.img" && la=$LOOP && loop_attach "$T/b.img" && lb=$LOOP
  {
    pvcreate -q -ff -y --config "$conf" "$la" "$lb"
    vgcreate -q --config "$conf" -s 4M "$vg" "$la" "$lb"
    lvcreate -q --config "$conf" -an -Zn -L 8M -n lin "$vg" "$la"
    lvcreate -q --config "$conf" -an -Zn -i2 -I64k -L 16M -n str "$vg"
    vgcfgbackup -q --config "$conf" -f "$T/vg.txt" "$vg"
  } >/dev/null 2>&1 || true
  loop_detach "$la"; loop_detach "$lb"
  rm -rf /etc/lvm/backup/"$vg" /etc/lvm/archive/"$vg"_*
  # The compact on-disk copy: raw_locn[0] of the mda at 4 KiB.
  python3 - "$T/a.img" "$T/ondisk.txt" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read(1 << 20)
off, size = struct.unpack('<QQ', d[4096 + 40:4096 + 56])
open(sys.argv[2], 'wb').write(d[4096 + off:4096 + off + size].rstrip(b'\0'))
EOF
  for mode in 0 1; do
    { printf "\\x0$mode"; cat "$T/ondisk.txt"; } >"$C/lvm/ondisk-$mode.txt"
    { printf "\\x0$mode"; cat "$T/vg.txt"; } >"$C/lvm/backup-$mode.txt"
  done
  # Truncated metadata.
  head -c 600 "$C/lvm/ondisk-1.txt" >"$C/lvm/truncated-1.txt"
else
  echo "gen-corpus: not root or no lvm2: LVM seeds left as they are" >&2
fi

# A hand-written VG for the fuzz target's PV (its label UUID is
# 0123456789abcdefghijABCDEFGHIJkl; 2 MiB, data from 1 MiB): raid5,
# raid0 and old-style mirror LVs over sub-LVs, 64 KiB extents.
python3 - "$C/lvm/raid-1.txt" <<'EOF'
import sys
def lv(name, idn, visible, extents, body):
    st = '"READ", "WRITE", "VISIBLE"' if visible else '"READ", "WRITE"'
    return ('%s {\nid = "LVLVLV-0000-0000-0000-0000-0000-0000%02d"\nstatus = [%s]\n'
            'segment_count = 1\nsegment1 {\nstart_extent = 0\nextent_count = %d\n%s\n}\n}\n'
            % (name, idn, st, extents, body))
def lin(pe):
    return 'type = "striped"\nstripe_count = 1\nstripes = ["pv0", %d]' % pe
lvs = lv('r5', 1, True, 4, 'type = "raid5"\ndevice_count = 3\nstripe_size = 16\n'
         'raids = ["r5_rmeta_0", "r5_rimage_0", "r5_rmeta_1", "r5_rimage_1", '
         '"r5_rmeta_2", "r5_rimage_2"]')
for i in range(3):
    lvs += lv('r5_rmeta_%d' % i, 10 + i, False, 1, lin(6 + i))
    lvs += lv('r5_rimage_%d' % i, 20 + i, False, 2, lin(2 * i))
lvs += lv('r0', 2, True, 4, 'type = "raid0"\nstripe_size = 16\n'
          'raid0_lvs = ["r0_rimage_0", "r0_rimage_1"]')
lvs += lv('r0_rimage_0', 30, False, 2, lin(9))
lvs += lv('r0_rimage_1', 31, False, 2, lin(11))
lvs += lv('mm', 3, True, 1, 'type = "mirror"\nmirror_count = 2\n'
          'mirrors = ["mm_mimage_0", 0, "mm_mimage_1", 0]')
lvs += lv('mm_mimage_0', 40, False, 1, lin(13))
lvs += lv('mm_mimage_1', 41, False, 1, lin(14))
text = ('vgf {\nid = "VGVGVG-0000-0000-0000-0000-0000-000000"\nseqno = 1\n'
        'extent_size = 128\nphysical_volumes {\npv0 {\n'
        'id = "012345-6789-abcd-efgh-ijAB-CDEF-GHIJkl"\npe_start = 2048\n'
        'pe_count = 16\n}\n}\nlogical_volumes {\n' + lvs + '}\n}\n')
open(sys.argv[1], 'wb').write(b'\x01' + text.encode())
EOF

# ---- LDM: synthetic dynamic-disk databases ----
python3 - "$C/ldm" <<'EOF'
import struct, sys, uuid
out = sys.argv[1]
DISK = uuid.UUID('11111111-2222-3333-4444-555555555555')
DISK2 = uuid.UUID('66666666-2222-3333-4444-555555555555')
DG = uuid.UUID('aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee')

def vint(v):
    b = v.to_bytes(max(1, (v.bit_length() + 7) // 8), 'big')
    return bytes([len(b)]) + b
def vstr(s):
    s = s.encode(); return bytes([len(s)]) + s
def rec(typ, rev, flags, body):
    return struct.pack('>HBBI', 0, flags, (rev << 4) | typ, len(body)) + body
def dg():   return rec(5, 4, 0, vint(1) + vstr('TestDg0'))
def disk(i, g):
    return rec(4, 4, 0, vint(i) + vstr('Disk%d' % i) + g.bytes)
def vol(i, name, ncomps, size, raid=False):
    body = (vint(i) + vstr(name) + vstr('raid5' if raid else 'gen') + vstr('')
            + b'ACTIVE'.ljust(14, b'\0') + bytes([4 if raid else 3, 0, 1])
            + b'\0\0\0' + b'\0' + vint(ncomps) + b'\0' * 16 + vint(size)
            + b'\0' * 4 + b'\x07' + uuid.UUID(int=i).bytes)
    return rec(1, 5, 0, body)
def comp(i, parent, typ, nparts, chunk=0, ncols=0):
    body = (vint(i) + vstr('c%d' % i) + vstr('ACTIVE') + bytes([typ])
            + b'\0' * 4 + vint(nparts) + b'\0' * 16 + vint(parent) + b'\0')
    if chunk:
        body += vint(chunk) + vint(ncols)
    return rec(2, 3, 0x10 if chunk else 0, body)
def part(i, parent, disk_id, start, voff, size, index=None):
    body = (vint(i) + vstr('Disk1-%02d' % i) + b'\0' * 12
            + struct.pack('>QQ', start, voff) + vint(size) + vint(parent)
            + vint(disk_id))
    if index is not None:
        body += vint(index)
    return rec(3, 3, 0x08 if index is not None else 0, body)

def vblks(records, vsize=128, split=()):
    out, seq, rid = b'', 1, 1
    pay = vsize - 16
    for r in records:
        n = max(2, -(-len(r) // pay)) if rid in split else 1
        if n == 1 and len(r) > pay:
            raise SystemExit('record too long')
        for e in range(n):
            chunk = r[e * pay:(e + 1) * pay].ljust(pay, b'\0')
            out += b'VBLK' + struct.pack('>IIHH', seq, rid, e, n) + chunk
            seq += 1
        rid += 1
    return out

def database(records, split=()):
    ph = bytearray(512)
    ph[0:8] = b'PRIVHEAD'
    ph[12:16] = struct.pack('>HH', 2, 11)
    ph[48:84] = str(DISK).encode()
    ph[176:212] = str(DG).encode()
    ph[240:247] = b'TestDg0'
    cfg = bytearray(4 * 512)
    toc = bytearray(512)
    toc[0:8] = b'TOCBLOCK'
    toc[36:42] = b'config'
    toc[46:62] = struct.pack('>QQ', 4, 200)
    cfg[2 * 512:3 * 512] = toc
    body = vblks(records, split=split)
    vmdb = bytearray(512)
    vmdb[0:4] = b'VMDB'
    vmdb[4:16] = struct.pack('>III', len(records) + 4, 128, 512)
    vmdb[53:89] = str(DG).encode()
    vmdb[117:125] = struct.pack('>Q', 7)
    return bytes(ph) + bytes(cfg) + bytes(vmdb) + body

simple = [dg(), disk(2, DISK), vol(3, 'Volume1', 1, 256),
          comp(4, 3, 2, 1), part(5, 4, 2, 0, 0, 256)]
spanned = [dg(), disk(2, DISK), disk(9, DISK2), vol(3, 'Volume2', 1, 512),
           comp(4, 3, 2, 2), part(5, 4, 2, 0, 0, 256),
           part(6, 4, 9, 0, 256, 256)]
striped = [dg(), disk(2, DISK), vol(3, 'Stripe1', 1, 512),
           comp(4, 3, 1, 2, 16, 2), part(5, 4, 2, 0, 0, 256, 0),
           part(6, 4, 2, 256, 0, 256, 1)]
mirror = [dg(), disk(2, DISK), vol(3, 'Mirror1', 2, 256),
          comp(4, 3, 2, 1), comp(5, 3, 2, 1),
          part(6, 4, 2, 0, 0, 256), part(7, 5, 2, 256, 0, 256)]
raid5 = [dg(), disk(2, DISK), vol(3, 'Raid1', 1, 512, raid=True),
         comp(4, 3, 3, 3, 16, 3), part(5, 4, 2, 0, 0, 256, 0),
         part(6, 4, 2, 256, 0, 256, 1), part(7, 4, 2, 512, 0, 256, 2)]
outside = [dg(), disk(2, DISK), vol(3, 'Volume1', 1, 256),
           comp(4, 3, 2, 1), part(5, 4, 2, 1 << 40, 0, 256)]
for name, recs, split in [('simple', simple, ()), ('spanned', spanned, ()),
                          ('striped', striped, ()), ('mirror', mirror, ()),
                          ('raid5', raid5, ()), ('outside', outside, ()),
                          ('multi-entry', simple, (3,))]:
    data = database(recs, split)
    assert len(data) <= 65536
    open('%s/%s.db' % (out, name), 'wb').write(data)
EOF
ls -l "$C"/{mbr,gpt,lvm,ldm}
