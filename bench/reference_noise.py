#!/usr/bin/env python3
"""How far a validation's figures are bound by the noise of its own measured reference.

`hwnas validate --csv` lists each subnet's window medians (column window_ms). This replays the
validation's figures (within +-10 %, +-5 %, Kendall tau, RMSPE) against references pooled from
k of the windows, k = 1 .. all, averaged over every choice of k windows. If the figures climb
with k, the measurement, not the table, bounds them, and a validation with more windows
(`--windows`) judges the table more fairly; if they stay flat, the table's own error does.

  bench/reference_noise.py [--predictor corrected] VAL_CSV [VAL_CSV ...]

Pure Python (no numpy), so that it runs with any python3.
"""
import argparse
import csv
import itertools
import math
import statistics
import sys


def kendall_tau_b(a, b):
    """Kendall's tau-b (ties counted as in hwnas's kendall_tau_b); O(n^2)."""
    n = len(a)
    concordant = discordant = ties_a = ties_b = 0
    for i in range(n):
        for j in range(i + 1, n):
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
    denom = math.sqrt((concordant + discordant + ties_a) * (concordant + discordant + ties_b))
    return 0.0 if denom == 0 else (concordant - discordant) / denom


def figures(measured, predicted):
    err = [p / m - 1 for p, m in zip(predicted, measured)]
    n = len(err)
    return {"within_10pct": sum(abs(e) <= 0.10 for e in err) / n,
            "within_5pct": sum(abs(e) <= 0.05 for e in err) / n,
            "kendall_tau": kendall_tau_b(predicted, measured),
            "rmspe": math.sqrt(sum(e * e for e in err) / n)}


def read(path, predictor):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or "window_ms" not in rows[0]:
        sys.exit(f"reference_noise: {path} has no window_ms column (written by hwnas validate "
                 "--csv since 2026-12-08); validate again with --csv")
    column = "corrected_ms" if predictor == "corrected" else "predicted_ms"
    if any(not r[column] for r in rows):
        sys.exit(f"reference_noise: {path} has no {column} for every subnet; use --predictor plain")
    windows = [[float(x) for x in r["window_ms"].split(";")] for r in rows]
    if any(len(w) != len(windows[0]) or len(w) < 2 for w in windows):
        sys.exit(f"reference_noise: {path}: every subnet needs the same number (>= 2) of windows")
    return [float(r[column]) for r in rows], [float(r["measured_ms"]) for r in rows], windows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("csv", nargs="+")
    ap.add_argument("--predictor", choices=("plain", "corrected"), default="plain")
    args = ap.parse_args()
    print("| validation | reference | ±10 % | ±5 % | τ | RMSPE |")
    print("|---|---|---|---|---|---|")
    for path in args.csv:
        predicted, pooled, windows = read(path, args.predictor)
        count = len(windows[0])
        for k in range(1, count + 1):
            runs = [figures([statistics.median(w[i] for i in chosen) for w in windows], predicted)
                    for chosen in itertools.combinations(range(count), k)]
            mean = {key: statistics.fmean(r[key] for r in runs) for key in runs[0]}
            print(f"| {path} | median of {k} of {count} windows | {100 * mean['within_10pct']:.1f} %"
                  f" | {100 * mean['within_5pct']:.1f} % | {mean['kendall_tau']:.3f} | "
                  f"{100 * mean['rmspe']:.2f} % |")
        f = figures(pooled, predicted)
        print(f"| {path} | pooled (measured_ms) | {100 * f['within_10pct']:.1f} % | "
              f"{100 * f['within_5pct']:.1f} % | {f['kendall_tau']:.3f} | {100 * f['rmspe']:.2f} % |")


if __name__ == "__main__":
    main()
