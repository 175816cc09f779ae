#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh # busybox ash, kept POSIX
#
# /init of the racelab lab initramfs. The kernel command line says what to
# do: rl_mode=test|demo|bench|fuzz|lockdep|shell, rl_cpus=<CPUs asked of
# QEMU>; bench takes rl_runs=<runs per mode> and rl_only=<scenario>; fuzz takes rl_seed=<seed>
# (and rl_fuzz_t=<budget s>, rl_fuzz_L=<long run s>, rl_fuzz_c=<one case>
# to replay). Results go to
# the second serial port (/dev/ttyS1), one channel for the host to judge,
# apart from the kernel console on ttyS0. The last line is the sentinel.

/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs dev /dev
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t debugfs debugfs /sys/kernel/debug
chmod 0755 /

R=/dev/ttyS1
say() { echo "$*" > $R; }
# rl_wait_until: wait for kernel state with a deadline, saying how long.
# shellcheck source=SCRIPTDIR/../selftests/racelab/racelab_wait.sh
. /selftests/racelab/racelab_wait.sh
# shellcheck source=SCRIPTDIR/../selftests/racelab/racelab_plan.sh
. /selftests/racelab/racelab_plan.sh

# section NAME CMD...: run CMD with its output between markers on $R.
section() {
	name=$1
	shift
	say "RACELAB-BEGIN $name"
	"$@" > $R 2>&1
	rc=$?
	say "RACELAB-END $name rc=$rc"
}

cpus_online() {
	grep -c '^processor' /proc/cpuinfo
}

cpus_online_is() {
	[ "$(cpus_online)" = "$1" ]
}

# The kernel brings every CPU up before /init; wait anyway, bounded.
check_cpus() {
	[ -z "$rl_cpus" ] ||
		rl_wait_until "$rl_cpus CPU(s) online" 10000 cpus_online_is "$rl_cpus"
	n=$(cpus_online)
	echo "cpus online=$n asked=${rl_cpus:-?}"
	[ "$n" = "${rl_cpus:-$n}" ]
}

# One detector experiment (rl_exp=<scenario>/<mode>): the lab boots once
# per experiment, as lockdep reports once per boot. The threads it needs
# come from its plan.
lockdep_experiment() {
	scn=${1%%/*}
	m=${1#*/}
	d=/sys/kernel/debug/racelab/$scn
	threads=$(rl_mode_key "$scn" "$m" min_threads)
	duration=1000
	[ -n "$threads" ] || { echo "no mode $m in $scn's plan"; return 1; }
	echo "$m" > "$d/mode" && echo "$threads" > "$d/threads" &&
	echo 1 > "$d/iterations" && echo $duration > "$d/duration_ms" &&
	echo start > "$d/run" || return 1
	# A run ends by its deadline (duration_ms) plus 1 s: allow the
	# console's lockdep report much more than that.
	rl_wait_until "the $1 run to end (run: idle)" $((duration + 30000)) \
		rl_file_is "$d/run" idle || return 1
	sed -n 's/^last: //p' "$d/stats"
}

debug_locks() {
	awk '/debug_locks:/ { print $2 }' /proc/lockdep_stats
}

debug_locks_is() {
	[ "$(debug_locks)" = "$1" ]
}

# debug_locks is 1 until a lock checker has reported (and turned off). An
# expected report may come after the run from another context (an hrtimer):
# wait for it. A 1 is read at the end; the host scans the whole console
# for reports as well.
check_debug_locks() {
	want=${1:-1}
	[ "$want" = 1 ] ||
		rl_wait_until "debug_locks=$want (lockdep off after its report)" \
			10000 debug_locks_is "$want"
	v=$(debug_locks)
	echo "debug_locks=$v"
	[ "$v" = "$want" ]
}

# With tsc_early_khz= the kernel starts on tsc-early and switches to tsc
# once it has registered the TSC clocksource (~1.8 s into a fast boot).
check_clocksource() {
	cs=/sys/devices/system/clocksource/clocksource0/current_clocksource
	rl_wait_until "the clocksource to become tsc (from tsc-early)" 30000 \
		rl_file_is $cs tsc
	echo "clocksource=$(cat $cs)"
	rl_file_is $cs tsc
}

say "RACELAB-GUEST-BEGIN kernel=$(uname -r) mode=${rl_mode:-?}"
section check-cpus check_cpus
section check-clocksource check_clocksource
echo "racelab-lab: loading racelab.ko" > /dev/kmsg
insmod /lib/modules/racelab.ko || say "RACELAB-ERROR insmod racelab.ko failed"
export RACELAB_KO=/lib/modules/racelab.ko

# What every scenario declares, for the host: the lab's experiments, the
# KCSAN allowlist and the detector matrix are read from here.
dump_plans() {
	for s in $(rl_scenarios); do
		echo "== $s"
		cat "$RL_DEBUGFS/$s/plan" || return 1
	done
	[ -n "$(rl_scenarios)" ]
}
section plans dump_plans

# One section per KUnit suite of racelab's, kunit-<suite>, each its own
# KTAP document (a suite's debugfs results file is one): whatever suites
# the module registered, named by the directory. The host expects every
# suite kunit/ defines, so a suite that did not run fails there.
kunit_sections() {
	for d in /sys/kernel/debug/kunit/racelab*; do
		[ -d "$d" ] || continue
		s=${d##*/}
		section "kunit-$s" cat "$d/results"
	done
}

case "$rl_mode" in
test)
	echo "racelab-lab: KUnit" > /dev/kmsg
	# KCSAN samples one access in skip_watch: watch more during KUnit.
	k=/sys/module/kcsan/parameters
	[ -w $k/skip_watch ] && echo 400 > $k/skip_watch && echo 20 > $k/udelay_task
	insmod /lib/modules/racelab_kunit.ko
	[ -w $k/skip_watch ] && echo 4000 > $k/skip_watch && echo 80 > $k/udelay_task
	kunit_sections
	rmmod racelab_kunit
	section kselftest-racelab_knobs /selftests/racelab/racelab_knobs
	section kselftest-racelab_modules /selftests/racelab/racelab_modules.sh
	section kselftest-racelab_double_fetch /selftests/racelab/racelab_double_fetch
	section debug-locks check_debug_locks 1
	# Last, as it turns lockdep off: KASAN must be seen to report.
	if [ -f /lib/modules/racelab_controls.ko ]; then
		echo "racelab-lab: KASAN positive control" > /dev/kmsg
		insmod /lib/modules/racelab_controls.ko 2>/dev/null
	fi
	;;
demo)
	section demo /demo.sh
	section debug-locks check_debug_locks 1
	;;
bench)
	section bench /bench.sh "${rl_runs:-100}" "${rl_only:-}"
	;;
fuzz)
	echo "racelab-lab: fuzzer seed ${rl_seed:-?}" > /dev/kmsg
	set -- -s "${rl_seed:-$(date +%s)}"
	[ -n "$rl_fuzz_t" ] && set -- "$@" -t "$rl_fuzz_t"
	[ -n "$rl_fuzz_L" ] && set -- "$@" -L "$rl_fuzz_L"
	[ -n "$rl_fuzz_c" ] && set -- "$@" -c "$rl_fuzz_c"
	section kselftest-racelab_fuzz /selftests/racelab/racelab_fuzz "$@"
	section debug-locks check_debug_locks 1
	;;
lockdep)
	# shellcheck disable=SC2154 # the kernel sets rl_exp from its command line
	section experiment lockdep_experiment "$rl_exp"
	section debug-locks check_debug_locks "${rl_debug_locks:-1}"
	;;
shell)
	setsid cttyhack sh
	;;
esac

say "RACELAB-GUEST-DONE"
sync
reboot -f
