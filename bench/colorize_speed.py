"""Colorizing speed: photos/s for a 1-megapixel photo (1000 x 1000) per model, through
`colorize.colorize_photo` (the path `python -m colorize_lib colorize` takes: full-resolution Lab
conversions, the model at its training resolution, bilinear AB upsampling), decoding and PNG writing
left out.

Models are built untrained at a profile's shapes (`make_config(exp, profile)`: width, resolution, bins):
the speed does not depend on the weights. Each model is timed round-robin (one timed block per model
per round, median over rounds) so a change in the machine's load hits every model alike.

    python bench/colorize_speed.py                       # cpu profile, 3 rounds of 3 photos
    python bench/colorize_speed.py --profile paper --rounds 5
"""

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from colorize_lib.engine.config import field_classifier_config, make_config
from colorize_lib.engine.device import configure_threads, describe_device, pick_device
from colorize_lib.engine.inference import Run
from colorize_lib.engine.train import build
from colorize_lib.photos import colorize_photo


def colorizer(config, device) -> Run:
    """An untrained model of the config, built as training builds it: speed does not depend on weights."""
    model, task = build(config)
    return Run(config, model.to(device).eval(), task, pd.DataFrame(), None, device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--side", type=int, default=1000, help="photo side in pixels (default 1000: 1 megapixel)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--photos", type=int, default=3, help="photos per timed block")
    args = parser.parse_args()
    device = pick_device("auto")
    configure_threads()
    print(describe_device(device))
    configs = [make_config(e, args.profile) for e in ("baseline", "unet_rgb", "unet_lab", "unet_classif")]
    configs.append(field_classifier_config(args.profile))
    models = {f"{c.name} ({c.resolution}² in)": colorizer(c, device) for c in configs}
    photo = np.random.default_rng(0).integers(0, 256, (args.side, args.side, 3), dtype=np.uint8)
    times = {name: [] for name in models}
    for m in models.values():  # warm-up: first calls allocate and pick kernels
        colorize_photo(m, photo)
    for _ in range(args.rounds):
        for name, m in models.items():
            t0 = time.perf_counter()
            for _ in range(args.photos):
                colorize_photo(m, photo)
            times[name].append(args.photos / (time.perf_counter() - t0))
    for name, rates in times.items():
        print(
            f"  {name:34s} {statistics.median(rates):6.2f} photos/s  "
            f"(rounds {min(rates):.2f}-{max(rates):.2f}, {args.side}x{args.side})"
        )


if __name__ == "__main__":
    main()
