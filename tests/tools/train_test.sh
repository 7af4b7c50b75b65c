#!/usr/bin/env bash
# CTest driver: hwnas_tools.train --self-test runs 4 training steps (batch 4) of a Fashion-MNIST
# supernet and checks the two phases of --largest-first (the largest subnet alone, then the
# sandwich rule), each phase's learning-rate warm-up and cosine, and the checkpoint's recipe
# metadata against hand values. Exits 1 when a check fails, 77 (skipped) without torch.
# Usage: train_test.sh REPO_ROOT SPACE
set -u
source "$(dirname "$0")/torch_python.sh"
run_torch_module "$1" train --space "$2" --self-test
