"""Does the supernet rank subnets like stand-alone training does? (issue 20)

The standard quality check of a weight-sharing supernet: take --subnets subnets of --space spread
over its cost range (the family's named s, m, l plus seeded random ones), train each FROM
SCRATCH as a plain model with a fixed, small budget, and evaluate every subnet twice in hwnas's
C++ engine (``hwnas eval``, test split):
  (a) sliced from the committed supernet (data/supernets/<space>.safetensors), BN-recalibrated
      (the engine's default: the first 512 `train` images in key order, batches of 64);
  (b) with its own stand-alone weights, recalibrated the same way by default (--standalone-bn
      recal; so the two differ only in the weights), or with the statistics kept from training
      (--standalone-bn trained, i.e. ``hwnas eval --no-recalibrate``).
Then Kendall's tau-b and Spearman's rho (average ranks for ties) between the two top-1 lists.

Cost proxy: MACs as hwnas's engine counts them (``hwnas describe --json``). Subnet choice:
--pool archs drawn alternately with the family's ``sample_arch`` (random.Random(--seed)) and its
training sampler (``subnet_sampler(--seed)``: uniform, or ElasticViT's complexity-aware levels,
which reach the small archs uniform draws miss); the named s, m, l are always in; the other
subnets are the unused pool archs nearest to --subnets - 3 targets spaced evenly in log MACs over
the range of the pool and the named archs; the list is sorted by MACs.

Stand-alone training (the supernet trainer's data and optimiser, hwnas_tools.train's helpers):
the `train` split (split seed 0), the contract's preprocessing, random horizontal flips, batches
drawn from seeded permutations; cross-entropy on the labels; AdamW (peak lr 1e-3, weight decay
0.05, none on 1-D tensors and the family's NO_DECAY_SUFFIXES), --warmup-steps linear warm-up,
cosine decay over --steps; layer scales initialised to 0.1 as in the supernet; the same seed
(init, batch order, flips) for every subnet, so every subnet sees the same images in the same
order. Weights: <out>/<tag>.safetensors (the plain model's state dict, timm / official names, no
integer buffers), reused when the file's metadata matches the arch and budget (--retrain: train
again). Result: <out>/rank_check.json (written after every subnet, write-then-rename) and a
markdown table on stdout.

On a GPU machine without hwnas (tools/README.md, "Training on a GPU machine"): --select-only
here writes the pool's MACs, --train-only --costs FILE --device cuda [--time-budget-min M] there
trains, and the plain command here with the same --steps / --batch reuses the weights.

Usage (from the repository root; tools/README.md, "Rank check", has the budgets used):
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 PYTHONPATH=tools nice -n 5 /usr/bin/python3 \\
      -m hwnas_tools.rank_check --space S [--subnets 10] [--steps N] [--batch B] [--out DIR]
  ... -m hwnas_tools.rank_check --self-test [--hwnas PATH]    (CTest Tools.RankCheck)
Exit status: 0 on success, 1 when a self-test check fails, 2 on bad input, 77 without numpy/torch.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import random
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence

# Before torch loads: OpenMP and OpenBLAS size their pools once.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from hwnas_tools import REPO_ROOT, require_torch  # noqa: E402

require_torch()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from hwnas_tools import fmnist_data, spaces, train  # noqa: E402
from hwnas_tools.tensor_io import float_state, read_header, write_safetensors  # noqa: E402

DEFAULT_HWNAS = os.path.join(REPO_ROOT, "build", "apps", "hwnas")
NAMED_ORDER = ("s", "m", "l")
# Per-space default budget (steps at batch), sized for ~2-3 min per subnet on one core of the
# shared 2-core machine (tools/README.md, "Rank check", says how they were timed).
DEFAULT_BUDGET = {"efficientformer-fmnist": (400, 64), "turbovit-fmnist": (300, 64),
                  "elasticvit-fmnist": (150, 32)}
# --time-budget-min: steps timed on the costliest subnet, and the share of the budget planned
# (other processes sharing a GPU finish at other times, so a step's cost drifts).
TIMING_STEPS, SAFETY = 40, 0.8


class InputError(Exception):
    """Bad input: one line on stderr, exit status 2."""


# ------------------------------------------------------------------------------------------------
# Rank correlations (no scipy).

def average_ranks(values: Sequence[float]) -> List[float]:
    """Ranks 1..n of ``values``; tied values share the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def kendall_tau_b(x: Sequence[float], y: Sequence[float]) -> float:
    """Kendall's tau-b: sum over pairs of sign(dx) sign(dy), divided by sqrt(pairs untied in x *
    pairs untied in y); nan when either list is constant (or has fewer than 2 entries)."""
    if len(x) != len(y):
        raise ValueError("kendall_tau_b: lists of different lengths")
    num, nx, ny = 0, 0, 0
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            sx = (x[i] > x[j]) - (x[i] < x[j])
            sy = (y[i] > y[j]) - (y[i] < y[j])
            num += sx * sy
            nx += sx * sx
            ny += sy * sy
    return num / math.sqrt(nx * ny) if nx and ny else float("nan")


def spearman_rho(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rho: Pearson's correlation of the average ranks; nan for a constant list."""
    if len(x) != len(y):
        raise ValueError("spearman_rho: lists of different lengths")
    rx, ry = average_ranks(x), average_ranks(y)
    mx, my = sum(rx) / len(rx) if rx else 0.0, sum(ry) / len(ry) if ry else 0.0
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    vx = sum((a - mx) ** 2 for a in rx)
    vy = sum((b - my) ** 2 for b in ry)
    return cov / math.sqrt(vx * vy) if vx and vy else float("nan")


# ------------------------------------------------------------------------------------------------
# The engine (hwnas describe / eval).

def run_hwnas(hwnas: str, args: List[str]) -> Dict[str, object]:
    """``hwnas ARGS --json``'s JSON object; RuntimeError with the engine's message on failure."""
    proc = subprocess.run([hwnas] + args + ["--json"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join([os.path.relpath(hwnas)] + args)} exited "
                           f"{proc.returncode}: {(proc.stderr or proc.stdout).strip()}")
    return json.loads(proc.stdout)


def macs_of(hwnas: str, space: str, arch_json: Dict[str, object]) -> Dict[str, int]:
    """{"macs", "params"} as the engine counts them."""
    out = run_hwnas(hwnas, ["describe", "--space", space, "--arch", json.dumps(arch_json)])
    return {"macs": int(out["macs"]), "params": int(out["params"])}


# ------------------------------------------------------------------------------------------------
# Subnet selection.

def arch_key(fam, arch) -> str:
    return json.dumps(fam.arch_json(arch), sort_keys=True)


def select_subnets(fam, count: int, seed: int, pool: int,
                   cost: Callable[[object], float]) -> List[Dict[str, object]]:
    """``count`` subnets sorted by ``cost``: the named s, m, l and ``count - 3`` of ``pool`` archs
    drawn alternately with ``fam.sample_arch`` (random.Random(seed)) and the family's training
    sampler (``fam.subnet_sampler(seed)``), each the unused one nearest to a
    target spaced evenly in log cost over the range of the pool and the named archs. Entries:
    {"tag", "arch", "cost"}; tags s / m / l, r01, r02, ... (in cost order)."""
    if count < len(NAMED_ORDER):
        raise InputError(f"--subnets must be at least {len(NAMED_ORDER)} (s, m, l)")
    named = {name: fam.NAMED[name] for name in NAMED_ORDER}
    chosen = {arch_key(fam, a): {"tag": n, "arch": a, "cost": cost(a)} for n, a in named.items()}
    rng = random.Random(seed)
    sampler = fam.subnet_sampler(seed)
    candidates: Dict[str, Dict[str, object]] = {}
    for i in range(pool):
        # Half uniform over the space, half from the supernet training's own sampler (the same
        # for uniform families; ElasticViT's complexity-aware levels reach the small archs that
        # uniform draws almost never give).
        a = fam.sample_arch(rng) if i % 2 == 0 else sampler.next(1)[1][0]
        key = arch_key(fam, a)
        if key not in chosen and key not in candidates:
            candidates[key] = {"tag": None, "arch": a, "cost": cost(a)}
    if len(candidates) < count - len(chosen):
        raise InputError(f"only {len(candidates)} distinct sampled archs for {count} subnets "
                         f"(raise --pool)")
    logs = [math.log(e["cost"]) for e in list(chosen.values()) + list(candidates.values())]
    lo, hi = min(logs), max(logs)
    extra = count - len(chosen)
    for i in range(extra):
        target = lo + (i + 0.5) / extra * (hi - lo)
        key = min(candidates, key=lambda k: (abs(math.log(candidates[k]["cost"]) - target), k))
        chosen[key] = candidates.pop(key)
    out = sorted(chosen.values(), key=lambda e: (e["cost"], arch_key(fam, e["arch"])))
    r = 0
    for e in out:
        if e["tag"] is None:
            r += 1
            e["tag"] = f"r{r:02d}"
    return out


# ------------------------------------------------------------------------------------------------
# Stand-alone training.

def train_standalone(fam, arch, images, labels, steps: int, batch: int,
                     seed: int, lr: float, weight_decay: float, warmup_steps: int,
                     layer_scale_init: float, log_every: int = 50,
                     device: str = "cpu") -> Dict[str, object]:
    """Trains ``fam.plain_model(arch)`` from scratch (module docstring) on ``device``, the split
    as ``train.to_device`` gives it; returns {"model" (on ``device``), "final_loss" (mean of the
    last 10 steps), "train_s", "step_s" (median seconds per step)}."""
    torch.manual_seed(seed)
    np_rng = np.random.default_rng(seed)
    model = fam.plain_model(arch)
    train.init_layer_scales(model, layer_scale_init)
    model.to(device)
    model.train()
    opt = torch.optim.AdamW(train.param_groups(model, weight_decay, fam.NO_DECAY_SUFFIXES), lr=lr)
    stream = train.BatchStream(images.shape[0], batch, np_rng)
    start = time.time()
    losses: List[float] = []
    step_s: List[float] = []
    for step in range(steps):
        t0 = time.time()
        x, y = train.training_batch(fam, images, labels, stream.next(), np_rng)
        for group in opt.param_groups:
            group["lr"] = train.learning_rate(lr, step, warmup_steps, step / steps)
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        step_s.append(time.time() - t0)
        if (step + 1) % log_every == 0 or step + 1 == steps:
            print(f"    step {step + 1}/{steps} loss {np.mean(losses[-log_every:]):.4f} "
                  f"{time.time() - start:.0f} s", flush=True)
    model.eval()
    return {"model": model, "final_loss": float(np.mean(losses[-10:])),
            "train_s": time.time() - start, "step_s": float(np.median(step_s))}


def steps_for_budget(fam, selection, images, labels, args) -> int:
    """--time-budget-min: the step count that trains every selected subnet within the budget on
    this device, as now loaded: the median step time of the costliest subnet over
    TIMING_STEPS steps (weights discarded), times the subnet count, with SAFETY headroom for
    load changes; rounded down to 50 and capped at --steps. Every subnet then trains that same
    fixed count (the check's budget is steps x batch, not time)."""
    largest = max(selection, key=lambda e: e["cost"])
    probe = train_standalone(fam, largest["arch"], images, labels, TIMING_STEPS, args.batch,
                             args.seed, args.lr, args.weight_decay, args.warmup_steps,
                             args.layer_scale_init, log_every=TIMING_STEPS, device=args.device)
    budget_s = args.time_budget_min * 60 * SAFETY - probe["train_s"]
    steps = int(budget_s / (len(selection) * probe["step_s"]) // 50 * 50)
    steps = min(steps, args.steps) if args.steps_given else steps
    print(f"time budget {args.time_budget_min:g} min: costliest subnet {largest['tag']} "
          f"{probe['step_s'] * 1e3:.1f} ms/step -> {steps} steps per subnet", flush=True)
    if steps < 50:
        raise InputError(f"--time-budget-min {args.time_budget_min:g} leaves {steps} steps per "
                         f"subnet on {args.device} (give more minutes or fewer --subnets)")
    return steps


def budget_metadata(args, entry) -> Dict[str, str]:
    return {"space": args.space, "arch": json.dumps(entry["arch_json"], sort_keys=True),
            "budget": json.dumps({"steps": args.steps, "batch": args.batch, "seed": args.seed,
                                  "lr": args.lr, "weight_decay": args.weight_decay,
                                  "warmup_steps": args.warmup_steps,
                                  "layer_scale_init": args.layer_scale_init}, sort_keys=True)}


def write_json_atomic(path: str, data: object) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def fmt(v: Optional[float], digits: int = 2) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def markdown_table(result: Dict[str, object]) -> str:
    lines = ["| subnet | MMACs | params (M) | supernet top-1 (%) | stand-alone top-1 (%) | "
             "train (s) |", "|---|---:|---:|---:|---:|---:|"]
    for e in result["subnets"]:
        lines.append(f"| {e['tag']} | {e['macs'] / 1e6:.1f} | {e['params'] / 1e6:.3f} | "
                     f"{fmt(e.get('supernet_top1') and 100 * e['supernet_top1'])} | "
                     f"{fmt(e.get('standalone_top1') and 100 * e['standalone_top1'])} | "
                     f"{fmt(e.get('train_s'), 0)} |")
    lines.append("")
    lines.append(f"Kendall tau-b {fmt(result.get('kendall_tau_b'), 3)}, Spearman rho "
                 f"{fmt(result.get('spearman_rho'), 3)} over {result.get('ranked', 0)} subnets")
    return "\n".join(lines)


def correlations(result: Dict[str, object]) -> None:
    done = [e for e in result["subnets"]
            if e.get("supernet_top1") is not None and e.get("standalone_top1") is not None]
    a = [e["supernet_top1"] for e in done]
    b = [e["standalone_top1"] for e in done]
    result["ranked"] = len(done)
    tau, rho = kendall_tau_b(a, b), spearman_rho(a, b)
    result["kendall_tau_b"] = None if math.isnan(tau) else tau
    result["spearman_rho"] = None if math.isnan(rho) else rho


def rank_check(args) -> int:
    fam = spaces.family(args.space)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    wall0 = time.time()
    costs: Dict[str, Dict[str, int]] = {}

    if args.costs:
        with open(args.costs) as f:
            costs.update(json.load(f))

    def cost(arch) -> float:
        key = arch_key(fam, arch)
        if key not in costs:
            if not args.hwnas_ok:
                raise InputError(f"no MACs for {key} in --costs {args.costs} and no hwnas binary "
                                 f"(make the file with --select-only where hwnas is built)")
            costs[key] = macs_of(args.hwnas, args.space, fam.arch_json(arch))
        return float(costs[key]["macs"])

    selection = select_subnets(fam, args.subnets, args.seed, args.pool, cost)
    if args.select_only:
        write_json_atomic(os.path.join(args.out, "costs.json"), costs)
        for e in selection:
            print(f"{e['tag']:4s} MMACs {e['cost'] / 1e6:8.1f} {json.dumps(fam.arch_json(e['arch']))}")
        print(f"wrote {os.path.join(args.out, 'costs.json')} (MACs of {len(costs)} archs)")
        return 0
    eval_samples = args.eval_samples
    budget = {"steps": args.steps, "batch": args.batch, "images": args.steps * args.batch,
              "epochs_of_train": None, "optimizer": f"AdamW lr {args.lr:g} wd "
              f"{args.weight_decay:g}, {args.warmup_steps} warm-up steps, cosine over the steps",
              "layer_scale_init": args.layer_scale_init, "augmentation": "random horizontal flips",
              "threads": args.threads, "device": args.device_name}
    result: Dict[str, object] = {
        "space": args.space, "seed": args.seed, "pool": args.pool, "budget": budget,
        "cost_proxy": "MACs (hwnas describe)",
        "supernet": os.path.relpath(os.path.abspath(args.checkpoint), REPO_ROOT),
        "supernet_eval": "hwnas eval: sliced from the supernet, BN recalibrated (512 train images)"
                         if fam.HAS_BATCHNORM else "hwnas eval: sliced from the supernet (no BN)",
        "standalone_eval": ("hwnas eval: stand-alone weights, " + (
            "BN recalibrated as the supernet's" if args.standalone_bn == "recal"
            else "BN statistics as trained (--no-recalibrate)")) if fam.HAS_BATCHNORM
        else "hwnas eval: stand-alone weights (no BN)",
        "eval": {"split": "test", "samples": eval_samples, "threads": 1},
        "started": f"{datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC",
        "torch": torch.__version__, "subnets": []}
    for e in selection:
        result["subnets"].append({"tag": e["tag"], "arch_json": fam.arch_json(e["arch"]),
                                  **costs[arch_key(fam, e["arch"])]})
    print(f"rank_check {args.space}: {len(selection)} subnets, MACs "
          f"{selection[0]['cost'] / 1e6:.1f}-{selection[-1]['cost'] / 1e6:.1f} M; budget "
          f"{args.steps} steps x batch {args.batch} ({args.steps * args.batch} images), seed "
          f"{args.seed}; eval: test, {eval_samples} images, hwnas {args.hwnas}", flush=True)

    images, labels = fmnist_data.Splits(0)["train"]
    num_images = images.shape[0]
    images, labels = train.to_device(images, labels, args.device)
    if args.time_budget_min:
        args.steps = budget["steps"] = steps_for_budget(fam, selection, images, labels, args)
        budget["images"] = args.steps * args.batch
    budget["epochs_of_train"] = round(args.steps * args.batch / num_images, 3)
    json_path = os.path.join(args.out, "rank_check.json")
    for e, entry in zip(selection, result["subnets"]):
        tag = entry["tag"]
        arch_path = os.path.join(args.out, f"{tag}.arch.json")
        with open(arch_path, "w") as f:
            json.dump(entry["arch_json"], f)
            f.write("\n")
        weights = os.path.join(args.out, f"{tag}.safetensors")
        meta = budget_metadata(args, entry)
        reuse = False
        if os.path.exists(weights) and not args.retrain:
            old = read_header(weights).get("__metadata__", {})
            reuse = all(old.get(k) == v for k, v in meta.items())
        print(f"[{tag}] MMACs {entry['macs'] / 1e6:.1f} {json.dumps(entry['arch_json'])}",
              flush=True)
        if reuse:
            old = read_header(weights)["__metadata__"]
            entry["train_s"] = float(old.get("train_s", "nan"))
            entry["train_device"] = old.get("device", "cpu")
            entry["final_train_loss"] = float(old.get("final_loss", "nan"))
            entry["reused_weights"] = True
            print(f"    reusing {weights} (same arch and budget)", flush=True)
        else:
            out = train_standalone(fam, e["arch"], images, labels, args.steps, args.batch,
                                   args.seed, args.lr, args.weight_decay, args.warmup_steps,
                                   args.layer_scale_init, device=args.device)
            entry["train_s"], entry["final_train_loss"] = out["train_s"], out["final_loss"]
            entry["train_device"] = args.device_name
            tmp = weights + ".tmp"
            write_safetensors(tmp, {k: v.detach().cpu().numpy() for k, v in
                                    float_state(out["model"]).items()},
                              {**meta, "trained": "hwnas_tools.rank_check",
                               "torch": torch.__version__, "device": args.device_name,
                               "train_s": f"{out['train_s']:.1f}",
                               "final_loss": f"{out['final_loss']:.6f}"})
            os.replace(tmp, weights)
        entry["weights"] = os.path.relpath(weights, REPO_ROOT)
        if args.train_only:
            result["wall_s"] = time.time() - wall0
            write_json_atomic(json_path, result)
            continue
        common = ["eval", "--space", args.space, "--arch", arch_path, "--split", "test",
                  "--samples", str(eval_samples), "--threads", "1"]
        t0 = time.time()
        sup = run_hwnas(args.hwnas, common + ["--weights", args.checkpoint])
        entry["supernet_top1"], entry["supernet_eval_s"] = sup["top1"], time.time() - t0
        t0 = time.time()
        keep_bn = fam.HAS_BATCHNORM and args.standalone_bn == "trained"
        extra = ["--no-recalibrate"] if keep_bn else []
        try:
            own = run_hwnas(args.hwnas, common + ["--weights", weights] + extra)
            entry["standalone_top1"] = own["top1"]
        except RuntimeError as err:  # reported, not fatal: the other subnets still count
            entry["standalone_top1"], entry["standalone_error"] = None, str(err)
            print(f"    stand-alone eval failed: {err}", flush=True)
        entry["standalone_eval_s"] = time.time() - t0
        print(f"    supernet top-1 {fmt(100 * entry['supernet_top1'])} %, stand-alone "
              f"{fmt(entry['standalone_top1'] and 100 * entry['standalone_top1'])} % (train "
              f"{entry['train_s']:.0f} s, final loss {entry['final_train_loss']:.3f}; eval "
              f"{entry['supernet_eval_s']:.0f} + {entry['standalone_eval_s']:.0f} s)", flush=True)
        correlations(result)
        result["wall_s"] = time.time() - wall0
        write_json_atomic(json_path, result)
    if args.train_only:
        print(f"trained {len(selection)} subnets, {args.steps} steps x {args.batch} each, in "
              f"{time.time() - wall0:.0f} s; evaluate with the same --steps {args.steps} --batch "
              f"{args.batch} where hwnas is built (the weights are reused)")
        return 0
    # Where the weights were trained (their metadata), not where this run evaluates them.
    budget["device"] = ", ".join(sorted({str(e.get("train_device", "cpu"))
                                         for e in result["subnets"]}))
    correlations(result)
    result["wall_s"] = time.time() - wall0
    result["finished"] = f"{datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC"
    write_json_atomic(json_path, result)
    print()
    print(markdown_table(result))
    print(f"\nwall {result['wall_s']:.0f} s; wrote {json_path}")
    failed = [e["tag"] for e in result["subnets"] if e.get("standalone_error")]
    if failed:
        print(f"stand-alone evaluation failed for {failed}: see standalone_error in the JSON",
              file=sys.stderr)
        return 1
    return 0


# ------------------------------------------------------------------------------------------------
# Self-test (CTest Tools.RankCheck): the correlations against hand-computed values, and the
# subnet selection of every space.

def self_test(hwnas: str, seed: int) -> int:
    failures: List[str] = []

    def expect(name: str, got: float, want: float) -> None:
        ok = (math.isnan(want) and math.isnan(got)) or abs(got - want) < 1e-12
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {got!r} (hand: {want!r})")
        if not ok:
            failures.append(name)

    # x = 1..5, y = 2 1 4 3 5: discordant pairs (1,2) and (3,4) of 10 -> tau (8 - 2) / 10;
    # rank differences -1 1 -1 1 0 -> rho = 1 - 6 * 4 / (5 * 24).
    expect("tau, no ties", kendall_tau_b([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]), 0.6)
    expect("rho, no ties", spearman_rho([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]), 0.8)
    # x = 1 2 2 3, y = 1 3 2 3: pair (2,3) tied in x, (2,4) tied in y, the other 4 concordant
    # -> tau-b = 4 / sqrt(5 * 5); average ranks x 1 2.5 2.5 4, y 1 3.5 2 3.5 -> covariance
    # 3.75, variances 4.5 and 4.5 -> rho 5/6.
    expect("tau-b, ties", kendall_tau_b([1, 2, 2, 3], [1, 3, 2, 3]), 0.8)
    expect("rho, ties", spearman_rho([1, 2, 2, 3], [1, 3, 2, 3]), 5 / 6)
    # Ties in both lists at the same pair: x = 1 1 2, y = 5 5 9 -> 2 concordant of 2 untied.
    expect("tau-b, joint tie", kendall_tau_b([1, 1, 2], [5, 5, 9]), 1.0)
    expect("rho, joint tie", spearman_rho([1, 1, 2], [5, 5, 9]), 1.0)
    expect("tau, reversed", kendall_tau_b([1, 2, 3, 4], [0.9, 0.5, 0.2, 0.1]), -1.0)
    expect("rho, reversed", spearman_rho([1, 2, 3, 4], [0.9, 0.5, 0.2, 0.1]), -1.0)
    expect("tau, constant", kendall_tau_b([1, 2, 3], [7, 7, 7]), float("nan"))
    expect("rho, constant", spearman_rho([1, 2, 3], [7, 7, 7]), float("nan"))
    ranks = average_ranks([0.3, 0.1, 0.3, 0.2, 0.3])
    ok = ranks == [4.0, 1.0, 4.0, 2.0, 4.0]
    print(f"{'ok  ' if ok else 'FAIL'} average ranks: {ranks}")
    if not ok:
        failures.append("average ranks")

    for space in spaces.SPACES:
        fam = spaces.family(space)
        costs: Dict[str, float] = {}

        def cost(arch) -> float:
            key = arch_key(fam, arch)
            if key not in costs:
                costs[key] = float(macs_of(hwnas, space, fam.arch_json(arch))["macs"])
            return costs[key]

        sel = select_subnets(fam, 10, seed, 100, cost)
        again = select_subnets(fam, 10, seed, 100, cost)
        c = [e["cost"] for e in sel]
        tags = [e["tag"] for e in sel]
        keys = [arch_key(fam, e["arch"]) for e in sel]
        named_keys = {n: arch_key(fam, fam.NAMED[n]) for n in NAMED_ORDER}
        all_costs = sorted(costs.values())
        lo, hi = math.log(all_costs[0]), math.log(all_costs[-1])
        checks = {
            "10 distinct subnets": len(set(keys)) == 10,
            "s, m, l included by tag and arch": all(
                named_keys[n] in keys and keys[tags.index(n)] == named_keys[n]
                for n in NAMED_ORDER),
            "sorted by MACs": c == sorted(c),
            # the ends within 10 % of the log-MACs range, no gap over a third of it
            "spread over the range": (math.log(c[0]) - lo <= 0.1 * (hi - lo)
                                      and hi - math.log(c[-1]) <= 0.1 * (hi - lo)
                                      and max(math.log(b) - math.log(a) for a, b in
                                              zip(c, c[1:])) <= (hi - lo) / 3),
            "seeded (same selection twice)": keys == [arch_key(fam, e["arch"]) for e in again],
        }
        other = select_subnets(fam, 10, seed + 1, 100, cost)
        checks["another seed, other random subnets"] = (
            [arch_key(fam, e["arch"]) for e in other] != keys)
        for name, ok in checks.items():
            print(f"{'ok  ' if ok else 'FAIL'} {space}: {name}")
            if not ok:
                failures.append(f"{space}: {name}")
        print(f"     {space}: " + ", ".join(f"{t} {x / 1e6:.1f}" for t, x in zip(tags, c))
              + " MMACs")
    print(f"self-test: {'FAIL ' + '; '.join(failures) if failures else 'PASS'}")
    return 1 if failures else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m hwnas_tools.rank_check",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--space", help=f"search space: {', '.join(spaces.SPACES)}")
    parser.add_argument("--subnets", type=int, default=10,
                        help="subnets to rank, s, m, l included (default 10)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the subnet draw and of every stand-alone training")
    parser.add_argument("--pool", type=int, default=300,
                        help="random archs drawn to choose the spread from (default 300)")
    parser.add_argument("--steps", type=int,
                        help="stand-alone training steps per subnet (default per space: "
                        + ", ".join(f"{k} {v[0]}" for k, v in DEFAULT_BUDGET.items()) + ")")
    parser.add_argument("--batch", type=int,
                        help="stand-alone training batch (default per space: "
                        + ", ".join(f"{k} {v[1]}" for k, v in DEFAULT_BUDGET.items()) + ")")
    parser.add_argument("--lr", type=float, default=1e-3, help="AdamW peak learning rate")
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--warmup-steps", type=int, default=30)
    parser.add_argument("--layer-scale-init", type=float, default=0.1,
                        help="initial layer-scale gamma (as the supernet trainer's; default 0.1)")
    parser.add_argument("--standalone-bn", choices=("recal", "trained"), default="recal",
                        help="stand-alone nets with BatchNorm: recalibrate as the supernet's "
                        "subnets (default) or keep the statistics from training")
    parser.add_argument("--out", help="output folder (default runs/rank_check/<space>)")
    parser.add_argument("--checkpoint",
                        help="supernet (default data/supernets/<space>.safetensors)")
    parser.add_argument("--hwnas", default=DEFAULT_HWNAS,
                        help="hwnas binary (default build/apps/hwnas)")
    parser.add_argument("--eval-samples", type=int, default=10000,
                        help="first N test images scored by hwnas eval (default 10000: all)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--retrain", action="store_true",
                        help="train again even where <out>/<tag>.safetensors matches")
    parser.add_argument("--device", default="cpu",
                        help="torch device of the stand-alone training: cpu (default) or cuda")
    parser.add_argument("--select-only", action="store_true",
                        help="choose the subnets, write <out>/costs.json (the MACs of every pool "
                        "arch, for --costs on a machine without hwnas) and exit")
    parser.add_argument("--costs", help="MACs of the pool archs from --select-only (then no "
                        "hwnas binary is needed to choose the subnets)")
    parser.add_argument("--train-only", action="store_true",
                        help="train and write the stand-alone weights, evaluate nothing (a GPU "
                        "machine without hwnas; evaluate later with the same budget)")
    parser.add_argument("--time-budget-min", type=float, default=0.0,
                        help="with --train-only: choose the steps per subnet so that all train "
                        "in about this many minutes on --device (capped at --steps if given)")
    parser.add_argument("--self-test", action="store_true",
                        help="check tau / rho against hand-computed values and the selection "
                        "of every space (needs --hwnas for the MACs), then exit")
    args = parser.parse_args(argv)
    try:
        args.hwnas_ok = os.path.isfile(args.hwnas) and os.access(args.hwnas, os.X_OK)
        args.steps_given = args.steps is not None
        args.device_name = (torch.cuda.get_device_name(args.device)
                            if args.device.startswith("cuda") else "cpu")
        if args.time_budget_min and not args.train_only:
            raise InputError("--time-budget-min needs --train-only (the evaluation run passes "
                             "the chosen --steps)")
        if not args.hwnas_ok and not (args.train_only and args.costs):
            raise InputError(f"hwnas binary not found or not executable: {args.hwnas} "
                             f"(build it, or pass --hwnas PATH)")
        if args.self_test:
            return self_test(args.hwnas, args.seed)
        if args.space is None:
            raise InputError("--space is required (one of " + ", ".join(spaces.SPACES) + ")")
        if args.space not in spaces.SPACES:
            raise InputError(f"unknown space {args.space!r} (known: {', '.join(spaces.SPACES)})")
        steps, batch = DEFAULT_BUDGET[args.space]
        args.steps = steps if args.steps is None else args.steps
        args.batch = batch if args.batch is None else args.batch
        if args.steps <= 0 or args.batch <= 0 or args.subnets < 3 or args.eval_samples <= 0:
            raise InputError("--steps, --batch and --eval-samples must be positive, --subnets "
                             "at least 3")
        args.checkpoint = args.checkpoint or os.path.join(REPO_ROOT, "data", "supernets",
                                                          args.space + ".safetensors")
        if not os.path.isfile(args.checkpoint) and not (args.train_only or args.select_only):
            raise InputError(f"supernet checkpoint not found: {args.checkpoint}")
        args.out = args.out or os.path.join(REPO_ROOT, "runs", "rank_check", args.space)
        os.makedirs(args.out, exist_ok=True)
        if not args.train_only:  # a missing data set is bad input too (before any training)
            fmnist_data.load("t10k")
        return rank_check(args)
    except (InputError, FileNotFoundError) as err:
        print(f"rank_check: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
