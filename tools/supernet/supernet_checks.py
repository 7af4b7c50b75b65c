"""Checks every Fashion-MNIST supernet test runs the same way, for any space module `sn`
(efficientformer_fmnist, elasticvit_fmnist, turbovit_fmnist): each module has SPACE, RESOLUTION,
Supernet, SubnetRunner, plain_subnet and load_supernet."""
from __future__ import annotations

import json
import os
import struct

import torch


def check_forward(sn, net, archs, tol: float) -> bool:
    """The weight-sharing forward used in training (views of the supernet) equals a standalone
    plain subnet loaded with the sliced state dict (eval mode), max |diff| <= tol, and the output
    depends on the input (two images give different logits)."""
    runner = sn.SubnetRunner(net)
    net.eval()
    x = torch.randn(2, 1, sn.RESOLUTION, sn.RESOLUTION, generator=torch.Generator().manual_seed(1))
    ok = True
    for name, arch in archs:
        with torch.no_grad():
            shared = runner(arch, x)
            plain = sn.plain_subnet(arch, net.tensors()).eval()(x)
        diff = float((shared - plain).abs().max())
        spread = float((plain[0] - plain[1]).abs().max())
        print(f"{name}: weight-sharing vs plain max |diff| = {diff:.3g} (|logits| max "
              f"{float(plain.abs().max()):.3g}, input sensitivity {spread:.3g})")
        ok &= diff <= tol and spread > 1e-3
    return bool(ok)


def check_checkpoint(sn, path: str) -> bool:
    """The checkpoint loads (load_supernet raises on missing / extra names or wrong shapes), names
    its space and format, says how it was trained, is at most 20 MiB and holds no integer BN
    buffers."""
    net, meta = sn.load_supernet(path)
    ok = meta.get("space") == sn.SPACE and meta.get("format") == "hwnas-supernet-v1"
    ok &= "trained" in meta and os.path.getsize(path) <= 20 * 2 ** 20
    with open(path, "rb") as f:  # safetensors: u64 header length, then the JSON header
        names = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    ok &= not any(k.endswith("num_batches_tracked") for k in names)
    print(f"checkpoint {path}: {os.path.getsize(path) / 2 ** 20:.2f} MiB, {meta}: "
          f"{'ok' if ok else 'FAIL'}")
    return bool(ok)
