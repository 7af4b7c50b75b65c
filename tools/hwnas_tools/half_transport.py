"""Halves safetensors weights for a trip between machines, and widens them back.

The GPU machine (tools/gpu/train_fmnist.sh) returns at most 64 MB of files per call: thirty
stand-alone rank-check subnets in F32 do not fit beside the three supernets. `pack` writes each
F32 file as F16 (the same names, shapes and metadata, plus "transport": "f16"); `unpack` widens
them back to F32 (exact) where hwnas evaluates them. The round trip rounds each weight to 11
significant bits (relative error <= 2^-11); the supernets themselves always travel in F32.

Usage: python3 -m hwnas_tools.half_transport pack|unpack SRC_DIR DST_DIR
Exit status: 0 on success, 2 on bad input.
"""
from __future__ import annotations

import glob
import os
import sys

from hwnas_tools.tensor_io import read_safetensors, write_safetensors


def convert(src: str, dst: str, dtype: str) -> None:
    """``src`` (F32 or F16) written to ``dst`` as ``dtype``, write-then-rename."""
    tensors, meta = read_safetensors(src)  # F16 is widened on read
    meta = dict(meta)
    if dtype == "F16":
        meta["transport"] = "f16"
    else:
        meta.pop("transport", None)
    tmp = dst + ".tmp"
    write_safetensors(tmp, tensors, meta, dtype=dtype)
    os.replace(tmp, dst)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 3 or argv[0] not in ("pack", "unpack") or not os.path.isdir(argv[1]):
        print("half_transport: error: usage: pack|unpack SRC_DIR DST_DIR (SRC_DIR must exist)",
              file=sys.stderr)
        return 2
    mode, src_dir, dst_dir = argv
    os.makedirs(dst_dir, exist_ok=True)
    files = sorted(glob.glob(os.path.join(src_dir, "*.safetensors")))
    for src in files:
        try:
            convert(src, os.path.join(dst_dir, os.path.basename(src)),
                    "F16" if mode == "pack" else "F32")
        except (OSError, ValueError, KeyError) as err:  # truncated file, bad header, full disk
            print(f"half_transport: error: {src}: {err} (re-copy the file from the machine that "
                  f"wrote it)", file=sys.stderr)
            return 2
    print(f"half_transport {mode}: {len(files)} files {src_dir} -> {dst_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
