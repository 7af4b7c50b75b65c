#!/usr/bin/env bash
# Installs hwnas's build and test dependencies from Debian 12's packages.
# Usage: scripts/install-deps.sh [--with-tools] [--ci] [--list]
#   --with-tools  also installs PyTorch (CPU) and numpy for the reference scripts under tools/.
#   --ci          what CI installs: everything, --with-tools included, so that the PyTorch
#                 reference checks (CTest label tools) run in CI instead of skipping.
#   --list        prints the Debian packages it would install with the other options, one a
#                 line, and installs nothing (scripts/check_deps.py compares them with what the
#                 build and tests really use).
# Only Depends count on a fresh machine: apt runs with --no-install-recommends, so a package that
# is merely recommended (ocl-icd-opencl-dev by libdnnl-dev) must be named here.
# chromium is installed for the report test (headless screenshot of the HTML report), with
# fonts-dejavu-extra: chromium falls back to its DejaVu Math TeX Gyre for glyphs DejaVu Sans
# lacks (CI's guard caught it on a machine that had the font through Java, 2026-12-05);
# OpenCV's DNN module and ONNX Runtime (npm's onnxruntime-node, into tools/onnx/node_modules)
# are the independent runtimes the ONNX export tests compare against; python3 runs the scripts
# of the external-accuracy tests, and strace records what the tests use for CI's guard.
# clang-14 and libclang-rt-14-dev (libFuzzer, ASan, UBSan) build the fuzz targets (tests/fuzz);
# clang-format-14 checks the formatting (scripts/check_format.sh, CTest Lint.ClangFormat).
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

packages=(
  build-essential cmake ninja-build pkg-config git ccache
  libboost-dev libboost-iostreams-dev
  nlohmann-json3-dev libeigen3-dev libtbb-dev libsqlite3-dev sqlite3
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libspdlog-dev libfmt-dev
  libcpp-httplib-dev libopenblas-dev libopenblas0-pthread libdnnl-dev ocl-icd-opencl-dev
  libstb-dev zlib1g-dev libpng-dev libturbojpeg0-dev
  dataset-fashion-mnist
  libonnx-dev libprotobuf-dev libopencv-dev
  libopenmpi-dev openmpi-bin
  chromium fonts-dejavu-extra
  python3 strace
  clang-14 libclang-rt-14-dev clang-format-14
)
list=0
for arg in "$@"; do
  case "$arg" in
    --with-tools | --ci) packages+=(python3-numpy python3-torch) ;;
    --list) list=1 ;;
    *) echo "error: unknown option '$arg' (use --with-tools, --ci or --list)" >&2; exit 2 ;;
  esac
done
# Node.js runs ONNX Runtime for the export tests. A machine may already have a newer Node.js from
# elsewhere (NodeSource's nodejs bundles npm and conflicts with Debian's npm), so npm comes from
# Debian only where no npm is on the PATH.
packages+=(nodejs)
if ! command -v npm >/dev/null; then packages+=(npm); fi
if [ "$list" = 1 ]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

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
