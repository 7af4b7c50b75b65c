#!/usr/bin/env python3
"""PyTorch 1.13's own int8 on EfficientFormer-L1, beside its fp32, for bench_int8's comparison.

The model is tools/hwnas_tools/efficientformer_ref.py's L1 (timm's structure) with its default
random weights; int8 is PyTorch's FX graph-mode post-training quantization with the onednn
backend (Debian's build has no fbgemm; per-channel weights, per-tensor u8 activations, calibrated
on 16 noise images; the MHSA module stays fp32, as FX cannot trace it). Prints
the median of --repeats timed forwards after --warmup, per batch size, and the int8 / fp32 ratio.
Set OMP_NUM_THREADS to --threads (this script also sets torch.set_num_threads).

    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 PYTHONPATH=tools /usr/bin/python3 \\
        bench/int8_pytorch.py --threads 2 --batch 1 8
"""
import argparse
import statistics
import time

import torch
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

from hwnas_tools import efficientformer_ref

# Debian's PyTorch 1.13 is built without fbgemm; its x86 int8 backend is oneDNN's.
ENGINE = "onednn"


def median_ms(model, x, warmup, repeats):
    with torch.inference_mode():
        for _ in range(warmup):
            model(x)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(x)
            times.append(1e3 * (time.perf_counter() - t0))
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--repeats", type=int, default=30)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    arch = efficientformer_ref.NAMED["l1"]
    fp32 = efficientformer_ref.EfficientFormer(arch).eval()
    example = torch.rand(1, 3, arch.resolution, arch.resolution) * 4 - 2
    torch.backends.quantized.engine = ENGINE
    # The attention module reshapes by its input's shape, which FX cannot trace: it stays fp32
    # (its qkv and projection Linears included) inside the otherwise quantized graph.
    custom = {"non_traceable_module_class": [efficientformer_ref.Attention]}
    prepared = prepare_fx(fp32, get_default_qconfig_mapping(ENGINE), (example,),
                          prepare_custom_config=custom)
    with torch.inference_mode():
        prepared(torch.rand(16, 3, arch.resolution, arch.resolution) * 4 - 2)
    int8 = convert_fx(prepared)
    print(f"torch {torch.__version__}, threads {args.threads}, quantized engine {ENGINE}")
    for b in args.batch:
        x = torch.rand(b, 3, arch.resolution, arch.resolution) * 4 - 2
        f = median_ms(fp32, x, args.warmup, args.repeats)
        q = median_ms(int8, x, args.warmup, args.repeats)
        print(f"batch {b}: fp32 {f:.2f} ms, int8 {q:.2f} ms, fp32 / int8 = {f / q:.2f}")


if __name__ == "__main__":
    main()
