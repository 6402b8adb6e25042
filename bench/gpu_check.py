"""GPU check: throughput, peak memory and projected paper-run time of the four models, and the share
of the card's bf16 peak that the U-Net LAB training step reaches.

For each model, `fit()` trains 2 short epochs of the paper profile (batch size, resolution, width,
bf16 autocast) on a subset (`--samples` crops per epoch); the second epoch's training-phase
images/s (the first warms up kernels and the allocator) gives the throughput and the projected time
of the paper's training run: 5,882 images x the paper's epochs / (images/s), evaluation excluded.
Peak memory is `torch.cuda.max_memory_allocated` over the whole fit.

Utilisation: FLOPs of one U-Net LAB forward + loss + backward at the paper batch and resolution,
counted with `torch.utils.flop_counter.FlopCounterMode`, divided by the measured time of such a step
(bare loop, with Adam) and compared to the card's dense bf16 peak from a table.

    python bench/gpu_check.py                       # on the GPU, paper profile, bundled photos
    python bench/gpu_check.py --data synthetic      # random uint8 photos: throughput only
    python bench/gpu_check.py --device cpu --tiny   # smoke-sized models on CPU: checks the script runs
"""

import argparse
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from colorize_lib.config import make_config
from colorize_lib.data import CropSampler, ImageSet, load_image_set
from colorize_lib.models import get_model
from colorize_lib.runtime import describe_device, setup
from colorize_lib.tasks import Task
from colorize_lib.train import fit

EXPERIMENTS = ("baseline", "unet_rgb", "unet_lab", "unet_classif")
PAPER_TRAIN_IMAGES = 5882
# Dense (no sparsity) bf16 tensor-core peaks in FLOP/s, from NVIDIA's data sheets; first match wins.
BF16_PEAK = {"H100 PCIe": 756e12, "H100 NVL": 835e12, "H100": 989e12, "H200": 989e12, "GH200": 989e12,
             "A100": 312e12, "L40S": 362e12, "L4": 121e12, "A10G": 70e12}


def bf16_peak(device: torch.device) -> tuple[str, float | None]:
    if device.type != "cuda":
        return describe_device(device), None
    name = torch.cuda.get_device_name(device)
    return name, next((peak for key, peak in BF16_PEAK.items() if key in name), None)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def image_set(kind: str, size: int, config, cache: dict) -> ImageSet:
    if (kind, size) not in cache:
        if kind == "bundled":
            cache[kind, size] = load_image_set("bundled", size, config.seed, config.test_fraction)
        else:  # random photos: right shapes, meaningless colours
            g = torch.Generator().manual_seed(0)
            train = torch.randint(0, 256, (64, 3, size, size), dtype=torch.uint8, generator=g)
            test = torch.randint(0, 256, (4, 3, size, size), dtype=torch.uint8, generator=g)
            cache[kind, size] = ImageSet("synthetic", train, test, [f"r{i}" for i in range(64)],
                                         [f"t{i}" for i in range(4)])
    return cache[kind, size]


def check_model(experiment: str, args, device: torch.device, root: Path, cache: dict) -> dict:
    profile = "smoke" if args.tiny else "paper"
    base = make_config(experiment, profile)
    samples = max(args.samples, 2 * base.batch_size)
    config = base.replace(epochs=2, samples_per_epoch=samples, test_views=1, device=args.device, compile=args.compile)
    data = image_set(args.data, config.image_size, config, cache)
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    try:
        run = fit(config, data, run_dir=root / experiment, log=lambda line: None)
    except torch.cuda.OutOfMemoryError as e:
        return dict(experiment=experiment, error=str(e).split(". Original error")[0])
    rate = float(run.history["images_per_s"].iloc[-1])
    paper_epochs = make_config(experiment, "paper").epochs
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else float("nan")
    del run
    return dict(experiment=experiment, config=config, rate=rate, peak_gib=peak,
                projected_min=PAPER_TRAIN_IMAGES * paper_epochs / rate / 60, paper_epochs=paper_epochs)


def unet_lab_utilisation(args, device: torch.device, cache: dict) -> dict:
    """FLOPs of one fwd + loss + bwd step and the measured time of a full step (Adam included)."""
    config = make_config("unet_lab", "smoke" if args.tiny else "paper", device=args.device)
    data = image_set(args.data, config.image_size, config, cache).to(device)
    torch.manual_seed(config.seed)
    task = Task(config)
    model = get_model(config.model, **task.model_kwargs()).to(device).train()
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    sampler = CropSampler(data.train, config.resolution, config.crop_scale, config.batch_size, config.seed)
    x, target = task.inputs_targets(next(sampler.epoch(1, config.batch_size)))
    if device.type == "cuda":
        x = x.contiguous(memory_format=torch.channels_last)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.amp and device.type == "cuda")

    def step():
        with autocast:
            out = model(x)
        loss = task.loss(out, target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        return loss

    counter = FlopCounterMode(display=False)
    with counter:
        step()
    flops = counter.get_total_flops()
    for _ in range(3):  # warm-up
        step()
        optimizer.step()
    synchronize(device)
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
        optimizer.step()
    synchronize(device)
    seconds = (time.perf_counter() - t0) / args.steps
    return dict(config=config, flops=flops, step_s=seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    parser.add_argument("--tiny", action="store_true", help="smoke-profile models (32x32, width 4): a quick CPU check")
    parser.add_argument("--data", choices=("bundled", "synthetic"), default="bundled",
                        help="bundled photos at the paper's sizes, or random uint8 photos (throughput only)")
    parser.add_argument("--samples", type=int, default=256, help="crops per epoch (at least 2 batches)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps for the utilisation figure")
    parser.add_argument("--compile", action="store_true", help="torch.compile the models")
    parser.add_argument("--fast", action="store_true", help="cuDNN autotuning instead of deterministic kernels")
    args = parser.parse_args()

    device = setup(0, deterministic=not args.fast, device=args.device)
    card, peak = bf16_peak(device)
    print(f"device: {card}; torch {torch.__version__}; profile {'smoke (tiny)' if args.tiny else 'paper'}; "
          f"data {args.data}{' (random pixels: throughput only)' if args.data == 'synthetic' else ''}; "
          f"{'cuDNN autotuning' if args.fast else 'deterministic kernels'}{'; torch.compile' if args.compile else ''}")
    cache: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for experiment in EXPERIMENTS:
            r = check_model(experiment, args, device, Path(tmp), cache)
            if "error" in r:
                print(f"{experiment:13s} FAILED: {r['error']}")
                continue
            c = r["config"]
            memory = "n/a (not CUDA)" if device.type != "cuda" else f"{r['peak_gib']:6.2f} GiB"
            note = " (tiny models: not a projection of anything)" if args.tiny else ""
            print(f"{experiment:13s} {c.resolution}x{c.resolution} batch {c.batch_size:3d} width {c.width:2d}: "
                  f"{r['rate']:9.1f} img/s  peak memory {memory}  projected paper run "
                  f"({PAPER_TRAIN_IMAGES} images x {r['paper_epochs']} epochs, training only) "
                  f"{r['projected_min']:8.1f} min{note}")
        u = unet_lab_utilisation(args, device, cache)
    c = u["config"]
    achieved = u["flops"] / u["step_s"]
    print(f"unet_lab step ({c.batch_size} x {c.resolution}x{c.resolution}, width {c.width}): "
          f"{u['flops'] / 1e9:.1f} GFLOP fwd+bwd, {u['step_s'] * 1e3:.2f} ms per step with Adam, "
          f"{achieved / 1e12:.4g} TFLOP/s")
    if peak is None:
        print(f"fraction of bf16 peak: unknown (no dense bf16 peak in the table for {card})")
    else:
        print(f"fraction of bf16 peak: {achieved / peak:.3f} of {peak / 1e12:.0f} TFLOP/s ({card})")


if __name__ == "__main__":
    main()
