#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a lab kernel with an initramfs under QEMU, with a hard timeout.
# The kernel console goes to <logdir>/console.log, the guest's results
# channel (second serial port) to <logdir>/results.log; both are kept.
#
# Usage: qemu/boot.sh <bzImage> <initrd> <logdir> <rl_mode> [extra cmdline]
# Environment: RACELAB_SMP (2), RACELAB_TIMEOUT (seconds, 900),
#              RACELAB_MEM (1024M), RACELAB_KVM=1 to try KVM behind a probe.
set -uo pipefail
# shellcheck source=SCRIPTDIR/common.sh
. "$(dirname "$0")/common.sh"

kernel=${1:?usage: boot.sh <bzImage> <initrd> <logdir> <rl_mode> [cmdline]}
initrd=${2:?}
logdir=${3:?}
mode=${4:?}
shift 4
smp=${RACELAB_SMP:-2}
timeout_s=${RACELAB_TIMEOUT:-900}
mkdir -p "$logdir"

# The host's TSC rate, so the guest keeps a TSC clocksource under TCG
# (PIT calibration fails in about one boot in three without it).
tsc_khz=$(host_tsc_khz) || exit 1
echo "$tsc_khz" > "$logdir/tsc-khz"
cmdline="console=ttyS0 panic=-1 oops=panic softlockup_panic=0 tsc_early_khz=$tsc_khz tsc=reliable"
cmdline+=" rl_mode=$mode rl_cpus=$smp $*"

qemu_run() {	# accel timeout logprefix
	timeout --kill-after=10 "$2" qemu-system-x86_64 \
		-accel "$1" -cpu max -smp "$smp" -m "${RACELAB_MEM:-1024M}" \
		-bios /usr/share/qemu/qboot.rom -no-reboot \
		-display none -monitor none -nodefaults \
		-serial "file:$3console.log" -serial "file:$3results.log" \
		-kernel "$kernel" -initrd "$initrd" -append "$cmdline"
}

accel=tcg,thread=multi
if [ "${RACELAB_KVM:-0}" = 1 ] && [ -w /dev/kvm ]; then
	# KVM guests hang at boot on some hosts: use it only if a short boot
	# reaches the guest's first line.
	probe=$logdir/kvm-probe-
	qemu_run kvm 30 "$probe" >/dev/null 2>&1
	if grep -q RACELAB-GUEST-BEGIN "${probe}results.log" 2>/dev/null; then
		accel=kvm
	else
		log "KVM probe failed: using TCG"
	fi
fi

log "booting ($accel, -smp $smp, timeout ${timeout_s}s): $mode"
start=$(date +%s)
qemu_run "$accel" "$timeout_s" "$logdir/"
rc=$?
echo "$(( $(date +%s) - start ))" > "$logdir/boot-seconds"
if [ $rc = 124 ] || [ $rc = 137 ]; then
	log "QEMU timed out after ${timeout_s}s"
	echo timeout > "$logdir/qemu-status"
	exit 124
fi
echo "exit=$rc" > "$logdir/qemu-status"
exit $rc
