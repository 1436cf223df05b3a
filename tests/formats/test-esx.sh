#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# ESX formats: vmfs and vmfsThin (create, write, read, qemu-img reads
# them), vmfsSparse (COWD) children chained on flat and sparse bases and
# read back by qemu-img, malformed COWD headers, seSparse read-only
# (a generated file that qemu-img reads the same), and raw device
# mappings / device disks behind the external-paths override.
source "$(dirname "$0")/../lib.sh"
require qemu-img cmp jq python3
EDIT="$(dirname "$0")/streamedit.py"

# ---- vmfs, vmfsThin ----
for t in vmfs vmfsThin 4 6; do
  f="$T/e$t.vmdk"
  check_vdk "create -t $t" create -t "$t" "$f" 64M
  run_vdk info --json "$f"
  want=$t
  [ "$t" = 4 ] && want=vmfs
  [ "$t" = 6 ] && want=vmfsThin
  check_eq "-t $t: create type" "$want" "$(jq -r .create_type "$T/out")"
  check_eq "-t $t: extent type" VMFS "$(jq -r '.extents[0].type' "$T/out")"
  thin=$(jq -r .thin_provisioned "$T/out")
  run_vdk info "$f"
  grep -q "^thin: *yes" "$T/out" && itext=true || itext=false
  run_vdk meta "$f" thinProvisioned
  if [ "$want" = vmfsThin ]; then
    check_eq "vmfsThin: ddb.thinProvisioned" 1 "$(cat "$T/out")"
    check_eq "vmfsThin: info --json thin_provisioned" true "$thin"
    check_eq "vmfsThin: info says thin" true "$itext"
  else
    check_eq "vmfs: no ddb.thinProvisioned" 1 "$rc"
    check_eq "vmfs: info --json thin_provisioned" false "$thin"
    check_eq "vmfs: info does not say thin" false "$itext"
  fi
done
f="$T/evmfsThin.vmdk"
used=$(du -k "$T/evmfsThin-flat.vmdk" | cut -f1)
[ "$used" -lt 1024 ] && pass "vmfsThin flat file is sparse on the host" \
  || fail "vmfsThin flat file uses $used KiB"
truncate -s 64M "$T/m.raw"
head -c 1000000 /dev/urandom >"$T/a"
raw_put "$T/m.raw" "$T/a" 123457
for f in "$T/evmfs.vmdk" "$T/evmfsThin.vmdk"; do
  check_vdk "write $(basename "$f")" write "$f" --offset 123457 <"$T/a"
  check_vdk_read "read $(basename "$f")" "$f" "$T/m.raw"
done
check_qemu_same "qemu-img reads vdk's vmfs disk" "$T/evmfs.vmdk" "$T/m.raw"
# qemu-img knows no createType "vmfsThin"; its flat file is plain data.
check_qemu_same "vmfsThin's flat file holds the data" \
  "$T/evmfsThin-flat.vmdk" "$T/m.raw" raw raw
# A qemu-made flat disk relabelled vmfs (qemu-img cannot create vmfs).
qemu-img create -q -f vmdk -o subformat=monolithicFlat "$T/qf.vmdk" 64M
qemu-io -f vmdk -c "write -P 0x5a 1M 3M" "$T/qf.vmdk" >/dev/null
sed -i 's/createType="monolithicFlat"/createType="vmfs"/; s/ FLAT / VMFS /; s/" 0$/"/' \
  "$T/qf.vmdk"
qemu-img convert -f vmdk -O raw "$T/qf.vmdk" "$T/qf.raw"
check_vdk_read "vdk reads a qemu-written vmfs disk" "$T/qf.vmdk" "$T/qf.raw"

# ---- vmfsSparse (COWD) chains ----
base="$T/base.vmdk"
check_vdk "vmfs base" create -t vmfs "$base" 64M
check_vdk "base data" write "$base" --offset 123457 <"$T/a"
check_vdk "child -t vmfsSparse" child -t vmfsSparse "$base" "$T/d1.vmdk"
run_vdk info --json "$T/d1.vmdk"
check_eq "child create type" vmfsSparse "$(jq -r .create_type "$T/out")"
check_eq "child extent type" VMFSSPARSE "$(jq -r '.extents[0].type' "$T/out")"
check_eq "child extent file" d1-delta.vmdk \
  "$(jq -r '.extents[0].file' "$T/out")"
check_eq "COWD magic" COWD "$(head -c 4 "$T/d1-delta.vmdk")"
head -c 300000 /dev/urandom >"$T/b"
check_vdk "write child 1 (unaligned)" write "$T/d1.vmdk" --offset 1000001 \
  <"$T/b"
raw_put "$T/m.raw" "$T/b" 1000001
check_vdk "child -t vmfsSparse of the child" child -t vmfsSparse \
  "$T/d1.vmdk" "$T/d2.vmdk"
head -c 5000 /dev/urandom >"$T/c"
check_vdk "write child 2 (odd offset)" write "$T/d2.vmdk" --offset 7 <"$T/c"
raw_put "$T/m.raw" "$T/c" 7
head -c 65536 /dev/urandom >"$T/e"
check_vdk "write child 2 at the end" write "$T/d2.vmdk" \
  --offset $((64 * MiB - 65536)) <"$T/e"
raw_put "$T/m.raw" "$T/e" $((64 * MiB - 65536))
check_vdk_read "vdk reads the COWD chain" "$T/d2.vmdk" "$T/m.raw"
check_qemu_same "qemu-img reads the COWD chain" "$T/d2.vmdk" "$T/m.raw"
qemu-img convert -f vmdk -O raw "$T/d2.vmdk" "$T/q.raw"
check_same "qemu-img convert of the chain is byte-exact" "$T/q.raw" "$T/m.raw"
check "qemu-img check of the COWD child" qemu-img check -q -f vmdk \
  "$T/d2.vmdk"
if command -v vmdkinfo >/dev/null; then
  out=$(cd "$T" && vmdkinfo d2.vmdk 2>&1)
  grep -q "VMFS sparse" <<<"$out" && pass "vmdkinfo: VMFS sparse" \
    || fail "vmdkinfo says: $out"
fi
check_vdk "flatten the COWD chain" convert -t raw "$T/d2.vmdk" "$T/flat.raw"
check_same "flattened chain is byte-exact" "$T/flat.raw" "$T/m.raw"
run_vdk info --json "$T/d2.vmdk"
check_eq "three links" 3 "$(jq -r .links "$T/out")"
# A hosted sparse child on a COWD link, and a COWD child on a hosted
# sparse base.
check_vdk "monolithicSparse child of a vmfsSparse link" child "$T/d2.vmdk" \
  "$T/s3.vmdk"
printf 'top' >"$T/t"
check_vdk "write it" write "$T/s3.vmdk" --offset 5 <"$T/t"
raw_put "$T/m.raw" "$T/t" 5
check_qemu_same "qemu-img reads sparse-on-COWD" "$T/s3.vmdk" "$T/m.raw"
check_vdk "monolithicSparse base" create "$T/sb.vmdk" 8M
check_vdk "COWD child of it" child -t vmfsSparse "$T/sb.vmdk" "$T/sd.vmdk"
check_vdk "write the COWD child" write "$T/sd.vmdk" --offset 4096 <"$T/t"
truncate -s 8M "$T/sd.raw"
raw_put "$T/sd.raw" "$T/t" 4096
check_qemu_same "qemu-img reads COWD-on-sparse" "$T/sd.vmdk" "$T/sd.raw"

# ---- malformed COWD headers ----
cowd_bad () {
  local name=$1 off=$2 fmt=$3 val=$4 pattern=$5
  cp "$T/d1.vmdk" "$T/x.vmdk"
  sed -i 's/d1-delta.vmdk/x-delta.vmdk/' "$T/x.vmdk"
  cp "$T/d1-delta.vmdk" "$T/x-delta.vmdk"
  [ "$off" = gt0 ] && off=$(python3 "$EDIT" cowd-gt0 "$T/x-delta.vmdk")
  python3 "$EDIT" poke "$T/x-delta.vmdk" "$off" "$fmt" "$val"
  run_vdk read "$T/x.vmdk"
  if [ "$rc" -eq 1 ] && grep -q -- "$pattern" "$T/err"; then
    pass "COWD $name: $(head -c 200 "$T/err")"
  else
    fail "COWD $name: exit $rc: $(head -c 300 "$T/err")"
  fi
}
cowd_bad "bad magic" 0 '<I' 0x12345678 "bad magic"
cowd_bad "version 9" 4 '<I' 9 "unsupported version 9"
cowd_bad "grain size 3" 16 '<I' 3 "not a power of two"
cowd_bad "too few GD entries" 24 '<I' 1 "cannot cover"
cowd_bad "GD past end of file" 20 '<I' 4000000 "beyond end of file"
cowd_bad "GD inside the header" 20 '<I' 1 "overlaps the header"
cowd_bad "capacity 0" 12 '<I' 0 "capacity is 0"
cowd_bad "grain past end of file" gt0 '<I' 99999999 "beyond end of file"
cp "$T/d1-delta.vmdk" "$T/x-delta.vmdk"
truncate -s 1000 "$T/x-delta.vmdk"
run_vdk read "$T/x.vmdk"
grep -q "header truncated" "$T/err" && pass "COWD truncated header" \
  || fail "COWD truncated header: $(cat "$T/err")"
run_vdk read "$T/d1-delta.vmdk"
grep -q "open its descriptor" "$T/err" && pass "a bare COWD file is refused" \
  || fail "bare COWD: $(cat "$T/err")"

# ---- seSparse (read-only) ----
python3 "$EDIT" sesparse "$T/se-sesparse.vmdk" 100000 "$T/se.raw"
cat >"$T/se.vmdk" <<'EOF'
# Disk DescriptorFile
version=1
CID=12345678
parentCID=ffffffff
createType="seSparse"

# Extent description
RW 100000 SESPARSE "se-sesparse.vmdk"

# The Disk Data Base
#DDB
ddb.adapterType = "lsilogic"
EOF
check_vdk_read "vdk reads seSparse (data, zero, unmapped, unallocated)" \
  "$T/se.vmdk" "$T/se.raw"
if qemu-img convert -f vmdk -O raw "$T/se.vmdk" "$T/seq.raw" 2>"$T/qerr"; then
  check_same "qemu-img reads the same seSparse bytes" "$T/seq.raw" \
    "$T/se.raw"
else
  echo "# qemu-img cannot read seSparse here: $(cat "$T/qerr")"
fi
cp "$T/se-sesparse.vmdk" "$T/se-before"
run_vdk write "$T/se.vmdk" --offset 0 <"$T/t"
check_eq "writing seSparse fails" 1 "$rc"
grep -q "read-only format" "$T/err" && pass "... read-only format message" \
  || fail "... message: $(cat "$T/err")"
grep -q "CID=12345678" "$T/se.vmdk" && pass "... descriptor CID untouched" \
  || fail "... the CID changed"
check_same "... extent untouched" "$T/se-sesparse.vmdk" "$T/se-before"
python3 "$EDIT" sesparse "$T/se-sesparse.vmdk" 100000 "$T/se.raw" dirty
run_vdk read "$T/se.vmdk"
grep -q "journal" "$T/err" && pass "dirty seSparse refused: $(cat "$T/err")" \
  || fail "dirty seSparse: exit $rc $(cat "$T/err")"
python3 "$EDIT" sesparse "$T/se-sesparse.vmdk" 100000 "$T/se.raw"
python3 "$EDIT" poke "$T/se-sesparse.vmdk" 0 '<Q' 0xcafebabf
run_vdk read "$T/se.vmdk"
grep -q "bad magic" "$T/err" && pass "seSparse bad magic" \
  || fail "seSparse bad magic: $(cat "$T/err")"

# ---- raw device mappings and device disks ----
mkdir -p "$T/dev" "$T/vm"
dev="$T/dev/lun.img"
head -c $((4 * MiB)) /dev/urandom >"$dev"
cp "$dev" "$T/dev.orig"
mkdesc () {   # NAME CREATETYPE EXTENT-LINES...
  local name=$1 ct=$2
  shift 2
  {
    printf '# Disk DescriptorFile\nversion=1\nCID=fffffffe\n'
    printf 'parentCID=ffffffff\ncreateType="%s"\n\n' "$ct"
    printf '%s\n' "$@"
    printf '\n#DDB\nddb.adapterType = "lsilogic"\n'
  } >"$T/vm/$name.vmdk"
}
mkdesc full fullDevice "RW 8192 FLAT \"$dev\" 0"
mkdesc part partitionedDevice "RW 2048 FLAT \"$dev\" 2048" "RW 1024 ZERO" \
  "RW 1024 FLAT \"$dev\" 100"
mkdesc rdm vmfsRawDeviceMap "RW 8192 VMFSRDM \"$dev\""
mkdesc rdmp vmfsPassthroughRawDeviceMap "RW 8192 VMFSRAW \"$dev\""
for n in full part rdm rdmp; do
  run_vdk read "$T/vm/$n.vmdk"
  [ "$rc" -eq 1 ] && grep -q "outside its folder" "$T/err" \
    && grep -q -- "--allow-external-paths follows it" "$T/err" \
    && pass "$n: refused without the override, naming the option" \
    || fail "$n: exit $rc: $(cat "$T/err")"
done
for n in full rdm rdmp; do
  check_vdk_read "$n: reads the device" "$T/vm/$n.vmdk" "$dev" \
    --allow-external-paths
done
{ dd if="$dev" bs=512 skip=2048 count=2048 status=none
  head -c $((1024 * 512)) /dev/zero
  dd if="$dev" bs=512 skip=100 count=1024 status=none; } >"$T/part.exp"
check_vdk_read "partitionedDevice: offsets and a ZERO gap" \
  "$T/vm/part.vmdk" "$T/part.exp" --allow-external-paths
head -c 10000 /dev/urandom >"$T/w"
check_vdk "write through a fullDevice" write --allow-external-paths \
  "$T/vm/full.vmdk" --offset 5000 <"$T/w"
raw_put "$T/dev.orig" "$T/w" 5000
check_same "... lands in the device" "$dev" "$T/dev.orig"
check_vdk "write through partitionedDevice extent 3" write \
  --allow-external-paths "$T/vm/part.vmdk" --offset $((3072 * 512)) <"$T/w"
raw_put "$T/dev.orig" "$T/w" $((100 * 512))
check_same "... lands at the extent's offset" "$dev" "$T/dev.orig"
check_vdk "write through an RDM" write --allow-external-paths \
  "$T/vm/rdm.vmdk" --offset 0 <"$T/w"
raw_put "$T/dev.orig" "$T/w" 0
check_same "... lands in the device" "$dev" "$T/dev.orig"
# A real block device, if loop devices work here.
if loop=$(losetup -f --show "$dev" 2>/dev/null); then
  mkdesc loop fullDevice "RW 8192 FLAT \"$loop\" 0"
  check_vdk_read "fullDevice on a loop block device" "$T/vm/loop.vmdk" \
    "$dev" --allow-external-paths
  losetup -d "$loop"
else
  echo "# no loop device: block-device case not run"
fi
finish
