#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Make the seed corpora for fuzz-descriptor and fuzz-sparse.

Seeds are small on purpose (a few KiB): a sparse extent with 4 KiB
grains and a handful of grain tables covers every code path of the
header, directory and table parsers.  Run from fuzz/corpus/."""
import os
import struct

def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)

DESCS = {
 "mono-sparse": b'# Disk DescriptorFile\nversion=1\nCID=12345678\n'
   b'parentCID=ffffffff\ncreateType="monolithicSparse"\n\n'
   b'# Extent description\nRW 2097152 SPARSE "d.vmdk"\n\n'
   b'# The Disk Data Base \n#DDB\n\nddb.virtualHWVersion = "4"\n'
   b'ddb.geometry.cylinders = "2080"\nddb.geometry.heads = "16"\n'
   b'ddb.geometry.sectors = "63"\nddb.adapterType = "ide"\n',
 "split-flat-crlf": b'# Disk DescriptorFile\r\nversion=1\r\nCID=fffffffe\r\n'
   b'parentCID=ffffffff\r\ncreateType="twoGbMaxExtentFlat"\r\n'
   b'RW 4192256 FLAT "x-f001.vmdk" 0\r\nRW 100 FLAT "x-f002.vmdk" 0\r\n'
   b'ddb.uuid = "60 00 C2 93 54 19 90 f8-f1 8f 7b 25 7b 72 e2 3a"\r\n',
 "child": b'version=1\nCID=aabbccdd\nparentCID=12345678\n'
   b'createType="monolithicSparse"\nparentFileNameHint="../base.vmdk"\n'
   b'RW 2097152 SPARSE "c.vmdk"\nddb.toolsVersion = "2147483647"\n',
 "mixed": b'version=3\nencoding="UTF-8"\nCID=1\nparentCID=ffffffff\n'
   b'isNativeSnapshot="no"\ncreateType="custom"\n'
   b'RW 100 FLAT "a" 5\nRDONLY 8 SPARSE "b"\nNOACCESS 16 ZERO\n'
   b'RW 9 VMFS "c"\nRW 100 FLAT "/dev/sda" 63 uuid devid\n'
   b'changeTrackPath="x-ctk.vmdk"\nddb.longContentID = "0123"\n',
 "bad-extent": b'version=1\nRW x FLAT "a"\n',
 "bad-quote": b'version=1\ncreateType="abc\nRW 1 FLAT "a\n',
 "huge": b'version=1\nRW 18446744073709551615 FLAT "a" 18446744073709551615\n',
 "nul": b'version=1\nRW 8 FLAT "a" 0\n\0\0\0garbage',
}

for name, text in DESCS.items():
    write("descriptor/" + name, text)

GRAIN = 8          # sectors
NGTES = 4

def sparse(cap, entries, flags=3, version=1, desc=b"", grains=None,
           truncate=None, gd_at=None, gtes_per_gt=NGTES):
    cover = gtes_per_gt * GRAIN
    ngd = -(-cap // cover)
    gd_sec = -(-ngd * 4 // 512)
    gt_sec = -(-gtes_per_gt * 4 // 512)
    dsec = 2 if desc else 0
    rgd = 1 + dsec
    gd = rgd + gd_sec + ngd * gt_sec
    over = gd + gd_sec + ngd * gt_sec
    over = -(-over // GRAIN) * GRAIN
    hdr = struct.pack("<4sIIQQQQIQQQB4sH", b"KDMV", version, flags, cap,
                      GRAIN, 1 if desc else 0, dsec, gtes_per_gt, rgd,
                      gd if gd_at is None else gd_at, over, 0, b"\n \r\n", 0)
    img = bytearray(hdr.ljust(512, b"\0"))
    img += desc.ljust(dsec * 512, b"\0")
    img += bytearray((over * 512) - len(img))
    for copy, base in ((0, rgd), (1, gd)):
        for i in range(ngd):
            gtsec = base + gd_sec + i * gt_sec
            struct.pack_into("<I", img, base * 512 + 4 * i, gtsec)
    data_sec = over
    for g, val in entries.items():
        gdi, gti = divmod(g, gtes_per_gt)
        if val == "data":
            val = data_sec
            img += bytes([g & 0xff]) * (GRAIN * 512)
            data_sec += GRAIN
        for base in (rgd, gd):
            gtsec = base + gd_sec + gdi * gt_sec
            struct.pack_into("<I", img, gtsec * 512 + 4 * gti, val)
    if truncate is not None:
        img = img[:truncate]
    return bytes(img)

D = b'version=1\nCID=1\nparentCID=ffffffff\ncreateType="monolithicSparse"\n' \
    b'RW 64 SPARSE "s.vmdk"\n'
write("sparse/basic", sparse(64, {0: "data", 3: "data", 5: "data"}, desc=D))
write("sparse/zeroed", sparse(64, {1: 1, 2: "data"}, flags=7, version=2))
write("sparse/no-desc", sparse(40, {4: "data"}))
write("sparse/bad-gte", sparse(64, {0: 3, 1: 0x7fffffff}, desc=D))
write("sparse/truncated", sparse(64, {0: "data"}, truncate=600))
write("sparse/gd-past-eof", sparse(64, {}, gd_at=1 << 40))
write("sparse/v3", sparse(64, {6: "data"}, version=3))
write("sparse/odd-capacity", sparse(37, {4: "data"}))
