#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The racelab demo, run inside the lab VM: for each scenario, every mode run
# with the same threads, iterations and amplifier, side by side; then the
# verdict lines and /proc/racelab.

B=/sys/kernel/debug/racelab
CPUS=$(grep -c '^processor' /proc/cpuinfo)
. /selftests/racelab/racelab_wait.sh

run() {	# scenario mode threads iterations amplifier
	d=$B/$1
	echo none > $d/amplifier && echo "$2" > $d/mode &&
	echo "$3" > $d/threads && echo "$4" > $d/iterations &&
	echo "$5" > $d/amplifier 2>/dev/null &&
	echo start > $d/run 2>/dev/null || { echo "refused by the knobs (EINVAL)"; return; }
	# A run ends by its deadline (duration_ms) plus 1 s: allow 10 s more.
	limit=$(( $(cat $d/duration_ms) + 10000 ))
	if ! rl_wait_until "$1/$2 to end" $limit rl_file_is $d/run idle > /dev/null; then
		echo stop > $d/run
		echo "DEMO FAILURE: the run did not end within $limit ms"
		return
	fi
	sed -n 's/^last: //p' $d/stats
}

table() {	# scenario threads iterations amplifier
	printf '\n== %s: %s threads x %s iterations, amplifier %s, %s CPU(s)\n' \
		"$1" "$2" "$3" "$4" "$CPUS"
	printf '%-19s %-10s %10s %10s %10s %7s %9s  %s\n' mode kind expected \
		observed anomalies rate% ns/op verdict
	for m in $(tr -d '[]' < $B/$1/mode); do
		line=$(run "$1" "$m" "$2" "$3" "$4")
		case "$line" in
		scenario=*) ;;
		*) printf '%-19s %s\n' "$m" "$line"; continue ;;
		esac
		echo "$line" | awk '{
			for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
			pct = f["expected"] ? 100 * f["anomalies"] / f["expected"] : 0
			printf "%-19s %-10s %10s %10s %10s %7.3f %9s  %s\n", f["mode"],
				f["kind"], f["expected"], f["observed"], f["anomalies"],
				pct, f["ns_per_op"], f["verdict"]
		}'
		echo "$line" >> /tmp/verdicts
	done
}

echo "racelab demo: each race, its broken fix and its fixes"
table counter 2 200000 none
table counter 2 5000 delay:1000
table counter 2 1000 sleep
table check-then-act 2 200000 none
table check-then-act 2 5000 delay:1000
table check-then-act 2 1000 sleep
table torn-read 2 200000 none
table torn-read 2 5000 delay:1000
table rcu-pointer 2 100000 none
table rcu-pointer 2 5000 delay:1000
table rcu-list 2 20000 none
table rcu-list 2 2000 delay:1000
if [ "$CPUS" -ge 2 ]; then
	table ordering 2 200000 none
else
	echo; echo "== ordering: needs 2 CPUs (two threads spin for each other)"
fi
table aba 2 200000 none
table aba 2 5000 delay:1000
table false-sharing 2 1000000 none
awk '/scenario=false-sharing/ {
	for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	ns[f["mode"]] = f["ns_per_op"]; cs = f["clocksource"]
} END {
	if (ns["padded"] > 0)
		printf "false sharing: packed %s ns/op, padded %s ns/op, ratio %.2f (clocksource %s)\n",
			ns["packed"], ns["padded"], ns["packed"] / ns["padded"], cs
}' /tmp/verdicts
echo
echo "== verdict lines"
cat /tmp/verdicts
echo
echo "== /proc/racelab"
cat /proc/racelab
