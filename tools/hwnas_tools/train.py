"""Trains a Fashion-MNIST supernet of --space on the `train` split (sandwich rule).

Each step trains the largest subnet, the smallest and --random-subnets more drawn by the family's
sampler (uniform, or ElasticViT's complexity-aware sampler at its current FLOPs level) (Yu et
al., BigNAS, ECCV 2020; the sandwich rule of slimmable networks): the largest learns from the
labels, the others from the largest's soft predictions (in-place distillation, as in BigNAS /
OFA / ElasticViT), their gradients add up in the shared weights and AdamW takes one step. The
learning rate follows a cosine decay over the run's progress, max(step / --steps, budget time /
--budget-min), after a linear warm-up, so a wall-clock budget still ends at a small learning
rate; with --budget-min 0 the step count alone fixes the run (and the weights).

--largest-first F splits the run in two phases, in the order of Once-for-All (Cai et al., ICLR
2020: train the full network first, then shrink): the first F of the progress trains the largest
subnet alone on the labels, as stand-alone training would; the rest is the sandwich rule above,
distilling from an already accurate teacher. Each phase has its own warm-up and cosine decay;
the sandwich phase peaks at --sandwich-lr. Why: a sandwich step costs four subnets' forward and
backward, a largest-only step one, so a short budget reaches a trained largest subnet (and a
useful teacher) sooner this way.

Usage (from the repository root; tools/README.md has the commands that made the checkpoints):
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 PYTHONPATH=tools nice -n 5 /usr/bin/python3 \\
      -m hwnas_tools.train --space S [--budget-min M] [--steps N] [--out PATH]
  ... -m hwnas_tools.train --space S --self-test      (CTest Tools.TrainPhases)
Exit status: 0 on success, 1 on a failed self-test, 2 on bad input, 77 without numpy/torch.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import math
import os
import sys
import tempfile
import time
from typing import Tuple

# Before torch loads: OpenMP and OpenBLAS size their pools once (see --threads).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from hwnas_tools import REPO_ROOT, require_torch  # noqa: E402

require_torch()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from hwnas_tools import fmnist_data, spaces, supernet  # noqa: E402
from hwnas_tools.tensor_io import read_safetensors  # noqa: E402


def distill_loss(logits: torch.Tensor, teacher_probs: torch.Tensor) -> torch.Tensor:
    """Cross-entropy against the teacher's soft predictions (KL up to a constant)."""
    return -(teacher_probs * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def param_groups(net: torch.nn.Module, weight_decay: float, no_decay_suffixes: tuple):
    """No weight decay on 1-D tensors (norms, biases, layer scales) and on the tensors whose name
    ends with one of ``no_decay_suffixes`` (attention biases, position embeddings)."""
    decay, no_decay = [], []
    for name, p in net.named_parameters():
        skip = p.dim() <= 1 or name.endswith(tuple(no_decay_suffixes))
        (no_decay if skip else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]


class BatchStream:
    """Batch indices into ``n`` training images: seeded permutations (epochs) cut into batches
    of ``batch``; a permutation is drawn from ``np_rng`` whenever fewer than ``batch`` are left."""

    def __init__(self, n: int, batch: int, np_rng: np.random.Generator):
        self.n, self.batch, self.np_rng = n, batch, np_rng
        self.order = np.empty(0, dtype=np.int64)
        self.epoch = 0

    def next(self) -> np.ndarray:
        if self.order.size < self.batch:
            self.order = np.concatenate([self.order, self.np_rng.permutation(self.n)])
            self.epoch += 1
        batch, self.order = self.order[:self.batch], self.order[self.batch:]
        return batch


def training_batch(fam, images, labels, batch: np.ndarray, np_rng: np.random.Generator):
    """(x, y) of the images ``batch``: the contract's preprocessing, then random horizontal flips
    (``np_rng``; Fashion-MNIST classes are symmetric); NHWC where the family asks. ``images`` and
    ``labels`` are numpy arrays (the batch is built on the CPU) or torch tensors on a device (see
    ``to_device``: it is built there, with the same flips)."""
    flip = np_rng.random(len(batch)) < 0.5
    if isinstance(images, torch.Tensor):
        index = torch.from_numpy(batch).to(images.device)
        x = fmnist_data.preprocess_torch(images[index], fam.UPSAMPLE)
        mask = torch.from_numpy(flip).to(images.device)
        x = torch.where(mask[:, None, None, None], x.flip(-1), x)
        y = labels[index]
    else:
        x = fmnist_data.preprocess(images[batch], fam.UPSAMPLE)
        x[flip] = x[flip][..., ::-1]
        x = torch.from_numpy(np.ascontiguousarray(x))
        y = torch.from_numpy(labels[batch].astype(np.int64))
    if fam.CHANNELS_LAST:
        x = x.contiguous(memory_format=torch.channels_last)
    return x, y


def to_device(images: np.ndarray, labels: np.ndarray, device: str):
    """The uint8 split as ``training_batch`` takes it: numpy for the CPU, else tensors on
    ``device`` (55,000 images are 43 MB as uint8, so a GPU holds them and preprocesses there)."""
    if device == "cpu":
        return images, labels
    return (torch.from_numpy(np.ascontiguousarray(images)).to(device),
            torch.from_numpy(labels.astype(np.int64)).to(device))


class Phases:
    """The run's two phases (module docstring, --largest-first): ``phase(progress)`` is
    ("largest", progress within it) for progress < ``largest_first``, else ("sandwich", ...)."""

    def __init__(self, largest_first: float):
        self.largest_first = largest_first

    def phase(self, progress: float) -> Tuple[str, float]:
        if progress < self.largest_first:
            return "largest", progress / self.largest_first
        return "sandwich", (progress - self.largest_first) / (1.0 - self.largest_first)


def learning_rate(peak: float, step: int, warmup_steps: int, progress: float) -> float:
    """Linear warm-up over ``warmup_steps`` (``step`` = steps done), then cosine decay over the
    run's ``progress`` in [0, 1]."""
    warm = min(1.0, (step + 1) / warmup_steps)
    return peak * warm * 0.5 * (1.0 + math.cos(math.pi * progress))


def init_layer_scales(model: torch.nn.Module, value: float) -> None:
    """Sets every layer-scale gamma (parameters named ``*.gamma``) to ``value``."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".gamma"):
                p.fill_(value)


def self_test(space: str) -> int:
    """Phases and learning rates of a 4-step run of batch 4 in ``space`` against hand values
    (returns 0 or 1)."""
    failures = []

    def expect(name: str, got, want) -> None:
        ok = got == want if isinstance(want, str) else abs(got - want) <= 1e-9 * max(1, abs(want))
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {got!r} (hand: {want!r})")
        if not ok:
            failures.append(name)

    phases = Phases(0.4)
    for progress, want in ((0.0, ("largest", 0.0)), (0.2, ("largest", 0.5)),
                           (0.4, ("sandwich", 0.0)), (0.7, ("sandwich", 0.5))):
        got = phases.phase(progress)
        expect(f"phase at {progress}", got[0], want[0])
        expect(f"progress in phase at {progress}", got[1], want[1])
    # --steps 4 --largest-first 0.5 --warmup-steps 2 --lr 1e-3: steps 1-2 in the largest phase
    # (run progress 0, 1/4 -> phase progress 0, 1/2), steps 3-4 in the sandwich phase (0, 1/2),
    # which warms up again from its own first step and peaks at lr / 2:
    #   lr = peak * min(1, (k + 1) / 2) * (1 + cos(pi * p)) / 2, k = steps done in the phase.
    want = [("largest", 1e-3 * 0.5 * 1.0), ("largest", 1e-3 * 1.0 * 0.5),
            ("sandwich", 5e-4 * 0.5 * 1.0), ("sandwich", 5e-4 * 1.0 * 0.5)]
    log = io.StringIO()
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(log):
        rc = main(["--space", space, "--steps", "4", "--budget-min", "0",
                   "--batch", "4", "--largest-first", "0.5", "--warmup-steps", "2",
                   "--out", os.path.join(tmp, "s.safetensors")])
        meta = read_safetensors(os.path.join(tmp, "s.safetensors"))[1]
    expect("exit status", rc, 0)
    steps = [line.split() for line in log.getvalue().splitlines() if line.startswith("step ")]
    expect("steps logged", len(steps), len(want))
    for k, (fields, (phase, lr)) in enumerate(zip(steps, want), start=1):
        expect(f"step {k} phase", fields[2], phase)
        expect(f"step {k} lr", float(fields[fields.index("lr") + 1]), float(f"{lr:.2e}"))
        # The smaller subnets (distillation losses) run in the sandwich phase only.
        kd_s = float(fields[fields.index("kd_s") + 1])
        expect(f"step {k} smallest subnet trained", "yes" if kd_s > 0 else "no",
               "yes" if phase == "sandwich" else "no")
    expect("checkpoint names the recipe",
           "yes" if "largest alone for 0.5 of the run" in meta.get("trained", "") else "no", "yes")
    print(f"{'FAILED: ' + ', '.join(failures) if failures else 'all passed'}")
    return 1 if failures else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m hwnas_tools.train",
                                     description=__doc__.split("\n\n")[0])
    spaces.add_space_argument(parser)
    parser.add_argument("--out", help="checkpoint path (safetensors; default "
                        "data/supernets/<space>.safetensors)")
    parser.add_argument("--budget-min", type=float,
                        help="wall-clock budget in minutes, data loading excluded; a step that "
                        "took longer than --max-step-s (the process was stopped) counts as "
                        "that long; 0: only --steps counts (default: the family's, 25 or 0)")
    parser.add_argument("--max-step-s", type=float, default=20.0,
                        help="longest wall time one step may add to the budget (default 20)")
    parser.add_argument("--steps", type=int, default=0,
                        help="stop after this many steps (0: only the time budget counts)")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3, help="AdamW peak learning rate")
    parser.add_argument("--largest-first", type=float, default=0.4,
                        help="fraction of the run (0 <= F < 1) that trains the largest subnet "
                        "alone before the sandwich phase (module docstring; default 0.4, the "
                        "committed checkpoints'; 0: sandwich throughout)")
    parser.add_argument("--sandwich-lr", type=float,
                        help="peak learning rate of the sandwich phase (default --lr / 2)")
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--warmup-steps", type=int, default=30)
    parser.add_argument("--layer-scale-init", type=float, default=0.1,
                        help="initial layer-scale gamma of families that have them (timm: 1e-5, "
                        "which leaves every block an identity for the first ~100 steps of a "
                        "short run; default 0.1)")
    parser.add_argument("--random-subnets", type=int, default=2,
                        help="sampled subnets per step besides the largest and smallest")
    parser.add_argument("--seed", type=int, default=0,
                        help="training seed (init, batch order, flips, subnets)")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the val/train split")
    # One thread: on the shared 2-core box two OpenMP threads stall each other at every barrier
    # (measured: largest subnet fwd+bwd 0.8-1.6 s with 1 thread, 1.7-13 s with 2 under load).
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu",
                        help="torch device to train on: cpu (default) or cuda (tools/README.md, "
                        "\"Training on a GPU machine\")")
    parser.add_argument("--save-every-min", type=float, default=5.0,
                        help="also write the checkpoint every this many minutes")
    parser.add_argument("--self-test", action="store_true",
                        help="check the phases and learning rates against hand values on a 4-step "
                        "run (CTest Tools.TrainPhases) and exit")
    args = parser.parse_args(argv)
    if args.self_test:
        return self_test(args.space)
    fam = spaces.family(args.space)
    spaces.apply_defaults(args, fam, budget_min=25.0)
    if args.budget_min <= 0 and args.steps <= 0:
        parser.error("give a positive --budget-min or --steps")
    if args.batch <= 0:
        parser.error("--batch must be positive")
    if not 0.0 <= args.largest_first < 1.0:
        parser.error(f"--largest-first must be in [0, 1), got {args.largest_first:g}")
    args.sandwich_lr = args.lr / 2 if args.sandwich_lr is None else args.sandwich_lr
    args.out = args.out or os.path.join(REPO_ROOT, "data", "supernets", args.space + ".safetensors")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)  # the supernet's initial weights
    np_rng = np.random.default_rng(args.seed)
    sampler = fam.subnet_sampler(args.seed)

    images, labels = fmnist_data.Splits(args.split_seed)["train"]
    num_images = images.shape[0]
    images, labels = to_device(images, labels, args.device)
    net = fam.Supernet()
    init_layer_scales(net, args.layer_scale_init)
    net.to(args.device)
    net.train()
    runner = supernet.SubnetRunner(fam, net)
    opt = torch.optim.AdamW(param_groups(net, args.weight_decay, fam.NO_DECAY_SUFFIXES),
                            lr=args.lr)
    largest, smallest = fam.largest_arch(), fam.smallest_arch()

    budget_s = args.budget_min * 60 if args.budget_min > 0 else math.inf
    total_steps = args.steps if args.steps > 0 else math.inf
    start = time.time()
    last_save = start
    active = 0.0  # wall time counted against the budget (pauses clipped)
    step_end = start
    step = 0
    stream = BatchStream(num_images, args.batch, np_rng)
    phases = Phases(args.largest_first)
    phase_start = {}  # phase name -> its first step (each phase warms up again)

    def metadata(done_steps: int) -> dict:
        return {"space": fam.SPACE, "format": supernet.CHECKPOINT_FORMAT,
                "trained": (f"hwnas_tools.train --space {args.space}, {done_steps} steps (batch "
                            f"{args.batch}, {recipe}, seed {args.seed}, split seed "
                            f"{args.split_seed}), {active:.0f} s ({time.time() - start:.0f} s "
                            f"wall) on {device_name}, torch {torch.__version__}, "
                            f"{datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC")}

    recipe = (f"sandwich 1+1+{args.random_subnets} {sampler.kind}, AdamW lr {args.lr:g} "
              f"cosine" if args.largest_first == 0 else
              f"largest alone for {args.largest_first:g} of the run (AdamW lr {args.lr:g} "
              f"cosine), then sandwich 1+1+{args.random_subnets} {sampler.kind} (AdamW lr "
              f"{args.sandwich_lr:g} cosine)")
    device_name = (torch.cuda.get_device_name(args.device) if args.device.startswith("cuda")
                   else f"cpu x{args.threads}")
    print(f"train: {num_images} images on {device_name}; budget {args.budget_min:g} min, steps "
          f"{args.steps or 'unbounded'}, batch {args.batch}, threads {args.threads}; subnets "
          f"{sampler.describe()}", flush=True)
    while True:
        progress = max(step / total_steps, active / budget_s)
        if progress >= 1.0:
            break
        x, y = training_batch(fam, images, labels, stream.next(), np_rng)
        name, phase_progress = phases.phase(progress)
        phase_step = step - phase_start.setdefault(name, step)
        peak = args.lr if name == "largest" else args.sandwich_lr
        lr = learning_rate(peak, phase_step, args.warmup_steps, phase_progress)
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad(set_to_none=True)
        t0 = time.time()
        logits = runner(largest, x)
        loss_l = F.cross_entropy(logits, y)
        loss_l.backward()
        teacher = logits.detach().softmax(dim=1)
        level, sampled = sampler.next(args.random_subnets) if name == "sandwich" else (None, [])
        losses = []
        for arch in ([smallest] + sampled if name == "sandwich" else []):
            loss = distill_loss(runner(arch, x), teacher)
            loss.backward()
            losses.append(loss.item())
        opt.step()
        step += 1
        now = time.time()
        active += min(now - step_end, args.max_step_s)
        step_end = now
        acc = (logits.argmax(1) == y).float().mean().item()
        print(f"step {step} {name} epoch {stream.epoch} lr {lr:.2e} loss_l {loss_l.item():.4f} "
              f"acc_l {acc:.3f} "
              f"kd_s {losses[0] if losses else 0:.4f} "
              f"kd_rand {np.mean(losses[1:]) if losses[1:] else 0:.4f}"
              f"{'' if level is None else f' level {level}'} step_s {now - t0:.2f} "
              f"budget_s {active:.0f} elapsed_s {now - start:.0f}", flush=True)
        if now - last_save > args.save_every_min * 60:
            supernet.save_supernet(net, args.out, metadata(step))
            last_save = time.time()

    supernet.save_supernet(net, args.out, metadata(step))
    print(f"done: {step} steps in {active:.0f} s of budget ({time.time() - start:.0f} s wall); "
          f"wrote {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
