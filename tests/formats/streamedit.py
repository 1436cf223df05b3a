#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""streamedit.py - damage streamOptimized and COWD files on purpose, and
make seSparse files, for the malformed-input and ESX tests.

Usage:
  streamedit.py grain0 FILE          print the byte offset of the first
                                     grain marker (found through the
                                     footer's GD, as a reader would)
  streamedit.py footer FILE          print the byte offset of the footer
                                     header (file size - 1024)
  streamedit.py poke FILE OFF FMT V  write integer V packed with struct
                                     format FMT ("<I", "<Q") at byte OFF
  streamedit.py flip FILE OFF N      invert N bytes at byte OFF
  streamedit.py cowd-gt0 FILE        print the byte offset of the first
                                     nonzero COWD GD entry's grain table
  streamedit.py sesparse FILE SECTORS RAW [dirty]
                                     write a seSparse extent of SECTORS
                                     sectors and the raw image RAW it
                                     must read as (see make_sesparse)
"""
import os
import random
import struct
import sys


def u(f, off, fmt):
    f.seek(off)
    return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]


def grain0(path):
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        gd_off = u(f, 56, "<Q")
        if gd_off == 0xFFFFFFFFFFFFFFFF:
            gd_off = u(f, size - 1024 + 56, "<Q")
        cap = u(f, 12, "<Q")
        grain = u(f, 20, "<Q")
        ngd = -(-cap // (grain * 512))
        for i in range(ngd):
            gt = u(f, gd_off * 512 + 4 * i, "<I")
            if gt:
                for j in range(512):
                    gte = u(f, gt * 512 + 4 * j, "<I")
                    if gte:
                        return gte * 512
    raise SystemExit("no grain")


def cowd_gt0(path):
    with open(path, "rb") as f:
        gd_off = u(f, 20, "<I")
        ngd = u(f, 24, "<I")
        for i in range(ngd):
            gt = u(f, gd_off * 512 + 4 * i, "<I")
            if gt:
                return gt * 512
    raise SystemExit("no grain table")


def make_sesparse(path, sectors, raw_path, dirty=False):
    """Layout: const header (sector 0), volatile header (1), journal
    header/journal (2, 3: unused), GD (4..), GTs, grains.  Grains of
    8 sectors: a mix of allocated (data), zero, unmapped and
    unallocated, chosen by a fixed seed; allocated grain indexes are
    given out of order to exercise the index encoding."""
    rng = random.Random(20261126)
    ngrains = -(-sectors // 8)
    nregions = -(-ngrains // 4096)
    gd_sectors = max(1, -(-nregions * 8 // 512))
    gt_off = 4 + gd_sectors
    grains_off = gt_off + nregions * 64
    states = []
    for g in range(ngrains):
        states.append(rng.choice("DDDZUH"))   # data, zero, unmapped, hole
    data_grains = [g for g, s in enumerate(states) if s == "D"]
    order = list(range(len(data_grains)))
    rng.shuffle(order)
    raw = bytearray(sectors * 512)
    body = bytearray(len(data_grains) * 4096)
    gts = [[0] * 4096 for _ in range(nregions)]
    slot = dict(zip(data_grains, order))
    for g, s in enumerate(states):
        if s == "D":
            idx = slot[g]
            chunk = bytes(rng.getrandbits(8) for _ in range(64)) * 64
            body[idx * 4096:(idx + 1) * 4096] = chunk
            end = min(len(raw), (g + 1) * 4096)
            raw[g * 4096:end] = chunk[:end - g * 4096]
            # index: bits 48-59 low 12 bits, bits 0-47 the rest
            v = (3 << 60) | ((idx & 0xFFF) << 48) | (idx >> 12)
        elif s == "Z":
            v = 2 << 60
        elif s == "U":
            v = 1 << 60
        else:
            v = 0
        gts[g // 4096][g % 4096] = v
    hdr = [0xCAFEBABE, 0x200000001, sectors, 8, 64, 0, 0, 0, 0, 0,
           1, 1, 2, 1, 3, 1, 4, gd_sectors, gt_off, nregions * 64,
           0, 0, 0, 0, grains_off, len(data_grains) * 8]
    with open(path, "wb") as f:
        f.write(struct.pack("<26Q", *hdr).ljust(512, b"\0"))
        f.write(struct.pack("<4Q", 0xCAFECAFE, 0, 1, 1 if dirty else 0)
                .ljust(512, b"\0"))
        f.write(b"\0" * 1024)
        gd = b"".join(struct.pack("<Q", 0x1000000000000000 | i)
                      for i in range(nregions))
        f.write(gd.ljust(gd_sectors * 512, b"\0"))
        for gt in gts:
            f.write(struct.pack("<4096Q", *gt))
        f.write(body)
    with open(raw_path, "wb") as f:
        f.write(raw)


def main(argv):
    cmd = argv[1]
    if cmd == "grain0":
        print(grain0(argv[2]))
    elif cmd == "footer":
        print(os.path.getsize(argv[2]) - 1024)
    elif cmd == "cowd-gt0":
        print(cowd_gt0(argv[2]))
    elif cmd == "poke":
        with open(argv[2], "r+b") as f:
            f.seek(int(argv[3]))
            f.write(struct.pack(argv[4], int(argv[5], 0)))
    elif cmd == "flip":
        with open(argv[2], "r+b") as f:
            off, n = int(argv[3]), int(argv[4])
            f.seek(off)
            b = bytes(x ^ 0xFF for x in f.read(n))
            f.seek(off)
            f.write(b)
    elif cmd == "sesparse":
        make_sesparse(argv[2], int(argv[3]), argv[4],
                      len(argv) > 5 and argv[5] == "dirty")
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
