#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""mkgpt.py FILE - a 1 MiB disk with a GPT whose partition names hold
what a hostile disk may put there: terminal escape sequences, an unpaired
UTF-16 high surrogate, an unpaired low surrogate, and a reversed pair.
CRCs are right, so vdk reads the table and must print the names safely
(tests/hostile/test-catalog.sh).  Layout: volumes.md (protective MBR,
header at LBA 1, 128 entries of 128 bytes from LBA 2)."""
import struct
import sys
import uuid
import zlib

S = 512
n_lba = 2048
img = bytearray(n_lba * S)
# protective MBR
img[446:462] = struct.pack("<BBBBBBBBII", 0, 0, 2, 0, 0xEE, 0xff, 0xff, 0xff,
                           1, n_lba - 1)
img[510:512] = b"\x55\xaa"
names = [
    "\x1b]0;pwned\x07\x1b[2J".encode("utf-16-le"),
    b"ok" + b"\x00\xd8" + b"x\x00",            # lone high surrogate
    b"\x00\xdc" + b"y\x00",                    # lone low surrogate
    b"\x00\xdc\x00\xd8" + b"z\x00",            # low before high
]
linux = uuid.UUID("0fc63daf-8483-4772-8e79-3d69d8477de4").bytes_le
entries = bytearray(128 * 128)
for i, name in enumerate(names):
    e = bytearray(128)
    e[0:16] = linux
    e[16:32] = uuid.UUID(int=i + 1).bytes_le
    struct.pack_into("<QQQ", e, 32, 40 + i * 64, 40 + i * 64 + 63, 0)
    e[56:56 + len(name)] = name
    entries[i * 128:(i + 1) * 128] = e
hdr = bytearray(92)
struct.pack_into("<8sIIIIQQQQ16sQIII", hdr, 0, b"EFI PART", 0x10000, 92, 0,
                 0, 1, n_lba - 1, 34, n_lba - 34,
                 uuid.UUID(int=99).bytes_le, 2, 128, 128,
                 zlib.crc32(entries) & 0xffffffff)
struct.pack_into("<I", hdr, 16, zlib.crc32(hdr) & 0xffffffff)
img[S:S + 92] = hdr
img[2 * S:2 * S + len(entries)] = entries
with open(sys.argv[1], "wb") as f:
    f.write(img)
