#!/usr/bin/env bash
# Fails, listing the files, when a tracked C++ file differs from what the committed
# .clang-format makes of it (clang-format 14, Debian's clang-format-14). Fix with
#   git ls-files '*.cpp' '*.h' | xargs clang-format-14 -i
# CI runs it (.ci/run) and CTest runs it as Lint.ClangFormat.
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
format=$(command -v clang-format-14 || true)
if [ -z "$format" ]; then
  echo "check_format: clang-format-14 is not installed (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
mapfile -t files < <(git ls-files '*.cpp' '*.h' '*.cc')
bad=()
for f in "${files[@]}"; do
  "$format" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ "${#bad[@]}" -gt 0 ]; then
  echo "check_format: ${#bad[@]} of ${#files[@]} C++ files are not clang-formatted:" >&2
  printf '  %s\n' "${bad[@]}" >&2
  echo "fix: git ls-files '*.cpp' '*.h' '*.cc' | xargs clang-format-14 -i" >&2
  exit 1
fi
echo "check_format: ${#files[@]} C++ files formatted"
