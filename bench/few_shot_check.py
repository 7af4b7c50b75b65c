#!/usr/bin/env python3
"""Checks latency tables against end-to-end measurements already taken (issue 18).

`hwnas validate --csv` on a device's full table writes each subnet's arch and measured median.
This script predicts the same archs from other tables of that device (a few-shot table, the
full one) with `hwnas predict`, so every table is judged on the same measurements, with no
host drift between them. It prints, per table: subnets, RMSPE, the share within +-10 %, Kendall
tau-b, and the median error. Every table after the first is also judged against the first
table's predictions (give the full table first): the few-shot target's "against the full table"
for the real command, whose measured rows are its own.

  bench/few_shot_check.py --hwnas build/apps/hwnas --space efficientformer \
      --csv v_e1t.csv --table engine.db#e1t --table fs_e1t.db#e1t
"""
import argparse
import csv
import json
import math
import statistics
import subprocess
import sys


def kendall_tau_b(a, b):
    """Kendall's tau-b (ties counted as tau-b does), O(n^2)."""
    concordant = discordant = ties_a = ties_b = 0
    for i in range(len(a)):
        for j in range(i + 1, len(a)):
            da, db = a[i] - a[j], b[i] - b[j]
            if da == 0 and db == 0:
                continue
            if da == 0:
                ties_a += 1
            elif db == 0:
                ties_b += 1
            elif (da > 0) == (db > 0):
                concordant += 1
            else:
                discordant += 1
    n0 = concordant + discordant
    denom = math.sqrt((n0 + ties_a) * (n0 + ties_b))
    return (concordant - discordant) / denom if denom else 0.0


def predict(hwnas, space, table, arch):
    db, _, device = table.partition("#")
    out = subprocess.run(
        [hwnas, "predict", "--space", space, "--db", db, "--device", device, "--arch", arch,
         "--json"], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"hwnas predict failed on {table}: {out.stderr.strip()}")
    return json.loads(out.stdout)["latency_ms"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hwnas", default="build/apps/hwnas")
    ap.add_argument("--space", required=True)
    ap.add_argument("--csv", required=True, help="hwnas validate --csv output")
    ap.add_argument("--table", action="append", required=True, help="DB#DEVICE, repeatable")
    args = ap.parse_args()
    with open(args.csv, newline="") as f:
        rows = list(csv.DictReader(f))
    measured = [float(r["measured_ms"]) for r in rows]
    first = None
    for table in args.table:
        pred = [predict(args.hwnas, args.space, table, r["arch"]) for r in rows]
        err = [p / m - 1 for p, m in zip(pred, measured)]
        out = {
            "table": table, "subnets": len(rows),
            "rmspe": math.sqrt(sum(e * e for e in err) / len(err)),
            "within_10pct": sum(abs(e) <= 0.10 for e in err) / len(err),
            "kendall_tau": kendall_tau_b(pred, measured),
            "median_error": statistics.median(err)}
        if first is None:
            first = pred
        else:
            out["vs_first_within_10pct"] = sum(
                abs(p / f - 1) <= 0.10 for p, f in zip(pred, first)) / len(pred)
            out["vs_first_kendall_tau"] = kendall_tau_b(pred, first)
        print(json.dumps(out))


if __name__ == "__main__":
    main()
