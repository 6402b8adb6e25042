#!/usr/bin/env bash
# GPU check for a machine that brings its own Python and PyTorch and has no network (e.g. the lent
# H100: Python 3.12, torch 2.11 + CUDA): nothing is downloaded and no venv is made. Under 6 minutes on
# an H100:
#   1. the notebook tools (papermill, nbconvert, ipykernel) from the carried wheelhouse
#      (`make wheelhouse PYTHON_VERSION=3.12` on a machine with network) into a temporary folder,
#      unless this Python already has them;
#   2. the rehearsal: all eight notebooks through `make reproduce ENV=system PROFILE=rehearsal`
#      (the paper's shapes, two steps each), timed per notebook;
#   3. bench/gpu_check.py: per-model images/s and peak memory against bench/memory_budget.py's
#      estimate, U-Net LAB's share of bf16 peak, deterministic kernels vs cuDNN autotuning, and the
#      projected wall time of the whole paper profile; then one summary;
#   4. bench/colorize_speed.py: photos/s colorizing a 1-megapixel photo with each paper-profile model.
#
#   bash bench/gpu_check.sh                  # on the GPU machine
#   bash bench/gpu_check.sh --device cpu --tiny   # the same steps on CPU with smoke sizes (a test runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
TINY=0
for arg in "$@"; do [ "$arg" = "--tiny" ] && TINY=1; done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

version=$($PY -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
echo "== python $version ($($PY -c 'import sys; print(sys.executable)')), torch $($PY -c 'import torch; print(torch.__version__)')"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader \
    || echo "nvidia-smi not found"

export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if ! $PY -c 'import papermill, nbconvert, nbclient, ipykernel' 2>/dev/null; then
    wheels=.wheelhouse/py$version
    [ -d "$wheels" ] || { echo "error: papermill/nbconvert/ipykernel are not importable and $wheels is missing;" \
        "build it where there is network: make wheelhouse PYTHON_VERSION=$version, and carry .wheelhouse" >&2; exit 1; }
    echo "== installing the notebook tools from $wheels (no index) into $WORK/site"
    $PY -m pip install --quiet --no-index --find-links "$wheels" --target "$WORK/site" papermill nbconvert nbclient ipykernel
    export PYTHONPATH="$WORK/site:$PYTHONPATH"
fi

# The rehearsal, through the Makefile's system-environment path. Tiny (CPU) mode runs the smoke
# profile's first two notebooks only: the plumbing, in seconds.
profile=rehearsal; target=reproduce
if [ $TINY = 1 ]; then profile=smoke; target=$WORK/reports/notebooks/02_baseline_cnn.ipynb; fi
echo "== make $target ENV=system PROFILE=$profile"
start=$(date +%s)
COLORIZE_DATA_DIR=$WORK/data MPLBACKEND=Agg make --no-print-directory "$target" ENV=system PYTHON="$PY" \
    PROFILE=$profile REPORTS="$WORK/reports" 2>&1 | tee "$WORK/rehearsal.log" | grep -vE '^\s*$' | tail -n 40
status=${PIPESTATUS[0]}
echo "== rehearsal exit $status after $(( $(date +%s) - start )) s"

COLORIZE_DATA_DIR=$WORK/data timeout 300 $PY bench/gpu_check.py --rehearsal-reports "$WORK/reports" \
    --rehearsal-status "$status" "$@"

# Colorizing one's own photos on this device: a 1-megapixel photo per model (issue 9's throughput).
speed_args=(--profile paper --rounds 2 --photos 2)
[ $TINY = 1 ] && speed_args=(--profile smoke --side 96 --rounds 1 --photos 1)
echo "== colorize speed: bench/colorize_speed.py ${speed_args[*]}"
timeout 120 $PY bench/colorize_speed.py "${speed_args[@]}" || echo "colorize speed: exit $?"
