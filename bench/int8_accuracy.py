#!/usr/bin/env python3
"""Top-1 of the named s, m and l subnets of the three Fashion-MNIST spaces in fp32 and int8.

For each subnet: fp32, the default int8 scheme (per-layer granularity, --calibration-rule mse,
per-channel weights, depthwise layers in int8), the same with percentile ranges, the same with
the depthwise layers kept fp32 (--depthwise fp32), each depthwise layer in the precision that is
faster on this CPU (--depthwise faster), and the naive one (per-tensor min-max activations, per-tensor weights),
all scored by `hwnas eval` on the same images (the 10,000 test images by default), after the
same BN recalibration. Prints a Markdown table (drops in points against fp32) and, with --json,
the raw results.

    python3 bench/int8_accuracy.py [--hwnas build/apps/hwnas] [--samples 0] [--calibration 256] \
        [--spaces elasticvit-fmnist] [--schemes "fp32,int8,int8 faster depthwise"]
"""
import argparse
import json
import subprocess
import sys

SPACES = ["efficientformer-fmnist", "elasticvit-fmnist", "turbovit-fmnist"]
SCHEMES = {
    "fp32": ["--precision", "fp32"],
    "int8": ["--precision", "int8"],
    "int8 percentile": ["--precision", "int8", "--calibration-rule", "percentile"],
    "int8 fp32 depthwise": ["--precision", "int8", "--depthwise", "fp32"],
    "int8 faster depthwise": ["--precision", "int8", "--depthwise", "faster"],
    "int8 naive": ["--precision", "int8", "--calibration-rule", "minmax", "--granularity",
                   "per-tensor", "--weight-granularity", "per-tensor"],
}


def evaluate(args, space, arch, extra):
    cmd = [args.hwnas, "eval", "--space", space, "--arch", arch, "--weights",
           f"data/supernets/{space}.safetensors", "--samples", str(args.samples),
           "--calibration", str(args.calibration), "--threads", str(args.threads), "--json"]
    out = subprocess.run(cmd + extra, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hwnas", default="build/apps/hwnas")
    p.add_argument("--samples", type=int, default=0, help="test images (0: all 10,000)")
    p.add_argument("--calibration", type=int, default=256)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", action="store_true")
    p.add_argument("--spaces", default=",".join(SPACES), help="comma-separated (default: all three)")
    p.add_argument("--schemes", default=",".join(SCHEMES),
                   help="comma-separated, fp32 and int8 among them (default: all)")
    args = p.parse_args()
    schemes = {n: SCHEMES[n] for n in args.schemes.split(",")}
    if "fp32" not in schemes or "int8" not in schemes:
        sys.exit("int8_accuracy.py: --schemes must include fp32 and int8 (the table's reference "
                 "and layer counts); got " + args.schemes)
    rows = []
    for space in args.spaces.split(","):
        for arch in ["s", "m", "l"]:
            r = {"space": space, "arch": arch}
            for name, extra in schemes.items():
                r[name] = evaluate(args, space, arch, extra)
            rows.append(r)
            print(f"{space} {arch} done", file=sys.stderr)
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    names = list(schemes)
    print("| space | subnet | " + " | ".join(names) +
          " | int8 GEMM layers (per-channel) | int8 depthwise layers | kept fp32 by speed |")
    print("|---|---|" + "---|" * (len(names) + 1))
    worst = {n: 0.0 for n in names[1:]}
    for r in rows:
        fp = 100 * r["fp32"]["top1"]
        cells = [f"{fp:.2f}"]
        for n in names[1:]:
            d = 100 * r[n]["top1"] - fp
            worst[n] = min(worst[n], d)
            cells.append(f"{100 * r[n]['top1']:.2f} ({d:+.2f})")
        q = r["int8"]["int8"]
        kept = r.get("int8 faster depthwise", {}).get("int8", {})
        print(f"| {r['space']} | {r['arch']} | " + " | ".join(cells) +
              f" | {q['layers']} ({q['per_channel_layers']}) | {q.get('depthwise_layers', 0)} |"
              f" {kept.get('depthwise_layers_kept_fp32', '-')} |")
    print("\nlargest drop (points): " + ", ".join(f"{n} {v:+.2f}" for n, v in worst.items()))
    print(f"samples {rows[0]['fp32']['samples']}, isa {rows[0]['int8']['int8']['isa']}")


if __name__ == "__main__":
    main()
