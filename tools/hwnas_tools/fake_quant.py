#!/usr/bin/env python3
"""PyTorch fake-quant reference of hwnas's int8 engine (evaluators/quant/).

The engine runs every GEMM layer (Linear, 1x1 and kxk Conv2d) and every depthwise Conv2d in
int8 and keeps LayerNorm, softmax, GELU / Hardswish and the attention matmuls in fp32, as in
Q-HyViT's hybrid scheme. This module computes the same thing with PyTorch modules and
float arithmetic only (quantize-dequantize, "fake quant"), written from the scheme's definition
(evaluators/quant/quant_params.h), not from the engine's code:

  * activations: u8, q = clamp(round(x * (1 / s)) + z, 0, 255), x' = (q - z) * s, per tensor or
    per input channel (the last dim of a Linear's input, dim 1 of a Conv2d's NCHW input);
    round is half to even (torch.round);
  * weights: the activation scales folded in, W'[o, r] = W[o, r] * s[r], then symmetric s8 per
    output channel: sw[o] = max |W'[o, :]| / 127, q = clamp(round(W' * (1 / sw)), -127, 127),
    used as q * sw / s[r];
  * ranges: [min(lo, 0), max(hi, 0)] -> s = (hi - lo) / 255 (1 for an empty range),
    z = clamp(round(-lo / s), 0, 255);
  * depthwise convolutions (groups = channels): the same rules with the activations always per
    tensor (the engine pads the quantized input with z, so padding is exactly 0 after
    dequantization, as here), in the plan's "depthwise" list.

GEMM layers, and depthwise layers among themselves, are matched to the engine's by execution
order (the first call of each module), which a plan records as "order"; the engine checks each
layer's shape. The reference calibrates on its
own (min-max over the calibration images; per channel where one channel's range is more than 8x
the median channel's, and on every third layer so that both granularities are covered; else per
tensor) and writes the plan the engine then loads.

EfficientFormer's two classifiers are one averaged Linear in the engine (a linear map of one
input); the reference averages them likewise before quantizing. ElasticViT's engine blocks run
the MBConv shortcut before the projection, squeeze-excite in fp32, and the attention's qkv as
two products (q and k columns, then v); `engine_layers` lists the reference's layers that way.

Usage (from the repository root, PYTHONPATH=tools; M = python3 -m hwnas_tools.fake_quant):
  M --write-golden tests/data/int8   # plans and int8 logits of the golden nets and subnets
  M --write-golden tests/data/int8 --only elasticvit   # only the nets whose name has "elasticvit"
  M --check tests/data/int8          # recompute the logits from the committed plans and compare
Exit status: 0 on success, 1 on a mismatch, 77 without numpy/torch.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Dict, List, Tuple

from hwnas_tools import REPO_ROOT, SHARED_GOLDEN, require_torch

if __name__ == "__main__":
    require_torch()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from hwnas_tools import (efficientformer_ref, elasticvit_fmnist, hiera_ref, spaces,  # noqa: E402
                         supernet)
from hwnas_tools.tensor_io import load_weights, read_safetensors  # noqa: E402

CALIBRATION_IMAGES = 16
# Fashion-MNIST spaces whose golden subnets (tests/data/<space>/subnets.json: s, m, l and two
# random ones, weights sliced from the bundled supernets) are checked too.
FMNIST_SPACES = ("efficientformer-fmnist", "turbovit-fmnist", "elasticvit-fmnist")
PER_CHANNEL_SPREAD = 8.0  # max channel range / median channel range above which per-channel


def affine_u8(lo: np.ndarray, hi: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    lo = np.minimum(lo, 0).astype(np.float32)
    hi = np.maximum(hi, 0).astype(np.float32)
    width = (hi - lo).astype(np.float32)
    scale = np.where(width > 0, width / np.float32(255), np.float32(1)).astype(np.float32)
    zero = np.clip(np.round(-lo / scale), 0, 255).astype(np.int64)
    return scale, zero


def gemm_modules(model: nn.Module) -> List[nn.Module]:
    """Linear and non-depthwise Conv2d modules, but ElasticViT's squeeze-excite convolutions,
    which the engine runs in fp32 (ops/squeeze_excite)."""
    return [m for name, m in model.named_modules()
            if (isinstance(m, nn.Linear) or (isinstance(m, nn.Conv2d) and m.groups == 1))
            and ".se_conv" not in "." + name]


def depthwise_modules(model: nn.Module) -> List[nn.Module]:
    """Depthwise Conv2d modules (one filter per channel), which the engine runs in int8 too."""
    return [m for m in model.modules() if is_depthwise(m)]


def is_depthwise(module: nn.Module) -> bool:
    return (isinstance(module, nn.Conv2d) and module.groups > 1
            and module.groups == module.in_channels == module.out_channels)


def engine_layers(model: nn.Module, order: List[nn.Module]) -> List[Tuple[nn.Module, int, int]]:
    """The engine's GEMM layers in its execution order, as (module, first output column, output
    columns): ElasticViT's MBConv runs its 1x1 shortcut before the projection, and its attention
    runs qkv as two products, the q and k columns of every head, then the v columns."""
    order = list(order)
    for mb in model.modules():
        if hasattr(mb, "shortcut_conv") and hasattr(mb, "pwl_conv") and mb.shortcut_conv in order:
            i, j = order.index(mb.pwl_conv), order.index(mb.shortcut_conv)
            if j > i:
                order.insert(i, order.pop(j))
    split = {}
    for att in model.modules():
        if hasattr(att, "qkv") and hasattr(att, "dv") and hasattr(att, "heads"):
            qk = att.heads * (att.qkv.out_features // att.heads - att.dv)
            split[att.qkv] = [(0, qk), (qk, att.qkv.out_features - qk)]
    out = []
    for mod in order:
        n = mod.out_features if isinstance(mod, nn.Linear) else mod.out_channels
        out += [(mod, j0, cols) for j0, cols in split.get(mod, [(0, n)])]
    return out


def channel_dim(module: nn.Module) -> int:
    return 1 if isinstance(module, nn.Conv2d) else -1


def in_out(module: nn.Module) -> Tuple[int, int, int]:
    """(k, n, channels) of the layer as the engine's GEMM operand sees it; for a depthwise layer
    (k*k taps, c, 1): its input and the weights' input dim are quantized with one scale."""
    if is_depthwise(module):
        kh, kw = module.kernel_size
        return kh * kw, module.out_channels, 1
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return module.in_channels * kh * kw, module.out_channels, module.in_channels
    return module.in_features, module.out_features, module.in_features


def trace_order(model: nn.Module, x: torch.Tensor, depthwise: bool = False) -> List[nn.Module]:
    """The GEMM (or depthwise) modules in the order of their first call."""
    order: List[nn.Module] = []
    handles = [m.register_forward_pre_hook(
        lambda mod, args: order.append(mod) if mod not in order else None)
        for m in (depthwise_modules(model) if depthwise else gemm_modules(model))]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return order


def calibrate(model: nn.Module, x: torch.Tensor) -> dict:
    order = trace_order(model, x[:1])
    dw_order = trace_order(model, x[:1], depthwise=True)
    lo: Dict[int, np.ndarray] = {}
    hi: Dict[int, np.ndarray] = {}
    dw_lo: Dict[int, float] = {}
    dw_hi: Dict[int, float] = {}

    def observe(mod, args):
        a = args[0].detach()
        if is_depthwise(mod):
            i = dw_order.index(mod)
            dw_lo[i] = min(dw_lo.get(i, np.inf), float(a.min()))
            dw_hi[i] = max(dw_hi.get(i, -np.inf), float(a.max()))
            return
        dim = channel_dim(mod) % a.dim()
        a = a.transpose(dim, -1).reshape(-1, a.shape[dim]).numpy()
        i = order.index(mod)
        lo[i] = np.minimum(lo.get(i, a.min(0)), a.min(0))
        hi[i] = np.maximum(hi.get(i, a.max(0)), a.max(0))

    handles = [m.register_forward_pre_hook(observe) for m in order + dw_order]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    depthwise = []
    for i, mod in enumerate(dw_order):
        scale, zero = affine_u8(np.array([dw_lo[i]]), np.array([dw_hi[i]]))
        depthwise.append({"order": i, "channels": mod.out_channels,
                          "kernel": mod.kernel_size[0], "stride": mod.stride[0],
                          "scale": [float(scale[0])], "zero_point": [int(zero[0])]})
    layers = []
    for i, (mod, _, n) in enumerate(engine_layers(model, order)):
        k, _, channels = in_out(mod)
        ranges = np.maximum(hi[order.index(mod)], 0) - np.minimum(lo[order.index(mod)], 0)
        lo_i, hi_i = lo[order.index(mod)], hi[order.index(mod)]
        # Every third layer per channel regardless, so that both granularities are covered on
        # every net.
        per_channel = (ranges.max() > PER_CHANNEL_SPREAD * max(np.median(ranges), 1e-12)
                       or order.index(mod) % 3 == 0)
        if per_channel:
            scale, zero = affine_u8(lo_i, hi_i)
        else:
            scale, zero = affine_u8(np.array([lo_i.min()]), np.array([hi_i.max()]))
        layers.append({"order": i, "k": k, "n": n,
                       "granularity": "per-channel" if per_channel else "per-tensor",
                       "scale": [float(v) for v in scale],
                       "zero_point": [int(v) for v in zero]})
    return {"version": 1, "rule": "minmax", "percentile": 99.99, "auto_granularity": False,
            "weights": "per-channel", "seed": 0, "images": int(x.shape[0]), "layers": layers,
            "depthwise_int8": True, "depthwise": depthwise, "writer": "hwnas_tools.fake_quant"}


def fake_quant_forward(model: nn.Module, plan: dict, x: torch.Tensor) -> np.ndarray:
    entries = engine_layers(model, trace_order(model, x[:1]))
    if len(entries) != len(plan["layers"]):
        raise SystemExit(f"plan has {len(plan['layers'])} layers, the model {len(entries)}")
    per_module: Dict[nn.Module, dict] = {}
    for (mod, _, n), layer in zip(entries, plan["layers"]):
        k, _, channels = in_out(mod)
        if (k, n) != (layer["k"], layer["n"]):
            raise SystemExit(f"layer {layer['order']}: plan {layer['k']}x{layer['n']}, "
                             f"model {k}x{n}")
        if mod in per_module and (per_module[mod]["scale"] != layer["scale"] or
                                  per_module[mod]["zero_point"] != layer["zero_point"]):
            raise SystemExit(f"layer {layer['order']}: the parts of one module are quantized "
                             "differently")
        per_module[mod] = layer
    dw_order = trace_order(model, x[:1], depthwise=True)
    dw_plan = plan.get("depthwise", [])
    if dw_plan and len(dw_plan) != len(dw_order):
        raise SystemExit(f"plan has {len(dw_plan)} depthwise layers, the model {len(dw_order)}")
    for mod, layer in zip(dw_order, dw_plan):
        if (mod.out_channels, mod.kernel_size[0], mod.stride[0]) != (
                layer["channels"], layer["kernel"], layer["stride"]):
            raise SystemExit(f"depthwise layer {layer['order']}: the plan's shape is not the "
                             "model's")
        per_module[mod] = layer
    saved = {}
    handles = []
    for mod, layer in per_module.items():
        _, _, channels = in_out(mod)
        s = np.asarray(layer["scale"], dtype=np.float32)
        z = np.asarray(layer["zero_point"], dtype=np.float32)
        s = np.broadcast_to(s, (channels,)).copy()
        z = np.broadcast_to(z, (channels,)).copy()
        st, zt, inv = torch.from_numpy(s), torch.from_numpy(z), torch.from_numpy(
            (np.float32(1) / s).astype(np.float32))
        # Weights: fold, quantize per output channel, unfold.
        w = mod.weight.detach().clone()
        shape = [1, channels] + [1] * (w.dim() - 2)
        folded = w * st.reshape(shape)
        amax = folded.abs().reshape(folded.shape[0], -1).max(dim=1).values
        sw = torch.where(amax > 0, amax / 127, torch.ones_like(amax))
        wshape = [-1] + [1] * (w.dim() - 1)
        q = torch.clamp(torch.round(folded * (1 / sw).reshape(wshape)), -127, 127)
        saved[mod] = mod.weight.data
        mod.weight.data = q * sw.reshape(wshape) / st.reshape(shape)

        def quantize_input(m, args, inv=inv, st=st, zt=zt):
            a = args[0]
            dim = channel_dim(m) % a.dim()
            view = [1] * a.dim()
            view[dim] = -1
            qa = torch.clamp(torch.round(a * inv.reshape(view)) + zt.reshape(view), 0, 255)
            return ((qa - zt.reshape(view)) * st.reshape(view),) + tuple(args[1:])

        handles.append(mod.register_forward_pre_hook(quantize_input))
    with torch.no_grad():
        out = model(x).numpy()
    for h in handles:
        h.remove()
    for mod, w in saved.items():
        mod.weight.data = w
    return out


def merge_classifiers(model: efficientformer_ref.EfficientFormer) -> None:
    merged = nn.Linear(model.head.in_features, model.head.out_features)
    with torch.no_grad():
        merged.weight.copy_((model.head.weight + model.head_dist.weight) / 2)
        merged.bias.copy_((model.head.bias + model.head_dist.bias) / 2)
    model.head = merged
    model.head_dist = merged


def golden_nets() -> Dict[str, Tuple[nn.Module, np.ndarray]]:
    """name -> (model with weights, input NCHW): timm's L1 and Hiera-S (../shared/golden), and
    the golden subnets of the FMNIST_SPACES (their 16 golden input images)."""
    nets = {}
    tensors, _ = read_safetensors(os.path.join(SHARED_GOLDEN, "efficientformer_l1.safetensors"))
    l1 = efficientformer_ref.EfficientFormer(efficientformer_ref.NAMED["l1"])
    load_weights(l1, tensors)
    merge_classifiers(l1)
    nets["efficientformer_l1"] = (l1, np.load(os.path.join(SHARED_GOLDEN,
                                                           "efficientformer_l1.input.npy")))
    tensors, meta = read_safetensors(os.path.join(SHARED_GOLDEN, "hiera_small.safetensors"))
    hiera = hiera_ref.Hiera(hiera_ref.timm_arch(json.loads(meta["arch"])))
    load_weights(hiera, tensors)
    nets["hiera_small"] = (hiera, np.load(os.path.join(SHARED_GOLDEN, "hiera_small.input.npy")))
    t1 = elasticvit_fmnist.ElasticViT(elasticvit_fmnist.T1, elasticvit_fmnist.REAL)
    load_weights(t1, read_safetensors(os.path.join(SHARED_GOLDEN, "elasticvit_t1.safetensors"))[0])
    nets["elasticvit_t1"] = (t1, np.load(os.path.join(SHARED_GOLDEN, "elasticvit_t1.input.npy")))
    for space in FMNIST_SPACES:
        fam = spaces.family(space)
        folder = os.path.join(REPO_ROOT, "tests", "data", space)
        with open(os.path.join(folder, "subnets.json")) as f:
            info = json.load(f)
        supernet_net, _ = supernet.load_supernet(fam, os.path.join(REPO_ROOT, info["checkpoint"]))
        tensors = supernet_net.tensors()
        x = np.load(os.path.join(folder, "input.npy"))
        for name, entry in info["subnets"].items():
            model = supernet.plain_subnet(fam, fam.arch_from_json(entry["arch"]), tensors)
            if hasattr(model, "head_dist"):
                merge_classifiers(model)
            nets[f"{space}.{name}"] = (model, x)
    for model, _ in nets.values():
        model.eval()
    return nets


def calibration_batch(x: np.ndarray, seed: int) -> torch.Tensor:
    """The input images and seeded noise images of their shape, CALIBRATION_IMAGES in all."""
    g = torch.Generator().manual_seed(seed)
    extra = max(0, CALIBRATION_IMAGES - x.shape[0])
    noise = torch.rand((extra,) + x.shape[1:], generator=g) * 4 - 2
    return torch.cat([torch.from_numpy(x), noise])


# How many logit steps another CPU's fp32 kernels may move a golden (main's --check).
CROSS_CPU_STEPS = 2


def logit_step(logits: np.ndarray) -> float:
    """One u8 quantization step of the logits' range: the parity tolerance."""
    return float(logits.max() - logits.min()) / 255


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--write-golden", metavar="DIR")
    g.add_argument("--check", metavar="DIR")
    p.add_argument("--only", metavar="TEXT", default="",
                   help="only the nets whose name contains TEXT")
    args = p.parse_args(argv)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    ok = True
    for i, (name, (model, x)) in enumerate(golden_nets().items()):
        if args.only not in name:
            continue
        if args.write_golden:
            os.makedirs(args.write_golden, exist_ok=True)
            plan = calibrate(model, calibration_batch(x, seed=i))
            with open(os.path.join(args.write_golden, name + ".plan.json"), "w") as f:
                json.dump(plan, f, separators=(",", ":"))
            logits = fake_quant_forward(model, plan, torch.from_numpy(x))
            np.save(os.path.join(args.write_golden, name + ".int8_logits.npy"),
                    logits.astype(np.float32))
            with torch.no_grad():
                fp32 = model(torch.from_numpy(x)).numpy()
            per_channel = sum(layer["granularity"] == "per-channel" for layer in plan["layers"])
            print(f"{name}: {len(plan['layers'])} layers ({per_channel} per-channel), "
                  f"{len(plan['depthwise'])} depthwise, "
                  f"max |int8 - fp32| {np.abs(logits - fp32).max():.4g}, "
                  f"logit step {logit_step(fp32):.4g}")
        else:
            with open(os.path.join(args.check, name + ".plan.json")) as f:
                plan = json.load(f)
            logits = fake_quant_forward(model, plan, torch.from_numpy(x))
            want = np.load(os.path.join(args.check, name + ".int8_logits.npy"))
            d = float(np.abs(logits - want).max())
            # Bit-equal on the host that wrote the goldens, but another CPU's fp32 kernels move a
            # few pre-rounding values across a .5 boundary, and one flipped u8 step early in a
            # deep net reaches its logits. Measured: Zen 4 against the Xeon that wrote them, at
            # most 0.65 logit step; PyTorch's AVX2 kernels (an AVX2-only EPYC, 2026-12-06) 1.01
            # (elasticvit-fmnist m). So another CPU gets two steps; one without AVX2 would need
            # more (PyTorch's scalar kernels, ATEN_CPU_CAPABILITY=default: 2.24). A rule changed moves them further: weights rounded by
            # truncation instead of half to even, 2.2-86 steps on all 18 nets. (Activation ties
            # rounded half up instead are rare enough to stay under any such bound: 1.41.)
            step = logit_step(want)
            print(f"{name}: max |diff| {d:.3g} ({d / step:.2f} logit step)")
            ok &= d <= max(1e-5 * max(1.0, float(np.abs(want).max())), CROSS_CPU_STEPS * step)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
