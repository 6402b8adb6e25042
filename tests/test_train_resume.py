"""A run killed (SIGKILL) mid-epoch and started again ends with the same weights, bit for bit, as a
run never interrupted: both through the command line `python -m colorize_lib.engine.train CONFIG --run-dir`."""

import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from scenarios import slowed

from colorize_lib.engine.config import make_config
from colorize_lib.engine.train import WALL_TIME_COLUMNS

pytestmark = pytest.mark.slow


def train_cli(config_path, run_dir, **env):
    # One thread per process: the machine's two cores are shared (see test_train_engine.one_thread).
    env = dict(os.environ, OMP_NUM_THREADS="1", **env)
    env = slowed(env) if "COLORIZE_STEP_DELAY_S" in env else env
    return [sys.executable, "-m", "colorize_lib.engine.train", str(config_path), "--run-dir", str(run_dir)], env


@pytest.mark.parametrize("numerics", ["float32", "bf16"])
def test_killed_run_resumes_to_identical_weights(tmp_path, numerics):
    config = make_config("unet_lab", "smoke", epochs=4, batch_size=4, samples_per_epoch=16)  # 4 steps per epoch
    config_path = config.save(tmp_path / "config.json")
    last = tmp_path / "killed" / "last.pt"
    bf16 = dict(COLORIZE_CPU_BF16="0" if numerics == "float32" else "emulate")  # bf16 on any CPU

    # Slow each step down (tests/slow_steps) so that the kill lands while epoch 2 is training.
    cmd, env = train_cli(config_path, tmp_path / "killed", COLORIZE_STEP_DELAY_S="0.1", **bf16)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not last.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert last.exists(), (
            f"no checkpoint appeared; output:\n{proc.communicate()[0] if proc.poll() is not None else ''}"
        )
        time.sleep(0.15)  # about one and a half steps into epoch 2
        proc.send_signal(signal.SIGKILL)
    finally:
        output = proc.communicate()[0]
    assert proc.returncode == -signal.SIGKILL, output
    killed_at = torch.load(last, weights_only=True)["epoch"]
    assert 1 <= killed_at < config.epochs, output

    cmd, env = train_cli(config_path, tmp_path / "killed", **bf16)
    resumed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming unet_lab from {last} after epoch {killed_at}/4" in resumed.stdout
    assert f"epoch {killed_at + 1}/4" in resumed.stdout and f"epoch {killed_at}/4 " not in resumed.stdout

    cmd, env = train_cli(config_path, tmp_path / "straight", **bf16)
    straight = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert straight.returncode == 0, straight.stderr

    for name in ("last.pt", "selected.pt"):
        a = torch.load(tmp_path / "killed" / name, weights_only=True)
        b = torch.load(tmp_path / "straight" / name, weights_only=True)
        assert a["epoch"] == b["epoch"] and a["precision"] == b["precision"] == numerics
        for key in b["model"]:
            assert torch.equal(a["model"][key], b["model"][key]), f"{name}: {key}"
        for i, state in b["optimizer"]["state"].items():
            for key in state:
                assert torch.equal(a["optimizer"]["state"][i][key], state[key]), f"{name}: optimizer {i} {key}"
        strip = lambda rows: [{k: v for k, v in r.items() if k not in WALL_TIME_COLUMNS} for r in rows]  # noqa: E731
        assert strip(a["history"]) == strip(b["history"])
