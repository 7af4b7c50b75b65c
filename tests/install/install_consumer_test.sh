#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, builds tests/install/consumer against it with
# find_package(hwnas), runs it and checks its output against timm's L1 parameter count, and that
# the consumer inherits none of hwnas's own build flags (warnings, -march=native, -Werror,
# sanitizers): a consumer built for another CPU must not get code for the building one.
set -euo pipefail
build_dir=$1; source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/tests/install/consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
cmake --build "$work/build" >/dev/null
leaked=$(grep -oE -- '-march=native|-Wall|-Wextra|-Werror|-fsanitize=[a-z,]+' \
  "$work/build/compile_commands.json" "$work/prefix"/lib*/cmake/hwnas/*.cmake | sort -u || true)
[ -z "$leaked" ] || { echo "hwnas's build flags leak into a find_package consumer: $leaked"; exit 1; }
out=$("$work/build/consumer")
[ "$out" = "$(printf "12289928\n1000")" ] || { echo "consumer printed '$out', expected 12289928 and 1000"; exit 1; }
echo "find_package(hwnas) consumer OK: $out"
