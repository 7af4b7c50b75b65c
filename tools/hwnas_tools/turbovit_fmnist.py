"""Weight-sharing supernet of the turbovit-fmnist space (Hiera, Fashion-MNIST, 1x64x64, 10 classes).

The space's choices and the slicing rule live in spaces/defs/turbovit-fmnist.json (read here, so
the two sides cannot drift); the rule (Once-for-All / ElasticViT weight sharing, timm hiera names):
  * the supernet holds the union network: widths (32, 64, 128, 256), depths (2, 2, 3, 2), MLP
    ratio 4, as timm's flat ``blocks.i``; stage s of a subnet takes the union's first depth_s
    blocks of that stage;
  * every linear / conv / LayerNorm / position embedding takes the first k entries of each
    dimension, except attn.qkv, whose [q | k | v] output keeps the first D rows of each part
    (rows [0, D) + [Dmax, Dmax + D) + [2 Dmax, 2 Dmax + D)): the subnet's heads are the
    supernet's first heads whatever the head dim;
  * mask unit, Q-pooling and head dim (the attention scale) are structural. No BatchNorm.

The subnet is the plain Hiera of hwnas_tools.hiera_ref; hwnas_tools.supernet runs it on slices
of the supernet's tensors for training. The family's hand-written checks (hiera_small parity,
slicing, gradient slices) are at the end; the task scripts dispatch here through
hwnas_tools.spaces.
"""
from __future__ import annotations

import dataclasses
import json
import os
import random
from typing import Dict, Tuple

import torch
import torch.nn as nn

from hwnas_tools import REPO_ROOT, supernet
from hwnas_tools import hiera_ref as ref

SPACE = "turbovit-fmnist"
with open(os.path.join(REPO_ROOT, "spaces", "defs", SPACE + ".json")) as _f:
    DEFINITION = json.load(_f)
CHOICES = {d["name"]: tuple(d["values"]) for d in DEFINITION["dims"]}
FIXED = DEFINITION["fixed"]
RESOLUTION = CHOICES["resolution"][0]
UPSAMPLE = 2  # 28 -> pad 32 -> 2x nearest -> 64
STAGES = 4
HAS_BATCHNORM = False  # LayerNorm only: subnets need no BN recalibration


@dataclasses.dataclass(frozen=True)
class Arch:
    """One subnet, as the space's arch JSON states it (width multipliers in tenths)."""
    embed_dim: int
    width_mult: Tuple[int, int, int]
    depths: Tuple[int, ...]
    head_dim: Tuple[int, ...]
    mlp_ratio: Tuple[int, ...]
    mask_unit: int

    @property
    def widths(self) -> Tuple[int, ...]:
        """Stage widths: 16 * round-half-up(previous * mult / 16) (TurboVitSpace::stage_widths)."""
        w = [self.embed_dim]
        for m in self.width_mult:
            w.append(16 * ((w[-1] * m + 80) // 160))
        return tuple(w)

    def hiera(self) -> ref.HieraArch:
        w = self.widths
        return ref.HieraArch(w, tuple(w[s] // self.head_dim[s] for s in range(STAGES)),
                             self.depths, self.mlp_ratio, self.mask_unit, RESOLUTION,
                             FIXED["in_channels"], FIXED["num_classes"], FIXED["q_pool"],
                             tuple(s < FIXED["mask_unit_stages"] for s in range(STAGES)))


def validate(arch: Arch) -> Arch:
    """Raises ValueError outside the space."""
    genes = {"embed_dim": [arch.embed_dim], "mask_unit": [arch.mask_unit]}
    for s in range(STAGES):
        genes[f"depth_s{s + 1}"] = [arch.depths[s]]
        genes[f"head_dim_s{s + 1}"] = [arch.head_dim[s]]
        genes[f"mlp_ratio_s{s + 1}"] = [arch.mlp_ratio[s]]
    for s in range(3):
        genes[f"width_mult_s{s + 2}"] = [arch.width_mult[s]]
    for name, (value,) in genes.items():
        if value not in CHOICES[name]:
            raise ValueError(f"{name} = {value} is outside {CHOICES[name]}")
    for s, w in enumerate(arch.widths):
        if w % arch.head_dim[s]:
            raise ValueError(f"stage {s + 1}: head dim {arch.head_dim[s]} does not divide {w}")
    return arch


def arch_from_json(text_or_dict) -> Arch:
    d = json.loads(text_or_dict) if isinstance(text_or_dict, str) else text_or_dict
    if d.get("space", SPACE) != SPACE or d.get("resolution", RESOLUTION) != RESOLUTION:
        raise ValueError(f"arch {d} is not of space {SPACE} at resolution {RESOLUTION}")
    return validate(Arch(int(d["embed_dim"]), tuple(int(round(m * 10)) for m in d["width_mult"]),
                         tuple(d["depths"]), tuple(d["head_dim"]), tuple(d["mlp_ratio"]),
                         int(d["mask_unit"])))


def arch_json(arch: Arch) -> Dict[str, object]:
    """The space's arch JSON (as `hwnas describe` writes it, derived widths/heads included)."""
    h = arch.hiera()
    return {"space": SPACE, "embed_dim": arch.embed_dim,
            "width_mult": [m / 10 for m in arch.width_mult], "depths": list(arch.depths),
            "head_dim": list(arch.head_dim), "mlp_ratio": list(arch.mlp_ratio),
            "mask_unit": arch.mask_unit, "resolution": RESOLUTION, "widths": list(h.widths),
            "heads": list(h.heads)}


NAMED = {name: arch_from_json(j) for name, j in DEFINITION["named"].items()}


def named_arch(name: str) -> Arch:
    return NAMED[name]


def _extreme(pick) -> Arch:
    """All genes at one end of their choices; head dims repaired to divide the widths."""
    a = Arch(pick(CHOICES["embed_dim"]),
             tuple(pick(CHOICES[f"width_mult_s{s}"]) for s in (2, 3, 4)),
             tuple(pick(CHOICES[f"depth_s{s + 1}"]) for s in range(STAGES)),
             tuple(pick(CHOICES[f"head_dim_s{s + 1}"]) for s in range(STAGES)),
             tuple(pick(CHOICES[f"mlp_ratio_s{s + 1}"]) for s in range(STAGES)),
             pick(CHOICES["mask_unit"]))
    return validate(_repair(a))


def _repair(a: Arch) -> Arch:
    """Largest legal head dim not above the drawn one (TurboVitSpace::repair)."""
    hd = []
    for s, w in enumerate(a.widths):
        legal = [d for d in CHOICES[f"head_dim_s{s + 1}"] if w % d == 0 and d <= a.head_dim[s]]
        hd.append(a.head_dim[s] if w % a.head_dim[s] == 0 else max(legal))
    return dataclasses.replace(a, head_dim=tuple(hd))


def largest_arch() -> Arch:
    return _extreme(lambda c: c[-1])


def smallest_arch() -> Arch:
    return _extreme(lambda c: c[0])


def sample_arch(rng: random.Random) -> Arch:
    """Uniform over each dimension; head dims uniform over those dividing the stage width (as
    TurboVitSpace::sample)."""
    a = Arch(rng.choice(CHOICES["embed_dim"]),
             tuple(rng.choice(CHOICES[f"width_mult_s{s}"]) for s in (2, 3, 4)),
             tuple(rng.choice(CHOICES[f"depth_s{s + 1}"]) for s in range(STAGES)),
             (8,) * STAGES,
             tuple(rng.choice(CHOICES[f"mlp_ratio_s{s + 1}"]) for s in range(STAGES)),
             rng.choice(CHOICES["mask_unit"]))
    hd = tuple(rng.choice([d for d in CHOICES[f"head_dim_s{s + 1}"] if w % d == 0])
               for s, w in enumerate(a.widths))
    return validate(dataclasses.replace(a, head_dim=hd))


UNION = largest_arch()


def plain_model(arch: Arch) -> nn.Module:
    return ref.Hiera(arch.hiera())


class Supernet(nn.Module):
    """The union network (a plain Hiera of the largest arch); its state dict is the checkpoint.
    Initialised as timm does (hiera_ref.init_weights) from torch's global RNG: seed it first."""

    def __init__(self):
        super().__init__()
        self.union = ref.Hiera(UNION.hiera())
        ref.init_weights(self.union)

    def tensors(self) -> Dict[str, torch.Tensor]:
        return dict(self.union.state_dict(keep_vars=True))


def supernet_name(arch: Arch, subnet_name: str) -> str:
    """The supernet tensor a subnet tensor is sliced from: block i of the subnet (stage s, j-th
    block) reads the union's block o_s + j."""
    parts = subnet_name.split(".")
    if parts[0] != "blocks":
        return subnet_name
    index, offset, union_offset = int(parts[1]), 0, 0
    for s in range(STAGES):
        if index < offset + arch.depths[s]:
            parts[1] = str(union_offset + index - offset)
            return ".".join(parts)
        offset += arch.depths[s]
        union_offset += UNION.depths[s]
    raise ValueError(f"{subnet_name}: block index beyond the arch's {offset} blocks")


def slice_tensor(name: str, t: torch.Tensor, shape: Tuple[int, ...]) -> torch.Tensor:
    """The subnet's ``shape`` out of supernet tensor ``t`` (a view, or a differentiable copy for
    qkv): first k of every dimension; attn.qkv keeps the first D rows of each of q, k, v."""
    if len(shape) != t.dim() or any(s > d for s, d in zip(shape, t.shape)):
        raise ValueError(f"{name}: subnet shape {shape} does not fit supernet {tuple(t.shape)}")
    if name.endswith("attn.qkv.weight") or name.endswith("attn.qkv.bias"):
        parts = t.reshape(3, t.shape[0] // 3, *t.shape[1:])
        rows = shape[0] // 3
        return parts[(slice(None), slice(0, rows)) + tuple(slice(0, s) for s in shape[1:])] \
            .reshape(shape)
    return t[tuple(slice(0, s) for s in shape)]


def subnet_state_dict(arch: Arch, tensors: Dict[str, torch.Tensor],
                      model: nn.Module = None) -> Dict[str, torch.Tensor]:
    """timm-named state dict of subnet ``arch`` sliced out of the supernet's ``tensors``
    (gradients flow back).
    ``model`` (a plain Hiera of ``arch``) gives the shapes; built when not passed."""
    model = model if model is not None else ref.Hiera(arch.hiera())
    out = {}
    for name, value in model.state_dict().items():
        src = supernet_name(arch, name)
        if src not in tensors:
            raise KeyError(f"supernet has no tensor {src} (for subnet tensor {name})")
        out[name] = slice_tensor(src, tensors[src], tuple(value.shape))
    return out


# ------------------------------------------------------------------------------------------------
# Training and golden files (hwnas_tools.train, hwnas_tools.make_goldens).

NO_DECAY_SUFFIXES = ("pos_embed",)
CHANNELS_LAST = False
EVAL_BATCH = 500
NO_RECAL_SUBNETS = ()  # no BatchNorm: every top-1 is without recalibration
DEFAULTS = {"budget_min": 25.0}


def subnet_sampler(seed: int) -> supernet.UniformSampler:
    return supernet.UniformSampler(sample_arch, seed)


def golden_notes(recalibration: None) -> Dict[str, object]:
    """subnets.json's keys after "raw_input", in the committed files' order (a rewrite of the
    goldens stays byte-identical)."""
    return {"input_note": "first 16 test (t10k) images", "batchnorm": HAS_BATCHNORM,
            "recalibration": recalibration}


def golden_entry(arch: Arch) -> Dict[str, float]:
    del arch
    return {}


# ------------------------------------------------------------------------------------------------
# Hand-written checks (hwnas_tools.check).

CHECK_RANDOM_SUBNETS = 3
GRADIENT_ARCH = "s"
GOLDEN_TOLERANCE = 1e-4
EXTRA_CHECKS = ()


def check_reference(golden_dir: str) -> bool:
    """The plain Hiera reproduces timm's golden hiera_small logits (<= 1e-4)."""
    if not os.path.exists(os.path.join(golden_dir, "hiera_small.safetensors")):
        print(f"hiera_small golden not found in {golden_dir}: parity check skipped")
        return True
    return ref.check_golden(golden_dir, 1e-4)


def randomise_supernet(net: Supernet, seed: int) -> None:
    """Weights large enough that every block changes the output (LayerNorm affine included)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in net.union.named_parameters():
            scale = 0.5 if p.dim() == 1 else 0.1
            p.copy_(torch.randn(p.shape, generator=gen) * scale + (1.0 if name.endswith(
                "norm1.weight") or name.endswith("norm2.weight") else 0.0))


def check_slicing(net: Supernet) -> bool:
    sup = net.tensors()
    m = named_arch("m")  # widths 24/48/96/144, depths 1/2/2/1; union 32/64/128/256, 2/2/3/2
    sub = subnet_state_dict(m, sup)
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
    l_sub = subnet_state_dict(named_arch("l"), sup)  # the union network: identity
    ok &= sorted(l_sub) == sorted(sup) and all(torch.equal(l_sub[k], sup[k]) for k in sup)
    print(f"slicing rule (hand-written expectations for m, identity for l): "
          f"{'ok' if ok else 'FAIL'}")
    return bool(ok)


def gradient_slices_ok(grads: Dict[str, torch.Tensor]) -> bool:
    g = grads["blocks.2.attn.qkv.weight"].reshape(3, 64, 32)  # s's block 1: 16 -> 32 of 32 -> 64
    return bool((g[:, :32, :16].abs().sum(dim=(1, 2)) > 0).all()) and bool(
        g[:, 32:].abs().sum() == 0) and bool(g[:, :, 16:].abs().sum() == 0)
