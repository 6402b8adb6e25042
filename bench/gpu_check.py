"""GPU check: what the paper profile needs and how long it takes, measured on the card at hand.

Called by bench/gpu_check.sh after the rehearsal (all eight notebooks at the paper's shapes). For each
model of the paper profile, and the classifier at each bin size, `fit()` trains 2 short epochs
(`--samples` crops each) at the paper's batch, resolution, width and bf16 autocast; the second epoch's
training images/s (the first warms up kernels and the allocator) and the evaluation images/s of
`inference.colorize` give the throughput; `torch.cuda.max_memory_allocated` the peak, printed beside
the meta-device estimate of bench/memory_budget.py. Then:

- utilisation: FLOPs of one U-Net LAB forward + loss + backward at the paper batch and resolution
  (`FlopCounterMode`) over the measured time of such a step with Adam, against the card's dense bf16
  peak; timed with deterministic kernels and again with cuDNN autotuning (what determinism costs);
- projection of the whole paper profile: every distinct run of `config.study_configs("paper")` once
  (5,882 training images x epochs at the training rate, plus 1,037 test images evaluated every
  epoch and once more for the tables at the evaluation rate), plus the rehearsal's per-notebook
  overhead (data, figures, reports) measured above;
- the same projection for the authors' notebook setting (`PROFILE=authors DATA=stl10`: STL-10's 5,000
  training and 8,000 test photos at 96², batch 32), from its four models measured at their own shapes
  (its classifier ablation's b = 5 and 15 at b = 10's rate, which over-counts little at 96²).

    python bench/gpu_check.py                          # on the GPU, paper profile, bundled photos
    python bench/gpu_check.py --device cpu --tiny      # smoke-sized models on CPU: checks the script runs
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ modules beside this file
from memory_budget import GIB, trace_experiment  # noqa: E402

from colorize_lib.data import ImageSet, load_image_set  # noqa: E402
from colorize_lib.data.crops import CropSampler, test_views  # noqa: E402
from colorize_lib.engine.experiments import make_config, study_configs  # noqa: E402
from colorize_lib.engine.inference import colorize, eval_batch_size  # noqa: E402
from colorize_lib.engine.precision import autocast, memory_format, precision  # noqa: E402
from colorize_lib.engine.runtime import describe_device, setup  # noqa: E402
from colorize_lib.engine.train import build, fit  # noqa: E402
from colorize_lib.reference import (  # noqa: E402
    PAPER_TEST_IMAGES,
    PAPER_TRAIN_IMAGES,
    STL10_TEST_IMAGES,
    STL10_TRAIN_IMAGES,
)

# Dense (no sparsity) bf16 tensor-core peaks in FLOP/s, from NVIDIA's data sheets; first match wins.
BF16_PEAK = {
    "H100 PCIe": 756e12,
    "H100 NVL": 835e12,
    "H100": 989e12,
    "H200": 989e12,
    "GH200": 989e12,
    "A100": 312e12,
    "L40S": 362e12,
    "L4": 121e12,
    "A10G": 70e12,
}
CHECKS = (
    ("baseline", None),
    ("unet_rgb", None),
    ("unet_lab", None),
    ("unet_classif", 10),
    ("unet_classif", 5),
    ("unet_classif", 15),
)
AUTHORS_CHECKS = (("baseline", None), ("unet_rgb", None), ("unet_lab", None), ("unet_classif", 10))
# Photos each profile's projection counts (train, test): the paper's set, STL-10 for the authors' setting.
PROJECTED = {
    "paper": ("paper", PAPER_TRAIN_IMAGES, PAPER_TEST_IMAGES),
    "authors": ("stl10", STL10_TRAIN_IMAGES, STL10_TEST_IMAGES),
}


def bf16_peak(device: torch.device) -> tuple[str, float | None]:
    if device.type != "cuda":
        return describe_device(device), None
    name = torch.cuda.get_device_name(device)
    return name, next((peak for key, peak in BF16_PEAK.items() if key in name), None)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def photos(config, cache: dict) -> ImageSet:
    """The bundled photos at the config's size, small ones upscaled (as the rehearsal does)."""
    key = config.image_size
    if key not in cache:
        cache[key] = load_image_set("bundled", config.image_size, config.seed, config.test_fraction, upscale_small=True)
    return cache[key]


def check_model(
    model: str, bin_size: int | None, args, device: torch.device, root: Path, cache: dict, profile: str = "paper"
) -> dict:
    base = make_config(model, "smoke" if args.tiny else profile, bin_size=bin_size)
    config = base.replace(
        epochs=2, samples_per_epoch=max(args.samples, 2 * base.batch_size), test_views=1, device=args.device
    )
    label = (model if bin_size is None else f"{model} b={bin_size}") + ("" if profile == "paper" else f" ({profile})")
    data = photos(config, cache)
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    try:
        run = fit(config, data, run_dir=root / label.replace(" ", "_").strip("()"), log=lambda line: None)
        peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else float("nan")
        views = test_views(data.test.to(device), config.resolution, 1)
        views = views.repeat(max(1, -(-args.eval_images // len(views))), 1, 1, 1)[: args.eval_images]
        colorize(run.model, run.task, views[:2], eval_batch_size(config), run.precision)  # warm-up
        synchronize(device)
        t0 = time.perf_counter()
        colorize(run.model, run.task, views, eval_batch_size(config), run.precision)
        synchronize(device)
        eval_rate = len(views) / (time.perf_counter() - t0)
    except torch.cuda.OutOfMemoryError as e:
        return dict(label=label, error=str(e).split(". Original error")[0])
    estimate = trace_experiment(config)  # the meta-device estimate of the same step
    return dict(
        label=label,
        model=model,
        bin_size=config.bin_size,
        config=config,
        peak_gib=peak,
        train_rate=float(run.history["images_per_s"].iloc[-1]),
        eval_rate=eval_rate,
        estimate_gib=estimate.train_peak / GIB,
    )


def step_time(config, device: torch.device, cache: dict, steps: int, deterministic: bool) -> tuple[float, float]:
    """(FLOPs of one fwd + loss + bwd, seconds per step with Adam) of `config`'s model on one batch."""
    torch.use_deterministic_algorithms(deterministic, warn_only=True)
    torch.backends.cudnn.benchmark = not deterministic
    data = photos(config, cache)
    model, task = build(config, data)
    numerics = precision(device, config.amp)
    layout = memory_format(device, numerics, config.width)
    model = model.to(device, memory_format=layout).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    sampler = CropSampler(data.train.to(device), config.resolution, config.crop_scale, config.batch_size, config.seed)
    x, target = task.inputs_targets(next(sampler.epoch(1, config.batch_size)))
    x = x.contiguous(memory_format=layout)

    def step():
        with autocast(device, numerics):
            loss = task.loss(model(x), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    counter = FlopCounterMode(display=False)
    with counter:
        step()
    for _ in range(3):  # warm-up (and cuDNN's autotuning, when on)
        step()
    synchronize(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    synchronize(device)
    return counter.get_total_flops(), (time.perf_counter() - t0) / steps


def rehearsal_times(reports: Path | None) -> dict[str, float]:
    """Seconds per executed notebook, from papermill's metadata in the rehearsal's reports."""
    if reports is None:
        return {}
    times = {}
    for path in sorted((reports / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        if path.name.endswith(".failed.ipynb"):
            continue
        meta = json.loads(path.read_text()).get("metadata", {}).get("papermill", {})
        if meta.get("duration") is not None:
            times[path.stem] = float(meta["duration"])
    return times


def projection(
    results: list[dict], rehearsal: dict[str, float], tiny: bool, profile: str = "paper"
) -> tuple[float, list[str]]:
    """Projected seconds of the whole `profile` on its data (PROJECTED), each distinct run once, and one
    line per run. A run's epoch is its crops per epoch, or one pass over the training photos."""
    data, train_images, test_images = PROJECTED[profile]
    rates = {(r["model"], r["bin_size"]): r for r in results if "error" not in r}
    total, lines = 0.0, []
    for c in study_configs(profile, data):
        r = rates.get((c.model, c.bin_size)) or (rates.get((c.model, 10)) if profile != "paper" else None)
        if r is None:
            lines.append(f"  {c.name:22s} no measurement (its check failed)")
            continue
        train = (c.samples_per_epoch or train_images) * c.epochs / r["train_rate"]
        evaluation = test_images * (c.epochs + 1) / r["eval_rate"]
        total += train + evaluation
        lines.append(
            f"  {c.name:22s} {c.epochs:3d} epochs: train {train / 60:7.1f} min + evaluation {evaluation / 60:6.1f} min"
        )
    # Per-notebook overhead beyond training (loading, figures, reports): the rehearsal's wall time.
    overhead = sum(rehearsal.values())
    total += overhead
    lines.append(f"  rehearsal wall time (every notebook's fixed cost, counted once): {overhead / 60:.1f} min")
    if tiny:
        lines.append("  (tiny: smoke-sized models, so this projects nothing real)")
    return total, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    parser.add_argument("--tiny", action="store_true", help="smoke-profile models (32x32, width 4): a quick CPU check")
    parser.add_argument("--samples", type=int, default=256, help="crops per training epoch (at least 2 batches)")
    parser.add_argument("--eval-images", type=int, default=64, help="images colorized to time evaluation")
    parser.add_argument("--steps", type=int, default=10, help="timed steps for the utilisation figures")
    parser.add_argument("--rehearsal-reports", type=Path, help="reports folder of the rehearsal (per-notebook times)")
    parser.add_argument("--rehearsal-status", type=int, default=None, help="exit status of the rehearsal")
    args = parser.parse_args()

    device = setup(0, deterministic=True, device=args.device)
    card, peak = bf16_peak(device)
    profile = "smoke (tiny)" if args.tiny else "paper"
    print(f"device: {card}; torch {torch.__version__}; python {sys.version.split()[0]}; profile {profile}")
    cache: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        results = [check_model(m, b, args, device, Path(tmp), cache) for m, b in CHECKS]
        authors = [check_model(m, b, args, device, Path(tmp), cache, "authors") for m, b in AUTHORS_CHECKS]
    lab = make_config("unet_lab", "smoke" if args.tiny else "paper", device=args.device)
    flops, det_s = step_time(lab, device, cache, args.steps, deterministic=True)
    _, fast_s = step_time(lab, device, cache, args.steps, deterministic=False)
    rehearsal = rehearsal_times(args.rehearsal_reports)
    total, lines = projection(results, rehearsal, args.tiny)
    authors_total, authors_lines = projection(authors, {}, args.tiny, "authors")

    print("\n== summary")
    if args.rehearsal_status is not None:
        verdict = "passed" if args.rehearsal_status == 0 else f"FAILED (exit {args.rehearsal_status})"
        print(f"rehearsal ({len(rehearsal)} notebooks): {verdict}")
    for name, seconds in rehearsal.items():
        print(f"  {name:22s} {seconds:7.1f} s")
    print("per model (training at the profile's batch, bf16 on CUDA):")
    for r in results + authors:
        if "error" in r:
            print(f"  {r['label']:16s} FAILED: {r['error']}")
            continue
        c = r["config"]
        measured = f"{r['peak_gib']:6.2f} GiB" if device.type == "cuda" else "  n/a (CPU)"
        print(
            f"  {r['label']:16s} {c.resolution}² batch {c.batch_size:3d}: train {r['train_rate']:9.1f} img/s, "
            f"eval {r['eval_rate']:9.1f} img/s, peak {measured} (estimate {r['estimate_gib']:6.2f} GiB)"
        )
    achieved = flops / det_s
    print(
        f"unet_lab step ({lab.batch_size} x {lab.resolution}², width {lab.width}): {flops / 1e12:.2f} TFLOP "
        f"fwd+bwd; {det_s * 1e3:.1f} ms deterministic, {fast_s * 1e3:.1f} ms with cuDNN autotuning "
        f"(determinism costs {det_s / fast_s - 1:+.0%})"
    )
    if peak is None:
        print(f"fraction of bf16 peak: unknown (no dense bf16 peak in the table for {card})")
    else:
        print(
            f"fraction of bf16 peak: {achieved / peak:.3f} deterministic, {flops / fast_s / peak:.3f} autotuned, "
            f"of {peak / 1e12:.0f} TFLOP/s ({card})"
        )
    print("projected paper profile (each distinct run once, evaluation included):")
    print("\n".join(lines))
    print(f"projected wall time of the whole paper profile: {total / 3600:.2f} h on {card}")
    print("projected authors' notebook setting, PROFILE=authors DATA=stl10 (each distinct run once):")
    print("\n".join(authors_lines))
    print(
        f"projected wall time of PROFILE=authors DATA=stl10: {authors_total / 3600:.2f} h on {card} "
        "(plus the notebooks' fixed cost, about the rehearsal's, and STL-10's 2.6 GB download)"
    )


if __name__ == "__main__":
    main()
