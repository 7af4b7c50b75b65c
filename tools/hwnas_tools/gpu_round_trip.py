"""Checks, on the CPU, the round trip that trains on a GPU machine (tools/gpu/train_fmnist.sh):

  * the device-side batch (``fmnist_data.preprocess_torch``, ``train.training_batch`` on tensors)
    equals the numpy one the CPU trainers use, for both upsamplings;
  * ``half_transport`` pack then unpack keeps names, shapes and metadata and rounds each weight
    by at most 2^-11 of its magnitude (F16's 11 significant bits), the file being F16 in between;
  * ``rank_check --select-only`` (hwnas at hand) then ``--train-only --costs`` (no hwnas, a torch
    device other than plain cpu, so the tensor path runs) chooses the same subnets, and after the
    F16 trip the evaluation run reuses every stand-alone weight file instead of training again.

Usage: python3 -m hwnas_tools.gpu_round_trip --hwnas PATH   (CTest Tools.GpuRoundTrip)
Exit status: 0 when every check passes, 1 when one fails, 77 without numpy/torch.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
from typing import List

from hwnas_tools import require_torch

require_torch()

import numpy as np  # noqa: E402
import torch  # noqa: E402

from hwnas_tools import fmnist_data, half_transport, rank_check, spaces, train  # noqa: E402
from hwnas_tools.tensor_io import read_header, read_safetensors, write_safetensors  # noqa: E402

SPACE = "turbovit-fmnist"  # the quickest family to train and evaluate


def run_quiet(fn, argv: List[str]) -> int:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        rc = fn(argv)
    if rc != 0:
        print(out.getvalue())
    return rc


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m hwnas_tools.gpu_round_trip")
    parser.add_argument("--hwnas", required=True, help="hwnas binary")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    failures: List[str] = []

    def check(name: str, ok: bool, detail: str = "") -> None:
        print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")
        if not ok:
            failures.append(name)

    rng = np.random.default_rng(7)
    images = rng.integers(0, 256, (48, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 48).astype(np.uint8)
    for up in (2, 4):
        want = fmnist_data.preprocess(images, up)
        got = fmnist_data.preprocess_torch(torch.from_numpy(images), up).numpy()
        check(f"preprocess_torch x{up} equals preprocess", got.shape == want.shape
              and float(np.abs(got - want).max()) <= 1e-6)
    for space in ("efficientformer-fmnist", "elasticvit-fmnist"):
        fam = spaces.family(space)
        batch = rng.permutation(48)[:20]
        x1, y1 = train.training_batch(fam, images, labels, batch, np.random.default_rng(3))
        tensors = train.to_device(images, labels, "cpu:0")
        x2, y2 = train.training_batch(fam, *tensors, batch, np.random.default_rng(3))
        check(f"{space}: device batch (flips, layout) equals the numpy batch",
              torch.equal(y1, y2) and x1.shape == x2.shape
              and float((x1 - x2).abs().max()) <= 1e-6
              and x1.is_contiguous(memory_format=torch.channels_last)
              == x2.is_contiguous(memory_format=torch.channels_last))

    with tempfile.TemporaryDirectory(prefix="hwnas-gpu-trip") as tmp:
        src, half, back = (os.path.join(tmp, d) for d in ("src", "half", "back"))
        os.makedirs(src)
        weights = {"a.weight": rng.standard_normal((16, 8)).astype(np.float32) * 0.05,
                   "b.bias": rng.standard_normal(5).astype(np.float32) * 300.0}
        meta = {"space": SPACE, "budget": "{\"steps\": 3}"}
        write_safetensors(os.path.join(src, "x.safetensors"), weights, meta)
        half_transport.main(["pack", src, half])
        half_transport.main(["unpack", half, back])
        packed = read_header(os.path.join(half, "x.safetensors"))
        got, got_meta = read_safetensors(os.path.join(back, "x.safetensors"))
        worst = max(float(np.max(np.abs(got[k] - v) / np.abs(v))) for k, v in weights.items())
        check("F16 in between, F32 after", all(packed[k]["dtype"] == "F16" for k in weights)
              and all(v["dtype"] == "F32" for k, v in
                      read_header(os.path.join(back, "x.safetensors")).items()
                      if k != "__metadata__"))
        check("names, shapes and metadata kept", sorted(got) == sorted(weights)
              and all(got[k].shape == v.shape for k, v in weights.items()) and got_meta == meta
              and packed["__metadata__"] == {**meta, "transport": "f16"})
        check("each weight within 2^-11 of its magnitude", worst <= 2.0 ** -11, f"{worst:.3g}")
        bad = os.path.join(tmp, "bad")
        os.makedirs(bad)
        with open(os.path.join(bad, "cut.safetensors"), "wb") as f:
            f.write(b"\x40\x00\x00\x00\x00\x00\x00\x00{\"a\":")  # header cut short
        rc = run_quiet(half_transport.main, ["pack", bad, bad + "-out"])
        check("a cut file is one error line, exit 2, nothing written", rc == 2 and not any(
            n.endswith(".safetensors") for n in os.listdir(bad + "-out")))

        sel, trained, evald = (os.path.join(tmp, d) for d in ("sel", "trained", "eval"))
        budget = ["--space", SPACE, "--subnets", "3", "--steps", "3", "--batch", "8"]
        rc = run_quiet(rank_check.main, budget + ["--select-only", "--hwnas", args.hwnas,
                                                  "--out", sel])
        check("--select-only writes the MACs", rc == 0 and os.path.isfile(
            os.path.join(sel, "costs.json")))
        rc = run_quiet(rank_check.main, budget + [
            "--train-only", "--costs", os.path.join(sel, "costs.json"), "--hwnas",
            os.path.join(tmp, "no-hwnas"), "--device", "cpu:0", "--out", trained])
        with open(os.path.join(trained, "rank_check.json")) as f:
            chosen = [e["arch_json"] for e in json.load(f)["subnets"]]
        fam = spaces.family(SPACE)
        named = [fam.arch_json(fam.NAMED[n]) for n in ("s", "m", "l")]
        check("--train-only without hwnas trains s, m, l from the MACs file",
              rc == 0 and chosen == named and all(os.path.isfile(os.path.join(
                  trained, f"{t}.safetensors")) for t in ("s", "m", "l")))
        half_transport.main(["pack", trained, half + "2"])
        half_transport.main(["unpack", half + "2", evald])
        for name in os.listdir(trained):
            if name.endswith(".json"):
                shutil.copy(os.path.join(trained, name), evald)
        rc = run_quiet(rank_check.main, budget + ["--hwnas", args.hwnas, "--eval-samples", "20",
                                                  "--out", evald])
        with open(os.path.join(evald, "rank_check.json")) as f:
            entries = json.load(f)["subnets"]
        check("the evaluation run reuses the F16-trip weights and scores both ways",
              rc == 0 and all(e.get("reused_weights") and e.get("train_device") == "cpu"
                              and 0.0 <= e["supernet_top1"] <= 1.0
                              and 0.0 <= e["standalone_top1"] <= 1.0 for e in entries))
        rc = run_quiet(rank_check.main, budget + ["--time-budget-min", "1", "--hwnas",
                                                  args.hwnas, "--out", evald])
        check("--time-budget-min without --train-only is bad input", rc == 2)
    print(f"gpu_round_trip: {'FAIL ' + '; '.join(failures) if failures else 'PASS'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
