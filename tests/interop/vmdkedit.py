#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""vmdkedit.py - damage VMDK files on purpose, for the malformed-input tests.

Usage:
  vmdkedit.py hdr FILE FIELD VALUE     set a KDMV header field (integer)
  vmdkedit.py hdr-get FILE FIELD       print a KDMV header field
  vmdkedit.py gd0 FILE VALUE           set GD entry 0 (and RGD entry 0)
  vmdkedit.py gte0 FILE VALUE          set GT entry 0 of the first GT
                                       (in both the GT and the redundant GT)
  vmdkedit.py desc-sub FILE OLD NEW    replace text in the descriptor, which
                                       is either FILE itself (text) or the
                                       descriptor embedded in a KDMV file
  vmdkedit.py desc-get FILE            print the descriptor text

The KDMV header layout (little-endian, packed, 512 bytes) is the one of
VMware's "Virtual Disk Format 1.1" specification: magic, version, flags,
capacity, grainSize, descriptorOffset, descriptorSize, numGTEsPerGT,
rgdOffset, gdOffset, overHead, ...
"""
import struct
import sys

FIELDS = {
    # name: (offset, struct format)
    "magic": (0, "<I"),
    "version": (4, "<I"),
    "flags": (8, "<I"),
    "capacity": (12, "<Q"),
    "grainSize": (20, "<Q"),
    "descriptorOffset": (28, "<Q"),
    "descriptorSize": (36, "<Q"),
    "numGTEsPerGT": (44, "<I"),
    "rgdOffset": (48, "<Q"),
    "gdOffset": (56, "<Q"),
    "overHead": (64, "<Q"),
    "uncleanShutdown": (72, "<B"),
}


def read_header(f):
    f.seek(0)
    raw = f.read(512)
    if raw[:4] != b"KDMV":
        return None
    return {k: struct.unpack_from(fmt, raw, off)[0]
            for k, (off, fmt) in FIELDS.items()}


def set_field(path, field, value):
    off, fmt = FIELDS[field]
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(struct.pack(fmt, value))


def set_u32_at(f, offset, value):
    f.seek(offset)
    f.write(struct.pack("<I", value))


def set_gd0(path, value):
    with open(path, "r+b") as f:
        h = read_header(f)
        for gd in (h["gdOffset"], h["rgdOffset"]):
            if gd:
                set_u32_at(f, gd * 512, value)


def set_gte0(path, value):
    with open(path, "r+b") as f:
        h = read_header(f)
        for gd in (h["gdOffset"], h["rgdOffset"]):
            if not gd:
                continue
            f.seek(gd * 512)
            gt = struct.unpack("<I", f.read(4))[0]
            set_u32_at(f, gt * 512, value)


def descriptor_area(f):
    """(offset, size) of the descriptor text inside the file."""
    h = read_header(f)
    if h is None:
        f.seek(0, 2)
        return 0, f.tell()
    return h["descriptorOffset"] * 512, h["descriptorSize"] * 512


def desc_get(path):
    with open(path, "rb") as f:
        off, size = descriptor_area(f)
        f.seek(off)
        return f.read(size).split(b"\0", 1)[0].decode()


def desc_sub(path, old, new):
    with open(path, "r+b") as f:
        embedded = read_header(f) is not None
        off, size = descriptor_area(f)
        f.seek(off)
        text = f.read(size).split(b"\0", 1)[0].decode()
        if old not in text:
            sys.exit("vmdkedit: '%s' not in the descriptor of %s" % (old, path))
        data = text.replace(old, new).encode()
        if embedded:
            if len(data) > size:
                sys.exit("vmdkedit: new descriptor does not fit")
            data += b"\0" * (size - len(data))
        else:
            f.truncate(0)
        f.seek(off)
        f.write(data)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd, path = argv[1], argv[2]
    if cmd == "hdr":
        set_field(path, argv[3], int(argv[4], 0))
    elif cmd == "hdr-get":
        with open(path, "rb") as f:
            h = read_header(f)
        if h is None:
            sys.exit("vmdkedit: %s has no KDMV header" % path)
        print(h[argv[3]])
    elif cmd == "gd0":
        set_gd0(path, int(argv[3], 0))
    elif cmd == "gte0":
        set_gte0(path, int(argv[3], 0))
    elif cmd == "desc-sub":
        desc_sub(path, argv[3], argv[4])
    elif cmd == "desc-get":
        sys.stdout.write(desc_get(path))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
