#!/usr/bin/env python3
"""Replays the learned latency correction's two forms on the stored validations (issue 15).

For each stored table and its validation CSV (200 subnets of seed 3103, `hwnas validate --csv`),
`hwnas_bench_correction` fits the per-kind correction (v1) and the per-kind-and-stage one (v2,
latency_correction.h) as `validate --fit-correction` does, each subnet predicted by the fit on
the other four fifths, and prints one Markdown row per validation: the host's regime (windows
within 5 %, its own tau) from the stored JSON, then RMSPE, within +-5 % and Kendall's tau of the
plain sum, v1 and v2. With --fit, a run's seed-7 CSV (bench/quiet_checks.py writes it) is the fit
set and the 200 are held out. With --speed, a second table judges v2 against each subnet's
speed factor (its group's space-reference time over the build's; the CSVs' speed_factor): fitted
on the raw medians and scaled as `validate` scales it, fitted on the medians divided by the
factors (the fit set at the build's speed) and scaled, and that fit unscaled.

  bench/correction_forms.py [--bench build/bench/hwnas_bench_correction] [--speed] [RUN ...]

A RUN is DB#DEVICE:SPACE:CSV[:FIT_CSV]; without any, the stored runs below. Run it from the
repository root: the paths are relative to it.
"""
import argparse
import json
import os
import subprocess
import sys

W = "bench/tables/epyc-zen3-2026-12-07"

# The family-25 EPYC's validations whose windows agreed within 5 % for at least 85 % of subnets
# (quiet ones first): DB#DEVICE, space, held-out CSV.
STORED = [
    (f"{W}/watch/efficientformer-fmnist.int8.183930.db#host-int8", "efficientformer-fmnist",
     f"{W}/watch/efficientformer-fmnist.int8.183930.val.csv"),
    (f"{W}/int8/efficientformer-fmnist.db#host-int8", "efficientformer-fmnist",
     f"{W}/int8/efficientformer-fmnist.int8.val.csv"),
    (f"{W}/int8/watch/efficientformer-fmnist-1035.db#host-int8", "efficientformer-fmnist",
     f"{W}/int8/watch/efficientformer-fmnist-1035.int8.val.csv"),
    (f"{W}/int8/watch/turbovit-fmnist-1031.db#host-int8", "turbovit-fmnist",
     f"{W}/int8/watch/turbovit-fmnist-1031.int8.val.csv"),
    (f"{W}/watch/turbovit-fmnist.fp32.175939.db#host", "turbovit-fmnist",
     f"{W}/watch/turbovit-fmnist.fp32.175939.val.csv"),
    (f"{W}/watch/turbovit-fmnist.fp32.180428.db#host", "turbovit-fmnist",
     f"{W}/watch/turbovit-fmnist.fp32.180428.val.csv"),
    (f"{W}/watch/turbovit-fmnist.fp32.174947.db#host", "turbovit-fmnist",
     f"{W}/watch/turbovit-fmnist.fp32.174947.val.csv"),
    (f"{W}/watch/efficientformer-fmnist.fp32.180319.db#host", "efficientformer-fmnist",
     f"{W}/watch/efficientformer-fmnist.fp32.180319.val.csv"),
]


def regime(csv):
    """(windows within 5 %, host tau) from the JSON stored beside the CSV, if any."""
    for path in (csv[:-4] + ".json", csv.replace(".val.csv", ".val.json")):
        if os.path.exists(path):
            with open(path) as f:
                rep = json.load(f).get("repeatability") or {}
            return rep.get("within_5pct"), rep.get("kendall_tau")
    return None, None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", default="build/bench/hwnas_bench_correction")
    ap.add_argument("--speed", action="store_true",
                    help="judge v2 against the speed factors instead (second table)")
    ap.add_argument("runs", nargs="*", help="DB#DEVICE:SPACE:CSV[:FIT_CSV]")
    args = ap.parse_args()
    runs = [tuple(r.split(":")) for r in args.runs] or STORED
    forms = (("stage_scaled", "norm_scaled", "stage_rows", "norm") if args.speed
             else ("plain", "kind", "stage"))
    if args.speed:
        print("| validation | windows within 5 %, host τ | v2 scaled: RMSPE / ±5 % / τ "
              "| v2 fitted at build speed, scaled | v2 over the fit's factor | v2 fitted at build "
              "speed |")
    else:
        print("| validation | windows within 5 %, host τ | plain: RMSPE / ±5 % / τ | per kind (v1) "
              "| per kind and stage (v2) |")
    print("|---|---|" + "---|" * len(forms))
    for run in runs:
        table, space, csv = run[:3]
        cmd = [args.bench, f"--table={table}", f"--space={space}", f"--validation={csv}",
               "--benchmark_format=json"]
        if len(run) > 3:
            cmd.append(f"--fit={run[3]}")
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"correction_forms: {' '.join(cmd)} failed: {out.stderr.strip()}")
        c = json.loads(out.stdout)["benchmarks"][0]
        if forms[0] + "_rmspe" not in c:
            sys.exit(f"correction_forms: {csv} (or its fit CSV) has no speed_factor column")
        w5, tau = regime(csv)
        host = "-" if w5 is None else f"{100 * w5:.1f} %, {tau:.3f}"
        cells = [f"{100 * c[f + '_rmspe']:.2f} % / {100 * c[f + '_w5']:.1f} % / {c[f + '_tau']:.3f}"
                 for f in forms]
        print(f"| {os.path.basename(csv)} | {host} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
