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

The subnet itself is the plain EfficientFormer of tools/efficientformer_ref.py (timm's structure).
Training runs that same module through ``functional_call`` with views of the supernet's tensors,
so gradients flow into the shared weights and the training-time forward is by construction the
forward of the sliced subnet (checked by tools/supernet/supernet_test.py).
"""
from __future__ import annotations

import json
import os
import random
import sys
from typing import Dict, Iterable, Tuple

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import efficientformer_ref as ref  # noqa: E402  (tools/efficientformer_ref.py)
import fmnist_data  # noqa: E402

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
# BN recalibration of the contract: the first 512 `train` images in key order, batches of 64.
RECAL_IMAGES, RECAL_BATCH = 512, 64

NAMED = {
    "s": ((16, 32, 64, 128), (1, 1, 1, 1), 0),
    "m": ((24, 48, 96, 160), (2, 2, 2, 2), 1),
    "l": ((32, 64, 128, 192), (2, 2, 4, 3), 2),
}


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


def named_arch(name: str) -> ref.Arch:
    return make_arch(*NAMED[name])


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


def subnet_state_dict(arch: ref.Arch, supernet: Dict[str, torch.Tensor],
                      model: nn.Module = None) -> Dict[str, torch.Tensor]:
    """timm-named state dict of subnet ``arch``: views of ``supernet`` (no copies; gradients flow
    back into the supernet). ``model`` (a plain EfficientFormer of ``arch``) gives the shapes;
    built when not passed. Call ``.detach().clone()`` on the values for a standalone copy."""
    model = model if model is not None else ref.EfficientFormer(arch)
    out = {}
    for name, value in ref.float_state(model).items():
        src = supernet_name(arch, name)
        if src not in supernet:
            raise KeyError(f"supernet has no tensor {src} (for subnet tensor {name})")
        out[name] = _prefix(supernet[src], tuple(value.shape))
    return out


class SubnetRunner:
    """Weight-sharing forward for training: the plain subnet module with the supernet's views.

    Keeps one plain module per arch in a small cache (building one costs a few ms)."""

    def __init__(self, supernet: Supernet, cache_size: int = 64):
        self.supernet = supernet
        self.cache: Dict[ref.Arch, nn.Module] = {}
        self.cache_size = cache_size

    def module(self, arch: ref.Arch) -> nn.Module:
        if arch not in self.cache:
            if len(self.cache) >= self.cache_size:
                self.cache.pop(next(iter(self.cache)))
            self.cache[arch] = ref.EfficientFormer(arch)
        return self.cache[arch]

    def __call__(self, arch: ref.Arch, x: torch.Tensor) -> torch.Tensor:
        model = self.module(arch)
        model.train(self.supernet.training)
        views = subnet_state_dict(arch, self.supernet.tensors(), model)
        # BN updates its running statistics in place, i.e. in the supernet's buffers through the
        # views; they are only a by-product (every subnet is BN-recalibrated before use).
        return torch.nn.utils.stateless.functional_call(model, views, (x,))


def plain_subnet(arch: ref.Arch, supernet_tensors: Dict[str, torch.Tensor]) -> nn.Module:
    """A standalone plain EfficientFormer holding copies of the sliced weights."""
    model = ref.EfficientFormer(arch)
    sliced = subnet_state_dict(arch, supernet_tensors, model)
    ref.load_weights(model, {k: v.detach().cpu().numpy() for k, v in sliced.items()})
    return model


def load_supernet(path: str) -> Tuple[Supernet, Dict[str, str]]:
    tensors, meta = ref.read_safetensors(path)
    net = Supernet()
    ref.load_weights(net, tensors)
    return net, meta


def save_supernet(net: Supernet, path: str, metadata: Dict[str, str]) -> None:
    """Write-then-rename, so a reader never sees a half-written checkpoint."""
    tmp = path + ".tmp"
    arrays = {k: v.detach().cpu().numpy() for k, v in net.tensors().items()}
    ref.write_safetensors(tmp, arrays, dict(metadata))
    os.replace(tmp, path)


def recalibrate_bn(model: nn.Module, images: np.ndarray, upsample: int = 2) -> None:
    """Recomputes every BN's running statistics on ``images`` (uint8 28x28, preprocessed with
    ``upsample``), as the contract says: reset, momentum None (PyTorch then keeps the plain mean
    over batches of the batch means and of the unbiased batch variances), training mode for the
    forward passes, eval mode after."""
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None
    model.train()
    with torch.no_grad():
        for begin in range(0, images.shape[0], RECAL_BATCH):
            model(torch.from_numpy(
                fmnist_data.preprocess(images[begin:begin + RECAL_BATCH], upsample)))
    model.eval()
