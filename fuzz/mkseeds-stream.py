#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""mkseeds-stream.py OUTDIR - write the seed corpus of fuzz-stream.c.

Small streamOptimized files (4 KiB grains, 4-entry grain tables so that
a few grains span several regions), each a few KiB:
  true-stream       header GD_AT_END, grains, GT markers, GD, footer, EOS
  true-stream-type4 the same with an "unspecified" (type 4) marker
  qemu-layout       tables at the front, gdOffset real, no footer
  raw-deflate       grains in raw deflate instead of zlib
  zero-grain        zeroed-grain flag and a GTE of 1
  truncated         the true stream without its last 1536 bytes
  bad-lba           a grain marker whose LBA disagrees with its table
  bad-inflate       a grain whose compressed bytes are garbage
  footer-gd-past    the footer's GD offset beyond the end of the file
The corpus in fuzz/corpus/stream was made with this script.
"""
import os
import struct
import sys
import zlib

GRAIN = 8            # sectors
NGTES = 4
CAP = 64             # sectors: 8 grains, 2 regions


def header(gd_offset, flags=0x30001, overhead=2, desc=(0, 0), rgd=0):
    h = struct.pack("<IIIQQQQIQQQBccccH", 0x564D444B, 3, flags, CAP, GRAIN,
                    desc[0], desc[1], NGTES, rgd, gd_offset, overhead, 0,
                    b"\n", b" ", b"\r", b"\n", 1)
    return h.ljust(512, b"\0")


def marker(sectors, mtype):
    return struct.pack("<QII", sectors, 0, mtype).ljust(512, b"\0")


def grain_data(g):
    return (bytes([g * 17 % 251]) * 1000 + bytes(range(256)) * 16)[:4096]


def grain_record(g, raw=False, garbage=False):
    data = grain_data(g)
    if raw:
        co = zlib.compressobj(6, zlib.DEFLATED, -15)
        comp = co.compress(data) + co.flush()
    else:
        comp = zlib.compress(data)
    if garbage:
        comp = bytes(b ^ 0x5A for b in comp)
    rec = struct.pack("<QI", g * GRAIN, len(comp)) + comp
    return rec.ljust(-(-len(rec) // 512) * 512, b"\0")


def true_stream(grains=(0, 1, 3, 5), raw=False, type4=False,
                garbage=False, bad_lba=False):
    out = bytearray(header(0xFFFFFFFFFFFFFFFF))
    out += b"\0" * 512                    # overhead: 2 sectors
    gd = [0, 0]
    gt = [0] * NGTES
    region = None

    def close_region():
        nonlocal gt
        if region is None or not any(gt):
            return
        out.extend(marker(1, 1))
        gd[region] = len(out) // 512
        out.extend(struct.pack("<4I", *gt).ljust(512, b"\0"))
        gt = [0] * NGTES

    for i, g in enumerate(grains):
        if region is not None and g // NGTES != region:
            close_region()
        region = g // NGTES
        gt[g % NGTES] = len(out) // 512
        rec = bytearray(grain_record(g, raw, garbage and i == 0))
        if bad_lba and i == 1:
            struct.pack_into("<Q", rec, 0, 7 * GRAIN)
        out += rec
        if type4 and i == 0:
            out += marker(0, 4)
    close_region()
    out += marker(1, 2)
    gd_at = len(out) // 512
    out += struct.pack("<2I", *gd).ljust(512, b"\0")
    out += marker(1, 3)
    out += header(gd_at)
    out += b"\0" * 512                    # EOS
    return bytes(out)


def qemu_layout(zero_grain=False):
    # header, RGD (sector 1), RGTs (2, 3), GD (4), GTs (5, 6), grains
    flags = 0x30003 | (0x4 if zero_grain else 0)
    out = bytearray(header(4, flags=flags, overhead=7, rgd=1))
    tables = bytearray(6 * 512)
    grains = bytearray()
    gts = [[0] * NGTES, [0] * NGTES]
    for g in (0, 2, 6):
        gts[g // NGTES][g % NGTES] = 7 + len(grains) // 512
        grains += grain_record(g)
    if zero_grain:
        gts[0][1] = 1
    for base, gd_sector in ((0, 1), (3, 4)):
        struct.pack_into("<2I", tables, base * 512, gd_sector + 1,
                         gd_sector + 2)
        for r in range(2):
            struct.pack_into("<4I", tables, (base + 1 + r) * 512, *gts[r])
    return bytes(out + tables + grains)


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    good = true_stream()
    gd_off = len(good) - 1024 + 56
    past = bytearray(good)
    struct.pack_into("<Q", past, gd_off, 10 ** 9)
    seeds = {
        "true-stream": good,
        "true-stream-type4": true_stream(type4=True),
        "qemu-layout": qemu_layout(),
        "raw-deflate": true_stream(raw=True),
        "zero-grain": qemu_layout(zero_grain=True),
        "truncated": good[:-1536],
        "bad-lba": true_stream(bad_lba=True),
        "bad-inflate": true_stream(garbage=True),
        "footer-gd-past": bytes(past),
    }
    for name, data in seeds.items():
        assert len(data) <= 65536
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "corpus/stream")
