#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""What racelab's scenarios declare, as one lab boot printed it.

Every lab boot prints each scenario's /sys/kernel/debug/racelab/<s>/plan
in its "plans" section (qemu/guest-init.sh). The lab, the detector matrix
and the judge read scenarios, modes and expectations from there: nothing
on the host names a scenario.

  plans.py <results.log> kcsan-allow   regex of every function a KCSAN
                                       report may name (racy modes' own)
  plans.py <results.log> experiments   one line per detector experiment:
                                       <scenario> <mode> <lockdep_off>
                                       <what its report names, |-joined>
  plans.py <results.log> list          scenario/mode kind, one per line
"""
import re
import sys

REST = ("about", "names", "pairs")


def parse_record(line):
    """'type k=v k=v ... about=free text' -> (type, {k: v})."""
    kind, _, rest = line.partition(" ")
    fields = {}
    while rest:
        m = re.match(r"(\w+)=", rest)
        if not m:
            break
        key = m.group(1)
        if key in REST:
            fields[key] = rest[m.end():]
            break
        value, _, rest = rest[m.end():].partition(" ")
        fields[key] = value
    return kind, fields


def load(results_log):
    """[{name, scenario, knobs, plans, modes, reports, ...}] in module order,
    or None if the boot printed no plans."""
    try:
        text = open(results_log, errors="replace").read()
    except OSError:
        return None
    m = re.search(r"^RACELAB-BEGIN plans\n(.*?)^RACELAB-END plans rc=0$",
                  text, re.S | re.M)
    if not m:
        return None
    scenarios, cur = [], None
    for line in m.group(1).splitlines():
        if line.startswith("== "):
            cur = {"name": line[3:].strip(), "scenario": {}, "plans": [],
                   "modes": [], "reports": [], "knobs": []}
            scenarios.append(cur)
            continue
        if cur is None or not line.strip():
            continue
        kind, f = parse_record(line)
        if kind == "scenario":
            cur["scenario"] = f
        elif kind == "knobs":
            cur["knobs"] = f.get("names", "").split(",")
        elif kind == "plan":
            cur["plans"].append(f)
        elif kind == "mode":
            cur["modes"].append(f)
        elif kind == "report":
            cur["reports"].append(f)
        else:
            cur[kind] = f
    return scenarios


def reports_of(scn, detector):
    """{mode: (must, [names])} of one detector's declared reports."""
    out = {}
    for r in scn["reports"]:
        if r.get("detector") == detector:
            out[r["mode"]] = (r.get("must") == "yes",
                              [n for n in r.get("names", "").split("|") if n])
    return out


def kcsan_functions(scenarios):
    """Every function a KCSAN report of a racy mode may name, and the
    kernel's own that a scenario's lawful API use races in (kcsan-kernel)."""
    funcs = []
    for scn in scenarios:
        for _, names in reports_of(scn, "kcsan").values():
            funcs += [n for n in names if n not in funcs]
        kernel = scn.get("kcsan-kernel", {}).get("names", "")
        funcs += [n for n in kernel.split("|") if n and n not in funcs]
    return funcs


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    scenarios = load(sys.argv[1])
    if not scenarios:
        print("plans.py: no plans section in %s" % sys.argv[1], file=sys.stderr)
        return 1
    what = sys.argv[2]
    if what == "kcsan-allow":
        funcs = kcsan_functions(scenarios)
        if not funcs:
            return 1
        print("|".join(re.escape(f) for f in funcs))
    elif what == "experiments":
        for scn in scenarios:
            # Lockdep's report, or a kernel check's (refcount_t...).
            lockdep = reports_of(scn, "lockdep")
            kcheck = reports_of(scn, "kcheck")
            for mode in scn["modes"]:
                if mode.get("experiment") != "yes":
                    continue
                names = lockdep.get(mode["name"], (False, []))[1] + \
                    kcheck.get(mode["name"], (False, []))[1]
                print(scn["name"], mode["name"], mode.get("lockdep_off", "no"),
                      "|".join(names))
    elif what == "list":
        for scn in scenarios:
            for mode in scn["modes"]:
                print("%s/%s %s" % (scn["name"], mode["name"], mode["kind"]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
