"""Weight-sharing supernet of the elasticvit-fmnist space (Fashion-MNIST, 1x128x128, 10 classes).

Follows the contract in shared EVIT-FMNIST-SPEC.md and the exact block computations of
shared/golden/elasticvit_blocks.md (microsoft/Moonlit ElasticViT, models/{model,cnn,transformer}.py):
  * ``ElasticViT`` is the plain subnet under the official code's parameter names (``first_conv``,
    ``conv_stem.layers.{i}.0``, ``feature_exactor.{0..5}``, ``pre_head_0``, ``classifer``):
    whole-sample LayerNorm, per-head qkv chunking, 3x3 depthwise conv on V, relative-position bias,
    odd-size pooling shortcut, hswish. The same module runs the real space's golden subnet t1
    (3 input channels, 1000 classes, head 1984), which checks it (check_reference);
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
    supernet's tensors (hwnas_tools.supernet; every conv / linear then is F.conv2d / F.linear on a
    slice), so gradients reach the shared weights and the training forward is the sliced subnet's
    forward;
  * training draws its subnets with ElasticViT's complexity-aware sampler (section "Complexity-aware
    sampling" below);
  * the family's hand-written checks (golden T1 parity, slicing, gradient slices, the sampler)
    are at the end; the task scripts dispatch here through hwnas_tools.spaces.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import random
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from hwnas_tools.tensor_io import float_state, load_weights, read_safetensors

SPACE = "elasticvit-fmnist"
RESOLUTION = 128
UPSAMPLE = 4  # 28 -> pad 32 -> 4x nearest -> 128
HEAD_DIM = 16
HAS_BATCHNORM = True


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


def largest_arch() -> Arch:
    return LARGEST


def smallest_arch() -> Arch:
    return SMALLEST


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


def sample_arch(rng: random.Random) -> Arch:
    """Uniform over the whole space (the golden writer's and the checks' random subnets)."""
    return sample_uniform(rng)


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


def plain_model(arch: Arch) -> ElasticViT:
    return ElasticViT(arch)


def supernet_name(arch: Arch, subnet_name: str) -> str:
    """Subnet tensors keep the supernet's names (the slicing rule only crops)."""
    del arch
    return subnet_name


def subnet_state_dict(arch: Arch, tensors: Dict[str, torch.Tensor],
                      model: Optional[ElasticViT] = None) -> Dict[str, torch.Tensor]:
    """Official-named state dict of subnet ``arch`` sliced from the supernet's ``tensors``;
    gradients flow back into the supernet. ``model`` (an ElasticViT of ``arch``) gives the names
    and shapes; built when not passed."""
    model = model if model is not None else ElasticViT(arch)
    out = {}
    for name, value in float_state(model).items():
        if name not in tensors:
            raise KeyError(f"supernet has no tensor {name}")
        out[name] = slice_tensor(name, tensors[name], tuple(value.shape))
    return out


# ------------------------------------------------------------------------------------------------
# Complexity-aware subnet sampling (ElasticViT, Tang et al., ICCV 2023) for the elasticvit-fmnist
# proxy: the logic of hwnas's spaces/elasticvit_sampler.{h,cpp} (SPACES.md section 2; the code's
# FusedSuperNet.arch_sampling, select_min_arch, process.get_bank_id) on the proxy's FLOPs range.
#
#   * FLOPs levels T with a window [T, T + w]; the level index random-walks by a delta uniform over
#     {-1, 0, +1} per step ({0, 0, +1} at the first level, {-1, 0, 0} at the last), starting at the
#     first level and moved before the first step, as the code does;
#   * a level-T subnet is drawn uniformly over each dimension's options at or above the level's
#     floor (widths also at or above the previous stage's) and rejected until its reference MFLOPs
#     lie in the window.
#
# Mapping of the real space's levels onto the proxy (the proxy is the real space at resolution 128,
# scaled down): the real space at resolution 128 spans [37.4, 705.6] reference MFLOPs (its smallest
# and its largest arch at 128), the proxy [S, L] = [16.9, 96.6]. Every real level T and the window
# width 20 map affinely: T' = S + (T - 37.4) * (L - S) / (705.6 - 37.4), w' = 20 * (L - S) / 668.2;
# levels whose mapped window does not fit below L are dropped (700: its window holds only the
# largest; 900 and 1200 exist only at higher resolutions). The per-level floors are the code's min
# archs (keyed 200 / 400 / 800 MFLOPs, chosen per level as select_min_arch does) mapped dimension by
# dimension to the option at the same relative position of the proxy's list (index
# round_half_up(i * (n' - 1) / (n - 1))); as in the code (and hwnas's LevelMinimum) the stem and the
# kernels are unconstrained, expand and MLP ratio take the min arch's smallest value as a floor.

# The real space (spaces/defs/elasticvit.json): levels, window half-width, min archs, choices.
REAL_LEVELS = (100, 200, 300, 400, 500, 700, 900, 1200)
REAL_FLOPS_BOUND = 10  # window [T, T + 2 * bound]
REAL_RANGE_128 = (37.365024, 705.614464)  # smallest / largest reference MFLOPs at resolution 128
REAL_WIDTHS = ((16, 24), tuple(range(16, 33, 8)), tuple(range(16, 49, 8)), tuple(range(48, 97, 16)),
               tuple(range(80, 161, 16)), tuple(range(144, 289, 16)), tuple(range(160, 321, 16)))
REAL_DEPTHS = ((1, 2), (2, 3, 4, 5), (2, 3, 4, 5, 6), (1, 2, 3, 4, 5)) + ((1, 2, 3, 4, 5, 6),) * 3
REAL_MIN_ARCHS = {  # widths, depths, expand, mlp_ratio, v_scale (configs/final_3min_space.yaml)
    200: ((16, 16, 16, 48, 80, 144, 160), (1, 2, 2, 1, 1, 1, 1), (3, 3), (2, 2, 2, 2), (2, 2, 2, 2)),
    400: ((16, 24, 32, 48, 96, 176, 224), (1, 3, 3, 2, 2, 2, 2), (3, 3), (2, 3, 2, 2), (2, 2, 2, 2)),
    800: ((16, 24, 32, 64, 96, 192, 256), (1, 3, 3, 2, 2, 2, 2), (3, 3), (2, 2, 2, 2), (2, 2, 2, 2)),
}


def map_option(value: int, real: Sequence[int], proxy: Sequence[int]) -> int:
    """The proxy option at the relative position of ``value`` in the real option list."""
    i = real.index(value)
    j = math.floor(i * (len(proxy) - 1) / (len(real) - 1) + 0.5) if len(real) > 1 else 0
    return proxy[j]


def map_min_arch(key: int) -> Arch:
    """The real min arch ``key`` on the proxy's options (stem and kernels at their smallest: they
    are not bounded)."""
    widths, depths, expand, mlp, v_scale = REAL_MIN_ARCHS[key]
    w = [map_option(v, r, p) for v, r, p in zip(widths, REAL_WIDTHS, WIDTH_CHOICES)]
    d = [map_option(v, r, p) for v, r, p in zip(depths, REAL_DEPTHS, DEPTH_CHOICES)]
    w[0], d[0] = WIDTH_CHOICES[0][0], DEPTH_CHOICES[0][0]
    for i in range(1, 7):  # keep the floors themselves a legal (non-decreasing) arch
        w[i] = max(w[i], w[i - 1])
    e = min(EXPAND_CHOICES[0], key=lambda c: abs(c - min(expand)))
    m = min(MLP_CHOICES[0], key=lambda c: abs(c - min(mlp)))
    v = [min(VSCALE_CHOICES[0], key=lambda c: abs(c - s)) for s in v_scale]
    return make_arch(w, d, [3, 3, 3], [e, e], [m] * 4, v)


def min_arch_key(target: int) -> int:
    """select_min_arch: the first key whose (previous key + 2b, key + 2b] holds T, else the largest."""
    keys = sorted(REAL_MIN_ARCHS)
    lower = 0
    for upper in keys:
        if lower + 2 * REAL_FLOPS_BOUND < target <= upper + 2 * REAL_FLOPS_BOUND:
            return upper
        lower = upper
    return keys[-1]


@dataclasses.dataclass(frozen=True)
class Level:
    real_mflops: int
    target: float    # T' (proxy reference MFLOPs)
    width: float     # w'
    floor: Arch   # the mapped min arch


def proxy_levels() -> List[Level]:
    lo, hi = reference_mflops(SMALLEST), reference_mflops(LARGEST)
    scale = (hi - lo) / (REAL_RANGE_128[1] - REAL_RANGE_128[0])
    out = []
    for t in REAL_LEVELS:
        target, width = lo + (t - REAL_RANGE_128[0]) * scale, 2 * REAL_FLOPS_BOUND * scale
        if target + width <= hi:
            out.append(Level(t, target, width, map_min_arch(min_arch_key(t))))
    return out


class ComplexityAwareSampler:
    """The level walk and window rejection sampling (comment above); seeded."""

    kind = "complexity-aware"

    def __init__(self, seed: int, levels: Sequence[Level] = None, max_draws: int = 200000):
        self.levels = list(levels or proxy_levels())
        self.rng = random.Random(seed)
        self.level = 0
        self.max_draws = max_draws
        self.draws = 0

    def walk(self) -> int:
        delta = self.rng.randint(0, 2) - 1
        last = len(self.levels) - 1
        if (self.level == 0 and delta < 0) or (self.level == last and delta > 0):
            delta = 0
        self.level += delta
        return self.level

    def in_window(self, index: int) -> Tuple[Arch, float]:
        level = self.levels[index]
        floor = dataclasses.replace(level.floor, kernel=SMALLEST.kernel)
        for _ in range(self.max_draws):
            self.draws += 1
            arch = sample_uniform(self.rng, floor)
            f = reference_mflops(arch)
            if level.target <= f <= level.target + level.width:
                return arch, f
        raise RuntimeError(f"no subnet in [{level.target:.2f}, {level.target + level.width:.2f}] "
                           f"MFLOPs after {self.max_draws} draws")

    def next(self, count: int) -> Tuple[int, List[Arch]]:
        """One training step: moves the level, returns (level index, ``count`` subnets of it)."""
        index = self.walk()
        return index, [self.in_window(index)[0] for _ in range(count)]

    def describe(self) -> str:
        return f"{self.kind}, levels {describe_levels()}"


def describe_levels() -> Dict[str, object]:
    return {"levels": [{"real_mflops": l.real_mflops, "window": [round(l.target, 3),
                                                                  round(l.target + l.width, 3)],
                        "floor": arch_json(l.floor)} for l in proxy_levels()]}


# ------------------------------------------------------------------------------------------------
# Training and golden files (hwnas_tools.train, hwnas_tools.make_goldens).

NO_DECAY_SUFFIXES = ("attention_bias",)
# PyTorch's CPU depthwise convolutions (forward and backward) run about 2x faster in NHWC; the
# result is the same computation.
CHANNELS_LAST = True
EVAL_BATCH = 250
NO_RECAL_SUBNETS = ("s", "m", "l")  # sandwich-trained BN statistics fit no single subnet
# Runs are fixed by their step count (--steps); without recalibration, top-1 of the first 1,000
# val / test images (a full pass of l takes ~20 min on the shared 2-core machine); the golden
# check leaves m's recalibration (needs Fashion-MNIST's files, ~10 s) to --recal.
DEFAULTS = {"budget_min": 0.0, "no_recal_limit": 1000, "recal": False}


def subnet_sampler(seed: int) -> ComplexityAwareSampler:
    return ComplexityAwareSampler(seed)


def golden_notes(recalibration: Dict[str, object]) -> Dict[str, object]:
    """subnets.json's keys after "raw_input", in the committed files' order (a rewrite of the
    goldens stays byte-identical)."""
    return {"input_note": "first 16 test (t10k) images, pad 2, 4x nearest, normalise",
            "recalibration": recalibration,
            "mflops_note": "reference MFLOPs: FusedSuperNet.compute_flops() with 1 input channel "
                           "(first conv 9*C0*(r/2)^2), head 6C^2*N + 6C*256 + 256*10"}


def golden_entry(arch: Arch) -> Dict[str, float]:
    return {"reference_mflops": round(reference_mflops(arch), 6)}


# ------------------------------------------------------------------------------------------------
# Hand-written checks (hwnas_tools.check).

CHECK_RANDOM_SUBNETS = 2
GRADIENT_ARCH = "m"
GOLDEN_TOLERANCE = 1e-5
# ElasticViT-T1 of the real space (golden/elasticvit_t1.json "arch_list").
T1 = Arch(128, (16, 24, 32, 64, 96, 176, 272), (1, 2, 3, 1, 1, 1, 1), (3, 3, 3), (3, 3),
          (2, 2, 3, 4), (2, 2, 2, 2))


def check_reference(golden_dir: str, tol: float = 1e-4) -> bool:
    """The plain subnet module reproduces the official code's golden ElasticViT-T1 logits and
    stage outputs (3 channels, 1000 classes, head 1984), max |diff| <= tol, and reference_mflops
    gives the code's FLOPs of T1 (the golden json's mflops_code)."""
    if not os.path.exists(os.path.join(golden_dir, "elasticvit_t1.safetensors")):
        print(f"note: {golden_dir} has no elasticvit_t1.*; skipping the official-golden check")
        return True
    info = json.load(open(os.path.join(golden_dir, "elasticvit_t1.json")))
    model = ElasticViT(T1, REAL).eval()
    load_weights(model, read_safetensors(os.path.join(golden_dir, "elasticvit_t1.safetensors"))[0])
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
    mflops = reference_mflops(T1, REAL)
    ok &= abs(mflops - info["mflops_code"]) <= 1e-6
    print(f"golden elasticvit_t1: logits max |diff| = {diff:.3g} (|logits| max {np.abs(want).max():.3g}), "
          f"stages max rel diff {worst:.3g}, reference MFLOPs {mflops:.4f} (code "
          f"{info['mflops_code']:.4f}): {'ok' if ok else 'FAIL'}")
    return bool(ok)


def randomise_supernet(net: Supernet, seed: int) -> None:
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
        net.net(torch.randn(8, 1, RESOLUTION, RESOLUTION, generator=gen))
    net.eval()


def check_slicing(net: Supernet) -> bool:
    sup = net.tensors()
    m = NAMED["m"]  # widths 16/16/24/32/48/80/112, kernels 3/3/5, expand 4, mlp 3, v_scale 3
    sub = subnet_state_dict(m, sup)
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
    cropped = slice_tensor("x.attention_bias", table, ((2 * g - 1) ** 2, h))
    keep = torch.tensor([y * r + x for y in range(g) for x in range(g)])
    want = table[relative_position_index(r)][keep][:, keep][..., :h]
    ok &= bool(torch.equal(cropped[relative_position_index(g)], want))
    print(f"slicing rule (hand-written expectations for m, bias-table crop): {'ok' if ok else 'FAIL'}")
    return bool(ok)


def gradient_slices_ok(grads: Dict[str, torch.Tensor]) -> bool:
    g = grads["conv_stem.layers.0.0.dw_conv.weight"]  # kernel 3 of 5: the centre only
    mask = torch.zeros_like(g, dtype=torch.bool)
    mask[:16, :, 1:4, 1:4] = True
    ok = bool(g[mask].abs().sum() > 0) and bool(g[~mask].abs().sum() == 0)
    g = grads["feature_exactor.4.layers.0.qkv.weight"]  # rows of 5 heads in each block, 80 columns
    rows = torch.zeros(g.shape[0], dtype=torch.bool)
    rows[0:80] = rows[96:176] = rows[192:432] = True
    return ok and bool(g[rows][:, :80].abs().sum() > 0) and bool(g[~rows].abs().sum() == 0) and bool(
        g[:, 80:].abs().sum() == 0)


def check_sampler(net: Supernet) -> bool:
    """Levels inside the proxy's FLOPs range, walk steps of at most one level, every subnet in its
    level's window and at or above its floor, seeded (the supernet plays no part)."""
    del net
    levels = proxy_levels()
    lo, hi = reference_mflops(SMALLEST), reference_mflops(LARGEST)
    ok = len(levels) >= 2 and all(lo <= l.target and l.target + l.width <= hi for l in levels)
    ok &= all(a.target < b.target for a, b in zip(levels, levels[1:]))
    sampler = ComplexityAwareSampler(seed=3)
    again = ComplexityAwareSampler(seed=3)
    previous = 0
    for _ in range(40):
        index, archs = sampler.next(2)
        ok &= abs(index - previous) <= 1 and again.next(2) == (index, archs)
        previous = index
        level = levels[index]
        for a in archs:
            f = reference_mflops(a)
            ok &= level.target <= f <= level.target + level.width
            ok &= all(x >= y for x, y in zip(a.widths[1:] + a.depths[1:] + a.v_scale,
                                             level.floor.widths[1:] + level.floor.depths[1:] + level.floor.v_scale))
            ok &= min(a.expand) >= min(level.floor.expand) and min(a.mlp_ratio) >= min(level.floor.mlp_ratio)
    print(f"complexity-aware sampler ({len(levels)} levels, {sampler.draws} draws for 80 subnets): "
          f"{'ok' if ok else 'FAIL'}")
    return bool(ok)


EXTRA_CHECKS = (check_sampler,)
