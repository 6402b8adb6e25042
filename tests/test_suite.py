"""The suite's own machinery (conftest.py): what starts background scenarios and what does not."""

import os
import subprocess
import sys
from pathlib import Path

from scenarios import SCENARIOS

ROOT = Path(__file__).resolve().parent.parent


def test_collect_only_lists_the_scenario_tests_and_starts_no_scenario(tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path))  # scenarios make their folders with tempfile
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests/test_train_slurm.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,  # a bound against waiting on a scenario, not a speed figure
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "test_train_slurm.py::" in done.stdout
    started = [p.name for p in tmp_path.iterdir() if any(p.name.startswith(f"colorize-{n}-") for n in SCENARIOS)]
    assert started == []
