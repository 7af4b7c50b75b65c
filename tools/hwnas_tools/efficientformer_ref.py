#!/usr/bin/env python3
"""Plain PyTorch EfficientFormer: the reference that hwnas's engine is checked against.

Reproduces timm's ``efficientformer_l1`` (timm/models/efficientformer.py, written from a reading of
that file and of the paper, Li et al. NeurIPS 2022; no timm code is copied) for any architecture
of hwnas's EfficientFormer space (shared/SPACES.md section 1): stage widths, stage depths, number of
MB3D blocks at the end of stage 4 and input resolution. Parameter names are timm's, so timm state
dicts load directly.

Details that matter for parity (all as in timm):
  * stage 1 has no downsample; stages 2-4 start with conv3x3 s2 + BN (``stages.i.downsample``);
  * the flatten step is a module of ``stages.3.blocks`` and takes one index there (L1: MB4D at
    0-2, Flat at 3, MB3D at 4); when every block of stage 4 is MB3D the Flat comes first.
    timm cannot build num_vit = 0 (its final LayerNorm would see a feature map); hwnas defines it
    as a Flat after the last MB4D block of stage 4, followed by the same LN + mean head;
  * MB3D attention: qkv Linear C -> heads * (2 * key_dim + value_dim) whose output is viewed per
    head *before* the q / k / v split, i.e. channels are [q0 k0 v0 q1 k1 v1 ...] with
    q, k of key_dim and v of value_dim = attn_ratio * key_dim; scale key_dim ** -0.5; a learned
    bias per head indexed by |d row| * grid_w + |d col| on the token grid (timm fixes the grid at
    7x7; here it follows the input, resolution / 32, which equals timm's at 224);
  * GELU is the exact (erf) one; LayerNorm and BatchNorm eps 1e-5; average pooling excludes the
    padding from the count; the head averages the class and distillation classifiers.

Usage (from the repository root, PYTHONPATH=tools; M = python3 -m hwnas_tools.efficientformer_ref):
  M                       # check L1 against ../shared/golden
  M --golden-dir DIR      # same, another golden directory
  M --check-small DIR     # also re-check the small sets written to DIR
  M --write-golden DIR    # write small seeded golden sets for engine tests
Exit status: 0 when parity holds, 1 when it does not, 2 on bad input, 77 without numpy/torch.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from hwnas_tools import SHARED_GOLDEN, require_torch

if __name__ == "__main__":  # a script without torch is skipped (77); a library import raises
    require_torch()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from hwnas_tools.tensor_io import (float_state, load_weights, read_safetensors,  # noqa: E402
                                   write_safetensors)

# MB3D hyper-parameters fixed by the space (SPACES.md section 1).
HEADS = 8
KEY_DIM = 32
ATTN_RATIO = 4
MLP_RATIO = 4


@dataclasses.dataclass(frozen=True)
class Arch:
    """One architecture of the EfficientFormer space."""

    embed_dims: Tuple[int, int, int, int]
    depths: Tuple[int, int, int, int]
    num_vit: int
    resolution: int = 224
    num_classes: int = 1000
    # Fixed hyper-parameters of a space (defaults: SPACES.md section 1, timm's L1); the
    # efficientformer-fmnist proxy space uses 1 input channel and 4 heads of key dim 16.
    in_chans: int = 3
    heads: int = HEADS
    key_dim: int = KEY_DIM
    attn_ratio: int = ATTN_RATIO

    def validate(self) -> None:
        if len(self.embed_dims) != 4 or len(self.depths) != 4:
            raise ValueError("embed_dims and depths need 4 entries each")
        if any(d < 1 for d in self.depths) or any(c < 2 or c % 2 for c in self.embed_dims):
            raise ValueError("depths must be >= 1 and widths even (the stem halves width 1)")
        if not 0 <= self.num_vit <= self.depths[3]:
            raise ValueError(f"num_vit must be in [0, {self.depths[3]}] (stage-4 depth)")
        if self.resolution < 32 or self.resolution % 32:
            raise ValueError("resolution must be a positive multiple of 32")


NAMED = {
    "l1": Arch((48, 96, 224, 448), (3, 2, 6, 4), 1),
    "l3": Arch((64, 128, 320, 512), (4, 4, 12, 6), 4),
    "l7": Arch((96, 192, 384, 768), (6, 6, 18, 8), 8),
}


# ------------------------------------------------------------------------------------------------
# Modules. Attribute names are the state-dict names; forward passes are written out step by step.

class LayerScale(nn.Module):
    """Per-channel scale ``gamma``; ``channel_dim`` says where channels are (1 for NCHW, -1 else)."""

    def __init__(self, dim: int, channel_dim: int):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((dim,), 1e-5))
        self.channel_dim = channel_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.channel_dim == 1:
            return x * self.gamma[None, :, None, None]
        return x * self.gamma


class Stem(nn.Module):
    """conv3x3 s2 (in -> C/2) + BN + ReLU, conv3x3 s2 (C/2 -> C) + BN + ReLU: stride 4."""

    def __init__(self, out_chs: int, in_chans: int = 3):
        super().__init__()
        self.conv1 = nn.Conv2d(in_chans, out_chs // 2, 3, stride=2, padding=1)
        self.norm1 = nn.BatchNorm2d(out_chs // 2)
        self.conv2 = nn.Conv2d(out_chs // 2, out_chs, 3, stride=2, padding=1)
        self.norm2 = nn.BatchNorm2d(out_chs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.norm1(self.conv1(x)))
        return F.relu(self.norm2(self.conv2(x)))


class Downsample(nn.Module):
    """conv3x3 s2 p1 + BN between stages."""

    def __init__(self, in_chs: int, out_chs: int):
        super().__init__()
        self.conv = nn.Conv2d(in_chs, out_chs, 3, stride=2, padding=1)
        self.norm = nn.BatchNorm2d(out_chs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.conv(x))


class Flat(nn.Module):
    """(B, C, H, W) -> (B, H*W, C), tokens in row-major grid order."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(2).transpose(1, 2)


class ConvMlp(nn.Module):
    """1x1 conv + BN + GELU + 1x1 conv + BN (MB4D's MLP)."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Conv2d(dim, hidden, 1)
        self.norm1 = nn.BatchNorm2d(hidden)
        self.fc2 = nn.Conv2d(hidden, dim, 1)
        self.norm2 = nn.BatchNorm2d(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm2(self.fc2(F.gelu(self.norm1(self.fc1(x)))))


class Meta4D(nn.Module):
    """MB4D: x + ls1 * (avgpool3x3(x) - x); x + ls2 * MLP(x).

    timm nests the pooling in a parameter-free ``token_mixer`` module; it has no state-dict entry.
    """

    def __init__(self, dim: int):
        super().__init__()
        self.ls1 = LayerScale(dim, channel_dim=1)
        self.mlp = ConvMlp(dim, MLP_RATIO * dim)
        self.ls2 = LayerScale(dim, channel_dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
        x = x + self.ls1(pooled - x)
        return x + self.ls2(self.mlp(x))


class Attention(nn.Module):
    """Multi-head self-attention with a learned relative-position bias on a grid_h x grid_w grid."""

    def __init__(self, dim: int, grid_h: int, grid_w: int, heads: int = HEADS,
                 key_dim: int = KEY_DIM, attn_ratio: int = ATTN_RATIO):
        super().__init__()
        self.heads = heads
        self.key_dim = key_dim
        self.value_dim = attn_ratio * key_dim
        self.qkv = nn.Linear(dim, heads * (2 * key_dim + self.value_dim))
        self.proj = nn.Linear(heads * self.value_dim, dim)
        self.attention_biases = nn.Parameter(torch.zeros(heads, grid_h * grid_w))
        rows = torch.arange(grid_h).repeat_interleave(grid_w)
        cols = torch.arange(grid_w).repeat(grid_h)
        idx = (rows[:, None] - rows[None, :]).abs() * grid_w + (cols[:, None] - cols[None, :]).abs()
        # Derived from the grid, so not part of the state dict (the golden files leave it out).
        self.register_buffer("attention_bias_idxs", idx, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        # (B, heads, N, 2 * key_dim + value_dim)
        per_head = self.qkv(x).view(b, n, self.heads, -1).permute(0, 2, 1, 3)
        q, k, v = per_head.split([self.key_dim, self.key_dim, self.value_dim], dim=-1)
        logits = (q @ k.transpose(-2, -1)) * self.key_dim ** -0.5
        logits = logits + self.attention_biases[:, self.attention_bias_idxs]
        out = logits.softmax(dim=-1) @ v  # (B, heads, N, value_dim)
        return self.proj(out.transpose(1, 2).reshape(b, n, self.heads * self.value_dim))


class Mlp(nn.Module):
    """Linear + GELU + Linear (MB3D's MLP)."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class Meta3D(nn.Module):
    """MB3D: x + ls1 * MHSA(LN(x)); x + ls2 * MLP(LN(x)) on (B, N, C) tokens."""

    def __init__(self, dim: int, grid_h: int, grid_w: int, heads: int = HEADS,
                 key_dim: int = KEY_DIM, attn_ratio: int = ATTN_RATIO):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.token_mixer = Attention(dim, grid_h, grid_w, heads, key_dim, attn_ratio)
        self.ls1 = LayerScale(dim, channel_dim=-1)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, MLP_RATIO * dim)
        self.ls2 = LayerScale(dim, channel_dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.ls1(self.token_mixer(self.norm1(x)))
        return x + self.ls2(self.mlp(self.norm2(x)))


class Stage(nn.Module):
    def __init__(self, in_chs: int, dim: int, depth: int, num_vit: int, downsample: bool,
                 grid: Tuple[int, int], last: bool, attn: Tuple[int, int, int] = (HEADS, KEY_DIM,
                                                                              ATTN_RATIO)):
        super().__init__()
        # Stage 1 keeps an (empty) Identity so that the names stay stages.i.downsample.*.
        self.downsample = Downsample(in_chs, dim) if downsample else nn.Identity()
        blocks: List[nn.Module] = []
        first_vit = depth - num_vit
        for i in range(depth):
            if last and i == first_vit:
                blocks.append(Flat())
            blocks.append(Meta3D(dim, *grid, *attn) if i >= first_vit else Meta4D(dim))
        if last and num_vit == 0:
            blocks.append(Flat())
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.downsample(x))


class EfficientFormer(nn.Module):
    def __init__(self, arch: Arch):
        super().__init__()
        arch.validate()
        self.arch = arch
        grid = (arch.resolution // 32, arch.resolution // 32)
        self.stem = Stem(arch.embed_dims[0], arch.in_chans)
        stages = []
        prev = arch.embed_dims[0]
        for i, (dim, depth) in enumerate(zip(arch.embed_dims, arch.depths)):
            stages.append(Stage(prev, dim, depth, arch.num_vit if i == 3 else 0,
                                downsample=i > 0, grid=grid, last=i == 3,
                                attn=(arch.heads, arch.key_dim, arch.attn_ratio)))
            prev = dim
        self.stages = nn.Sequential(*stages)
        self.norm = nn.LayerNorm(prev)
        self.head = nn.Linear(prev, arch.num_classes)
        self.head_dist = nn.Linear(prev, arch.num_classes)

    def forward_stages(self, x: torch.Tensor) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """Logits and the intermediate outputs named as in the golden ``stages.npz``."""
        outs: Dict[str, torch.Tensor] = {}
        x = self.stem(x)
        outs["stem"] = x
        for i, stage in enumerate(self.stages):
            x = stage(x)
            outs[f"stage{i}"] = x
        pooled = self.norm(x).mean(dim=1)
        return (self.head(pooled) + self.head_dist(pooled)) / 2, outs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_stages(x)[0]


# ------------------------------------------------------------------------------------------------
# Checks and golden-data generation.

def run(model: EfficientFormer, x: np.ndarray) -> Tuple[np.ndarray, Dict[str, np.ndarray]]:
    model.eval()
    with torch.inference_mode():
        logits, stages = model.forward_stages(torch.from_numpy(x))
    return logits.numpy(), {k: v.numpy() for k, v in stages.items()}


def check_l1(golden_dir: str, tol: float) -> bool:
    """Loads timm's L1 weights, runs the golden input, compares logits and stage outputs."""
    model = EfficientFormer(NAMED["l1"])
    tensors, meta = read_safetensors(os.path.join(golden_dir, "efficientformer_l1.safetensors"))
    load_weights(model, tensors)
    x = np.load(os.path.join(golden_dir, "efficientformer_l1.input.npy"))
    logits, stages = run(model, x)
    want = np.load(os.path.join(golden_dir, "efficientformer_l1.logits.npy"))
    ok = True
    diff = float(np.abs(logits - want).max())
    print(f"efficientformer_l1 ({meta.get('source', '?')}): logits max |diff| = {diff:.3g} "
          f"(tolerance {tol:g}, |logits| max {np.abs(want).max():.3g})")
    ok &= diff <= tol
    golden_stages = np.load(os.path.join(golden_dir, "efficientformer_l1.stages.npz"))
    for name in golden_stages.files:
        g = golden_stages[name]
        if name not in stages or stages[name].shape != g.shape:
            print(f"  {name}: shape {stages.get(name, np.zeros(0)).shape} vs golden {g.shape}")
            ok = False
            continue
        d = float(np.abs(stages[name] - g).max())
        print(f"  {name:7s} {str(g.shape):18s} max |diff| = {d:.3g} (|x| max {np.abs(g).max():.3g})")
        ok &= d <= tol * max(1.0, float(np.abs(g).max()))
    return ok


def randomise(model: EfficientFormer, seed: int) -> None:
    """Seeded weights in which every block changes the output.

    Default init leaves layer scales at 1e-5, attention biases at 0 and BN statistics at (0, 1),
    which would make blocks near-identities; these get random values of a useful size instead.
    """
    gen = torch.Generator().manual_seed(seed)

    def uniform(shape, lo, hi):
        return torch.rand(shape, generator=gen) * (hi - lo) + lo

    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if name.endswith("gamma"):                       # layer scales
                p.copy_(uniform(p.shape, 0.2, 1.0))
            elif name.endswith("attention_biases"):
                p.copy_(torch.randn(p.shape, generator=gen))
            elif p.dim() == 1 and name.endswith("weight"):   # BN / LN scale
                p.copy_(uniform(p.shape, 0.5, 1.5))
            elif p.dim() == 1:                               # biases
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            else:                                            # conv / linear: unit-variance output
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) / fan_in ** 0.5)
        for name, buf in sorted(model.named_buffers()):
            if name.endswith("running_mean"):
                buf.copy_(0.2 * torch.randn(buf.shape, generator=gen))
            elif name.endswith("running_var"):
                buf.copy_(uniform(buf.shape, 0.5, 2.0))


# Small architectures for the engine's tests: an MB3D tail, no MB3D at all, and an all-MB3D
# stage 4 on an odd 3x3 token grid. The MB3D block keeps the space's 8 heads, key dim 32 and value
# dim 128 (its qkv and proj alone hold C * 2560 weights), so widths stay at 16-48 and the heads
# have 10 classes: each set stays well under 1 MB.
GOLDEN_SETS = {
    "ef_tiny_vit1": (Arch((16, 16, 32, 32), (1, 1, 2, 2), 1, resolution=64, num_classes=10), 1),
    "ef_tiny_vit0": (Arch((16, 32, 32, 48), (2, 1, 2, 2), 0, resolution=64, num_classes=10), 2),
    "ef_tiny_vitall": (Arch((16, 16, 16, 16), (1, 2, 1, 2), 2, resolution=96, num_classes=10), 3),
}


def block_sensitivity(model: EfficientFormer, x: np.ndarray) -> Dict[str, float]:
    """Max logit change when a block's residual branches are switched off (layer scales at 0):
    a golden set only tests a block whose removal shows in the output."""
    base, _ = run(model, x)
    changes = {}
    for name, module in model.named_modules():
        if isinstance(module, (Meta4D, Meta3D)):
            saved = (module.ls1.gamma.detach().clone(), module.ls2.gamma.detach().clone())
            with torch.no_grad():
                module.ls1.gamma.zero_()
                module.ls2.gamma.zero_()
            changes[name] = float(np.abs(run(model, x)[0] - base).max())
            with torch.no_grad():
                module.ls1.gamma.copy_(saved[0])
                module.ls2.gamma.copy_(saved[1])
    return changes


# The writer's name stored in the sets' metadata: the one the committed sets were written under
# (before tools/ became a package), so that rewriting them stays byte-identical.
GOLDEN_PROVENANCE = "hwnas tools/efficientformer_ref.py"


def write_golden(out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    torch.use_deterministic_algorithms(True)
    for name, (arch, seed) in GOLDEN_SETS.items():
        model = EfficientFormer(arch)
        randomise(model, seed)
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((1, 3, arch.resolution, arch.resolution)).astype(np.float32)
        logits, stages = run(model, x)
        weakest = min(block_sensitivity(model, x).items(), key=lambda kv: kv[1])
        if weakest[1] < 1e-2:
            raise RuntimeError(f"{name}: block {weakest[0]} barely matters ({weakest[1]:.2g})")
        arch_json = dataclasses.asdict(arch)
        del arch_json["in_chans"]  # the sets keep their original sidecar fields
        arch_json.update(mlp_ratio=MLP_RATIO)
        meta = {"source": f"{GOLDEN_PROVENANCE}, torch {torch.__version__}",
                "layout": "PyTorch NCHW / (out,in,kh,kw); linear (out,in)",
                "arch": json.dumps(arch_json), "seed": str(seed)}
        tensors = {k: v.numpy() for k, v in float_state(model).items()}
        write_safetensors(os.path.join(out_dir, f"{name}.safetensors"), tensors, meta)
        np.save(os.path.join(out_dir, f"{name}.input.npy"), x)
        np.save(os.path.join(out_dir, f"{name}.logits.npy"), logits)
        np.savez(os.path.join(out_dir, f"{name}.stages.npz"), **stages)
        params = sum(int(np.prod(v.shape)) for v in tensors.values())
        info = {"arch": arch_json, "seed": seed, "params": params, "torch_version": torch.__version__,
                "logits_std": float(logits.std()), "logits_absmax": float(np.abs(logits).max()),
                "stage_shapes": {k: list(v.shape) for k, v in stages.items()}}
        with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
            json.dump(info, f, indent=1)
            f.write("\n")
        print(f"{name}: {params} params, logits std {logits.std():.3g}, weakest block "
              f"{weakest[0]} moves the logits by {weakest[1]:.3g}; written to {out_dir}")


def check_written(golden_dir: str, tol: float) -> bool:
    """Reloads every small golden set from its files and re-runs it (round trip of the writer)."""
    ok = True
    for name, (arch, _) in GOLDEN_SETS.items():
        path = os.path.join(golden_dir, f"{name}.safetensors")
        if not os.path.exists(path):
            continue
        model = EfficientFormer(arch)
        load_weights(model, read_safetensors(path)[0])
        logits, _ = run(model, np.load(os.path.join(golden_dir, f"{name}.input.npy")))
        d = float(np.abs(logits - np.load(os.path.join(golden_dir, f"{name}.logits.npy"))).max())
        print(f"{name}: logits max |diff| = {d:.3g}")
        ok &= d <= tol
    return ok


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--golden-dir", default=SHARED_GOLDEN,
                        help="directory holding efficientformer_l1.* (default: ../shared/golden)")
    parser.add_argument("--tolerance", type=float, default=1e-5,
                        help="max abs difference allowed on logits (default 1e-5)")
    parser.add_argument("--write-golden", metavar="DIR",
                        help="write the small seeded golden sets to DIR instead of checking L1")
    parser.add_argument("--check-small", metavar="DIR",
                        help="also reload the small golden sets in DIR and check their logits")
    parser.add_argument("--no-l1", action="store_true",
                        help="skip the L1 check (no golden directory); use with --check-small")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default 1: deterministic and quiet on a shared box)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.write_golden:
        write_golden(args.write_golden)
        return 0 if check_written(args.write_golden, 0.0) else 1
    if args.no_l1:
        if not args.check_small:
            parser.error("--no-l1 needs --check-small DIR")
        ok = check_written(args.check_small, args.tolerance)
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1
    if not os.path.isdir(args.golden_dir):
        print(f"error: golden directory {args.golden_dir} not found (pass --golden-dir)",
              file=sys.stderr)
        return 2
    ok = check_l1(args.golden_dir, args.tolerance)
    if args.check_small:
        ok &= check_written(args.check_small, args.tolerance)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
