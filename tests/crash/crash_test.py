#!/usr/bin/env python3
"""Hard stops lose nothing: SIGKILL `hwnas profile`, `hwnas search` and `hwnas export` at
seeded random moments and check what they leave behind (issue 14, section 4).

  profile: after each kill the table passes PRAGMA integrity_check, no block is stored twice,
           every stored row equals the uninterrupted run's row; resuming ends with exactly the
           uninterrupted run's rows and calibration.
  search:  after each kill run.db passes integrity_check and front.json is absent or complete;
           --resume ends with the uninterrupted run's front.json (members, objectives, counts)
           and the same evaluations in run.db.
  export:  after each kill every output file is the old one or the complete new one.

Usage: crash_test.py HWNAS [--kills N] [--seed S] [--only profile,search,export]
"""
import argparse
import filecmp
import json
import os
import random
import shutil
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (check, integrity, latency_rows, calibrations, run_and_kill, run_ok,  # noqa
                    workdir)

# One profile: the blocks of three spaces at several resolutions through the fake backend, one
# process each, so that the whole lasts about a second and kills land all along it.
PROFILE_SPACES = [("efficientformer", "224"), ("elasticvit", "128"), ("elasticvit", "160"),
                  ("elasticvit", "192"), ("elasticvit", "224"), ("elasticvit", "256"),
                  ("turbovit", "224")]
# A cheap search: LUT latency and MACs, one thread (deterministic and light on 2 cores).
SEARCH_ARGS = ["--algorithm", "nsga2", "--budget", "2000", "--population", "40", "--seed", "7",
               "--threads", "1"]
EXPORTS = [("json", "export.json"), ("csv", "evaluations.csv"), ("svg", "front.svg"),
           ("html", "report.html")]


def profile_cmds(hwnas, db):
    # One process per space, in sequence: a kill may land in any of them.
    return [[hwnas, "profile", "--backend", "fake", "--space", s, "--resolution", r, "--db", db,
             "--overhead-networks", "2", "--seed", "3"] for s, r in PROFILE_SPACES]


def run_profile_chain(cmds, kill_at=None):
    """Runs the commands in order; with kill_at, SIGKILLs whichever runs at that moment.
    Returns True if the kill landed."""
    t0 = time.monotonic()
    for c in cmds:
        if kill_at is None:
            run_ok(c)
            continue
        left = kill_at - (time.monotonic() - t0)
        if left <= 0:
            return False
        if run_and_kill(c, left):
            return True
    return False


def comparable(cal):
    """The calibrations without the reference networks' lists of windows (L1's and the space's
    own): every session that measured rows adds its windows, so the list depends on where the
    kills landed; its median (the fake device's constant) must not."""
    out = dict(cal)
    for name, value in cal.items():
        if name.startswith(("reference:", "space_reference:")):
            out[name] = {k: v for k, v in value.items() if k != "window_ms"}
    return out


def test_profile(hwnas, rng, kills, tmp):
    ref = os.path.join(tmp, "ref.db")
    t0 = time.monotonic()
    run_profile_chain(profile_cmds(hwnas, ref))
    full = time.monotonic() - t0
    ref_rows = latency_rows(ref, "fake")
    ref_cal = calibrations(ref, "fake")
    check(len(ref_rows) > 100, "reference table holds only %d rows" % len(ref_rows))
    landed = resumes = partial = 0
    chains = max(1, kills // 4)
    done = 0
    for chain in range(chains):
        db = os.path.join(tmp, "crash%d.db" % chain)
        per_chain = kills // chains + (1 if chain < kills % chains else 0)
        prev = 0
        chain_landed = 0
        while chain_landed < per_chain:
            # Uniform over an uninterrupted run; a draw after the rerun finished is no kill.
            at = rng.uniform(0.0, full * 1.1)
            hit = run_profile_chain(profile_cmds(hwnas, db), at)
            landed += hit
            chain_landed += hit
            done += 1
            check(done < 10 * kills, "profile: too few kills land while the command runs")
            if not os.path.exists(db):
                continue
            check(integrity(db) == "ok", "profile kill %d: integrity_check of %s is %r"
                  % (done, db, integrity(db)))
            rows = latency_rows(db, "fake")
            partial += 0 < len(rows) < len(ref_rows)
            for k, v in rows.items():
                check(ref_rows.get(k) == v, "profile kill %d: row %s = %r, uninterrupted %r"
                      % (done, k, v, ref_rows.get(k)))
            check(len(rows) >= prev, "profile kill %d: rows went from %d to %d"
                  % (done, prev, len(rows)))
            prev = len(rows)
        run_profile_chain(profile_cmds(hwnas, db))
        rows = latency_rows(db, "fake")
        check(rows == ref_rows, "profile chain %d: resumed table has %d rows, uninterrupted %d "
              "(missing %s, extra %s)" % (chain, len(rows), len(ref_rows),
                                          sorted(set(ref_rows) - set(rows))[:3],
                                          sorted(set(rows) - set(ref_rows))[:3]))
        cal = calibrations(db, "fake")
        check(comparable(cal) == comparable(ref_cal), "profile chain %d: calibration differs: "
              "%r vs %r" % (chain, comparable(cal), comparable(ref_cal)))
        check(integrity(db) == "ok", "profile chain %d: final integrity_check" % chain)
        resumes += 1
    return {"kills": landed, "draws_after_finish": done - landed,
            "left_partial_table": partial, "integrity_ok": done, "resumes_identical": resumes,
            "chains": chains, "rows": len(ref_rows), "run_s": round(full, 2)}


def comparable_front(path):
    with open(path) as f:
        j = json.load(f)
    # What may differ between a resumed and an uninterrupted run: the flag saying so.
    j.pop("resumed", None)
    return j


def run_db_evaluations(path):
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)
    try:
        return con.execute("SELECT genes, objectives, constraints, feasible FROM evaluations "
                           "ORDER BY id").fetchall()
    finally:
        con.close()


def search_step_cmd(hwnas, table, out):
    """The command a user reruns after a crash: --resume once run.db exists, else the start."""
    if os.path.exists(os.path.join(out, "run.db")):
        return [hwnas, "search", "--out", out, "--resume"]
    return [hwnas, "search", "--db", table, "--device", "fake", "--out", out] + SEARCH_ARGS


def check_search_dir(out, what):
    db = os.path.join(out, "run.db")
    if os.path.exists(db):
        check(integrity(db) == "ok", "%s: integrity_check of run.db is %r" % (what, integrity(db)))
    front = os.path.join(out, "front.json")
    if os.path.exists(front):
        with open(front) as f:
            try:
                json.load(f)
            except ValueError as e:
                check(False, "%s: front.json is not complete JSON (%s)" % (what, e))
    for name in os.listdir(out):
        check(not name.endswith(".html") or open(os.path.join(out, name)).read().rstrip()
              .endswith("</html>"), "%s: %s is cut short" % (what, name))


def test_search(hwnas, rng, kills, tmp):
    table = os.path.join(tmp, "table.db")
    run_ok([hwnas, "profile", "--backend", "fake", "--space", "efficientformer", "--db", table,
            "--overhead-networks", "0"])
    ref = os.path.join(tmp, "search-ref")
    t0 = time.monotonic()
    run_ok(search_step_cmd(hwnas, table, ref))
    full = time.monotonic() - t0
    ref_front = comparable_front(os.path.join(ref, "front.json"))
    ref_evals = run_db_evaluations(os.path.join(ref, "run.db"))
    check(len(ref_front["members"]) > 3, "reference front has too few members")
    landed = resumes = done = 0
    chains = max(1, kills // 4)
    for chain in range(chains):
        out = os.path.join(tmp, "search%d" % chain)
        per_chain = kills // chains + (1 if chain < kills % chains else 0)
        chain_landed = 0
        while chain_landed < per_chain:
            hit = run_and_kill(search_step_cmd(hwnas, table, out), rng.uniform(0.0, full * 1.1))
            landed += hit
            chain_landed += hit
            done += 1
            check(done < 10 * kills, "search: too few kills land while the command runs")
            if os.path.isdir(out):
                check_search_dir(out, "search kill %d" % done)
        run_ok(search_step_cmd(hwnas, table, out))
        got = comparable_front(os.path.join(out, "front.json"))
        diff = sorted(k for k in set(got) | set(ref_front) if got.get(k) != ref_front.get(k))
        check(not diff, "search chain %d: resumed front.json differs from the uninterrupted "
              "run in %s" % (chain, diff))
        check(run_db_evaluations(os.path.join(out, "run.db")) == ref_evals,
              "search chain %d: run.db evaluations differ from the uninterrupted run" % chain)
        for name in os.listdir(os.path.join(ref, "members")):
            check(filecmp.cmp(os.path.join(ref, "members", name),
                              os.path.join(out, "members", name), shallow=False),
                  "search chain %d: members/%s differs" % (chain, name))
        resumes += 1
    return {"kills": landed, "draws_after_finish": done - landed,
            "resumes_identical": resumes, "chains": chains, "run_s": round(full, 2),
            "evaluations": len(ref_evals), "front": len(ref_front["members"])}, ref


def test_export(hwnas, rng, kills, tmp, run_dir):
    old = b"OLD CONTENT, NOT AN EXPORT\n"
    new = {}
    secs = {}
    for fmt, name in EXPORTS:
        path = os.path.join(tmp, "new-" + name)
        t0 = time.monotonic()
        run_ok([hwnas, "export", "--run", run_dir, "--format", fmt, "--out", path])
        secs[fmt] = time.monotonic() - t0
        with open(path, "rb") as f:
            new[fmt] = f.read()
        # Exports are deterministic, or the old/new comparison below would be meaningless.
        run_ok([hwnas, "export", "--run", run_dir, "--format", fmt, "--out", path])
        with open(path, "rb") as f:
            check(f.read() == new[fmt], "export %s is not deterministic" % fmt)
    outcomes = {"old": 0, "new": 0}
    landed = done = 0
    while landed < kills:
        check(done < 10 * kills, "export: too few kills land while the command runs")
        fmt, name = EXPORTS[done % len(EXPORTS)]
        path = os.path.join(tmp, "out-" + name)
        with open(path, "wb") as f:
            f.write(old)
        hit = run_and_kill([hwnas, "export", "--run", run_dir, "--format", fmt, "--out", path],
                           rng.uniform(0.0, secs[fmt] * 1.1))
        landed += hit
        done += 1
        with open(path, "rb") as f:
            got = f.read()
        check(got in (old, new[fmt]), "export kill %d (%s): %s is neither the old file nor the "
              "complete new one (%d bytes; new has %d)" % (done, fmt, path, len(got),
                                                          len(new[fmt])))
        if hit:
            outcomes["old" if got == old else "new"] += 1
        else:
            check(got == new[fmt], "export %s finished but left the old file" % fmt)
    return {"kills": landed, "draws_after_finish": done - landed,
            "left_old": outcomes["old"], "left_new": outcomes["new"], "partial": 0,
            "run_s": {k: round(v, 2) for k, v in secs.items()}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("hwnas")
    ap.add_argument("--kills", type=int, default=24, help="SIGKILLs per command")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--only", default="profile,search,export")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    tmp = workdir("hwnas-crash-")
    only = a.only.split(",")
    t0 = time.monotonic()
    results = {}
    try:
        if "profile" in only:
            results["profile"] = test_profile(a.hwnas, rng, a.kills, tmp)
            print("crash profile: %s" % json.dumps(results["profile"]), flush=True)
        if "search" in only or "export" in only:
            results["search"], run_dir = test_search(
                a.hwnas, rng, a.kills if "search" in only else 0, tmp)
            if "search" in only:
                print("crash search: %s" % json.dumps(results["search"]), flush=True)
            if "export" in only:
                results["export"] = test_export(a.hwnas, rng, a.kills, tmp, run_dir)
                print("crash export: %s" % json.dumps(results["export"]), flush=True)
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    total = sum(r["kills"] for r in results.values())
    print("crash summary: %d SIGKILLs (%s), 0 corrupt tables, 0 partial files, every resume "
          "identical to the uninterrupted run, %.1f s (seed %d)"
          % (total, ", ".join("%s %d" % (k, v["kills"]) for k, v in results.items()),
             time.monotonic() - t0, a.seed))


if __name__ == "__main__":
    main()
