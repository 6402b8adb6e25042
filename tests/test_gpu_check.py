"""The GPU check's CPU form: the same script end to end (notebook tools found, the Makefile's system
path, the per-model checks, the summary) at smoke sizes. `gpu_check_run` (scenarios.py) runs it in the
background from the end of collection."""

import pytest


@pytest.mark.slow
def test_gpu_check_runs_on_cpu_and_prints_its_summary(gpu_check_run):
    proc = gpu_check_run
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:] + proc.stderr[-3000:]
    assert "== rehearsal exit 0" in out and "02_baseline_cnn" in out
    for label in ("baseline", "unet_rgb", "unet_lab", "unet_classif b=10", "unet_classif b=5"):
        assert f"  {label} " in out, label
    assert "estimate" in out and "determinism costs" in out
    assert "projected wall time of the whole paper profile" in out
    assert "projected wall time of PROFILE=authors DATA=stl10" in out and "  unet_rgb (authors) " in out
    assert "== colorize speed" in out and "photos/s" in out.split("== colorize speed", 1)[1]
