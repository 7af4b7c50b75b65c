#!/usr/bin/env bash
# CTest driver: runs tools/supernet/elasticvit_test.py (the plain ElasticViT subnet reproduces the
# official golden T1 logits, weight-sharing forward == sliced plain subnet, slicing rule,
# gradients, complexity-aware sampler) and re-checks the committed elasticvit-fmnist supernet
# checkpoint and the golden files written from it (tests/data/elasticvit-fmnist).
# Exits 77 (CTest: skipped) when no interpreter has torch and numpy.
# Usage: elasticvit_fmnist_test.sh REPO_ROOT GOLDEN_DIR
set -u
root=$1
golden=$2
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
if [ -f "$golden/elasticvit_t1.safetensors" ]; then
  args=(--golden-dir "$golden")
else
  echo "note: $golden has no elasticvit_t1.*; skipping the official-golden check"
  args=(--no-t1)
fi
ckpt="$root/data/supernets/elasticvit-fmnist.safetensors"
if [ -f "$ckpt" ]; then
  args+=(--checkpoint "$ckpt")
  [ -f "$root/tests/data/elasticvit-fmnist/subnets.json" ] &&
    args+=(--goldens "$root/tests/data/elasticvit-fmnist")
fi
# Debian's python3-torch lives in the system interpreter, which a pyenv or venv python3 on PATH
# can hide; HWNAS_TORCH_PYTHON picks another one.
for py in ${HWNAS_TORCH_PYTHON:-} python3 /usr/bin/python3; do
  command -v "$py" >/dev/null 2>&1 || continue
  "$py" "$root/tools/supernet/elasticvit_test.py" "${args[@]}"
  rc=$?
  [ "$rc" -ne 77 ] && exit "$rc"
done
echo "skipped: no python3 with torch and numpy (set HWNAS_TORCH_PYTHON)"
exit 77
