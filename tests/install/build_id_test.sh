#!/usr/bin/env bash
# The git hash that table rows are stamped with is taken at build time, not at configure time:
# in a throw-away clone, configure once, build the probe, commit, rebuild without reconfiguring,
# and the probe must print the new commit (a configure-time hash would still print the old one).
# It also prints "-dirty" while a tracked file differs from the commit.
set -euo pipefail
source_dir=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q --local --no-hardlinks "$source_dir" "$work/src"
cmake -S "$work/src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHWNAS_BUILD_BENCH=OFF \
  >/dev/null
probe() { cmake --build "$work/build" --target hwnas_build_id_probe >/dev/null && "$work/build/tests/hwnas_build_id_probe"; }
git_c() { git -C "$work/src" -c user.name=build-id-test -c user.email=test@localhost "$@"; }
expect() {
  local got; got=$(probe)
  [ "$got" = "$1" ] || { echo "after $2: the build says git '$got', the tree is at '$1'"; exit 1; }
}
expect "$(git_c rev-parse --short=12 HEAD)" "the first build"
git_c commit -q --allow-empty -m "a new commit"
expect "$(git_c rev-parse --short=12 HEAD)" "a commit and a rebuild"
echo "// touched" >> "$work/src/core/build_id.h"
expect "$(git_c rev-parse --short=12 HEAD)-dirty" "editing a tracked file"
echo "build id follows the commit: OK"
