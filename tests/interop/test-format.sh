#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Explicit formats and probed raw images (issue 9, defect 3).
#
# A guest owns the first sectors of its raw disk.  If it writes a KDMV
# header whose embedded descriptor names parentFileNameHint="victim.img",
# a tool that probes the file would serve victim.img instead of the
# guest's bytes (the class of qemu's CVE-2008-2004).  Checked here:
# - `-f raw` reads such a file as the raw bytes it is, on every command
#   that reads a disk (read, info, map, convert, measure, check);
# - without -f it is a VMDK (that is what the probe is for);
# - `-f vmdk` refuses a file that is not a VMDK;
# - a write of a KDMV sector (or of descriptor text) into the first
#   4096 bytes of an image that was probed as raw fails and writes
#   nothing, a write there that keeps it raw works, and with -f raw the
#   KDMV write goes through;
# - -f takes only raw, vmdk or auto.
source "$(dirname "$0")/../lib.sh"
require cmp

cd "$T" || exit 99
# The victim: 1 MiB of 0xAB.  The "guest disk" evil.img: a sparse child
# of victim.img, i.e. a file that starts with KDMV and names the victim.
# (The victim is a VMDK named victim.img: a raw image has no CID and
# cannot be a parent.)
head -c 1048576 /dev/zero | tr '\0' '\253' > victim.raw
check_vdk "make the victim" convert -t monolithicSparse victim.raw victim.img
check_vdk "make a KDMV child naming victim.img" child victim.img evil.vmdk
mv evil.vmdk evil.img
grep -aq 'parentFileNameHint="victim.img"' evil.img \
  && pass "evil.img holds parentFileNameHint=\"victim.img\"" \
  || fail "evil.img has no parent hint"

# The raw bytes, padded to whole sectors as a raw disk reads them.
size=$(stat -c %s evil.img)
padded=$(( (size + 511) / 512 * 512 ))
cp evil.img expect.raw
truncate -s "$padded" expect.raw

check_vdk_read "read -f raw: the file's own bytes" evil.img expect.raw -f raw
check_vdk_read "read --format=raw: the same" evil.img expect.raw --format=raw
check_vdk_read "read without -f: probed as a VMDK child of victim.img" \
  evil.img victim.raw
run_vdk info -f raw --json evil.img
check_eq "info -f raw: exit" 0 "$rc"
grep -q '"create_type": *"raw"' out || grep -q '"raw"' out \
  && pass "info -f raw says raw" || fail "info -f raw: $(head -c 300 out)"
grep -q victim out && fail "info -f raw mentions the victim" \
  || pass "info -f raw does not mention the victim"
run_vdk map -f raw --json evil.img
check_eq "map -f raw: exit" 0 "$rc"
grep -q '"depth": *1' out && fail "map -f raw shows a parent" \
  || pass "map -f raw shows one link"
check_vdk "convert -f raw" convert -f raw evil.img copy.raw
check_same "convert -f raw copies the raw bytes" copy.raw expect.raw
check_vdk "measure -f raw" measure -f raw -t monolithicFlat evil.img
run_vdk check -f raw evil.img
check_eq "check -f raw: a raw image has nothing to check" 0 "$rc"

# volumes (built only with the volume layer) takes -f as well.
if vdk volumes --help >/dev/null 2>&1; then
  run_vdk volumes -f raw --json evil.img
  grep -q "\"size\": *$padded[,}]" out \
    && pass "volumes -f raw sees the raw file ($padded bytes)" \
    || fail "volumes -f raw: exit $rc, $(head -c 300 out) $(cat err)"
  run_vdk volumes --json evil.img
  grep -q '"size": *1048576' out \
    && pass "volumes without -f sees the probed chain (1 MiB)" \
    || fail "volumes without -f: exit $rc, $(head -c 300 out)"
fi

# -f vmdk: a VMDK is opened, anything else is refused.
check_vdk_read "read -f vmdk of the KDMV file" evil.img victim.raw -f vmdk
run_vdk read -f vmdk victim.raw
[ "$rc" -eq 1 ] && grep -q "not a VMDK" err \
  && pass "read -f vmdk of a raw image refused: $(cat err)" \
  || fail "read -f vmdk victim.raw: exit $rc, $(cat err)"
run_vdk read -f qcow2 victim.img
[ "$rc" -eq 1 ] && grep -qi "unknown format" err \
  && pass "-f qcow2 is a usage error" || fail "-f qcow2: exit $rc, $(cat err)"

# Writes into the probe window of a probed raw image.
head -c 65536 /dev/zero > guest.img
cp guest.img guest.before
head -c 512 evil.img > kdmv.sector
run_vdk write guest.img --offset 0 < kdmv.sector
[ "$rc" -eq 1 ] && grep -q "probed as raw" err \
  && pass "KDMV sector at 0 of a probed raw image refused: $(cat err)" \
  || fail "KDMV write to probed raw: exit $rc, $(cat err)"
check_same "the refused write wrote nothing" guest.img guest.before
printf 'version=1\ncreateType="monolithicFlat"\nRW 128 FLAT "victim.img" 0\n' \
  > desc.txt
run_vdk write guest.img --offset 0 < desc.txt
[ "$rc" -eq 1 ] && pass "descriptor text at 0 of a probed raw image refused" \
  || fail "descriptor write to probed raw: exit $rc, $(cat err)"
# The magic split over two writes is caught too: "KD" then "MV".
printf 'KD' > half1; printf 'MV' > half2
check_vdk "first half of the magic is harmless" write guest.img --offset 0 \
  < half1
run_vdk write guest.img --offset 2 < half2
[ "$rc" -eq 1 ] && pass "second half of the magic refused" \
  || fail "KD + MV: exit $rc"
printf 'hello, guest' > hello
check_vdk "an ordinary write at 0 of a probed raw image" write guest.img \
  --offset 0 < hello
check_vdk "KDMV at 4096 (no probe looks for it there)" write guest.img \
  --offset 4096 < kdmv.sector
# Other formats' magic: a guest must not make its raw disk open as qcow2
# (refused by name from then on) or as an ISO 9660 / UDF image (magic at
# 32 KiB + 1, inside the 34 KiB probe window).
cp guest.img guest.before
printf 'QFI\xfb\0\0\0\3' > qcow.magic
run_vdk write guest.img --offset 0 < qcow.magic
[ "$rc" -eq 1 ] && grep -q "probed as raw" err \
  && pass "qcow2 magic at 0 of a probed raw image refused" \
  || fail "qcow2 magic write to probed raw: exit $rc, $(cat err)"
for magic in CD001 BEA01; do
  printf "$magic" > iso.magic
  run_vdk write guest.img --offset 32769 < iso.magic
  [ "$rc" -eq 1 ] && grep -q "probed as raw" err \
    && pass "$magic at 32769 of a probed raw image refused" \
    || fail "$magic write to probed raw: exit $rc, $(cat err)"
done
check_same "the refused magic writes wrote nothing" guest.img guest.before
check_vdk "the image still opens as raw" info guest.img
check_vdk "with -f raw the KDMV write is allowed" write -f raw guest.img \
  --offset 0 < kdmv.sector
cmp -n 512 guest.img kdmv.sector >/dev/null \
  && pass "-f raw wrote the KDMV sector" || fail "-f raw write not there"
# rm and rename take -f too: a raw image holding descriptor text that
# names victim.raw must go (or move) alone with -f raw; without -f it is
# a monolithicFlat descriptor, and its data file goes with it.
cp victim.raw victim.keep
mkguest () {
  printf '# Disk DescriptorFile\nversion=1\nCID=fffffffe\n'
  printf 'parentCID=ffffffff\ncreateType="monolithicFlat"\n'
  printf 'RW 2048 FLAT "victim.raw" 0\n'
} 
mkguest > gdesc.img
check_vdk "rm -f raw of a raw image holding descriptor text" rm -f raw \
  gdesc.img
[ ! -e gdesc.img ] && pass "rm -f raw removed the image" \
  || fail "rm -f raw left gdesc.img"
check_same "rm -f raw left the file its text names" victim.raw victim.keep
mkguest > gdesc.img
check_vdk "rename -f raw of the same" rename -f raw gdesc.img moved.img
[ ! -e gdesc.img ] && [ -e moved.img ] && [ -e victim.raw ] \
  && [ ! -e moved.raw ] \
  && pass "rename -f raw moved the one file (victim.raw kept its name)" \
  || fail "rename -f raw: $(ls)"
mkguest > want.img
check_same "rename -f raw kept the bytes" moved.img want.img
run_vdk rm -f vmdk victim.raw
[ "$rc" -eq 1 ] && [ -e victim.raw ] && grep -q "not a VMDK" err \
  && pass "rm -f vmdk of a raw image refused, nothing removed" \
  || fail "rm -f vmdk victim.raw: exit $rc, $(cat err)"
run_vdk rename -f vmdk victim.raw other.raw
[ "$rc" -eq 1 ] && [ -e victim.raw ] && [ ! -e other.raw ] \
  && pass "rename -f vmdk of a raw image refused, nothing moved" \
  || fail "rename -f vmdk victim.raw: exit $rc, $(cat err)"
check_vdk "rm without -f takes the text for a descriptor" rm moved.img
[ ! -e moved.img ] && [ ! -e victim.raw ] \
  && pass "rm without -f removed the descriptor and its extent" \
  || fail "rm moved.img: $(ls)"
cp victim.keep victim.raw
check_vdk "rm -f raw of the KDMV child" rm -f raw evil.img
[ ! -e evil.img ] && [ -e victim.img ] \
  && pass "rm -f raw of the KDMV child left its parent" \
  || fail "rm -f raw evil.img: $(ls)"
finish
