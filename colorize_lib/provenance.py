"""What pins a report to its inputs: code version, settings, data, machine, software and timing.

`collect()` gathers it as a flat dict (saved as `reports/runs/NN.run.json` by `reports.write_run_info`);
`as_table()` turns one into the two-column table that ends each report and appears on the index page.
"""

import datetime as dt
import hashlib
import platform
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .engine.device import started
from .paths import PROJECT_ROOT

# Rows of the provenance table, in order: (key in the run info, label shown to a reader).
FIELDS = [
    ("commit", "commit"),
    ("dirty", "uncommitted changes"),
    ("profile", "profile"),
    ("data", "data"),
    ("data_source", "data source"),
    ("manifest_sha256", "data manifest SHA-256"),
    ("n_train", "train images"),
    ("n_test", "test images"),
    ("device", "device"),
    ("precision", "precision"),
    ("seeds", "seed(s)"),
    ("python", "Python"),
    ("torch", "torch"),
    ("numpy", "numpy"),
    ("started", "started (UTC)"),
    ("wall_s", "wall time"),
]


def git_state(root: Path = PROJECT_ROOT) -> tuple[str, bool | None]:
    """(short commit, whether tracked files differ from it); ("unknown", None) outside a git checkout."""

    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)

    try:
        head = git("rev-parse", "--short", "HEAD")
        if head.returncode != 0:
            return "unknown", None
        status = git("status", "--porcelain", "--untracked-files=no")
        return head.stdout.strip(), bool(status.stdout.strip()) if status.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return "unknown", None


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def data_facts(images) -> dict:
    """Source, manifest hash and split sizes of an `ImageSet`; the manifest lists every file with its
    own SHA-256 and split, so its hash changes whenever a photo, a skip or the split changes."""
    manifest = Path(images.cache_dir) / "manifest.csv" if images.cache_dir is not None else None
    return dict(
        data_source=images.source,
        manifest_sha256=file_sha256(manifest) if manifest is not None and manifest.exists() else None,
        n_train=len(images.train_names),
        n_test=len(images.test_names),
    )


def collect(
    notebook: str, profile: str, data: str, device: str, images=None, seeds=None, precision: str | None = None
) -> dict:
    """The provenance of one notebook run, as plain JSON-able values (None where unknown).

    `images`: the `ImageSet` the notebook used; `seeds`: an int or the seeds of its runs; `precision`: what
    its runs trained in and why (`engine.device.describe`). The start
    time is that of the first `device.setup()` call in this process.
    """
    commit, dirty = git_state()
    info = dict(
        notebook=notebook,
        profile=profile,
        data=data,
        device=device,
        precision=precision,
        commit=commit,
        dirty=dirty,
        data_source=None,
        manifest_sha256=None,
        n_train=None,
        n_test=None,
    )
    if images is not None:
        info.update(data_facts(images))
    if seeds is not None:
        seeds = [seeds] if isinstance(seeds, int) else sorted({int(s) for s in seeds})
    info["seeds"] = seeds
    info.update(python=platform.python_version(), torch=torch.__version__, numpy=np.__version__)
    now = dt.datetime.now(dt.UTC)
    start = started()
    info["started"] = start[0].isoformat(timespec="seconds") if start else None
    info["wall_s"] = round(time.monotonic() - start[1], 1) if start else None
    info["finished"] = now.isoformat(timespec="seconds")
    return info


def _show(key: str, value) -> str:
    if value is None:
        return "—"
    if key == "dirty":
        return "yes" if value else "no"
    if key == "seeds":
        return ", ".join(str(s) for s in value)
    if key == "wall_s":
        minutes, seconds = divmod(float(value), 60)
        return f"{int(minutes)} min {seconds:.0f} s" if minutes else f"{seconds:.1f} s"
    return str(value)


def as_table(info: dict) -> pd.DataFrame:
    """Two columns, `item` and `value` (strings), one row per provenance field; older run infos
    without a field show "—"."""
    return pd.DataFrame([(label, _show(key, info.get(key))) for key, label in FIELDS], columns=["item", "value"])
