#!/usr/bin/env python3
"""Trains the elasticvit-fmnist supernet on Fashion-MNIST's `train` split (sandwich rule).

Each step trains the largest subnet, the smallest and two subnets of the complexity-aware
sampler's current FLOPs level (ElasticViT; tools/supernet/elasticvit_sampler.py): the largest
learns from the labels, the other three from the largest's soft predictions (in-place
distillation, BigNAS / OFA / ElasticViT), their gradients add up in the shared weights and AdamW
takes one step. The learning rate follows a cosine decay over --steps after a linear warm-up. The
run is fixed by its step count (not wall time), so pauses do not change the weights.

Usage (from the repository root; tools/README.md has the command that made the checkpoint):
  OPENBLAS_NUM_THREADS=1 nice -n 5 /usr/bin/python3 tools/supernet/train_elasticvit_fmnist.py \
      --steps N [--out data/supernets/elasticvit-fmnist.safetensors]
Exit status: 0 on success, 2 on bad input.
"""
from __future__ import annotations

import argparse
import datetime
import math
import os
import random
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import elasticvit_fmnist as ev  # noqa: E402
import elasticvit_sampler  # noqa: E402
import fmnist_data  # noqa: E402
from train_fmnist import distill_loss, param_groups  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(ev.HERE))
DEFAULT_OUT = os.path.join(REPO_ROOT, "data", "supernets", "elasticvit-fmnist.safetensors")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="checkpoint path (safetensors)")
    parser.add_argument("--steps", type=int, required=True, help="training steps")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3, help="AdamW peak learning rate")
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--warmup-steps", type=int, default=30)
    parser.add_argument("--random-subnets", type=int, default=2,
                        help="complexity-aware subnets per step besides the largest and smallest")
    parser.add_argument("--seed", type=int, default=0,
                        help="training seed (init, batch order, flips, sampler)")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the val/train split")
    # One thread: on the shared 2-core box two OpenMP threads stall each other at every barrier.
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--save-every-min", type=float, default=5.0,
                        help="also write the checkpoint every this many minutes")
    args = parser.parse_args(argv)
    if args.steps <= 0 or args.batch <= 0:
        parser.error("--steps and --batch must be positive")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np_rng = np.random.default_rng(args.seed)
    sampler = elasticvit_sampler.ComplexityAwareSampler(args.seed)

    images, labels = fmnist_data.Splits(args.split_seed)["train"]
    net = ev.Supernet()
    net.train()
    runner = ev.SubnetRunner(net)
    opt = torch.optim.AdamW(param_groups(net, args.weight_decay, "attention_bias"), lr=args.lr)

    start = time.time()
    last_save = start
    order = np.empty(0, dtype=np.int64)
    epoch = 0

    def metadata(done_steps: int) -> dict:
        return {"space": ev.SPACE, "format": "hwnas-supernet-v1",
                "trained": (f"tools/supernet/train_elasticvit_fmnist.py, {done_steps} steps (batch "
                            f"{args.batch}, sandwich 1+1+{args.random_subnets} complexity-aware, "
                            f"AdamW lr {args.lr:g} cosine, seed {args.seed}, split seed "
                            f"{args.split_seed}), {time.time() - start:.0f} s wall, torch "
                            f"{torch.__version__}, {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC")}

    print(f"train: {images.shape[0]} images; {args.steps} steps, batch {args.batch}, threads "
          f"{args.threads}; levels {elasticvit_sampler.describe()}", flush=True)
    for step in range(args.steps):
        if order.size < args.batch:
            order = np.concatenate([order, np_rng.permutation(images.shape[0])])
            epoch += 1
        batch, order = order[:args.batch], order[args.batch:]
        x = ev.preprocess(images[batch])
        flip = np_rng.random(len(batch)) < 0.5  # horizontal flips: FMNIST classes are symmetric
        x[flip] = x[flip][..., ::-1]
        # channels_last: PyTorch's CPU depthwise convolutions (forward and backward) run about 2x
        # faster in NHWC; the result is the same computation.
        x = torch.from_numpy(np.ascontiguousarray(x)).contiguous(memory_format=torch.channels_last)
        y = torch.from_numpy(labels[batch].astype(np.int64))

        warm = min(1.0, (step + 1) / args.warmup_steps)
        lr = args.lr * warm * 0.5 * (1.0 + math.cos(math.pi * step / args.steps))
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad(set_to_none=True)
        t0 = time.time()
        logits = runner(ev.LARGEST, x)
        loss_l = F.cross_entropy(logits, y)
        loss_l.backward()
        teacher = logits.detach().softmax(dim=1)
        level, sampled = sampler.next(args.random_subnets)
        losses = []
        for arch in [ev.SMALLEST] + sampled:
            loss = distill_loss(runner(arch, x), teacher)
            loss.backward()
            losses.append(loss.item())
        opt.step()
        acc = (logits.argmax(1) == y).float().mean().item()
        now = time.time()
        print(f"step {step + 1} epoch {epoch} lr {lr:.2e} loss_l {loss_l.item():.4f} acc_l {acc:.3f} "
              f"kd_s {losses[0]:.4f} kd_rand {np.mean(losses[1:]) if losses[1:] else 0:.4f} "
              f"level {level} step_s {now - t0:.2f} elapsed_s {now - start:.0f}", flush=True)
        if now - last_save > args.save_every_min * 60:
            ev.save_supernet(net, args.out, metadata(step + 1))
            last_save = time.time()

    ev.save_supernet(net, args.out, metadata(args.steps))
    print(f"done: {args.steps} steps in {time.time() - start:.0f} s wall; wrote {args.out}",
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
