"""The registry: each Fashion-MNIST supernet space the tools know, by its name in spaces/defs, and
the family module that holds everything specific to it (model, slicing rule, sampler, its
hand-written checks). The task scripts (train, make_goldens, check) dispatch on ``--space``
through it; adding a family is one module and one entry here (tools/README.md).

A family module defines (the task scripts use nothing else; ``family`` checks they exist):
  SPACE, RESOLUTION, UPSAMPLE        the space's name, input side, nearest upsample of 32x32
  HAS_BATCHNORM                      whether subnets need BN recalibration
  NAMED                              {"s", "m", "l": arch}
  largest_arch(), smallest_arch(), sample_arch(rng)   (uniform over the space, random.Random)
  arch_json(arch), arch_from_json(text_or_dict)       hwnas's arch JSON
  Supernet                           nn.Module of the union network; .tensors(): name -> tensor
                                     (the checkpoint's content; parameters keep requires_grad)
  plain_model(arch)                  a fresh plain subnet module (official / timm names)
  supernet_name(arch, name)          the supernet tensor a subnet tensor is sliced from
  subnet_state_dict(arch, tensors, model=None)        the slicing rule (views; gradients flow)
  subnet_sampler(seed)               training's subnet source: .next(count) -> (level or None,
                                     archs), .describe()
  NO_DECAY_SUFFIXES, CHANNELS_LAST   training: tensors without weight decay, NHWC inputs
  EVAL_BATCH                         evaluation batch of the golden writer
  NO_RECAL_SUBNETS                   named subnets whose top-1 is also reported unrecalibrated
  golden_notes(recalibration)        the family's keys of subnets.json after "raw_input"
  golden_entry(arch)                 extra per-subnet numbers of subnets.json (checked too)
  check_reference(golden_dir)        parity of the plain model with shared/golden (True when
                                     those files are absent: it says so and skips)
  randomise_supernet(net, seed)      weights with which every tensor changes the output
  CHECK_RANDOM_SUBNETS, GRADIENT_ARCH, GOLDEN_TOLERANCE
  check_slicing(net), gradient_slices_ok(grads), EXTRA_CHECKS (functions of net -> bool)
  DEFAULTS                           the family's defaults of task options (budget_min,
                                     no_recal_limit, recal)
"""
from __future__ import annotations

import argparse
import importlib
from types import ModuleType

SPACES = {
    "efficientformer-fmnist": "hwnas_tools.efficientformer_fmnist",
    "turbovit-fmnist": "hwnas_tools.turbovit_fmnist",
    "elasticvit-fmnist": "hwnas_tools.elasticvit_fmnist",
}

INTERFACE = (
    "SPACE", "RESOLUTION", "UPSAMPLE", "HAS_BATCHNORM", "NAMED", "largest_arch", "smallest_arch",
    "sample_arch", "arch_json", "arch_from_json", "Supernet", "plain_model", "supernet_name",
    "subnet_state_dict", "subnet_sampler", "NO_DECAY_SUFFIXES", "CHANNELS_LAST", "EVAL_BATCH",
    "NO_RECAL_SUBNETS", "golden_notes", "golden_entry", "check_reference", "randomise_supernet",
    "CHECK_RANDOM_SUBNETS", "GRADIENT_ARCH", "GOLDEN_TOLERANCE", "check_slicing",
    "gradient_slices_ok", "EXTRA_CHECKS", "DEFAULTS",
)


def family(space: str) -> ModuleType:
    """The family module of ``space``, imported on first use (each builds tables at import)."""
    module = importlib.import_module(SPACES[space])
    missing = [name for name in INTERFACE if not hasattr(module, name)]
    if missing or module.SPACE != space:
        raise TypeError(f"{module.__name__} does not implement a family for {space}: "
                        f"missing {missing}, SPACE {module.SPACE!r}")
    return module


def add_space_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--space", required=True, choices=list(SPACES),
                        help="the supernet's search space")


def apply_defaults(args: argparse.Namespace, fam: ModuleType, **fallbacks) -> None:
    """Options left at None take the family's default (DEFAULTS), else ``fallbacks``'s."""
    for name, fallback in fallbacks.items():
        if getattr(args, name) is None:
            setattr(args, name, fam.DEFAULTS.get(name, fallback))
