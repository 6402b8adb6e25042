"""One trainer per run: a second process that asks for a run being trained waits, then reloads it."""

import subprocess
import time

import pandas as pd
import pytest
from test_train_resume import train_cli

from colorize_lib.engine.experiments import make_config
from colorize_lib.engine.runlock import LOCK_FILE, run_lock


def test_the_lock_names_its_holder_and_is_released_on_exit(tmp_path):
    lines = []
    with run_lock(tmp_path / "run", lines.append):
        assert '"pid"' in (tmp_path / "run" / LOCK_FILE).read_text()
    with run_lock(tmp_path / "run", lines.append):  # released: taken again at once, no waiting
        pass
    assert lines == []


@pytest.mark.slow  # two training subprocesses
def test_two_processes_one_trains_the_other_waits_and_reloads(tmp_path):
    # 3 epochs of 8 steps, each step slowed to 1 s (test hook): the second process starts (imports, photos)
    # well within the first's 24 s of training.
    config = make_config("baseline", "smoke", epochs=3, batch_size=4, samples_per_epoch=32)
    config_path = config.save(tmp_path / "config.json")
    cmd, env = train_cli(config_path, tmp_path / "run", COLORIZE_STEP_DELAY_S="1.0")
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "run" / LOCK_FILE).exists() or not (tmp_path / "run" / LOCK_FILE).read_text():
            assert time.monotonic() < deadline and first.poll() is None, "the first trainer did not start"
            time.sleep(0.05)
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
        out_first, _ = first.communicate(timeout=180)
    finally:
        first.kill()
    assert first.returncode == 0 and second.returncode == 0, second.stderr[-2000:]
    assert f"is being trained by process {first.pid}" in second.stdout and "waiting for it" in second.stdout
    assert "reusing the run" in second.stdout
    assert "epoch 1/3" in out_first and "epoch 1/3" not in second.stdout  # the waiter trained nothing
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3]  # one history, no epoch twice
