#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the module at W=1 against a kernel tree into a scratch directory
# (build-module.sh: any warning fails) and check what came out: exactly the
# modules Kbuild promises for that kernel's configuration, each built for
# that kernel's release, every object compiled with W=1's flags.
#
# Usage: qemu/check-module-build.sh <kdir> <scratch-dir>
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"

kdir=${1:?usage: check-module-build.sh <kdir> <scratch-dir>}
out=${2:?usage: check-module-build.sh <kdir> <scratch-dir>}

"$RACELAB_ROOT/qemu/build-module.sh" "$kdir" "$out" >/dev/null

release=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' \
	"$kdir/include/generated/utsrelease.h")
[ -n "$release" ] || die "no UTS_RELEASE in $kdir"
config() {
	grep -q "^CONFIG_$1=[ym]" "$kdir/include/config/auto.conf"
}

# What ./Kbuild builds for this configuration.
want=racelab.ko
config KUNIT && want+=" racelab_kunit.ko"
config KASAN && want+=" racelab_controls.ko"
# shellcheck disable=SC2012 # Kbuild's module names are plain
got=$(cd "$out" && ls -- *.ko 2>/dev/null | sort | xargs)
want=$(echo "$want" | tr ' ' '\n' | sort | xargs)
[ "$got" = "$want" ] || die "modules built: '$got', expected '$want'"

rc=0
for ko in $got; do
	name=$(modinfo -F name "$out/$ko")
	vermagic=$(modinfo -F vermagic "$out/$ko")
	[ "$name.ko" = "$ko" ] || { log "$ko: modinfo name '$name'"; rc=1; }
	[ "${vermagic%% *}" = "$release" ] ||
		{ log "$ko: vermagic '$vermagic', kernel $release"; rc=1; }
done

# W=1 adds -DKBUILD_EXTRA_WARN1 to every compilation it applies to.
objs=0
while IFS= read -r cmd; do
	objs=$((objs + 1))
	grep -q -- '-DKBUILD_EXTRA_WARN1' "$cmd" ||
		{ log "not built with W=1: ${cmd#"$out"/}"; rc=1; }
done < <(find "$out/module" "$out/kunit" -name '.*.o.cmd')
[ "$objs" -gt 0 ] || die "no object built in $out"
[ $rc = 0 ] || die "module build against $kdir: wrong products"
log "W=1 build against $release: $got ($objs objects, no warning)"
