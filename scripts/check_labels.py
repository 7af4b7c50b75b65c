#!/usr/bin/env python3
"""Fails when a CTest test carries no kind label, so `ctest -L unit` and friends select every
test exactly once (tests/README.md, "Labels"). Usage: check_labels.py BUILD_DIR"""
import json
import subprocess
import sys

KINDS = {"unit", "golden", "cli", "tools", "slow", "fuzz", "lint", "mpi"}


def main() -> int:
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    out = subprocess.run(["ctest", "--test-dir", build, "--show-only=json-v1"], check=True,
                         capture_output=True, text=True).stdout
    bad = []
    counts = {k: 0 for k in sorted(KINDS)}
    tests = json.loads(out)["tests"]
    for t in tests:
        labels = set()
        for p in t.get("properties", []):
            if p["name"] == "LABELS":
                labels.update(p["value"])
        kinds = labels & KINDS
        if len(kinds) != 1:
            bad.append(f"{t['name']}: labels {sorted(labels)}")
        for k in kinds:
            counts[k] += 1
    if bad:
        print(f"check_labels: {len(bad)} of {len(tests)} tests lack exactly one kind label "
              f"({', '.join(sorted(KINDS))}):", file=sys.stderr)
        for b in bad:
            print("  " + b, file=sys.stderr)
        return 1
    print(f"check_labels: {len(tests)} tests, " +
          ", ".join(f"{k} {n}" for k, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
