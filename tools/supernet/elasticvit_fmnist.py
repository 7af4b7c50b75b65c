"""Weight-sharing supernet of the elasticvit-fmnist space (Fashion-MNIST, 1x128x128, 10 classes).

Follows the contract in shared EVIT-FMNIST-SPEC.md and the exact block computations of
shared/golden/elasticvit_blocks.md (microsoft/Moonlit ElasticViT, models/{model,cnn,transformer}.py):
  * ``ElasticViT`` is the plain subnet under the official code's parameter names (``first_conv``,
    ``conv_stem.layers.{i}.0``, ``feature_exactor.{0..5}``, ``pre_head_0``, ``classifer``):
    whole-sample LayerNorm, per-head qkv chunking, 3x3 depthwise conv on V, relative-position bias,
    odd-size pooling shortcut, hswish. The same module runs the real space's golden subnet t1
    (3 input channels, 1000 classes, head 1984), which checks it (elasticvit_test.py);
  * the supernet is the union network: arch ``l`` (5x5 kernels, expand 6, MLP ratio 4, V-scale 4,
    all max widths and depths) plus a ``shortcut_conv`` in the first block of C1, C2 and every
    transformer entry (a subnet needs it when its input width differs from its output width, which
    in ``l`` happens to be equal for C1). Its relative-position tables are ((2R-1)^2, C_max/16)
    with R the token grid at 128 (8, 8, 4, 2);
  * ``subnet_state_dict`` slices a subnet out of it (elasticvit_blocks.md, "Supernet -> subnet
    slicing"): first-k everywhere, centre k x k of the 5x5 depthwise kernels, the qkv rows
    [0,h*16) ++ [C_max, C_max+h*16) ++ [2C_max, 2C_max+h*dv), the centre of the bias table and its
    first h columns, the first d blocks of every stage;
  * training runs the plain subnet module through ``functional_call`` with those slices of the
    supernet's tensors (every conv / linear then is F.conv2d / F.linear on a slice), so gradients
    reach the shared weights and the training forward is the sliced subnet's forward.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import sys
from typing import Dict, Iterable, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import efficientformer_fmnist as ef  # noqa: E402  (safetensors I/O, BN recalibration)
import fmnist_data  # noqa: E402

ref = ef.ref
SPACE = "elasticvit-fmnist"
RESOLUTION = 128
UPSAMPLE = 4  # 28 -> pad 32 -> 4x nearest -> 128
HEAD_DIM = 16
RECAL_IMAGES, RECAL_BATCH = ef.RECAL_IMAGES, ef.RECAL_BATCH


@dataclasses.dataclass(frozen=True)
class Fixed:
    """Network constants that are not searched (the definition's "fixed")."""
    in_channels: int
    num_classes: int
    head_feat: int
    classifier_mul: int = 6
    entry_expand: int = 6
    entry_kernel: int = 3


PROXY = Fixed(in_channels=1, num_classes=10, head_feat=256)
REAL = Fixed(in_channels=3, num_classes=1000, head_feat=1984)  # the `elasticvit` space (goldens)


@dataclasses.dataclass(frozen=True)
class Arch:
    """One subnet, as hwnas's arch JSON: widths/depths of (first conv + stem, C1, C2, T1..T4),
    kernel of (stem, C1, C2), expand of (C1, C2), MLP ratio and V-scale of T1..T4."""
    resolution: int
    widths: Tuple[int, ...]
    depths: Tuple[int, ...]
    kernel: Tuple[int, ...]
    expand: Tuple[int, ...]
    mlp_ratio: Tuple[int, ...]
    v_scale: Tuple[int, ...]


# The proxy space's choices (EVIT-FMNIST-SPEC.md), in hwnas's dimension order.
WIDTH_CHOICES = ((16, 24), (16, 24), (24, 32), (32, 48), (48, 64), (64, 80, 96), (96, 112, 128))
DEPTH_CHOICES = ((1, 2), (1, 2), (1, 2, 3), (1, 2), (1, 2), (1, 2, 3), (1, 2))
KERNEL_CHOICES = ((3, 5),) * 3
EXPAND_CHOICES = ((3, 4, 5, 6),) * 2
MLP_CHOICES = ((2, 3, 4),) * 4
VSCALE_CHOICES = ((2, 3, 4),) * 4
CHOICES = {"widths": WIDTH_CHOICES, "depths": DEPTH_CHOICES, "kernel": KERNEL_CHOICES,
           "expand": EXPAND_CHOICES, "mlp_ratio": MLP_CHOICES, "v_scale": VSCALE_CHOICES}
FIELDS = tuple(CHOICES)


def make_arch(widths, depths, kernel, expand, mlp_ratio, v_scale,
              resolution: int = RESOLUTION) -> Arch:
    """An arch of the proxy space; raises ValueError outside it (choices, non-decreasing widths)."""
    arch = Arch(int(resolution), *(tuple(int(v) for v in x)
                                   for x in (widths, depths, kernel, expand, mlp_ratio, v_scale)))
    if arch.resolution != RESOLUTION:
        raise ValueError(f"{SPACE} has resolution {RESOLUTION} only, got {arch.resolution}")
    for field, choices in CHOICES.items():
        values = getattr(arch, field)
        if len(values) != len(choices):
            raise ValueError(f"{field} needs {len(choices)} entries, got {len(values)}")
        for i, (v, c) in enumerate(zip(values, choices)):
            if v not in c:
                raise ValueError(f"{field}[{i}] = {v} is outside {c}")
    if any(a > b for a, b in zip(arch.widths, arch.widths[1:])):
        raise ValueError(f"widths {arch.widths} decrease from one stage to the next")
    return arch


def extreme_arch(pick) -> Arch:
    return make_arch(*([pick(c) for c in CHOICES[f]] for f in FIELDS))


SMALLEST = extreme_arch(min)
LARGEST = extreme_arch(max)
NAMED = {
    "s": SMALLEST,
    "m": make_arch((16, 16, 24, 32, 48, 80, 112), (1, 2, 2, 1, 2, 2, 1), (3, 3, 5), (4, 4),
                   (3, 3, 3, 3), (3, 3, 3, 3)),
    "l": LARGEST,
}


def arch_json(arch: Arch, space: str = SPACE) -> Dict[str, object]:
    """hwnas's arch JSON (what `hwnas describe --json` prints as "arch")."""
    d = {"space": space, "resolution": arch.resolution}
    d.update({f: list(getattr(arch, f)) for f in FIELDS})
    d["heads"] = [w // HEAD_DIM for w in arch.widths[3:]]
    return d


def arch_from_json(text_or_dict) -> Arch:
    d = json.loads(text_or_dict) if isinstance(text_or_dict, str) else text_or_dict
    if d.get("space", SPACE) != SPACE:
        raise ValueError(f"arch {d} is not of space {SPACE}")
    return make_arch(*(d[f] for f in FIELDS), resolution=d.get("resolution", RESOLUTION))


def sample_uniform(rng: random.Random, floor: Optional[Arch] = None) -> Arch:
    """Uniform over every dimension's options at or above ``floor`` (the smallest arch when None);
    each width also at or above the previous stage's (the non-decreasing constraint)."""
    floor = floor or SMALLEST
    values = {}
    for f in FIELDS:
        out = []
        for i, choices in enumerate(CHOICES[f]):
            low = getattr(floor, f)[i]
            if f == "widths" and out:
                low = max(low, out[-1])
            out.append(rng.choice([c for c in choices if c >= low]))
        values[f] = out
    return make_arch(*(values[f] for f in FIELDS))


# ------------------------------------------------------------------------------------------------
# Grids and FLOPs.

def grids(resolution: int) -> Tuple[int, ...]:
    """Feature-map sides of (first conv/stem, C1, C2, T1, T2, T3, T4): conv stages halve (floor),
    transformer entries with stride 2 take ceil(H/2), T2 keeps its input's grid."""
    g = [resolution // 2]
    g.append(g[-1] // 2)
    g.append(g[-1] // 2)
    for t in range(4):
        g.append(g[-1] if t == 1 else (g[-1] + 1) // 2)
    return tuple(g)


def reference_mflops(arch: Arch, fixed: Fixed = PROXY) -> float:
    """FusedSuperNet.compute_flops() (elasticvit_blocks.md, last section; MACs counted once,
    millions), with the first conv's 27 = 3 * 9 as in_channels * 9 and the head's 1984 / 1000 as
    head_feat / num_classes, so REAL gives the code's numbers (t1: 62.9)."""
    r2 = arch.resolution // 2
    c0, k0 = arch.widths[0], arch.kernel[0]
    f = fixed.in_channels * 9 * c0 * r2 * r2 + (c0 * r2 * r2 * k0 * k0 + c0 * c0 * r2 * r2) * arch.depths[0]
    g, cin = r2, c0
    for s in (1, 2):
        g //= 2
        w, k = arch.widths[s], arch.kernel[s]
        for b in range(arch.depths[s]):
            ci = cin if b == 0 else w
            e = ci * arch.expand[s - 1]
            gin = 2 * g if b == 0 else g  # the expand conv runs at the input size
            f += ci * e * gin * gin + e * k * k * g * g + e * w * g * g
            if s == 2:
                f += 2 * e * (e // 4)  # SE in C2
            if b == 0:
                f += ci * w * g * g    # 1x1 shortcut, counted even when none runs
        cin = w
    n = w = 0
    for t in range(4):
        down = t != 1
        if down:
            g = (g + 1) // 2
        w = arch.widths[3 + t]
        n = g * g
        h, dq, dv, m = w // HEAD_DIM, HEAD_DIM, HEAD_DIM * arch.v_scale[t], arch.mlp_ratio[t]
        gin = 2 * g if down else g  # (2G)^2 even when the real input was odd
        e = fixed.entry_expand * cin
        f += cin * e * gin * gin + e * 9 * g * g + e * w * g * g
        f += arch.depths[3 + t] * (h * n * n * (dq + dv + 1) + w * n * h * (2 * dq + dv)
                                   + n * h * dv * w + n * h * dv + 2 * m * w * w * n)
        cin = w
    cm = fixed.classifier_mul
    f += cm * w * w * n + cm * w * fixed.head_feat + fixed.head_feat * fixed.num_classes
    return f / 1e6


# ------------------------------------------------------------------------------------------------
# The plain subnet (official names).

def hswish(x: torch.Tensor) -> torch.Tensor:
    return F.hardswish(x)  # x * relu6(x + 3) / 6


class MBConv(nn.Module):
    """MobileBlock of models/cnn.py: [1x1 expand + BN + hswish] -> kxk depthwise + BN + hswish ->
    [SE on the expanded width, reduction 4, ReLU / hsigmoid] -> 1x1 project + BN -> residual
    (identity; else 2x2 average pooling (padding 1 on odd sides) and/or 1x1 shortcut conv).
    NCHW in and out."""

    def __init__(self, cin: int, cout: int, inner: int, kernel: int, stride: int, se: bool,
                 expand_conv: bool, shortcut_conv: bool):
        super().__init__()
        self.cin, self.cout, self.stride = cin, cout, stride
        if expand_conv:
            self.pw_conv = nn.Conv2d(cin, inner, 1, bias=False)
            self.pw_bn = nn.BatchNorm2d(inner)
        self.dw_conv = nn.Conv2d(inner, inner, kernel, stride, kernel // 2, groups=inner, bias=False)
        self.dw_bn = nn.BatchNorm2d(inner)
        if se:
            self.se_conv1 = nn.Conv2d(inner, inner // 4, 1)
            self.se_conv2 = nn.Conv2d(inner // 4, inner, 1)
        self.pwl_conv = nn.Conv2d(inner, cout, 1, bias=False)
        self.pwl_bn = nn.BatchNorm2d(cout)
        if shortcut_conv:
            self.shortcut_conv = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        if hasattr(self, "pw_conv"):
            h = hswish(self.pw_bn(self.pw_conv(h)))
        h = hswish(self.dw_bn(self.dw_conv(h)))
        if hasattr(self, "se_conv1"):
            a = F.relu(self.se_conv1(h.mean(dim=(2, 3), keepdim=True)))
            h = h * F.hardsigmoid(self.se_conv2(a))
        h = self.pwl_bn(self.pwl_conv(h))
        if self.cin == self.cout and self.stride == 1:
            return h + x
        shortcut = x
        if self.stride > 1:  # count_include_pad: odd sides get a zero row/column on top/left
            shortcut = F.avg_pool2d(shortcut, 2, 2, padding=0 if x.shape[-1] % 2 == 0 else 1)
        if self.cin != self.cout:
            shortcut = self.shortcut_conv(shortcut)
        return h + shortcut


class SampleLayerNorm(nn.Module):
    """The code's LayerNorm: F.layer_norm over all N*C values of each sample (B, N, C), eps 1e-5,
    then a per-channel affine (weight, bias of length C)."""

    def __init__(self, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, x.shape[1:], eps=1e-5) * self.weight + self.bias


def relative_position_index(grid: int) -> torch.Tensor:
    """(N, N) int64: row of the ((2G-1)^2, h) bias table for tokens n = y*G + x and m."""
    y, x = torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")
    y, x = y.flatten(), x.flatten()
    dy = y[:, None] - y[None, :] + grid - 1
    dx = x[:, None] - x[None, :] + grid - 1
    return dy * (2 * grid - 1) + dx


class Attention(nn.Module):
    """Attention layer (layers.{2j}) on tokens (B, N, C), N = grid^2; block 0 first runs the entry
    MBConv (``reduction``) on the (B, Cin, H, W) layout of its input tokens."""

    def __init__(self, dim: int, v_scale: int, grid: int, reduction: Optional[MBConv]):
        super().__init__()
        if reduction is not None:
            self.reduction = reduction
        self.heads, self.dv, self.grid = dim // HEAD_DIM, HEAD_DIM * v_scale, grid
        hv = self.heads * self.dv
        self.norm1 = SampleLayerNorm(dim)
        self.qkv = nn.Linear(dim, self.heads * (2 * HEAD_DIM + self.dv), bias=False)
        self.dw_v_conv = nn.Conv2d(hv, hv, 3, 1, 1, groups=hv, bias=False)
        self.attention_bias = nn.Parameter(torch.zeros((2 * grid - 1) ** 2, self.heads))
        self.proj = nn.Linear(hv, dim)
        self.register_buffer("bias_index", relative_position_index(grid), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if hasattr(self, "reduction"):
            b, n, c = x.shape
            side = math.isqrt(n)
            x = self.reduction(x.transpose(1, 2).reshape(b, c, side, side))
            x = x.flatten(2).transpose(1, 2)
        b, n, c = x.shape
        if n != self.grid ** 2:
            raise ValueError(f"attention built for a {self.grid}x{self.grid} grid got {n} tokens")
        h, dq, dv = self.heads, HEAD_DIM, self.dv
        qkv = self.qkv(self.norm1(x)).view(b, n, h, 2 * dq + dv)  # per-head chunks, as the code
        q, k, v = qkv[..., :dq], qkv[..., dq:2 * dq], qkv[..., 2 * dq:]
        v = v.reshape(b, n, h * dv).transpose(1, 2).reshape(b, h * dv, self.grid, self.grid)
        v = self.dw_v_conv(v).flatten(2).transpose(1, 2).reshape(b, n, h, dv)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # (B, h, N, d)
        bias = self.attention_bias[self.bias_index].permute(2, 0, 1)  # (h, N, N)
        attn = (q @ k.transpose(-2, -1) * dq ** -0.5 + bias).softmax(dim=-1)
        o = (attn @ v).transpose(1, 2).reshape(b, n, h * dv)
        return x + self.proj(hswish(o))


class FFN(nn.Module):
    """FFN layer (layers.{2j+1}): x + fc2(hswish(fc1(LN(x)))), tokens (B, N, C)."""

    def __init__(self, dim: int, ratio: int):
        super().__init__()
        self.norm1 = SampleLayerNorm(dim)
        self.fc1 = nn.Linear(dim, ratio * dim)
        self.fc2 = nn.Linear(ratio * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(hswish(self.fc1(self.norm1(x))))


class ConvStage(nn.Module):
    """Blocks under ``layers.{i}.0`` as the code nests them."""

    def __init__(self, blocks: Sequence[nn.Module]):
        super().__init__()
        self.layers = nn.ModuleList(nn.ModuleList([b]) for b in blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer[0](x)
        return x


class TransformerStage(nn.Module):
    def __init__(self, layers: Sequence[nn.Module]):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class ElasticViT(nn.Module):
    """A subnet of ElasticViT as the official code runs it after set_arch (NCHW input of side
    arch.resolution -> logits (B, num_classes)). ``union`` builds the supernet's tensors instead:
    a shortcut_conv in the first block of C1, C2 and every transformer entry, whatever the widths."""

    def __init__(self, arch: Arch, fixed: Fixed = PROXY, union: bool = False):
        super().__init__()
        self.arch, self.fixed = arch, fixed
        w, d, g = arch.widths, arch.depths, grids(arch.resolution)
        self.first_conv = nn.Conv2d(fixed.in_channels, w[0], 3, 2, 1, bias=False)
        self.first_conv_bn = nn.BatchNorm2d(w[0])
        self.conv_stem = ConvStage([MBConv(w[0], w[0], w[0], arch.kernel[0], 1, False, False, False)
                                    for _ in range(d[0])])
        stages = []
        cin = w[0]
        for s in (1, 2):
            blocks = []
            for b in range(d[s]):
                ci = cin if b == 0 else w[s]
                blocks.append(MBConv(ci, w[s], ci * arch.expand[s - 1], arch.kernel[s],
                                     2 if b == 0 else 1, s == 2, True,
                                     b == 0 and (union or ci != w[s])))
            stages.append(ConvStage(blocks))
            cin = w[s]
        for t in range(4):
            c = w[3 + t]
            layers = []
            for j in range(d[3 + t]):
                entry = None
                if j == 0:
                    entry = MBConv(cin, c, fixed.entry_expand * cin, fixed.entry_kernel,
                                   1 if t == 1 else 2, True, True, union or cin != c)
                layers.append(Attention(c, arch.v_scale[t], g[3 + t], entry))
                layers.append(FFN(c, arch.mlp_ratio[t]))
            stages.append(TransformerStage(layers))
            cin = c
        self.feature_exactor = nn.ModuleList(stages)  # the code's spelling
        hidden = fixed.classifier_mul * cin
        self.pre_head_0 = nn.Linear(cin, hidden)
        self.pre_head_norm_0 = nn.BatchNorm1d(hidden)
        self.pre_head_1 = nn.Linear(hidden, fixed.head_feat)
        self.classifer = nn.Linear(fixed.head_feat, fixed.num_classes)  # the code's spelling

    def forward_stages(self, x: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """Logits and the stage outputs of the goldens' stages.npz (stem, stage0..5 (C stages
        NCHW, T stages (B, N, C)), pre_logits)."""
        if tuple(x.shape[1:]) != (self.fixed.in_channels, self.arch.resolution, self.arch.resolution):
            raise ValueError(f"input {tuple(x.shape)} does not match (B, {self.fixed.in_channels}, "
                             f"{self.arch.resolution}, {self.arch.resolution})")
        stages = {}
        x = hswish(self.first_conv_bn(self.first_conv(x)))
        x = stages["stem"] = self.conv_stem(x)
        for i, stage in enumerate(self.feature_exactor):
            if i == 2:
                x = x.flatten(2).transpose(1, 2)  # (B, C, H, W) -> (B, H*W, C), row-major
            x = stages[f"stage{i}"] = stage(x)
        x = self.pre_head_0(x)
        x = hswish(self.pre_head_norm_0(x.transpose(1, 2)).transpose(1, 2)).mean(dim=1)
        x = stages["pre_logits"] = hswish(self.pre_head_1(x))
        return self.classifer(x), stages

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_stages(x)[0]


# ------------------------------------------------------------------------------------------------
# Supernet and slicing.

class Supernet(nn.Module):
    """The union network; its state dict (float entries) is the checkpoint."""

    def __init__(self):
        super().__init__()
        self.net = ElasticViT(LARGEST, PROXY, union=True)

    def tensors(self) -> Dict[str, torch.Tensor]:
        """Every parameter and float buffer by the official name (the checkpoint's content)."""
        return {k: v for k, v in self.net.state_dict(keep_vars=True).items() if v.is_floating_point()}


def slice_tensor(name: str, sup: torch.Tensor, shape: Tuple[int, ...]) -> torch.Tensor:
    """The subnet tensor ``name`` of ``shape`` out of supernet tensor ``sup`` (a view where the
    rule is a plain crop, else a differentiable copy). Raises ValueError if it does not fit."""
    if len(shape) != sup.dim() or any(s > t for s, t in zip(shape, sup.shape)):
        raise ValueError(f"{name}: subnet shape {shape} does not fit supernet shape {tuple(sup.shape)}")
    if name.endswith("qkv.weight"):
        # Rows [q of all heads | k | v] with C_max = the supernet's input width per block.
        c_max, (rows, cols) = sup.shape[1], shape
        h = cols // HEAD_DIM
        hq = h * HEAD_DIM
        hv = rows - 2 * hq
        return torch.cat([sup[:hq], sup[c_max:c_max + hq], sup[2 * c_max:2 * c_max + hv]])[:, :cols]
    if name.endswith("attention_bias"):
        side_r, side_g = math.isqrt(sup.shape[0]), math.isqrt(shape[0])
        off = (side_r - side_g) // 2
        table = sup.view(side_r, side_r, sup.shape[1])[off:off + side_g, off:off + side_g, :shape[1]]
        return table.reshape(shape)
    if sup.dim() == 4 and sup.shape[2] > shape[2]:  # depthwise kernel: centre k x k
        off = (sup.shape[2] - shape[2]) // 2
        return sup[:shape[0], :shape[1], off:off + shape[2], off:off + shape[3]]
    return sup[tuple(slice(0, s) for s in shape)]


def subnet_state_dict(arch: Arch, supernet: Dict[str, torch.Tensor],
                      model: Optional[ElasticViT] = None) -> Dict[str, torch.Tensor]:
    """Official-named state dict of subnet ``arch`` sliced from ``supernet`` (tensors by name);
    gradients flow back into the supernet. ``model`` (an ElasticViT of ``arch``) gives the names
    and shapes; built when not passed."""
    model = model if model is not None else ElasticViT(arch)
    out = {}
    for name, value in ref.float_state(model).items():
        if name not in supernet:
            raise KeyError(f"supernet has no tensor {name}")
        out[name] = slice_tensor(name, supernet[name], tuple(value.shape))
    return out


class SubnetRunner:
    """Weight-sharing forward for training: the plain subnet module run by functional_call with
    the supernet's slices. Keeps one plain module per arch in a small cache."""

    def __init__(self, supernet: Supernet, cache_size: int = 64):
        self.supernet = supernet
        self.cache: Dict[Arch, ElasticViT] = {}
        self.cache_size = cache_size

    def module(self, arch: Arch) -> ElasticViT:
        if arch not in self.cache:
            if len(self.cache) >= self.cache_size:
                self.cache.pop(next(iter(self.cache)))
            self.cache[arch] = ElasticViT(arch)
        return self.cache[arch]

    def __call__(self, arch: Arch, x: torch.Tensor) -> torch.Tensor:
        model = self.module(arch)
        model.train(self.supernet.training)
        views = subnet_state_dict(arch, self.supernet.tensors(), model)
        # BN updates its running statistics in place through the views (a by-product: every
        # subnet is BN-recalibrated before use).
        return torch.nn.utils.stateless.functional_call(model, views, (x,))


def plain_subnet(arch: Arch, supernet_tensors: Dict[str, torch.Tensor]) -> ElasticViT:
    """A standalone plain subnet holding copies of the sliced weights."""
    model = ElasticViT(arch)
    sliced = subnet_state_dict(arch, supernet_tensors, model)
    ref.load_weights(model, {k: v.detach().cpu().numpy() for k, v in sliced.items()})
    return model


def load_supernet(path: str) -> Tuple[Supernet, Dict[str, str]]:
    tensors, meta = ref.read_safetensors(path)
    net = Supernet()
    ref.load_weights(net.net, tensors)
    return net, meta


def save_supernet(net: Supernet, path: str, metadata: Dict[str, str]) -> None:
    """Write-then-rename (efficientformer_fmnist.save_supernet)."""
    ef.save_supernet(net, path, metadata)


def preprocess(images: np.ndarray) -> np.ndarray:
    """(N,28,28) uint8 -> (N,1,128,128) float32, the contract's 4x pipeline."""
    return fmnist_data.preprocess(images, upsample=UPSAMPLE)


def recalibrate_bn(model: nn.Module, images: np.ndarray) -> None:
    """BN recalibration of the contract on uint8 images (efficientformer_fmnist.recalibrate_bn)."""
    ef.recalibrate_bn(model, images, upsample=UPSAMPLE)
