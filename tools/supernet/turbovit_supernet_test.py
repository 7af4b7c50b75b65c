#!/usr/bin/env python3
"""Checks of the turbovit-fmnist (Hiera) supernet (tools/supernet/turbovit_fmnist.py).

  1. The plain Hiera (tools/hiera_ref.py) reproduces timm's golden hiera_small logits (<= 1e-4;
     skipped without ../shared/golden).
  2. The weight-sharing forward used in training equals a standalone plain Hiera loaded with
     subnet_state_dict, max |diff| <= 1e-5, for s, m, l and seeded random subnets.
  3. The slicing rule written out by hand for subnet m (block mapping, first-k prefixes, the
     q / k / v rows of attn.qkv) and l (the union network itself).
  4. Gradients of a subnet's loss reach exactly the supernet rows / columns the subnet uses.
  5. With --checkpoint: the checkpoint loads, has the union's timm names and the metadata; with
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
import turbovit_fmnist as sn  # noqa: E402
import supernet_checks  # noqa: E402

ref = sn.ref
io = ref.ef


def randomise(net: sn.Supernet, seed: int) -> None:
    """Weights large enough that every block changes the output (LayerNorm affine included)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in net.union.named_parameters():
            scale = 0.5 if p.dim() == 1 else 0.1
            p.copy_(torch.randn(p.shape, generator=gen) * scale + (1.0 if name.endswith(
                "norm1.weight") or name.endswith("norm2.weight") else 0.0))


def check_slicing(net: sn.Supernet) -> bool:
    sup = net.tensors()
    m = sn.named_arch("m")  # widths 24/48/96/144, depths 1/2/2/1; union 32/64/128/256, 2/2/3/2
    sub = sn.subnet_state_dict(m, sup)
    qkv = sup["blocks.4.attn.qkv.weight"]  # m's block 3 (stage 3, first): 48 -> 96, union 64 -> 128
    expect = {
        "patch_embed.proj.weight": sup["patch_embed.proj.weight"][:24],
        "pos_embed": sup["pos_embed"][:, :, :24],
        "blocks.0.norm1.weight": sup["blocks.0.norm1.weight"][:24],
        "blocks.1.proj.weight": sup["blocks.2.proj.weight"][:48, :24],  # stage 2 starts at 2
        "blocks.2.mlp.fc1.weight": sup["blocks.3.mlp.fc1.weight"][:144, :48],
        "blocks.3.attn.qkv.weight": torch.cat([qkv[0:96, :48], qkv[128:224, :48],
                                               qkv[256:352, :48]]),
        "blocks.3.attn.qkv.bias": torch.cat([sup["blocks.4.attn.qkv.bias"][o:o + 96]
                                             for o in (0, 128, 256)]),
        "blocks.3.attn.proj.weight": sup["blocks.4.attn.proj.weight"][:96, :96],
        "blocks.4.mlp.fc2.weight": sup["blocks.5.mlp.fc2.weight"][:96, :288],
        "blocks.5.proj.weight": sup["blocks.7.proj.weight"][:144, :96],  # stage 4 starts at 7
        "norm.bias": sup["norm.bias"][:144],
        "head.projection.weight": sup["head.projection.weight"][:, :144],
        "head.projection.bias": sup["head.projection.bias"],
    }
    ok = len(sub) == len(ref.Hiera(m.hiera()).state_dict())
    for k, v in expect.items():
        ok &= k in sub and sub[k].shape == v.shape and bool(torch.equal(sub[k], v))
    l_sub = sn.subnet_state_dict(sn.named_arch("l"), sup)  # the union network: identity
    ok &= sorted(l_sub) == sorted(sup) and all(torch.equal(l_sub[k], sup[k]) for k in sup)
    print(f"slicing rule (hand-written expectations for m, identity for l): "
          f"{'ok' if ok else 'FAIL'}")
    return bool(ok)


def check_gradients(net: sn.Supernet) -> bool:
    arch = sn.named_arch("s")  # widths 16/32/48/80, one block per stage
    net.zero_grad(set_to_none=True)
    x = torch.randn(2, 1, sn.RESOLUTION, sn.RESOLUTION)
    sn.SubnetRunner(net)(arch, x).sum().backward()
    grads = {k[len("union."):]: p.grad for k, p in net.named_parameters()}
    used = {sn.supernet_name(arch, k) for k in sn.subnet_state_dict(arch, net.tensors())}
    ok = all(grads[k] is not None for k in grads if k in used)
    ok &= all(grads[k] is None for k in grads if k not in used)
    g = grads["blocks.2.attn.qkv.weight"].reshape(3, 64, 32)  # s's block 1: 16 -> 32 of 32 -> 64
    ok &= bool((g[:, :32, :16].abs().sum(dim=(1, 2)) > 0).all())
    ok &= bool(g[:, 32:].abs().sum() == 0) and bool(g[:, :, 16:].abs().sum() == 0)
    net.zero_grad(set_to_none=True)
    print(f"gradients reach exactly the used slices of the supernet: {'ok' if ok else 'FAIL'}")
    return bool(ok)


def check_goldens(checkpoint: str, golden_dir: str, tol: float) -> bool:
    """The golden files were written from this checkpoint by this code."""
    info = json.load(open(os.path.join(golden_dir, "subnets.json")))
    ok = info["checkpoint_sha256"] == hashlib.sha256(open(checkpoint, "rb").read()).hexdigest()
    ok &= info["space"] == sn.SPACE and not info["batchnorm"]
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
            tensors, _ = io.read_safetensors(os.path.join(golden_dir, entry["sliced"]))
            want = io.float_state(model)
            ok &= sorted(tensors) == sorted(want) and all(
                np.array_equal(tensors[k], want[k].numpy()) for k in want)
    ok &= worst <= tol
    print(f"goldens in {golden_dir} vs checkpoint: max |diff| = {worst:.3g}: "
          f"{'ok' if ok else 'FAIL'}")
    return bool(ok)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", help="also check this supernet checkpoint")
    parser.add_argument("--goldens", help="with --checkpoint: re-check the golden files in DIR")
    parser.add_argument("--golden-dir", default=ref.DEFAULT_GOLDEN,
                        help="timm's hiera_small golden (default ../shared/golden)")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    ok = True
    if os.path.exists(os.path.join(args.golden_dir, "hiera_small.safetensors")):
        ok &= ref.check_golden(args.golden_dir, 1e-4)
    else:
        print(f"hiera_small golden not found in {args.golden_dir}: parity check skipped")
    torch.manual_seed(0)
    net = sn.Supernet()
    randomise(net, seed=5)
    rng = random.Random(7)
    archs = [(n, sn.named_arch(n)) for n in ("s", "m", "l")]
    archs += [(f"random{i}", sn.sample_arch(rng)) for i in range(3)]
    ok &= supernet_checks.check_forward(sn, net, archs, args.tolerance)
    ok &= check_slicing(net)
    ok &= check_gradients(net)
    if args.checkpoint:
        ok &= supernet_checks.check_checkpoint(sn, args.checkpoint)
        if args.goldens:
            ok &= check_goldens(args.checkpoint, args.goldens, 1e-4)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
