#!/usr/bin/env python3
"""Plain PyTorch Hiera with per-stage widths / heads / depths / MLP ratios (timm parameter names).

The reference for hwnas's Hiera blocks (TurboViT-style spaces): written from
shared/golden/hiera_blocks.md (timm hiera.py at commit 8a54d2a9, a port of facebookresearch/hiera;
Ryali et al., ICML 2023), no timm code copied. It computes in plain spatial order (B, H, W, C),
which hiera_blocks.md section 2 shows equal to timm's unrolled token order:
  * patch_embed.proj: conv 7x7 stride 4 pad 3 -> tokens + pos_embed (row-major);
  * block: xn = norm1(x); shortcut = proj(xn) (2x2 max-pooled when the block Q-pools) if the width
    changes, else x; attention on xn inside S x S windows (mask units) or globally, queries 2x2
    max-pooled inside the window when the block Q-pools, keys/values not; qkv channels
    [q | k | v], head-major inside each; scale head_dim ** -0.5; then x + MLP(norm2(x));
  * head: mean over tokens, norm, head.projection. LayerNorm eps 1e-6, exact GELU.
The first block of stage s > 0 changes width and heads and, for s <= q_pool, Q-pools (the mask
unit halves); block i uses the mask-unit flag of the stage of block i-1 (Hiera's one-block lag).

Usage: PYTHONPATH=tools python3 -m hwnas_tools.hiera_ref [--golden-dir DIR] [--tolerance T]
       (checks hiera_small's golden logits; from the repository root)
Exit status: 0 when parity holds, 1 when it does not, 2 on bad input, 77 without numpy/torch.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from typing import List, Optional, Sequence, Tuple

from hwnas_tools import SHARED_GOLDEN, require_torch

if __name__ == "__main__":  # a script without torch is skipped (77); a library import raises
    require_torch()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from hwnas_tools.tensor_io import load_weights, read_safetensors  # noqa: E402

LN_EPS = 1e-6


@dataclasses.dataclass(frozen=True)
class HieraArch:
    """One Hiera network (hwnas's HieraConfig, spaces/hiera_network.h)."""
    widths: Tuple[int, ...]
    heads: Tuple[int, ...]
    depths: Tuple[int, ...]
    mlp_ratios: Tuple[int, ...]
    mask_unit: int
    resolution: int
    in_chans: int
    num_classes: int
    q_pool: int = 3
    mask_unit_attn: Tuple[bool, ...] = (True, True, False, False)

    def block_plan(self) -> List[Tuple[int, int, int, int, bool, int]]:
        """Per block: (stage, dim in, dim out, heads, Q-pools, window side before pooling; 0 =
        global), following hiera_blocks.md section 3."""
        plan, dim, mu, prev_stage = [], self.widths[0], self.mask_unit, 0
        for s, depth in enumerate(self.depths):
            for b in range(depth):
                qpool = b == 0 and 0 < s <= self.q_pool
                window = mu if self.mask_unit_attn[prev_stage] else 0
                plan.append((s, dim, self.widths[s], self.heads[s], qpool, window))
                mu = mu // 2 if qpool else mu
                dim, prev_stage = self.widths[s], s
        return plan


def max_pool_2x2(x: torch.Tensor) -> torch.Tensor:
    """(B, H, W, C) -> (B, H/2, W/2, C), max over each 2x2 cell."""
    b, h, w, c = x.shape
    return x.reshape(b, h // 2, 2, w // 2, 2, c).amax(dim=(2, 4))


class MaskUnitAttention(nn.Module):
    def __init__(self, dim: int, dim_out: int, heads: int, q_pool: bool, window: int):
        super().__init__()
        self.heads, self.head_dim = heads, dim_out // heads
        self.q_pool, self.window = q_pool, window
        self.qkv = nn.Linear(dim, 3 * dim_out)
        self.proj = nn.Linear(dim_out, dim_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, h, w, _ = x.shape
        s = self.window or h  # global attention: one window covering the (square) map
        nh, nw = h // s, w // s
        qkv = self.qkv(x).reshape(b, nh, s, nw, s, 3, self.heads, self.head_dim)
        # -> (3, windows, heads, s, s, head_dim)
        qkv = qkv.permute(5, 0, 1, 3, 6, 2, 4, 7).reshape(3, b * nh * nw, self.heads, s, s,
                                                          self.head_dim)
        q, k, v = qkv[0], qkv[1], qkv[2]
        so = s
        if self.q_pool:
            so = s // 2
            q = q.reshape(-1, self.heads, so, 2, so, 2, self.head_dim).amax(dim=(3, 5))
        q = q.reshape(-1, self.heads, so * so, self.head_dim)
        k = k.reshape(-1, self.heads, s * s, self.head_dim)
        v = v.reshape(-1, self.heads, s * s, self.head_dim)
        attn = ((q * self.head_dim ** -0.5) @ k.transpose(-2, -1)).softmax(dim=-1)
        out = (attn @ v).reshape(b, nh, nw, self.heads, so, so, self.head_dim)
        out = out.permute(0, 1, 4, 2, 5, 3, 6).reshape(b, nh * so, nw * so, -1)
        return self.proj(out)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class HieraBlock(nn.Module):
    def __init__(self, dim: int, dim_out: int, heads: int, mlp_ratio: int, q_pool: bool,
                 window: int):
        super().__init__()
        self.q_pool = q_pool
        self.norm1 = nn.LayerNorm(dim, eps=LN_EPS)
        if dim != dim_out:
            self.proj = nn.Linear(dim, dim_out)
        self.attn = MaskUnitAttention(dim, dim_out, heads, q_pool, window)
        self.norm2 = nn.LayerNorm(dim_out, eps=LN_EPS)
        self.mlp = Mlp(dim_out, dim_out * mlp_ratio)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xn = self.norm1(x)
        if hasattr(self, "proj"):
            x = self.proj(xn)
            if self.q_pool:
                x = max_pool_2x2(x)
        x = x + self.attn(xn)
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, in_chans: int, dim: int):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, dim, kernel_size=7, stride=4, padding=3)


class Head(nn.Module):
    def __init__(self, dim: int, num_classes: int):
        super().__init__()
        self.projection = nn.Linear(dim, num_classes)


class Hiera(nn.Module):
    """Input (B, in_chans, R, R) NCHW float32 -> logits (B, num_classes)."""

    def __init__(self, arch: HieraArch):
        super().__init__()
        self.arch = arch
        grid = arch.resolution // 4
        self.patch_embed = PatchEmbed(arch.in_chans, arch.widths[0])
        self.pos_embed = nn.Parameter(torch.zeros(1, grid * grid, arch.widths[0]))
        self.blocks = nn.ModuleList(
            HieraBlock(din, dout, heads, arch.mlp_ratios[s], qpool, window)
            for s, din, dout, heads, qpool, window in arch.block_plan())
        self.norm = nn.LayerNorm(arch.widths[-1], eps=LN_EPS)
        self.head = Head(arch.widths[-1], arch.num_classes)

    def forward_stages(self, x: torch.Tensor):
        """(logits, {"stageK": (B, H*W, C) row-major at the end of stage K})."""
        x = self.patch_embed.proj(x).permute(0, 2, 3, 1)  # (B, H, W, C)
        b, h, w, c = x.shape
        x = x + self.pos_embed.reshape(1, h, w, c)
        stages, plan = {}, self.arch.block_plan()
        for i, blk in enumerate(self.blocks):
            x = blk(x)
            if i + 1 == len(plan) or plan[i + 1][0] != plan[i][0]:
                stages[f"stage{plan[i][0]}"] = x.reshape(b, -1, x.shape[-1])
        x = self.norm(x.mean(dim=(1, 2)))
        return self.head.projection(x), stages

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_stages(x)[0]


def init_weights(model: Hiera, generator: Optional[torch.Generator] = None) -> None:
    """timm's Hiera init: trunc-normal (+-2 std) std 0.02 for conv / linear weights and pos_embed,
    zero biases, LayerNorm (1, 0) (timm's head_init_scale 0.001 is left out: with it a short
    from-scratch run starts with near-constant logits). ``generator`` None: torch's global RNG."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            owner = model.get_submodule(name.rsplit(".", 1)[0]) if "." in name else None
            if isinstance(owner, nn.LayerNorm) or name.endswith(".bias"):
                p.fill_(1.0 if name.endswith("weight") else 0.0)
            else:
                p.copy_(torch.fmod(torch.randn(p.shape, generator=generator), 2.0) * 0.02)


def timm_arch(j: dict) -> HieraArch:
    """The HieraArch of timm's Hiera(**kwargs) (golden hiera_small.json's "arch")."""
    widths, heads, dim, nh = [], [], j["embed_dim"], j["num_heads"]
    for s in range(len(j["stages"])):
        if s > 0:
            dim, nh = int(dim * j["dim_mul"]), int(nh * j["head_mul"])
        widths.append(dim)
        heads.append(nh)
    return HieraArch(tuple(widths), tuple(heads), tuple(j["stages"]),
                     tuple([int(j["mlp_ratio"])] * len(widths)), j["mask_unit_size"][0],
                     j["img_size"][0], 3, 1000, j["q_pool"], tuple(j["mask_unit_attn"]))


def check_golden(golden_dir: str, tol: float) -> bool:
    tensors, meta = read_safetensors(os.path.join(golden_dir, "hiera_small.safetensors"))
    model = Hiera(timm_arch(json.loads(meta["arch"])))
    load_weights(model, tensors)
    model.eval()
    x = torch.from_numpy(np.load(os.path.join(golden_dir, "hiera_small.input.npy")))
    with torch.no_grad():
        logits, stages = model.forward_stages(x)
    want = np.load(os.path.join(golden_dir, "hiera_small.logits.npy"))
    diff = float(np.abs(logits.numpy() - want).max())
    print(f"hiera_small: logits max |diff| = {diff:.3g} (tolerance {tol:g})")
    ok = diff <= tol
    golden_stages = np.load(os.path.join(golden_dir, "hiera_small.stages.npz"))
    for name, got in stages.items():
        d = float(np.abs(got.numpy() - golden_stages[name]).max())
        print(f"  {name}: max |diff| = {d:.3g}")
        ok &= d <= tol * max(1.0, float(np.abs(golden_stages[name]).max()))
    return ok


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--golden-dir", default=SHARED_GOLDEN)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if not os.path.isdir(args.golden_dir):
        print(f"error: golden directory {args.golden_dir} not found (pass --golden-dir)",
              file=sys.stderr)
        return 2
    ok = check_golden(args.golden_dir, args.tolerance)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
