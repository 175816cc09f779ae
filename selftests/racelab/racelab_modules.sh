#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# racelab module lifetime: refused parameters, a run at load time, rmmod
# while a run is in flight (prompt, no kthread left, insmod works again),
# and 20 load/unload cycles. Loads the module from $RACELAB_KO if set,
# with modprobe otherwise. Leaves the module loaded if it was.

DIR=$(dirname "$0")
. "$DIR/../kselftest/ktap_helpers.sh"
. "$DIR/racelab_wait.sh"
RL_WAIT_PREFIX="# "

D=/sys/kernel/debug/racelab/counter
CYCLES=20
RMMOD_LIMIT_MS=5000
RMMOD_RC=${TMPDIR:-/tmp}/racelab_modules.rmmod.$$

load() {
	if [ -n "$RACELAB_KO" ]; then
		insmod "$RACELAB_KO" "$@" 2>/dev/null
	else
		modprobe racelab "$@" 2>/dev/null
	fi
}

# rmmod, bounded: a hung rmmod fails the test instead of hanging it.
unload() {
	rm -f "$RMMOD_RC"
	(rmmod racelab 2>/dev/null; echo $? > "$RMMOD_RC.tmp"; mv "$RMMOD_RC.tmp" "$RMMOD_RC") &
	pid=$!
	rl_wait_until "rmmod racelab to return" $RMMOD_LIMIT_MS \
		test -f "$RMMOD_RC" > /dev/null ||
		{ ktap_print_msg "rmmod racelab hung (> $RMMOD_LIMIT_MS ms)"; return 124; }
	wait "$pid"
	return "$(cat "$RMMOD_RC")"
}

loaded() {
	grep -q '^racelab ' /proc/modules
}

kthreads_left() {
	ps -o comm 2>/dev/null | grep -c '^racelab-' || true
}

# Start a run that would last forever; 0 if it is running.
start_long_run() {
	echo mutex > $D/mode && echo 1000000000 > $D/iterations &&
	echo sleep > $D/amplifier && echo 4 > $D/threads &&
	echo start > $D/run && [ "$(cat $D/run)" = running ]
}

now_ms() {
	# /proc/uptime has 10 ms resolution: enough for a 5 s bound.
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

ktap_print_header
[ "$(id -u)" = 0 ] || { ktap_skip_all "must run as root"; exit "$KSFT_SKIP"; }
was_loaded=0
loaded && was_loaded=1
# racelab_kunit depends on racelab: it must go first.
grep -q '^racelab_kunit ' /proc/modules && rmmod racelab_kunit
unload
loaded && { ktap_skip_all "racelab is in use and cannot be unloaded"; exit "$KSFT_SKIP"; }
ktap_set_plan 9

# 1. Bad parameters are refused and leave nothing behind.
ok=1
for p in threads=0 threads=65 iterations=0 amplifier=nap autorun=nosuch \
	 mode=none "autorun=counter mode=nosuch" \
	 "autorun=counter mode=spinlock amplifier=sleep"; do
	# shellcheck disable=SC2086
	if load $p; then
		ktap_print_msg "accepted: $p"
		ok=0
		unload
	fi
done
[ -d $D ] && ok=0
[ $ok = 1 ] && ktap_test_pass "bad module parameters refused" ||
	ktap_test_fail "bad module parameters refused"

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
[ $ok = 1 ] && ktap_test_pass "autorun=counter mode=atomic: verdict in /proc/racelab" ||
	ktap_test_fail "autorun=counter mode=atomic: verdict in /proc/racelab"

# 3-6. rmmod in the middle of a run.
ok=0
load && start_long_run && ok=1
sleep 0.5
n=$(kthreads_left)
[ $ok = 1 ] && [ "$n" -ge 4 ] && ktap_test_pass "long run in flight ($n racelab kthreads)" ||
	ktap_test_fail "long run in flight ($n racelab kthreads)"
t0=$(now_ms)
unload
rc=$?
dt=$(( $(now_ms) - t0 ))
[ $rc = 0 ] && ! loaded && ktap_test_pass "rmmod during a run exits 0" ||
	ktap_test_fail "rmmod during a run exits 0 (rc $rc)"
[ $dt -le 5000 ] && ktap_test_pass "rmmod during a run took $dt ms (<= 5000)" ||
	ktap_test_fail "rmmod during a run took $dt ms (<= 5000)"
n=$(kthreads_left)
[ "$n" = 0 ] && ktap_test_pass "no racelab kthread left after rmmod" ||
	ktap_test_fail "no racelab kthread left after rmmod ($n)"

# 7. insmod works again, and a fresh run gives a verdict.
ok=0
if load && echo atomic > $D/mode && echo 1000 > $D/iterations &&
   echo start > $D/run; then
	rl_wait_until "the run to end (run: idle)" 10000 rl_file_is $D/run idle &&
		grep -q 'last: .*verdict=clean' $D/stats && ok=1
fi
unload
[ $ok = 1 ] && ktap_test_pass "insmod after rmmod-in-flight works" ||
	ktap_test_fail "insmod after rmmod-in-flight works"

# 8-9. Load/unload cycles, every other one with a run in flight.
fails=0
i=0
while [ $i -lt $CYCLES ]; do
	if ! load; then
		fails=$((fails + 1))
	else
		[ $((i % 2)) = 1 ] && { start_long_run || fails=$((fails + 1)); }
		unload || fails=$((fails + 1))
	fi
	i=$((i + 1))
done
[ $fails = 0 ] && ! loaded && ktap_test_pass "$CYCLES load/unload cycles" ||
	ktap_test_fail "$CYCLES load/unload cycles ($fails failures)"
n=$(kthreads_left)
[ "$n" = 0 ] && ktap_test_pass "no racelab kthread left after the cycles" ||
	ktap_test_fail "no racelab kthread left after the cycles ($n)"

[ $was_loaded = 1 ] && load
ktap_finished
