#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""damage-tables.py FILE WHAT... - damage a monolithicSparse file's grain
directory or grain tables, the primary or the redundant copy (defect 2).
WHAT: gd (primary GD entry 0 past the end of the file), gte:N (primary
GT 0 entry N), rgte:N (redundant GT 0 entry N)."""
import struct
import sys

BAD = 0x7fffff00
with open(sys.argv[1], "r+b") as f:
    h = f.read(512)
    gd, rgd = struct.unpack_from("<Q", h, 56)[0], struct.unpack_from("<Q", h, 48)[0]
    f.seek(gd * 512)
    gt = struct.unpack("<I", f.read(4))[0]
    f.seek(rgd * 512)
    rgt = struct.unpack("<I", f.read(4))[0]
    for what in sys.argv[2:]:
        kind, _, n = what.partition(":")
        at = {"gd": gd * 512, "gte": gt * 512 + 4 * int(n or 0),
              "rgte": rgt * 512 + 4 * int(n or 0)}[kind]
        f.seek(at)
        f.write(struct.pack("<I", BAD))
