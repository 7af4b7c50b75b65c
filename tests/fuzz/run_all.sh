#!/usr/bin/env bash
# Runs every fuzz target for a bounded time on a copy of its seed corpus (plus its regression
# inputs), one after another, and prints one summary line per target.
# Usage: tests/fuzz/run_all.sh BUILD_DIR SECONDS_PER_TARGET [TARGET...]
#   BUILD_DIR: a build configured with -DHWNAS_FUZZ=ON (Clang), fuzz targets built.
#   TARGET: names without the fuzz_ prefix (default: every fuzz_* binary in BUILD_DIR).
# Environment: FUZZ_RSS_MB (default 2048), FUZZ_RUNS (passed as -runs=, default unlimited),
#   FUZZ_KEEP=DIR (keep the grown corpora and crash files there instead of a temporary folder).
# Exits 1 if any target crashed, reported a sanitizer error, leaked, timed out (an input over
# 1 s) or ran out of memory; its input is left under the work folder (named in the output).
set -uo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 BUILD_DIR SECONDS_PER_TARGET [TARGET...]" >&2
  exit 2
fi
build=$1
seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
bin_dir=$build/tests/fuzz
rss=${FUZZ_RSS_MB:-2048}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for b in "$bin_dir"/fuzz_*; do
    [ -x "$b" ] && targets+=("$(basename "$b" | sed 's/^fuzz_//')")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "error: no fuzz_* binaries in $bin_dir (configure with -DHWNAS_FUZZ=ON and build them)" >&2
  exit 2
fi

if [ -n "${FUZZ_KEEP:-}" ]; then
  work=$FUZZ_KEEP
  mkdir -p "$work"
else
  work=$(mktemp -d /tmp/hwnas-fuzz-run.XXXXXX)
fi
scratch_root=/dev/shm
[ -d "$scratch_root" ] && [ -w "$scratch_root" ] || scratch_root=$work
failed=0
for t in "${targets[@]}"; do
  bin=$bin_dir/fuzz_$t
  if [ ! -x "$bin" ]; then
    printf '%-16s missing binary %s\n' "$t" "$bin"
    failed=1
    continue
  fi
  corpus=$work/corpus/$t
  mkdir -p "$corpus" "$work/artifacts/$t"
  cp "$here/corpus/$t"/* "$corpus"/
  extra=()
  [ -d "$here/regressions/$t" ] && extra+=("$here/regressions/$t")
  runs=()
  [ -n "${FUZZ_RUNS:-}" ] && runs+=("-runs=$FUZZ_RUNS")
  log=$work/$t.log
  start=$(date +%s.%N)
  # The target writes each input to a scratch file under TMPDIR: in memory where possible.
  scratch=$(mktemp -d "$scratch_root/hwnas-fuzz-$t.XXXXXX")
  TMPDIR=$scratch "$bin" "$corpus" "${extra[@]}" -max_total_time="$seconds" "${runs[@]}" \
    -timeout=1 -rss_limit_mb="$rss" -artifact_prefix="$work/artifacts/$t/" -print_final_stats=1 \
    >"$log" 2>&1
  rc=$?
  end=$(date +%s.%N)
  rm -rf "$scratch"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  outcome=ok
  if [ $rc -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: ' "$log"; then
    failed=1
    outcome="FAILED (exit $rc): $(grep -m1 -E 'ERROR: |runtime error:|SUMMARY: ' "$log" | cut -c1-120)"
    outcome+="; input: $(ls "$work/artifacts/$t" | head -1); log: $log"
  fi
  printf '%-16s execs=%-10s exec/s=%-7s time=%5.1fs corpus=%-5s %s\n' "$t" "${execs:-?}" \
    "${eps:-?}" "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" "$(ls "$corpus" | wc -l)" "$outcome"
done
if [ $failed -eq 0 ] && [ -z "${FUZZ_KEEP:-}" ]; then rm -rf "$work"; fi
exit $failed
