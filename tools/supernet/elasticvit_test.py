#!/usr/bin/env python3
"""Checks of the elasticvit-fmnist supernet (tools/supernet/elasticvit_fmnist.py, elasticvit_sampler.py).

  1. The plain subnet module reproduces the official code's golden ElasticViT-T1 logits and stage
     outputs (shared/golden/elasticvit_t1.*: 3 channels, 1000 classes, head 1984), max |diff| <=
     1e-4, and reference_mflops gives the code's FLOPs of T1 (the golden json's mflops_code).
  2. The weight-sharing forward used in training (functional_call on the supernet's slices)
     equals a standalone plain subnet loaded with subnet_state_dict, max |diff| <= 1e-5, for s, m,
     l and seeded random subnets, on randomised weights and BN statistics.
  3. The slicing rule, written out by hand (qkv row blocks, centre of the 5x5 kernels, SE, head,
     block depth), and the bias-table crop against the code's construction (the R x R bias's
     top-left G x G block).
  4. Gradients of a subnet's loss reach exactly the supernet entries it uses.
  5. The complexity-aware sampler: levels inside the proxy's FLOPs range, walk steps of at most
     one level, every subnet in its level's window and at or above its floor, seeded.
  6. With --checkpoint: the checkpoint loads, has the contract's names and metadata; with
     --goldens DIR also: the golden files match this checkpoint and this code (with --recal also
     m's BN recalibration, which needs Fashion-MNIST's files and ~10 s more).
Exit status: 0 pass, 1 fail, 77 without numpy/torch (CTest: skipped).
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import random
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as missing:
    print(f"skipped: {missing} (needs numpy and PyTorch)", file=sys.stderr)
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import elasticvit_fmnist as ev  # noqa: E402
import supernet_checks  # noqa: E402
import elasticvit_sampler as es  # noqa: E402

ref = ev.ref
REPO_ROOT = os.path.dirname(os.path.dirname(ev.HERE))
# ElasticViT-T1 of the real space (golden/elasticvit_t1.json "arch_list").
T1 = ev.Arch(128, (16, 24, 32, 64, 96, 176, 272), (1, 2, 3, 1, 1, 1, 1), (3, 3, 3), (3, 3),
             (2, 2, 3, 4), (2, 2, 2, 2))


def check_golden_t1(golden_dir: str, tol: float) -> bool:
    info = json.load(open(os.path.join(golden_dir, "elasticvit_t1.json")))
    model = ev.ElasticViT(T1, ev.REAL).eval()
    ref.load_weights(model, ref.read_safetensors(os.path.join(golden_dir, "elasticvit_t1.safetensors"))[0])
    x = torch.from_numpy(np.load(os.path.join(golden_dir, "elasticvit_t1.input.npy")))
    with torch.no_grad():
        logits, stages = model.forward_stages(x)
    want = np.load(os.path.join(golden_dir, "elasticvit_t1.logits.npy"))
    diff = float(np.abs(logits.numpy() - want).max())
    ok = diff <= tol
    golden_stages = np.load(os.path.join(golden_dir, "elasticvit_t1.stages.npz"))
    worst = 0.0
    for name in golden_stages.files:
        g = golden_stages[name]
        ok &= stages[name].shape == g.shape
        if stages[name].shape == g.shape:
            worst = max(worst, float(np.abs(stages[name].numpy() - g).max()) / max(1.0, float(np.abs(g).max())))
    ok &= worst <= tol
    mflops = ev.reference_mflops(T1, ev.REAL)
    ok &= abs(mflops - info["mflops_code"]) <= 1e-6
    print(f"golden elasticvit_t1: logits max |diff| = {diff:.3g} (|logits| max {np.abs(want).max():.3g}), "
          f"stages max rel diff {worst:.3g}, reference MFLOPs {mflops:.4f} (code "
          f"{info['mflops_code']:.4f}): {'ok' if ok else 'FAIL'}")
    return bool(ok)


def randomise(net: ev.Supernet, seed: int) -> None:
    """Seeded values of a useful size for the tensors default init leaves constant (BN and LN
    affine, biases, bias tables), then BN statistics of the union network on N(0, 1) images (as
    the golden T1 was made: with random statistics the signal dies out and the logits hardly
    depend on the input), so that every tensor changes the output."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in sorted(net.tensors().items()):
            if name.endswith("running_mean") or name.endswith("running_var"):
                continue
            if t.dim() == 1 and name.endswith("weight"):
                t.copy_(torch.rand(t.shape, generator=gen) + 0.5)
            elif t.dim() == 1 or name.endswith("attention_bias"):
                t.copy_(0.2 * torch.randn(t.shape, generator=gen))
    for module in net.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None
    net.train()
    with torch.no_grad():
        net.net(torch.randn(8, 1, ev.RESOLUTION, ev.RESOLUTION, generator=gen))
    net.eval()


def check_slicing(net: ev.Supernet) -> bool:
    sup = net.tensors()
    m = ev.NAMED["m"]  # widths 16/16/24/32/48/80/112, kernels 3/3/5, expand 4, mlp 3, v_scale 3
    sub = ev.subnet_state_dict(m, sup)
    t3 = "feature_exactor.4.layers."
    qkv = sup[t3 + "0.qkv.weight"]  # (6 * 96, 96): q rows [0, 96), k [96, 192), v [192, 576)
    expect = {
        "first_conv.weight": sup["first_conv.weight"][:16],
        "conv_stem.layers.0.0.dw_conv.weight": sup["conv_stem.layers.0.0.dw_conv.weight"][:16, :, 1:4, 1:4],
        "feature_exactor.0.layers.1.0.pw_conv.weight": sup["feature_exactor.0.layers.1.0.pw_conv.weight"][:64, :16],
        "feature_exactor.1.layers.0.0.dw_conv.weight": sup["feature_exactor.1.layers.0.0.dw_conv.weight"][:64],
        "feature_exactor.1.layers.0.0.se_conv1.weight": sup["feature_exactor.1.layers.0.0.se_conv1.weight"][:16, :64],
        "feature_exactor.1.layers.0.0.se_conv2.bias": sup["feature_exactor.1.layers.0.0.se_conv2.bias"][:64],
        "feature_exactor.1.layers.0.0.shortcut_conv.weight":
            sup["feature_exactor.1.layers.0.0.shortcut_conv.weight"][:24, :16],
        t3 + "0.reduction.pw_conv.weight": sup[t3 + "0.reduction.pw_conv.weight"][:6 * 48, :48],
        t3 + "0.qkv.weight": torch.cat([qkv[0:80], qkv[96:176], qkv[192:192 + 5 * 48]])[:, :80],
        t3 + "0.dw_v_conv.weight": sup[t3 + "0.dw_v_conv.weight"][:5 * 48],
        t3 + "0.attention_bias": sup[t3 + "0.attention_bias"][:, :5],
        t3 + "0.proj.weight": sup[t3 + "0.proj.weight"][:80, :5 * 48],
        t3 + "3.fc1.weight": sup[t3 + "3.fc1.weight"][:240, :80],
        t3 + "3.norm1.bias": sup[t3 + "3.norm1.bias"][:80],
        "pre_head_0.weight": sup["pre_head_0.weight"][:672, :112],
        "pre_head_norm_0.running_var": sup["pre_head_norm_0.running_var"][:672],
        "pre_head_1.weight": sup["pre_head_1.weight"][:, :672],
        "classifer.bias": sup["classifer.bias"],
    }
    ok = not any(k.startswith(t3 + "4.") for k in sub)  # T3 depth 2: layers 0..3
    ok &= "feature_exactor.0.layers.0.0.shortcut_conv.weight" not in sub  # 16 -> 16, pooling only
    for k, v in expect.items():
        ok &= k in sub and sub[k].shape == v.shape and bool(torch.equal(sub[k], v))
    # The bias-table crop (a grid G inside a table built for R): bias[n, m] of the code's R x R
    # construction, restricted to the top-left G x G tokens, equals the cropped table indexed on G.
    r, g, h = 4, 2, 3
    table = torch.randn((2 * r - 1) ** 2, 5, generator=torch.Generator().manual_seed(2))
    cropped = ev.slice_tensor("x.attention_bias", table, ((2 * g - 1) ** 2, h))
    keep = torch.tensor([y * r + x for y in range(g) for x in range(g)])
    want = table[ev.relative_position_index(r)][keep][:, keep][..., :h]
    ok &= bool(torch.equal(cropped[ev.relative_position_index(g)], want))
    print(f"slicing rule (hand-written expectations for m, bias-table crop): {'ok' if ok else 'FAIL'}")
    return bool(ok)


def check_gradients(net: ev.Supernet) -> bool:
    net.train()
    arch = ev.NAMED["m"]
    net.zero_grad(set_to_none=True)
    x = torch.randn(2, 1, ev.RESOLUTION, ev.RESOLUTION)
    ev.SubnetRunner(net)(arch, x).sum().backward()
    grads = {k[len("net."):]: p.grad for k, p in net.named_parameters()}
    used = set(ev.subnet_state_dict(arch, net.tensors()))
    ok = all((grads[k] is not None) == (k in used) for k in grads)
    g = grads["conv_stem.layers.0.0.dw_conv.weight"]  # kernel 3 of 5: the centre only
    mask = torch.zeros_like(g, dtype=torch.bool)
    mask[:16, :, 1:4, 1:4] = True
    ok &= bool(g[mask].abs().sum() > 0) and bool(g[~mask].abs().sum() == 0)
    g = grads["feature_exactor.4.layers.0.qkv.weight"]  # rows of 5 heads in each block, 80 columns
    rows = torch.zeros(g.shape[0], dtype=torch.bool)
    rows[0:80] = rows[96:176] = rows[192:432] = True
    ok &= bool(g[rows][:, :80].abs().sum() > 0) and bool(g[~rows].abs().sum() == 0) and bool(
        g[:, 80:].abs().sum() == 0)
    net.zero_grad(set_to_none=True)
    print(f"gradients reach exactly the used slices of the supernet: {'ok' if ok else 'FAIL'}")
    return bool(ok)


def check_sampler() -> bool:
    levels = es.proxy_levels()
    lo, hi = ev.reference_mflops(ev.SMALLEST), ev.reference_mflops(ev.LARGEST)
    ok = len(levels) >= 2 and all(lo <= l.target and l.target + l.width <= hi for l in levels)
    ok &= all(a.target < b.target for a, b in zip(levels, levels[1:]))
    sampler = es.ComplexityAwareSampler(seed=3)
    again = es.ComplexityAwareSampler(seed=3)
    previous = 0
    for _ in range(40):
        index, archs = sampler.next(2)
        ok &= abs(index - previous) <= 1 and again.next(2) == (index, archs)
        previous = index
        level = levels[index]
        for a in archs:
            f = ev.reference_mflops(a)
            ok &= level.target <= f <= level.target + level.width
            ok &= all(x >= y for x, y in zip(a.widths[1:] + a.depths[1:] + a.v_scale,
                                             level.floor.widths[1:] + level.floor.depths[1:] + level.floor.v_scale))
            ok &= min(a.expand) >= min(level.floor.expand) and min(a.mlp_ratio) >= min(level.floor.mlp_ratio)
    print(f"complexity-aware sampler ({len(levels)} levels, {sampler.draws} draws for 80 subnets): "
          f"{'ok' if ok else 'FAIL'}")
    return bool(ok)


def check_goldens(checkpoint: str, golden_dir: str, tol: float, recal: bool) -> bool:
    info = json.load(open(os.path.join(golden_dir, "subnets.json")))
    ok = info["checkpoint_sha256"] == hashlib.sha256(open(checkpoint, "rb").read()).hexdigest()
    net, _ = ev.load_supernet(checkpoint)
    x = torch.from_numpy(np.load(os.path.join(golden_dir, info["input"])))
    raw = np.load(os.path.join(golden_dir, info["raw_input"]))
    ok &= float(np.abs(ev.preprocess(raw) - x.numpy()).max()) == 0.0
    worst = 0.0
    for name, entry in info["subnets"].items():
        arch = ev.arch_from_json(entry["arch"])
        ok &= abs(ev.reference_mflops(arch) - entry["reference_mflops"]) <= 1e-5
        model = ev.plain_subnet(arch, net.tensors()).eval()
        with torch.no_grad():
            got = model(x).numpy()
        worst = max(worst, float(np.abs(got - np.load(os.path.join(golden_dir, entry["logits"]))).max()))
        if "sliced" in entry:
            tensors, _ = ref.read_safetensors(os.path.join(golden_dir, entry["sliced"]))
            want = ref.float_state(model)
            ok &= sorted(tensors) == sorted(want) and all(
                np.array_equal(tensors[k], want[k].numpy()) for k in want)
        if recal and "recal_bn" in entry:
            images = ev.fmnist_data.Splits(info["split_seed"])["train"][0][:ev.RECAL_IMAGES]
            ev.recalibrate_bn(model, images)
            with torch.no_grad():
                got = model(x).numpy()
            worst = max(worst, float(np.abs(
                got - np.load(os.path.join(golden_dir, entry["recal_logits"]))).max()))
            stats = np.load(os.path.join(golden_dir, entry["recal_bn"]))
            state = model.state_dict()
            worst = max(worst, max(float(np.abs(stats[k] - state[k].numpy()).max()) for k in stats.files))
    ok &= worst <= tol
    print(f"goldens in {golden_dir} vs checkpoint{' (with m recalibration)' if recal else ''}: "
          f"max |diff| = {worst:.3g}: {'ok' if ok else 'FAIL'}")
    return bool(ok)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--golden-dir", default=os.path.join(REPO_ROOT, "..", "shared", "golden"),
                        help="shared golden directory (elasticvit_t1.*)")
    parser.add_argument("--no-t1", action="store_true", help="skip check 1 (no shared goldens)")
    parser.add_argument("--checkpoint", help="also check this supernet checkpoint")
    parser.add_argument("--goldens", help="with --checkpoint: re-check the golden files in DIR")
    parser.add_argument("--recal", action="store_true", help="with --goldens: also m's recalibration")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    ok = True
    if not args.no_t1:
        ok &= check_golden_t1(args.golden_dir, 1e-4)
    net = ev.Supernet()
    randomise(net, seed=5)
    rng = random.Random(7)
    archs = [(n, a) for n, a in ev.NAMED.items()] + [(f"random{i}", ev.sample_uniform(rng)) for i in range(2)]
    ok &= supernet_checks.check_forward(ev, net, archs, args.tolerance)
    ok &= check_slicing(net)
    ok &= check_gradients(net)
    ok &= check_sampler()
    if args.checkpoint:
        ok &= supernet_checks.check_checkpoint(ev, args.checkpoint)
        if args.goldens:
            ok &= check_goldens(args.checkpoint, args.goldens, args.tolerance, args.recal)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
