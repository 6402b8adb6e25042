"""Where a notebook's time goes when it is not training: `make reproduce` from an empty data and
checkpoint folder, timed line by line, each notebook split into

- start: from make starting `colorize_tools.notebook_runner` to the notebook's first cell (interpreter start,
  importing papermill, starting the kernel; the time-left line is worked out meanwhile);
- imports: the notebook's import cell (the first code cell after the parameters);
- training: the epochs its runs trained (their `history.csv` seconds);
- cells: the rest of its cells (data, evaluation, figures, tables);
- after: from its last cell to the executed notebook's rename (saving it, stopping the kernel);
- html: rendering the report (the runner does it);
- exit: from the report to the next make recipe (bookkeeping, the runner's exit, make's check of the report);

and the time before the first notebook and after the last. Every figure is wall time on this machine.

    python bench/notebook_overhead.py                 # PROFILE=smoke, bundled photos
    python bench/notebook_overhead.py --profile rehearsal
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
RECIPE = re.compile(r"update target '(.+?)'")
HEADER = re.compile(r"^\[\d+/\d+\] (\d\d_\w+) · elapsed [\d:]+ · (.*)$")
PARAMETER_TAGS = {"parameters", "injected-parameters"}


def run_make(profile: str, data: str, root: Path, make_args: list[str]) -> list[tuple[float, str]]:
    """(wall time, line) of everything `make --trace reproduce` prints, echoed as it comes."""
    env = dict(os.environ, COLORIZE_DATA_DIR=str(root / "data"), MPLBACKEND="Agg")
    env.pop("COLORIZE_RUN_STARTED", None)
    command = ["make", "--no-print-directory", "--trace", "-C", str(ROOT), "reproduce", f"PROFILE={profile}"]
    command += [f"DATA={data}", f"REPORTS={root / 'reports'}", *make_args]
    lines = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) as proc:
        for line in proc.stdout:
            lines.append((time.time(), line.rstrip("\n")))
            if HEADER.match(line) or " │ done in " in line:  # the runner's lines; --trace echoes every command
                print(line.rstrip("\n"), flush=True)
    if proc.returncode:
        sys.exit(f"make reproduce failed (exit {proc.returncode}); see the output above")
    return lines


def training_seconds(checkpoints: Path) -> dict[str, float]:
    """Notebook -> seconds its runs trained, from each run folder's config.json and history.csv."""
    from colorize_lib.engine.config import notebook_of

    seconds: dict[str, float] = {}
    for history in checkpoints.glob("*/history.csv"):
        name = json.loads((history.parent / "config.json").read_text())["name"]
        notebook = notebook_of(name)
        seconds[notebook] = seconds.get(notebook, 0.0) + float(pd.read_csv(history)["seconds"].sum())
    return seconds


def stamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def breakdown(lines: list[tuple[float, str]], reports: Path, trained: dict[str, float]) -> pd.DataFrame:
    recipes = [(t, m.group(1)) for t, line in lines if (m := RECIPE.search(line))]
    end = lines[-1][0]

    def next_recipe(after: float) -> float:
        return next((t for t, _ in recipes if t > after), end)

    rows = []
    for t_runner, target in recipes:
        if not target.endswith(".ipynb") or "/notebooks/" not in target:
            continue
        name = Path(target).stem
        nb = json.loads(Path(target).read_text())
        cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
        meta = [c["metadata"]["papermill"] for c in cells]
        first, last = stamp(meta[0]["start_time"]), stamp(meta[-1]["end_time"])
        tags = [set(c["metadata"].get("tags", [])) for c in cells]
        imports = float(next(m for m, t in zip(meta, tags) if not t & PARAMETER_TAGS)["duration"])
        in_cells = sum(float(m["duration"]) for m in meta)
        train = trained.get(name, 0.0)
        saved, rendered = Path(target).stat().st_mtime, (reports / f"{name}.html").stat().st_mtime
        rows.append(
            dict(
                notebook=name,
                start=first - t_runner,
                imports=imports,
                training=train,
                cells=in_cells - imports - train,
                after=saved - last,
                html=rendered - saved,
                exit=next_recipe(rendered) - rendered,
            )
        )
    table = pd.DataFrame(rows).set_index("notebook")
    table["total"] = table.sum(axis=1)
    table["beyond training"] = table["total"] - table["training"]
    start = lines[0][0]
    first_runner = recipes[[i for i, (_, t) in enumerate(recipes) if t.endswith("01_data.ipynb")][0]][0]
    last_html = max(t for t, target in recipes if target.endswith("08_summary.html"))
    table.attrs["before"] = first_runner - start
    table.attrs["finish"] = end - next_recipe(last_html) if next_recipe(last_html) < end else 0.0
    table.attrs["wall"] = end - start
    return table


def said_seconds(text: str) -> tuple[float, float] | None:
    """The range of seconds a time-left phrase stands for (estimate.duration), None for 'measuring'."""
    if m := re.fullmatch(r"about (\d+) min left", text):
        return (int(m.group(1)) - 1) * 60, int(m.group(1)) * 60
    if m := re.fullmatch(r"about ([\d.]+) h left", text):
        return (float(m.group(1)) - 0.05) * 3600, (float(m.group(1)) + 0.05) * 3600
    return (0.0, 60.0) if text == "under a minute left" else None


def time_left_lines(lines: list[tuple[float, str]]) -> pd.DataFrame:
    """Each header's time left against the time the run actually had left (to make's last line)."""
    end, rows = lines[-1][0], []
    for t, line in lines:
        if m := HEADER.match(line):
            said = said_seconds(m.group(2))
            actual = end - t
            ratio = None if said is None else max(said[0] / actual, min(1.0, said[1] / actual))
            rows.append(dict(notebook=m.group(1), said=m.group(2), actual_s=actual, ratio=ratio))
    return pd.DataFrame(rows).set_index("notebook")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--data", default="bundled")
    parser.add_argument("make_args", nargs="*", help="more make variables, e.g. ENV=system PYTHON=python3")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="notebook-overhead-") as tmp:
        root = Path(tmp)
        lines = run_make(args.profile, args.data, root, args.make_args)
        table = breakdown(lines, root / "reports", training_seconds(root / "data" / "checkpoints"))
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.1f}".format):
        print(f"\nseconds per notebook, make reproduce PROFILE={args.profile} DATA={args.data} from empty folders")
        print(table)
        print(table.mean().to_frame("mean").T)
        left = time_left_lines(lines)
        print("\ntime left said at each notebook's start, against the time make actually had left")
        print(left)
    a = table.attrs
    print(
        f"before the first notebook {a['before']:.1f} s; index and summary {a['finish']:.1f} s; "
        f"make reproduce {a['wall']:.1f} s in all; beyond training: at most "
        f"{table['beyond training'].max():.1f} s a notebook ({table['beyond training'].idxmax()})"
    )


if __name__ == "__main__":
    main()
