#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The racelab demo, run inside the lab VM. For each scenario, every mode
# with the default knobs (duration_ms 1000, amplifier auto; on one CPU the
# window the scenario declares it needs there), on the threads its plan
# asks for (min_threads, 2 at least: rl_run_threads). Everything
# about a scenario comes from its plan file: nothing here names one. A racy or
# broken-fix mode runs again until its anomaly shows or DEMO_TRIES runs
# pass; the table gives its rate and the time to the first anomaly. A racy
# mode that never showed, or a fixed mode that did, is a demo failure:
# printed as FAILED, counted, and the demo exits 1.
#
# Usage: guest-demo.sh [tries]   (bench.sh uses the same run loop)

B=/sys/kernel/debug/racelab
CPUS=$(grep -c '^processor' /proc/cpuinfo)
DEMO_TRIES=${1:-10}
failures=0

# Field $2 of verdict line $1.
field() {
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# shellcheck source=SCRIPTDIR/../selftests/racelab/racelab_wait.sh
. /selftests/racelab/racelab_wait.sh
# shellcheck source=SCRIPTDIR/../selftests/racelab/racelab_plan.sh
. /selftests/racelab/racelab_plan.sh

# Wait until the scenario is idle: a run ends by its duration_ms plus 1 s;
# allow 10 s more.
wait_idle() {	# dir
	rl_wait_until "$1 to end (run: idle)" $(( $(cat "$1/duration_ms") + 10000 )) \
		rl_file_is "$1/run" idle > /dev/null
}

# One run with the scenario's current knobs; prints the verdict line.
run_once() {	# scenario
	d=$B/$1
	echo start > "$d/run" 2>/dev/null || { echo "refused"; return; }
	wait_idle "$d" || { echo "hung: still running duration_ms + 10 s after start"; return; }
	sed -n 's/^last: //p' "$d/stats"
}

# Runs until the anomaly shows or the tries are used up. Prints
# "<runs> <ns to first anomaly> <line>"; ns is -1 if it never showed.
run_until_race() {	# scenario tries
	runs=0
	spent=0
	while [ $runs -lt "$2" ]; do
		runs=$((runs + 1))
		line=$(run_once "$1")
		case "$line" in scenario=*) ;; *) echo "$runs -1 $line"; return ;; esac
		if [ "$(field "$line" anomalies)" != 0 ]; then
			first=$(field "$line" first_anomaly_ns)
			# Counted at the end of the run: at most its duration.
			[ "$first" = 0 ] && first=$(field "$line" duration_ns)
			echo "$runs $((spent + first)) $line"
			return
		fi
		spent=$((spent + $(field "$line" duration_ns)))
	done
	echo "$runs -1 $line"
}

# A racy mode the hardware or the kernel keeps from showing (x86-TSO...).
cannot_show() {	# scenario mode
	[ "$(rl_mode_key "$1" "$2" kind)" != fixed ] &&
		[ "$(rl_mode_key "$1" "$2" shows_here)" = no ]
}

table() {	# scenario amplifier
	scn=$1
	a=$2
	d=$B/$scn
	printf '\n== %s: 1000 ms runs, amplifier %s, %s CPU(s)\n' \
		"$scn" "$a" "$CPUS"
	printf '%-19s %-10s %7s %12s %10s %8s %5s %10s %6s  %s\n' mode kind \
		threads expected anomalies rate% runs first_ms fair verdict
	for m in $(rl_plan "$scn" mode name experiment no); do
		echo "$m" > "$d/mode" &&
		rl_run_threads "$scn" "$m" > "$d/threads" &&
		echo 1000 > "$d/duration_ms" && echo 0 > "$d/iterations" &&
		echo "$a" > "$d/amplifier" && echo any > "$d/cpus"
		kind=$(rl_mode_key "$scn" "$m" kind)
		tries=$DEMO_TRIES
		[ "$kind" = fixed ] && tries=1
		cannot_show "$scn" "$m" && tries=1
		out=$(run_until_race "$scn" "$tries")
		runs=${out%% *}
		out=${out#* }
		first=${out%% *}
		line=${out#* }
		case "$line" in
		scenario=*) ;;
		*)
			printf '%-19s FAILED: %s\n' "$m" "$line"
			failures=$((failures + 1))
			continue
			;;
		esac
		echo "$line" >> /tmp/verdicts
		verdict=$(field "$line" verdict)
		if [ "$kind" = fixed ]; then
			[ "$verdict" = clean ] || { verdict="FAILED($verdict)"; failures=$((failures + 1)); }
		elif cannot_show "$scn" "$m"; then
			[ "$verdict" = clean ] &&
				verdict="clean (cannot show here: $(rl_mode_key "$scn" "$m" why_not))"
		elif [ "$first" = -1 ]; then
			verdict="FAILED: not shown in $runs runs"
			failures=$((failures + 1))
		fi
		echo "$line" | awk -v runs="$runs" -v first="$first" -v v="$verdict" '{
			for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
			pct = f["expected"] ? 100 * f["anomalies"] / f["expected"] : 0
			ms = first >= 0 ? sprintf("%.1f", first / 1e6) : "-"
			printf "%-19s %-10s %7s %12s %10s %8.3f %5s %10s %6s  %s\n",
				f["mode"], f["kind"], f["threads"], f["expected"],
				f["anomalies"], pct, runs, ms, f["fairness"], v
		}'
	done
}

echo "racelab demo: each race, its broken fix and its fixes"
echo "(racy modes run until their anomaly shows, at most $DEMO_TRIES runs;" \
     "first_ms: time to the first anomaly)"
for s in $(rl_scenarios); do
	if [ "$CPUS" -lt "$(rl_scenario_key "$s" min_cpus)" ]; then
		printf '\n== %s: needs %s CPUs\n' "$s" "$(rl_scenario_key "$s" min_cpus)"
		continue
	fi
	if [ -z "$(rl_plan "$s" mode name experiment no)" ]; then
		printf '\n== %s: detector experiments, one boot each (qemu/lab test)\n' "$s"
		continue
	fi
	# On one CPU a race needs a preemption inside its window: widen it
	# as the scenario says.
	a=auto
	[ "$CPUS" -lt 2 ] && a=$(rl_scenario_key "$s" one_cpu_amplifier)
	table "$s" "$a"
	# A scenario that measures rather than races: compare its modes.
	key=$(rl_scenario_key "$s" demo_compare)
	[ "$key" = - ] && continue
	awk -v s="$s" -v key="$key" '
	$0 ~ "scenario=" s " " {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		n++; name[n] = f["mode"]; val[n] = f[key]; cs = f["clocksource"]
	} END {
		if (n >= 2 && val[2] > 0)
			printf "\n%s: %s %s %s, %s %s %s, ratio %.2f (clocksource %s)\n",
				s, name[1], val[1], key, name[2], val[2], key,
				val[1] / val[2], cs
	}' /tmp/verdicts
done
echo
echo "== verdict lines"
cat /tmp/verdicts
echo
echo "== /proc/racelab"
cat /proc/racelab
echo
if [ $failures = 0 ]; then
	echo "demo: every racy mode showed its anomaly, every fixed mode was clean"
else
	echo "demo: FAILED: $failures mode(s) did not behave (see FAILED above)"
	exit 1
fi
