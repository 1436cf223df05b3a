#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# scripts/install-deps.sh - install what vdk needs to build and test, on
# Debian 12 (run as root).  Quiet and non-interactive; safe to re-run.
set -euo pipefail

packages=(
  # build
  meson ninja-build pkg-config gcc clang libclang-rt-14-dev
  libdeflate-dev libfuse3-dev fuse3 libblkid-dev
  libnbd-dev nbdkit nbdkit-plugin-dev
  # test peers and fixture tools
  qemu-utils libvmdk-utils libnbd-bin fdisk gdisk lvm2 e2fsprogs
  dosfstools mtools exfatprogs ntfs-3g xfsprogs ldmtool jq valgrind python3
  g++ xz-utils util-linux time procps
  gnutls-bin libgnutls28-dev fio
  # Ceph RBD: librbd to build the rbd backend; a throwaway single-node
  # cluster for its tests (tests/rbd/cluster.sh); qemu-img's rbd driver
  ceph-mon ceph-osd ceph-common librbd-dev qemu-block-extra
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: run as root (apt-get needs it)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
    || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps.sh: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps.sh: done"
