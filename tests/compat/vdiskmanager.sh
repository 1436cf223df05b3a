#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vmware-vdiskmanager's documented examples run unchanged against
# vdk-vdiskmanager (installed here under VMware's name), and the disks
# they make are what the flags say: qemu-img reads each one, with the
# createType, adapter and size asked for; converted, expanded, renamed,
# shrunk and defragmented disks keep their data; -e/-R see damage.
source "$(dirname "$0")/../lib.sh"
set -e
require qemu-img qemu-io
: "${VDISKMANAGER:?VDISKMANAGER must point at vdk-vdiskmanager}"

mkdir -p "$T/bin"
ln -s "$VDISKMANAGER" "$T/bin/vmware-vdiskmanager"
export PATH="$T/bin:$PATH"
cd "$T"

vsize () {
  qemu-img info --output=json "$1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])'
}
desc () {   # the descriptor text of a disk (embedded or separate)
  head -c 65536 "$1" | tr -d '\000' | grep -a '='
}

# Every -t id, as the usage text lists them.
types=(monolithicSparse twoGbMaxExtentSparse monolithicFlat
       twoGbMaxExtentFlat vmfs streamOptimized vmfsThin)
for t in 0 1 2 3 4 5 6; do
  vmware-vdiskmanager -c -s 64MB -a lsilogic -t $t "t$t.vmdk" > out.txt
  check_eq "-t $t makes ${types[t]}" "${types[t]}" \
    "$(desc "t$t.vmdk" | sed -n 's/^createType="\(.*\)"/\1/p')"
  if [ $t = 6 ]; then   # qemu-img has no vmfsThin: the extent's size
    check_eq "-t 6: 64MB" $((64 * MiB)) "$(stat -c %s t6-flat.vmdk)"
    continue
  fi
  check "-t $t: qemu-img reads it" qemu-img info "t$t.vmdk"
  check_eq "-t $t: 64MB" $((64 * MiB)) "$(vsize "t$t.vmdk")"
done
check "creation message" grep -q "Virtual disk creation successful." out.txt
check "flat types are preallocated" \
  test "$(du -k t2-flat.vmdk | cut -f1)" -ge $((60 * 1024))

# The examples of the usage text.
vmware-vdiskmanager -c -s 850MB -a ide -t 0 myIdeDisk.vmdk > out.txt
check "-a ide is written" grep -q 'ddb.adapterType = "ide"' \
  <(desc myIdeDisk.vmdk)
qemu-io -f vmdk -c "write -P 0x5a 1M 3M" myIdeDisk.vmdk >/dev/null
qemu-img convert -O raw myIdeDisk.vmdk expect.raw
vmware-vdiskmanager -d myIdeDisk.vmdk > out.txt
check "-d says so" grep -q "Defragmentation completed successfully." out.txt
check_qemu_same "-d keeps the data" myIdeDisk.vmdk expect.raw
vmware-vdiskmanager -r myIdeDisk.vmdk -t 0 destinationDisk.vmdk > out.txt
check "-r says so" grep -q "Virtual disk conversion successful." out.txt
check_qemu_same "-r copies the data" destinationDisk.vmdk expect.raw
vmware-vdiskmanager -x 36GB myIdeDisk.vmdk > out.txt
check "-x says so" grep -q "Disk expansion completed successfully." out.txt
check_eq "-x 36GB" $((36 * GiB)) \
  "$(vsize myIdeDisk.vmdk)"
rc=0; vmware-vdiskmanager -x 1GB myIdeDisk.vmdk 2> err.txt || rc=$?
check_eq "-x to a smaller size fails" 1 "$rc"
check "with the invalid-parameter message" \
  grep -q "One of the parameters supplied is invalid" err.txt
vmware-vdiskmanager -n destinationDisk.vmdk renamed.vmdk > out.txt
check "-n says so" grep -q "Renaming completed successfully." out.txt
check "-n renames" test -f renamed.vmdk -a ! -e destinationDisk.vmdk
qemu-io -f vmdk -c "write -z 1M 1M" renamed.vmdk >/dev/null
before=$(stat -c %s renamed.vmdk)
vmware-vdiskmanager -k renamed.vmdk > out.txt
check "-k says so" grep -q "Shrink completed successfully." out.txt
check "-k gives zeroed grains back" test "$(stat -c %s renamed.vmdk)" -lt "$before"
vmware-vdiskmanager -q -k renamed.vmdk > out.txt
check "-q prints nothing" test ! -s out.txt

# Check and repair.
vmware-vdiskmanager -e renamed.vmdk > out.txt
check "-e on a sound disk" grep -q "Disk chain is consistent." out.txt
qemu-io -f vmdk -c "write -P 1 0 64k" renamed.vmdk >/dev/null
python3 - renamed.vmdk <<'PY'
import struct, sys
# Mark the sparse header unclean and make the redundant GD entry 0
# disagree with the primary: damage that -R knows how to repair.
f = open(sys.argv[1], "r+b")
h = f.read(512)
rgd = struct.unpack_from("<Q", h, 48)[0]
f.seek(rgd * 512); f.write(b"\xff\xff\xff\x7f")
PY
rc=0; vmware-vdiskmanager -e renamed.vmdk > out.txt 2> err.txt || rc=$?
check_eq "-e finds the damage (exit 1)" 1 "$rc"
vmware-vdiskmanager -R renamed.vmdk > out.txt || true
check "-R repairs it" grep -q "successfully repaired" out.txt
check "-e is clean afterwards" vmware-vdiskmanager -e renamed.vmdk
check "qemu-img check after -R" qemu-img check -q renamed.vmdk

# Misuse.
rc=0; vmware-vdiskmanager -c -s 10MB myDisk.vmdk 2> err.txt || rc=$?
check_eq "-c without -a/-t fails" 1 "$rc"
rc=0; vmware-vdiskmanager -c -s 10GB -a buslogic -t 0 -d x.vmdk 2> err.txt || rc=$?
check_eq "two operations fail" 1 "$rc"
rc=0; vmware-vdiskmanager -c -s 3000GB -a buslogic -t 0 big.vmdk 2> err.txt || rc=$?
check_eq "buslogic over 2040GB fails" 1 "$rc"
rc=0; vmware-vdiskmanager -r myIdeDisk.vmdk -t 4 -h esx -u root -f pw \
  "[storage1] vm/dst.vmdk" 2> err.txt || rc=$?
check_eq "a remote destination is refused" 1 "$rc"
check "saying why" grep -q "remote" err.txt
check "--help" vmware-vdiskmanager --help
finish
