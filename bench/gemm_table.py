#!/usr/bin/env python3
"""The side-by-side GEMM table from hwnas_bench_gemm's JSON (bench/README.md).

    build-bench/bench/hwnas_bench_gemm --benchmark_out=gemm.json --benchmark_out_format=json
    bench/gemm_table.py gemm.json

One row per shape, one column per backend: GFLOP/s, the median over repetitions of the
`gflops` counter (the median aggregate; without aggregates, the median of the repetitions'
values), then the fastest backend at 1 and at 2 threads.
"""
import argparse
import json
import statistics
import sys


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("json", nargs="?", default="-", help="benchmark JSON (default: stdin)")
    args = ap.parse_args()
    doc = json.load(sys.stdin if args.json == "-" else open(args.json, encoding="utf-8"))

    values = {}   # (shape, backend) -> [gflops]
    medians = {}  # (shape, backend) -> gflops from the median aggregate
    where = {}
    shapes, backends = [], []
    # Registration order (shape outer, backend inner), whatever order interleaving ran them in.
    for b in sorted(doc["benchmarks"], key=lambda b: b.get("family_index", 0)):
        parts = b.get("run_name", b["name"]).split("/")
        if len(parts) < 3 or parts[0] != "gemm" or "gflops" not in b:
            continue
        shape, backend = parts[1], parts[2]
        if shape not in shapes:
            shapes.append(shape)
        if backend not in backends:
            backends.append(backend)
        if b.get("label"):
            where[shape] = b["label"]
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[(shape, backend)] = b["gflops"]
        else:
            values.setdefault((shape, backend), []).append(b["gflops"])
    for key, v in values.items():
        medians.setdefault(key, statistics.median(v))

    ctx = doc.get("context", {})
    print(f"GFLOP/s (2*m*k*n / time; median over repetitions), {ctx.get('cpu_model', '?')}, "
          f"hwnas {ctx.get('hwnas_git_hash', '?')}, {ctx.get('date', '?')}\n")
    print("| m | k | n | where | " + " | ".join(backends) + " | best 1t | best 2t |")
    print("|---|---|---|---|" + "---|" * len(backends) + "---|---|")
    for shape in shapes:
        m, k, n = shape.split("x")
        cells, best = [], {}
        for be in backends:
            g = medians.get((shape, be))
            cells.append("" if g is None else f"{g:.1f}")
            t = be.rsplit("_", 1)[-1]
            if g is not None and g > best.get(t, ("", 0.0))[1]:
                best[t] = (be, g)
        print(f"| {m} | {k} | {n} | {where.get(shape, '')} | " + " | ".join(cells) +
              f" | {best.get('1t', ('',))[0]} | {best.get('2t', ('',))[0]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
