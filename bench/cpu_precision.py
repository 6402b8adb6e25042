"""Training speed on this CPU: float32 against the fast path the library takes here (`engine.device`:
bf16 autocast and the memory format measured fastest for the model's width, where the CPU computes bf16).

Each Table 1 model at the cpu profile (64² crops, batch 32, its cpu width) and at the paper's widths at 96²
(batch 32): training images/s of the library's whole step (`train.train_step`: Lab split, forward,
the task's loss -- the classifier's fused head included -- backward, Adam), float32 and fast timed
round-robin (one block of steps each per round, the median over rounds), so that a change in the
machine's load hits both paths alike. Inputs are crops of the bundled photos (the classifier's bins
depend on their colours). One thread per usable core, as `fit` runs.

    python bench/cpu_precision.py                  # prints one line per model, then the median ratio
    python bench/cpu_precision.py --rounds 6 --steps 4
    COLORIZE_CPU_BF16=0 python bench/cpu_precision.py   # a CPU without bf16: both paths float32

Lines: `MODEL: fp32 A img/s, fast B img/s, ratio R (precision, memory format)`; last: `median ratio: R`.
"""

import argparse
import statistics
import time

import torch

from colorize_lib.data import load_image_set
from colorize_lib.data.crops import CropSampler
from colorize_lib.engine.config import make_config
from colorize_lib.engine.device import FLOAT32, autocast, configure_threads, describe_device, memory_format, precision
from colorize_lib.engine.train import build, train_step

TABLE1 = ("baseline", "unet_rgb", "unet_lab", "unet_classif")
PAPER_WIDTHS = {"baseline": 64, "unet_rgb": 49, "unet_lab": 52, "unet_classif": 52}


def settings() -> list[tuple[str, dict]]:
    """(label, config overrides) for each model at the cpu profile, then at the paper's widths at 96²."""
    cpu = [(f"{m} cpu (w {make_config(m, 'cpu').width}, 64²)", dict(experiment=m)) for m in TABLE1]
    paper = [
        (f"{m} paper width (w {w}, 96²)", dict(experiment=m, width=w, resolution=96, image_size=256))
        for m, w in PAPER_WIDTHS.items()
    ]
    return cpu + paper


def stepper(config, batch: torch.Tensor, numerics: str):
    """One training step of `config`'s model in `numerics`, with the layout the library gives it."""
    device = torch.device("cpu")
    model, task = build(config)
    layout = memory_format(device, numerics, config.width)
    model = model.to(memory_format=layout).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    return lambda: train_step(model, task, optimizer, batch, lambda: autocast(device, numerics), layout)


def images_per_s(steps: dict, batch_size: int, rounds: int, per_round: int) -> dict[str, float]:
    for step in steps.values():
        step()  # warm-up: first-call allocations and kernel choices
    rates = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            t0 = time.perf_counter()
            for _ in range(per_round):
                step()
            rates[name].append(per_round * batch_size / (time.perf_counter() - t0))
    return {name: statistics.median(r) for name, r in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=4, help="timed blocks per path (median taken)")
    parser.add_argument("--steps", type=int, default=3, help="training steps per timed block")
    args = parser.parse_args()
    configure_threads()
    cpu = torch.device("cpu")
    fast = precision(cpu, amp=True)
    print(f"{describe_device(cpu)}; torch {torch.__version__}; fast path: {fast}")
    ratios = []
    for label, over in settings():
        config = make_config(over.pop("experiment"), "cpu", **over)
        photos = load_image_set("bundled", config.image_size).train
        sampler = CropSampler(photos, config.resolution, config.crop_scale, config.batch_size, seed=0)
        batch = next(iter(sampler.epoch(1, config.batch_size)))
        paths = {"fp32": stepper(config, batch, FLOAT32), "fast": stepper(config, batch, fast)}
        rate = images_per_s(paths, config.batch_size, args.rounds, args.steps)
        ratio = rate["fast"] / rate["fp32"]
        ratios.append(ratio)
        layout = "channels_last" if memory_format(cpu, fast, config.width) == torch.channels_last else "contiguous"
        print(
            f"{label}: fp32 {rate['fp32']:.1f} img/s, fast {rate['fast']:.1f} img/s, ratio {ratio:.2f} "
            f"({fast}, {layout})",
            flush=True,
        )
    print(f"median ratio: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
