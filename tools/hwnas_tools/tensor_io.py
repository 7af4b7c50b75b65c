"""safetensors read and written by hand (8-byte little-endian header size, JSON header, raw data),
so that neither timm nor the `safetensors` package is needed, and strict weight loading."""
from __future__ import annotations

import json
import struct
from typing import Dict, Tuple

import numpy as np
import torch
import torch.nn as nn

_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64,
           "I32": np.int32, "BF16": None}


def read_safetensors(path: str) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    """Returns (tensors, metadata). F16 is widened to F32 (exact)."""
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_len))
        data = f.read()
    meta = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        dtype = _DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        begin, end = info["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype=np.dtype(dtype).newbyteorder("<"))
        arr = arr.reshape(info["shape"])
        tensors[name] = arr.astype(np.float32) if arr.dtype == np.float16 else arr.copy()
    return tensors, meta


def read_header(path: str) -> Dict[str, object]:
    """The JSON header alone (tensor names, dtypes, shapes, metadata)."""
    with open(path, "rb") as f:
        return json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))


def write_safetensors(path: str, tensors: Dict[str, np.ndarray], metadata: Dict[str, str],
                      dtype: str = "F32") -> None:
    """Writes the tensors as ``dtype`` ("F32", or "F16" for transport only: hwnas reads F32) in
    name order (deterministic bytes for the same input)."""
    numpy_dtype = {"F32": "<f4", "F16": "<f2"}[dtype]
    header: Dict[str, object] = {"__metadata__": metadata}
    offset = 0
    blobs = []
    for name in sorted(tensors):
        blob = np.ascontiguousarray(tensors[name], dtype=numpy_dtype).tobytes()
        header[name] = {"dtype": dtype, "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # the format pads the header to 8 bytes with spaces
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for blob in blobs:
            f.write(blob)


def float_state(model: nn.Module) -> Dict[str, torch.Tensor]:
    """The state dict without integer buffers (BN's num_batches_tracked), as the files store it."""
    return {k: v for k, v in model.state_dict().items() if v.is_floating_point()}


def copy_into(targets: Dict[str, torch.Tensor], tensors: Dict[str, np.ndarray]) -> None:
    """Copies ``tensors`` into ``targets`` by name; raises ValueError on a missing or extra name
    or a shape mismatch, so a file never half-loads."""
    missing = sorted(set(targets) - set(tensors))
    extra = sorted(set(tensors) - set(targets))
    if missing or extra:
        raise ValueError(f"weights do not match the architecture: missing {missing[:5]} "
                         f"({len(missing)}), unexpected {extra[:5]} ({len(extra)})")
    with torch.no_grad():
        for name, value in targets.items():
            src = torch.from_numpy(np.asarray(tensors[name], dtype=np.float32))
            if tuple(src.shape) != tuple(value.shape):
                raise ValueError(f"{name}: file shape {tuple(src.shape)}, model {tuple(value.shape)}")
            value.copy_(src)


def load_weights(model: nn.Module, tensors: Dict[str, np.ndarray]) -> None:
    """Strict load of every floating-point entry; integer buffers keep their defaults."""
    copy_into(float_state(model), tensors)
