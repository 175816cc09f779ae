#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The detector matrix: for every scenario and mode, what the lab saw.

Reads the console logs of one `qemu/lab test` run (RACELAB_OUT):
  lockdep-smp2/console.log   invariant violations (verdict lines), lockdep
  kcsan-smp2/console.log     KCSAN reports
  kasan-smp2/console.log     KASAN reports
  exp-<scenario>-<mode>/     one detector experiment per boot
  lockdep-smp2/results.log   the scenarios' plans: rows, expectations

A report is put on the run it happened in: racelab prints a verdict line
("racelab: scenario=... mode=...") when a run ends, so a report belongs to
the first verdict line after it. Every "yes" cites what it rests on.

With --check, exits 1 if a cell the lab expects to be "yes" is "no".
"""
import argparse
import os
import re
import sys

import plans

VERDICT = re.compile(r"racelab: scenario=(\S+) mode=(\S+) kind=(\S+) .*?"
                     r"anomalies=(\d+) verdict=(\S+)")
KCSAN = re.compile(r"BUG: KCSAN: (.*)")
KASAN = re.compile(r"BUG: KASAN: (.*)")
LOCKDEP = re.compile(r"(possible circular locking dependency detected|"
                     r"inconsistent lock state|suspicious RCU usage|"
                     r"sleeping function called from invalid context|"
                     r"possible recursive locking detected|"
                     r"WARNING: CPU: \d+ PID: \d+ at \S*include/linux/"
                     r"(?:seqlock|lockdep)\.h)")
# The kernel's own checks: refcount_t's saturation warnings.
KCHECK = re.compile(r"refcount_t: .*")

def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return None


def owners_of(scenarios):
    """{function: (scenario, mode)} for every function exactly one mode
    declares that its KCSAN reports name; a function two modes share (a
    reader both use) belongs to neither."""
    seen = {}
    for scn in scenarios:
        for mode, (_, names) in plans.reports_of(scn, "kcsan").items():
            for n in names:
                seen.setdefault(n, set()).add((scn["name"], mode))
    return {n: next(iter(k)) for n, k in seen.items() if len(k) == 1}


def attribute(lines, pattern, owners):
    """{(scenario, mode): [report, ...]} for reports of @pattern.

    A report that names a mode's own function belongs to that mode; one
    that names only shared helpers belongs to the run it happened in, the
    first verdict line after it. Reports outside racelab's runs (a
    positive control) belong to none.
    """
    out, pending = {}, []
    for line in lines or []:
        m = pattern.search(line)
        if m:
            report = m.group(0).strip()
            names = re.findall(r"([a-z_0-9]+)(?:\+0x[0-9a-f]+/0x[0-9a-f]+)? \[racelab\]",
                               report)
            found = {owners[n] for n in names if n in owners}
            if len(found) == 1:
                out.setdefault(found.pop(), []).append(report)
            elif names:
                pending.append(report)
            continue
        v = VERDICT.search(line)
        if v and pending:
            out.setdefault((v.group(1), v.group(2)), []).extend(pending)
            pending = []
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", help="RACELAB_OUT of a qemu/lab test run")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()

    base = read(os.path.join(args.out, "lockdep-smp2", "console.log"))
    scenarios = plans.load(os.path.join(args.out, "lockdep-smp2", "results.log"))
    if base is None or not scenarios:
        print("matrix: no lockdep-smp2 console log or plans in %s" % args.out)
        return 1
    kcsan_log = read(os.path.join(args.out, "kcsan-smp2", "console.log"))
    kasan_log = read(os.path.join(args.out, "kasan-smp2", "console.log"))

    # Rows: every mode, in the module's order, as its plan declares it.
    modes, decl = [], {}
    for scn in scenarios:
        for mode in scn["modes"]:
            key = (scn["name"], mode["name"])
            modes.append(key)
            decl[key] = mode
    violations = {}
    for line in base:
        v = VERDICT.search(line)
        if v:
            key = (v.group(1), v.group(2))
            violations[key] = violations.get(key, 0) + int(v.group(4))
            if key not in decl:
                # Not a mode: replayed schedules (mode=schedule). Shown
                # after their scenario's modes, asserted nothing.
                at = max((i for i, k in enumerate(modes) if k[0] == key[0]),
                         default=len(modes) - 1)
                modes.insert(at + 1, key)
                decl[key] = {"name": key[1], "kind": v.group(3),
                             "undeclared": "yes"}
    owners = owners_of(scenarios)
    kcsan = attribute(kcsan_log, KCSAN, owners)
    kasan = attribute(kasan_log, KASAN, owners)

    # Detector experiments: one boot each.
    lockdep, kcheck = {}, {}
    for key in modes:
        if decl[key].get("experiment") != "yes":
            continue
        log = read(os.path.join(args.out, "exp-%s-%s" % key, "console.log"))
        hits = [m.group(0) for m in map(LOCKDEP.search, log or []) if m]
        if hits:
            lockdep[key] = hits
        hits = [m.group(0) for m in map(KCHECK.search, log or []) if m]
        if hits:
            kcheck[key] = hits
    # Outside experiments, a kernel check must never fire: every free run
    # of every mode is on the lockdep boot's console.
    free_kcheck = [m.group(0) for m in map(KCHECK.search, base) if m]

    def cell(reports, key, seen_log):
        if seen_log is None:
            return "n/a"
        r = reports.get(key, [])
        return "yes (%d)" % len(r) if r else "no"

    fmt = "%-15s %-20s %-10s %-14s %-10s %-10s %-10s %-10s"
    print(fmt % ("scenario", "mode", "kind", "invariant", "KCSAN",
                 "lockdep", "KASAN", "kcheck"))
    bad = []
    for key in modes:
        d = decl[key]
        kind = d["kind"]
        experiment = d.get("experiment") == "yes"
        n = violations.get(key, 0)
        inv = "-" if experiment else ("yes (%d)" % n if n else "no")
        print(fmt % (key[0], key[1], kind, inv, cell(kcsan, key, kcsan_log),
                     cell(lockdep, key, base), cell(kasan, key, kasan_log),
                     cell(kcheck, key, base)))
        if d.get("undeclared"):
            continue
        if not experiment:
            if kind != "fixed" and d.get("shows_here") == "yes" and not n:
                bad.append("%s/%s: invariant never broke" % key)
            if kind == "fixed" and n:
                bad.append("%s/%s: a fixed mode broke its invariant" % key)
        if kcsan_log is not None:
            if d.get("kcsan") == "reports" and not kcsan.get(key):
                bad.append("%s/%s: KCSAN report expected" % key)
            if d.get("kcsan") == "silent" and kcsan.get(key):
                bad.append("%s/%s: KCSAN report not expected" % key)
        if experiment:
            if d.get("lockdep") == "reports" and not lockdep.get(key):
                bad.append("%s/%s: lockdep report expected" % key)
            if d.get("lockdep") == "silent" and lockdep.get(key):
                bad.append("%s/%s: lockdep report not expected" % key)
            if d.get("kcheck") == "reports" and not kcheck.get(key):
                bad.append("%s/%s: kernel check report expected" % key)
            if d.get("kcheck") == "silent" and kcheck.get(key):
                bad.append("%s/%s: kernel check report not expected" % key)
        if kasan_log is not None and kasan.get(key):
            bad.append("%s/%s: KASAN report" % key)

    for line in free_kcheck[:5]:
        bad.append("a kernel check fired outside an experiment: " + line)

    print()
    print("evidence (first report per cell):")
    for name, reports in (("KCSAN", kcsan), ("lockdep", lockdep),
                          ("KASAN", kasan), ("kcheck", kcheck)):
        for key in modes:
            if reports.get(key):
                print("  %s %s/%s: %s" % (name, key[0], key[1],
                                          reports[key][0][:110]))
    for b in bad:
        print("MATRIX FAIL: " + b)
    if args.check:
        print("matrix: %d expectation(s) failed" % len(bad))
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
