# Sourced by the CTest drivers: run_torch_module REPO_ROOT MODULE ARGS... runs
# `python3 -m hwnas_tools.MODULE ARGS...` with tools/ on PYTHONPATH and exits with its status.
# Debian's python3-torch lives in the system interpreter, which a pyenv or venv python3 on PATH
# can hide; HWNAS_TORCH_PYTHON picks another one. Each candidate runs the module directly (no
# separate probe: importing torch is most of a test's time); one that exits 77 (no numpy/torch)
# hands over to the next, and without any the driver exits 77 (CTest: skipped).
# One thread: ctest runs tests in parallel on a small machine.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

run_torch_module() {
  local root=$1 module=$2 py rc
  shift 2
  export PYTHONPATH="$root/tools${PYTHONPATH:+:$PYTHONPATH}"
  for py in ${HWNAS_TORCH_PYTHON:-} python3 /usr/bin/python3; do
    command -v "$py" >/dev/null 2>&1 || continue
    "$py" -m "hwnas_tools.$module" "$@"
    rc=$?
    [ "$rc" -ne 77 ] && exit "$rc"
  done
  echo "skipped: no python3 with torch and numpy (set HWNAS_TORCH_PYTHON)"
  exit 77
}
