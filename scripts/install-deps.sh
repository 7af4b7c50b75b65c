#!/usr/bin/env bash
# Installs hwnas's build and test dependencies from Debian 12's packages.
# Usage: scripts/install-deps.sh [--with-tools | --ci]
#   --with-tools  also installs PyTorch (CPU) and numpy for the reference scripts under tools/.
#   --ci          the same as no option (kept so CI states its intent).
# chromium is installed for the report test (headless screenshot of the HTML report);
# OpenCV's DNN module and ONNX Runtime (npm's onnxruntime-node, into tools/onnx/node_modules)
# are the independent runtimes the ONNX export tests compare against.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev libboost-iostreams-dev
  nlohmann-json3-dev libeigen3-dev libtbb-dev libsqlite3-dev sqlite3
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libspdlog-dev libfmt-dev
  libcpp-httplib-dev libopenblas-dev libopenblas0-pthread libdnnl-dev
  libstb-dev zlib1g-dev
  dataset-fashion-mnist
  libonnx-dev libprotobuf-dev libopencv-dev
  chromium
)
case "${1:-}" in
  --with-tools) packages+=(python3 python3-numpy python3-torch) ;;
  --ci) ;;
  "") ;;
  *) echo "error: unknown option '$1' (use --with-tools or --ci)" >&2; exit 2 ;;
esac

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
# ONNX Runtime's Node binding from the npm registry (pinned by tools/onnx/package-lock.json).
# --ignore-scripts: its install script only downloads GPU providers, from a host outside the
# registry; the CPU runtime is in the package itself.
# Only the ONNX Runtime export tests need it, so a failure here warns and does not stop.
if command -v npm >/dev/null; then
  npm ci --ignore-scripts --no-audit --no-fund --prefix "$(dirname "$0")/../tools/onnx" >/dev/null ||
    echo "hwnas: npm could not install onnxruntime-node: the ONNX Runtime export tests will be skipped" >&2
else
  echo "hwnas: npm not found: the ONNX Runtime export tests will be skipped" >&2
fi
echo "hwnas: dependencies installed"
