# SPDX-License-Identifier: GPL-2.0
#
# Reading what racelab's scenarios declare, for the lab's guest scripts and
# the kselftests (busybox sh). Sourced, never run. Nothing here knows a
# scenario by name: the list comes from /proc/racelab, the rest from
# /sys/kernel/debug/racelab/<scenario>/plan (module/core/debugfs.c):
# one record per line, its type first, then key=value pairs without
# blanks, except about=, names= and pairs=, which run to the end of the
# line.
# shellcheck shell=sh

RL_DEBUGFS=${RL_DEBUGFS:-/sys/kernel/debug/racelab}

# The scenarios, in the module's order.
rl_scenarios() {
	awk 'NR == 1 { next } !NF { exit } { print $1 }' /proc/racelab
}

# rl_plan SCENARIO RECORD KEY [MATCH_KEY MATCH_VALUE]: KEY of each RECORD
# line of the scenario's plan (only those where MATCH_KEY=MATCH_VALUE),
# one per line.
rl_plan() {
	awk -v rec="$2" -v key="$3" -v mk="$4" -v mv="$5" '
	$1 == rec {
		split("", f)
		for (i = 2; i <= NF; i++) {
			k = $i
			sub(/=.*/, "", k)
			if (k == "about" || k == "names" || k == "pairs") {
				f[k] = substr($0, index($0, " " k "=") + length(k) + 2)
				break
			}
			v = $i
			sub(/^[^=]*=/, "", v)
			f[k] = v
		}
		if (mk == "" || f[mk] == mv)
			print f[key]
	}' "$RL_DEBUGFS/$1/plan"
}

# rl_mode_key SCENARIO MODE KEY: one key of a mode's record.
rl_mode_key() {
	rl_plan "$1" mode "$3" name "$2"
}

# rl_scenario_key SCENARIO KEY: one key of the scenario's own record.
rl_scenario_key() {
	rl_plan "$1" scenario "$2"
}

# rl_run_threads SCENARIO MODE: the threads a demo or bench run of a mode
# takes: its plan's min_threads, and 2 at least (a race needs a partner),
# within the scenario's max_threads.
rl_run_threads() {
	_rl_n=$(rl_mode_key "$1" "$2" min_threads)
	_rl_max=$(rl_scenario_key "$1" max_threads)
	[ "${_rl_n:-0}" -ge 2 ] || _rl_n=2
	[ -z "$_rl_max" ] || [ "$_rl_n" -le "$_rl_max" ] || _rl_n=$_rl_max
	echo "$_rl_n"
}
