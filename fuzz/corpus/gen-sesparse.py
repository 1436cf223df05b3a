#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Seed corpus of the seSparse fuzz target (fuzz/fuzz-sesparse.c).

Layout (docs/vmdk-format.md, seSparse; lib/format/sesparse.c): a
constant header of u64 fields at 0 (magic 0xCAFEBABE, version
0x200000001, capacity, grain size 8, table size 64, flags, 4 reserved,
then offset/size pairs in sectors: volatile header, journal header,
journal, grain directory, grain tables, free bitmap, backmap, grains);
a volatile header (magic 0xCAFECAFE, replay_journal at byte 24); u64
GD entries 0x10000000_<table index>; u64 GT entries tagged by the top
nibble (0 none, 1 unmapped, 2 zero, 3 allocated: index bits 48-59 low,
0-47 shifted left 12).  Each seed is under 100 KiB (a table is 32 KiB):
small capacities keep the target fast.  Run from anywhere; rewrites fuzz/corpus/sesparse."""
import os
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sesparse")
S = 512


def image(capacity=4096 * 8 * 2, gd_sectors=1, ngt=2, ngrains=4,
          entries=None, gd=None, replay=0, magic=0xCAFEBABE, gd_off=None):
    vol, gd_o = 2, 4 if gd_off is None else gd_off
    gt_o = 8 if gd_o >= 1 << 20 else max(8, gd_o + gd_sectors)
    grains_o = gt_o + ngt * 64
    size = (grains_o + ngrains * 8) * S
    b = bytearray(max(size, (gd_o + gd_sectors) * S if gd_o < 1 << 20
                      else size))
    f = [magic, 0x200000001, capacity, 8, 64, 0, 0, 0, 0, 0,
         vol, 1, 0, 0, 0, 0, gd_o, gd_sectors, gt_o, ngt * 64, 0, 0, 0, 0,
         grains_o, ngrains * 8]
    struct.pack_into("<%dQ" % len(f), b, 0, *f)
    struct.pack_into("<QQQQ", b, vol * S, 0xCAFECAFE, 0, 0, replay)
    gds = gd if gd is not None else [0x1000000000000000 | i
                                     for i in range(ngt)]
    if gd_o < len(b) // S:
        for i, v in enumerate(gds[:gd_sectors * 64]):
            struct.pack_into("<Q", b, gd_o * S + 8 * i, v)
    for t, e in enumerate(entries or []):
        for i, v in e.items():
            struct.pack_into("<Q", b, (gt_o + t * 64) * S + 8 * i, v)
    for g in range(ngrains):
        b[(grains_o + g * 8) * S:(grains_o + g * 8) * S + 8] = \
            struct.pack("<Q", 0x5e5e0000 + g)
    return bytes(b)


def alloc(idx):
    return (3 << 60) | ((idx & 0xfff) << 48) | (idx >> 12)


def main():
    os.makedirs(HERE, exist_ok=True)
    seeds = {
        "empty": image(gd=[0, 0]),
        "allocated": image(entries=[{0: alloc(0), 1: alloc(1), 7: alloc(2)},
                                    {4095: alloc(3)}]),
        "zero-unmapped": image(entries=[{0: 1 << 60, 1: 2 << 60,
                                         2: alloc(0)}]),
        "grain-past-eof": image(entries=[{0: alloc(999)}]),
        "bad-entry": image(entries=[{0: 7 << 60, 1: 5}]),
        "gd-not-table": image(gd=[0x2000000000000001, 0]),
        "gt-past-eof": image(gd=[0x1000000000000000 | 900, 0]),
        "dirty": image(replay=1),
        "bad-magic": image(magic=0xCAFEBABF),
        "gd-past-eof": image(gd_off=1 << 30),
        "big-empty": image(capacity=1 << 37, gd_sectors=64,
                           gd=[0] * (64 * 64)),
    }
    for name, data in seeds.items():
        with open(os.path.join(HERE, name), "wb") as fh:
            fh.write(data)


main()
