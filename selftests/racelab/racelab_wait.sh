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

# Monotonic nanoseconds: ktime_get() as /proc/timer_list prints it ("now at
# <ns> nsecs"); /proc/uptime (10 ms steps) where that is not readable.
rl_now_ns() {
	local ns up

	ns=$(sed -n '/^now at /{s/^now at \([0-9]*\) nsecs$/\1/p;q}' \
		/proc/timer_list 2>/dev/null)
	if [ -z "$ns" ]; then
		read -r up _ < /proc/uptime
		ns=$(( ${up%.*} * 1000000000 + 1${up#*.}0000000 - 1000000000 ))
	fi
	echo "$ns"
}

rl_now_ms() {
	echo $(( $(rl_now_ns) / 1000000 ))
}

# rl_file_is FILE VALUE: FILE reads VALUE (its first line).
rl_file_is() {
	local v

	read -r v 2>/dev/null < "$1" && [ "$v" = "$2" ]
}

# rl_wait_until WHAT MS CMD [ARG...]: run CMD every 20 ms until it succeeds
# or MS milliseconds have passed. Prints how long WHAT took to come true,
# or that it did not; returns 0 if CMD succeeded.
rl_wait_until() {
	local what=$1 limit=$2 t0 dt

	shift 2
	t0=$(rl_now_ms)
	while :; do
		if "$@"; then
			dt=$(( $(rl_now_ms) - t0 ))
			echo "${RL_WAIT_PREFIX}waited $dt ms for $what"
			return 0
		fi
		dt=$(( $(rl_now_ms) - t0 ))
		if [ "$dt" -ge "$limit" ]; then
			echo "${RL_WAIT_PREFIX}gave up after $dt ms (limit $limit ms) waiting for $what"
			return 1
		fi
		sleep 0.02
	done
}
