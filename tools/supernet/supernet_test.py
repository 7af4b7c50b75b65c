#!/usr/bin/env python3
"""Checks of the efficientformer-fmnist supernet (tools/supernet/efficientformer_fmnist.py).

  1. The weight-sharing forward used in training (views of the supernet through the plain
     module) equals a standalone plain EfficientFormer loaded with subnet_state_dict (eval mode),
     max |diff| <= 1e-5, for s, m, l and seeded random subnets; on randomised weights, so that
     every block changes the output.
  2. The slicing rule, written out by hand for a few tensors (block renaming, first-k prefixes).
  3. Gradients of a subnet's loss reach exactly the supernet tensors the subnet uses.
  4. With --checkpoint: the committed checkpoint loads, has the contract's names and metadata.
Exit status: 0 pass, 1 fail, 77 without numpy/torch (CTest: skipped).
"""
from __future__ import annotations

import argparse
import os
import random
import sys

try:
    import numpy as np  # noqa: F401
    import torch
except ImportError as missing:
    print(f"skipped: {missing} (needs numpy and PyTorch)", file=sys.stderr)
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import efficientformer_fmnist as sn  # noqa: E402

ref = sn.ref


def check_forward(net: sn.Supernet, archs, tol: float) -> bool:
    runner = sn.SubnetRunner(net)
    net.eval()
    x = torch.randn(4, 1, sn.RESOLUTION, sn.RESOLUTION, generator=torch.Generator().manual_seed(1))
    ok = True
    for name, arch in archs:
        with torch.no_grad():
            shared = runner(arch, x)
            plain = sn.plain_subnet(arch, net.tensors()).eval()(x)
        diff = float((shared - plain).abs().max())
        print(f"{name}: {sn.arch_json(arch)} weight-sharing vs plain max |diff| = {diff:.3g} "
              f"(|logits| max {float(plain.abs().max()):.3g})")
        ok &= diff <= tol and float(plain.abs().max()) > 1e-3
    return ok


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


def check_checkpoint(path: str) -> bool:
    net, meta = sn.load_supernet(path)  # raises on missing / extra names or wrong shapes
    ok = meta.get("space") == sn.SPACE and meta.get("format") == "hwnas-supernet-v1"
    ok &= "trained" in meta and os.path.getsize(path) <= 20 * 2 ** 20
    ok &= not any(k.endswith("num_batches_tracked") for k in ref.read_safetensors(path)[0])
    print(f"checkpoint {path}: {os.path.getsize(path) / 2 ** 20:.2f} MiB, {meta}: "
          f"{'ok' if ok else 'FAIL'}")
    return bool(ok)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", help="also check this supernet checkpoint")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    net = sn.Supernet()
    ref.randomise(net, seed=5)  # layer scales, attention biases and BN statistics of useful size
    rng = random.Random(7)
    archs = [(n, sn.named_arch(n)) for n in ("s", "m", "l")]
    archs += [(f"random{i}", sn.sample_arch(rng)) for i in range(3)]
    ok = check_forward(net, archs, args.tolerance)
    ok &= check_slicing(net)
    ok &= check_gradients(net)
    if args.checkpoint:
        ok &= check_checkpoint(args.checkpoint)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
