"""The GPU check's CPU form: the same script end to end (notebook tools found, the Makefile's system
path, the per-model checks, the summary) at smoke sizes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_gpu_check_runs_on_cpu_and_prints_its_summary(tmp_path):
    env = dict(os.environ, PYTHON=sys.executable, TMPDIR=str(tmp_path), OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [
            "bash",
            "bench/gpu_check.sh",
            "--device",
            "cpu",
            "--tiny",
            "--samples",
            "8",
            "--eval-images",
            "4",
            "--steps",
            "1",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:] + proc.stderr[-3000:]
    assert "== rehearsal exit 0" in out and "02_baseline_cnn" in out
    for label in ("baseline", "unet_rgb", "unet_lab", "unet_classif b=10", "unet_classif b=5"):
        assert f"  {label} " in out, label
    assert "estimate" in out and "determinism costs" in out
    assert "projected wall time of the whole paper profile" in out
    assert "== colorize speed" in out and "photos/s" in out.split("== colorize speed", 1)[1]
