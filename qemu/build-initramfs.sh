#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the lab initramfs: static busybox, the racelab modules, the
# kselftests (built statically here) and the guest's /init and demo.
#
# Usage: qemu/build-initramfs.sh <moduledir> <kernel-src> <out.cpio.gz>
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"

mods=${1:?usage: build-initramfs.sh <moduledir> <kernel-src> <out.cpio.gz>}
src=${2:?}
out=${3:?}

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,lib/modules,selftests/racelab,selftests/kselftest}
cp /bin/busybox "$stage/bin/busybox"
! ldd /bin/busybox >/dev/null 2>&1 ||
	die "/bin/busybox is not static (install busybox-static)"
cp "$RACELAB_ROOT/qemu/guest-init.sh" "$stage/init"
cp "$RACELAB_ROOT/qemu/guest-demo.sh" "$stage/demo.sh"
cp "$RACELAB_ROOT/qemu/guest-bench.sh" "$stage/bench.sh"
cp "$mods"/*.ko "$stage/lib/modules/"

ksft=$src/tools/testing/selftests
make -s -C "$RACELAB_ROOT/selftests/racelab" KSFT_DIR="$ksft" \
	OUTPUT="$stage/selftests/racelab" >/dev/null
cp "$RACELAB_ROOT"/selftests/racelab/*.sh "$stage/selftests/racelab/"
cp "$ksft/kselftest/ktap_helpers.sh" "$stage/selftests/kselftest/"
chmod 0755 "$stage/init" "$stage/demo.sh" "$stage/bench.sh" \
	"$stage"/selftests/racelab/*

(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
echo "$out"
