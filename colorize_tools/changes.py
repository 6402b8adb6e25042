"""What changed since the last run: keep the previous run's results, compare tables, diff notebooks.

    python -m colorize_tools.changes keep [REPORTS]   # copy the current results to REPORTS/previous/
    python -m colorize_tools.changes diff [REPORTS]   # numbers that moved, then nbdiff of the outputs

Identical papermill runs differ in hundreds of notebook metadata lines (and nbdiff exits 0 on
differences), so the CSV tables are the record of whether a result moved; nbdime's output diff is for a
person reading the change.
"""

import html
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from colorize_lib.files import atomic_write_text
from colorize_lib.paths import REPORTS_DIR

PREVIOUS = "previous"
CHANGES_PAGE = "changes.html"
# Columns that measure speed, not results: they move between identical runs (train.WALL_TIME_COLUMNS).
IGNORED_COLUMNS = ("seconds", "images_per_s")
# Text columns that name *which* run made a row (its checkpoint folder): a new seed or setting gives a
# new one, and the row is still the same row of the table, so they never key rows.
NOT_KEYS = ("run",)
# Text columns that are results, not names (the claims and verdict tables): compared, never keys.
TEXT_RESULTS = ("ours", "verdict", "why", "level", "selected_by")
TINY = 1e-9  # seeded reruns repeat to the bit: anything above this is a real change
# What a run leaves that `keep_previous` copies: folder under reports/ -> file pattern.
KEPT = {"notebooks": "[0-9][0-9]_*.ipynb", "tables": "*.csv", "runs": "*.run.json"}


def keep_previous(reports: Path = REPORTS_DIR) -> Path | None:
    """Copy the executed notebooks, tables and run infos to `reports/previous/`, replacing what was kept
    before; None (and nothing touched) when there is no completed run to keep.

    Call it before notebooks are rerun. The copy is built beside and renamed into place, so an
    interrupted copy never replaces a good one.
    """
    reports = Path(reports)
    files = {
        folder: [p for p in sorted((reports / folder).glob(pattern)) if not p.name.endswith(".failed.ipynb")]
        for folder, pattern in KEPT.items()
    }
    if not files["notebooks"] and not files["tables"]:
        return None
    target, partial, old = reports / PREVIOUS, reports / f".{PREVIOUS}-partial", reports / f".{PREVIOUS}-old"
    shutil.rmtree(partial, ignore_errors=True)
    for folder, paths in files.items():
        (partial / folder).mkdir(parents=True, exist_ok=True)
        for p in paths:
            shutil.copy2(p, partial / folder / p.name)
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    partial.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return target


def _keyed(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Index rows by their text columns (with an occurrence number where those repeat), else by position."""
    frame = frame.copy()
    frame["#"] = frame.groupby(key, dropna=False).cumcount() if key else range(len(frame))
    return frame.set_index([*key, "#"])


def _row_label(index) -> str:
    parts = index if isinstance(index, tuple) else (index,)
    *names, occurrence = parts
    label = " / ".join(str(n) for n in names)
    return f"{label} #{occurrence + 1}".strip() if occurrence or not label else label


def compare_table(
    old: pd.DataFrame, new: pd.DataFrame, tiny: float = TINY, ignore: tuple[str, ...] = IGNORED_COLUMNS
) -> pd.DataFrame:
    """Numbers that moved between two versions of one table: columns row, column, old, new, delta.

    Rows are matched on the text columns both versions share (e.g. `model`; not `run`, which names the
    checkpoint and changes with any setting), numbers compared in the
    numeric columns both share, except `ignore`. A value counts as moved when |new - old| > `tiny`, or
    when it appeared or vanished (NaN on one side); rows on one side only are listed with column "(row)".
    """
    shared = [c for c in old.columns if c in new.columns]
    is_number = pd.api.types.is_numeric_dtype
    text = [c for c in shared if not is_number(old[c]) and not is_number(new[c])]
    key = [c for c in text if c not in NOT_KEYS + TEXT_RESULTS]
    compared_text = [c for c in text if c in TEXT_RESULTS]
    numeric = [c for c in shared if c not in ignore and is_number(old[c]) and is_number(new[c])]
    a, b = _keyed(old, key), _keyed(new, key)
    rows = []
    for index in a.index.union(b.index, sort=False):
        if index not in b.index or index not in a.index:
            rows.append(
                dict(
                    row=_row_label(index),
                    column="(row)",
                    old="present" if index in a.index else "—",
                    new="present" if index in b.index else "—",
                    delta=math.nan,
                )
            )
            continue
        for column in compared_text:
            x, y = a.at[index, column], b.at[index, column]
            if x != y and not (pd.isna(x) and pd.isna(y)):
                rows.append(dict(row=_row_label(index), column=column, old=x, new=y, delta=math.nan))
        for column in numeric:
            x, y = float(a.at[index, column]), float(b.at[index, column])
            if math.isnan(x) and math.isnan(y):
                continue
            if math.isnan(x) or math.isnan(y) or abs(y - x) > tiny:
                rows.append(dict(row=_row_label(index), column=column, old=x, new=y, delta=y - x))
    return pd.DataFrame(rows, columns=["row", "column", "old", "new", "delta"])


def compare_tables(
    old_dir: Path, new_dir: Path, tiny: float = TINY, ignore: tuple[str, ...] = IGNORED_COLUMNS
) -> pd.DataFrame:
    """`compare_table` over every CSV file in two folders: columns table, row, column, old, new, delta.
    A file in one folder only is one row with column "(table)"."""
    old_dir, new_dir = Path(old_dir), Path(new_dir)
    for folder, name in ((old_dir, "old_dir"), (new_dir, "new_dir")):
        if not folder.is_dir():
            raise FileNotFoundError(f"parameter '{name}' = {str(folder)!r} is not a folder of CSV tables")
    names = sorted({p.name for p in old_dir.glob("*.csv")} | {p.name for p in new_dir.glob("*.csv")})
    parts = []
    for name in names:
        a, b = old_dir / name, new_dir / name
        if a.exists() and b.exists():
            changes = compare_table(pd.read_csv(a), pd.read_csv(b), tiny, ignore)
        else:
            changes = pd.DataFrame(
                [
                    dict(
                        row="",
                        column="(table)",
                        old="present" if a.exists() else "—",
                        new="present" if b.exists() else "—",
                        delta=math.nan,
                    )
                ]
            )
        if len(changes):
            parts.append(changes.assign(table=name.removesuffix(".csv")))
    columns = ["table", "row", "column", "old", "new", "delta"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


def changes_since_previous(reports: Path = REPORTS_DIR) -> pd.DataFrame | None:
    """Numbers that moved between `reports/previous/tables` and `reports/tables`; None without a previous run."""
    reports = Path(reports)
    if not (reports / PREVIOUS / "tables").is_dir() or not (reports / "tables").is_dir():
        return None
    return compare_tables(reports / PREVIOUS / "tables", reports / "tables")


def write_changes_page(reports: Path = REPORTS_DIR) -> Path | None:
    """reports/changes.html, the table of moved numbers, when a previous run was kept; else None
    (and a stale page from an earlier comparison is removed)."""
    reports = Path(reports)
    page = reports / CHANGES_PAGE
    changes = changes_since_previous(reports)
    if changes is None:
        page.unlink(missing_ok=True)
        return None
    if changes.empty:
        body = "<p>No number in the CSV tables moved.</p>"
    else:
        body = (
            f"<p>{len(changes)} numbers moved in {changes['table'].nunique()} tables "
            f"(speed columns {', '.join(IGNORED_COLUMNS)} left out).</p><div style='overflow-x:auto'>"
            + changes.to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep="")
            + "</div>"
        )
    kept = reports / PREVIOUS / "runs"
    finished = sorted({p.stat().st_mtime for p in kept.glob("*.run.json")}) if kept.is_dir() else []
    atomic_write_text(
        page,
        "<!doctype html><html><head><meta charset='utf-8'><title>Changed since the last run"
        "</title><style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;padding:3px 8px}"
        "</style></head><body><h1>Changed since the last run</h1>"
        f"<p>Previous results: <code>{html.escape(PREVIOUS)}/</code> ({len(finished)} run records). "
        "Run <code>make diff</code> for the notebooks' output differences.</p>" + body + "</body></html>",
    )
    return page


def diff_notebooks(reports: Path = REPORTS_DIR) -> int:
    """Print nbdime's diff of the outputs of each notebook kept in previous/ against the current one."""
    reports = Path(reports)
    for old in sorted((reports / PREVIOUS / "notebooks").glob("*.ipynb")):
        new = reports / "notebooks" / old.name
        if not new.exists():
            print(f"== {old.stem}: no current executed notebook")
            continue
        print(f"== {old.stem}: output differences (nbdiff -o)", flush=True)
        done = subprocess.run([sys.executable, "-m", "nbdime", "diff", "-o", "--no-color", str(old), str(new)])
        if done.returncode != 0:
            return done.returncode
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in ("keep", "diff") or len(argv) > 2:
        print("usage: python -m colorize_tools.changes keep|diff [REPORTS]", file=sys.stderr)
        return 2
    reports = Path(argv[1]) if len(argv) == 2 else REPORTS_DIR
    if argv[0] == "keep":
        kept = keep_previous(reports)
        print(f"kept the previous run's results in {kept}" if kept else "no previous run to keep")
        return 0
    changes = changes_since_previous(reports)
    if changes is None:
        print(f"no previous run kept in {reports / PREVIOUS}: nothing to compare", file=sys.stderr)
        return 1
    status = diff_notebooks(reports)
    print(f"== numbers that moved in the CSV tables (|Δ| > {TINY:g})")
    if changes.empty:
        print("none")
    else:
        shown = changes.reindex(changes["delta"].abs().sort_values(ascending=False, na_position="first").index)
        print(shown.head(40).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        if len(changes) > 40:
            print(f"... and {len(changes) - 40} more: see {reports / CHANGES_PAGE}")
    return status


if __name__ == "__main__":
    sys.exit(main())
