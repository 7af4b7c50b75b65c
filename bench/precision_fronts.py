#!/usr/bin/env python3
"""Hypervolume of several searches' fronts on one scale (e.g. fp32 against int8 fronts).

Each front.json holds its own hypervolume, normalised by its own run's bounds; fronts of
different runs compare only on shared bounds. This reads the members' latency (ms, minimised)
and accuracy (maximised) of every front given, scales both objectives by the union's range,
(f - lo) / (hi - lo) with accuracy negated, and prints each front's hypervolume against the
reference point 1.1 per objective (as hwnas's own), with its member count and device.

    python3 bench/precision_fronts.py runs/fp32/front.json runs/int8/front.json
"""
import json
import sys


def points(front):
    out = []
    for m in front["members"]:
        o = m["objectives"]
        if m.get("feasible", True):
            out.append((o["latency"], -o["accuracy"]))
    return out


def hypervolume_2d(pts, ref):
    """Area dominated by pts (both minimised) up to ref."""
    pts = sorted(p for p in pts if p[0] < ref[0] and p[1] < ref[1])
    area, best = 0.0, ref[1]
    for x, y in pts:  # slabs [x, ref_x] x [y, best]: the union of the dominated boxes
        if y < best:
            area += (ref[0] - x) * (best - y)
            best = y
    return area


def main(paths):
    if len(paths) < 2:
        sys.exit(__doc__)
    fronts = [json.load(open(p)) for p in paths]
    allp = [p for f in fronts for p in points(f)]
    lo = [min(p[k] for p in allp) for k in (0, 1)]
    hi = [max(p[k] for p in allp) for k in (0, 1)]
    for path, f in zip(paths, fronts):
        scaled = [tuple((p[k] - lo[k]) / ((hi[k] - lo[k]) or 1) for k in (0, 1)) for p in points(f)]
        hv = hypervolume_2d(scaled, (1.1, 1.1))
        lat = [p[0] for p in points(f)]
        acc = [-p[1] for p in points(f)]
        print(f"{path}: device {f.get('device')}, {len(lat)} members, latency "
              f"{min(lat):.3f}-{max(lat):.3f} ms, accuracy {min(acc):.4f}-{max(acc):.4f}, "
              f"hypervolume (shared scale) {hv:.4f}")


if __name__ == "__main__":
    main(sys.argv[1:])
