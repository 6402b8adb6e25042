"""How long the rest of a `make reproduce` will take.

A notebook's training work is counted in *reference seconds*: training images x epochs x the cost of
one image on the project's 2-core CPU (bench/RESULTS.md, cpu profile, 64² crops), scaled by each
config's resolution and width. A notebook that finished before under the same profile and data
(this run or an earlier one; times kept in reports/.timings.json) is expected to take what it took;
the others take OVERHEAD_S plus their work, scaled by how long the recorded notebooks took against
the same prediction, so a GPU or a busy CPU is accounted for after one notebook.
"""

import json
import math
from pathlib import Path

import pandas as pd

from colorize_lib.files import atomic_write_text

TIMINGS_FILE = ".timings.json"  # under the reports folder
OVERHEAD_S = 15.0  # kernel start, imports, data loading, evaluation and figures of one notebook (2-core CPU)
DEFAULT_TRAIN_IMAGES = 100  # assumed until notebook 01 has counted the training photos

# ms per training image (forward, backward, Adam) at 64², cpu-profile widths, 2 cores; from
# bench/RESULTS.md. The classifier adds its fused head and softmax over the bins: about 0.01 ms per bin
# per image (bench/classifier_speed.py: b = 10 trains at ~0.55x U-Net LAB's rate).
MS_PER_IMAGE = {"baseline": 5.7, "unet_rgb": 8.5, "unet_lab": 7.9, "unet_classif": 7.9}
MS_PER_BIN = 0.01


def notebook_work(name: str, profile: str, data: str, train_images: int) -> float:
    """Reference seconds of training in notebook `name` (0 for notebooks that train nothing): every
    distinct run of the study (`config.study_configs`) counts once, in the notebook that trains it first."""
    # Imported here: they load torch, which `make reproduce`'s final summary has no use for.
    from colorize_lib.engine.experiments import PROFILES, notebook_of, study_configs
    from colorize_lib.model.quantize import ABGrid

    total = 0.0
    for config in study_configs(profile, data):
        if notebook_of(config.name) != name:
            continue
        images = config.samples_per_epoch or train_images
        cpu_width = PROFILES["cpu"][config.model]["width"]
        ms = MS_PER_IMAGE[config.model] * (config.width / cpu_width) ** 2
        if config.model == "unet_classif":
            ms += MS_PER_BIN * ABGrid(config.bin_size, in_gamut=config.bins == "in_gamut").n_bins
        total += images * config.epochs * ms * (config.resolution / 64) ** 2 / 1000
    return total


def train_images(reports: Path) -> int:
    """Training photos counted by notebook 01 (reports/tables/01_split.csv), else a guess."""
    path = Path(reports) / "tables" / "01_split.csv"
    try:
        split = pd.read_csv(path)
        return int(split.loc[split["split"] == "train", "n_images"].iloc[0])
    except (OSError, KeyError, IndexError, ValueError):
        return DEFAULT_TRAIN_IMAGES


def run_key(profile: str, data: str) -> str:
    return f"profile={profile} data={data}"


def load_timings(reports: Path) -> dict:
    """{run_key: {notebook: {"seconds": s, "work": reference seconds}}}; {} if none or unreadable."""
    path = Path(reports) / TIMINGS_FILE
    try:
        timings = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # a missing or damaged file only costs the estimate its calibration
    return timings if isinstance(timings, dict) else {}


def record_timing(reports: Path, key: str, name: str, seconds: float, work: float) -> None:
    timings = load_timings(reports)
    timings.setdefault(key, {})[name] = {"seconds": round(seconds, 1), "work": round(work, 4)}
    atomic_write_text(Path(reports) / TIMINGS_FILE, json.dumps(timings, indent=1, sort_keys=True) + "\n")


def expected_seconds(names: list[str], work: dict[str, float], recorded: dict[str, dict]) -> float:
    """Seconds the notebooks `names` should take: recorded times where known, else (overhead + work)
    scaled by how the recorded notebooks compared with the same prediction. One factor for both
    parts keeps it sane when there is almost no work (smoke profile) or no record at all."""
    predicted = sum(OVERHEAD_S + r.get("work", 0.0) for r in recorded.values())
    factor = sum(r["seconds"] for r in recorded.values()) / predicted if recorded else 1.0
    return sum(recorded[n]["seconds"] if n in recorded else (OVERHEAD_S + work[n]) * factor for n in names)


def clock(seconds: float) -> str:
    """6:12, or 1:02:03 past an hour."""
    s = int(round(max(seconds, 0)))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def about(seconds: float) -> str:
    """'about 14 min left' and the like: rounded, as an estimate should be."""
    if seconds < 60:
        return "under a minute left"
    if seconds < 100 * 60:
        return f"about {math.ceil(seconds / 60)} min left"
    return f"about {seconds / 3600:.1f} h left"
