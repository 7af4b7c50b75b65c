#!/usr/bin/env python3
"""CI's rule on skipped tests: a test that skips proves nothing, so CI (which installs every
dependency, PyTorch included) allows one reason only, the CPU. int8 needs AVX2 (hwnas's own
kernels) or VNNI / AMX (oneDNN's), and tests/support/skip_without_int8.h skips an int8 test where
the CPU or build has none of them. Any other skip fails, named with its reason.

Usage: check_skips.py CTEST_LOG BUILD_DIR
  CTEST_LOG: ctest's printed output, whose summary names the skipped tests ("(Skipped)");
  BUILD_DIR/Testing/Temporary/LastTest.log holds each test's output, with its reason. (That
  log alone cannot tell a SKIP_RETURN_CODE skip from a pass.)
Exit status: 0 when every skip is the CPU's, 1 otherwise, 2 when a log is missing.
"""
import os
import re
import sys

# The skip messages of HWNAS_SKIP_WITHOUT_INT8 and HWNAS_SKIP_WITHOUT_INT8_PAIRS
# (tests/support/skip_without_int8.h).
CPU_REASONS = ("no AVX2, VNNI or AMX on this CPU: int8 is refused",
               "no AVX2 in this build: hwnas's int8 kernels do not run")

HEADER = re.compile(r"^\d+/\d+ Testing: (.+)$")
SKIPPED = re.compile(r"^\s*\d+ - (.+) \(Skipped\)\s*$")


def test_outputs(log_text):
    """name -> output (what the test printed), of each test in ctest's LastTest.log."""
    outputs = {}
    name, lines, inside = None, [], False
    for line in log_text.splitlines():
        m = HEADER.match(line)
        if m:
            name, lines, inside = m.group(1), [], False
        elif line == "Output:":
            inside = name is not None
        elif line == "<end of output>" and inside:
            outputs[name] = "\n".join(lines[1:])  # the first is a rule of dashes
            inside = False
        elif inside:
            lines.append(line)
    return outputs


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def main(argv):
    if len(argv) != 3:
        print("usage: check_skips.py CTEST_LOG BUILD_DIR", file=sys.stderr)
        return 2
    last = os.path.join(argv[2], "Testing", "Temporary", "LastTest.log")
    try:
        summary, outputs = read(argv[1]), test_outputs(read(last))
    except OSError as e:
        print(f"check_skips: cannot read {e.filename} ({e.strerror}); run ctest first",
              file=sys.stderr)
        return 2
    skipped = [m.group(1) for m in map(SKIPPED.match, summary.splitlines()) if m]
    if skipped and not outputs:
        print(f"check_skips: error: {last} holds no test output (a later ctest call replaced "
              f"it); run this right after the tests", file=sys.stderr)
        return 1
    cpu = [n for n in skipped if any(r in outputs.get(n, "") for r in CPU_REASONS)]
    other = [n for n in skipped if n not in cpu]
    if cpu:
        print(f"check_skips: {len(cpu)} int8 tests skipped because this CPU or build has no "
              f"AVX2, VNNI or AMX (int8 is refused here; they run where one of them is)")
    for name in other:
        lines = [l.strip() for l in outputs.get(name, "").splitlines()]
        reason = next((l for l in lines if "skip" in l.lower()), "no reason printed")
        print(f"check_skips: error: {name} skipped ({reason}); install what it needs in "
              f"scripts/install-deps.sh", file=sys.stderr)
    return 1 if other else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
