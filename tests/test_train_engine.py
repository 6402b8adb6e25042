"""fit(): determinism, checkpoint contents and refusal, NaN and out-of-memory handling, thread setup."""

import dataclasses
import math

import pytest
import torch

import colorize_lib.engine.tasks
from colorize_lib.data import load_image_set
from colorize_lib.engine.checkpoint import load_checkpoint, run_dir_for
from colorize_lib.engine.config import make_config
from colorize_lib.engine.device import configure_threads, usable_cores
from colorize_lib.engine.train import WALL_TIME_COLUMNS, finished_run_dir, fit, is_finished, load_run

pytestmark = pytest.mark.slow  # trains models


@pytest.fixture(scope="module")
def data():
    return load_image_set("bundled", 64)


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    """One CPU thread (fit leaves OMP_NUM_THREADS alone): the tests share two cores with other work,
    where OpenMP threads waiting on a descheduled sibling slow small kernels down a hundredfold."""
    before = torch.get_num_threads()
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def smoke(experiment="unet_lab", **overrides):
    return make_config(experiment, "smoke", **overrides)


def quiet(*args):
    pass


def weights(path):
    return torch.load(path, weights_only=True)["model"]


def assert_same_tensors(a: dict, b: dict):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.mark.parametrize("numerics", ["float32", "bf16"])
@pytest.mark.parametrize("experiment", ["baseline", "unet_classif"])
def test_same_seed_same_history_and_weights(tmp_path, data, experiment, numerics, monkeypatch):
    # bf16 on any CPU ("emulate"), at a width that takes channels_last on a bf16 CPU for the baseline.
    monkeypatch.setenv("COLORIZE_CPU_BF16", "0" if numerics == "float32" else "emulate")
    config = smoke(experiment, epochs=2, width=16 if experiment == "baseline" else 4)
    first = fit(config, data, tmp_path / "a", log=quiet)
    second = fit(config, data, tmp_path / "b", log=quiet)
    assert first.precision == numerics and (first.history["precision"] == numerics).all()
    assert load_checkpoint(tmp_path / "a" / "last.pt")["precision"] == numerics
    keep = [c for c in first.history.columns if c not in WALL_TIME_COLUMNS]
    assert list(first.history.columns) == [
        "epoch",
        "steps",
        "train_loss",
        "test_loss",
        "test_psnr",
        "test_psnr_pooled",
        "seconds",
        "images_per_s",
        "precision",
    ]
    assert first.history[keep].equals(second.history[keep])
    assert (first.history["images_per_s"] > 0).all() and (first.history["seconds"] > 0).all()
    assert_same_tensors(weights(tmp_path / "a" / "last.pt"), weights(tmp_path / "b" / "last.pt"))
    assert_same_tensors(first.model.state_dict(), second.model.state_dict())


def test_checkpoint_loads_weights_only_with_everything_to_resume(tmp_path, data):
    config = smoke(epochs=2)
    run = fit(config, data, tmp_path, log=quiet)
    state = torch.load(tmp_path / "last.pt", weights_only=True)
    keys = {"model", "optimizer", "rng", "epoch", "history", "config", "best_val_psnr", "selected_by", "photos"}
    assert keys | {"format"} <= state.keys()
    assert state["epoch"] == 2 and len(state["history"]) == 2
    assert state["config"] == config.to_dict()
    assert isinstance(state["rng"]["torch"], torch.Tensor)
    # The bundled photos have no validation split: the final epoch is the model the tables report.
    assert state["selected_by"] == run.selected_by == "final epoch" and run.selected_epoch == 2
    chosen = torch.load(tmp_path / "selected.pt", weights_only=True)
    assert chosen["epoch"] == 2
    assert_same_tensors(chosen["model"], {k: v.cpu() for k, v in run.model.state_dict().items()})
    assert not (tmp_path / "best.pt").exists()  # nothing is chosen on the test photos
    assert (tmp_path / "config.json").exists() and (tmp_path / "history.csv").exists()
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary files left behind


def with_validation(data, n_val: int = 3):
    """The bundled photos with the last `n_val` training photos moved to a validation split."""
    return dataclasses.replace(
        data,
        train=data.train[:-n_val],
        train_names=data.train_names[:-n_val],
        val=data.train[-n_val:],
        val_names=data.train_names[-n_val:],
    )


def test_the_checkpoint_is_chosen_on_validation_photos_never_on_test_photos(tmp_path, data):
    split = with_validation(data)
    run = fit(smoke(epochs=4, lr=3e-3), split, tmp_path, log=quiet)
    history = run.history
    assert {"val_loss", "val_psnr"} <= set(history) and run.selected_by == "validation"
    assert run.selected_epoch == int(history.loc[history["val_psnr"].idxmax(), "epoch"])
    chosen = torch.load(tmp_path / "selected.pt", weights_only=True)
    assert chosen["epoch"] == run.selected_epoch and chosen["selected_by"] == "validation"
    assert_same_tensors(chosen["model"], {k: v.cpu() for k, v in run.model.state_dict().items()})
    # Resuming on other training/validation photos is refused, naming the folder.
    with pytest.raises(ValueError, match="other training/validation photos"):
        fit(smoke(epochs=4, lr=3e-3), with_validation(data, 2), tmp_path, log=quiet)


def test_a_run_stopped_after_an_improving_epoch_is_not_finished(tmp_path, data, monkeypatch):
    """The validation rule writes selected.pt from the first epoch that improves: a run stopped in its last
    epoch has one, yet nothing may read it as a result (the budget's authors arm, colorize, make train's
    plan), and fit resumes it."""
    monkeypatch.setenv("COLORIZE_CHECKPOINT_DIR", str(tmp_path))
    config, split = smoke(epochs=2), with_validation(data)

    class Stop(Exception):
        pass

    def stop_in_epoch_2():
        if any(tmp_path.glob("*/history.csv")):  # written at the end of epoch 1
            raise Stop

    with pytest.raises(Stop):
        fit(config, split, log=quiet, step_hook=stop_in_epoch_2)
    run_dir = next(tmp_path.glob("*/selected.pt")).parent
    assert not is_finished(run_dir) and finished_run_dir(config) is None
    with pytest.raises(FileNotFoundError, match="no finished run of unet_lab"):
        load_run(config)
    with pytest.raises(FileNotFoundError, match="holds no finished run"):
        load_run(run_dir)
    run = fit(config, split, log=quiet)
    assert list(run.history["epoch"]) == [1, 2] and is_finished(run_dir) and finished_run_dir(config) == run_dir


def test_completed_run_returns_at_once(tmp_path, data):
    config = smoke(epochs=2)
    first = fit(config, data, tmp_path, log=quiet)
    lines = []
    again = fit(config, data, tmp_path, log=lines.append)
    assert lines == [f"reusing the run trained by 04_unet_lab (unet_lab): {tmp_path}"]
    assert first.history.equals(again.history)
    assert_same_tensors(first.model.state_dict(), again.model.state_dict())


def test_same_experiment_under_another_name_reuses_the_run(tmp_path, monkeypatch, data):
    monkeypatch.setenv("COLORIZE_CHECKPOINT_DIR", str(tmp_path))
    first = fit(smoke("unet_classif", epochs=1), data, log=quiet)
    lines = []
    again = fit(smoke("bin_ablation", epochs=1, name="bin_ablation-b10"), data, log=lines.append)
    assert again.run_dir == first.run_dir and len(list(tmp_path.iterdir())) == 1
    assert lines == [f"reusing the run trained by 05_classification (unet_classif): {first.run_dir}"]
    assert first.history.equals(again.history)


def test_checkpoint_from_another_config_is_refused_naming_differences(tmp_path, data):
    config = smoke(epochs=1)
    fit(config, data, tmp_path, log=quiet)
    with pytest.raises(ValueError, match=r"another model or config .*width: checkpoint 4 vs requested 8.*lr"):
        fit(config.replace(width=8, lr=2e-3), data, tmp_path, log=quiet)
    other = smoke("unet_rgb", epochs=1)
    with pytest.raises(ValueError, match=r"model: checkpoint 'unet_lab' vs requested 'unet_rgb'"):
        load_checkpoint(tmp_path / "last.pt", other)
    # Settings that do not change what is learned may differ.
    load_checkpoint(tmp_path / "last.pt", config.replace(device="cpu", compile=True))


def test_nan_loss_stops_with_epoch_and_step_and_keeps_last_good_checkpoint(tmp_path, data, monkeypatch):
    config = smoke(epochs=3)  # 2 steps per epoch
    real_loss = colorize_lib.engine.tasks.Task.loss
    calls = {"train": 0}

    def loss(self, output, target):
        value = real_loss(self, output, target)
        if torch.is_grad_enabled():  # training steps only, not evaluation
            calls["train"] += 1
            if calls["train"] == 3:  # epoch 2, step 1
                return value * math.nan
        return value

    monkeypatch.setattr(colorize_lib.engine.tasks.Task, "loss", loss)
    with pytest.raises(
        FloatingPointError, match=r"loss is nan at epoch 2, step 1/2.*last good checkpoint is .*last\.pt"
    ):
        fit(config, data, tmp_path, log=quiet)
    state = load_checkpoint(tmp_path / "last.pt", config)
    assert state["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())


def test_out_of_memory_names_batch_size_resolution_and_remedies(tmp_path, data, monkeypatch):
    def oom(self, rgb):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(colorize_lib.engine.tasks.Task, "inputs_targets", oom)
    with pytest.raises(torch.cuda.OutOfMemoryError) as error:
        fit(smoke(epochs=1), data, tmp_path, log=quiet)
    message = str(error.value)
    for part in (
        "batch_size 4",
        "resolution 32x32",
        "smaller batch_size (e.g. 2)",
        "amp=True",
        "smaller profile",
        "Tried to allocate",
    ):
        assert part in message


def test_run_dir_root_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COLORIZE_CHECKPOINT_DIR", str(tmp_path))
    config = smoke()
    folder = run_dir_for(config)
    assert folder.parent == tmp_path and folder.name.startswith("unet_lab-")
    assert run_dir_for(config.replace(device="cpu", compile=True)) == folder  # resumable settings
    assert run_dir_for(config.replace(name="other", profile="paper")) == folder  # labels, not identity
    assert run_dir_for(config.replace(lr=2e-3)) != folder


def test_threads_follow_usable_cores_unless_omp_num_threads_is_set(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
        assert configure_threads() == usable_cores() == torch.get_num_threads()
        assert configure_threads(processes_per_node=usable_cores() + 1) == 1
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        assert configure_threads() == torch.get_num_threads() == 1  # left as set
    finally:
        torch.set_num_threads(before)
