#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# racelab module lifetime: refused parameters, a run at load time, rmmod
# while a run is in flight (within 1 s, no kthread left, insmod works
# again), and 20 load/unload cycles. Loads the module from $RACELAB_KO if
# set, with modprobe otherwise. Leaves the module loaded if it was.

DIR=$(dirname "$0")
# shellcheck source=/dev/null # the kernel tree's, not in this repository
. "$DIR/../kselftest/ktap_helpers.sh"
# shellcheck source=SCRIPTDIR/racelab_wait.sh
. "$DIR/racelab_wait.sh"
RL_WAIT_PREFIX="# "

D=/sys/kernel/debug/racelab/counter
CYCLES=20
THREADS=4
RMMOD_MAX_MS=1000		# rmmod returns within 1 s at any moment
RMMOD_HUNG_MS=10000		# past this, rmmod is reported hung
RMMOD_RC=${TMPDIR:-/tmp}/racelab_modules.rmmod.$$

load() {
	if [ -n "$RACELAB_KO" ]; then
		insmod "$RACELAB_KO" "$@" 2>/dev/null
	else
		modprobe racelab "$@" 2>/dev/null
	fi
}

# rmmod, timed, in the background: a hung rmmod fails the test instead of
# hanging it. Sets RMMOD_MS to how long rmmod took, by ktime (rl_clock),
# process start and exit included: an upper bound.
unload() {
	# shellcheck disable=SC3043 # not POSIX, but busybox ash and dash have it
	local pid rc

	rm -f "$RMMOD_RC"
	RMMOD_MS=$RMMOD_HUNG_MS
	(
		rl_clock
		t0=$RL_NOW_NS
		rmmod racelab 2>/dev/null
		rc=$?
		rl_clock
		echo "$rc $(( (RL_NOW_NS - t0) / 1000000 ))" > "$RMMOD_RC.tmp"
		mv "$RMMOD_RC.tmp" "$RMMOD_RC"
	) &
	pid=$!
	rl_wait_until "rmmod racelab to return" $RMMOD_HUNG_MS \
		test -f "$RMMOD_RC" > /dev/null ||
		{ ktap_print_msg "rmmod racelab hung (> $RMMOD_HUNG_MS ms)"; return 124; }
	wait "$pid"
	read -r rc RMMOD_MS < "$RMMOD_RC"
	return "$rc"
}

loaded() {
	grep -q '^racelab ' /proc/modules
}

# racelab's kthreads alive, from /proc: tasks whose comm and status Name
# are racelab-*, and that are kernel threads (Kthread: 1; PPid 2, kthreadd,
# on kernels without that line). A task that is exiting may linger here
# for a moment after kthread_stop(): wait for none, never sample once.
# Three processes whatever the number of tasks: starting one is slow
# under emulation.
racelab_kthreads() {
	# shellcheck disable=SC3043 # not POSIX, but busybox ash and dash have it
	local c status=

	# shellcheck disable=SC2013 # /proc/<pid>/comm paths: no blanks; one grep
	for c in $(grep -l '^racelab-' /proc/[0-9]*/comm 2>/dev/null); do
		status="$status ${c%/comm}/status"
	done
	[ -n "$status" ] || { echo 0; return; }
	# shellcheck disable=SC2086 # $status: a list of /proc paths, split
	cat $status 2>/dev/null | awk '
		function task_end() {
			if (name ~ /^racelab-/ && (kt == "1" || (kt == "" && ppid == "2")))
				n++
		}
		$1 == "Name:" { if (seen) task_end(); seen = 1; name = $2; kt = ""; ppid = "" }
		$1 == "Kthread:" { kt = $2 }
		$1 == "PPid:" { ppid = $2 }
		END { if (seen) task_end(); print n + 0 }'
}

racelab_kthreads_at_least() {
	[ "$(racelab_kthreads)" -ge "$1" ]
}

no_racelab_kthread() {
	[ "$(racelab_kthreads)" = 0 ]
}

# Start a run as long as the knobs allow (600 s, no iteration cap) whose
# threads sleep in their window (the widest sleep); 0 if it is running.
start_long_run() {
	echo mutex > $D/mode && echo 600000 > $D/duration_ms &&
	echo 0 > $D/iterations && echo sleep:10000 > $D/amplifier &&
	echo $THREADS > $D/threads && echo start > $D/run &&
	rl_file_is $D/run running
}

ktap_print_header
[ "$(id -u)" = 0 ] || { ktap_skip_all "must run as root"; exit "$KSFT_SKIP"; }
was_loaded=0
loaded && was_loaded=1
# racelab_kunit depends on racelab: it must go first.
grep -q '^racelab_kunit ' /proc/modules && rmmod racelab_kunit
unload
[ $? != 124 ] || ktap_exit_fail_msg "rmmod racelab hung before the tests"
loaded && { ktap_skip_all "racelab is in use and cannot be unloaded"; exit "$KSFT_SKIP"; }
ktap_set_plan 9

# 1. Bad parameters are refused and leave nothing behind.
ok=1
for p in threads=0 threads=65 iterations=1000000001 duration_ms=0 \
	 duration_ms=600001 amplifier=nap amplifier=delay:0 autorun=nosuch \
	 mode=none "autorun=counter mode=nosuch" "run=counter autorun=counter" \
	 "autorun=counter mode=spinlock amplifier=sleep"; do
	# shellcheck disable=SC2086 # $p: one or more parameters, split
	if load $p; then
		ktap_print_msg "accepted: $p"
		ok=0
		unload
	fi
done
[ -d $D ] && ok=0
if [ $ok = 1 ]; then
	ktap_test_pass "bad module parameters refused"
else
	ktap_test_fail "bad module parameters refused"
fi

# 2. A run at load time leaves its verdict in /proc/racelab.
autorun_verdict_shown() {
	grep -q '^counter .*atomic.*clean' /proc/racelab
}

ok=0
if load autorun=counter mode=atomic iterations=20000 threads=2; then
	rl_wait_until "the autorun's verdict in /proc/racelab" 10000 \
		autorun_verdict_shown && ok=1
	unload
fi
if [ $ok = 1 ]; then
	ktap_test_pass "autorun=counter mode=atomic: verdict in /proc/racelab"
else
	ktap_test_fail "autorun=counter mode=atomic: verdict in /proc/racelab"
fi

# 3-6. rmmod in the middle of a run. The kthread count must first see the
# run's threads, or its 0 afterwards would prove nothing.
rl_clock
t0=$RL_NOW_NS
rl_clock
t1=$RL_NOW_NS
/bin/true
rl_clock
ktap_print_msg "clock: ktime from /proc/timer_list; a reading costs $(( (t1 - t0) / 1000 )) us, running /bin/true $(( (RL_NOW_NS - t1) / 1000 )) us"
ok=0
load && start_long_run &&
	rl_wait_until "$THREADS racelab kthreads in /proc" 10000 \
		racelab_kthreads_at_least $THREADS && ok=1
n=$(racelab_kthreads)
if [ $ok = 1 ]; then
	ktap_test_pass "long run in flight: $n racelab kthreads seen (>= $THREADS)"
else
	ktap_test_fail "long run in flight: $n racelab kthreads seen (>= $THREADS)"
fi
unload
rc=$?
if [ $rc = 0 ] && ! loaded; then
	ktap_test_pass "rmmod during a run exits 0"
else
	ktap_test_fail "rmmod during a run exits 0 (rc $rc)"
fi
if [ "$RMMOD_MS" -le $RMMOD_MAX_MS ]; then
	ktap_test_pass "rmmod during a run took $RMMOD_MS ms (<= $RMMOD_MAX_MS)"
else
	ktap_test_fail "rmmod during a run took $RMMOD_MS ms (<= $RMMOD_MAX_MS)"
fi
if rl_wait_until "no racelab kthread in /proc" 1000 no_racelab_kthread; then
	ktap_test_pass "no racelab kthread left after rmmod"
else
	ktap_test_fail "no racelab kthread left after rmmod ($(racelab_kthreads))"
fi

# 7. insmod works again, and a fresh run gives a verdict.
ok=0
if load && echo atomic > $D/mode && echo 1000 > $D/iterations &&
   echo start > $D/run; then
	rl_wait_until "the run to end (run: idle)" 10000 rl_file_is $D/run idle &&
		grep -q 'last: .*verdict=clean' $D/stats && ok=1
fi
unload
if [ $ok = 1 ]; then
	ktap_test_pass "insmod after rmmod-in-flight works"
else
	ktap_test_fail "insmod after rmmod-in-flight works"
fi

# 8-9. Load/unload cycles, every other one with a run in flight.
fails=0
slowest=0
i=0
while [ $i -lt $CYCLES ]; do
	if ! load; then
		fails=$((fails + 1))
	else
		[ $((i % 2)) = 1 ] && { start_long_run || fails=$((fails + 1)); }
		unload || fails=$((fails + 1))
		[ "$RMMOD_MS" -le $RMMOD_MAX_MS ] || fails=$((fails + 1))
		[ "$RMMOD_MS" -le "$slowest" ] || slowest=$RMMOD_MS
	fi
	i=$((i + 1))
done
if [ $fails = 0 ] && ! loaded; then
	ktap_test_pass "$CYCLES load/unload cycles, slowest rmmod $slowest ms (<= $RMMOD_MAX_MS)"
else
	ktap_test_fail "$CYCLES load/unload cycles, slowest rmmod $slowest ms ($fails failures)"
fi
if rl_wait_until "no racelab kthread in /proc" 1000 no_racelab_kthread; then
	ktap_test_pass "no racelab kthread left after the cycles"
else
	ktap_test_fail "no racelab kthread left after the cycles ($(racelab_kthreads))"
fi

[ $was_loaded = 1 ] && load
ktap_finished
