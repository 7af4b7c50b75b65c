"""Weight-sharing supernet of the efficientformer-fmnist space (Fashion-MNIST, 1x64x64, 10 classes).

Follows the contract in shared FMNIST-SPEC.md (also summarised in spaces/defs/efficientformer-fmnist
.json "notes"), the Once-for-All / ElasticViT weight-sharing rules:
  * the supernet holds the union network under timm's names: widths (32, 64, 128, 192), depths
    (2, 2, 4, 3), every block Meta4D, plus two Meta3D blocks under ``stages.3.meta3d.{0,1}``;
  * a subnet takes the first depth_s Meta4D blocks of stage s (stage 4: depth3 - num_vit of them)
    and, as its trailing num_vit blocks, ``stages.3.meta3d.0 .. num_vit-1`` renamed to timm's
    index (after the parameter-free Flat);
  * every conv / linear / BN / LN / layer-scale tensor takes the first k entries of each dimension.
    Kernels are fixed in this space and MHSA's heads / key dim / value dim too, so "first k of
    every dimension, up to the subnet's shape" is the whole rule: qkv keeps all its outputs,
    proj all its inputs, the attention bias and the classifiers' biases stay whole.

The subnet itself is the plain EfficientFormer of hwnas_tools.efficientformer_ref (timm's
structure); hwnas_tools.supernet runs it on views of the supernet's tensors for training. The
family's hand-written checks (slicing, gradient slices, BN recalibration) are at the end; the
task scripts dispatch here through hwnas_tools.spaces.
"""
from __future__ import annotations

import json
import random
import sys
from typing import Dict, Iterable, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from hwnas_tools import efficientformer_ref as ref
from hwnas_tools import fmnist_data, supernet
from hwnas_tools.tensor_io import float_state

SPACE = "efficientformer-fmnist"
RESOLUTION = 64
NUM_CLASSES = 10
IN_CHANS = 1
HEADS, KEY_DIM, ATTN_RATIO = 4, 16, 4
WIDTH_CHOICES = ((16, 24, 32), (32, 48, 64), (64, 96, 128), (128, 160, 192))
DEPTH_CHOICES = ((1, 2), (1, 2), (1, 2, 3, 4), (1, 2, 3))
MAX_VIT = 2
MAX_WIDTHS = tuple(max(c) for c in WIDTH_CHOICES)
MAX_DEPTHS = tuple(max(c) for c in DEPTH_CHOICES)
UPSAMPLE = 2  # 28 -> pad 32 -> 2x nearest -> 64
HAS_BATCHNORM = True


def make_arch(embed_dims: Iterable[int], depths: Iterable[int], num_vit: int) -> ref.Arch:
    """A subnet of the space as the plain model's Arch; raises ValueError outside the space."""
    embed_dims, depths = tuple(int(c) for c in embed_dims), tuple(int(d) for d in depths)
    if len(embed_dims) != 4 or len(depths) != 4:
        raise ValueError("embed_dims and depths need 4 entries each")
    for i in range(4):
        if embed_dims[i] not in WIDTH_CHOICES[i] or depths[i] not in DEPTH_CHOICES[i]:
            raise ValueError(f"stage {i}: width {embed_dims[i]} / depth {depths[i]} is outside "
                             f"{WIDTH_CHOICES[i]} / {DEPTH_CHOICES[i]}")
    if not 0 <= num_vit <= min(MAX_VIT, depths[3]):
        raise ValueError(f"num_vit {num_vit} must be in [0, min(2, depth3 = {depths[3]})]")
    return ref.Arch(embed_dims, depths, int(num_vit), resolution=RESOLUTION,
                    num_classes=NUM_CLASSES, in_chans=IN_CHANS, heads=HEADS, key_dim=KEY_DIM,
                    attn_ratio=ATTN_RATIO)


NAMED = {
    "s": make_arch((16, 32, 64, 128), (1, 1, 1, 1), 0),
    "m": make_arch((24, 48, 96, 160), (2, 2, 2, 2), 1),
    "l": make_arch((32, 64, 128, 192), (2, 2, 4, 3), 2),
}


def largest_arch() -> ref.Arch:
    return make_arch(MAX_WIDTHS, MAX_DEPTHS, MAX_VIT)


def smallest_arch() -> ref.Arch:
    return make_arch([c[0] for c in WIDTH_CHOICES], [d[0] for d in DEPTH_CHOICES], 0)


def arch_json(arch: ref.Arch) -> Dict[str, object]:
    """The space's arch JSON (as `hwnas describe` and the C++ side write it)."""
    return {"space": SPACE, "embed_dims": list(arch.embed_dims), "depths": list(arch.depths),
            "num_vit": arch.num_vit, "resolution": arch.resolution}


def arch_from_json(text_or_dict) -> ref.Arch:
    d = json.loads(text_or_dict) if isinstance(text_or_dict, str) else text_or_dict
    if d.get("space", SPACE) != SPACE or d.get("resolution", RESOLUTION) != RESOLUTION:
        raise ValueError(f"arch {d} is not of space {SPACE} at resolution {RESOLUTION}")
    return make_arch(d["embed_dims"], d["depths"], d["num_vit"])


def sample_arch(rng: random.Random) -> ref.Arch:
    """Uniform over each dimension; num_vit uniform over what depth3 allows."""
    widths = [rng.choice(c) for c in WIDTH_CHOICES]
    depths = [rng.choice(c) for c in DEPTH_CHOICES]
    return make_arch(widths, depths, rng.randint(0, min(MAX_VIT, depths[3])))


class Supernet(nn.Module):
    """The union network; its state dict (minus num_batches_tracked) is the checkpoint."""

    def __init__(self):
        super().__init__()
        union = ref.EfficientFormer(make_arch(MAX_WIDTHS, MAX_DEPTHS, 0))
        self.stem = union.stem
        # Drop the union's Flat (it has no parameters and no fixed index in a subnet).
        stages = list(union.stages)
        stages[3].blocks = nn.Sequential(*[b for b in stages[3].blocks if isinstance(b, ref.Meta4D)])
        grid = RESOLUTION // 32
        stages[3].meta3d = nn.ModuleList(
            ref.Meta3D(MAX_WIDTHS[3], grid, grid, HEADS, KEY_DIM, ATTN_RATIO)
            for _ in range(MAX_VIT))
        self.stages = nn.Sequential(*stages)
        self.norm, self.head, self.head_dist = union.norm, union.head, union.head_dist

    def tensors(self) -> Dict[str, torch.Tensor]:
        """Every parameter and float buffer by timm name (the checkpoint's content)."""
        return {k: v for k, v in self.state_dict(keep_vars=True).items() if v.is_floating_point()}


def plain_model(arch: ref.Arch) -> nn.Module:
    return ref.EfficientFormer(arch)


def supernet_name(arch: ref.Arch, subnet_name: str) -> str:
    """The supernet tensor a subnet tensor is sliced from (block renaming of the contract)."""
    parts = subnet_name.split(".")
    if parts[0] == "stages" and parts[1] == "3" and parts[2] == "blocks":
        index = int(parts[3])
        n4d = arch.depths[3] - arch.num_vit
        if index > n4d:  # a Meta3D block: index n4d is the Flat, Meta3D t sits at n4d + 1 + t
            return ".".join(["stages", "3", "meta3d", str(index - n4d - 1)] + parts[4:])
    return subnet_name


def _prefix(t: torch.Tensor, shape: Tuple[int, ...]) -> torch.Tensor:
    if any(s > d for s, d in zip(shape, t.shape)) or len(shape) != t.dim():
        raise ValueError(f"subnet shape {shape} does not fit in supernet shape {tuple(t.shape)}")
    return t[tuple(slice(0, s) for s in shape)]


def subnet_state_dict(arch: ref.Arch, tensors: Dict[str, torch.Tensor],
                      model: nn.Module = None) -> Dict[str, torch.Tensor]:
    """timm-named state dict of subnet ``arch``: views of the supernet's ``tensors`` (no copies;
    gradients flow back into the supernet). ``model`` (a plain EfficientFormer of ``arch``) gives the shapes;
    built when not passed. Call ``.detach().clone()`` on the values for a standalone copy."""
    model = model if model is not None else ref.EfficientFormer(arch)
    out = {}
    for name, value in float_state(model).items():
        src = supernet_name(arch, name)
        if src not in tensors:
            raise KeyError(f"supernet has no tensor {src} (for subnet tensor {name})")
        out[name] = _prefix(tensors[src], tuple(value.shape))
    return out


# ------------------------------------------------------------------------------------------------
# Training and golden files (hwnas_tools.train, hwnas_tools.make_goldens).

NO_DECAY_SUFFIXES = ("attention_biases",)
CHANNELS_LAST = False
EVAL_BATCH = 500
NO_RECAL_SUBNETS = ("l",)  # l's top-1 with the statistics as trained shows what recalibration buys
# The run that made the committed checkpoint stopped on wall-clock time (tools/README.md).
DEFAULTS = {"budget_min": 25.0, "recal": True}


def subnet_sampler(seed: int) -> supernet.UniformSampler:
    return supernet.UniformSampler(sample_arch, seed)


def golden_notes(recalibration: Dict[str, object]) -> Dict[str, object]:
    """subnets.json's keys after "raw_input", in the committed files' order (a rewrite of the
    goldens stays byte-identical)."""
    return {"input_note": "first 16 test (t10k) images", "batchnorm": HAS_BATCHNORM,
            "recalibration": recalibration}


def golden_entry(arch: ref.Arch) -> Dict[str, float]:
    del arch
    return {}


# ------------------------------------------------------------------------------------------------
# Hand-written checks (hwnas_tools.check).

CHECK_RANDOM_SUBNETS = 3
GRADIENT_ARCH = "s"
GOLDEN_TOLERANCE = 1e-5


def check_reference(golden_dir: str) -> bool:
    """Nothing here: the plain model's parity with timm's L1 is efficientformer_ref's own check
    (CTest Tools.EfficientFormerTorchReference), which needs the full-size golden, not a proxy."""
    del golden_dir
    return True


def randomise_supernet(net: Supernet, seed: int) -> None:
    """Layer scales, attention biases and BN statistics of useful size (default init leaves
    blocks near-identities)."""
    ref.randomise(net, seed)


def check_slicing(net: Supernet) -> bool:
    sup = net.tensors()
    m = NAMED["m"]  # widths 24/48/96/160, depths 2 each, one Meta3D at stage-4 index 2
    sub = subnet_state_dict(m, sup)
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
    l_sub = subnet_state_dict(NAMED["l"], sup)
    ok &= torch.equal(l_sub["stages.3.blocks.3.mlp.fc1.weight"], sup["stages.3.meta3d.1.mlp.fc1.weight"])
    ok &= not any(k.startswith("stages.3.blocks.1.") for k in l_sub)
    ok &= len(l_sub) == len(float_state(ref.EfficientFormer(NAMED["l"])))
    print(f"slicing rule (hand-written expectations for m and l): {'ok' if ok else 'FAIL'}")
    return bool(ok)


def gradient_slices_ok(grads: Dict[str, torch.Tensor]) -> bool:
    g = grads["stem.conv2.weight"]  # s uses the first 16 outputs and 8 inputs of 32 x 16
    return bool(g[:16, :8].abs().sum() > 0) and bool(g[16:].abs().sum() == 0) and bool(
        g[:, 8:].abs().sum() == 0)


def check_recalibration(net: Supernet) -> bool:
    """BN recalibration against the contract written out with plain tensor ops for the stem's two
    BNs: running mean = mean of the 8 batch means, running var = mean of the unbiased variances."""
    model = supernet.plain_subnet(sys.modules[__name__], NAMED["s"], net.tensors())
    images = np.random.default_rng(3).integers(0, 256, (supernet.RECAL_IMAGES, 28, 28),
                                               dtype=np.uint8)
    supernet.recalibrate_bn(model, images, UPSAMPLE)
    stem = model.stem
    means = {"norm1": [], "norm2": []}
    variances = {"norm1": [], "norm2": []}
    with torch.no_grad():
        for begin in range(0, supernet.RECAL_IMAGES, supernet.RECAL_BATCH):
            x = torch.from_numpy(fmnist_data.preprocess(images[begin:begin + supernet.RECAL_BATCH],
                                                        UPSAMPLE))
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


EXTRA_CHECKS = (check_recalibration,)
