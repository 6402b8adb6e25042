"""The one training loop of the study.

`fit(config, data)` trains the configured model with Adam, evaluates on the test views after every
epoch, keeps `last.pt` (resume point) and `best.pt` (best test PSNR, what the paper reports), and
writes the per-epoch history as CSV. Run again with the same config, it resumes from `last.pt`, or
returns at once when the run is complete.

    python -m colorize_lib.train CONFIG_JSON     # one experiment from a saved config
"""

import hashlib
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from .checkpoint import RESUMABLE, load_checkpoint, save_checkpoint
from .config import ExperimentConfig, atomic_write_text
from .data import CropSampler, ImageSet, load_image_set, test_views
from .metrics import psnr
from .models import get_model
from .paths import CHECKPOINT_DIR
from .runtime import pick_device
from .tasks import Task


@dataclass
class Run:
    """A trained experiment: the model at its best checkpoint, its task, history and folder."""

    config: ExperimentConfig
    model: torch.nn.Module
    task: Task
    history: pd.DataFrame
    run_dir: Path
    device: torch.device


def run_dir_for(config: ExperimentConfig, root: Path = CHECKPOINT_DIR) -> Path:
    """data/checkpoints/<profile>/<name>-<hash of the settings that change what is learned>."""
    learned = {k: v for k, v in config.to_dict().items() if k not in RESUMABLE}
    digest = hashlib.sha256(json.dumps(learned, sort_keys=True).encode()).hexdigest()[:8]
    return root / config.profile / f"{config.name}-{digest}"


def build(config: ExperimentConfig, data: ImageSet) -> tuple[torch.nn.Module, Task]:
    """Model and task for a config; a classifier's class weights come from the training photos."""
    torch.manual_seed(config.seed)
    task = Task(config)
    if task.kind == "bins":
        task.fit_weights(_batches(data.train, config.resolution, views=1))
    model = get_model(config.model, **task.model_kwargs())
    return model, task


def _batches(images: torch.Tensor, resolution: int, views: int, batch: int = 64):
    for i in range(0, len(images), batch):
        yield test_views(images[i : i + batch], resolution, views)


def _autocast(device: torch.device, enabled: bool):
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=enabled and device.type == "cuda")


@torch.no_grad()
def evaluate_loss_psnr(model, task: Task, views: torch.Tensor, batch_size: int, amp: bool) -> tuple[float, float]:
    """Mean test loss and mean per-view PSNR (dB) on float RGB test views."""
    model.eval()
    losses, scores = [], []
    device = next(model.parameters()).device
    for i in range(0, len(views), batch_size):
        rgb = views[i : i + batch_size]
        x, target = task.inputs_targets(rgb)
        with _autocast(device, amp):
            out = model(x)
        losses.append(float(task.loss(out, target)) * len(rgb))
        scores.append(psnr(task.to_rgb(out, x), rgb))
    return sum(losses) / len(views), float(torch.cat(scores).mean())


def fit(config: ExperimentConfig, data: ImageSet | None = None, run_dir: Path | None = None,
        log=print) -> Run:
    """Train (or resume, or reload) the experiment described by `config`; return its best model."""
    device = pick_device(config.device)
    data = data if data is not None else load_image_set(config.data, config.image_size, config.seed, config.test_fraction)
    data.to(device)
    run_dir = Path(run_dir) if run_dir is not None else run_dir_for(config)
    model, task = build(config, data)
    model.to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    step_model = torch.compile(model) if config.compile else model

    history: list[dict] = []
    start_epoch, best = 1, -math.inf
    last = run_dir / "last.pt"
    if last.exists():
        state = load_checkpoint(last, config)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        history, best = state["history"], state["best_psnr"]
        start_epoch = state["epoch"] + 1
        if task.kind == "bins":
            task.weights = state["class_weights"]
        log(f"resuming {config.name} from {last} after epoch {state['epoch']}/{config.epochs}")
    config.save(run_dir / "config.json")

    sampler = CropSampler(data.train, config.resolution, config.crop_scale, config.samples_per_epoch, config.seed)
    views = test_views(data.test, config.resolution, config.test_views)
    steps = sampler.steps(config.batch_size)
    for epoch in range(start_epoch, config.epochs + 1):
        model.train()
        t0, seen, total = time.perf_counter(), 0, 0.0
        for step, rgb in enumerate(sampler.epoch(epoch, config.batch_size), start=1):
            x, target = task.inputs_targets(rgb)
            if device.type == "cuda":
                x = x.contiguous(memory_format=torch.channels_last)
            with _autocast(device, config.amp):
                out = step_model(x)
            loss = task.loss(out, target)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"{config.name}: loss is {float(loss)} at epoch {epoch}, step {step}/{steps}; "
                    f"the last good checkpoint is {last if last.exists() else 'none (first epoch)'}; try a lower lr")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(rgb)
            seen += len(rgb)
        train_seconds = time.perf_counter() - t0
        test_loss, test_psnr = evaluate_loss_psnr(model, task, views, config.batch_size, config.amp)
        row = dict(epoch=epoch, train_loss=total / seen, test_loss=test_loss, test_psnr=test_psnr,
                   seconds=train_seconds, images_per_s=seen / train_seconds)
        history.append(row)
        state = dict(model=model.state_dict(), optimizer=optimizer.state_dict(), epoch=epoch,
                     config=config.to_dict(), history=history, best_psnr=max(best, test_psnr))
        if task.kind == "bins":
            state["class_weights"] = task.weights
        if test_psnr > best:
            best = test_psnr
            save_checkpoint(run_dir / "best.pt", state)
        save_checkpoint(last, state)
        eta = (config.epochs - epoch) * (time.perf_counter() - t0)
        log(f"{config.name} epoch {epoch}/{config.epochs}  train {row['train_loss']:.4f}  test {test_loss:.4f}  "
            f"PSNR {test_psnr:.2f} dB  {row['images_per_s']:.1f} img/s  {train_seconds:.1f}s  ETA {eta:.0f}s")

    frame = pd.DataFrame(history)
    atomic_write_text(run_dir / "history.csv", frame.to_csv(index=False))
    best_state = load_checkpoint(run_dir / "best.pt", config)
    model.load_state_dict(best_state["model"])
    if task.kind == "bins":
        task.weights = best_state["class_weights"]
    model.eval()
    return Run(config, model, task, frame, run_dir, device)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m colorize_lib.train CONFIG_JSON", file=sys.stderr)
        return 2
    from .runtime import setup

    config = ExperimentConfig.load(argv[0])
    setup(config.seed, deterministic=True, device=config.device)
    run = fit(config)
    print(f"best test PSNR {run.history['test_psnr'].max():.2f} dB; checkpoints in {run.run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
