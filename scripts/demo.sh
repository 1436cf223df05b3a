#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# scripts/demo.sh - install the dependencies, build vdk and show its main
# job on a small disk it makes itself: create a VMDK, write data, make a
# child, write to the child, read through the chain and verify, convert
# to raw and to another type, and show the disk's information.  Each step
# prints the command it runs.  Environment: VDK_BUILD_DIR (default
# build), VDK_SKIP_DEPS=1.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${VDK_BUILD_DIR:-build}
if [ "${VDK_SKIP_DEPS:-0}" != 1 ]; then
  bash scripts/install-deps.sh
fi
if [ -d "$build/meson-private" ]; then
  meson setup --reconfigure "$build" >/dev/null
else
  meson setup "$build" >/dev/null
fi
ninja -C "$build" >/dev/null
vdk=$(pwd)/$build/tools/vdk

work=$(mktemp -d /tmp/vdk-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

# step 'COMMAND LINE': print it, then run it (literal strings of this
# script only, so eval is safe here).
step () {
  echo
  echo "\$ $1"
  eval "$1"
}
vdk () { "$vdk" "$@"; }

echo "vdk demo in $work"
step 'vdk create -t monolithicSparse -a lsilogic base.vmdk 256M'
head -c 4M /dev/urandom >data-a
head -c 1M /dev/urandom >data-b
step 'vdk write base.vmdk --offset 0 <data-a'
step 'vdk write base.vmdk --offset 100M <data-b'
step 'vdk child base.vmdk snap.vmdk'
printf 'written into the child, unaligned' >data-c
step 'vdk write snap.vmdk --offset 1000001 <data-c'
step 'vdk info snap.vmdk'

echo
echo "# expected contents: base data with the child's write on top"
truncate -s 256M expect.raw
dd if=data-a of=expect.raw conv=notrunc status=none
dd if=data-b of=expect.raw bs=1M seek=100 conv=notrunc status=none
dd if=data-c of=expect.raw bs=1 seek=1000001 conv=notrunc status=none
step 'cmp <(vdk read snap.vmdk) expect.raw'
echo "read through the chain: identical"
step 'vdk read snap.vmdk --offset 1000001 --length 33'
echo

step 'vdk convert snap.vmdk flat.raw'
step 'cmp flat.raw expect.raw'
echo "convert to raw: identical"
step 'vdk convert -t twoGbMaxExtentFlat snap.vmdk split.vmdk'
step 'ls -l .'
if command -v qemu-img >/dev/null; then
  step 'qemu-img compare -f vmdk -F raw split.vmdk expect.raw'
fi
step 'vdk info --json split.vmdk'
step 'vdk meta base.vmdk'
step 'vdk rename split.vmdk moved.vmdk'
step 'vdk rm moved.vmdk'
step 'ls .'
echo
echo "demo finished: every check passed"
