"""How much does the training engine cost? Images/s of `fit()` against a bare PyTorch loop.

Same model (baseline CNN, width 64), crops (96x96 from the bundled photos at 256, as the cpu
profile draws them), batch size, device and thread count. Trials alternate bare, fit, bare, fit...
in one process so that drifts in machine load hit both alike.

- bare: the minimal loop over this data: draw the batch's crops (`CropSampler`), convert them to
  model input and target (`Task.inputs_targets`: RGB -> Lab), forward, loss, backward, Adam. The
  time spent drawing and converting is clocked separately and printed as the data share; "bare
  compute only" leaves it out (as if batches were ready in advance, which random crops never are).
- fit (training phase): `fit()`'s own history column `images_per_s`, its epoch's training loop
  timed inside fit: the same work plus fit's bookkeeping (loss accumulation, NaN/inf
  checks); not its evaluation or checkpoint writing.
- fit (whole call): images / wall time of the entire `fit()` call, with model building,
  test evaluation, checkpoint and history writing: printed for information.

    python bench/engine_overhead.py [--trials 5] [--samples 384] [--batch 32]   # about 2.5 minutes on 2 cores

The last line is `fit/bare throughput ratio: R`, the median training-phase throughput of fit over
the median bare throughput (target >= 0.95).
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from colorize_lib.data import load_image_set
from colorize_lib.data.crops import CropSampler
from colorize_lib.engine.config import make_config
from colorize_lib.engine.device import configure_threads, describe_device, pick_device
from colorize_lib.engine.tasks import Task
from colorize_lib.engine.train import fit
from colorize_lib.model.models import get_model


def bare_loop(config, data, device) -> tuple[float, float]:
    """(images/s of the whole loop, share of its time spent drawing and converting crops). CPU only:
    the clock reads between steps are exact there because CPU kernels are synchronous."""
    torch.manual_seed(config.seed)
    task = Task(config)
    model = get_model(config.model, width=config.width).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    sampler = CropSampler(data.train, config.resolution, config.crop_scale, config.samples_per_epoch, config.seed)
    batches = sampler.epoch(1, config.batch_size)
    t0 = time.perf_counter()
    data_seconds = 0.0
    while True:
        t_data = time.perf_counter()
        rgb = next(batches, None)
        if rgb is None:
            break
        x, target = task.inputs_targets(rgb)
        data_seconds += time.perf_counter() - t_data
        loss = task.loss(model(x), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - t0
    return config.samples_per_epoch / seconds, data_seconds / seconds


def fit_once(config, data, root: Path, trial: int) -> tuple[float, float]:
    """(training-phase images/s from fit's history, images/s of the whole fit() call)."""
    t0 = time.perf_counter()
    run = fit(config, data, run_dir=root / f"trial{trial}", log=lambda line: None)
    wall = time.perf_counter() - t0
    return float(run.history["images_per_s"].iloc[-1]), config.samples_per_epoch / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument(
        "--samples",
        type=int,
        default=384,
        help="training crops per trial (fewer: trial-to-trial noise of about 15 percent swamps the ratio)",
    )
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()

    config = make_config(
        "baseline",
        "cpu",
        resolution=96,
        width=64,
        epochs=1,
        batch_size=args.batch,
        samples_per_epoch=args.samples,
        test_views=1,
        device="cpu",
    )
    device = pick_device(config.device)
    threads = configure_threads()
    data = load_image_set(config.data, config.image_size, config.seed, config.test_fraction)
    print(
        f"device {describe_device(device)}; torch threads {threads}; {config.model} width {config.width}, "
        f"{config.resolution}x{config.resolution} crops, batch {config.batch_size}, {config.samples_per_epoch} "
        f"crops per trial, {len(data.test)} test photos"
    )
    bare, compute_only, fit_train, fit_whole = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        bare_loop(config, data, device)  # warm-up: allocator, kernels
        fit_once(config, data, Path(tmp), 0)
        for trial in range(1, args.trials + 1):
            rate, data_share = bare_loop(config, data, device)
            bare.append(rate)
            compute_only.append(rate / (1 - data_share))
            train_rate, whole_rate = fit_once(config, data, Path(tmp), trial)
            fit_train.append(train_rate)
            fit_whole.append(whole_rate)
            print(
                f"trial {trial}: bare {rate:.2f} img/s (data {data_share:.1%} of its time; compute only "
                f"{compute_only[-1]:.2f} img/s) | fit training phase {train_rate:.2f} img/s "
                f"| fit whole call {whole_rate:.2f} img/s"
            )
    b, c = statistics.median(bare), statistics.median(compute_only)
    f, w = statistics.median(fit_train), statistics.median(fit_whole)
    print(
        f"median: bare {b:.2f} img/s, bare compute only {c:.2f} img/s, fit training phase {f:.2f} img/s, "
        f"fit whole call {w:.2f} img/s"
    )
    print(f"fit training phase / bare compute only: {f / c:.3f} (the gap is drawing and converting crops)")
    print(f"fit whole call / bare: {w / b:.3f} (adds model building, evaluation, checkpoints)")
    print(f"fit/bare throughput ratio: {f / b:.3f}")


if __name__ == "__main__":
    main()
