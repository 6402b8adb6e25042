#!/usr/bin/env bash
# GPU check for a lent GPU machine (about 5 minutes on an H100, 10 at most): one short fit of each of
# the four models at the paper profile (images/s, peak memory, projected paper-run time) and the
# fraction of the card's bf16 peak the U-Net LAB training step reaches. Extra arguments go to
# bench/gpu_check.py, e.g. `--data synthetic` (random photos, throughput only) or `--fast`.
#
#   bash bench/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3.11 -m venv .venv
    .venv/bin/pip install --quiet -e .
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "nvidia-smi not found"
exec timeout 540 .venv/bin/python bench/gpu_check.py "$@"
