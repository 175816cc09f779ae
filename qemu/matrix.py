#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The detector matrix: for every scenario and mode, what the lab saw.

Reads the console logs of one `qemu/lab test` run (RACELAB_OUT):
  lockdep-smp2/console.log   invariant violations (verdict lines), lockdep
  kcsan-smp2/console.log     KCSAN reports
  kasan-smp2/console.log     KASAN reports
  lockdep-exp-<mode>/        one lockdep experiment per boot

A report is put on the run it happened in: racelab prints a verdict line
("racelab: scenario=... mode=...") when a run ends, so a report belongs to
the first verdict line after it. Every "yes" cites what it rests on.

With --check, exits 1 if a cell the lab expects to be "yes" is "no".
"""
import argparse
import os
import re
import sys

VERDICT = re.compile(r"racelab: scenario=(\S+) mode=(\S+) kind=(\S+) .*?"
                     r"anomalies=(\d+) verdict=(\S+)")
KCSAN = re.compile(r"BUG: KCSAN: (.*)")
KASAN = re.compile(r"BUG: KASAN: (.*)")
LOCKDEP = re.compile(r"(possible circular locking dependency detected|"
                     r"inconsistent lock state|suspicious RCU usage|"
                     r"sleeping function called from invalid context|"
                     r"possible recursive locking detected)")

# Cells the lab must see as "yes": plain-access races are data races.
EXPECT_KCSAN = {
    ("counter", "none"), ("counter", "lock-per-thread"),
    ("check-then-act", "none"), ("torn-read", "none"),
    ("rcu-pointer", "in-place"), ("rcu-pointer", "free-too-early"),
    ("rcu-list", "in-place"),
}
# Race conditions without a data race: KCSAN must stay silent.
EXPECT_NO_KCSAN = {
    ("counter", "atomic-read-set"), ("check-then-act", "split-lock"),
    ("torn-read", "seqcount-broken"),
}
# The invariant cannot break here: x86-TSO forbids the MP reordering.
NO_INVARIANT = {("ordering", "mp-plain")}


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return None


# racelab names a mode's own access functions <prefix>_<mode>_...
PREFIX = {"counter": "counter", "ca": "check-then-act", "tr": "torn-read",
          "rp": "rcu-pointer", "rl": "rcu-list", "aba": "aba",
          "fs": "false-sharing", "sb": "ordering", "mp": "ordering"}


def mode_of_function(name, modes):
    """The mode a function belongs to by its name, or None if shared."""
    prefix, _, rest = name.partition("_")
    scn = PREFIX.get(prefix)
    if not scn:
        return None
    for key in modes:
        if key[0] == scn and rest.startswith(key[1].replace("-", "_") + "_"):
            return key
    return None


def attribute(lines, pattern, modes):
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
            owners = {mode_of_function(n, modes) for n in names} - {None}
            if len(owners) == 1:
                out.setdefault(owners.pop(), []).append(report)
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
    if base is None:
        print("matrix: no lockdep-smp2 console log in %s" % args.out)
        return 1
    kcsan_log = read(os.path.join(args.out, "kcsan-smp2", "console.log"))
    kasan_log = read(os.path.join(args.out, "kasan-smp2", "console.log"))

    modes, kinds, violations = [], {}, {}
    for line in base:
        v = VERDICT.search(line)
        if not v:
            continue
        key = (v.group(1), v.group(2))
        if key not in kinds:
            modes.append(key)
            kinds[key] = v.group(3)
        violations[key] = violations.get(key, 0) + int(v.group(4))
    kcsan = attribute(kcsan_log, KCSAN, modes)
    kasan = attribute(kasan_log, KASAN, modes)
    lockdep = {}
    for line in base:
        if LOCKDEP.search(line):
            lockdep.setdefault(("lockdep-smp2", "boot"), []).append(line)

    # The lockdep scenario: one boot per experiment.
    for d in sorted(os.listdir(args.out)):
        if not d.startswith("lockdep-exp-"):
            continue
        mode = d[len("lockdep-exp-"):]
        log = read(os.path.join(args.out, d, "console.log")) or []
        key = ("lockdep", mode)
        if key not in kinds:
            modes.append(key)
            for line in log:
                v = VERDICT.search(line)
                if v:
                    kinds[key] = v.group(3)
            kinds.setdefault(key, "?")
            violations[key] = 0
        hits = [m.group(0) for m in map(LOCKDEP.search, log) if m]
        if hits:
            lockdep[key] = hits

    def cell(reports, key, seen_log):
        if seen_log is None:
            return "n/a"
        r = reports.get(key, [])
        return "yes (%d)" % len(r) if r else "no"

    # Rows in the modes' own order, as the kselftest lists them.
    order = {}
    for line in read(os.path.join(args.out, "lockdep-smp2", "results.log")) or []:
        # "# ok   <scenario>/<mode> (...": racelab_knobs's modes test.
        m = re.match(r"(?:(?:not )?ok \d+|# (?:ok|FAIL)) +([a-z-]+)/([a-z-]+) \(",
                     line)
        if m:
            order.setdefault((m.group(1), m.group(2)), len(order))
    scn_order = ["counter", "check-then-act", "torn-read", "rcu-pointer",
                 "rcu-list", "ordering", "aba", "false-sharing", "lockdep"]
    modes.sort(key=lambda k: (scn_order.index(k[0]) if k[0] in scn_order
                              else 99, order.get(k, 999)))

    fmt = "%-15s %-19s %-10s %-14s %-10s %-10s %-10s"
    print(fmt % ("scenario", "mode", "kind", "invariant", "KCSAN",
                 "lockdep", "KASAN"))
    bad = []
    for key in modes:
        kind = kinds[key]
        inv = "yes (%d)" % violations[key] if violations[key] else "no"
        if key[0] == "lockdep":
            inv = "-"
        row = (key[0], key[1], kind, inv, cell(kcsan, key, kcsan_log),
               cell(lockdep, key, base), cell(kasan, key, kasan_log))
        print(fmt % row)
        if kind in ("racy", "broken-fix") and key[0] not in ("lockdep",) \
                and key not in NO_INVARIANT and not violations[key]:
            bad.append("%s/%s: invariant never broke" % key)
        if kind == "fixed" and violations[key]:
            bad.append("%s/%s: a fixed mode broke its invariant" % key)
        if kcsan_log is not None:
            if key in EXPECT_KCSAN and not kcsan.get(key):
                bad.append("%s/%s: KCSAN report expected" % key)
            if (key in EXPECT_NO_KCSAN or kind == "fixed") and kcsan.get(key):
                bad.append("%s/%s: KCSAN report not expected" % key)
        if key[0] == "lockdep":
            if kind == "racy" and not lockdep.get(key):
                bad.append("lockdep/%s: lockdep report expected" % key[1])
            if kind == "fixed" and lockdep.get(key):
                bad.append("lockdep/%s: lockdep report not expected" % key[1])
        if kasan_log is not None and kasan.get(key):
            bad.append("%s/%s: KASAN report" % key)

    print()
    print("evidence (first report per cell):")
    for name, reports in (("KCSAN", kcsan), ("lockdep", lockdep),
                          ("KASAN", kasan)):
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
