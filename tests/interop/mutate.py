#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""mutate.py SEED COUNT GOOD_DIR OUT_DIR - damaged copies of good disks.

For each kind of disk found in GOOD_DIR (sparse.vmdk, stream.vmdk,
flat.vmdk + flat-flat.vmdk, esx/base.vmdk + esx/cowd.vmdk + its delta)
write COUNT damaged variants, each in its own folder OUT_DIR/KIND-N with
a file DISK naming the disk to open.  The damage is chosen by a seeded
PRNG, so a seed always gives the same cases:
- binary disks: interesting values in header fields (0, 1, all ones,
  the file size in sectors and around it, huge), random bytes in the
  header, the embedded descriptor, the grain directory and tables, and
  anywhere in the file; truncation at a random point;
- descriptors: lines deleted or duplicated, tokens replaced by hostile
  ones (signs, huge numbers, quotes, "../", absolute paths, other extent
  types), truncation, random bytes.
"""
import os
import random
import shutil
import struct
import sys

# KDMV header fields: offset, size (VMware's Virtual Disk Format 1.1).
KDMV_FIELDS = [(4, 4), (8, 4), (12, 8), (20, 8), (28, 8), (36, 8), (44, 4),
               (48, 8), (56, 8), (64, 8), (72, 1), (77, 2)]
# COWD header fields (ESX redo log): version, flags, capacity, grain,
# gd offset, gd entries, free sector.
COWD_FIELDS = [(4, 4), (8, 4), (12, 4), (16, 4), (20, 4), (24, 4), (28, 4)]
TOKENS = ["-1", "0", "1", "99999999999999999999", "18446744073709551615",
          '"', '""', "../x.vmdk", '"../flat-flat.vmdk"', '"/etc/passwd"',
          "ZERO", "SPARSE", "VMFS", "VMFSSPARSE", "SESPARSE", "FLAT",
          "RDONLY", "NOACCESS", "RW", "version=3", "CID=ffffffff",
          "parentCID=00000000", 'parentFileNameHint="flat.vmdk"',
          'createType="streamOptimized"', "=", "\t", "\x00", "\xff"]


def interesting(rng, size_bytes, width):
    sectors = size_bytes // 512
    top = (1 << (8 * width)) - 1
    vals = [0, 1, 2, 3, 128, 512, 0x7fffffff, top, top - 1, sectors,
            sectors - 1, sectors + 1, 1 << (8 * width - 1),
            rng.randrange(top + 1)]
    return rng.choice(vals) & top


def mutate_binary(rng, data, fields):
    data = bytearray(data)
    n = len(data)
    what = rng.randrange(6)
    if what == 0:  # a header field
        off, width = rng.choice(fields)
        v = interesting(rng, n, width)
        data[off:off + width] = v.to_bytes(width, "little")
    elif what == 1:  # random header bytes
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(min(n, 512))] = rng.randrange(256)
    elif what == 2:  # metadata area after the header (descriptor, GD, GT)
        end = min(n, 512 * 1024)
        for _ in range(rng.randint(1, 8)):
            pos = rng.randrange(512, end) & ~3
            v = interesting(rng, n, 4)
            data[pos:pos + 4] = v.to_bytes(4, "little")
    elif what == 3:  # anywhere
        for _ in range(rng.randint(1, 16)):
            data[rng.randrange(n)] = rng.randrange(256)
    elif what == 4:  # truncation
        del data[rng.randrange(n):]
    else:  # two fields at once
        for _ in range(2):
            off, width = rng.choice(fields)
            data[off:off + width] = \
                interesting(rng, n, width).to_bytes(width, "little")
    return bytes(data)


def mutate_text(rng, text):
    lines = text.split("\n")
    what = rng.randrange(5)
    if what == 0 and lines:
        del lines[rng.randrange(len(lines))]
    elif what == 1 and lines:
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
    elif what == 2:
        i = rng.randrange(len(lines))
        words = lines[i].split(" ")
        words[rng.randrange(len(words))] = rng.choice(TOKENS)
        lines[i] = " ".join(words)
    elif what == 3:
        return "\n".join(lines)[:rng.randrange(len(text) + 1)]
    else:
        s = list("\n".join(lines))
        for _ in range(rng.randint(1, 6)):
            s[rng.randrange(len(s))] = chr(rng.randrange(1, 256))
        return "".join(s)
    return "\n".join(lines)


def copy_tree(src_files, dst):
    os.makedirs(dst)
    for f in src_files:
        shutil.copy(f, dst)


def write_case(out, kind, i, files, disk, victim, mutate):
    d = os.path.join(out, "%s-%03d" % (kind, i))
    copy_tree(files, d)
    path = os.path.join(d, victim)
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(mutate(data))
    with open(os.path.join(d, "DISK"), "w") as f:
        f.write(disk)


def main(argv):
    seed, count, good, out = int(argv[1]), int(argv[2]), argv[3], argv[4]
    rng = random.Random(seed)
    os.makedirs(out)
    g = lambda *p: os.path.join(good, *p)
    kinds = []
    if os.path.exists(g("sparse.vmdk")):
        kinds.append(("sparse", [g("sparse.vmdk")], "sparse.vmdk",
                      "sparse.vmdk", KDMV_FIELDS))
    if os.path.exists(g("stream.vmdk")):
        kinds.append(("stream", [g("stream.vmdk")], "stream.vmdk",
                      "stream.vmdk", KDMV_FIELDS))
    if os.path.exists(g("flat.vmdk")):
        kinds.append(("flat", [g("flat.vmdk"), g("flat-flat.vmdk")],
                      "flat.vmdk", "flat.vmdk", None))
    if os.path.exists(g("esx", "cowd.vmdk")):
        esx = [g("esx", f) for f in sorted(os.listdir(g("esx")))]
        kinds.append(("cowd", esx, "cowd.vmdk", "cowd-delta.vmdk",
                      COWD_FIELDS))
        kinds.append(("cowd-desc", esx, "cowd.vmdk", "cowd.vmdk", None))
    for kind, files, disk, victim, fields in kinds:
        for i in range(count):
            if fields is None:
                mut = lambda b: mutate_text(
                    rng, b.decode("latin-1")).encode("latin-1")
            else:
                mut = lambda b, fl=fields: mutate_binary(rng, b, fl)
            write_case(out, kind, i, files, disk, victim, mut)


if __name__ == "__main__":
    main(sys.argv)
