#!/usr/bin/env bash
# CTest driver: runs tools/efficientformer_ref.py against the golden L1 logits (timm) and the
# small golden sets under tests/data/efficientformer. PyTorch is optional (CI does not install
# it): the script exits 77 ("skipped" for CTest) when it cannot import torch, and so does this
# driver when no interpreter has it.
# Usage: torch_ref_test.sh REPO_ROOT GOLDEN_DIR
set -u
root=$1
golden=$2
# One thread: ctest runs tests in parallel on a small machine.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
args=(--check-small "$root/tests/data/efficientformer")
if [ -f "$golden/efficientformer_l1.safetensors" ]; then
  args+=(--golden-dir "$golden")
else
  echo "note: $golden has no efficientformer_l1.*; checking the small sets only"
  args+=(--no-l1)
fi
# Debian's python3-torch lives in the system interpreter, which a pyenv or venv python3 on PATH
# can hide; HWNAS_TORCH_PYTHON picks another one. Each candidate runs the check directly (no
# separate probe: importing torch is most of the test's time).
for py in ${HWNAS_TORCH_PYTHON:-} python3 /usr/bin/python3; do
  command -v "$py" >/dev/null 2>&1 || continue
  "$py" "$root/tools/efficientformer_ref.py" "${args[@]}"
  rc=$?
  [ "$rc" -ne 77 ] && exit "$rc"
done
echo "skipped: no python3 with torch and numpy (set HWNAS_TORCH_PYTHON)"
exit 77
