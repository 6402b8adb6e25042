"""Are two runs' tables the same? For a refactor, which must leave every number where it was.

    python bench/same_tables.py REPORTS_A REPORTS_B [--decimals N]

Compares every CSV under REPORTS_A/tables and REPORTS_B/tables as text, cell by cell, after dropping the
wall-time and precision columns that differ between identical runs or are new (`train.WALL_TIME_COLUMNS`,
`precision`); prints the tables that differ or exist on one side only, and a last line `N tables, M differ`.
With `--decimals N`, numbers are compared rounded to N decimals: tables written before 2026-11-30 kept 4.
"""

import sys
from pathlib import Path

import pandas as pd

from colorize_lib.engine.train import WALL_TIME_COLUMNS


def read(path: Path, decimals: int | None = None) -> pd.DataFrame:
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table = table.drop(columns=[c for c in (*WALL_TIME_COLUMNS, "precision") if c in table.columns])
    return table if decimals is None else table.map(lambda cell: _rounded(cell, decimals))


def _rounded(cell: str, decimals: int) -> str:
    try:
        return f"{float(cell):.{decimals}f}"
    except ValueError:
        return cell


def main(argv: list[str]) -> int:
    decimals = None
    if len(argv) == 4 and argv[2] == "--decimals":
        decimals, argv = int(argv[3]), argv[:2]
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    a, b = (Path(x) / "tables" for x in argv)
    names = sorted({p.name for p in a.glob("*.csv")} | {p.name for p in b.glob("*.csv")})
    differ = 0
    for name in names:
        if not (a / name).exists() or not (b / name).exists():
            print(f"only in {'B' if not (a / name).exists() else 'A'}: {name}")
            differ += 1
        elif not read(a / name, decimals).equals(read(b / name, decimals)):
            print(f"differs: {name}")
            differ += 1
    print(f"{len(names)} tables, {differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
