#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, builds tests/install/consumer against it with
# find_package(hwnas), runs it and checks its output against timm's L1 parameter count.
set -euo pipefail
build_dir=$1; source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/tests/install/consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" >/dev/null
out=$("$work/build/consumer")
[ "$out" = "$(printf "12289928\n1000")" ] || { echo "consumer printed '$out', expected 12289928 and 1000"; exit 1; }
echo "find_package(hwnas) consumer OK: $out"
