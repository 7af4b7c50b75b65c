"""Golden files of a Fashion-MNIST supernet for the C++ tests, and subnet top-1/top-5.

Reads the trained supernet checkpoint of --space, slices subnets s, m, l and two seeded random
ones with the family's rule, runs the plain PyTorch subnet and writes into --out (default
tests/data/<space>):
  subnets.json                 archs (hwnas arch JSON), files, top-1/top-5, checkpoint sha256 and
                               metadata, and the family's notes (e.g. reference MFLOPs)
  input.npy, raw_input.npy     first 16 `test` images: preprocessed (16,1,R,R) f32 / raw uint8
  s.sliced.safetensors         subnet s's sliced state dict (the supernet's names, F32)
  <name>.logits.npy            (16,10) logits with the sliced weights, no BN recalibration
  <name>.recal_logits.npy      (16,10) logits after BN recalibration
  m.recal_bn.npz               running_mean / running_var of every BN of m after recalibration
  s.test_pred.npy, l.test_pred.npy   int16 argmax on the 10,000 test images after recalibration
  README.md                    what wrote them, the files, the top-1 / top-5 table
BN recalibration (OFA / ElasticViT practice, PyTorch semantics; hwnas_tools.supernet): the first
512 `train` images in key order, batches of 64, every BN reset with momentum None (cumulative
average) and in training mode, then eval mode. A family without BatchNorm (turbovit-fmnist) has
no recal_* files, its metrics are "no_recal" and its test predictions those of the plain subnet.

Usage: OPENBLAS_NUM_THREADS=1 PYTHONPATH=tools /usr/bin/python3 -m hwnas_tools.make_goldens \\
           --space S [--checkpoint P] [--out DIR] [--eval-limit N] [--threads T]
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
from types import ModuleType
from typing import Dict

from hwnas_tools import REPO_ROOT, require_torch

require_torch()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from hwnas_tools import fmnist_data, spaces, supernet  # noqa: E402
from hwnas_tools.tensor_io import float_state, write_safetensors  # noqa: E402

NUM_GOLDEN_INPUTS = 16
# The writer's name stored in subnets.json and s.sliced.safetensors ("generated_by"): the name
# each committed golden directory was written under, before tools/ became one package, so that
# rewriting them from the same checkpoint stays byte-identical. A new family gets this module's.
PROVENANCE = {"efficientformer-fmnist": "tools/supernet/make_goldens.py",
              "turbovit-fmnist": "tools/supernet/make_goldens.py",
              "elasticvit-fmnist": "tools/supernet/make_elasticvit_goldens.py"}
COMMAND = "PYTHONPATH=tools python3 -m hwnas_tools"


def predict(model: nn.Module, images: np.ndarray, batch: int, upsample: int) -> np.ndarray:
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


def golden_archs(fam: ModuleType, seed: int) -> Dict[str, object]:
    archs = dict(fam.NAMED)
    rng = random.Random(seed)
    while len(archs) < 5:  # two seeded random subnets, distinct from the named ones
        arch = fam.sample_arch(rng)
        if arch not in archs.values():
            archs[f"random{len(archs) - 3}"] = arch
    return archs


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_readme(out_dir: str, info: dict, fam: ModuleType) -> None:
    """README.md of the golden directory, from subnets.json's content alone (so a layout change
    of the README can be applied to committed goldens without recomputing them)."""
    space = info["space"]
    extra = list(fam.golden_entry(fam.NAMED["s"]))
    header = " | ".join(["subnet", "arch"] + [f"`{k}`" for k in extra] + ["params"])
    archs = "\n".join(
        "| " + " | ".join([n, f"`{json.dumps({k: v for k, v in e['arch'].items() if k != 'space'})}`"]
                          + [f"{e[k]:.2f}" for k in extra] + [str(e["params"])]) + " |"
        for n, e in info["subnets"].items())
    rows = []
    for name, entry in info["subnets"].items():
        for mode, per_split in entry.get("metrics", {}).items():
            cells = " | ".join(f"{100 * per_split[k]['top1']:.2f} | {100 * per_split[k]['top5']:.2f}"
                               for k in ("val", "test"))
            rows.append(f"| {name} | {'yes' if mode == 'recal' else 'no'} | {cells} |")
    recal = info.get("recalibration")
    bn_files = (f"""
`<name>.recal_logits.npy` (16,10) after BN recalibration ({recal['images']},
batches of {recal['batch']}, momentum None); `m.recal_bn.npz`: m's BN running_mean / running_var
after recalibration; `s.test_pred.npy`, `l.test_pred.npy`: int16 predictions on the 10,000 `test`
images after recalibration.""" if recal else """
`s.test_pred.npy`, `l.test_pred.npy`: int16 predictions on the 10,000 `test` images (the
network has no BatchNorm, so there is nothing to recalibrate).""")
    no_recal = info.get("eval_images_no_recal")
    no_recal_note = (f"; without recalibration on the first {no_recal['val']} / "
                     f"{no_recal['test']} of them" if no_recal else "")
    side = fam.RESOLUTION
    text = f"""# Fashion-MNIST supernet golden files ({space})

Written by `{COMMAND}.make_goldens --space {space}` from
`{info['checkpoint']}` (sha256 `{info['checkpoint_sha256'][:16]}...`; trained:
{info['checkpoint_metadata'].get('trained', '?')}); the files name their writer
"{info['generated_by']}". Not made by hwnas's engine: its tests compare against these files. `subnets.json` lists the archs, files and accuracies;
`{COMMAND}.check --space {space} --checkpoint ... --goldens DIR` re-checks them.

| {header} |
|{'---|' * (3 + len(extra))}
{archs}

Files: `input.npy` (16,1,{side},{side}) f32 and `raw_input.npy` (16,28,28) uint8: the first 16
`test` images, preprocessed (pad 2, {fam.UPSAMPLE}x nearest, normalise) / raw;
`s.sliced.safetensors`: subnet s's sliced weights (the supernet's tensor names);
`<name>.logits.npy` (16,10) with the sliced weights as stored (no recalibration);{bn_files}

Top-1 / top-5 (%) on `val` ({info['eval_images']['val']} held-out training images, split seed
{info['split_seed']}) and `test` ({info['eval_images']['test']} t10k images){no_recal_note}:

| subnet | BN recalibrated | val top-1 | val top-5 | test top-1 | test top-5 |
|---|---|---|---|---|---|
""" + "\n".join(rows) + "\n"
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write(text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m hwnas_tools.make_goldens",
                                     description=__doc__.split("\n\n")[0])
    spaces.add_space_argument(parser)
    parser.add_argument("--checkpoint", help="default data/supernets/<space>.safetensors")
    parser.add_argument("--out", help="default tests/data/<space>")
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--arch-seed", type=int, default=1, help="seed of the two random subnets")
    parser.add_argument("--eval-limit", type=int, default=0,
                        help="evaluate on the first N val / test images only (0: all; quick runs)")
    parser.add_argument("--no-recal-limit", type=int,
                        help="top-1 without recalibration on the first N val / test images only "
                        "(0: all; default: the family's, 1000 for elasticvit-fmnist, else 0)")
    parser.add_argument("--readme-only", action="store_true",
                        help="rewrite README.md from --out's subnets.json, computing nothing")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    fam = spaces.family(args.space)
    spaces.apply_defaults(args, fam, no_recal_limit=0)
    has_bn = fam.HAS_BATCHNORM
    args.checkpoint = args.checkpoint or os.path.join(REPO_ROOT, "data", "supernets",
                                                      args.space + ".safetensors")
    args.out = args.out or os.path.join(REPO_ROOT, "tests", "data", args.space)
    if args.readme_only:
        with open(os.path.join(args.out, "subnets.json")) as f:
            write_readme(args.out, json.load(f), fam)
        return 0
    if not os.path.exists(args.checkpoint):
        print(f"error: checkpoint {args.checkpoint} not found (train it with "
              f"{COMMAND}.train --space {args.space} or pass --checkpoint)", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    start = time.time()
    net, meta = supernet.load_supernet(fam, args.checkpoint)
    tensors = net.tensors()
    splits = fmnist_data.Splits(args.split_seed)
    recal_x = splits["train"][0][:supernet.RECAL_IMAGES] if has_bn else None
    evals = {k: splits[k] for k in ("val", "test")}
    if args.eval_limit:
        evals = {k: (x[:args.eval_limit], y[:args.eval_limit]) for k, (x, y) in evals.items()}
    limit = args.no_recal_limit
    evals_no_recal = {k: (x[:limit], y[:limit]) for k, (x, y) in evals.items()} if limit else evals
    test_raw = splits["test"][0][:NUM_GOLDEN_INPUTS]
    os.makedirs(args.out, exist_ok=True)
    np.save(os.path.join(args.out, "input.npy"), fmnist_data.preprocess(test_raw, fam.UPSAMPLE))
    np.save(os.path.join(args.out, "raw_input.npy"), np.ascontiguousarray(test_raw))

    def logits_of(model: nn.Module, images: np.ndarray) -> np.ndarray:
        return predict(model, images, fam.EVAL_BATCH, fam.UPSAMPLE)

    def metrics_of(model: nn.Module, sets) -> Dict[str, dict]:
        return {k: topk(logits_of(model, x), y) for k, (x, y) in sets.items()}

    info = {
        "space": fam.SPACE,
        "generated_by": (f"{PROVENANCE.get(fam.SPACE, 'hwnas_tools.make_goldens')}, "
                         f"torch {torch.__version__}"),
        "checkpoint": os.path.relpath(os.path.abspath(args.checkpoint), REPO_ROOT),
        "checkpoint_sha256": sha256(args.checkpoint),
        "checkpoint_metadata": meta,
        "split_seed": args.split_seed,
        "arch_seed": args.arch_seed,
        "input": "input.npy", "raw_input": "raw_input.npy",
    }
    info.update(fam.golden_notes(
        {"images": f"first {supernet.RECAL_IMAGES} train images in key order",
         "batch": supernet.RECAL_BATCH, "momentum": None} if has_bn else None))
    info["eval_images"] = {k: int(v[0].shape[0]) for k, v in evals.items()}
    if limit:
        info["eval_images_no_recal"] = {k: int(v[0].shape[0]) for k, v in evals_no_recal.items()}
    info["subnets"] = {}
    for name, arch in golden_archs(fam, args.arch_seed).items():
        entry = {"arch": fam.arch_json(arch), **fam.golden_entry(arch)}
        model = supernet.plain_subnet(fam, arch, tensors).eval()
        entry["params"] = sum(int(p.numel()) for p in model.parameters())
        if name == "s":
            sliced = {k: v.detach().numpy() for k, v in float_state(model).items()}
            write_safetensors(os.path.join(args.out, "s.sliced.safetensors"), sliced, {
                "source": info["generated_by"], "supernet": info["checkpoint"],
                "supernet_sha256": info["checkpoint_sha256"], "arch": json.dumps(entry["arch"])})
            entry["sliced"] = "s.sliced.safetensors"
        np.save(os.path.join(args.out, f"{name}.logits.npy"), logits_of(model, test_raw))
        entry["logits"] = f"{name}.logits.npy"
        metrics = {}
        if has_bn and name in fam.NO_RECAL_SUBNETS:  # the running statistics as trained
            metrics["no_recal"] = metrics_of(model, evals_no_recal)
        if has_bn:
            supernet.recalibrate_bn(model, recal_x, fam.UPSAMPLE)
            np.save(os.path.join(args.out, f"{name}.recal_logits.npy"), logits_of(model, test_raw))
            entry["recal_logits"] = f"{name}.recal_logits.npy"
        if has_bn and name == "m":
            bn = {k: v.numpy() for k, v in model.state_dict().items()
                  if k.endswith("running_mean") or k.endswith("running_var")}
            np.savez(os.path.join(args.out, "m.recal_bn.npz"), **bn)
            entry["recal_bn"] = "m.recal_bn.npz"
        if name in fam.NAMED:
            logits = {k: logits_of(model, x) for k, (x, _) in evals.items()}
            metrics["recal" if has_bn else "no_recal"] = {k: topk(logits[k], evals[k][1])
                                                          for k in evals}
            if name in ("s", "l"):
                pred = logits["test"].argmax(axis=1).astype(np.int16)
                np.save(os.path.join(args.out, f"{name}.test_pred.npy"), pred)
                entry["test_pred"] = f"{name}.test_pred.npy"
            entry["metrics"] = metrics
        info["subnets"][name] = entry
        print(f"{name}: {json.dumps(entry['arch'])} {json.dumps(metrics)} "
              f"({time.time() - start:.0f} s)", flush=True)
    with open(os.path.join(args.out, "subnets.json"), "w") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    write_readme(args.out, info, fam)
    total = sum(os.path.getsize(os.path.join(args.out, n)) for n in os.listdir(args.out))
    print(f"wrote {args.out} ({total / 2 ** 20:.2f} MiB) in {time.time() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
