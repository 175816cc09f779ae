#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge one lab boot.

Reads <logdir>/results.log (the guest's results channel: sections between
"RACELAB-BEGIN <name>" and "RACELAB-END <name> rc=<n>"), parses each KTAP
section (kunit-<suite>: one KUnit suite's results; kselftest-<test>) with
the kernel's own tools/testing/kunit/kunit.py, scans
<logdir>/console.log for kernel reports nobody expected, and checks that
QEMU neither timed out nor lost the guest's final sentinel.

Writes <logdir>/judge.json and prints one summary row per section.
Exit status: 0 if nothing failed.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

# Kernel reports that fail a boot unless a test expected them.
CONSOLE_REPORTS = [
    r"BUG:",
    r"WARNING:",
    r"Oops",
    r"Kernel panic",
    r"general protection fault",
    r"possible circular locking dependency",
    r"possible recursive locking",
    r"inconsistent lock state",
    r"suspicious RCU usage",
    r"DEBUG_LOCKS_WARN_ON",
    r"turning off the locking correctness validator",
    r"sleeping function called from invalid context",
    r"scheduling while atomic",
    r"soft lockup",
    r"hard LOCKUP",
    r"INFO: task .* blocked for more than",
    r"rcu: INFO: .* detected stalls",
    r"detected stall",
    r"UBSAN:",
]

# kunit.py's names for a skipped case.
SKIPPED = ("SKIP", "SKIPPED")


def sections(text):
    """Yield (name, rc, body) for every complete section."""
    cur, body = None, []
    for line in text.splitlines():
        m = re.match(r"^RACELAB-BEGIN (\S+)", line)
        if m:
            cur, body = m.group(1), []
            continue
        m = re.match(r"^RACELAB-END (\S+) rc=(\d+)", line)
        if m and cur == m.group(1):
            yield cur, int(m.group(2)), "\n".join(body) + "\n"
            cur = None
            continue
        if cur:
            body.append(line)


def leaf_cases(group, prefix=""):
    """Flatten kunit.py's JSON into (name, status) of every leaf case."""
    name = prefix + group.get("name", "")
    for case in group.get("test_cases", []):
        yield name + "." + case["name"], case["status"]
    for sub in group.get("sub_groups", []):
        yield from leaf_cases(sub, name + ".")


def all_skipped(cases, out):
    """kunit.py parse exits 1 when a document's overall status is not a
    success, a SKIPPED document included (a suite whose every case skips
    on this kernel: the KCSAN cases without KCSAN). True for that case
    alone: every case skipped, and kunit.py reported no error."""
    return bool(cases) and all(s in SKIPPED for _, s in cases) and \
        not any(w in out for w in ("ERROR", "CRASHED", "FAILED"))


def parse_ktap(kunit_py, body):
    """Run kunit.py parse on one KTAP document: (cases, kunit.py output)."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "section.ktap")
        out = os.path.join(tmp, "section.json")
        with open(src, "w") as f:
            f.write(body)
        proc = subprocess.run(
            [sys.executable, kunit_py, "parse", "--json=" + out, src],
            capture_output=True, text=True)
        cases, suites = [], []
        if os.path.exists(out):
            with open(out) as f:
                doc = json.load(f)
            cases = list(leaf_cases(doc))
            suites = [g.get("name") for g in doc.get("sub_groups", [])]
        return cases, suites, proc.stdout + proc.stderr, proc.returncode


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("logdir")
    ap.add_argument("--kunit-py", required=True)
    ap.add_argument("--label", default="boot")
    ap.add_argument("--expect", action="append", default=[],
                    help="section that must be present (repeatable)")
    ap.add_argument("--must-run", action="append", default=[],
                    help="section of which at least one case must pass "
                    "(a kernel with the detector skips none of them)")
    ap.add_argument("--allow", action="append", default=[],
                    help="console regex a test expects (repeatable)")
    ap.add_argument("--expect-console", action="append", default=[],
                    help="text that must appear on the console; lines with it "
                         "are expected reports (repeatable)")
    args = ap.parse_args()

    results = os.path.join(args.logdir, "results.log")
    console = os.path.join(args.logdir, "console.log")
    text = open(results, errors="replace").read() if os.path.exists(results) else ""
    rows = []   # (section, passed, failed, skipped, note)
    failures = []

    seen = set()
    for name, rc, body in sections(text):
        seen.add(name)
        if name.startswith("kunit") or name.startswith("kselftest"):
            cases, suites, out, prc = parse_ktap(args.kunit_py, body)
            p = sum(1 for _, s in cases if s == "PASS")
            s = sum(1 for _, s in cases if s in SKIPPED)
            f = len(cases) - p - s
            note = ""
            # kunit-<suite>: one KUnit suite's own KTAP document.
            suite = name[len("kunit-"):] if name.startswith("kunit-") else None
            if not cases:
                f += 1
                note = "no test parsed"
                failures.append("%s: %s" % (name, note))
            elif suite and suite not in suites:
                f += 1
                note = "suite %s not in its document (%s)" % (
                    suite, ",".join(suites) or "none")
                failures.append("%s: %s" % (name, note))
            elif name in args.must_run and p == 0:
                f += 1
                note = "every case skipped, where they must run"
                failures.append("%s: %s" % (name, note))
                failures.extend("  " + l for l in out.splitlines()
                                if "SKIP" in l)
            elif rc != 0 or (prc != 0 and not all_skipped(cases, out)):
                if f == 0:
                    f += 1
                note = "exit %d, kunit.py %d" % (rc, prc)
            for cname, st in cases:
                if st != "PASS" and st not in SKIPPED:
                    failures.append("%s: %s %s" % (name, cname, st))
            if f:
                failures.extend("  " + l for l in out.splitlines()
                                if "FAILED" in l or "CRASHED" in l
                                or "ERROR" in l)
            rows.append((name, p, f, s, note))
        else:
            ok = rc == 0
            first = body.strip().splitlines()[0] if body.strip() else ""
            rows.append((name, int(ok), int(not ok), 0, first))
            if not ok:
                failures.append("%s: %s" % (name, body.strip()))

    for name in args.expect:
        if name not in seen:
            rows.append((name, 0, 1, 0, "section missing"))
            failures.append("%s: section missing from results" % name)

    # QEMU and the guest's sentinel.
    status = open(os.path.join(args.logdir, "qemu-status")).read().strip() \
        if os.path.exists(os.path.join(args.logdir, "qemu-status")) else "?"
    done = "RACELAB-GUEST-DONE" in text
    ok = status == "exit=0" and done
    rows.append(("qemu+sentinel", int(ok), int(not ok), 0,
                 "qemu %s, sentinel %s" % (status, "seen" if done else "MISSING")))
    if not ok:
        failures.append("qemu: %s, sentinel %s" % (status, done))

    # Unexpected kernel reports on the console.
    clog = open(console, errors="replace").read() if os.path.exists(console) else ""
    allowed = [re.compile(a) for a in args.allow] + \
        [re.compile(re.escape(e)) for e in args.expect_console]
    for e in args.expect_console:
        seen_line = next((l.strip() for l in clog.splitlines() if e in l), None)
        rows.append(("expect: " + e[:40], int(bool(seen_line)),
                     int(not seen_line), 0, (seen_line or "NOT SEEN")[:60]))
        if not seen_line:
            failures.append("console: expected '%s' not seen" % e)
    bad = []
    for line in clog.splitlines():
        if any(re.search(p, line) for p in CONSOLE_REPORTS) and \
           not any(a.search(line) for a in allowed):
            bad.append(line.strip())
    rows.append(("console-reports", int(not bad), int(bool(bad)), 0,
                 "%d unexpected report line(s)" % len(bad)))
    failures.extend("console: " + l for l in bad[:20])

    passed = sum(r[1] for r in rows)
    failed = sum(r[2] for r in rows)
    skipped = sum(r[3] for r in rows)
    print("---- %s" % args.label)
    print("%-32s %7s %7s %7s  %s" % ("section", "passed", "failed", "skipped", "note"))
    for r in rows:
        print("%-32s %7d %7d %7d  %s" % r)
    for f in failures:
        print("FAIL %s: %s" % (args.label, f))
    with open(os.path.join(args.logdir, "judge.json"), "w") as f:
        json.dump({"label": args.label, "passed": passed, "failed": failed,
                   "skipped": skipped, "rows": rows, "failures": failures}, f,
                  indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
