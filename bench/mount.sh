#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark: vdk mount against the FUSE ceiling and libvmdk's vmdkmount,
# same input, same run.
#
# The ceiling (bench/fuse-ceiling.c, built in the build tree) is the least
# a FUSE server can do: it hands out the bytes of the raw image with one
# pread per request, mounted with vdk's own choices (low-level API, the
# same mount options, max_read 1 MiB, multi-threaded cloned-fd loop, page
# cache kept and readahead raised to 1 MiB for a read-only flat folder,
# direct I/O under a loop device, as vdk does).  What vdk costs above it is the price
# of VMDK; what vmdkmount costs is the peer's.
#
#   1. whole-disk reads of the bench corpus (bench/make-disk.py: 4 GiB,
#      1 GiB of data) through `vdk mount --flat`, the ceiling and
#      vmdkmount: `cat` (128 KiB reads) and `dd bs=1M`, each cold (first
#      read after a fresh mount) and cached (the same read again);
#   2. copying a 1 GiB file out of the ext4 volume of a second disk:
#      `vdk mount DISK 1` vs the ceiling + a loop device vs vmdkmount +
#      a loop device (mount -o ro,noload);
#   3. 4 KiB random reads (fio, O_DIRECT, psync, 2 jobs, RUNTIME s) on
#      the whole-disk file of each.
# Everything lives on /dev/shm, so the figures are the cost of each FUSE
# stack.  Best of $RUNS runs: wall seconds, and CPU seconds of the reader
# plus the FUSE daemon (meaningful on a busy machine too).
#
# Usage: bench/mount.sh [VDK]   (default build/tools/vdk); needs root,
# vmdkmount (libvmdk-utils) and fio.  Environment: RUNS (3), RUNTIME (10).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
VDK=$(realpath "${1:-${VDK:-$root/build/tools/vdk}}")
CEIL=${CEIL:-$(dirname "$VDK")/../bench/fuse-ceiling}
RUNS=${RUNS:-3}
RUNTIME=${RUNTIME:-10}
for t in vmdkmount fio qemu-img mkfs.ext4 sfdisk bc; do
  command -v $t >/dev/null || { echo "$t is missing" >&2; exit 1; }
done
[ -x "$CEIL" ] || { echo "no ceiling server at $CEIL (ninja -C build)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }

B=$(mktemp -d /dev/shm/vdk-bench.XXXXXX)
export VDK_RUN_DIR=$B/run
cleanup () {
  set +e
  umount "$B/m2" 2>/dev/null
  for m in "$B"/m "$B"/f; do "$VDK" umount --force "$m" >/dev/null 2>&1; done
  fusermount3 -u "$B/v" 2>/dev/null; fusermount3 -u "$B/c" 2>/dev/null
  "$VDK" mount --cleanup >/dev/null 2>&1
  rm -rf "$B"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
mkdir -p "$B/f" "$B/v" "$B/c" "$B/m" "$B/m2" "$B/files"

echo "# the corpus: 4 GiB, 1 GiB of data (bench/make-disk.py)"
python3 "$root/bench/make-disk.py" "$B/corpus.raw"
qemu-img convert -f raw -O vmdk "$B/corpus.raw" "$B/corpus.vmdk"
echo "# a 4 GiB disk with a 1 GiB file in ext4"
head -c 1G /dev/urandom > "$B/files/big.bin"
truncate -s 4G "$B/ext4.raw"
printf 'label: dos\n,,L\n' | sfdisk -q "$B/ext4.raw" >/dev/null
truncate -s $((4096 - 1))M "$B/part.img"
mkfs.ext4 -q -F -d "$B/files" "$B/part.img"
dd if="$B/part.img" of="$B/ext4.raw" bs=1M seek=1 conv=notrunc,sparse status=none
rm -f "$B/part.img" "$B/files/big.bin"
qemu-img convert -f raw -O vmdk "$B/ext4.raw" "$B/ext4.vmdk"

now () { date +%s.%N; }
cpu_of () { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"; }
vdk_pid () { "$VDK" mounts --json | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' | head -1; }

# Servers: up_S DISK sets $file (the whole-disk file) and $pid; down_S.
up_ceiling () {       # $1: raw image; $2: cache (default, as vdk) or dio
  "$CEIL" -o "${2:-cache}" "$1" "$B/c" & pid=$!
  for _ in $(seq 50); do mountpoint -q "$B/c" && break; sleep 0.1; done
  if [ "${2:-cache}" = cache ]; then
    echo 1024 > "/sys/class/bdi/$(mountpoint -d "$B/c")/read_ahead_kb"
  fi
  file=$B/c/disk
}
down_ceiling () { fusermount3 -u "$B/c"; wait "$pid" 2>/dev/null || true; }
up_vdk () { "$VDK" mount --flat "$1" "$B/f"; pid=$(vdk_pid); file=$B/f/disk; }
down_vdk () { "$VDK" umount "$B/f"; }
up_vmdkmount () {
  vmdkmount "$1" "$B/v" >/dev/null; pid=$(pgrep -n -x vmdkmount)
  file=$B/v/vmdk1
}
down_vmdkmount () { fusermount3 -u "$B/v"; sleep 0.2; }

# timed CMD...: run it; "WALL CPU" of it, CPU including the daemon's.
timed () {
  local c0 t0 t1
  c0=$(cpu_of "$pid"); t0=$(now)
  /usr/bin/time -f '%U %S' -o "$B/rt" "$@" >/dev/null
  t1=$(now)
  echo "$(echo "$t1 - $t0" | bc -l) $(echo "$(awk '{ print $1 + $2 }' "$B/rt") + $(cpu_of "$pid") - $c0" | bc -l)"
}

# One run of the flat reads for server S: "CW CC HW HC" (cold wall, cold
# CPU, cached wall, cached CPU) for READER (cat | dd).
flat_run () {
  local s=$1 reader=$2 img=$3 cold hot cmd
  "up_$s" "$img"
  if [ "$reader" = cat ]; then cmd=(cat "$file"); else
    cmd=(dd if="$file" of=/dev/null bs=1M status=none); fi
  cold=$(timed "${cmd[@]}"); hot=$(timed "${cmd[@]}")
  "down_$s"
  echo "$cold $hot"
}

# best_of N CMD...: the smallest value of each column over $RUNS runs.
best_of () {
  local out all=
  for _ in $(seq "$RUNS"); do out=$("$@"); all+="$out"$'\n'; done
  printf '%s' "$all" | awk '{ for (i = 1; i <= NF; i++)
      if (NR == 1 || $i < m[i]) m[i] = $i; n = NF }
    END { for (i = 1; i <= n; i++) printf "%.3f%s", m[i], i < n ? " " : "\n" }'
}
ratio () { echo "scale=2; $1 / $2" | bc -l | sed 's/^\./0./'; }

# All three serve the same bytes.
up_vdk "$B/corpus.vmdk"; up_vmdkmount "$B/corpus.vmdk"
cmp "$B/f/disk" "$B/corpus.raw" && cmp "$B/v/vmdk1" "$B/corpus.raw" \
  || { echo "a mount and the raw image disagree" >&2; exit 1; }
down_vdk; down_vmdkmount
up_ceiling "$B/corpus.raw"; cmp "$file" "$B/corpus.raw"; down_ceiling

echo "# load average before timing: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "1. whole-disk read of the 4 GiB corpus, best of $RUNS (wall s / CPU s of reader + daemon):"
for reader in cat dd; do
  declare -A r=()
  for s in ceiling vdk vmdkmount; do
    img=$B/corpus.vmdk; [ $s = ceiling ] && img=$B/corpus.raw
    r[$s]=$(best_of flat_run $s $reader "$img")
  done
  read -r cw cc hw hc <<< "${r[ceiling]}"
  read -r vw vc vhw vhc <<< "${r[vdk]}"
  read -r mw mc mhw mhc <<< "${r[vmdkmount]}"
  label=$([ $reader = cat ] && echo "cat (128 KiB reads)" || echo "dd bs=1M")
  printf '  %-20s %-6s ceiling %6.3f / %5.2f  vdk %6.3f / %5.2f  vmdkmount %6.3f / %5.2f   vdk/ceiling %s (CPU %s)  vdk/vmdkmount %s\n' \
    "$label" cold "$cw" "$cc" "$vw" "$vc" "$mw" "$mc" \
    "$(ratio "$vw" "$cw")" "$(ratio "$vc" "$cc")" "$(ratio "$vw" "$mw")"
  printf '  %-20s %-6s ceiling %6.3f / %5.2f  vdk %6.3f / %5.2f  vmdkmount %6.3f / %5.2f   vdk/ceiling %s (CPU %s)  vdk/vmdkmount %s\n' \
    "" cached "$hw" "$hc" "$vhw" "$vhc" "$mhw" "$mhc" \
    "$(ratio "$vhw" "$hw")" "$(ratio "$vhc" "$hc")" "$(ratio "$vhw" "$mhw")"
  unset r
done

# 2. The volume copy.  Plain loop devices (mount -o loop), as vdk's own.
copy_vdk () {         # $1: "" (vdk's choice, direct I/O) or "cache"
  local dio=
  [ "${1:-}" = cache ] && dio=0
  VDK_FUSE_DIRECT_IO=$dio "$VDK" mount "$B/ext4.vmdk" 1 "$B/m"; pid=$(vdk_pid)
  timed cat "$B/m/big.bin"
  "$VDK" umount "$B/m"
}
copy_loop () {        # $1: ceiling | vmdkmount; $2: ceiling mode (dio)
  if [ "$1" = ceiling ]; then up_ceiling "$B/ext4.raw" "${2:-dio}"
  else up_vmdkmount "$B/ext4.vmdk"; fi
  mount -o loop,ro,noload,offset=1048576 "$file" "$B/m2"
  timed cat "$B/m2/big.bin"
  umount "$B/m2"
  "down_$1"
}
echo "2. copy of a 1 GiB file out of an ext4 volume, best of $RUNS:"
read -r kw kc <<< "$(best_of copy_loop ceiling)"
read -r vw vc <<< "$(best_of copy_vdk)"
read -r mw mc <<< "$(best_of copy_loop vmdkmount)"
printf '  ceiling + loop %6.3f / %5.2f  vdk mount %6.3f / %5.2f  vmdkmount + loop %6.3f / %5.2f   vdk/ceiling %s (CPU %s)  vdk/vmdkmount %s\n' \
  "$kw" "$kc" "$vw" "$vc" "$mw" "$mc" "$(ratio "$vw" "$kw")" \
  "$(ratio "$vc" "$kc")" "$(ratio "$vw" "$mw")"
# The other choice, for the record: the page cache on the FUSE file
# under the loop device (ceiling in cache mode, VDK_FUSE_DIRECT_IO=0).
read -r kw kc <<< "$(best_of copy_loop ceiling cache)"
read -r vw vc <<< "$(best_of copy_vdk cache)"
printf '  (page cache under the loop: ceiling %6.3f / %5.2f  vdk %6.3f / %5.2f  vdk/ceiling %s)\n' \
  "$kw" "$kc" "$vw" "$vc" "$(ratio "$vw" "$kw")"

# 3. Random reads: IOPS of fio, best of $RUNS.
fio_run () {          # $1: server
  local img=$B/corpus.vmdk
  [ "$1" = ceiling ] && img=$B/corpus.raw
  "up_$1" "$img"
  fio --name=rr --filename="$file" --rw=randread --bs=4k --direct=1 \
    --ioengine=psync --numjobs=2 --time_based --runtime="$RUNTIME" \
    --group_reporting --output-format=terse --terse-version=3 2>/dev/null \
    | awk -F';' '{ print $8 }'
  "down_$1"
}
best_iops () { local b=0 x; for _ in $(seq "$RUNS"); do x=$(fio_run "$1"); [ "$x" -gt "$b" ] && b=$x; done; echo "$b"; }
echo "3. 4 KiB random reads (fio, O_DIRECT, 2 jobs, ${RUNTIME} s), best of $RUNS, IOPS:"
ic=$(best_iops ceiling); iv=$(best_iops vdk); im=$(best_iops vmdkmount)
echo "  ceiling $ic  vdk $iv  vmdkmount $im   vdk/ceiling $(ratio "$iv" "$ic")  vdk/vmdkmount $(ratio "$iv" "$im")"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
