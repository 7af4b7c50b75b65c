#!/usr/bin/env bash
# CTest driver: runs hwnas_tools.efficientformer_ref (tools/hwnas_tools/) against the golden L1
# logits (timm) and the small golden sets under tests/data/efficientformer. PyTorch is optional
# (CI does not install it): exits 77 ("skipped" for CTest) when no interpreter has it.
# Usage: torch_ref_test.sh REPO_ROOT GOLDEN_DIR
set -u
root=$1
golden=$2
source "$(dirname "$0")/torch_python.sh"
args=(--check-small "$root/tests/data/efficientformer")
if [ -f "$golden/efficientformer_l1.safetensors" ]; then
  args+=(--golden-dir "$golden")
else
  echo "note: $golden has no efficientformer_l1.*; checking the small sets only"
  args+=(--no-l1)
fi
run_torch_module "$root" efficientformer_ref "${args[@]}"
