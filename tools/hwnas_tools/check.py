"""Checks of a Fashion-MNIST supernet of --space (CTest Tools.*SupernetTorch).

  1. The family's reference parity: the plain model against shared/golden (turbovit-fmnist:
     timm's hiera_small; elasticvit-fmnist: the official ElasticViT-T1 and its reference MFLOPs;
     skipped, with a note, where those files are absent or with --no-reference).
  2. The weight-sharing forward used in training (views of the supernet through the plain
     module) equals a standalone plain subnet loaded with subnet_state_dict (eval mode),
     max |diff| <= --tolerance, for s, m, l and seeded random subnets, on randomised weights so
     that every tensor changes the output.
  3. The slicing rule, written out by hand for a few tensors (the family's check_slicing).
  4. Gradients of a subnet's loss reach exactly the supernet tensors the subnet uses, and within
     them exactly the rows / columns / kernel taps its slices cover.
  5. The family's other checks (efficientformer-fmnist: BN recalibration against hand-computed
     statistics; elasticvit-fmnist: the complexity-aware sampler).
  6. With --checkpoint: the checkpoint loads, names its space and format, says how it was
     trained; with --goldens DIR also: the golden files match this checkpoint and this code (and,
     with --recal, m's BN recalibration, which needs Fashion-MNIST's files).

Usage: OPENBLAS_NUM_THREADS=1 PYTHONPATH=tools /usr/bin/python3 -m hwnas_tools.check --space S \\
           [--checkpoint data/supernets/S.safetensors [--goldens tests/data/S [--recal]]]
Exit status: 0 pass, 1 fail, 77 without numpy/torch (CTest: skipped).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
from types import ModuleType

from hwnas_tools import SHARED_GOLDEN, require_torch

require_torch()

import numpy as np  # noqa: E402
import torch  # noqa: E402

from hwnas_tools import fmnist_data, spaces, supernet  # noqa: E402
from hwnas_tools.tensor_io import float_state, read_header, read_safetensors  # noqa: E402

CHECKPOINT_MAX_BYTES = 20 * 2 ** 20


def check_forward(fam: ModuleType, net: torch.nn.Module, archs, tol: float) -> bool:
    """Weight-sharing forward == standalone plain subnet (eval mode), and the output depends on
    the input (two images give different logits)."""
    runner = supernet.SubnetRunner(fam, net)
    net.eval()
    x = torch.randn(2, 1, fam.RESOLUTION, fam.RESOLUTION,
                    generator=torch.Generator().manual_seed(1))
    ok = True
    for name, arch in archs:
        with torch.no_grad():
            shared = runner(arch, x)
            plain = supernet.plain_subnet(fam, arch, net.tensors()).eval()(x)
        diff = float((shared - plain).abs().max())
        spread = float((plain[0] - plain[1]).abs().max())
        print(f"{name}: weight-sharing vs plain max |diff| = {diff:.3g} (|logits| max "
              f"{float(plain.abs().max()):.3g}, input sensitivity {spread:.3g})")
        ok &= diff <= tol and spread > 1e-3
    return bool(ok)


def check_gradients(fam: ModuleType, net: torch.nn.Module) -> bool:
    """A subnet's loss gives a gradient to exactly the supernet parameters it slices, and the
    family's expectations of which entries inside them (gradient_slices_ok)."""
    net.train()
    arch = fam.NAMED[fam.GRADIENT_ARCH]
    net.zero_grad(set_to_none=True)
    x = torch.randn(2, 1, fam.RESOLUTION, fam.RESOLUTION)
    supernet.SubnetRunner(fam, net)(arch, x).sum().backward()
    grads = {k: t.grad for k, t in net.tensors().items() if t.requires_grad}
    used = {fam.supernet_name(arch, k) for k in fam.subnet_state_dict(arch, net.tensors())}
    ok = all((grads[k] is not None) == (k in used) for k in grads)
    ok = ok and fam.gradient_slices_ok(grads)
    net.zero_grad(set_to_none=True)
    print(f"gradients reach exactly the used slices of the supernet: {'ok' if ok else 'FAIL'}")
    return bool(ok)


def check_checkpoint(fam: ModuleType, path: str) -> bool:
    """The checkpoint loads (load_supernet raises on missing / extra names or wrong shapes), names
    its space and format, says how it was trained, is at most 20 MiB and holds no integer BN
    buffers."""
    _, meta = supernet.load_supernet(fam, path)
    ok = meta.get("space") == fam.SPACE and meta.get("format") == supernet.CHECKPOINT_FORMAT
    ok &= "trained" in meta and os.path.getsize(path) <= CHECKPOINT_MAX_BYTES
    ok &= not any(k.endswith("num_batches_tracked") for k in read_header(path))
    print(f"checkpoint {path}: {os.path.getsize(path) / 2 ** 20:.2f} MiB, {meta}: "
          f"{'ok' if ok else 'FAIL'}")
    return bool(ok)


def check_goldens(fam: ModuleType, checkpoint: str, golden_dir: str, tol: float,
                  recal: bool) -> bool:
    """The golden files were written from this checkpoint by this code: logits of every subnet
    (no recalibration), s's sliced file, the family's per-subnet numbers, and with ``recal`` m's
    recalibrated logits and BN statistics."""
    with open(os.path.join(golden_dir, "subnets.json")) as f:
        info = json.load(f)
    with open(checkpoint, "rb") as f:
        ok = info["checkpoint_sha256"] == hashlib.sha256(f.read()).hexdigest()
    ok &= info["space"] == fam.SPACE and info.get("batchnorm", fam.HAS_BATCHNORM) == fam.HAS_BATCHNORM
    net, _ = supernet.load_supernet(fam, checkpoint)
    x = torch.from_numpy(np.load(os.path.join(golden_dir, info["input"])))
    raw = np.load(os.path.join(golden_dir, info["raw_input"]))
    ok &= float(np.abs(fmnist_data.preprocess(raw, fam.UPSAMPLE) - x.numpy()).max()) == 0.0
    if recal and not os.path.exists(fmnist_data.data_dir()):
        print(f"note: no Fashion-MNIST in {fmnist_data.data_dir()} (${fmnist_data.ENV_VAR}); "
              "m's recalibration not checked")
        recal = False
    worst = 0.0
    for name, entry in info["subnets"].items():
        arch = fam.arch_from_json(entry["arch"])
        ok &= all(abs(v - entry[k]) <= 1e-5 for k, v in fam.golden_entry(arch).items())
        model = supernet.plain_subnet(fam, arch, net.tensors()).eval()
        with torch.no_grad():
            got = model(x).numpy()
        worst = max(worst, float(np.abs(got - np.load(os.path.join(golden_dir, entry["logits"])))
                                 .max()))
        if "sliced" in entry:
            tensors, _ = read_safetensors(os.path.join(golden_dir, entry["sliced"]))
            want = float_state(model)
            ok &= sorted(tensors) == sorted(want) and all(
                np.array_equal(tensors[k], want[k].numpy()) for k in want)
        if recal and "recal_bn" in entry:
            images = fmnist_data.Splits(info["split_seed"])["train"][0][:supernet.RECAL_IMAGES]
            supernet.recalibrate_bn(model, images, fam.UPSAMPLE)
            with torch.no_grad():
                got = model(x).numpy()
            worst = max(worst, float(np.abs(
                got - np.load(os.path.join(golden_dir, entry["recal_logits"]))).max()))
            stats = np.load(os.path.join(golden_dir, entry["recal_bn"]))
            state = model.state_dict()
            worst = max(worst, max(float(np.abs(stats[k] - state[k].numpy()).max())
                                   for k in stats.files))
    ok &= worst <= tol
    print(f"goldens in {golden_dir} vs checkpoint{' (with m recalibration)' if recal else ''}: "
          f"max |diff| = {worst:.3g}: {'ok' if ok else 'FAIL'}")
    return bool(ok)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m hwnas_tools.check",
                                     description=__doc__.split("\n\n")[0])
    spaces.add_space_argument(parser)
    parser.add_argument("--checkpoint", help="also check this supernet checkpoint")
    parser.add_argument("--goldens", help="with --checkpoint: re-check the golden files in DIR")
    parser.add_argument("--recal", action=argparse.BooleanOptionalAction,
                        help="with --goldens: also m's BN recalibration (default: on for "
                        "efficientformer-fmnist, off for elasticvit-fmnist, whose 128x128 "
                        "recalibration takes ~10 s)")
    parser.add_argument("--golden-dir", default=SHARED_GOLDEN,
                        help="shared golden directory of the reference parity check (default "
                        "../shared/golden)")
    parser.add_argument("--no-reference", action="store_true",
                        help="skip the reference parity check (1)")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args(argv)
    fam = spaces.family(args.space)
    spaces.apply_defaults(args, fam, recal=False)
    torch.set_num_threads(1)
    torch.manual_seed(0)  # the default init the randomisation leaves, and the gradient input
    ok = True
    if not args.no_reference:
        ok &= fam.check_reference(args.golden_dir)
    net = fam.Supernet()
    fam.randomise_supernet(net, seed=5)
    rng = random.Random(7)
    archs = [(n, a) for n, a in fam.NAMED.items()]
    archs += [(f"random{i}", fam.sample_arch(rng)) for i in range(fam.CHECK_RANDOM_SUBNETS)]
    ok &= check_forward(fam, net, archs, args.tolerance)
    ok &= fam.check_slicing(net)
    ok &= check_gradients(fam, net)
    for check in fam.EXTRA_CHECKS:
        ok &= check(net)
    if args.checkpoint:
        ok &= check_checkpoint(fam, args.checkpoint)
        if args.goldens:
            ok &= check_goldens(fam, args.checkpoint, args.goldens,
                                max(args.tolerance, fam.GOLDEN_TOLERANCE), args.recal)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
