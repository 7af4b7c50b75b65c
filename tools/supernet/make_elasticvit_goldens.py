#!/usr/bin/env python3
"""Golden files of the elasticvit-fmnist supernet for the C++ tests, and subnet top-1/top-5.

Reads the trained supernet checkpoint, slices subnets s, m, l and two seeded random ones with the
contract's rule (tools/supernet/elasticvit_fmnist.py), runs the plain PyTorch subnet and writes
into --out (default tests/data/elasticvit-fmnist), as EVIT-FMNIST-SPEC.md lists:
  subnets.json                 archs (hwnas arch JSON), reference MFLOPs, files, top-1/top-5
                               (val and test, with and without BN recalibration), checkpoint sha256
  input.npy, raw_input.npy     first 16 `test` images: preprocessed (16,1,128,128) f32 / raw uint8
  s.sliced.safetensors         subnet s's sliced state dict (official names, F32)
  <name>.logits.npy            (16,10) logits with the sliced weights, no BN recalibration
  <name>.recal_logits.npy      (16,10) logits after BN recalibration
  m.recal_bn.npz               running_mean / running_var of every BN of m after recalibration
  s.test_pred.npy, l.test_pred.npy   int16 argmax on the 10,000 test images after recalibration
BN recalibration exactly as the efficientformer-fmnist contract (make_goldens.py): the first 512
`train` images in key order, batches of 64, momentum None, training mode, then eval mode.

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tools/supernet/make_elasticvit_goldens.py \
           [--checkpoint P] [--out DIR] [--eval-limit N]
Exit status: 0 on success, 2 on bad input, 77 without numpy/torch.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from typing import Dict, Tuple

try:
    import numpy as np
    import torch
except ImportError as missing:
    print(f"skipped: {missing} (needs numpy and PyTorch)", file=sys.stderr)
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import elasticvit_fmnist as ev  # noqa: E402
import fmnist_data  # noqa: E402
from make_goldens import NUM_GOLDEN_INPUTS, predict, sha256, topk  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(ev.HERE))
DEFAULT_CKPT = os.path.join(REPO_ROOT, "data", "supernets", "elasticvit-fmnist.safetensors")
DEFAULT_OUT = os.path.join(REPO_ROOT, "tests", "data", "elasticvit-fmnist")


def golden_archs(seed: int) -> Dict[str, ev.Arch]:
    archs = dict(ev.NAMED)
    rng = random.Random(seed)
    while len(archs) < 5:  # two seeded random subnets, distinct from the named ones
        arch = ev.sample_uniform(rng)
        if arch not in archs.values():
            archs[f"random{len(archs) - 3}"] = arch
    return archs


def evaluate(model, evals) -> Tuple[Dict[str, dict], np.ndarray]:
    """top-1 / top-5 per split and the test logits."""
    logits = {k: predict(model, x, 250, ev.UPSAMPLE) for k, (x, _) in evals.items()}
    return {k: topk(logits[k], evals[k][1]) for k in evals}, logits["test"]


def write_readme(out_dir: str, info: dict) -> None:
    rows = []
    for name, entry in info["subnets"].items():
        for mode in ("no_recal", "recal"):
            if mode in entry.get("metrics", {}):
                m = entry["metrics"][mode]
                rows.append(f"| {name} | {'yes' if mode == 'recal' else 'no'} | " + " | ".join(
                    f"{100 * m[k]['top1']:.2f} | {100 * m[k]['top5']:.2f}" for k in ("val", "test"))
                    + " |")
    archs = "\n".join(f"| {n} | `{json.dumps({k: e['arch'][k] for k in ev.FIELDS})}` | "
                      f"{e['reference_mflops']:.2f} | {e['params']} |"
                      for n, e in info["subnets"].items())
    text = f"""# Fashion-MNIST supernet golden files (elasticvit-fmnist)

Written by `tools/supernet/make_elasticvit_goldens.py` ({info['generated_by']}) from
`{info['checkpoint']}` (sha256 `{info['checkpoint_sha256'][:16]}...`; trained:
{info['checkpoint_metadata'].get('trained', '?')}). Not made by hwnas's engine: its tests compare
against these files. `subnets.json` lists the archs, files and accuracies;
`tools/supernet/elasticvit_test.py --checkpoint ... --goldens DIR [--recal]` re-checks them.

| subnet | arch | reference MFLOPs | params |
|---|---|---|---|
{archs}

Files: `input.npy` (16,1,128,128) f32 and `raw_input.npy` (16,28,28) uint8: the first 16 `test`
images, preprocessed (pad 2, 4x nearest, normalise) / raw; `s.sliced.safetensors`: subnet s's
sliced weights (official names); `<name>.logits.npy` (16,10) with the sliced weights as stored
(no recalibration); `<name>.recal_logits.npy` (16,10) after BN recalibration
({info['recalibration']['images']}, batches of {info['recalibration']['batch']}, momentum None);
`m.recal_bn.npz`: m's BN running_mean / running_var after recalibration; `s.test_pred.npy`,
`l.test_pred.npy`: int16 predictions on the 10,000 `test` images after recalibration.

Top-1 / top-5 (%) on `val` ({info['eval_images']['val']} held-out training images, split seed
{info['split_seed']}) and `test` ({info['eval_images']['test']} t10k images); without
recalibration on the first {info['eval_images_no_recal']['val']} / {info['eval_images_no_recal']['test']} of them:

| subnet | BN recalibrated | val top-1 | val top-5 | test top-1 | test top-5 |
|---|---|---|---|---|---|
""" + "\n".join(rows) + "\n"
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write(text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", default=DEFAULT_CKPT)
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--arch-seed", type=int, default=1, help="seed of the two random subnets")
    parser.add_argument("--eval-limit", type=int, default=0,
                        help="evaluate on the first N val / test images only (0: all; quick runs)")
    parser.add_argument("--no-recal-limit", type=int, default=1000,
                        help="top-1 without recalibration on the first N val / test images only "
                        "(0: all; a full pass of l takes ~20 min on the shared 2-core machine)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    if not os.path.exists(args.checkpoint):
        print(f"error: checkpoint {args.checkpoint} not found (train it with "
              "tools/supernet/train_elasticvit_fmnist.py or pass --checkpoint)", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    start = time.time()
    net, meta = ev.load_supernet(args.checkpoint)
    tensors = net.tensors()
    splits = fmnist_data.Splits(args.split_seed)
    recal_x = splits["train"][0][:ev.RECAL_IMAGES]
    evals = {k: splits[k] for k in ("val", "test")}
    if args.eval_limit:
        evals = {k: (x[:args.eval_limit], y[:args.eval_limit]) for k, (x, y) in evals.items()}
    limit = args.no_recal_limit
    evals_no_recal = {k: (x[:limit], y[:limit]) for k, (x, y) in evals.items()} if limit else evals
    test_raw = splits["test"][0][:NUM_GOLDEN_INPUTS]
    x16 = torch.from_numpy(ev.preprocess(test_raw))
    os.makedirs(args.out, exist_ok=True)
    np.save(os.path.join(args.out, "input.npy"), x16.numpy())
    np.save(os.path.join(args.out, "raw_input.npy"), np.ascontiguousarray(test_raw))

    info = {
        "space": ev.SPACE,
        "generated_by": f"tools/supernet/make_elasticvit_goldens.py, torch {torch.__version__}",
        "checkpoint": os.path.relpath(os.path.abspath(args.checkpoint), REPO_ROOT),
        "checkpoint_sha256": sha256(args.checkpoint),
        "checkpoint_metadata": meta,
        "split_seed": args.split_seed,
        "arch_seed": args.arch_seed,
        "input": "input.npy", "raw_input": "raw_input.npy",
        "input_note": f"first {NUM_GOLDEN_INPUTS} test (t10k) images, pad 2, 4x nearest, normalise",
        "recalibration": {"images": f"first {ev.RECAL_IMAGES} train images in key order",
                          "batch": ev.RECAL_BATCH, "momentum": None},
        "mflops_note": "reference MFLOPs: FusedSuperNet.compute_flops() with 1 input channel "
                       "(first conv 9*C0*(r/2)^2), head 6C^2*N + 6C*256 + 256*10",
        "eval_images": {k: int(v[0].shape[0]) for k, v in evals.items()},
        "eval_images_no_recal": {k: int(v[0].shape[0]) for k, v in evals_no_recal.items()},
        "subnets": {},
    }
    for name, arch in golden_archs(args.arch_seed).items():
        entry = {"arch": ev.arch_json(arch), "reference_mflops": round(ev.reference_mflops(arch), 6)}
        model = ev.plain_subnet(arch, tensors).eval()
        entry["params"] = sum(int(p.numel()) for p in model.parameters())
        if name == "s":
            sliced = {k: v.detach().numpy() for k, v in ev.ref.float_state(model).items()}
            ev.ref.write_safetensors(os.path.join(args.out, "s.sliced.safetensors"), sliced, {
                "source": info["generated_by"], "supernet": info["checkpoint"],
                "supernet_sha256": info["checkpoint_sha256"], "arch": json.dumps(entry["arch"])})
            entry["sliced"] = "s.sliced.safetensors"
        with torch.no_grad():
            np.save(os.path.join(args.out, f"{name}.logits.npy"), model(x16).numpy())
        entry["logits"] = f"{name}.logits.npy"
        metrics = {}
        if name in ev.NAMED:  # without recalibration: the supernet's running statistics as trained
            metrics["no_recal"] = evaluate(model, evals_no_recal)[0]
        ev.recalibrate_bn(model, recal_x)
        with torch.no_grad():
            np.save(os.path.join(args.out, f"{name}.recal_logits.npy"), model(x16).numpy())
        entry["recal_logits"] = f"{name}.recal_logits.npy"
        if name == "m":
            bn = {k: v.numpy() for k, v in model.state_dict().items()
                  if k.endswith("running_mean") or k.endswith("running_var")}
            np.savez(os.path.join(args.out, "m.recal_bn.npz"), **bn)
            entry["recal_bn"] = "m.recal_bn.npz"
        if name in ev.NAMED:
            metrics["recal"], test_logits = evaluate(model, evals)
            if name in ("s", "l"):
                np.save(os.path.join(args.out, f"{name}.test_pred.npy"),
                        test_logits.argmax(axis=1).astype(np.int16))
                entry["test_pred"] = f"{name}.test_pred.npy"
            entry["metrics"] = metrics
        info["subnets"][name] = entry
        print(f"{name}: {json.dumps(entry['arch'])} {json.dumps(metrics)} "
              f"({time.time() - start:.0f} s)", flush=True)
    with open(os.path.join(args.out, "subnets.json"), "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    write_readme(args.out, info)
    total = sum(os.path.getsize(os.path.join(args.out, n)) for n in os.listdir(args.out))
    print(f"wrote {args.out} ({total / 2 ** 20:.2f} MiB) in {time.time() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
