#!/usr/bin/env python3
"""Times EfficientFormer-L1 (batch 1, 224x224, fp32, CPU) in PyTorch: the baseline hwnas's engine
is compared against (bench/compare_pytorch.py).

The model is hwnas_tools.efficientformer_ref's, which reproduces timm's efficientformer_l1 (weights
from ../shared/golden/efficientformer_l1.safetensors when present, else seeded random ones). Modes:
  eager  plain module under torch.inference_mode();
  jit    torch.jit.trace + torch.jit.freeze + torch.jit.optimize_for_inference (oneDNN layouts
         and fusions), run under torch.no_grad().
Method (the same as hwnas's, DESIGN.md "Measurement method"): warm-up calls, then timed calls
(time.perf_counter) until both --repeats calls and --min-time-s have run; median, p10, p90
(nearest rank). Thread count: torch.set_num_threads(T), with OMP_NUM_THREADS=T and
OPENBLAS_NUM_THREADS=1 set before torch is imported (OpenBLAS keeps its own pool, and two pools
of T threads on T cores make timings erratic).

Usage (from the repository root, PYTHONPATH=tools; M = python3 -m hwnas_tools.bench_pytorch):
  M [--threads T] [--modes eager,jit]   # JSON on stdout, a summary on stderr
  M --serve --modes jit --threads T     # worker for compare_pytorch.py: reads "time N" lines on
      stdin, answers one JSON list of N per-call times (ms) per line.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from typing import Callable, Dict, List

from hwnas_tools import SHARED_GOLDEN  # torch-free: the thread variables are set before torch

DEFAULT_WEIGHTS = os.path.join(SHARED_GOLDEN, "efficientformer_l1.safetensors")


def percentile(sorted_ms: List[float], p: float) -> float:
    """Nearest-rank percentile, as hwnas::summarize_ms computes it."""
    rank = min(max(math.ceil(p * len(sorted_ms)), 1), len(sorted_ms))
    return sorted_ms[rank - 1]


def summarize(samples_ms: List[float]) -> Dict[str, float]:
    s = sorted(samples_ms)
    n = len(s)
    median = s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])
    return {"latency_ms": median, "p10_ms": percentile(s, 0.1), "p90_ms": percentile(s, 0.9),
            "min_ms": s[0], "repeats": n}


def blas_info(torch) -> Dict[str, str]:
    """What torch's BLAS really is: its build info and the library the process mapped."""
    config = torch.__config__.show()
    m = re.search(r"BLAS_INFO=([^,\s]+)", config)
    dnnl = re.search(r"(MKL-DNN v[\d.]+|oneDNN v[\d.]+)", config)
    torch.ones(64, 64) @ torch.ones(64, 64)  # make sure the BLAS is loaded
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if re.search(r"lib(open)?blas|libdnnl|libmkl", os.path.basename(path)):
                    libs.add(os.path.realpath(path))
    except OSError:
        pass
    return {"build_blas_info": m.group(1) if m else "?", "onednn": dnnl.group(1) if dnnl else "?",
            "mapped_libs": ", ".join(sorted(libs)) or "?"}


def build_runner(mode: str, weights: str, seed: int) -> Callable[[], None]:
    """Returns a callable doing one forward pass of L1 on a fixed input in the given mode."""
    import numpy as np
    import torch

    from hwnas_tools import efficientformer_ref as ref
    from hwnas_tools.tensor_io import load_weights, read_safetensors

    model = ref.EfficientFormer(ref.NAMED["l1"]).eval()
    if weights and os.path.exists(weights):
        load_weights(model, read_safetensors(weights)[0])
    else:
        ref.randomise(model, seed)
    x = torch.from_numpy(np.random.default_rng(seed).standard_normal((1, 3, 224, 224),
                                                                      dtype=np.float32))
    if mode == "eager":
        def call():
            with torch.inference_mode():
                model(x)
        return call
    if mode == "jit":
        with torch.no_grad():
            traced = torch.jit.trace(model, x)
            fast = torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))
            # A fast path that computes something else is no baseline.
            diff = (fast(x) - model(x)).abs().max().item()
        if diff > 1e-3:
            raise RuntimeError(f"jit output differs from eager by {diff}")

        def call():
            with torch.no_grad():
                fast(x)
        return call
    raise ValueError(f"unknown mode {mode!r} (eager, jit)")


def time_calls(call: Callable[[], None], warmup: int, repeats: int, min_time_s: float) -> List[float]:
    for _ in range(warmup):
        call()
    samples: List[float] = []
    total = 0.0
    while len(samples) < repeats or total < min_time_s:
        t0 = time.perf_counter()
        call()
        dt = time.perf_counter() - t0
        samples.append(dt * 1e3)
        total += dt
    return samples


def serve(call: Callable[[], None]) -> int:
    """Worker loop for compare_pytorch.py: one request per line, one JSON answer per line."""
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        if words[0] == "time" and len(words) == 2:
            n = int(words[1])
            print(json.dumps([round(ms, 5) for ms in time_calls(call, 0, n, 0.0)]), flush=True)
        else:
            print(json.dumps({"error": f"bad request {line.strip()!r}"}), flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads (default 2)")
    parser.add_argument("--modes", default="eager,jit", help="comma-separated: eager, jit")
    parser.add_argument("--warmup", type=int, default=10, help="untimed calls first (default 10)")
    parser.add_argument("--repeats", type=int, default=30, help="min timed calls (default 30)")
    parser.add_argument("--min-time-s", type=float, default=2.0, help="min timed seconds (default 2)")
    parser.add_argument("--weights", default=DEFAULT_WEIGHTS,
                        help="L1 safetensors (default ../shared/golden/...; random if absent)")
    parser.add_argument("--seed", type=int, default=0, help="input (and random weights) seed")
    parser.add_argument("--serve", action="store_true", help="worker mode (one mode only)")
    args = parser.parse_args()
    if args.threads < 1:
        parser.error("--threads must be >= 1")
    modes = [m for m in args.modes.split(",") if m]

    # Before torch is imported: OpenMP and OpenBLAS read these once, at load time.
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)

    if args.serve:
        if len(modes) != 1:
            parser.error("--serve takes exactly one mode")
        call = build_runner(modes[0], args.weights, args.seed)
        for _ in range(args.warmup):
            call()
        return serve(call)

    report = {"model": "efficientformer_l1", "batch": 1, "resolution": 224,
              "threads": args.threads, "torch": torch.__version__, "blas": blas_info(torch),
              "weights": args.weights if os.path.exists(args.weights) else f"random seed {args.seed}",
              "modes": {}}
    for mode in modes:
        samples = time_calls(build_runner(mode, args.weights, args.seed), args.warmup,
                             args.repeats, args.min_time_s)
        report["modes"][mode] = summarize(samples)
    print(json.dumps(report, indent=1))
    print(f"torch {report['torch']}, {args.threads} thread(s), BLAS {report['blas']}", file=sys.stderr)
    for mode, st in report["modes"].items():
        print(f"  {mode:5s} median {st['latency_ms']:.2f} ms  p10 {st['p10_ms']:.2f}  "
              f"p90 {st['p90_ms']:.2f}  ({st['repeats']} calls)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
