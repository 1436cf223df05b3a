#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Opening the disks people have.
#
# 1. A child made on Windows names its parent "C:\Users\...\base.vmdk"
#    (and a UNC and a relative backslash form): with base.vmdk beside it,
#    vdk reads the chain as qemu-img does through a plain hint.
# 2. A linked clone whose parent lies in ../base/ is refused by every
#    command that opens it, the message naming --allow-external-paths,
#    and read with that option.
# 3. A chain whose CIDs disagree: the refusal names --no-cid-check;
#    info, read, convert, compare and map read it with the option and
#    leave every file byte for byte as it was (sha256); commands that
#    write refuse the option.
# 4. A safe `vdk attach` of a renamed parent (its CID still the child's
#    parentCID) succeeds where the content proof is impossible.
# 5. --prealloc: full and zeroed allocate every block of raw, flat and
#    vmfs files (stat), off leaves them sparse; on a file system with
#    unwritten extents (filefrag), zeroed leaves none unwritten and full
#    leaves them unwritten; convert takes it too; sparse types refuse it.
# 6. vdk rename of a disk with children in its folder: their hints follow
#    (qemu-img reads the child through the new name), CIDs unchanged; a
#    child held by another process refuses the rename and nothing
#    changes; info of a disk another program writes says why it
#    does not read it.
source "$(dirname "$0")/../lib.sh"
require qemu-img jq sha256sum

# ---- 1. Windows hints ---------------------------------------------------------
w="$T/w"
mkdir "$w"
vdk create "$w/base.vmdk" 16M
head -c $((2 * MiB)) /dev/urandom | vdk write "$w/base.vmdk" --offset 1M
vdk child "$w/base.vmdk" "$w/child.vmdk"
head -c 5000 /dev/urandom | vdk write "$w/child.vmdk" --offset 1500000
vdk read "$w/child.vmdk" >"$w/expect.raw"
cur=base.vmdk
for hint in 'C:\Users\Ann\Documents\Virtual Machines\VM\base.vmdk' \
            '\\filer\vms\VM\base.vmdk' '..\other\base.vmdk' 'D:base.vmdk'; do
  python3 "$TESTS_DIR/interop/vmdkedit.py" desc-sub "$w/child.vmdk" \
    "parentFileNameHint=\"$cur\"" "parentFileNameHint=\"$hint\"" \
    2>"$T/edit.err" || die "cannot edit the hint: $(cat "$T/edit.err")"
  cur=$hint
  check_vdk_read "Windows hint $hint: read through base.vmdk beside it" \
    "$w/child.vmdk" "$w/expect.raw"
done
mv "$w/base.vmdk" "$w/gone.vmdk"
run_vdk info "$w/child.vmdk"
check_eq "Windows hint, no base beside it: fails" 1 "$rc"
grep -q 'base.vmdk' "$T/err" && pass "... naming the base name it looked for" \
  || fail "... says: $(cat "$T/err")"
mv "$w/gone.vmdk" "$w/base.vmdk"

# ---- 2. external parents --------------------------------------------------------
e="$T/e"
mkdir -p "$e/base" "$e/clone"
vdk create "$e/base/base.vmdk" 16M
head -c $((1 * MiB)) /dev/urandom | vdk write "$e/base/base.vmdk"
vdk child --allow-external-paths "$e/base/base.vmdk" "$e/clone/clone.vmdk"
vdk read --allow-external-paths "$e/clone/clone.vmdk" >"$e/expect.raw"
for cmd in "info" "read" "map" "convert @/out.vmdk" "measure" \
           "compare @/../expect.raw" "rebase @/../base/base.vmdk" \
           "check" "commit" "child @/c2.vmdk"; do
  set -- $cmd
  name=$1
  shift
  args=()
  for a in "$@"; do args+=("${a/@/$e/clone}"); done
  rm -f "$e/clone/out.vmdk" "$e/clone/c2.vmdk"
  run_vdk "$name" "$e/clone/clone.vmdk" "${args[@]}"
  [ "$name" = check ] && cat "$T/out" >>"$T/err"      # a report
  if [ "$rc" -ne 0 ] && grep -q -- '--allow-external-paths' "$T/err"; then
    pass "$name: refused, naming --allow-external-paths"
  else
    fail "$name: exit $rc, says: $(cat "$T/err")"
  fi
done
check_vdk_read "read with --allow-external-paths" "$e/clone/clone.vmdk" \
  "$e/expect.raw" --allow-external-paths
run_vdk compare --allow-external-paths "$e/clone/clone.vmdk" "$e/expect.raw"
check_eq "compare with --allow-external-paths" 0 "$rc"

# ---- 3. --no-cid-check stays read-only ----------------------------------------
c="$T/c"
mkdir "$c"
vdk create "$c/base.vmdk" 16M
head -c $((1 * MiB)) /dev/urandom | vdk write "$c/base.vmdk"
vdk child "$c/base.vmdk" "$c/child.vmdk"
head -c 4096 /dev/urandom | vdk write "$c/child.vmdk" --offset 2M
# Rewrite the base's first MiB with its own bytes: same contents, new CID.
vdk read "$c/base.vmdk" --length 1M >"$c/first.raw"
vdk write "$c/base.vmdk" <"$c/first.raw"
run_vdk read "$c/child.vmdk"
check_eq "CID mismatch: read fails" 1 "$rc"
grep -q -- '--no-cid-check' "$T/err" && pass "... naming --no-cid-check" \
  || fail "... says: $(cat "$T/err")"
run_vdk write "$c/child.vmdk" </dev/null
grep -q -- '--no-cid-check' "$T/err" && grep -q 'attach --unsafe' "$T/err" \
  && pass "a writer's CID error names the read-only option and attach" \
  || fail "write's CID error says: $(cat "$T/err")"
before=$(cd "$c" && sha256sum base.vmdk child.vmdk)
check_vdk "info --no-cid-check" info --no-cid-check "$c/child.vmdk"
check_vdk "read --no-cid-check" read --no-cid-check "$c/child.vmdk"
cp "$T/out" "$c/child.raw"
check_vdk "map --no-cid-check" map --no-cid-check "$c/child.vmdk"
check_vdk "measure --no-cid-check" measure --no-cid-check "$c/child.vmdk"
check_vdk "convert --no-cid-check" convert --no-cid-check "$c/child.vmdk" \
  "$c/copy.raw"
check_same "the copy holds what read showed" "$c/copy.raw" "$c/child.raw"
run_vdk compare --no-cid-check "$c/child.vmdk" "$c/child.raw"
check_eq "compare --no-cid-check" 0 "$rc"
check_eq "the evidence is unchanged (sha256)" "$before" \
  "$(cd "$c" && sha256sum base.vmdk child.vmdk)"
for cmd in write commit shrink grow rebase attach; do
  run_vdk "$cmd" --no-cid-check "$c/child.vmdk" </dev/null
  [ "$rc" -ne 0 ] && grep -q "unknown option '--no-cid-check'" "$T/err" \
    && pass "$cmd refuses --no-cid-check" \
    || fail "$cmd --no-cid-check: exit $rc: $(cat "$T/err")"
done
check_eq "still unchanged after the refusals" "$before" \
  "$(cd "$c" && sha256sum base.vmdk child.vmdk)"

# ---- 4. attach of a renamed parent ---------------------------------------------
a="$T/a"
mkdir "$a"
vdk create "$a/base.vmdk" 16M
head -c $((1 * MiB)) /dev/urandom | vdk write "$a/base.vmdk"
vdk child "$a/base.vmdk" "$a/child.vmdk"
vdk read "$a/child.vmdk" >"$a/expect.raw"
mv "$a/base.vmdk" "$a/renamed.vmdk"
run_vdk read "$a/child.vmdk"
check_eq "the renamed parent is not found" 1 "$rc"
check_vdk "safe attach of the renamed parent (same CID)" attach \
  "$a/child.vmdk" "$a/renamed.vmdk"
check_vdk_read "the child reads as before" "$a/child.vmdk" "$a/expect.raw"
vdk create "$a/other.vmdk" 16M
run_vdk attach "$a/child.vmdk" "$a/other.vmdk"
check_eq "safe attach of a different parent is still refused" 1 "$rc"

# ---- 6. rename brings the children along ----------------------------------------
n="$T/n"
mkdir "$n"
vdk create -t twoGbMaxExtentSparse "$n/base.vmdk" 16M
head -c $((1 * MiB)) /dev/urandom | vdk write "$n/base.vmdk"
vdk child "$n/base.vmdk" "$n/c1.vmdk"
head -c 4096 /dev/urandom | vdk write "$n/c1.vmdk" --offset 2M
vdk child -t vmfsSparse "$n/base.vmdk" "$n/c2.vmdk"
vdk child "$n/c1.vmdk" "$n/gc.vmdk"
vdk create "$n/other.vmdk" 1M
vdk read "$n/c1.vmdk" >"$n/c1.raw"
vdk read "$n/c2.vmdk" >"$n/c2.raw"
c1_cid=$(vdk info --json "$n/c1.vmdk" | jq -r .cid)
check_vdk "rename a disk with children" rename "$n/base.vmdk" \
  "$n/renamed.vmdk"
check_eq "qemu-img follows the child to the new name" renamed.vmdk \
  "$(qemu-img info --output=json "$n/c1.vmdk" | jq -r '."backing-filename"')"
check_qemu_same "the child reads as before (qemu-img)" "$n/c1.vmdk" \
  "$n/c1.raw"
check_vdk_read "the vmfsSparse child reads as before" "$n/c2.vmdk" \
  "$n/c2.raw"
check_eq "the child's CID is unchanged" "$c1_cid" \
  "$(vdk info --json "$n/c1.vmdk" | jq -r .cid)"
check_eq "the grandchild still names its own parent" c1.vmdk \
  "$(vdk info --json "$n/gc.vmdk" | jq -r .parent)"
# A child held by another process (which holds its parent too, shared):
# the rename is refused and nothing changes.
mkfifo "$n/fifo"
vdk write "$n/c2.vmdk" --offset 0 <"$n/fifo" &
holder=$!
exec 7>"$n/fifo"
for _ in $(seq 50); do          # until the writer holds its lock
  vdk info "$n/c2.vmdk" >/dev/null 2>&1 || break
  sleep 0.1
done
before=$(cd "$n" && ls && sha256sum ./*.vmdk)
run_vdk rename "$n/renamed.vmdk" "$n/again.vmdk"
check_eq "rename with a child in use fails" 1 "$rc"
grep -q 'in use' "$T/err" && pass "... saying the disk is in use" \
  || fail "... says: $(cat "$T/err")"
check_eq "... having changed nothing" "$before" \
  "$(cd "$n" && ls && sha256sum ./*.vmdk)"
# info of a disk another (non-vdk-mount) process writes: refused, saying why
run_vdk info "$n/c2.vmdk"
check_eq "info of a disk another program writes fails" 1 "$rc"
grep -q 'cannot tell which program' "$T/err" && pass "... saying why" \
  || fail "... says: $(cat "$T/err")"
exec 7>&-
wait "$holder"

# ---- 5. preallocation ------------------------------------------------------------
p="$T/p"
mkdir "$p"
size=$((8 * MiB))
blocks () { echo $(( $(stat -c '%b * %B' "$1") )); }
for t in raw monolithicFlat vmfs twoGbMaxExtentFlat; do
  for mode in off full zeroed; do
    f="$p/$t-$mode.vmdk"
    data="$p/$t-$mode-flat.vmdk"
    [ "$t" = raw ] && data=$f
    [ "$t" = twoGbMaxExtentFlat ] && data="$p/$t-$mode-f001.vmdk"
    check_vdk "create -t $t --prealloc $mode" create -t "$t" \
      --prealloc "$mode" "$f" 8M
    got=$(blocks "$data")
    if [ "$mode" = off ]; then
      [ "$got" -eq 0 ] && pass "$t off: no block allocated" \
        || fail "$t off: $got bytes allocated"
    else
      [ "$got" -ge "$size" ] && pass "$t $mode: every block allocated" \
        || fail "$t $mode: $got of $size bytes allocated"
    fi
  done
done
check_vdk "convert --prealloc zeroed" convert -t monolithicFlat \
  --prealloc zeroed "$w/child.vmdk" "$p/conv.vmdk"
[ "$(blocks "$p/conv-flat.vmdk")" -ge $((16 * MiB)) ] \
  && pass "convert --prealloc zeroed allocates every block" \
  || fail "convert --prealloc zeroed: $(blocks "$p/conv-flat.vmdk") bytes"
check_qemu_same "the preallocated copy holds the data" "$p/conv.vmdk" \
  "$w/expect.raw"
for t in monolithicSparse vmfsThin streamOptimized; do
  run_vdk create -t "$t" --prealloc full "$p/no-$t.vmdk" 8M
  [ "$rc" -eq 1 ] && [ ! -e "$p/no-$t.vmdk" ] \
    && pass "--prealloc with $t is refused" \
    || fail "--prealloc with $t: exit $rc"
done
# Unwritten extents tell full (allocated, not written) from zeroed.
fs=$(mktemp -d "${MESON_BUILD_ROOT:-/var/tmp}/vdk-prealloc.XXXXXX" 2>/dev/null \
     || mktemp -d /var/tmp/vdk-prealloc.XXXXXX)
at_exit rm -rf "$fs"
if command -v filefrag >/dev/null && vdk create -t raw --prealloc full \
     "$fs/probe.raw" 1M && filefrag -v "$fs/probe.raw" 2>/dev/null \
     | grep -q unwritten; then
  vdk create -t monolithicFlat --prealloc full "$fs/full.vmdk" 8M
  vdk create -t monolithicFlat --prealloc zeroed "$fs/zeroed.vmdk" 8M
  filefrag -v "$fs/full-flat.vmdk" | grep -q unwritten \
    && pass "full: blocks allocated unwritten" \
    || fail "full: no unwritten extent"
  filefrag -v "$fs/zeroed-flat.vmdk" | grep -q unwritten \
    && fail "zeroed: unwritten extents left" \
    || pass "zeroed: zeroes written into every block"
else
  echo "# no file system with unwritten extents here: full/zeroed told apart by stat only"
fi

finish
