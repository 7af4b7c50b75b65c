"""hwnas's PyTorch tools as one package: reference models, the Fashion-MNIST supernets, their
training, golden files and checks (tools/README.md lists the modules and commands).

Run from the repository root as ``PYTHONPATH=tools python3 -m hwnas_tools.<module> ...``.
This file imports neither torch nor numpy: ``-m`` imports it before the module it runs, and
bench_pytorch must set the thread variables before torch loads; the scripts exit 77 (CTest:
skipped) where torch is missing, which needs a torch-free place to say so.
"""
from __future__ import annotations

import importlib
import os
import sys

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(PACKAGE_DIR))
# The shared reference data next to the checkout (timm / official golden weights and logits).
SHARED_GOLDEN = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "golden"))


def require_torch() -> None:
    """Exits 77 (CTest's skip code) when numpy or torch cannot be imported: CI does not install
    PyTorch, and a missing optional dependency is not a failure."""
    try:
        for name in ("numpy", "torch"):
            importlib.import_module(name)
    except ImportError as missing:
        print(f"skipped: {missing} (needs numpy and PyTorch)", file=sys.stderr)
        sys.exit(77)
