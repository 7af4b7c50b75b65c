#!/usr/bin/env bash
# CTest driver: hwnas_tools.rank_check --self-test checks Kendall's tau-b and Spearman's rho
# against hand-computed values (ties included) and that the rank check's subnet selection of
# every Fashion-MNIST space holds s, m and l, is seeded, sorted by MACs (hwnas describe) and
# spread over the cost range. Exits 1 when a check fails, 77 (skipped) without torch.
# Usage: rank_check_test.sh REPO_ROOT HWNAS_BINARY
set -u
root=$1
hwnas=$2
source "$(dirname "$0")/torch_python.sh"
run_torch_module "$root" rank_check --self-test --hwnas "$hwnas"
