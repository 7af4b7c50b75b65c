#!/usr/bin/env python3
"""Checks of the efficientformer-fmnist supernet (tools/supernet/efficientformer_fmnist.py).

  1. The weight-sharing forward used in training (views of the supernet through the plain
     module) equals a standalone plain EfficientFormer loaded with subnet_state_dict (eval mode),
     max |diff| <= 1e-5, for s, m, l and seeded random subnets; on randomised weights, so that
     every block changes the output.
  2. The slicing rule, written out by hand for a few tensors (block renaming, first-k prefixes).
  3. Gradients of a subnet's loss reach exactly the supernet tensors the subnet uses.
  4. BN recalibration follows the contract (hand-computed statistics of the stem's BNs).
  5. With --checkpoint: the checkpoint loads, has the contract's names and metadata; with
     --goldens DIR also: the golden files match this checkpoint and this code.
Exit status: 0 pass, 1 fail, 77 without numpy/torch (CTest: skipped).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys

try:
    import numpy as np
    import torch
except ImportError as missing:
    print(f"skipped: {missing} (needs numpy and PyTorch)", file=sys.stderr)
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import efficientformer_fmnist as sn  # noqa: E402
import supernet_checks  # noqa: E402

ref = sn.ref


def check_slicing(net: sn.Supernet) -> bool:
    sup = net.tensors()
    m = sn.named_arch("m")  # widths 24/48/96/160, depths 2 each, one Meta3D at stage-4 index 2
    sub = sn.subnet_state_dict(m, sup)
    expect = {
        "stem.conv1.weight": sup["stem.conv1.weight"][:12, :1],
        "stem.conv2.weight": sup["stem.conv2.weight"][:24, :12],
        "stages.1.downsample.conv.weight": sup["stages.1.downsample.conv.weight"][:48, :24],
        "stages.2.blocks.1.mlp.fc1.weight": sup["stages.2.blocks.1.mlp.fc1.weight"][:384, :96],
        "stages.2.blocks.1.mlp.fc2.weight": sup["stages.2.blocks.1.mlp.fc2.weight"][:96, :384],
        "stages.2.blocks.1.mlp.norm1.running_var":
            sup["stages.2.blocks.1.mlp.norm1.running_var"][:384],
        "stages.3.blocks.0.ls1.gamma": sup["stages.3.blocks.0.ls1.gamma"][:160],
        "stages.3.blocks.2.token_mixer.qkv.weight": sup["stages.3.meta3d.0.token_mixer.qkv.weight"][:, :160],
        "stages.3.blocks.2.token_mixer.qkv.bias": sup["stages.3.meta3d.0.token_mixer.qkv.bias"],
        "stages.3.blocks.2.token_mixer.proj.weight": sup["stages.3.meta3d.0.token_mixer.proj.weight"][:160],
        "stages.3.blocks.2.token_mixer.attention_biases":
            sup["stages.3.meta3d.0.token_mixer.attention_biases"],
        "stages.3.blocks.2.norm1.weight": sup["stages.3.meta3d.0.norm1.weight"][:160],
        "head.weight": sup["head.weight"][:, :160],
        "head_dist.bias": sup["head_dist.bias"],
    }
    ok = "stages.3.blocks.1.ls1.gamma" not in sub  # index 1 is the Flat
    ok &= sub["stages.3.blocks.2.token_mixer.qkv.weight"].shape == (384, 160)
    for k, v in expect.items():
        ok &= k in sub and sub[k].shape == v.shape and bool(torch.equal(sub[k], v))
    # l: Meta4D at 0, Flat at 1, Meta3D 0 and 1 at 2 and 3; stage-4 Meta4D blocks 1, 2 unused.
    l_sub = sn.subnet_state_dict(sn.named_arch("l"), sup)
    ok &= torch.equal(l_sub["stages.3.blocks.3.mlp.fc1.weight"], sup["stages.3.meta3d.1.mlp.fc1.weight"])
    ok &= not any(k.startswith("stages.3.blocks.1.") for k in l_sub)
    ok &= len(l_sub) == len(ref.float_state(ref.EfficientFormer(sn.named_arch("l"))))
    print(f"slicing rule (hand-written expectations for m and l): {'ok' if ok else 'FAIL'}")
    return bool(ok)


def check_gradients(net: sn.Supernet) -> bool:
    net.train()
    arch = sn.named_arch("s")
    net.zero_grad(set_to_none=True)
    x = torch.randn(2, 1, sn.RESOLUTION, sn.RESOLUTION)
    sn.SubnetRunner(net)(arch, x).sum().backward()
    grads = {k: p.grad for k, p in net.named_parameters()}
    used = {sn.supernet_name(arch, k) for k in sn.subnet_state_dict(arch, net.tensors())}
    ok = all(grads[k] is not None for k in grads if k in used)
    ok &= all(grads[k] is None for k in grads if k not in used)
    g = grads["stem.conv2.weight"]  # s uses the first 16 outputs and 8 inputs of 32 x 16
    ok &= bool(g[:16, :8].abs().sum() > 0) and bool(g[16:].abs().sum() == 0) and bool(
        g[:, 8:].abs().sum() == 0)
    net.zero_grad(set_to_none=True)
    print(f"gradients reach exactly the used slices of the supernet: {'ok' if ok else 'FAIL'}")
    return bool(ok)


def check_recalibration(net: sn.Supernet) -> bool:
    """recalibrate_bn against the contract written out with plain tensor ops for the stem's two
    BNs: running mean = mean of the 8 batch means, running var = mean of the unbiased variances."""
    import torch.nn.functional as F
    model = sn.plain_subnet(sn.named_arch("s"), net.tensors())
    images = np.random.default_rng(3).integers(0, 256, (sn.RECAL_IMAGES, 28, 28), dtype=np.uint8)
    sn.recalibrate_bn(model, images)
    stem = model.stem
    means = {"norm1": [], "norm2": []}
    variances = {"norm1": [], "norm2": []}
    with torch.no_grad():
        for begin in range(0, sn.RECAL_IMAGES, sn.RECAL_BATCH):
            x = torch.from_numpy(sn.fmnist_data.preprocess(images[begin:begin + sn.RECAL_BATCH]))
            h = F.conv2d(x, stem.conv1.weight, stem.conv1.bias, stride=2, padding=1)
            means["norm1"].append(h.mean(dim=(0, 2, 3)))
            variances["norm1"].append(h.var(dim=(0, 2, 3), unbiased=True))
            mu, var = h.mean(dim=(0, 2, 3)), h.var(dim=(0, 2, 3), unbiased=False)
            h = (h - mu[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + 1e-5)
            h = F.relu(h * stem.norm1.weight[None, :, None, None] + stem.norm1.bias[None, :, None, None])
            h = F.conv2d(h, stem.conv2.weight, stem.conv2.bias, stride=2, padding=1)
            means["norm2"].append(h.mean(dim=(0, 2, 3)))
            variances["norm2"].append(h.var(dim=(0, 2, 3), unbiased=True))
    worst = 0.0
    for name in ("norm1", "norm2"):
        bn = getattr(stem, name)
        worst = max(worst, float((bn.running_mean - torch.stack(means[name]).mean(0)).abs().max()),
                    float(((bn.running_var - torch.stack(variances[name]).mean(0)).abs()
                           / bn.running_var).max()))
    ok = worst <= 1e-4 and not model.training
    print(f"BN recalibration vs hand-computed stem statistics: max diff {worst:.3g}: "
          f"{'ok' if ok else 'FAIL'}")
    return ok


def check_goldens(checkpoint: str, golden_dir: str, tol: float) -> bool:
    """The golden files were written from this checkpoint by this code: logits of every subnet
    (no recalibration), s's sliced file, and m's recalibration (needs Fashion-MNIST's files)."""
    info = json.load(open(os.path.join(golden_dir, "subnets.json")))
    ok = info["checkpoint_sha256"] == hashlib.sha256(open(checkpoint, "rb").read()).hexdigest()
    net, _ = sn.load_supernet(checkpoint)
    x = torch.from_numpy(np.load(os.path.join(golden_dir, info["input"])))
    raw = np.load(os.path.join(golden_dir, info["raw_input"]))
    ok &= float(np.abs(sn.fmnist_data.preprocess(raw) - x.numpy()).max()) == 0.0
    worst = 0.0
    for name, entry in info["subnets"].items():
        arch = sn.arch_from_json(entry["arch"])
        model = sn.plain_subnet(arch, net.tensors()).eval()
        with torch.no_grad():
            got = model(x).numpy()
        worst = max(worst, float(np.abs(got - np.load(os.path.join(golden_dir, entry["logits"])))
                                 .max()))
        if "sliced" in entry:
            tensors, _ = ref.read_safetensors(os.path.join(golden_dir, entry["sliced"]))
            want = ref.float_state(model)
            ok &= sorted(tensors) == sorted(want) and all(
                np.array_equal(tensors[k], want[k].numpy()) for k in want)
        if "recal_bn" in entry and os.path.exists(sn.fmnist_data.data_dir()):
            images = sn.fmnist_data.Splits(info["split_seed"])["train"][0][:sn.RECAL_IMAGES]
            sn.recalibrate_bn(model, images)
            with torch.no_grad():
                got = model(x).numpy()
            worst = max(worst, float(np.abs(
                got - np.load(os.path.join(golden_dir, entry["recal_logits"]))).max()))
            stats = np.load(os.path.join(golden_dir, entry["recal_bn"]))
            state = model.state_dict()
            worst = max(worst, max(float(np.abs(stats[k] - state[k].numpy()).max())
                                   for k in stats.files))
    ok &= worst <= tol
    print(f"goldens in {golden_dir} vs checkpoint: max |diff| = {worst:.3g}: "
          f"{'ok' if ok else 'FAIL'}")
    return bool(ok)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", help="also check this supernet checkpoint")
    parser.add_argument("--goldens", help="with --checkpoint: re-check the golden files in DIR")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    net = sn.Supernet()
    ref.randomise(net, seed=5)  # layer scales, attention biases and BN statistics of useful size
    rng = random.Random(7)
    archs = [(n, sn.named_arch(n)) for n in ("s", "m", "l")]
    archs += [(f"random{i}", sn.sample_arch(rng)) for i in range(3)]
    ok = supernet_checks.check_forward(sn, net, archs, args.tolerance)
    ok &= check_slicing(net)
    ok &= check_gradients(net)
    ok &= check_recalibration(net)
    if args.checkpoint:
        ok &= supernet_checks.check_checkpoint(sn, args.checkpoint)
        if args.goldens:
            ok &= check_goldens(args.checkpoint, args.goldens, args.tolerance)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
