#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages the lab needs, if any is missing.
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"

pkgs=(
	"$LINUX_SRC_PKG" linux-headers-amd64
	build-essential flex bison bc libelf-dev libssl-dev dwarves
	cpio rsync python3 perl xz-utils gzip kmod sparse shellcheck
	qemu-system-x86 busybox-static
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0

log "installing: ${missing[*]}"
sudo=
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || die "not root and no sudo: install ${missing[*]}"
	sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
