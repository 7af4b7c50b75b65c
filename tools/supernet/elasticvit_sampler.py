"""Complexity-aware subnet sampling (ElasticViT, Tang et al., ICCV 2023) for the elasticvit-fmnist
proxy: the logic of hwnas's spaces/elasticvit_sampler.{h,cpp} (SPACES.md section 2; the code's
FusedSuperNet.arch_sampling, select_min_arch, process.get_bank_id) on the proxy's FLOPs range.

  * FLOPs levels T with a window [T, T + w]; the level index random-walks by a delta uniform over
    {-1, 0, +1} per step ({0, 0, +1} at the first level, {-1, 0, 0} at the last), starting at the
    first level and moved before the first step, as the code does;
  * a level-T subnet is drawn uniformly over each dimension's options at or above the level's
    floor (widths also at or above the previous stage's) and rejected until its reference MFLOPs
    lie in the window.

Mapping of the real space's levels onto the proxy (the proxy is the real space at resolution 128,
scaled down): the real space at resolution 128 spans [37.4, 705.6] reference MFLOPs (its smallest
and its largest arch at 128), the proxy [S, L] = [16.9, 96.6]. Every real level T and the window
width 20 map affinely: T' = S + (T - 37.4) * (L - S) / (705.6 - 37.4), w' = 20 * (L - S) / 668.2;
levels whose mapped window does not fit below L are dropped (700: its window holds only the
largest; 900 and 1200 exist only at higher resolutions). The per-level floors are the code's min
archs (keyed 200 / 400 / 800 MFLOPs, chosen per level as select_min_arch does) mapped dimension by
dimension to the option at the same relative position of the proxy's list (index
round_half_up(i * (n' - 1) / (n - 1))); as in the code (and hwnas's LevelMinimum) the stem and the
kernels are unconstrained, expand and MLP ratio take the min arch's smallest value as a floor.
"""
from __future__ import annotations

import dataclasses
import math
import random
from typing import Dict, List, Sequence, Tuple

import elasticvit_fmnist as ev

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


def map_min_arch(key: int) -> ev.Arch:
    """The real min arch ``key`` on the proxy's options (stem and kernels at their smallest: they
    are not bounded)."""
    widths, depths, expand, mlp, v_scale = REAL_MIN_ARCHS[key]
    w = [map_option(v, r, p) for v, r, p in zip(widths, REAL_WIDTHS, ev.WIDTH_CHOICES)]
    d = [map_option(v, r, p) for v, r, p in zip(depths, REAL_DEPTHS, ev.DEPTH_CHOICES)]
    w[0], d[0] = ev.WIDTH_CHOICES[0][0], ev.DEPTH_CHOICES[0][0]
    for i in range(1, 7):  # keep the floors themselves a legal (non-decreasing) arch
        w[i] = max(w[i], w[i - 1])
    e = min(ev.EXPAND_CHOICES[0], key=lambda c: abs(c - min(expand)))
    m = min(ev.MLP_CHOICES[0], key=lambda c: abs(c - min(mlp)))
    v = [min(ev.VSCALE_CHOICES[0], key=lambda c: abs(c - s)) for s in v_scale]
    return ev.make_arch(w, d, [3, 3, 3], [e, e], [m] * 4, v)


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
    floor: ev.Arch   # the mapped min arch


def proxy_levels() -> List[Level]:
    lo, hi = ev.reference_mflops(ev.SMALLEST), ev.reference_mflops(ev.LARGEST)
    scale = (hi - lo) / (REAL_RANGE_128[1] - REAL_RANGE_128[0])
    out = []
    for t in REAL_LEVELS:
        target, width = lo + (t - REAL_RANGE_128[0]) * scale, 2 * REAL_FLOPS_BOUND * scale
        if target + width <= hi:
            out.append(Level(t, target, width, map_min_arch(min_arch_key(t))))
    return out


class ComplexityAwareSampler:
    """The level walk and window rejection sampling (module docstring); seeded."""

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

    def in_window(self, index: int) -> Tuple[ev.Arch, float]:
        level = self.levels[index]
        floor = dataclasses.replace(level.floor, kernel=ev.SMALLEST.kernel)
        for _ in range(self.max_draws):
            self.draws += 1
            arch = ev.sample_uniform(self.rng, floor)
            f = ev.reference_mflops(arch)
            if level.target <= f <= level.target + level.width:
                return arch, f
        raise RuntimeError(f"no subnet in [{level.target:.2f}, {level.target + level.width:.2f}] "
                           f"MFLOPs after {self.max_draws} draws")

    def next(self, count: int) -> Tuple[int, List[ev.Arch]]:
        """One training step: moves the level, returns (level index, ``count`` subnets of it)."""
        index = self.walk()
        return index, [self.in_window(index)[0] for _ in range(count)]


def describe() -> Dict[str, object]:
    return {"levels": [{"real_mflops": l.real_mflops, "window": [round(l.target, 3),
                                                                  round(l.target + l.width, 3)],
                        "floor": ev.arch_json(l.floor)} for l in proxy_levels()]}
