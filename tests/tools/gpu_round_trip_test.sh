#!/usr/bin/env bash
# CTest driver: hwnas_tools.gpu_round_trip checks the GPU training round trip on the CPU (device
# batches, F16 transport, rank_check's split into select / train-only / evaluate). Exits 1 when a
# check fails, 77 (skipped) without torch.
# Usage: gpu_round_trip_test.sh REPO_ROOT HWNAS_BINARY
set -u
root=$1
hwnas=$2
source "$(dirname "$0")/torch_python.sh"
run_torch_module "$root" gpu_round_trip --hwnas "$hwnas"
