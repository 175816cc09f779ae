#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build one lab kernel variant from Debian's linux-source package:
# tinyconfig + qemu/configs/base.config + qemu/configs/<variant>.config.
# The build directory is cached outside the checkout, keyed by source
# version, variant and configuration hash; a cached kernel is not rebuilt.
# Prints the build directory (usable as KDIR for out-of-tree modules).
#
# Usage: qemu/build-kernel.sh <variant>
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"

variant=${1:?usage: build-kernel.sh <variant>}
frag=$RACELAB_ROOT/qemu/configs/$variant.config
[ -f "$frag" ] || die "unknown variant '$variant' (no $frag)"

src=$(linux_src_dir)
if [ ! -f "$src/Makefile" ]; then
	tarball=/usr/src/$LINUX_SRC_PKG.tar.xz
	[ -f "$tarball" ] || die "$tarball missing (run qemu/deps.sh)"
	log "extracting $tarball"
	mkdir -p "$(dirname "$src")"
	tmp=$(mktemp -d "$(dirname "$src")/.extract.XXXXXX")
	tar -C "$tmp" -xf "$tarball"
	mv "$tmp/$LINUX_SRC_PKG" "$src"
	rmdir "$tmp"
fi

out=$(kernel_dir "$variant")
if [ -f "$out/.racelab-built" ]; then
	log "kernel $variant cached: $out"
	echo "$out"
	exit 0
fi

build=$out.tmp
rm -rf "$build"
mkdir -p "$build"
log "configuring $variant kernel in $build"
make -s -C "$src" O="$build" ARCH=x86_64 tinyconfig >/dev/null
(cd "$build" && "$src/scripts/kconfig/merge_config.sh" -m -O "$build" \
	"$build/.config" "$RACELAB_ROOT/qemu/configs/base.config" "$frag" >/dev/null)
make -s -C "$src" O="$build" ARCH=x86_64 olddefconfig >/dev/null

# Dependencies drop options silently: every option asked for must survive.
# The variant's fragment overrides base.config, as merge_config.sh does.
declare -A want=()
order=()
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*) opt=${line%%=*} ;;
	"# CONFIG_"*" is not set") opt=${line#\# }; opt=${opt%% *} ;;
	*) continue ;;
	esac
	[ -n "${want[$opt]+set}" ] || order+=("$opt")
	want[$opt]=$line
done < <(cat "$RACELAB_ROOT/qemu/configs/base.config" "$frag")
missing=0
for opt in "${order[@]}"; do
	line=${want[$opt]}
	case "$line" in
	CONFIG_*=*)
		grep -qxF "$line" "$build/.config" || { log "option lost: $line"; missing=1; } ;;
	*)
		! grep -q "^$opt=" "$build/.config" || { log "option not unset: $opt"; missing=1; } ;;
	esac
done
[ "$missing" = 0 ] || die "configuration of variant $variant did not survive olddefconfig"

log "building $variant kernel (make -j$(nproc) bzImage modules)"
start=$(date +%s)
make -s -C "$src" O="$build" ARCH=x86_64 -j"$(nproc)" bzImage modules >"$build/build.log" 2>&1 ||
	{ tail -n 40 "$build/build.log" >&2; die "kernel build failed (log: $build/build.log)"; }
log "built $variant kernel in $(( $(date +%s) - start )) s"
touch "$build/.racelab-built"
rm -rf "$out"
mv "$build" "$out"
# Older configurations of this variant are of no further use.
for old in "$RACELAB_CACHE/kernels/"*"-$variant-"*; do
	[ "$old" = "$out" ] || rm -rf "$old"
done
echo "$out"
