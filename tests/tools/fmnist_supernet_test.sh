#!/usr/bin/env bash
# CTest driver: runs tools/supernet/supernet_test.py (weight-sharing forward == sliced plain
# subnet, slicing rule, gradients, BN recalibration) and re-checks the committed Fashion-MNIST
# supernet checkpoint and the golden files written from it (tests/data/<space>).
# Exits 77 (CTest: skipped) when no interpreter has torch and numpy.
# Usage: fmnist_supernet_test.sh REPO_ROOT [SPACE [SCRIPT]]
#   (defaults: efficientformer-fmnist, supernet_test.py; SCRIPT lives in tools/supernet/)
set -u
root=$1
space=${2:-efficientformer-fmnist}
script=${3:-supernet_test.py}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
args=()
ckpt="$root/data/supernets/$space.safetensors"
if [ -f "$ckpt" ]; then
  args+=(--checkpoint "$ckpt")
  [ -f "$root/tests/data/$space/subnets.json" ] && args+=(--goldens "$root/tests/data/$space")
fi
# Debian's python3-torch lives in the system interpreter, which a pyenv or venv python3 on PATH
# can hide; HWNAS_TORCH_PYTHON picks another one.
for py in ${HWNAS_TORCH_PYTHON:-} python3 /usr/bin/python3; do
  command -v "$py" >/dev/null 2>&1 || continue
  "$py" "$root/tools/supernet/$script" "${args[@]}"
  rc=$?
  [ "$rc" -ne 77 ] && exit "$rc"
done
echo "skipped: no python3 with torch and numpy (set HWNAS_TORCH_PYTHON)"
exit 77
