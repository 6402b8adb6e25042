"""Results on disk, as the notebooks write them: tables (CSV), configs and run information (the
provenance table that ends every report). The HTML index over them is tooling (`colorize_tools.index`)."""

import json
from pathlib import Path

import pandas as pd

from . import provenance
from .engine.config import ExperimentConfig
from .files import atomic_write_text
from .paths import RUNS_DIR, TABLES_DIR


def save_table(frame: pd.DataFrame, name: str, folder: Path = TABLES_DIR) -> Path:
    """Every digit (the page rounds for reading, `tables.show`; the CSV is what is computed on)."""
    path = folder / f"{name}.csv"
    atomic_write_text(path, frame.to_csv(index=False))
    return path


def load_table(name: str, folder: Path = TABLES_DIR) -> pd.DataFrame:
    path = folder / f"{name}.csv"
    if not path.exists():
        raise FileNotFoundError(f"results table {path} does not exist: run the notebook that writes it first")
    return pd.read_csv(path)


def save_config(config: ExperimentConfig, folder: Path = RUNS_DIR) -> Path:
    """The exact config a notebook trained with, so later notebooks reload the same run."""
    return config.save(folder / f"{config.name}.json")


def load_config(name: str, folder: Path = RUNS_DIR) -> ExperimentConfig:
    path = folder / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"no saved config {path}: run the notebook that trains '{name}' first")
    return ExperimentConfig.load(path)


def save_experiment(
    notebook: str, config: ExperimentConfig, table: pd.DataFrame, per_image: pd.DataFrame, history: pd.DataFrame
) -> None:
    """What every training notebook keeps: its results table, per-image scores, history and config."""
    save_table(table, notebook)
    save_table(per_image, f"{notebook}_per_image")
    save_table(history, f"{notebook}_history")
    save_config(config)


def write_run_info(
    notebook: str,
    profile: str,
    data: str,
    device: str,
    folder: Path = RUNS_DIR,
    *,
    images=None,
    seeds=None,
    precision: str | None = None,
    show: bool = True,
) -> Path:
    """Record where and how a notebook ran (`provenance.collect`); the index page shows it.

    Called as a notebook's last statement: with `show`, the provenance table is displayed there, so the
    rendered report ends with it. `images` (the notebook's `ImageSet`) adds the data manifest's hash
    and the split sizes; `seeds` the seed or seeds its runs used; `precision` what they trained in.
    """
    info = provenance.collect(notebook, profile, data, device, images=images, seeds=seeds, precision=precision)
    path = folder / f"{notebook}.run.json"
    atomic_write_text(path, json.dumps(info, indent=2) + "\n")
    if show:
        _display_provenance(info)
    return path


def provenance_html(info: dict) -> str:
    return provenance.as_table(info).to_html(index=False, header=False, classes="provenance")


def _display_provenance(info: dict) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python: the JSON file is the record
        return
    if get_ipython() is None:
        return
    table = provenance.as_table(info)
    left = "<style>table.provenance td{text-align:left}</style>"  # the lab theme right-aligns cells
    display(
        {
            "text/html": f"{left}<h3>How this report was made</h3>" + provenance_html(info),
            "text/plain": table.to_string(index=False, header=False),
        },
        raw=True,
    )
