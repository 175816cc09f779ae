# SPDX-License-Identifier: GPL-2.0
# Shared settings of the racelab lab scripts. Sourced, never run.
# shellcheck shell=bash

RACELAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RACELAB_CACHE=${RACELAB_CACHE:-$HOME/.cache/racelab}
RACELAB_OUT=${RACELAB_OUT:-$RACELAB_ROOT/qemu/out}
LINUX_SRC_PKG=${LINUX_SRC_PKG:-linux-source-6.12}

log() { printf '[lab] %s\n' "$*" >&2; }
die() { printf '[lab] error: %s\n' "$*" >&2; exit 1; }

# Version of the installed Debian kernel source package, e.g. 6.12.117-1~deb12u1.
linux_src_version() {
	dpkg-query -W -f='${Version}' "$LINUX_SRC_PKG" 2>/dev/null ||
		die "$LINUX_SRC_PKG is not installed (run qemu/deps.sh)"
}

# Directory holding the extracted source of that package version.
linux_src_dir() {
	echo "$RACELAB_CACHE/src/$(linux_src_version)/$LINUX_SRC_PKG"
}

# How build-kernel.sh turns fragments into a kernel: bump it when that changes.
KERNEL_RECIPE=1

# Cache key of a lab kernel: source version, variant, hash of its configuration.
kernel_key() {
	local variant=$1 hash
	hash=$( (echo "recipe $KERNEL_RECIPE"
		cat "$RACELAB_ROOT/qemu/configs/base.config" \
		"$RACELAB_ROOT/qemu/configs/$variant.config") | sha256sum | cut -c1-12)
	echo "$(linux_src_version)-$variant-$hash"
}

# The host's TSC rate in kHz, measured (qemu/tsc-khz.c, built on demand):
# under TCG the guest reads the host's TSC, and the "cpu MHz" of
# /proc/cpuinfo is the CPU's current frequency, not the TSC's rate.
host_tsc_khz() {
	local src=$RACELAB_ROOT/qemu/tsc-khz.c bin=$RACELAB_OUT/tsc-khz khz

	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		mkdir -p "$RACELAB_OUT"
		{ cc -O2 -Wall -Wextra -Werror -o "$bin.tmp" "$src" &&
			mv "$bin.tmp" "$bin"; } || die "cannot build $src"
	fi
	khz=$("$bin") || die "cannot measure the host's TSC rate ($bin)"
	log "host TSC: $khz kHz (measured against CLOCK_MONOTONIC_RAW)"
	echo "$khz"
}

kernel_dir() {
	echo "$RACELAB_CACHE/kernels/$(kernel_key "$1")"
}

# The KUnit suites of racelab_kunit.ko, one a line: the name of every
# struct kunit_suite that kunit/*.c registers with kunit_test_suites().
# A test boot must show each one's results (qemu/guest-init.sh prints a
# kunit-<suite> section per suite it finds).
kunit_suites() {
	awk '
	/^static struct kunit_suite [A-Za-z0-9_]+ = \{/ { v = $4; next }
	v != "" && /\.name = "/ {
		match($0, /"[^"]+"/)
		name[v] = substr($0, RSTART + 1, RLENGTH - 2)
		v = ""
	}
	/^kunit_test_suites?\(/ { reg = 1 }
	reg {
		s = $0
		while (match(s, /&[A-Za-z0-9_]+/)) {
			n = name[substr(s, RSTART + 1, RLENGTH - 1)]
			print n == "" ? "?" substr(s, RSTART + 1, RLENGTH - 1) : n
			s = substr(s, RSTART + RLENGTH)
		}
		if ($0 ~ /\);/)
			reg = 0
	}' "$RACELAB_ROOT"/kunit/*.c
}

# Every file of the checkout, NUL-terminated, relative to $RACELAB_ROOT:
# the tracked ones where $RACELAB_ROOT is the top of a git work tree, else
# (a copy of the sources) all but those under .git and qemu/out.
checkout_files() {
	local prefix

	if prefix=$(git -C "$RACELAB_ROOT" rev-parse --show-prefix 2>/dev/null) &&
	   [ -z "$prefix" ]; then
		git -C "$RACELAB_ROOT" ls-files -z
	else
		(cd "$RACELAB_ROOT" && find . \( -path ./.git -o -path ./qemu/out \) \
			-prune -o -type f -printf '%P\0')
	fi
}

# The checkout's shell scripts, one a line, relative to $RACELAB_ROOT: files
# named *.sh, and files whose first line runs a shell (sh, bash, dash, ash
# or ksh; by its path, through env, or as "busybox sh").
shell_scripts() {
	local f line re

	re='^#![[:space:]]*([^[:space:]]*/)?(env[[:space:]]+(-S[[:space:]]*)?)?'
	re+='(busybox[[:space:]]+)?(sh|bash|dash|ash|ksh)([[:space:]]|$)'

	while IFS= read -r -d '' f; do
		[ -f "$RACELAB_ROOT/$f" ] || continue
		case $f in
		*.sh) ;;
		*)
			line=
			IFS= read -r -n 256 line < "$RACELAB_ROOT/$f" || true
			[[ $line =~ $re ]] || continue
			;;
		esac
		printf '%s\n' "$f"
	done < <(checkout_files)
}

# Run shellcheck, following sourced files (-x), at its default severity and
# without the host's rc files, on every shell script: any finding fails.
shellcheck_all() {
	local scripts out rc=0

	mapfile -t scripts < <(shell_scripts)
	[ ${#scripts[@]} -gt 0 ] ||
		{ echo "no shell script in $RACELAB_ROOT"; return 1; }
	out=$(cd "$RACELAB_ROOT" &&
	      shellcheck --norc -x -f gcc -- "${scripts[@]}" 2>&1) || rc=1
	[ -z "$out" ] || rc=1
	if [ $rc = 0 ]; then
		echo "shellcheck: ${#scripts[@]} shell scripts, no finding"
	else
		echo "shellcheck: ${#scripts[@]} shell scripts checked, findings:"
		printf '%s\n' "$out"
	fi
	return $rc
}
