"""One trainer per run: a second process that asks for a run being trained waits, then reloads it."""

import pandas as pd
import pytest

from colorize_lib.engine.checkpoint import LOCK_FILE, run_lock


def test_the_lock_names_its_holder_and_is_released_on_exit(tmp_path):
    lines = []
    with run_lock(tmp_path / "run", lines.append):
        assert '"pid"' in (tmp_path / "run" / LOCK_FILE).read_text()
    with run_lock(tmp_path / "run", lines.append):  # released: taken again at once, no waiting
        pass
    assert lines == []


@pytest.mark.slow  # two training subprocesses: `runlock_runs` (scenarios.py), run in the background
def test_two_processes_one_trains_the_other_waits_and_reloads(runlock_runs):
    first, out_first, second = runlock_runs["first"], runlock_runs["out_first"], runlock_runs["second"]
    assert first.returncode == 0 and second.returncode == 0, second.stderr[-2000:]
    assert f"is being trained by process {first.pid}" in second.stdout and "waiting for it" in second.stdout
    assert "reusing the run" in second.stdout
    assert "epoch 1/3" in out_first and "epoch 1/3" not in second.stdout  # the waiter trained nothing
    history = pd.read_csv(runlock_runs["root"] / "run" / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3]  # one history, no epoch twice
