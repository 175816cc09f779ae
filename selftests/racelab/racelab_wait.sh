# SPDX-License-Identifier: GPL-2.0
#
# Waiting for kernel state, with a deadline, for the racelab kselftests and
# the lab's guest scripts (busybox sh). Sourced, never run.
#
# State the kernel may still be changing (a clocksource switch, a run that
# ends, kthreads that start or go away) is waited for, never sampled once,
# and never waited for without a bound: say what was waited for and how
# long it took, or that the deadline passed. Set RL_WAIT_PREFIX="# " where
# the output is KTAP.
# shellcheck shell=sh

# RL_NOW_NS := monotonic nanoseconds: ktime_get() as /proc/timer_list
# prints it ("now at <ns> nsecs", its third line), /proc/uptime (10 ms
# steps) where that is not readable. Shell builtins only: no process is
# started, so a reading costs little even under emulation.
rl_clock() {
	# shellcheck disable=SC3043 # not POSIX, but busybox ash and dash have it
	local line up i=0

	while [ $i -lt 4 ] && read -r line; do
		case $line in
		"now at "*" nsecs")
			line=${line#now at }
			RL_NOW_NS=${line% nsecs}
			return 0
			;;
		esac
		i=$((i + 1))
	done 2>/dev/null < /proc/timer_list
	read -r up _ < /proc/uptime
	RL_NOW_NS=$(( ${up%.*} * 1000000000 + 1${up#*.}0000000 - 1000000000 ))
}

rl_now_ms() {
	rl_clock
	echo $(( RL_NOW_NS / 1000000 ))
}

# rl_file_is FILE VALUE: FILE reads VALUE (its first line).
rl_file_is() {
	# shellcheck disable=SC3043 # not POSIX, but busybox ash and dash have it
	local v

	read -r v 2>/dev/null < "$1" && [ "$v" = "$2" ]
}

# rl_wait_until WHAT MS CMD [ARG...]: run CMD every 20 ms until it succeeds
# or MS milliseconds have passed. Prints how long WHAT took to come true
# and after how many checks, or that it did not; returns 0 if CMD succeeded.
rl_wait_until() {
	# shellcheck disable=SC3043 # not POSIX, but busybox ash and dash have it
	local what="$1" limit="$2" t0 dt n=0

	shift 2
	rl_clock
	t0=$RL_NOW_NS
	while :; do
		n=$((n + 1))
		if "$@"; then
			rl_clock
			dt=$(( (RL_NOW_NS - t0) / 1000000 ))
			echo "${RL_WAIT_PREFIX}waited $dt ms ($n check(s)) for $what"
			return 0
		fi
		rl_clock
		dt=$(( (RL_NOW_NS - t0) / 1000000 ))
		if [ "$dt" -ge "$limit" ]; then
			echo "${RL_WAIT_PREFIX}gave up after $dt ms ($n checks, limit $limit ms) waiting for $what"
			return 1
		fi
		sleep 0.02
	done
}
