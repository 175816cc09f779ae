#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build racelab.ko (and racelab_kunit.ko where the kernel has KUnit) against
# a kernel tree, in a copy of the sources, with W=1. Fails on any compiler
# warning. Prints the directory holding the .ko files.
#
# Usage: qemu/build-module.sh <kdir> <outdir>
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"

kdir=${1:?usage: build-module.sh <kdir> <outdir>}
out=${2:?usage: build-module.sh <kdir> <outdir>}
[ -f "$kdir/Makefile" ] || die "no kernel tree at $kdir"

rm -rf "$out"
mkdir -p "$out"
cp -r "$RACELAB_ROOT/Kbuild" "$RACELAB_ROOT/Makefile" \
	"$RACELAB_ROOT/module" "$RACELAB_ROOT/kunit" "$out/"
if ! make -C "$out" KDIR="$kdir" W=1 >"$out/build.log" 2>&1; then
	cat "$out/build.log" >&2
	die "module build against $kdir failed"
fi
if grep -E 'warning:|error:' "$out/build.log" >&2; then
	die "module build against $kdir has warnings"
fi
echo "$out"
