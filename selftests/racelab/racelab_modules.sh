#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# racelab module lifetime: refused parameters (insmod fails, nothing is
# left loaded), a run at load time (run=, and autorun=, its older name),
# rmmod while a run is in flight (within 1 s, no kthread left, insmod works
# again), and 20 load/unload cycles. Loads the module from $RACELAB_KO if
# set, with modprobe otherwise. Leaves the module loaded if it was.
#
# It names no scenario or mode: it picks them from the plan files,
# racelab/<scenario>/plan, read once the module is loaded.

DIR=$(dirname "$0")
# shellcheck source=/dev/null # the kernel tree's, not in this repository
. "$DIR/../kselftest/ktap_helpers.sh"
# shellcheck source=SCRIPTDIR/racelab_wait.sh
. "$DIR/racelab_wait.sh"
RL_WAIT_PREFIX="# "

TOP=/sys/kernel/debug/racelab
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

# What the tests need, from the plan files (one record a line, key=value
# pairs; about= and names= run to the end of the line), as shell
# variables:
#   SCN      the first scenario with FIXED that takes $THREADS threads,
#            2 threads, an amplifier, and no more CPUs than are online
#   FIXED    a fixed mode of SCN, no experiment, whose window may sleep
#   RACY     a racy or broken-fix mode of SCN that is no experiment
#   ATOMIC_SCN, ATOMIC: the first scenario that takes an amplifier and has
#            a mode whose window is atomic (no experiment), and that mode;
#            or ""
#   SCHED    a serial schedule of SCHED_SCN, a scenario that replays them
#   LACKS_SCN, LACKS_KNOB: a scenario and a knob it lacks that OWNER has;
#            LACKS_FIXED, OWNER_FIXED: a fixed mode of each, no experiment
#            (what runs if a load that must fail does not)
plan_pick() {
	# shellcheck disable=SC3043 # not POSIX, but busybox ash and dash have it
	local cpus p

	cpus=$(grep -c '^processor' /proc/cpuinfo)
	set --
	for p in "$TOP"/*/plan; do
		[ -f "$p" ] && set -- "$@" "$p"
	done
	[ $# -gt 0 ] || return 1
	eval "$(awk -v threads=$THREADS -v cpus="$cpus" '
	function val(k,   i) {
		for (i = 2; i <= NF; i++) {
			if (index($i, k "=") == 1)
				return substr($i, length(k) + 2)
			if ($i ~ /^(about|names|pairs)=/)
				return ""
		}
		return ""
	}
	FNR == 1 { n++ }
	$1 == "scenario" {
		name[n] = val("name"); amp[n] = val("amplifier")
		mint[n] = val("min_threads"); maxt[n] = val("max_threads")
		mcpu[n] = val("min_cpus")
	}
	$1 == "knobs" {
		knobs[n] = "," val("names") ","
		split(val("names"), ks, ",")
		for (i in ks)
			all[ks[i]] = 1
	}
	$1 == "schedule" { steps[n] = val("steps") }
	$1 == "mode" && val("experiment") == "no" {
		k = val("kind"); w = val("window"); m = val("name")
		if (k == "fixed" && fixed_any[n] == "")
			fixed_any[n] = m
		if (k == "fixed" && w == "plain" && fixed[n] == "")
			fixed[n] = m
		if (k != "fixed" && racy[n] == "")
			racy[n] = m
		if (w ~ /atomic/ && atomic[n] == "")
			atomic[n] = m
	}
	END {
		for (i = 1; i <= n && !s; i++)
			if (fixed[i] != "" && racy[i] != "" && amp[i] == "any" &&
			    maxt[i] + 0 >= threads && mint[i] + 0 <= 2 &&
			    mcpu[i] + 0 <= cpus)
				s = i
		for (i = 1; i <= n && !sc; i++)
			if (steps[i] != "")
				sc = i
		for (i = 1; i <= n && !as; i++)
			if (atomic[i] != "" && amp[i] == "any")
				as = i
		for (t = 0; sc && t < 2; t++)
			for (j = 1; j <= length(steps[sc]); j++)
				sched = sched (sched == "" ? "" : ",") substr(steps[sc], j, 1) t
		for (i = 1; i <= n && !ls; i++)
			for (k in all)
				if (fixed_any[i] != "")
				if (!index(knobs[i], "," k ","))
					for (j = 1; j <= n && !ls; j++)
						if (index(knobs[j], "," k ",") && fixed_any[j] != "") {
							ls = i; lk = k; o = j
						}
		printf "SCN=%s FIXED=%s RACY=%s ", name[s], fixed[s], racy[s]
		printf "ATOMIC_SCN=%s ATOMIC=%s ", name[as], atomic[as]
		printf "SCHED_SCN=%s SCHED=%s ", name[sc], sched
		printf "LACKS_SCN=%s LACKS_FIXED=%s LACKS_KNOB=%s ", name[ls], fixed_any[ls], lk
		printf "OWNER=%s OWNER_FIXED=%s\n", name[o], fixed_any[o]
	}' "$@")"
	D=$TOP/$SCN
	[ -n "$SCN" ]
}

# Start a run as long as the knobs allow (600 s, no iteration cap) whose
# threads sleep in their window (the widest sleep); 0 if it is running.
start_long_run() {
	echo "$FIXED" > "$D/mode" && echo 600000 > "$D/duration_ms" &&
	echo 0 > "$D/iterations" && echo sleep:10000 > "$D/amplifier" &&
	echo "$THREADS" > "$D/threads" && echo start > "$D/run" &&
	rl_file_is "$D/run" running
}

# A load that must fail, and leave nothing loaded.
refused() {
	# shellcheck disable=SC2086 # $1: one or more parameters, split
	if load $1; then
		ktap_print_msg "accepted: $1"
		unload
		return 1
	fi
	if loaded || [ -d "$TOP" ]; then
		ktap_print_msg "refused, yet something is loaded: $1"
		return 1
	fi
}

# refused_test NAME PARAMS...: one test, each PARAMS a load that must fail.
refused_test() {
	# shellcheck disable=SC3043 # not POSIX, but busybox ash and dash have it
	local name="$1" p ok=1

	shift
	for p in "$@"; do
		refused "$p" || ok=0
	done
	pass_if $ok "$name"
}

# pass_if OK NAME: the test NAME passes if OK is 1.
pass_if() {
	if [ "$1" = 1 ]; then
		ktap_test_pass "$2"
	else
		ktap_test_fail "$2"
	fi
}

ktap_print_header
[ "$(id -u)" = 0 ] || { ktap_skip_all "must run as root"; exit "$KSFT_SKIP"; }
was_loaded=0
loaded && was_loaded=1
loaded || load || ktap_exit_fail_msg "cannot load racelab to read its plans"
plan_pick || ktap_exit_fail_msg "no plan in $TOP/*/plan offers a scenario with a fixed mode whose window may sleep and a racy mode"
ktap_print_msg "from the plans: $SCN, fixed $FIXED, racy $RACY; atomic window: ${ATOMIC_SCN:-none} ${ATOMIC}; schedule of ${SCHED_SCN:-none}: ${SCHED:-none}; ${LACKS_SCN:-no scenario} lacks ${LACKS_KNOB:-a knob}"
# racelab_kunit depends on racelab: it must go first.
grep -q '^racelab_kunit ' /proc/modules && rmmod racelab_kunit
unload
[ $? != 124 ] || ktap_exit_fail_msg "rmmod racelab hung before the tests"
loaded && { ktap_skip_all "racelab is in use and cannot be unloaded"; exit "$KSFT_SKIP"; }
ktap_set_plan 13

# 1. Bad values are refused and leave nothing behind.
set -- threads=0 threads=65 iterations=1000000001 duration_ms=0 \
	duration_ms=600001 amplifier=nap amplifier=delay:0 cpus=0- \
	run=nosuch autorun=nosuch "run=$SCN mode=nosuch" \
	"run=$SCN mode=$FIXED threads=0" "run=$SCN autorun=$SCN"
[ -n "$ATOMIC" ] && set -- "$@" "run=$ATOMIC_SCN mode=$ATOMIC amplifier=sleep"
refused_test "bad module parameters refused, nothing loaded" "$@"

# 2-3. A scenario's own knobs need run=<scenario>.
refused_test "mode= without run= refused, nothing loaded" \
	"mode=$FIXED" "mode=$RACY" "mode=$FIXED threads=2"
refused_test "schedule= without run= refused, nothing loaded" \
	"schedule=${SCHED:-none}" "schedule=none"

# 4. A knob the run= scenario lacks fails the load; the scenario that has
# it takes the same value.
if [ -z "$LACKS_SCN" ]; then
	ktap_test_skip "every scenario has every knob: none to refuse"
else
	ok=0
	refused "run=$LACKS_SCN mode=$LACKS_FIXED $LACKS_KNOB=none" &&
		load "run=$OWNER" "mode=$OWNER_FIXED" "$LACKS_KNOB=none" \
			iterations=1000 &&
		ok=1
	loaded && unload
	pass_if $ok "$LACKS_KNOB=none refused with run=$LACKS_SCN, accepted with run=$OWNER"
fi

# 5-6. A run at load time (run=, and autorun=, its older name) leaves its
# verdict in /proc/racelab.
load_run_verdict_shown() {
	grep -Eq "^$SCN +$FIXED +fixed .* clean\$" /proc/racelab
}

for param in run autorun; do
	ok=0
	if load "$param=$SCN" "mode=$FIXED" iterations=20000 threads=2; then
		rl_wait_until "the $param= verdict in /proc/racelab" 10000 \
			load_run_verdict_shown && ok=1
		unload
	fi
	pass_if $ok "$param=$SCN mode=$FIXED: verdict clean in /proc/racelab"
done

# 7-10. rmmod in the middle of a run. The kthread count must first see the
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
pass_if $ok "long run in flight: $n racelab kthreads seen (>= $THREADS)"
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

# 11. insmod works again, and a fresh run gives a verdict.
ok=0
if load && echo "$FIXED" > "$D/mode" && echo 1000 > "$D/iterations" &&
   echo start > "$D/run"; then
	rl_wait_until "the run to end (run: idle)" 10000 \
		rl_file_is "$D/run" idle &&
		grep -q 'last: .*verdict=clean' "$D/stats" && ok=1
fi
unload
pass_if $ok "insmod after rmmod-in-flight works"

# 12-13. Load/unload cycles, every other one with a run in flight.
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
