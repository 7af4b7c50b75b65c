#!/usr/bin/env python3
"""Several writers on one latency table (issue 14, section 5): four `hwnas profile` processes
started together on one new table file, on four different spaces and then all on the same
space, for several rounds. Every process must succeed without "database is locked", the file
must pass integrity_check, and the table must hold exactly the rows of a sequential run: each
block once, with the same values.

Usage: writers_test.py HWNAS [--rounds N]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check, integrity, latency_rows, run_ok, workdir  # noqa

DIFFERENT = [("efficientformer", "224"), ("elasticvit", "224"), ("elasticvit", "160"),
             ("turbovit", "224")]
SAME = [("efficientformer", "224")] * 4


def cmd(hwnas, db, space, res):
    return [hwnas, "profile", "--backend", "fake", "--space", space, "--resolution", res,
            "--db", db, "--overhead-networks", "2", "--seed", "3"]


def reference(hwnas, tmp, jobs, name):
    db = os.path.join(tmp, name)
    for space, res in dict.fromkeys(jobs):
        run_ok(cmd(hwnas, db, space, res))
    return latency_rows(db, "fake")


def round_of(hwnas, db, jobs):
    """Starts the four writers together; returns (seconds, [(code, stderr)])."""
    t0 = time.monotonic()
    procs = [subprocess.Popen(cmd(hwnas, db, s, r), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for s, r in jobs]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        outs.append((p.returncode, err))
    return time.monotonic() - t0, outs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("hwnas")
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    tmp = workdir("hwnas-writers-")
    t0 = time.monotonic()
    summary = {}
    try:
        for label, jobs in (("different-spaces", DIFFERENT), ("same-space", SAME)):
            ref = reference(a.hwnas, tmp, jobs, "ref-%s.db" % label)
            secs = []
            for rnd in range(a.rounds):
                db = os.path.join(tmp, "%s-%d.db" % (label, rnd))
                s, outs = round_of(a.hwnas, db, jobs)
                secs.append(s)
                for i, (code, err) in enumerate(outs):
                    check("locked" not in err and "busy" not in err.lower(),
                          "%s round %d writer %d saw: %s" % (label, rnd, i, err.strip()[-500:]))
                    check(code == 0, "%s round %d writer %d exited %d: %s"
                          % (label, rnd, i, code, err.strip()[-500:]))
                check(integrity(db) == "ok", "%s round %d: integrity_check" % (label, rnd))
                rows = latency_rows(db, "fake")  # also checks that no key is stored twice
                check(rows == ref, "%s round %d: %d rows, a sequential run stores %d (missing "
                      "%s)" % (label, rnd, len(rows), len(ref), sorted(set(ref) - set(rows))[:3]))
            summary[label] = {"writers": len(jobs), "rounds": a.rounds, "rows": len(ref),
                              "failures": 0, "locked_messages": 0,
                              "max_round_s": round(max(secs), 2)}
            print("writers %s: %s" % (label, json.dumps(summary[label])), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("writers summary: %d rounds of 4 concurrent `hwnas profile` on one file, every row "
          "once, 0 'database is locked', %.1f s" % (2 * a.rounds, time.monotonic() - t0))


if __name__ == "__main__":
    main()
