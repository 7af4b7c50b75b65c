#!/usr/bin/env python3
"""Replays every few-shot pair stored in bench/tables/ (issue 18), for one or two builds.

Each pair is a source table, a target device's full table and, where one was taken, the
target's end-to-end validation CSV. `hwnas_bench_few_shot` chooses the blocks a budget measures,
takes their rows from the full table, fits the transfer model and predicts the rest. This
script runs it for every pair and prints one Markdown row per pair and budget: within +-10 %
and Kendall tau-b against the full table, the same end to end, and the model's leave-one-out
error. With --baseline (the bench binary of another build, e.g. before a change to the transfer
model), both builds run in the same invocation, and each cell shows "baseline -> bench".

  bench/few_shot_pairs.py --bench build/bench/hwnas_bench_few_shot \
      [--baseline /tmp/old/hwnas_bench_few_shot] [--budget 1,2,5,10,20] [--pair xcpu-ev ...]
      [--fit-weight 0|1|2] [--ceilings]

--fit-weight passes the transfer model's sample weights to --bench (not to the baseline, which
may predate it): 0 equal (v3), 1 the usage share, 2 its square root (v4, the command's and the
bench's default). --ceilings prints, instead, one
row per pair of what any budget lies between: the source's own ranking (no target row), the
smallest budget's tau, and the model fitted on every row of the full table (bench_few_shot.cpp's
source_tau and oracle_* counters).

Run it from the repository root: the table paths are relative to it.
"""
import argparse
import json
import subprocess
import sys

A = "bench/tables/epyc-avx2-2026-12-06"
Z = "bench/tables/epyc-zen3-2026-12-07"

# name: (description, source, target, space, resolution, validation CSV or None)
PAIRS = {
    "xcpu-ev": ("family 23 -> 25, elasticvit", f"{A}/elasticvit.db#host",
                f"{Z}/elasticvit.db#host", "elasticvit", 224, f"{Z}/elasticvit.val.csv"),
    "xcpu-evf": ("family 23 -> 25, elasticvit-fmnist", f"{A}/elasticvit-fmnist.db#host",
                 f"{Z}/elasticvit-fmnist.db#host", "elasticvit-fmnist", 128,
                 f"{Z}/elasticvit-fmnist.val.csv"),
    "xcpu-tvf": ("family 23 -> 25, turbovit-fmnist", f"{A}/turbovit-fmnist.db#host",
                 f"{Z}/turbovit-fmnist.db#host", "turbovit-fmnist", 64,
                 f"{Z}/turbovit-fmnist.val.csv"),
    "xcpu-eff": ("family 23 -> 25, efficientformer-fmnist", f"{A}/efficientformer-fmnist.db#host",
                 f"{Z}/efficientformer-fmnist.db#host", "efficientformer-fmnist", 64,
                 f"{Z}/efficientformer-fmnist.val.csv"),
    "xcpu-eff3": ("family 23 -> 25, efficientformer-fmnist, round 3",
                  f"{A}/efficientformer-fmnist.db#host", f"{Z}/round3/efficientformer-fmnist.db#host",
                  "efficientformer-fmnist", 64, f"{Z}/round3/efficientformer-fmnist.val.csv"),
    "xcpu-evf3": ("family 23 -> 25, elasticvit-fmnist, round 3",
                  f"{A}/elasticvit-fmnist.db#host", f"{Z}/round3/elasticvit-fmnist.db#host",
                  "elasticvit-fmnist", 128, f"{Z}/round3/elasticvit-fmnist.val.csv"),
    "xcpu-tvf3": ("family 23 -> 25, turbovit-fmnist, round 3",
                  f"{A}/turbovit-fmnist.db#host", f"{Z}/round3/turbovit-fmnist.db#host",
                  "turbovit-fmnist", 64, f"{Z}/round3/turbovit-fmnist.val.csv"),
    "rev-ev": ("family 25 -> 23, elasticvit", f"{Z}/elasticvit.db#host", f"{A}/elasticvit.db#host",
               "elasticvit", 224, None),
    "rev-evf": ("family 25 -> 23, elasticvit-fmnist", f"{Z}/elasticvit-fmnist.db#host",
                f"{A}/elasticvit-fmnist.db#host", "elasticvit-fmnist", 128, None),
    "rev-tvf": ("family 25 -> 23, turbovit-fmnist", f"{Z}/turbovit-fmnist.db#host",
                f"{A}/turbovit-fmnist.db#host", "turbovit-fmnist", 64, None),
    "rev-eff": ("family 25 -> 23, efficientformer-fmnist", f"{Z}/efficientformer-fmnist.db#host",
                f"{A}/efficientformer-fmnist.db#host", "efficientformer-fmnist", 64, None),
    "thr-z3": ("2 -> 1 thread, family 25, elasticvit", f"{Z}/elasticvit-2threads.db#host",
               f"{Z}/elasticvit.db#host", "elasticvit", 224, f"{Z}/elasticvit.val.csv"),
    "thr-f23": ("2 -> 1 thread, family 23, elasticvit", f"{A}/elasticvit-2threads.db#host",
                f"{A}/elasticvit.db#host", "elasticvit", 224, None),
    "ort-z3": ("engine -> ORT, family 25, elasticvit", f"{Z}/elasticvit.db#host",
               f"{Z}/ort-elasticvit.db#onnxruntime", "elasticvit", 224,
               f"{Z}/ort-elasticvit.val.csv"),
    "i8-effz3": ("fp32 -> int8, family 25, efficientformer-fmnist",
                 f"{Z}/int8/efficientformer-fmnist.db#host",
                 f"{Z}/int8/efficientformer-fmnist.db#host-int8", "efficientformer-fmnist", 64,
                 f"{Z}/int8/efficientformer-fmnist.int8.val.csv"),
    "i8-evfz3": ("fp32 -> int8, family 25, elasticvit-fmnist",
                 f"{Z}/int8/elasticvit-fmnist.db#host", f"{Z}/int8/elasticvit-fmnist.db#host-int8",
                 "elasticvit-fmnist", 128, f"{Z}/int8/elasticvit-fmnist.int8.val.csv"),
    "i8-tvfz3": ("fp32 -> int8, family 25, turbovit-fmnist",
                 f"{Z}/int8/turbovit-fmnist.db#host", f"{Z}/int8/turbovit-fmnist.db#host-int8",
                 "turbovit-fmnist", 64, f"{Z}/int8/turbovit-fmnist.int8.val.csv"),
    # Built by a watcher that waited for calm stretches (2026-12-07 10:25-11:55 UTC): fp32 then
    # int8 table back to back in one file, then seed 3103's 200 int8 subnets; the .val.json
    # beside each says the regime. 1031 was quiet, 1044 the same space in noise.
    "i8-tvfz3q": ("fp32 -> int8, family 25, turbovit-fmnist, quiet (10:31)",
                  f"{Z}/int8/watch/turbovit-fmnist-1031.db#host",
                  f"{Z}/int8/watch/turbovit-fmnist-1031.db#host-int8", "turbovit-fmnist", 64,
                  f"{Z}/int8/watch/turbovit-fmnist-1031.int8.val.csv"),
    "i8-tvfz3n": ("fp32 -> int8, family 25, turbovit-fmnist, noisy (10:44)",
                  f"{Z}/int8/watch/turbovit-fmnist-1044.db#host",
                  f"{Z}/int8/watch/turbovit-fmnist-1044.db#host-int8", "turbovit-fmnist", 64,
                  f"{Z}/int8/watch/turbovit-fmnist-1044.int8.val.csv"),
    "i8-effz3n": ("fp32 -> int8, family 25, efficientformer-fmnist, noisy (10:35)",
                  f"{Z}/int8/watch/efficientformer-fmnist-1035.db#host",
                  f"{Z}/int8/watch/efficientformer-fmnist-1035.db#host-int8",
                  "efficientformer-fmnist", 64,
                  f"{Z}/int8/watch/efficientformer-fmnist-1035.int8.val.csv"),
    "rep-ev": ("round 2 -> round 1, family 25, elasticvit", f"{Z}/round2/elasticvit.db#host",
               f"{Z}/elasticvit.db#host", "elasticvit", 224, f"{Z}/elasticvit.val.csv"),
    "rep-evf": ("round 2 -> round 1, family 25, elasticvit-fmnist",
                f"{Z}/round2/elasticvit-fmnist.db#host", f"{Z}/elasticvit-fmnist.db#host",
                "elasticvit-fmnist", 128, f"{Z}/elasticvit-fmnist.val.csv"),
}


def replay(bench, pair, budgets, extra=()):
    """{budget: counters} of one bench binary on one pair (an error message for a refused one)."""
    _, source, target, space, resolution, csv = PAIRS[pair]
    cmd = [bench, f"--source={source}", f"--target={target}", f"--space={space}",
           f"--resolution={resolution}", "--weighted=1", f"--budget={budgets}",
           "--benchmark_format=json", *extra]
    if csv:
        cmd.append(f"--validation={csv}")
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"few_shot_pairs: {' '.join(cmd)} failed: {run.stderr.strip()}")
    out = {}
    for b in json.loads(run.stdout)["benchmarks"]:
        budget = int(b["name"].split("budget_pct:")[1].split("/")[0])
        out[budget] = b.get("error_message") if b.get("error_occurred") else b
    return out


def cell(rows, key, fmt):
    """"a -> b" over the builds' values of one counter ("-" where absent)."""
    values = []
    for r in rows:
        v = r.get(key) if isinstance(r, dict) else None
        values.append("-" if v is None else fmt(v))
    return "-" if all(v == "-" for v in values) else " -> ".join(values)


def print_ceilings(bench, pairs, budgets, extra, pct, tau):
    """One row per pair: the source's ranking, the budget's, and the model fitted on every row."""
    first = budgets.split(",")[0]
    print(f"| pair | source table alone: tau | {first} %: tau | every row fitted: tau | every row"
          " fitted: row RMSPE | nearest same-kind residuals: correlation |")
    print("|---|---|---|---|---|---|")
    for pair in pairs:
        r = replay(bench, pair, first, extra)[int(first)]
        if isinstance(r, str):
            print(f"| {PAIRS[pair][0]} | refused: {r} | | | | |")
            continue
        print(f"| {PAIRS[pair][0]} | {tau(r['source_tau'])} | {tau(r['full_tau'])} | "
              f"{tau(r['oracle_tau'])} | {pct(r['oracle_rmspe'])} | {r['oracle_nn_corr']:.2f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", default="build/bench/hwnas_bench_few_shot")
    ap.add_argument("--baseline", help="another build's hwnas_bench_few_shot, shown first")
    ap.add_argument("--budget", default="1,2,5,10,20", help="percents, comma-separated")
    ap.add_argument("--pair", action="append", choices=sorted(PAIRS), help="default: all")
    ap.add_argument("--fit-weight", type=int, choices=[0, 1, 2])
    ap.add_argument("--ceilings", action="store_true")
    args = ap.parse_args()
    pct = lambda v: f"{100 * v:.1f} %"
    tau = lambda v: f"{v:.3f}"
    extra = [f"--fit-weight={args.fit_weight}"] if args.fit_weight is not None else []
    if args.ceilings:
        print_ceilings(args.bench, args.pair or list(PAIRS), args.budget, extra, pct, tau)
        return
    benches = ([args.baseline] if args.baseline else []) + [args.bench]
    print("| pair | budget | full table: within +-10 % | full table: tau | end to end: within"
          " +-10 % | end to end: tau | leave-one-out error |")
    print("|---|---:|---|---|---|---|---|")
    for pair in args.pair or list(PAIRS):
        results = [replay(b, pair, args.budget, extra if i == len(benches) - 1 else ())
                   for i, b in enumerate(benches)]
        for budget in sorted(results[-1]):
            rows = [r.get(budget) for r in results]
            if all(isinstance(r, str) for r in rows):
                print(f"| {PAIRS[pair][0]} | {budget} % | refused: {rows[-1]} | | | | |")
                continue
            print(f"| {PAIRS[pair][0]} | {budget} % | {cell(rows, 'full_w10', pct)} | "
                  f"{cell(rows, 'full_tau', tau)} | {cell(rows, 'e2e_w10', pct)} | "
                  f"{cell(rows, 'e2e_tau', tau)} | {cell(rows, 'model_cv', pct)} |")


if __name__ == "__main__":
    main()
