#!/usr/bin/env bash
# CTest driver: scripts/check_skips.py (CI's rule on skipped tests) on hand-written ctest logs.
# It must pass a skip whose reason is the CPU's (int8 without AVX2, VNNI or AMX), fail one whose reason
# is a missing tool and name that reason, and fail when LastTest.log was emptied by a later ctest
# call. Usage: check_skips_test.sh REPO_ROOT
set -u
root=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/build/Testing/Temporary"
last="$dir/build/Testing/Temporary/LastTest.log"
fail() { echo "check_skips_test: $*" >&2; exit 1; }

# One test's block of LastTest.log, as ctest writes it: NAME OUTPUT
block() {
  printf '1/2 Testing: %s\n1/2 Test: %s\nCommand: "x"\nDirectory: /d\n"%s" start time: t\nOutput:\n----------------------------------------------------------\n%s\n<end of output>\nTest time =   0.01 sec\n' \
    "$1" "$1" "$1" "$2"
}
summary() {  # the "did not run" summary of ctest's output, one line per NAME
  printf '100%% tests passed, 0 tests failed out of 2\n\nThe following tests did not run:\n'
  local i=1
  for name in "$@"; do printf '\t%d - %s (Skipped)\n' "$i" "$name"; i=$((i + 1)); done
}

# 1. The CPU's reasons (int8 refused; the AVX2 kernels absent from the build) pass, counted aloud.
{ block Int8.A "[  SKIPPED ] no AVX2, VNNI or AMX on this CPU: int8 is refused"
  block Int8.P "[  SKIPPED ] no AVX2 in this build: hwnas's int8 kernels do not run"
  block Other.B "ok"; } >"$last"
summary Int8.A Int8.P >"$dir/ctest.log"
out=$(python3 "$root/scripts/check_skips.py" "$dir/ctest.log" "$dir/build" 2>&1) ||
  fail "a CPU skip was refused: $out"
case $out in *"2 int8 tests skipped"*) ;; *) fail "the CPU skips were not counted: $out" ;; esac

# 2. A missing tool fails, naming the test and its reason.
{ block Int8.A "[  SKIPPED ] no AVX2, VNNI or AMX on this CPU: int8 is refused"
  block Tools.C "skipped: No module named 'numpy' (needs numpy and PyTorch)"; } >"$last"
summary Int8.A Tools.C >"$dir/ctest.log"
if out=$(python3 "$root/scripts/check_skips.py" "$dir/ctest.log" "$dir/build" 2>&1); then
  fail "a skip for a missing tool passed: $out"
fi
case $out in *"Tools.C skipped (skipped: No module named 'numpy'"*) ;; *) fail "reason not named: $out" ;; esac

# 3. A LastTest.log that a later ctest call replaced fails by name.
printf 'Start testing: t\n----------------------------------------------------------\nEnd testing: t\n' >"$last"
summary Int8.A >"$dir/ctest.log"
if out=$(python3 "$root/scripts/check_skips.py" "$dir/ctest.log" "$dir/build" 2>&1); then
  fail "an emptied LastTest.log passed: $out"
fi
case $out in *"holds no test output"*) ;; *) fail "the emptied log was not named: $out" ;; esac

# 4. No skips at all pass.
summary >"$dir/ctest.log"
python3 "$root/scripts/check_skips.py" "$dir/ctest.log" "$dir/build" >/dev/null 2>&1 ||
  fail "a run without skips failed"
echo "check_skips_test: 4 cases as expected"
