#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/make-disk.py [OUT]: the benchmarks' input disk.

A 4 GiB raw image (default in.raw) holding 1 GiB of data in 4 MiB chunks
scattered over the disk, half random bytes and half text, from a fixed
seed so every benchmark and every run sees the same layout."""
import os
import random
import sys

CHUNK = 4 << 20
DISK = 4 << 30
rng = random.Random(20261126)
words = ("the of and disk grain table sector extent vmdk data block "
         "virtual machine snapshot parent child header descriptor "
         "lorem ipsum dolor sit amet consectetur adipiscing elit").split()
pool = " ".join(rng.choice(words) for _ in range(3_000_000)).encode()
slots = rng.sample(range(DISK // CHUNK), (1 << 30) // CHUNK)
with open(sys.argv[1] if len(sys.argv) > 1 else "in.raw", "wb") as f:
    f.truncate(DISK)
    for i, slot in enumerate(sorted(slots)):
        f.seek(slot * CHUNK)
        if i % 2:
            start = rng.randrange(len(pool) - CHUNK)
            f.write(pool[start:start + CHUNK])
        else:
            f.write(os.urandom(CHUNK))
