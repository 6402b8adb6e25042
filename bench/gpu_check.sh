#!/usr/bin/env bash
# GPU check for a machine that brings its own Python and PyTorch and has no network (e.g. a lent H100 or
# H200: Python 3.12, torch 2.11 + CUDA): stage 1 measures every paper-profile shape, stage 2 rehearses the
# eight notebooks at the paper's shapes, stage 3 times colorizing; each bounded and streamed, a summary
# table at the end in every case. About 5 minutes on an H100/H200. bench/gpu_check.py says what each
# stage measures.
#
#   bash bench/gpu_check.sh                           # on the GPU machine (carry .wheelhouse/py3.X)
#   bash bench/gpu_check.sh --device cpu --tiny       # the same stages on CPU at smoke sizes (CI runs it)
#   PYTHON=/path/to/python3 bash bench/gpu_check.sh --stage-seconds 150,180,60 --log check.log
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec "${PYTHON:-python3}" bench/gpu_check.py check "$@"
