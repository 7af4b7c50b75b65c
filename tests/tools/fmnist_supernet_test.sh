#!/usr/bin/env bash
# CTest driver: runs hwnas_tools.check --space SPACE (tools/hwnas_tools/): the family's reference
# parity against GOLDEN_DIR (skipped with a note where its files are absent), weight-sharing
# forward == sliced plain subnet, slicing rule, gradients, the family's own checks, and re-checks
# the committed supernet checkpoint (data/supernets/SPACE.safetensors) and the golden files
# written from it (tests/data/SPACE). Exits 77 (CTest: skipped) when no interpreter has torch.
# Usage: fmnist_supernet_test.sh REPO_ROOT [SPACE [GOLDEN_DIR]]
#   SPACE defaults to efficientformer-fmnist, GOLDEN_DIR to REPO_ROOT/../shared/golden. A third
#   argument ending in .py is the per-space script name older CMakeLists pass; it is ignored.
set -u
root=$1
space=${2:-efficientformer-fmnist}
golden=${3:-$root/../shared/golden}
case "$golden" in *.py) golden=$root/../shared/golden ;; esac
source "$(dirname "$0")/torch_python.sh"
args=(--space "$space" --golden-dir "$golden")
ckpt="$root/data/supernets/$space.safetensors"
if [ -f "$ckpt" ]; then
  args+=(--checkpoint "$ckpt")
  [ -f "$root/tests/data/$space/subnets.json" ] && args+=(--goldens "$root/tests/data/$space")
fi
run_torch_module "$root" check "${args[@]}"
