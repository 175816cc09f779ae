#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Manifestation benchmark, run inside the lab VM: every racy and broken-fix
# mode, BENCH_RUNS runs each with the default knobs (1000 ms, amplifier
# auto; on one CPU the window its scenario declares, as the demo) on the
# threads its plan asks for (min_threads, 2 at least), and how many of them
# showed the anomaly, with the median time to the first anomaly. A figure,
# not a test: it never fails.
#
# Usage: guest-bench.sh [runs [scenario]]

B=/sys/kernel/debug/racelab
CPUS=$(grep -c '^processor' /proc/cpuinfo)
RUNS=${1:-100}
ONLY=${2:-}
# shellcheck source=SCRIPTDIR/../selftests/racelab/racelab_wait.sh
. /selftests/racelab/racelab_wait.sh
# shellcheck source=SCRIPTDIR/../selftests/racelab/racelab_plan.sh
. /selftests/racelab/racelab_plan.sh

field() {
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

amp=auto
[ "$CPUS" -lt 2 ] && amp="each scenario's one-CPU window"

printf 'racelab bench: %s runs per mode, default knobs, amplifier %s, %s CPU(s)\n' \
	"$RUNS" "$amp" "$CPUS"
printf '%-15s %-19s %-10s %-16s %7s %9s %14s %14s\n' scenario mode kind \
	amplifier threads shown median_first_ms max_first_ms
for s in $(rl_scenarios); do
	[ -n "$ONLY" ] && [ "$s" != "$ONLY" ] && continue
	d=$B/$s
	[ "$CPUS" -lt "$(rl_scenario_key "$s" min_cpus)" ] && continue
	a=auto
	[ "$CPUS" -lt 2 ] && a=$(rl_scenario_key "$s" one_cpu_amplifier)
	for m in $(rl_plan "$s" mode name experiment no); do
		th=$(rl_run_threads "$s" "$m")
		echo "$m" > "$d/mode"; echo "$th" > "$d/threads"
		echo 1000 > "$d/duration_ms"; echo 0 > "$d/iterations"
		echo "$a" > "$d/amplifier"; echo any > "$d/cpus"
		kind=$(rl_mode_key "$s" "$m" kind)
		[ "$kind" = fixed ] && continue
		shown=0
		: > /tmp/first
		i=0
		while [ $i -lt "$RUNS" ]; do
			i=$((i + 1))
			echo start > "$d/run" || break
			# A run ends by its duration_ms (1000) plus 1 s: allow 10 s.
			if ! waited=$(rl_wait_until "$s/$m run $i to end" 11000 \
				      rl_file_is "$d/run" idle); then
				echo "$waited: stopped, $s/$m not counted further"
				echo stop > "$d/run"
				break
			fi
			line=$(sed -n 's/^last: //p' "$d/stats")
			[ "$(field "$line" anomalies)" = 0 ] && continue
			shown=$((shown + 1))
			f=$(field "$line" first_anomaly_ns)
			[ "$f" = 0 ] && f=$(field "$line" duration_ns)
			echo "$f" >> /tmp/first
		done
		ampshown=$(field "$line" amplifier)
		sort -n /tmp/first | awk -v s="$s" -v m="$m" -v k="$kind" \
			-v a="$ampshown" -v th="$th" -v sh="$shown" -v n="$i" '
			{ v[NR] = $1 }
			END {
				med = NR ? sprintf("%.1f", v[int((NR + 1) / 2)] / 1e6) : "-"
				mx = NR ? sprintf("%.1f", v[NR] / 1e6) : "-"
				printf "%-15s %-19s %-10s %-16s %7s %9s %14s %14s\n", s, m,
					k, a, th, sh "/" n, med, mx
			}'

	done
done
