#!/bin/bash
# Trains the three Fashion-MNIST supernets and the rank check's stand-alone subnets at once on a
# GPU machine that has PyTorch with CUDA but no hwnas build (tools/README.md, "Training on a GPU
# machine", has the whole round trip and the budgets used).
#
#   tools/gpu/train_fmnist.sh train OUT INPUT MINUTES
#       INPUT: train-images-idx3-ubyte.xz, train-labels-idx1-ubyte.gz and costs-<space>.json (from
#       `rank_check --select-only`). A 2-step smoke run of each trainer first (exit 3 if one
#       fails), then 6 processes on the one GPU for MINUTES each: hwnas_tools.train per space
#       (--budget-min MINUTES) and hwnas_tools.rank_check --train-only per space
#       (--time-budget-min MINUTES). OUT gets the three supernets (F32), the stand-alone weights
#       of efficientformer-fmnist and turbovit-fmnist (F16, hwnas_tools.half_transport, tar cut
#       into 15 MB parts) and logs.tar.gz; the rest waits in $WORK for `collect`.
#       Environment: TRAIN_ARGS (more hwnas_tools.train options, e.g. "--batch 512 --lr 2e-3"),
#       RANK_CHECK=0 (supernets only), DEVICE, PYTHON, WORK.
#   tools/gpu/train_fmnist.sh collect OUT
#       OUT gets elasticvit-fmnist's stand-alone weights and the logs again (a call returns at
#       most 64 MB, 8 files).
set -uo pipefail
mode=${1:?train|collect}
out=${2:?OUT}
work=${WORK:-/tmp/hwnas-gpu}
spaces=(efficientformer-fmnist turbovit-fmnist elasticvit-fmnist)
device=${DEVICE:-cuda}  # DEVICE=cpu:0 tries the plumbing on a machine without a GPU
py=${PYTHON:-python3}
export PYTHONPATH=tools PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export HWNAS_FASHION_MNIST=$work/fmnist

pack_space() { # pack_space SPACE: stand-alone weights of SPACE as F16 tar parts in $out
  local s=$1
  "$py" -m hwnas_tools.half_transport pack "$work/rank/$s" "$work/half/$s" || return 1
  cp "$work/rank/$s"/*.json "$work/half/$s"/ 2>/dev/null
  tar -C "$work/half" -cf - "$s" | split -b 15M -d - "$out/standalone-$s.tar.part"
}

pack_logs() {
  tar -C "$work" -czf "$out/logs.tar.gz" --exclude='*.safetensors' --exclude=fmnist --exclude=half .
}

case $mode in
train)
  input=${3:?INPUT}
  minutes=${4:?MINUTES}
  mkdir -p "$work/fmnist" "$work/rank"
  nvidia-smi -L || true
  "$py" -c "import torch, numpy; print('torch', torch.__version__, 'numpy', numpy.__version__, \
'cuda', torch.cuda.is_available())"
  # Debian's .gz loader reads gzip: the images travel as xz (the call carries at most 64 MB).
  "$py" - "$input" "$work/fmnist" <<'PY' || exit 3
import gzip, lzma, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
with lzma.open(f"{src}/train-images-idx3-ubyte.xz") as f, gzip.open(
        f"{dst}/train-images-idx3-ubyte.gz", "wb", compresslevel=1) as g:
    shutil.copyfileobj(f, g)
shutil.copy(f"{src}/train-labels-idx1-ubyte.gz", dst)
PY
  for s in "${spaces[@]}"; do  # smoke: a broken trainer costs seconds, not the lease
    "$py" -m hwnas_tools.train --space "$s" --device "$device" --steps 2 --budget-min 0 \
      --batch 8 --out "$work/smoke.safetensors" > "$work/smoke-$s.log" 2>&1 ||
      { tail -20 "$work/smoke-$s.log"; exit 3; }
  done
  echo "smoke ok $(date -u +%T)"
  # A trainer still running a minute past its budget is stopped: what it saved (every minute,
  # every finished subnet) is packed, so the call ends inside its limit. The supernets are saved
  # straight into OUT (write-then-rename), so even a call stopped at its own limit returns them.
  limit=$(awk "BEGIN { print int($minutes * 60 + 60) }")
  pids=()
  for s in "${spaces[@]}"; do
    timeout "$limit" "$py" -m hwnas_tools.train --space "$s" --device "$device" --budget-min "$minutes" \
      --steps 1000000 --batch 128 --save-every-min 1 --out "$out/$s.safetensors" \
      ${TRAIN_ARGS:-} > "$work/train-$s.log" 2>&1 &
    pids+=($!)
    [ "${RANK_CHECK:-1}" = 1 ] || continue
    timeout "$limit" "$py" -m hwnas_tools.rank_check --space "$s" --device "$device" --train-only \
      --costs "$input/costs-$s.json" --time-budget-min "$minutes" --batch 128 \
      --out "$work/rank/$s" > "$work/rank-$s.log" 2>&1 &
    pids+=($!)
  done
  rc=0
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  echo "trainers done $(date -u +%T) rc=$rc"
  for s in "${spaces[@]}"; do
    tail -1 "$work/train-$s.log"; tail -1 "$work/rank-$s.log" 2>/dev/null
  done
  if [ "${RANK_CHECK:-1}" = 1 ]; then
    pack_space efficientformer-fmnist
    pack_space turbovit-fmnist
  fi
  pack_logs
  ls -l "$out"
  exit $rc
  ;;
collect)
  pack_space elasticvit-fmnist
  pack_logs
  ls -l "$out"
  ;;
*)
  echo "train_fmnist.sh: error: unknown mode $mode (train|collect)" >&2
  exit 2
  ;;
esac
