#!/usr/bin/env python3
"""Golden files of the efficientformer-fmnist supernet for the C++ tests, and subnet top-1/top-5.

Reads the trained supernet checkpoint, slices subnets s, m, l and two seeded random ones with the
contract's rule (tools/supernet/efficientformer_fmnist.py), runs the plain PyTorch EfficientFormer
(tools/efficientformer_ref.py) and writes into --out (default tests/data/efficientformer-fmnist):
  subnets.json                 archs, file names, top-1/top-5, checkpoint sha256 and metadata
  input.npy, raw_input.npy     first 16 `test` images: preprocessed (16,1,64,64) f32 / raw uint8
  s.sliced.safetensors         subnet s's sliced state dict (timm names, F32)
  <name>.logits.npy            (16,10) logits with the sliced weights, no BN recalibration
  <name>.recal_logits.npy      (16,10) logits after BN recalibration
  m.recal_bn.npz               running_mean / running_var of every BN of m after recalibration
  s.test_pred.npy, l.test_pred.npy   int16 argmax on the 10,000 test images after recalibration
BN recalibration (OFA / ElasticViT practice, PyTorch semantics): the first 512 `train` images in
key order, batches of 64, every BN reset with momentum None (cumulative average) and in training
mode, then eval mode.

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tools/supernet/make_goldens.py [--checkpoint P]
Exit status: 0 on success, 2 on bad input, 77 without numpy/torch.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from typing import Dict, Tuple

try:
    import numpy as np
    import torch
    import torch.nn as nn
except ImportError as missing:
    print(f"skipped: {missing} (needs numpy and PyTorch)", file=sys.stderr)
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import efficientformer_fmnist as sn  # noqa: E402
import fmnist_data  # noqa: E402

ref = sn.ref
REPO_ROOT = os.path.dirname(os.path.dirname(sn.HERE))
DEFAULT_CKPT = os.path.join(REPO_ROOT, "data", "supernets", "efficientformer-fmnist.safetensors")
DEFAULT_OUT = os.path.join(REPO_ROOT, "tests", "data", "efficientformer-fmnist")
NUM_GOLDEN_INPUTS = 16


def predict(model: nn.Module, images: np.ndarray, batch: int = 500, upsample: int = 2) -> np.ndarray:
    """Logits (N,10) of uint8 images in eval mode (preprocessed with ``upsample``)."""
    model.eval()
    out = []
    with torch.no_grad():
        for begin in range(0, images.shape[0], batch):
            x = torch.from_numpy(fmnist_data.preprocess(images[begin:begin + batch], upsample))
            out.append(model(x).numpy())
    return np.concatenate(out)


def topk(logits: np.ndarray, labels: np.ndarray) -> Dict[str, float]:
    top5 = np.argsort(-logits, axis=1)[:, :5]
    return {"top1": float((top5[:, 0] == labels).mean()),
            "top5": float((top5 == labels[:, None]).any(axis=1).mean())}


def golden_archs(seed: int) -> Dict[str, ref.Arch]:
    archs = {n: sn.named_arch(n) for n in ("s", "m", "l")}
    rng = random.Random(seed)
    while len(archs) < 5:  # two seeded random subnets, distinct from the named ones
        arch = sn.sample_arch(rng)
        if arch not in archs.values():
            archs[f"random{len(archs) - 3}"] = arch
    return archs


def write_readme(out_dir: str, info: dict) -> None:
    """README.md of the golden directory: what wrote it, the files, the top-1 / top-5 table."""
    rows = []
    for name, entry in info["subnets"].items():
        for mode, per_split in entry.get("metrics", {}).items():
            cells = " | ".join(f"{100 * per_split[k]['top1']:.2f} | {100 * per_split[k]['top5']:.2f}"
                               for k in ("val", "test"))
            rows.append(f"| {name} | {'yes' if mode == 'recal' else 'no'} | {cells} |")
    archs = "\n".join(f"| {n} | {e['arch']['embed_dims']} | {e['arch']['depths']} | "
                      f"{e['arch']['num_vit']} | {e['params']} |" for n, e in info["subnets"].items())
    text = f"""# Fashion-MNIST supernet golden files (efficientformer-fmnist)

Written by `tools/supernet/make_goldens.py` ({info['generated_by']}) from
`{info['checkpoint']}` (sha256 `{info['checkpoint_sha256'][:16]}...`; trained:
{info['checkpoint_metadata'].get('trained', '?')}). Not made by hwnas's engine: its tests compare
against these files. `subnets.json` lists the archs, files and accuracies;
`tools/supernet/supernet_test.py --checkpoint ... --goldens DIR` re-checks them.

| subnet | embed_dims | depths | num_vit | params |
|---|---|---|---|---|
{archs}

Files: `input.npy` (16,1,64,64) f32 and `raw_input.npy` (16,28,28) uint8: the first 16 `test`
images, preprocessed / raw; `s.sliced.safetensors`: subnet s's sliced weights (timm names);
`<name>.logits.npy` (16,10) with the sliced weights as stored (no recalibration);
`<name>.recal_logits.npy` (16,10) after BN recalibration ({info['recalibration']['images']},
batches of {info['recalibration']['batch']}, momentum None); `m.recal_bn.npz`: m's BN
running_mean / running_var after recalibration; `s.test_pred.npy`, `l.test_pred.npy`: int16
predictions on the 10,000 `test` images after recalibration.

Top-1 / top-5 (%) on `val` ({info['eval_images']['val']} held-out training images, split seed
{info['split_seed']}) and `test` ({info['eval_images']['test']} t10k images):

| subnet | BN recalibrated | val top-1 | val top-5 | test top-1 | test top-5 |
|---|---|---|---|---|---|
""" + "\n".join(rows) + "\n"
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write(text)


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", default=DEFAULT_CKPT)
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--arch-seed", type=int, default=1, help="seed of the two random subnets")
    parser.add_argument("--eval-limit", type=int, default=0,
                        help="evaluate on the first N val / test images only (0: all; quick runs)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    if not os.path.exists(args.checkpoint):
        print(f"error: checkpoint {args.checkpoint} not found (train it with "
              "tools/supernet/train_fmnist.py or pass --checkpoint)", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    start = time.time()
    net, meta = sn.load_supernet(args.checkpoint)
    tensors = net.tensors()
    splits = fmnist_data.Splits(args.split_seed)
    train_x, _ = splits["train"]
    recal_x = train_x[:sn.RECAL_IMAGES]
    evals = {k: splits[k] for k in ("val", "test")}
    if args.eval_limit:
        evals = {k: (x[:args.eval_limit], y[:args.eval_limit]) for k, (x, y) in evals.items()}
    test_raw = splits["test"][0][:NUM_GOLDEN_INPUTS]
    x16 = fmnist_data.preprocess(test_raw)
    os.makedirs(args.out, exist_ok=True)
    np.save(os.path.join(args.out, "input.npy"), x16)
    np.save(os.path.join(args.out, "raw_input.npy"), np.ascontiguousarray(test_raw))

    info = {
        "space": sn.SPACE,
        "generated_by": f"tools/supernet/make_goldens.py, torch {torch.__version__}",
        "checkpoint": os.path.relpath(os.path.abspath(args.checkpoint), REPO_ROOT),
        "checkpoint_sha256": sha256(args.checkpoint),
        "checkpoint_metadata": meta,
        "split_seed": args.split_seed,
        "arch_seed": args.arch_seed,
        "input": "input.npy", "raw_input": "raw_input.npy",
        "input_note": f"first {NUM_GOLDEN_INPUTS} test (t10k) images",
        "recalibration": {"images": f"first {sn.RECAL_IMAGES} train images in key order",
                          "batch": sn.RECAL_BATCH, "momentum": None},
        "eval_images": {k: int(v[0].shape[0]) for k, v in evals.items()},
        "subnets": {},
    }
    for name, arch in golden_archs(args.arch_seed).items():
        entry = {"arch": sn.arch_json(arch)}
        model = sn.plain_subnet(arch, tensors).eval()
        entry["params"] = sum(int(p.numel()) for p in model.parameters())
        if name == "s":
            sliced = {k: v.detach().numpy() for k, v in ref.float_state(model).items()}
            ref.write_safetensors(os.path.join(args.out, "s.sliced.safetensors"), sliced, {
                "source": info["generated_by"], "supernet": info["checkpoint"],
                "supernet_sha256": info["checkpoint_sha256"], "arch": json.dumps(entry["arch"])})
            entry["sliced"] = "s.sliced.safetensors"
        np.save(os.path.join(args.out, f"{name}.logits.npy"), predict(model, test_raw))
        entry["logits"] = f"{name}.logits.npy"
        metrics = {}
        if name == "l":  # without recalibration: the supernet's running statistics as trained
            metrics["no_recal"] = {k: topk(predict(model, x), y) for k, (x, y) in evals.items()}
        sn.recalibrate_bn(model, recal_x)
        np.save(os.path.join(args.out, f"{name}.recal_logits.npy"), predict(model, test_raw))
        entry["recal_logits"] = f"{name}.recal_logits.npy"
        if name == "m":
            bn = {k: v.numpy() for k, v in model.state_dict().items()
                  if k.endswith("running_mean") or k.endswith("running_var")}
            np.savez(os.path.join(args.out, "m.recal_bn.npz"), **bn)
            entry["recal_bn"] = "m.recal_bn.npz"
        if name in ("s", "m", "l"):
            logits = {k: predict(model, x) for k, (x, _) in evals.items()}
            metrics["recal"] = {k: topk(logits[k], evals[k][1]) for k in evals}
            if name in ("s", "l"):
                pred = logits["test"].argmax(axis=1).astype(np.int16)
                np.save(os.path.join(args.out, f"{name}.test_pred.npy"), pred)
                entry["test_pred"] = f"{name}.test_pred.npy"
            entry["metrics"] = metrics
        info["subnets"][name] = entry
        print(f"{name}: {entry['arch']} {json.dumps(metrics)} ({time.time() - start:.0f} s)",
              flush=True)
    with open(os.path.join(args.out, "subnets.json"), "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    write_readme(args.out, info)
    total = sum(os.path.getsize(os.path.join(args.out, n)) for n in os.listdir(args.out))
    print(f"wrote {args.out} ({total / 2 ** 20:.2f} MiB) in {time.time() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
