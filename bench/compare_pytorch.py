#!/usr/bin/env python3
"""hwnas engine vs PyTorch on EfficientFormer-L1 (batch 1, 224x224, fp32, CPU), in one invocation.

Runs, in interleaved rounds so that machine noise (other processes) hits every runtime alike:
  * the hwnas engine: `HWNAS measure --space efficientformer --arch l1 --threads T --json`, which
    prints {"latency_ms": median, "p10_ms", "p90_ms", "repeats", "threads"};
  * PyTorch eager and PyTorch jit (trace + freeze + optimize_for_inference, oneDNN): two
    long-lived `hwnas_tools.bench_pytorch --serve` workers (tools/hwnas_tools/bench_pytorch.py;
    built and warmed up once; each round asks them for a block of timed calls).
The order of the three rotates every round. Each runtime's figure is the median over rounds of its
per-round medians; the speed-ups are the median over rounds of the per-round ratios
PyTorch / hwnas (robust to a round hit by load), next to the ratio of the medians.
Targets: hwnas >= 2x faster than eager and >= 1.2x faster than jit. GFLOP/s = 2 x MACs / time,
with L1 = 1,291,284,736 MACs by hwnas's count; the CPU's fp32 peak is about 230 GFLOP/s on 2 cores.

Usage: bench/compare_pytorch.py [--hwnas build/apps/hwnas] [--threads 2] [--rounds 5] [--json]
Without an hwnas binary (or with --hwnas none) only PyTorch is measured.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TOOLS = os.path.join(ROOT, "tools")  # the hwnas_tools package's parent: the workers' PYTHONPATH
L1_MACS = 1_291_284_736
PEAK_GFLOPS = 230.0
TARGETS = {"eager": 2.0, "jit": 1.2}
LABELS = {"hwnas": "hwnas engine", "eager": "PyTorch eager", "jit": "PyTorch jit+oneDNN"}


def load_avg() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def nearest_rank(sorted_ms: List[float], p: float) -> float:
    """Nearest-rank percentile, as hwnas::summarize_ms computes it."""
    return sorted_ms[min(max(math.ceil(p * len(sorted_ms)), 1), len(sorted_ms)) - 1]


def torch_python(requested: Optional[str]) -> str:
    """An interpreter that imports torch: Debian's lives in /usr/bin/python3, which a pyenv or
    venv python3 on PATH can hide."""
    for py in [requested, sys.executable, "python3", "/usr/bin/python3"]:
        if py and shutil.which(py) and subprocess.run(
                [py, "-c", "import torch, numpy"], capture_output=True).returncode == 0:
            return py
    raise SystemExit("error: no python with torch and numpy found (pass --python)")


class TorchWorker:
    """A `hwnas_tools.bench_pytorch --serve` process holding one built, warmed-up model."""

    def __init__(self, python: str, mode: str, threads: int, warmup: int):
        self.mode = mode
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (TOOLS, env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            [python, "-m", "hwnas_tools.bench_pytorch", "--serve", "--modes", mode, "--threads",
             str(threads), "--warmup", str(warmup)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self._read()

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"PyTorch {self.mode} worker exited (rc {self.proc.poll()})")
        answer = json.loads(line)
        if isinstance(answer, dict) and "error" in answer:
            raise RuntimeError(f"PyTorch {self.mode} worker: {answer['error']}")
        return answer

    def time(self, calls: int) -> Dict[str, float]:
        self.proc.stdin.write(f"time {calls}\n")
        self.proc.stdin.flush()
        samples = sorted(self._read())
        return {"latency_ms": statistics.median(samples), "p10_ms": nearest_rank(samples, 0.1),
                "p90_ms": nearest_rank(samples, 0.9), "min_ms": samples[0],
                "repeats": len(samples)}

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=30)


def run_hwnas(binary: str, arch: str, threads: int) -> Dict[str, float]:
    cmd = [binary, "measure", "--space", "efficientformer", "--arch", arch, "--threads",
           str(threads), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}")
    out = json.loads(done.stdout)
    for key in ("latency_ms", "p10_ms", "p90_ms", "repeats", "threads"):
        if key not in out:
            raise RuntimeError(f"hwnas measure --json lacks {key!r}: {done.stdout.strip()}")
    if int(out["threads"]) != threads:
        raise RuntimeError(f"hwnas measured with {out['threads']} threads, asked {threads}")
    return out


def gflops(ms: float) -> float:
    return 2.0 * L1_MACS / (ms * 1e-3) / 1e9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hwnas", default=os.path.join(ROOT, "build", "apps", "hwnas"),
                        help="hwnas binary (default build/apps/hwnas; 'none': PyTorch only)")
    parser.add_argument("--arch", default="l1", help="named arch for hwnas (default l1)")
    parser.add_argument("--threads", type=int, default=2, help="threads for every runtime")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--calls", type=int, default=20,
                        help="timed PyTorch calls per mode per round (default 20)")
    parser.add_argument("--warmup", type=int, default=10, help="PyTorch warm-up calls (default 10)")
    parser.add_argument("--python", help="interpreter with torch for the PyTorch workers")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--require-targets", action="store_true",
                        help="exit 1 when a speed-up target is missed")
    args = parser.parse_args()
    if args.rounds < 1 or args.calls < 1 or args.threads < 1:
        parser.error("--rounds, --calls and --threads must be >= 1")

    have_hwnas = args.hwnas != "none" and os.access(args.hwnas, os.X_OK)
    if not have_hwnas:
        print(f"note: no hwnas binary ({args.hwnas}): measuring PyTorch only", file=sys.stderr)
    python = torch_python(args.python)
    load_before = load_avg()
    workers = {m: TorchWorker(python, m, args.threads, args.warmup) for m in ("eager", "jit")}
    runtimes = (["hwnas"] if have_hwnas else []) + ["eager", "jit"]
    per_round: Dict[str, List[Dict[str, float]]] = {r: [] for r in runtimes}
    try:
        for r in range(args.rounds):
            order = runtimes[r % len(runtimes):] + runtimes[:r % len(runtimes)]
            for rt in order:
                per_round[rt].append(run_hwnas(args.hwnas, args.arch, args.threads)
                                     if rt == "hwnas" else workers[rt].time(args.calls))
            print(f"round {r + 1}/{args.rounds}: " + ", ".join(
                f"{rt} {per_round[rt][-1]['latency_ms']:.2f} ms" for rt in runtimes),
                file=sys.stderr)
    finally:
        for w in workers.values():
            w.close()
    load_after = load_avg()

    summary: Dict[str, Dict[str, float]] = {}
    for rt in runtimes:
        rounds = per_round[rt]
        med = statistics.median(x["latency_ms"] for x in rounds)
        summary[rt] = {"latency_ms": med,
                       "p10_ms": statistics.median(x["p10_ms"] for x in rounds),
                       "p90_ms": statistics.median(x["p90_ms"] for x in rounds),
                       # The fastest call approximates an undisturbed one when others load the
                       # machine (OpenMP's spinning barriers suffer most from that).
                       "min_ms": min(x.get("min_ms", x["latency_ms"]) for x in rounds),
                       "round_medians_ms": [round(x["latency_ms"], 3) for x in rounds],
                       "gflops": gflops(med)}
    if have_hwnas:
        for m in ("eager", "jit"):
            ratios = [p["latency_ms"] / h["latency_ms"]
                      for p, h in zip(per_round[m], per_round["hwnas"])]
            summary[m]["speedup_of_hwnas"] = statistics.median(ratios)
            summary[m]["ratio_of_medians"] = summary[m]["latency_ms"] / summary["hwnas"]["latency_ms"]
            summary[m]["ratio_of_mins"] = summary[m]["min_ms"] / summary["hwnas"]["min_ms"]
            summary[m]["target"] = TARGETS[m]
            summary[m]["target_met"] = summary[m]["speedup_of_hwnas"] >= TARGETS[m]

    report = {"model": f"efficientformer_{args.arch}", "batch": 1, "resolution": 224,
              "threads": args.threads, "rounds": args.rounds, "pytorch_calls_per_round": args.calls,
              "load_avg_before": load_before, "load_avg_after": load_after, "results": summary}
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(f"EfficientFormer-{args.arch.upper()}, batch 1, 224x224, fp32, {args.threads} thread(s), "
              f"{args.rounds} interleaved rounds; load average {load_before} -> {load_after}")
        print("| runtime | median ms | p10 ms | p90 ms | min ms | GFLOP/s (median) | % of 230 peak "
              "| PyTorch / hwnas: median of per-round ratios (ratio of medians; of mins) | target |")
        print("|---|---|---|---|---|---|---|---|---|")
        for rt in runtimes:
            s = summary[rt]
            ratio = target = ""
            if rt != "hwnas" and have_hwnas:
                ratio = (f"{s['speedup_of_hwnas']:.2f}x ({s['ratio_of_medians']:.2f}x; "
                         f"{s['ratio_of_mins']:.2f}x)")
                target = f">= {s['target']}x: {'met' if s['target_met'] else 'MISSED'}"
            print(f"| {LABELS[rt]} | {s['latency_ms']:.2f} | {s['p10_ms']:.2f} | {s['p90_ms']:.2f} | "
                  f"{s['min_ms']:.2f} | {s['gflops']:.1f} | {100 * s['gflops'] / PEAK_GFLOPS:.0f} % | {ratio} | {target} |")
    if args.require_targets and have_hwnas and not all(
            summary[m]["target_met"] for m in ("eager", "jit")):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
