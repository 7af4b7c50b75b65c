#!/usr/bin/env bash
# bench/reference_noise.py on a hand-made validation CSV: three subnets predicted exactly
# (1, 2, 3 ms) whose third has one window at 1.5 ms. By hand, over the choices of k windows:
# k = 1: that window ranks it wrong (tau 1/3 there, 1 elsewhere: mean 7/9 = 0.778), 100 % off
#        (2 of 3 subnets within 10 %: 88.9 %; RMSPE sqrt(1/3) / 3 = 19.25 %);
# k = 2: two of the three pairs hold it, whose mean is 2.25 ms: ranked right (tau 1), 33 % off
#        (77.8 % within 10 %; RMSPE 2 sqrt(1/27) / 3 = 12.83 %);
# k = 3 and the pooled median: exact.
set -euo pipefail
root=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/val.csv" <<'CSV'
index,arch,blocks,macs,measured_ms,measured_p10_ms,measured_p90_ms,predicted_ms,error_pct,corrected_ms,corrected_error_pct,speed_factor,anchored_ms,window_ms
0,"{""a"":0}",1,1,1.0,1.0,1.0,1.0,0.0,,,,,1.0;1.0;1.0
1,"{""a"":1}",1,1,2.0,2.0,2.0,2.0,0.0,,,,,2.0;2.0;2.0
2,"{""a"":2}",1,1,3.0,1.5,3.0,3.0,0.0,,,,,3.0;3.0;1.5
CSV
out=$(python3 "$root/bench/reference_noise.py" "$tmp/val.csv")
echo "$out"
grep -q "median of 1 of 3 windows | 88.9 % | 88.9 % | 0.778 | 19.25 % |" <<<"$out"
grep -q "median of 2 of 3 windows | 77.8 % | 77.8 % | 1.000 | 12.83 % |" <<<"$out"
grep -q "median of 3 of 3 windows | 100.0 % | 100.0 % | 1.000 | 0.00 % |" <<<"$out"
grep -q "pooled (measured_ms) | 100.0 % | 100.0 % | 1.000 | 0.00 % |" <<<"$out"
# No window_ms column (a CSV from before 2026-12-08): one line naming the fix, non-zero exit.
cut -d, -f1-13 "$tmp/val.csv" > "$tmp/old.csv"
if python3 "$root/bench/reference_noise.py" "$tmp/old.csv" 2> "$tmp/err"; then
  echo "expected a failure on a CSV without window_ms"; exit 1
fi
grep -q "has no window_ms column" "$tmp/err"
