"""How long the rest of a `make reproduce` will take.

A notebook takes its overhead (kernel start, data, evaluation, figures) plus the training its runs still
need. Training is counted per run of the study (`study_configs`, each distinct run once, in the notebook
that trains it first): the epochs its folder does not hold yet x its images per epoch x its time per image.

The time per image comes only from runs measured on this machine, that is, trained during this `make`
(their `history.csv` written since it started): another machine's speed, or the project's own CPU's,
may be hundreds of times off on a GPU. A measured run has its own speed; a run not measured takes the
reference figure for its shape (the project's 2-core CPU, bench/RESULTS.md) scaled by how fast the
measured runs of the same model -- else of any model -- were against their own reference figures.
Before anything is measured the time left is unknown: the runner says 'time left: measuring' until the
first epoch of the first training notebook has shown this machine's speed.

The overhead of a notebook is what it took beyond its training the last time it ran to its end (not
resumed partway) under the same profile and data (reports/.timings.json); a notebook with no record takes
the median of the others' records, and OVERHEAD_S only when nothing has been recorded yet.
"""

import json
import math
import statistics
from pathlib import Path

import pandas as pd

from colorize_lib.files import atomic_write_text

TIMINGS_FILE = ".timings.json"  # under the reports folder
OVERHEAD_S = 8.0  # kernel start, imports, data, evaluation, figures and HTML of one notebook (2-core CPU)
DEFAULT_TRAIN_IMAGES = 100  # assumed until notebook 01 has counted the training photos

# ms per training image (crops, forward, backward, Adam) at 64², cpu-profile widths, 2 cores, in float32
# and in bf16: `fit`'s images/s on this project's 2-core CPU, idle (bench/RESULTS.md, 2026-11-30). The
# classifier adds its fused head and softmax over the bins, per bin per image (676 bins at b = 10).
MS_PER_IMAGE = {
    "float32": {"baseline": 3.5, "unet_rgb": 5.3, "unet_lab": 5.3, "unet_classif": 6.0},
    "bf16": {"baseline": 2.2, "unet_rgb": 2.9, "unet_lab": 3.9, "unet_classif": 4.0},
}
MS_PER_BIN = {"float32": 0.006, "bf16": 0.005}


def reference_ms(config, numerics: str = "float32") -> float:
    """The reference ms per training image of `config` in `numerics` on the project's 2-core CPU."""
    from colorize_lib.engine.config import PROFILES
    from colorize_lib.model.quantize import ABGrid

    cpu_width = PROFILES["cpu"][config.model]["width"]
    ms = MS_PER_IMAGE[numerics][config.model] * (config.width / cpu_width) ** 2
    if config.model == "unet_classif":
        ms += MS_PER_BIN[numerics] * ABGrid(config.bin_size, in_gamut=config.bins == "in_gamut").n_bins
    return ms * (config.resolution / 64) ** 2


def run_progress(config) -> tuple[int, float | None, float]:
    """(epochs its run folder holds, its measured ms per image or None, its training seconds so far)."""
    done, ms, seconds, _ = _history(config)
    return done, ms, seconds


def _history(config) -> tuple[int, float | None, float, float]:
    """run_progress's figures and when the history was last written (Unix seconds; 0 if never)."""
    from colorize_lib.engine.checkpoint import run_dir_for

    path = run_dir_for(config) / "history.csv"
    try:
        history = pd.read_csv(path)
        rate = float(history["images_per_s"].median())
        ms = 1000.0 / rate if rate > 0 else None
        return len(history), ms, float(history["seconds"].sum()), path.stat().st_mtime
    except (OSError, KeyError, ValueError, pd.errors.EmptyDataError):
        return 0, None, 0.0, 0.0


def notebook_runs(profile: str, data: str, seeds: int | None = None, **common) -> dict[str, list]:
    """Notebook -> the configs it trains first in the study (notebooks that train nothing are absent).
    `common`: the notebooks' seed and test fraction, part of every run's identity, so of its folder."""
    # Imported here: they load torch, which `make reproduce`'s final summary has no use for.
    from colorize_lib.engine.config import notebook_of, study_configs

    runs: dict[str, list] = {}
    for config in study_configs(profile, data, seeds=seeds, **common):
        runs.setdefault(notebook_of(config.name), []).append(config)
    return runs


def study_work(
    names: list[str],
    profile: str,
    data: str,
    train_images: int,
    since: float | None = None,
    seeds: int | None = None,
    **common,
) -> dict[str, float | None]:
    """Seconds of training each notebook of `names` still needs on this machine (see the module docstring):
    None for a notebook with training left while no run has been measured here yet. A run counts as
    measured here when its history was written at or after `since` (Unix seconds; None: whenever). `common`:
    the notebooks' seed and test fraction (see notebook_runs)."""
    from colorize_lib.engine.device import precision_of

    runs = {
        n: [(c, *_history(c)) for c in configs] for n, configs in notebook_runs(profile, data, seeds, **common).items()
    }
    every = [r for rs in runs.values() for r in rs]
    numerics = precision_of(every[0][0]) if every else "float32"
    factors: dict[str, list[float]] = {}
    for config, _, ms, _, written in every:
        if ms is not None and (since is None or written >= since):
            factors.setdefault(config.model, []).append(ms / reference_ms(config, numerics))
    overall = statistics.median([f for fs in factors.values() for f in fs]) if factors else None
    work: dict[str, float | None] = {}
    for name in names:
        total: float | None = 0.0
        for config, done, ms, _, written in runs.get(name, []):
            left = max(0, config.epochs - done) * (config.samples_per_epoch or train_images)
            if not left:
                continue
            if ms is None or (since is not None and written < since):  # not measured on this machine
                model = factors.get(config.model)
                scale = statistics.median(model) if model else overall
                ms = None if scale is None else reference_ms(config, numerics) * scale
            total = None if total is None or ms is None else total + left * ms / 1000
        work[name] = total
    return work


def reference_work(name: str, profile: str, data: str, train_images: int, numerics: str = "float32") -> float:
    """Seconds of training notebook `name` takes from scratch at the reference speed (the project's 2-core CPU)."""
    return sum(
        c.epochs * (c.samples_per_epoch or train_images) * reference_ms(c, numerics) / 1000
        for c in notebook_runs(profile, data).get(name, [])
    )


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


def record_timing(reports: Path, key: str, name: str, seconds: float, overhead: float) -> None:
    """Keep notebook `name`'s wall time and its overhead (its time beyond training) under run `key`."""
    timings = load_timings(reports)
    timings.setdefault(key, {})[name] = {"seconds": round(seconds, 1), "overhead": round(max(overhead, 0.0), 1)}
    atomic_write_text(Path(reports) / TIMINGS_FILE, json.dumps(timings, indent=1, sort_keys=True) + "\n")


def expected_seconds(names: list[str], work: dict[str, float | None], recorded: dict[str, dict]) -> float | None:
    """Seconds the notebooks `names` should take, None while some of their training has no measured speed:
    each one's training left (`work`) plus its overhead, the time it took beyond training when it last ran
    to its end (`recorded`), else the median of the overheads recorded for the others, else OVERHEAD_S."""
    known = [r["overhead"] for r in recorded.values() if "overhead" in r]
    default = statistics.median(known) if known else OVERHEAD_S
    if any(work[n] is None for n in names):
        return None
    return sum(recorded.get(n, {}).get("overhead", default) + work[n] for n in names)


def clock(seconds: float) -> str:
    """6:12, or 1:02:03 past an hour."""
    s = int(round(max(seconds, 0)))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def about(seconds: float | None) -> str:
    """'about 14 min left' and the like: rounded, as an estimate should be; 'time left: measuring' when
    nothing on this machine tells its speed yet (None)."""
    return "time left: measuring" if seconds is None else f"{duration(seconds)} left"


def duration(seconds: float) -> str:
    """'about 14 min', 'under a minute', 'about 1.5 h': an estimated length of time."""
    if seconds < 60:
        return "under a minute"
    if seconds < 100 * 60:
        return f"about {math.ceil(seconds / 60)} min"
    return f"about {seconds / 3600:.1f} h"
