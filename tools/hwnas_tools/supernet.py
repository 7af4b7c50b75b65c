"""What every Fashion-MNIST supernet shares, whatever its family (hwnas_tools.spaces lists the
families and the names their modules define):

  * the weight-sharing forward used in training (SubnetRunner): the family's plain subnet module
    run through ``functional_call`` with the slices of the supernet's tensors that
    ``subnet_state_dict`` returns, so gradients reach the shared weights and the training forward
    is by construction the sliced subnet's forward;
  * standalone plain subnets holding copies of the sliced weights, checkpoint I/O;
  * BN recalibration of the contract (FMNIST-SPEC.md): the first 512 `train` images in key order,
    batches of 64, every BN reset with momentum None (PyTorch then keeps the plain mean over
    batches of the batch means and of the unbiased batch variances), training mode for the
    forward passes, eval mode after;
  * uniform subnet sampling, seeded.
"""
from __future__ import annotations

import os
import random
from types import ModuleType
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn

from hwnas_tools import fmnist_data
from hwnas_tools.tensor_io import copy_into, load_weights, read_safetensors, write_safetensors

RECAL_IMAGES, RECAL_BATCH = 512, 64
# torch.func (2.x) replaced torch.nn.utils.stateless (1.13, Debian's), which newer releases drop.
functional_call = getattr(getattr(torch, "func", None), "functional_call", None) or \
    torch.nn.utils.stateless.functional_call
CHECKPOINT_FORMAT = "hwnas-supernet-v1"


class SubnetRunner:
    """Weight-sharing forward for training: ``runner(arch, x)``. Keeps one plain module per arch
    in a small cache (building one costs a few ms and training revisits the same archs)."""

    def __init__(self, family: ModuleType, supernet: nn.Module, cache_size: int = 64):
        self.family, self.supernet = family, supernet
        self.cache: Dict[object, nn.Module] = {}
        self.cache_size = cache_size

    def module(self, arch) -> nn.Module:
        if arch not in self.cache:
            if len(self.cache) >= self.cache_size:
                self.cache.pop(next(iter(self.cache)))
            # On the supernet's device: functional_call swaps in the sliced weights, but the
            # module's own non-persistent buffers (attention-bias indices) must be there too.
            device = next(self.supernet.parameters()).device
            self.cache[arch] = self.family.plain_model(arch).to(device)
        return self.cache[arch]

    def __call__(self, arch, x: torch.Tensor) -> torch.Tensor:
        model = self.module(arch)
        model.train(self.supernet.training)
        views = self.family.subnet_state_dict(arch, self.supernet.tensors(), model)
        # BN updates its running statistics in place, i.e. in the supernet's buffers through the
        # views; they are only a by-product (every subnet is BN-recalibrated before use).
        return functional_call(model, views, (x,))


def plain_subnet(family: ModuleType, arch, supernet_tensors: Dict[str, torch.Tensor]) -> nn.Module:
    """A standalone plain subnet of ``arch`` holding copies of the sliced weights."""
    model = family.plain_model(arch)
    sliced = family.subnet_state_dict(arch, supernet_tensors, model)
    load_weights(model, {k: v.detach().cpu().numpy() for k, v in sliced.items()})
    return model


def load_supernet(family: ModuleType, path: str) -> Tuple[nn.Module, Dict[str, str]]:
    """(supernet, metadata); raises ValueError on missing / extra names or wrong shapes."""
    tensors, meta = read_safetensors(path)
    net = family.Supernet()
    copy_into(net.tensors(), tensors)
    return net, meta


def save_supernet(net: nn.Module, path: str, metadata: Dict[str, str]) -> None:
    """Write-then-rename, so a reader never sees a half-written checkpoint."""
    tmp = path + ".tmp"
    arrays = {k: v.detach().cpu().numpy() for k, v in net.tensors().items()}
    write_safetensors(tmp, arrays, dict(metadata))
    os.replace(tmp, path)


def recalibrate_bn(model: nn.Module, images: np.ndarray, upsample: int) -> None:
    """Recomputes every BN's running statistics on ``images`` (uint8 28x28, preprocessed with
    ``upsample``) as the contract says (module docstring)."""
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


class UniformSampler:
    """The training's subnet source for families without a complexity-aware sampler: each
    subnet uniform over the space (``sample_arch``), from its own seeded generator."""

    kind = "uniform"

    def __init__(self, sample_arch, seed: int):
        self.sample_arch = sample_arch
        self.rng = random.Random(seed)

    def next(self, count: int) -> Tuple[Optional[int], List[object]]:
        """(no level, ``count`` subnets), the interface of a level-walking sampler."""
        return None, [self.sample_arch(self.rng) for _ in range(count)]

    def describe(self) -> str:
        return self.kind
