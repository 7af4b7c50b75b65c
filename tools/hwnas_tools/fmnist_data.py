"""Fashion-MNIST as the efficientformer-fmnist contract defines it (FMNIST-SPEC.md).

  * files: the gzip IDX files of Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist)
    or $HWNAS_FASHION_MNIST (the variable hwnas's C++ side reads too);
  * preprocessing: uint8 28x28 -> zero-pad 2 on each side (32x32) -> 2x nearest upsample (64x64;
    4x, 128x128, for elasticvit-fmnist) -> x / 255 -> (x - 0.2860) / 0.3530, one channel (NCHW float32);
  * splits: key(i) = splitmix64(seed * 0x9E3779B97F4A7C15 + i) over the 60,000 training images,
    indices sorted by key: the first 5,000 are `val`, the other 55,000 `train` (in key order);
    the 10,000 t10k images are `test`.
"""
from __future__ import annotations

import gzip
import os
import struct
from typing import Dict, Tuple

import numpy as np

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530
NUM_VAL = 5000
GOLDEN_GAMMA = 0x9E3779B97F4A7C15
MASK64 = (1 << 64) - 1


ENV_VAR = "HWNAS_FASHION_MNIST"


def data_dir() -> str:
    return os.environ.get(ENV_VAR) or DEFAULT_DIR


def read_idx(path: str) -> np.ndarray:
    """An IDX file (gzip or not) as a uint8 array of its stated shape."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not a uint8 IDX file (magic {raw[:4].hex()})")
    shape = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: {data.size} bytes of data for shape {shape}")
    return data.reshape(shape)


def load(kind: str, directory: str = None) -> Tuple[np.ndarray, np.ndarray]:
    """(images (N,28,28) uint8, labels (N,) uint8) of 'train' (60,000) or 't10k' (10,000)."""
    directory = directory or data_dir()
    images = read_idx(os.path.join(directory, f"{kind}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(directory, f"{kind}-labels-idx1-ubyte.gz"))
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{directory}: {kind} has {images.shape[0]} images, {labels.shape[0]} labels")
    return images, labels


def splitmix64(z: np.ndarray) -> np.ndarray:
    """The standard splitmix64 output function applied to each uint64 state z (mod 2^64)."""
    z = z.astype(np.uint64)
    with np.errstate(over="ignore"):
        z = z + np.uint64(GOLDEN_GAMMA)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def split_indices(seed: int = 0, n: int = 60000) -> Dict[str, np.ndarray]:
    """{'val': first 5,000 indices by key, 'train': the other 55,000}, both in key order."""
    base = (seed * GOLDEN_GAMMA) & MASK64
    with np.errstate(over="ignore"):
        keys = splitmix64(np.uint64(base) + np.arange(n, dtype=np.uint64))
    order = np.argsort(keys, kind="stable")
    return {"val": order[:NUM_VAL], "train": order[NUM_VAL:]}


def preprocess(images: np.ndarray, upsample: int = 2) -> np.ndarray:
    """(N,28,28) uint8 -> (N,1,32*upsample,32*upsample) float32 normalised, as the contracts say
    (efficientformer-fmnist: 2x, 64x64; elasticvit-fmnist: 4x, 128x128)."""
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2)))
    up = padded.repeat(upsample, axis=1).repeat(upsample, axis=2).astype(np.float32)
    return ((up / np.float32(255.0) - np.float32(MEAN)) / np.float32(STD))[:, None]


def preprocess_torch(images, upsample: int = 2):
    """``preprocess`` on a (N,28,28) uint8 torch tensor, on its device (a GPU trainer keeps the
    uint8 split there and builds each batch in place); the same float32 operations in the same
    order, so equal to ``preprocess`` up to the device's rounding of the division."""
    import torch  # only the trainers need torch; the data tools run without it

    padded = torch.nn.functional.pad(images, (2, 2, 2, 2))
    up = padded.repeat_interleave(upsample, dim=1).repeat_interleave(upsample, dim=2)
    return ((up.float() / 255.0 - MEAN) / STD)[:, None]


class Splits:
    """All three splits as uint8 images + labels (preprocess per batch: 64x64 floats of 60,000
    images would take 1 GB). The t10k files are read on the first use of `test` (a training
    machine may hold only the train files)."""

    def __init__(self, seed: int = 0, directory: str = None):
        self.directory = directory
        train_x, train_y = load("train", directory)
        idx = split_indices(seed, train_x.shape[0])
        self.data = {"train": (train_x[idx["train"]], train_y[idx["train"]]),
                     "val": (train_x[idx["val"]], train_y[idx["val"]])}

    def __getitem__(self, name: str) -> Tuple[np.ndarray, np.ndarray]:
        if name == "test" and name not in self.data:
            self.data["test"] = load("t10k", self.directory)
        return self.data[name]
