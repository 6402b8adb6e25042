"""The Makefile's promise: a failing notebook stops the run, names itself, and leaves nothing stale."""

import subprocess

import pytest

from colorize_lib.paths import PROJECT_ROOT

pytestmark = pytest.mark.slow  # runs make and papermill


def test_failing_notebook_stops_make_and_leaves_no_stale_output(tmp_path):
    reports = tmp_path / "reports"
    cmd = ["make", "-C", str(PROJECT_ROOT), "reproduce", "PROFILE=bogus", f"REPORTS={reports}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "notebooks/01_data.ipynb failed" in proc.stderr
    assert "'profile' = 'bogus' is invalid" in proc.stdout + proc.stderr
    # Only the clearly named failed copy exists: the next make sees 01 as not done.
    assert (reports / "notebooks" / "01_data.failed.ipynb").exists()
    assert not (reports / "notebooks" / "01_data.ipynb").exists()
    assert not list(reports.glob("*.html"))
    assert not (reports / "notebooks" / "02_baseline_cnn.ipynb.partial").exists()
