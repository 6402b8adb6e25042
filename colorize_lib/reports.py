"""Results on disk: tables (CSV), configs, run information, and the reports index page.

    python -m colorize_lib.reports index     # write reports/index.html from what the notebooks wrote
"""

import datetime as dt
import html
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from .config import ExperimentConfig
from .files import atomic_write_text
from .paths import PROJECT_ROOT, REPORTS_DIR, TABLES_DIR

RUNS_DIR = REPORTS_DIR / "runs"


def save_table(frame: pd.DataFrame, name: str, folder: Path = TABLES_DIR) -> Path:
    path = folder / f"{name}.csv"
    atomic_write_text(path, frame.to_csv(index=False, float_format="%.4f"))
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


def save_experiment(notebook: str, config: ExperimentConfig, table: pd.DataFrame, per_image: pd.DataFrame,
                    history: pd.DataFrame) -> None:
    """What every training notebook keeps: its results table, per-image scores, history and config."""
    save_table(table, notebook)
    save_table(per_image, f"{notebook}_per_image")
    save_table(history, f"{notebook}_history")
    save_config(config)


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                             text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("+changes" if dirty else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def write_run_info(notebook: str, profile: str, data: str, device: str, folder: Path = RUNS_DIR) -> Path:
    """Record where and how a notebook ran; the index page shows it."""
    info = dict(notebook=notebook, profile=profile, data=data, device=device, commit=git_commit(),
                finished=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    path = folder / f"{notebook}.run.json"
    atomic_write_text(path, json.dumps(info, indent=2) + "\n")
    return path


def _run_infos(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.run.json"))]


def build_index(reports: Path = REPORTS_DIR) -> Path:
    """reports/index.html: the notebooks' HTML reports, tables and figures, with how they ran."""
    infos = _run_infos(reports / "runs")
    e = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Colorization study — reports</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
             "th{background:#f4f4f4}img{max-width:100%;border:1px solid #ddd}</style></head><body>",
             "<h1>Automatic image colorization with CNNs — reproduction reports</h1>"]
    if infos:
        keys = sorted({(i["profile"], i["data"], i["device"], i["commit"]) for i in infos})
        parts.append("<p>" + "<br>".join(
            f"profile <b>{e(p)}</b> · data <b>{e(d)}</b> · device <b>{e(v)}</b> · commit <code>{e(c)}</code>"
            for p, d, v, c in keys) + "</p>")
    parts.append("<h2>Notebooks</h2><ul>")
    for page in sorted(reports.glob("[0-9][0-9]_*.html")):
        info = next((i for i in infos if i["notebook"] == page.stem), None)
        when = f" — finished {e(info['finished'])}" if info else ""
        parts.append(f"<li><a href='{e(page.name)}'>{e(page.stem)}</a>{when}</li>")
    parts.append("</ul>")
    table1 = reports / "tables" / "table1.csv"
    if table1.exists():
        parts.append("<h2>Table 1</h2>" + pd.read_csv(table1).to_html(index=False, float_format="%.2f", na_rep="—"))
    parts.append("<h2>Tables (CSV)</h2><ul>")
    parts += [f"<li><a href='tables/{e(p.name)}'>{e(p.name)}</a></li>" for p in sorted((reports / "tables").glob("*.csv"))]
    parts.append("</ul><h2>Figures</h2>")
    for p in sorted((reports / "figures").glob("*.png")):
        parts.append(f"<h3>{e(p.stem)}</h3><a href='figures/{e(p.name)}'><img src='figures/{e(p.name)}' loading='lazy'></a>")
    parts.append("</body></html>")
    path = reports / "index.html"
    atomic_write_text(path, "\n".join(parts))
    return path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv != ["index"]:
        print("usage: python -m colorize_lib.reports index", file=sys.stderr)
        return 2
    print(build_index())
    return 0


if __name__ == "__main__":
    sys.exit(main())
