#!/usr/bin/env python3
"""A full disk (issue 14, section 5), simulated with a file size limit (`ulimit -f`, i.e.
RLIMIT_FSIZE: portable, needs no mount). `hwnas profile`, `hwnas search` and `hwnas export` each
run into existing data under a limit their writes exceed. Each must exit non-zero (not be killed
by SIGXFSZ) with a one-line error that names the file and says how to fix it, and leave the data
already there intact: the old table or run still opens, passes integrity_check and has its rows;
an old export file is unchanged and no temporary is left.

Usage: fulldisk_test.py HWNAS
"""
import argparse
import json
import os
import resource
import shutil
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import check, integrity, latency_rows, run, run_ok, workdir  # noqa

LIMIT = 64 << 10  # bytes; above SQLite's 32 KiB shared-memory file, below what each run writes
EXPORT_LIMIT = LIMIT  # the exported CSV of 500 evaluations is larger


def limited(nbytes):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))


def expect_clean_failure(what, args, needles, limit=LIMIT):
    code, out, err, secs = run(args, preexec_fn=limited(limit))
    check(code > 0, "%s under a %d-byte file size limit exited %d (negative: killed by a signal)"
          " instead of failing cleanly; stderr: %s" % (what, limit, code, err.strip()[-500:]))
    lines = [l for l in err.splitlines() if l.strip() and not l.startswith("profile: ")
             and not l.startswith("generation ")]
    check(len(lines) == 1, "%s: expected one error line, got %r" % (what, lines))
    line = lines[0]
    check(line.startswith("error: "), "%s: %r is not an error line" % (what, line))
    for n in needles:
        check(n in line, "%s: error line lacks %r: %s" % (what, n, line))
    print("fulldisk %s: exit %d, %s" % (what, code, line), flush=True)
    return {"exit": code, "error": line}


def run_evaluations(path):
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=30)
    try:
        return con.execute("SELECT genes, objectives FROM evaluations ORDER BY id").fetchall()
    finally:
        con.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("hwnas")
    a = ap.parse_args()
    h = a.hwnas
    tmp = workdir("hwnas-fulldisk-")
    t0 = time.monotonic()
    results = {}
    try:
        # profile: an existing table of one space, then another space under the limit.
        db = os.path.join(tmp, "t.db")
        prof = [h, "profile", "--backend", "fake", "--db", db, "--overhead-networks", "2"]
        run_ok(prof + ["--space", "efficientformer"])
        before = latency_rows(db, "fake")
        results["profile"] = expect_clean_failure(
            "profile", prof + ["--space", "elasticvit", "--resolution", "224"],
            [db, "free space or choose another --db"])
        check(integrity(db) == "ok", "profile: table fails integrity_check after the failure")
        after = latency_rows(db, "fake")
        check(all(after.get(k) == v for k, v in before.items()),
              "profile: rows that were there before the failure changed or vanished")
        results["profile"]["rows_before"] = len(before)
        results["profile"]["rows_after"] = len(after)
        # ... and once space is back, the same command completes the table.
        run_ok(prof + ["--space", "elasticvit", "--resolution", "224"])
        # A new table under the limit fails the same way.
        results["profile_new_table"] = expect_clean_failure(
            "profile (new table)", prof[:5] + [os.path.join(tmp, "new.db")] + prof[6:] +
            ["--space", "turbovit"], ["new.db", "free space or choose another --db"])

        # search: a finished run, resumed with a larger budget under the limit.
        out = os.path.join(tmp, "run")
        search = [h, "search", "--db", db, "--device", "fake", "--budget", "500", "--population",
                  "20", "--seed", "5", "--threads", "1", "--out", out]
        run_ok(search)
        with open(os.path.join(out, "front.json"), "rb") as f:
            front_before = f.read()
        evals_before = run_evaluations(os.path.join(out, "run.db"))
        results["search"] = expect_clean_failure(
            "search --resume", [h, "search", "--out", out, "--resume", "--budget", "5000"],
            [os.path.join(out, "run.db"), "free space or choose another --out"])
        check(integrity(os.path.join(out, "run.db")) == "ok", "search: run.db integrity_check")
        evals_after = run_evaluations(os.path.join(out, "run.db"))
        check(evals_after[:len(evals_before)] == evals_before,
              "search: evaluations stored before the failure changed")
        with open(os.path.join(out, "front.json"), "rb") as f:
            check(f.read() == front_before, "search: front.json changed although the run failed")
        run_ok([h, "export", "--run", out, "--format", "json", "--out",
                os.path.join(tmp, "still-readable.json")])
        results["search"]["evaluations_before"] = len(evals_before)
        results["search"]["evaluations_after"] = len(evals_after)
        results["search_new_run"] = expect_clean_failure(
            "search (new run)", search[:-1] + [os.path.join(tmp, "run2")],
            ["run2", "free space or choose another --out"])

        # export: an existing output file, replaced under the limit.
        csv = os.path.join(tmp, "evaluations.csv")
        old = b"old export\n"
        with open(csv, "wb") as f:
            f.write(old)
        big = [h, "export", "--run", out, "--format", "csv", "--out", csv]
        results["export"] = expect_clean_failure(
            "export", big, [csv, "choose another --out"], limit=EXPORT_LIMIT)
        with open(csv, "rb") as f:
            check(f.read() == old, "export: the old file changed")
        check(not os.path.exists(csv + ".tmp"), "export: the temporary file was left behind")
        run_ok(big)
        check(os.path.getsize(csv) > EXPORT_LIMIT, "export: the csv is smaller than the limit, so the "
              "test did not exercise a failed write")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("fulldisk summary: %d commands under a %d KiB (export: %d KiB) file size limit, each "
          "exit %s with one error line naming the file and the fix; old data intact; %.1f s"
          % (len(results), LIMIT >> 10, EXPORT_LIMIT >> 10,
             sorted({r["exit"] for r in results.values()}),
             time.monotonic() - t0))


if __name__ == "__main__":
    main()
