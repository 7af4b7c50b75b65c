#!/usr/bin/env python3
"""hwnas's engine against ONNX Runtime on the same host in one run (issue 18): EfficientFormer
l1 and N random subnets per space, each timed end to end by `hwnas measure` on both backends in
turn (engine, then ONNX Runtime, arch by arch, so both see the same stretch of host noise).
Prints per space the median and range of the ratio ONNX Runtime / engine, and with --json FILE
every figure.

Usage: bench/ort_vs_engine.py [--hwnas build/apps/hwnas] [--n 20] [--threads 2] [--repeats 20]
                              [--spaces efficientformer,elasticvit,turbovit] [--seed 1]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def hwnas(exe, *args):
    p = subprocess.run([exe, *args], capture_output=True, text=True,
                       env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    if p.returncode != 0:
        sys.exit(f"failed: hwnas {' '.join(args)}\n{p.stderr[-1500:]}")
    return p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hwnas", default=os.path.join(ROOT, "build/apps/hwnas"))
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--spaces", default="efficientformer,elasticvit,turbovit")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json")
    a = ap.parse_args()
    rows = []
    for space in a.spaces.split(","):
        archs = [("l1", "l1")] if space == "efficientformer" else []
        for i, line in enumerate(hwnas(a.hwnas, "sample", "--space", space, "--n", str(a.n),
                                       "--seed", str(a.seed)).splitlines()):
            archs.append((f"random{i}", line))
        for name, arch in archs:
            t = {}
            for backend in ("local", "onnxruntime"):
                out = hwnas(a.hwnas, "measure", "--space", space, "--arch", arch, "--backend",
                            backend, "--threads", str(a.threads), "--warmup", "5", "--repeats",
                            str(a.repeats), "--json")
                t[backend] = json.loads(out)
            rows.append({"space": space, "arch": name, "macs": t["local"]["macs"],
                         "engine_ms": t["local"]["latency_ms"],
                         "onnxruntime_ms": t["onnxruntime"]["latency_ms"],
                         "ratio": t["onnxruntime"]["latency_ms"] / t["local"]["latency_ms"]})
            print(f"{space:16} {name:9} engine {rows[-1]['engine_ms']:8.3f} ms   onnxruntime "
                  f"{rows[-1]['onnxruntime_ms']:8.3f} ms   ratio {rows[-1]['ratio']:.3f}",
                  flush=True)
    print(f"\n{a.threads} threads, batch 1, median of {a.repeats} after 5 warm-up; ratio = "
          "ONNX Runtime / engine (< 1: ONNX Runtime faster)")
    for space in a.spaces.split(","):
        r = [x["ratio"] for x in rows if x["space"] == space]
        print(f"{space:16} {len(r):3} archs: median ratio {statistics.median(r):.3f}, "
              f"range {min(r):.3f}-{max(r):.3f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"threads": a.threads, "repeats": a.repeats, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
