#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""ptyrun.py COLUMNS OUTFILE CMD ARGS... - run CMD with its standard
error on a pseudo-terminal COLUMNS wide (24 rows), standard output and
input on /dev/null; write everything it printed on the terminal to
OUTFILE and exit with CMD's exit status."""
import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

cols, out, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
attrs = termios.tcgetattr(slave)
attrs[1] &= ~termios.ONLCR          # keep "\n" as it was written
termios.tcsetattr(slave, termios.TCSANOW, attrs)
env = dict(os.environ)
env.pop("COLUMNS", None)
p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=slave, env=env)
os.close(slave)
data = b""
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:                 # EIO: the last writer closed
        break
    if not chunk:
        break
    data += chunk
with open(out, "wb") as f:
    f.write(data)
sys.exit(p.wait())
