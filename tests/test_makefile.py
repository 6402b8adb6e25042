"""The Makefile's promise: a failing notebook stops the run, names itself, and leaves nothing stale."""

import subprocess

import pytest

from colorize_lib.paths import PROJECT_ROOT
from colorize_tools.changes import changes_since_previous

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


def test_make_diff_after_two_seeds_prints_the_numbers_that_moved(diff_runs):
    # `diff_runs` (scenarios.py): notebook 02 (and 01, which it needs) with seed 0, then seed 1. A new seed
    # reruns both and keeps the first run's results in previous/; `make diff` then prints the outputs' nbdiff
    # and the moved numbers (the seed also draws the photo split, so 01's tables move too).
    for run in diff_runs["seeds"]:
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    reports = diff_runs["reports"]
    kept = reports / "previous" / "tables"

    # Notebooks depend on what they import: a newer report checker (tooling) reruns nothing; newer losses
    # rerun 01 and 02 (a dry run).
    again = diff_runs["again"]
    assert again.returncode == 0 and "│" not in again.stdout, again.stdout  # no notebook ran
    assert diff_runs["unchanged"]
    dry = diff_runs["dry"]
    assert "runner run notebooks/01_data.ipynb" in dry.stdout and "runner run notebooks/02_baseline_cnn" in dry.stdout
    assert (kept / "02_baseline_cnn_history.csv").exists()

    diff = diff_runs["diff"]
    assert diff.returncode == 0, diff.stderr[-3000:]
    out = diff.stdout
    assert "== 02_baseline_cnn: output differences (nbdiff -o)" in out
    moved = out.split("== numbers that moved in the CSV tables", 1)[1].splitlines()[1:]
    assert moved[0].split() == ["table", "row", "column", "old", "new", "delta"]
    tables = {p.stem for p in (reports / "tables").glob("*.csv")}
    assert len(moved) > 1 and all(line.split()[0] in tables for line in moved[1:41])
    # What was printed is the head of the full comparison, which holds the results table's PSNR.
    changes = changes_since_previous(reports)
    psnr = changes[(changes["table"] == "02_baseline_cnn") & (changes["column"] == "psnr_db")]
    assert not psnr.empty and (psnr["delta"].abs() > 0).all()
    assert set(changes["table"]) >= {"02_baseline_cnn_history", "02_baseline_cnn_per_image"}
