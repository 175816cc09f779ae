#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the racelab kselftests with warnings as errors into a scratch
# directory and check what came out: a static racelab_knobs that runs and
# speaks KTAP (as nobody it must skip), and shell tests that busybox sh,
# the guest's shell, parses.
#
# Usage: qemu/check-selftests-build.sh <kernel-src> <scratch-dir>
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"

src=${1:?usage: check-selftests-build.sh <kernel-src> <scratch-dir>}
out=${2:?usage: check-selftests-build.sh <kernel-src> <scratch-dir>}
tests=$RACELAB_ROOT/selftests/racelab

rm -rf "$out"
mkdir -p "$out"
# The Makefile appends its flags to CFLAGS from the environment.
CFLAGS=-Werror make -C "$tests" KSFT_DIR="$src/tools/testing/selftests" \
	OUTPUT="$out" >"$out/build.log" 2>&1 ||
	{ cat "$out/build.log" >&2; die "selftests build failed"; }
! grep -E 'warning:|error:' "$out/build.log" >&2 || die "selftests build has warnings"

knobs=$out/racelab_knobs
[ -x "$knobs" ] || die "$knobs not built"
# The initramfs has no libc: the test must be static.
! readelf -l "$knobs" | grep -q INTERP || die "$knobs is not static"
# Run a copy where nobody can reach it (a home directory may be 0700).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"
cp "$knobs" "$tmp/"
run=()
[ "$(id -u)" != 0 ] || run=(setpriv --reuid=65534 --regid=65534 --clear-groups)
rc=0
ktap=$("${run[@]}" "$tmp/racelab_knobs" 2>&1) || rc=$?
{ [ $rc = 4 ] && grep -q '^TAP version 13$' <<< "$ktap" &&
	grep -q '^1\.\.0 # SKIP' <<< "$ktap"; } ||
	die "$knobs as a non-root user: exit $rc, not a KTAP skip: $ktap"

for sh in racelab_modules.sh racelab_wait.sh racelab_plan.sh; do
	/bin/busybox sh -n "$tests/$sh" || die "busybox sh cannot parse $sh"
done
[ -x "$tests/racelab_modules.sh" ] || die "racelab_modules.sh is not executable"
log "selftests built with -Werror: racelab_knobs (static, KTAP skip as nobody), scripts parse"
