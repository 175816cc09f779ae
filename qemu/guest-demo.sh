#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The racelab demo, run inside the lab VM: every mode of every scenario with
# the same threads, iterations and amplifier, side by side, then /proc/racelab.

B=/sys/kernel/debug/racelab
ITER=${rl_iterations:-200000}
CPUS=$(grep -c '^processor' /proc/cpuinfo)

run() {	# scenario mode threads iterations amplifier
	d=$B/$1
	echo none > $d/amplifier && echo "$2" > $d/mode &&
	echo "$3" > $d/threads && echo "$4" > $d/iterations &&
	echo "$5" > $d/amplifier 2>/dev/null &&
	echo start > $d/run 2>/dev/null || { echo "refused by the knobs (EINVAL)"; return; }
	while [ "$(cat $d/run)" != idle ]; do sleep 0.05; done
	sed -n 's/^last: //p' $d/stats
}

table() {	# scenario threads iterations amplifier
	printf '\n== %s: %s threads x %s iterations, amplifier %s, %s CPU(s)\n' \
		"$1" "$2" "$3" "$4" "$CPUS"
	printf '%-16s %-10s %10s %10s %10s %6s  %s\n' mode kind expected \
		observed anomalies lost% verdict
	for m in $(tr -d '[]' < $B/$1/mode); do
		line=$(run "$1" "$m" "$2" "$3" "$4")
		case "$line" in
		scenario=*) ;;
		*) printf '%-16s %s\n' "$m" "$line"; continue ;;
		esac
		echo "$line" | awk '{
			for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
			pct = f["expected"] ? 100 * f["anomalies"] / f["expected"] : 0
			printf "%-16s %-10s %10s %10s %10s %6.2f  %s\n", f["mode"],
				f["kind"], f["expected"], f["observed"], f["anomalies"],
				pct, f["verdict"]
		}'
		echo "$line" >> /tmp/verdicts
	done
}

echo "racelab demo: lost updates on a shared counter"
table counter 2 "$ITER" none
table counter 2 5000 delay:1000
table counter 2 1000 sleep
echo
echo "== verdict lines"
cat /tmp/verdicts
echo
echo "== /proc/racelab"
cat /proc/racelab
