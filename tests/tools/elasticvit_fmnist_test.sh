#!/usr/bin/env bash
# CTest driver of Tools.ElasticVitFmnistSupernetTorch: fmnist_supernet_test.sh for
# elasticvit-fmnist (the plain subnet against the official golden T1 in GOLDEN_DIR, the shared
# supernet checks, the complexity-aware sampler, the committed checkpoint and goldens).
# Usage: elasticvit_fmnist_test.sh REPO_ROOT GOLDEN_DIR
set -u
exec bash "$(dirname "$0")/fmnist_supernet_test.sh" "$1" elasticvit-fmnist "$2"
