"""The one training loop of the study.

`fit(config, data)` trains the configured model with Adam and, after every epoch, scores the validation
views (when the data have a validation split) and the test views. It keeps `last.pt` (the resume point)
and `selected.pt`, the model the tables report: the epoch with the best *validation* PSNR, or the final
epoch where the data have no validation split. The test photos never choose anything; their per-epoch
curve is kept in the history for plots only. The per-epoch history is written as CSV. Run again with the
same config, it resumes from `last.pt`, or returns at once when the run is complete.

    python -m colorize_lib.engine.train CONFIG_JSON [--run-dir DIR]      # one experiment from a saved config

Without `--run-dir`, checkpoints go under `$COLORIZE_CHECKPOINT_DIR` if set, else data/checkpoints.

Speed. The uint8 photos live on the training device; crops, flips and the Lab conversion happen
there, so a step copies only a few index tensors to the GPU. bf16 autocast (`amp`) where the device
computes bf16 natively -- CUDA, and CPUs with AVX512-BF16, AMX or Arm BF16 -- with the memory format
measured fastest for it (`precision.py`); optional `torch.compile` (`compile`). On CPU: one thread per
usable core (`runtime.configure_threads`). The loss is checked for NaN/inf every `CHECK_EVERY` steps rather than
every step, so the GPU is not synchronised each step; the error still names the first bad step.

Resuming. A checkpoint holds model, optimiser, RNG states, epoch, history and config, written
atomically after every epoch. Each epoch's crops are a function of (seed, epoch) only, so a run
killed at any point and resumed ends, on CPU, with the same weights bit for bit as a run never
interrupted (tests/test_train_resume.py).

Determinism. Same seed and same machine on CPU: identical history (but the wall-time columns
`seconds`, `images_per_s`) and identical weights. On CUDA with `runtime.setup(deterministic=True)`
(what the command line uses): `torch.use_deterministic_algorithms`, cuDNN autotuning off
(deterministic cuDNN algorithms) and a fixed cuBLAS workspace make reruns on the same GPU model,
driver and PyTorch version repeat to the bit; the models upsample with transposed convolutions
because bilinear interpolation has no deterministic CUDA backward. bf16 autocast is deterministic
too but rounds differently from float32, and another GPU model or library version may pick other
kernels: expect agreement there to about the bf16 precision (~3 significant digits), not bits.
`torch.compile` fuses kernels differently from eager mode: same tolerance.

One process, one device: the study's largest run (the paper profile's classifier at 512²) fits in about
11 GiB by `bench/memory_budget.py`'s trace, so no run needs several GPUs; runs go side by side instead
(`make train`, on one machine or as a Slurm job array).

Progress within an epoch.

On a terminal: a tqdm bar that refreshes freely and disappears at the end of the epoch, where the
per-epoch line (`train._progress_line`) takes its place.

Run headless by `make reproduce`: appended to the file COLORIZE_PROGRESS_FILE names, which the runner
follows into the terminal and the notebook's log, so the executed notebook and its HTML report keep only
the per-epoch lines. In a notebook a reader runs: in the cell.

Elsewhere (a notebook kernel, a log file): nothing for epochs shorter than
`COLORIZE_PROGRESS_AFTER_S` seconds (default 5), then at most four plain status lines per epoch, each
written as `\r<status>` and the last ended by a newline. A reader of the stream (the runner, a log)
sees a few lines; a notebook executed with `coalesce_streams` keeps only the final line of each bar,
because everything before a carriage return on a line is dropped. tqdm.auto is not used: in a
kernel it renders a widget that the HTML report shows as "0%".
"""

import argparse
import hashlib
import json
import math
import os
import sys
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pandas as pd
import torch
from tqdm import tqdm

from ..data import load_images
from ..data.cache import ImageSet
from ..data.crops import CropSampler, test_views
from ..engine.tasks import Task
from ..files import atomic_write_text
from ..model.losses import ab_frequencies
from ..model.metrics import psnr
from ..model.models import get_model
from .checkpoint import capture_rng, load_checkpoint, restore_rng, run_dir_for, run_lock, save_checkpoint
from .config import ExperimentConfig, notebook_of
from .device import BF16, FLOAT32, autocast, configure_threads, memory_format, pick_device, precision, setup
from .inference import Run, eval_batch_size, infer

SELECTED = "selected.pt"  # the checkpoint a run reports (see the module docstring)
CHECK_EVERY = 10  # steps between NaN/inf checks of the loss (each check waits for the GPU)
WALL_TIME_COLUMNS = ("seconds", "images_per_s")  # history columns that vary between identical runs


def build(config: ExperimentConfig, data: ImageSet | None = None) -> tuple[torch.nn.Module, Task]:
    """Model and task for a config; a classifier's class weights come from the training photos (without
    photos, as for a memory trace on the meta device, every class weighs 1). Builds on torch's default
    device (`with torch.device("meta"): build(config)`)."""
    torch.manual_seed(config.seed)
    task = Task(config)
    if task.kind == "bins" and data is not None:
        task.set_frequencies(ab_frequencies(data.train, task.grid, config.resolution))
    elif task.kind == "bins":
        task.weights = torch.ones(task.grid.n_bins)
    model = get_model(config.model, **task.model_kwargs())
    task.attach(model)  # the classifier's head is applied by the task's loss and decoder
    return model, task


@torch.no_grad()
def evaluate_loss_psnr(
    model, task: Task, views: torch.Tensor, batch_size: int, numerics: str = FLOAT32
) -> tuple[float, float, float]:
    """Mean test loss, mean of per-view PSNR and PSNR of the mean MSE (the authors' pooled form), in dB,
    on float RGB test views, through the same inference path as the results tables."""
    result = infer(model, task, views, batch_size, numerics, with_loss=True)
    per_view = psnr(result.rgb, views)
    pooled = -10.0 * torch.log10(torch.pow(10.0, -per_view / 10.0).mean())
    return result.loss, float(per_view.mean()), float(pooled)


def fit(
    config: ExperimentConfig, data: ImageSet | None = None, run_dir: Path | None = None, log=print, step_hook=None
) -> Run:
    """Train (or resume, or reload) the experiment described by `config`; return its selected model (see
    the module docstring). `step_hook()`, if given, is called after every optimiser step."""
    device = pick_device(config.device)
    configure_threads()
    data = data if data is not None else load_images(config)
    data = data.to(device)  # a copy: the caller's photos stay where they are
    numerics = precision(device, config.amp)
    run_dir = Path(run_dir) if run_dir is not None else run_dir_for(config, numerics=numerics)
    with run_lock(run_dir, log):  # one trainer per run on this machine (runlock.py)
        return _fit(config, data, run_dir, device, numerics, log, step_hook)


def _fit(config: ExperimentConfig, data: ImageSet, run_dir: Path, device, numerics: str, log, step_hook) -> Run:
    model, task = build(config, data)
    layout = memory_format(device, numerics, config.width)
    model = model.to(device, memory_format=layout)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    photos = _photos_fingerprint(data)
    history, best, trained_as = _resume(run_dir / "last.pt", config, model, optimizer, task, log, photos, numerics)
    if task.kind == "bins":
        task.weights = task.weights.to(device)  # no per-step copy in the loss
    if not history:
        config.save(run_dir / "config.json")  # the config of the first notebook that asked for it
    step_model = torch.compile(model) if config.compile else model

    sampler = CropSampler(data.train, config.resolution, config.crop_scale, config.samples_per_epoch, config.seed)
    views = test_views(data.test, config.resolution, config.test_views)
    val_views = test_views(data.val, config.resolution, config.test_views) if data.has_validation else None
    selected_by = "validation" if val_views is not None else "final epoch"
    for epoch in range(history[-1]["epoch"] + 1 if history else 1, config.epochs + 1):
        t0 = time.perf_counter()
        with _explain_oom(config, device):
            train_loss, seen = train_epoch(
                step_model, task, optimizer, sampler, epoch, config, run_dir, numerics, step_hook
            )
            train_seconds = time.perf_counter() - t0
            scores = {}
            if val_views is not None:
                val_loss, val_psnr, _ = evaluate_loss_psnr(model, task, val_views, eval_batch_size(config), numerics)
                scores = dict(val_loss=val_loss, val_psnr=val_psnr)
            test_loss, test_psnr, pooled = evaluate_loss_psnr(model, task, views, eval_batch_size(config), numerics)
        history.append(
            dict(
                epoch=epoch,
                steps=epoch * sampler.steps(config.batch_size),
                train_loss=train_loss,
                **scores,
                test_loss=test_loss,
                test_psnr=test_psnr,
                test_psnr_pooled=pooled,
                seconds=train_seconds,
                images_per_s=seen / train_seconds,
                precision=numerics,
            )
        )
        _save(run_dir, model, optimizer, task, config, history, best, selected_by, photos, numerics)
        best = max(best, scores.get("val_psnr", -math.inf))
        log(_progress_line(config, history[-1], time.perf_counter() - t0))

    if trained_as is not None and history[-1]["epoch"] >= config.epochs:
        log(f"reusing the run trained by {trained_as}: {run_dir}")
    if not is_finished(run_dir, config.epochs):  # stopped between last.pt and history.csv at the final epoch
        atomic_write_text(run_dir / "history.csv", pd.DataFrame(history).to_csv(index=False))
    chosen = load_checkpoint(run_dir / SELECTED, config)
    model.load_state_dict(chosen["model"])
    if task.kind == "bins":
        task.weights = chosen["class_weights"].to(device)
    model.eval()
    return Run(config, model, task, pd.DataFrame(history), run_dir, device, selected_by, int(chosen["epoch"]), numerics)


def is_finished(run_dir: Path, epochs: int | None = None) -> bool:
    """Has the run in `run_dir` trained all its `epochs` (by default its config.json's)? Its history.csv,
    written last at every epoch's end, holds a row for each. selected.pt alone does not say so: the
    validation rule writes it from the first epoch that improves."""
    try:
        if epochs is None:
            epochs = json.loads((run_dir / "config.json").read_text())["epochs"]
        rows = len(pd.read_csv(run_dir / "history.csv"))
    except (OSError, KeyError, ValueError, pd.errors.EmptyDataError):
        return False
    return rows >= epochs and (run_dir / SELECTED).is_file()


def finished_run_dir(config: ExperimentConfig) -> Path | None:
    """The folder of a finished run of `config` in either precision (bf16 first, as a GPU trains), or None."""
    for numerics in (BF16, FLOAT32):
        run_dir = run_dir_for(config, numerics=numerics)
        if is_finished(run_dir, config.epochs):
            return run_dir
    return None


def load_run(config_or_dir: ExperimentConfig | Path, device: str = "auto") -> Run:
    """A finished run, nothing trained: its selected checkpoint, loaded weights-only, with its model and
    task (class weights too) rebuilt from the config saved in it. Give the config (its folder is
    `run_dir_for(config)`) or the run folder. Without a finished run, the error names the notebook
    that trains it."""
    if isinstance(config_or_dir, ExperimentConfig):
        run_dir = run_dir_for(config_or_dir)
        if not is_finished(run_dir, config_or_dir.epochs):
            raise FileNotFoundError(
                f"no finished run of {config_or_dir.name} in {run_dir}: it is trained by "
                f"notebooks/{notebook_of(config_or_dir.name)}.ipynb (make reproduce PROFILE={config_or_dir.profile})"
            )
    else:
        run_dir = Path(config_or_dir)
    chosen = run_dir / SELECTED
    if not is_finished(run_dir):
        raise FileNotFoundError(
            f"run folder {run_dir} holds no finished run: expected one trained to its last epoch by the notebooks "
            f"(data/checkpoints/<model>-<hash>/ with config.json, {SELECTED} and a history.csv row for every epoch)"
        )
    state = load_checkpoint(chosen)
    config = ExperimentConfig.from_dict(state["config"])
    task = Task(config, state.get("class_weights"))
    model = get_model(config.model, **task.model_kwargs())
    model.load_state_dict(state["model"])
    task.attach(model)  # the classifier's head is applied by the task's loss and decoders
    dev = pick_device(device)
    numerics = state["precision"]
    model = model.to(dev, memory_format=memory_format(dev, numerics, config.width)).eval()
    if task.weights is not None:
        task.weights = task.weights.to(dev)
    history = pd.DataFrame(state["history"])
    return Run(config, model, task, history, run_dir, dev, state["selected_by"], int(state["epoch"]), numerics)


def train_epoch(
    step_model,
    task: Task,
    optimizer,
    sampler: CropSampler,
    epoch: int,
    config: ExperimentConfig,
    run_dir: Path,
    numerics: str = FLOAT32,
    step_hook=None,
) -> tuple[float, int]:
    """One pass of Adam steps over the epoch's batches; returns (mean train loss, images seen)."""
    device = sampler.images.device  # the photos live on the training device (fit moves them there)
    step_model.train()
    total = torch.zeros((), device=device)  # sum of loss x rows, on the device: no sync per step
    seen, pending = 0, []
    steps = sampler.steps(config.batch_size)
    layout = memory_format(device, numerics, config.width)
    # Counts steps only: showing the running loss would synchronise the GPU every refresh.
    with epoch_bar(steps, f"{config.name} epoch {epoch}/{config.epochs}") as bar:
        for step, rgb in enumerate(sampler.epoch(epoch, config.batch_size), start=1):
            loss = train_step(step_model, task, optimizer, rgb, lambda: autocast(device, numerics), layout)
            total += loss.detach() * len(rgb)
            seen += len(rgb)
            pending.append(loss.detach())
            if len(pending) == CHECK_EVERY:
                _check_finite(pending, step, epoch, steps, config, run_dir)
                pending = []
            if step_hook is not None:
                step_hook()
            bar.update(1)
    _check_finite(pending, step, epoch, steps, config, run_dir)
    return float(total) / seen, seen


def train_step(
    model,
    task: Task,
    optimizer,
    rgb: torch.Tensor,
    autocast=nullcontext,
    layout: torch.memory_format = torch.contiguous_format,
) -> torch.Tensor:
    """One optimiser step on a batch of RGB images (B, 3, H, W) in [0, 1]: the task's inputs and targets,
    the forward pass inside `autocast()`, the task's loss, backward, Adam. Returns the loss.
    `bench/memory_budget.py` traces this step."""
    x, target = task.inputs_targets(rgb)
    x = x.contiguous(memory_format=layout)
    with autocast():
        out = model(x)
    loss = task.loss(out, target)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss


def _check_finite(
    losses: list[torch.Tensor], step: int, epoch: int, steps: int, config: ExperimentConfig, run_dir: Path
) -> None:
    """Raise, naming the first bad step, if any of the losses of steps step-len(losses)+1..step is NaN/inf."""
    if not losses:
        return
    finite = torch.isfinite(torch.stack(losses)).cpu()
    if bool(finite.all()):
        return
    i = int((~finite).nonzero()[0])
    last = run_dir / "last.pt"
    raise FloatingPointError(
        f"{config.name}: loss is {float(losses[i])} at epoch {epoch}, step {step - len(losses) + 1 + i}/{steps}; "
        f"training stopped; the last good checkpoint is {last if last.exists() else 'none (first epoch)'}; "
        f"try a lower lr (now {config.lr:g})"
    )


@contextmanager
def _explain_oom(config: ExperimentConfig, device: torch.device):
    try:
        yield
    except torch.cuda.OutOfMemoryError as e:
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else device.type
        raise torch.cuda.OutOfMemoryError(
            f"{config.name}: out of memory on {name} with batch_size {config.batch_size} at resolution "
            f"{config.resolution}x{config.resolution} (model {config.model}, width {config.width}, amp={config.amp}). "
            f"Try a smaller batch_size (e.g. {max(1, config.batch_size // 2)}), amp=True (bf16 activations), "
            f"or a smaller profile ('cpu' or 'smoke'). Original error: {e}"
        ) from e


def _photos_fingerprint(data: ImageSet) -> str:
    """Which photos train and which choose the checkpoint: a run resumed on other photos is refused."""
    text = json.dumps([sorted(data.train_names), sorted(data.val_names)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _resume(
    last: Path,
    config: ExperimentConfig,
    model,
    optimizer,
    task: Task,
    log,
    photos: str,
    numerics: str,
) -> tuple[list[dict], float, str | None]:
    """Load `last` into model, optimiser, task and RNGs if it exists; return (history, best validation
    PSNR, who trained it: its notebook or `make train`, with the run's name)."""
    if not last.exists():
        return [], -math.inf, None
    state = load_checkpoint(last, config)
    if state["photos"] != photos:
        raise ValueError(
            f"run folder {last.parent} was trained on other training/validation photos than {config.data!r} "
            f"gives now; delete the folder to train it again"
        )
    theirs = state["precision"]
    if theirs != numerics:
        raise ValueError(
            f"run folder {last.parent} was trained in {theirs}, and this machine would go on in {numerics}; "
            f"a run keeps one precision: resume it where it computes {theirs}, or delete the folder"
        )
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    restore_rng(state["rng"])
    if task.kind == "bins":
        task.weights = state["class_weights"]
    if state["epoch"] < config.epochs:
        log(f"resuming {config.name} from {last} after epoch {state['epoch']}/{config.epochs}")
    # Who trained it, for the reuse message: `make train` says so in its workers' environment.
    name = state["config"]["name"]
    return (
        state["history"],
        state.get("best_val_psnr", -math.inf),
        f"{state.get('trained_by') or notebook_of(name)} ({name})",
    )


def _save(
    run_dir: Path,
    model,
    optimizer,
    task: Task,
    config: ExperimentConfig,
    history: list[dict],
    best: float,
    selected_by: str,
    photos: str,
    numerics: str,
) -> None:
    """Write selected.pt (every epoch for the final-epoch rule; when validation PSNR beat `best` for the
    validation rule), then last.pt, then history.csv, each atomically."""
    val_now = history[-1].get("val_psnr", -math.inf)
    state = dict(
        model=model.state_dict(),
        optimizer=optimizer.state_dict(),
        rng=capture_rng(),
        epoch=history[-1]["epoch"],
        config=config.to_dict(),
        history=history,
        best_val_psnr=max(best, val_now),
        selected_by=selected_by,
        photos=photos,
        precision=numerics,
        trained_by=os.environ.get("COLORIZE_TRAINED_BY") or None,
    )
    if task.kind == "bins":
        state["class_weights"] = task.weights
    if selected_by == "final epoch" or val_now > best:
        save_checkpoint(run_dir / SELECTED, state)
    save_checkpoint(run_dir / "last.pt", state)
    atomic_write_text(run_dir / "history.csv", pd.DataFrame(history).to_csv(index=False))


def _progress_line(config: ExperimentConfig, row: dict, epoch_seconds: float) -> str:
    eta = (config.epochs - row["epoch"]) * epoch_seconds
    val = f"val PSNR {row['val_psnr']:.2f} dB  " if "val_psnr" in row else ""
    return (
        f"{config.name} epoch {row['epoch']}/{config.epochs}  train {row['train_loss']:.4f}  "
        f"test {row['test_loss']:.4f}  {val}test PSNR {row['test_psnr']:.2f} dB  {row['images_per_s']:.1f} img/s  "
        f"{row['seconds']:.1f}s  ETA {eta:.0f}s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m colorize_lib.engine.train", description="Train one experiment.")
    parser.add_argument("config", help="ExperimentConfig JSON file")
    parser.add_argument("--run-dir", type=Path, help="checkpoint folder (default: from the config, see run_dir_for)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    config = ExperimentConfig.load(args.config)
    setup(config.seed, deterministic=True, device=config.device)
    run = fit(config, run_dir=args.run_dir)
    print(
        f"selected epoch {run.selected_epoch} ({run.selected_by}); final test PSNR "
        f"{run.history['test_psnr'].iloc[-1]:.2f} dB; checkpoints in {run.run_dir}"
    )
    return 0


PLAIN_UPDATES = 4  # plain status lines per epoch at most (plus the final one)
PLAIN_FORMAT = "{desc}: {n_fmt}/{total_fmt} steps ({percentage:.0f}%), {elapsed} elapsed, ~{remaining} left"


def plain_after_s() -> float:
    """Seconds an epoch runs before plain progress lines appear; `COLORIZE_PROGRESS_AFTER_S` overrides."""
    raw = os.environ.get("COLORIZE_PROGRESS_AFTER_S", "5")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(
            f"environment variable COLORIZE_PROGRESS_AFTER_S = {raw!r} is invalid: expected a number of seconds >= 0"
        ) from None
    if value < 0 or not math.isfinite(value):
        raise ValueError(
            f"environment variable COLORIZE_PROGRESS_AFTER_S = {raw!r} is invalid: expected a number of seconds >= 0"
        )
    return value


def epoch_bar(steps: int, desc: str, enabled: bool = True, stream=None) -> tqdm:
    """A progress bar over an epoch's `steps` on `stream` (default: stderr, see the module docstring);
    call .update(1) per step and .close() at the end. `enabled=False` (other ranks than 0) gives a bar
    that prints nothing."""
    stream = default_stream() if stream is None else stream
    if _is_terminal(stream):
        return tqdm(
            total=steps, desc=desc, unit="step", file=stream, leave=False, disable=not enabled, dynamic_ncols=True
        )
    after = plain_after_s()
    # miniters and mininterval together bound the lines: a refresh needs a quarter of the epoch's
    # steps *and* `after` seconds since the last one; delay keeps short epochs silent.
    # maxinterval=inf: tqdm's monitor thread would otherwise drop miniters to 1 after 10 s without a
    # refresh and print on every later step.
    return tqdm(
        total=steps,
        desc=desc,
        file=stream,
        leave=True,
        disable=not enabled,
        delay=after,
        mininterval=after,
        maxinterval=math.inf,
        miniters=max(1, math.ceil(steps / PLAIN_UPDATES)),
        bar_format=PLAIN_FORMAT,
        ascii=True,
    )


_progress_files: dict[str, object] = {}  # path -> its open, line-buffered handle, one per process


def default_stream():
    """sys.stderr, or the file COLORIZE_PROGRESS_FILE names (a headless run), opened once for appending."""
    path = os.environ.get("COLORIZE_PROGRESS_FILE")
    if not path:
        return sys.stderr
    if path not in _progress_files:
        try:
            _progress_files[path] = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 (kept open)
        except OSError as e:  # progress must never stop a training: say where it goes instead
            print(f"progress file {path} cannot be opened ({e.strerror}); progress goes to stderr", file=sys.stderr)
            _progress_files[path] = sys.stderr
    return _progress_files[path]


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False


if __name__ == "__main__":
    sys.exit(main())
