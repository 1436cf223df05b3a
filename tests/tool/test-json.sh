#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every --json output against its schema in docs/json.md (jsoncheck.py:
# keys, types, null for absent, absolute paths, the one style, valid
# UTF-8), over disks of several types, a chain, a damaged disk, a
# partitioned disk and, where this machine can mount, a live mount.
source "$(dirname "$0")/../lib.sh"
DOC=$TESTS_DIR/../docs/json.md
CHECK=$TESTS_DIR/tool/jsoncheck.py

# json_ok NAME WHAT ARGS...: `vdk ARGS` exits 0 (or 2 for check) and
# its output matches schema NAME.
json_ok () {
  local name=$1 what=$2
  shift 2
  run_vdk "$@"
  if [ "$rc" -ne 0 ] && ! { [ "$name" = check ] && [ "$rc" -eq 2 ]; }; then
    fail "$what: vdk $*: exit $rc: $(head -3 "$T/err")"
    return
  fi
  cp "$T/out" "$T/last.json"
  check "$what: schema $name" python3 "$CHECK" "$DOC" "$name" "$T/last.json"
}

# The checker itself rejects what breaks the rules.
printf '{"create_type": "x", "required": 1, "exact": true, "extra": 1}' \
  > "$T/bad.json"
python3 "$CHECK" "$DOC" measure "$T/bad.json" >/dev/null \
  && fail "the checker accepts a key not in the schema" \
  || pass "the checker rejects a key not in the schema"
printf '{\n  "create_type": "x",\n  "required": "1",\n  "exact": true\n}\n' \
  > "$T/bad.json"
python3 "$CHECK" "$DOC" measure "$T/bad.json" >/dev/null \
  && fail "the checker accepts a string for bytes" \
  || pass "the checker rejects a string for bytes"
printf '{"create_type": "x", "required": 1, "exact": true}\n' > "$T/bad.json"
python3 "$CHECK" "$DOC" measure "$T/bad.json" >/dev/null \
  && fail "the checker accepts another style" \
  || pass "the checker rejects another style"

cd "$T" || die "cd $T"
head -c 3M /dev/urandom > data
for type in monolithicSparse monolithicFlat twoGbMaxExtentSparse \
            streamOptimized vmfs vmfsThin raw; do
  f=$type.vmdk
  [ "$type" = raw ] && f=disk.raw
  check_vdk "$type: convert" convert -t "$type" -a lsilogic data "$f"
  json_ok info "info $type" info --json "$f"
  json_ok map "map $type" map --json "$f"
  json_ok check "check $type" check --json "$f"
  json_ok measure "measure $type" measure --json "$f"
done
check_eq "raw: absent is null (adapter hw_version geometry cid)" \
  "null null null null" \
  "$(vdk info --json disk.raw | jq -r '"\(.adapter) \(.hw_version) \(.geometry) \(.cid)"')"
check_eq "extent sizes are bytes" $((3 * MiB)) \
  "$(vdk info --json monolithicFlat.vmdk | jq '[.extents[].size] | add')"
check_eq "grain size is bytes" 65536 \
  "$(vdk info --json monolithicSparse.vmdk | jq .grain_size)"
check_eq "extent paths are absolute, whatever the type" \
  "$T/monolithicFlat-flat.vmdk $T/disk.raw" \
  "$(vdk info --json monolithicFlat.vmdk | jq -r '.extents[0].path') $(vdk info --json disk.raw | jq -r '.extents[0].path')"

# A chain, with the child of an ESX type.
check_vdk "child" child monolithicSparse.vmdk c1.vmdk
check_vdk "grandchild (vmfsSparse)" child -t vmfsSparse c1.vmdk c2.vmdk
printf x | vdk write c2.vmdk --offset 1M
json_ok info-chain "info --chain of three links" info --json --chain c2.vmdk
json_ok map "map of a chain" map --json c2.vmdk
json_ok map "map --top-only" map --json --top-only c2.vmdk
json_ok check "check of a chain" check --json c2.vmdk

# A damaged disk: problems and, after repair, changes.
cp monolithicSparse.vmdk damaged.vmdk
python3 "$VMDKEDIT" hdr damaged.vmdk uncleanShutdown 1
python3 "$VMDKEDIT" gte0 damaged.vmdk 0x7fffff00
json_ok check "check with problems" check --json damaged.vmdk
check_eq "problems are listed" true \
  "$(jq '.problems | length > 0' "$T/last.json")"
json_ok check "check --repair" check --json --repair damaged.vmdk


# Names that are not UTF-8 or hold control characters stay valid JSON
# (control characters are refused in names vdk makes: a descriptor
# edited by hand carries them).
odd=$(printf 'odd\377name.vmdk')
check_vdk "a disk whose name is not UTF-8" create "$odd" 1M
json_ok info "info of a disk with a name that is not UTF-8" info --json "$odd"
grep -q 'odd\\ufffdname' "$T/last.json" 2>/dev/null \
  || grep -q "odd�name" "$T/last.json" \
  && pass "the byte became U+FFFD" || fail "name in JSON: $(grep -m1 odd "$T/last.json")"
cp monolithicFlat.vmdk ctl.vmdk
python3 "$VMDKEDIT" desc-sub ctl.vmdk 'ddb.adapterType = "lsilogic"' \
  "$(printf 'ddb.uuid = "a\033]0;x\007b"\nddb.adapterType = "lsilogic"')"
json_ok info "info of a descriptor with control characters" info --json \
  ctl.vmdk
grep -q 'a\\u001b\]0;x\\u0007b' "$T/last.json" \
  && pass "control characters are \\u escapes" \
  || fail "uuid in JSON: $(grep -m1 uuid "$T/last.json")"

# Volumes of a partitioned disk, and the list of mounts.
if command -v sfdisk >/dev/null; then
  truncate -s 64M part.raw
  printf 'label: gpt\nsize=16M, name="one"\nsize=16M, name="two"\n' \
    | sfdisk -q part.raw >/dev/null
  check_vdk "partitioned disk as a VMDK" convert part.raw part.vmdk
  json_ok volumes "volumes of a GPT disk" volumes --json part.vmdk
  check_eq "two volumes, no file system: fs_type null" "2 null" \
    "$(jq -r '"\(.volumes | length) \(.volumes[0].fs_type)"' "$T/last.json")"
  json_ok volumes "volumes of a raw disk without a table" volumes --json \
    disk.raw
else
  fail "sfdisk is not installed (scripts/install-deps.sh installs fdisk)"
fi
# Tickets, where the tool has vdk ticket (built with NBD support).
if vdk help ticket >/dev/null 2>&1; then
  mkdir -p tickets
  json_ok tickets "ticket list with none" ticket list --store tickets --json
  vdk ticket create --store tickets --ttl 60 --read-only disk.raw >/dev/null
  vdk ticket create --store tickets disk.raw >/dev/null
  json_ok tickets "ticket list with two" ticket list --store tickets --json
  check_eq "two tickets, one read-only" "2 1" \
    "$(jq -r '"\(length) \([.[] | select(.read_only)] | length)"' "$T/last.json")"
else
  echo "# no vdk ticket in this build"
fi
json_ok mounts "mounts with none" mounts --json
if [ "$(id -u)" = 0 ] && [ -c /dev/fuse ] && losetup -f >/dev/null 2>&1 \
   && command -v mkfs.ext4 >/dev/null && kernel_has_fs ext4; then
  truncate -s 32M fs.raw
  mkfs.ext4 -q -L jsonvol fs.raw
  mkdir -p mnt
  vol=$(vdk volumes --json fs.raw | jq -r '.volumes[0].name')
  if vdk mount fs.raw "$vol" mnt 2>"$T/err"; then
    json_ok mounts "mounts with a live mount" mounts --json
    check_eq "the mount point is absolute" "$T/mnt" \
      "$(jq -r '.[0].mountpoint' "$T/last.json")"
    json_ok volumes "volumes while mounted" volumes --json fs.raw
    vdk umount mnt
  else
    fail "mount for the mounts schema: $(cat "$T/err")"
  fi
else
  echo "# no live mount (needs root, /dev/fuse, a loop device, ext4)"
fi
finish
