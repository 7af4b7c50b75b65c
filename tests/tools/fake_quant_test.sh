#!/usr/bin/env bash
# CTest driver: the PyTorch fake-quant reference (tools/hwnas_tools/fake_quant.py) recomputes the
# int8 logits of tests/data/int8 from the committed plans, so that the goldens the engine's
# int8 parity test reads stay what the reference computes. Exits 77 (skipped) without torch.
# Usage: fake_quant_test.sh REPO_ROOT
set -u
root=$1
source "$(dirname "$0")/torch_python.sh"
run_torch_module "$root" fake_quant --check "$root/tests/data/int8"
