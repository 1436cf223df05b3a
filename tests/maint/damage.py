#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""damage.py - break a hosted sparse VMDK in one precise way, for the
check/repair tests.
Usage:
  damage.py gte FILE GDI GI VALUE [both|primary|redundant]
  damage.py gd FILE GDI VALUE [both|primary|redundant]
  damage.py get-gte FILE GDI GI            print the primary entry
  damage.py unclean FILE VALUE
"""
import struct
import sys


def header(f):
    f.seek(0)
    raw = f.read(512)
    if raw[:4] != b"KDMV":
        sys.exit("damage.py: not a KDMV file")
    return {"rgd": struct.unpack_from("<Q", raw, 48)[0],
            "gd": struct.unpack_from("<Q", raw, 56)[0]}


def u32(f, off, value=None):
    f.seek(off)
    if value is None:
        return struct.unpack("<I", f.read(4))[0]
    f.write(struct.pack("<I", value))


def dirs(h, which):
    return {"both": [h["gd"], h["rgd"]], "primary": [h["gd"]],
            "redundant": [h["rgd"]]}[which]


def main(a):
    cmd, path = a[1], a[2]
    with open(path, "r+b") as f:
        h = header(f)
        if cmd == "gte":
            for d in dirs(h, a[6] if len(a) > 6 else "both"):
                gt = u32(f, d * 512 + 4 * int(a[3]))
                u32(f, gt * 512 + 4 * int(a[4]), int(a[5], 0))
        elif cmd == "gd":
            for d in dirs(h, a[5] if len(a) > 5 else "both"):
                u32(f, d * 512 + 4 * int(a[3]), int(a[4], 0))
        elif cmd == "get-gte":
            gt = u32(f, h["gd"] * 512 + 4 * int(a[3]))
            print(u32(f, gt * 512 + 4 * int(a[4])))
        elif cmd == "unclean":
            f.seek(72)
            f.write(bytes([int(a[3])]))
        else:
            sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
