#!/usr/bin/env python3
"""Scaling of `mpirun -n N hwnas search` on this host (issue 17), side by side in one run.

Cases (each: one warm-up run, then REPS timed runs; the median of the search's own time, as its
summary reports it, is compared; the process's wall time, with mpirun's and the workers'
start-up, is kept beside it):
  sleep     evaluations that wait: an external: trainer sleeping 50 ms per arch (latency-bound;
            ideal speed-up = number of workers)
  supernet  CPU-bound supernet accuracy (efficientformer-fmnist, 1,000 val images per subnet):
            1 process x 2 engine threads against mpirun -n 3 (2 workers x 1 thread)
  dispatch  zero-cost evaluations (table latency + MACs): rank 0's dispatch limit
Ranks: plain (no MPI), then mpirun -n 2, 3, 4 (N - 1 workers; rank 0 only dispatches), over-
subscribed on small hosts. Each mpirun run's summary gives the traffic (bytes and round trip
per evaluation). Prints a table and, with --json FILE, writes every figure.

Usage: bench/mpi_scaling.py [--hwnas build/apps/hwnas] [--reps 3] [--cases sleep,supernet,dispatch]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OPENBLAS_NUM_THREADS="1")
TRAINER = r"""import json, sys, time
for line in sys.stdin:
    r = json.loads(line)
    time.sleep(0.05)
    print(json.dumps({"id": r["id"], "accuracy": 0.5 + sum(r["arch"]["embed_dims"]) % 7 / 20}),
          flush=True)
"""


def run(hwnas, ranks, args):
    cmd = [hwnas] + args
    if ranks:
        cmd = ["mpirun", "--oversubscribe", "--mca", "btl", "self,vader", "-n", str(ranks)] + cmd
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr[-2000:]}")
    m = re.search(r"(\d+) evaluations \(.*\) in ([0-9.]+) s", p.stdout)
    traffic = re.search(r"traffic: (\d+) messages, (\d+) bytes \((\d+) per evaluation\), round "
                        r"trip (\d+) us", p.stdout)
    if not m:
        sys.exit(f"no summary line in the output of {' '.join(cmd)}")
    return wall, float(m.group(2)), int(m.group(1)), traffic


def case(hwnas, tmp, name, args, ranks_list, reps):
    rows = []
    for ranks in ranks_list:
        walls, searches, traffic, evals = [], [], None, 0
        for rep in range(reps + 1):
            out = os.path.join(tmp, f"{name}-{ranks}-{rep}")
            wall, search, evals, traffic = run(hwnas, ranks, args(ranks) + ["--out", out])
            if rep:  # rep 0 warms the caches (page cache, the supernet file, Python)
                walls.append(wall)
                searches.append(search)
        med = statistics.median(searches)
        row = {"case": name, "ranks": ranks or 1, "mpi": bool(ranks), "workers": max(ranks - 1, 1),
               "evaluations": evals, "median_s": med, "evaluations_per_s": evals / med,
               "search_s": searches, "median_wall_s": statistics.median(walls), "walls_s": walls}
        if traffic:
            row.update(bytes_per_evaluation=int(traffic.group(3)),
                       round_trip_us=int(traffic.group(4)))
        rows.append(row)
    base = rows[0]["median_s"]
    for r in rows:
        r["speedup"] = base / r["median_s"]
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hwnas", default=os.path.join(ROOT, "build/apps/hwnas"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--cases", default="sleep,supernet,dispatch")
    ap.add_argument("--json")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="hwnas-mpi-bench-")
    db = os.path.join(tmp, "t.db")
    subprocess.run([a.hwnas, "profile", "--space", "efficientformer-fmnist", "--resolution", "64",
                    "--backend", "fake", "--device", "bench", "--db", db], env=ENV, check=True,
                   capture_output=True)
    trainer = os.path.join(tmp, "trainer.py")
    with open(trainer, "w") as f:
        f.write(TRAINER)
    common = ["search", "--space", "efficientformer-fmnist", "--db", db, "--device", "bench",
              "--seed", "1", "--threads", "1"]
    supernet = os.path.join(ROOT, "data/supernets/efficientformer-fmnist.safetensors")
    cases = {
        "sleep": (lambda r: common + ["--accuracy", f"external:python3 -u {trainer}",
                                      "--budget", "48", "--population", "12"], [0, 2, 3, 4]),
        "supernet": (lambda r: common + ["--accuracy", f"supernet:{supernet}",
                                         "--accuracy-samples", "1000", "--budget", "12",
                                         "--population", "6", "--measure-threads",
                                         "1" if r else "2"], [0, 3]),
        "dispatch": (lambda r: common + ["--objectives", "latency,macs", "--budget", "3000",
                                         "--population", "100"], [0, 2, 3, 4]),
    }
    rows = []
    for name in a.cases.split(","):
        args, ranks = cases[name]
        rows += case(a.hwnas, tmp, name, args, ranks, a.reps)
    print(f"host: {os.cpu_count()} CPUs; median of {a.reps} runs after one warm-up")
    print(f"{'case':9} {'run':12} {'workers':>7} {'evals':>6} {'search s':>9} {'evals/s':>9} "
          f"{'speed-up':>8} {'wall s':>7} {'B/eval':>7} {'rtt us':>8}")
    for r in rows:
        run_name = f"mpirun -n {r['ranks']}" if r["mpi"] else "plain"
        print(f"{r['case']:9} {run_name:12} {r['workers']:>7} {r['evaluations']:>6} "
              f"{r['median_s']:>9.3f} {r['evaluations_per_s']:>9.1f} {r['speedup']:>8.2f} "
              f"{r['median_wall_s']:>7.2f} {r.get('bytes_per_evaluation', ''):>7} "
              f"{r.get('round_trip_us', ''):>8}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"cpus": os.cpu_count(), "reps": a.reps, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
