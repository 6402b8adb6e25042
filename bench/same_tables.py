"""Are two runs' tables the same? For a refactor, which must leave every number where it was.

    python bench/same_tables.py REPORTS_A REPORTS_B

Compares every CSV under REPORTS_A/tables and REPORTS_B/tables as text, cell by cell, after dropping the
wall-time columns that differ between identical runs (`train.WALL_TIME_COLUMNS`); prints the tables that
differ or exist on one side only, and a last line `N tables, M differ`.
"""

import sys
from pathlib import Path

import pandas as pd

from colorize_lib.engine.train import WALL_TIME_COLUMNS


def read(path: Path) -> pd.DataFrame:
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    return table.drop(columns=[c for c in WALL_TIME_COLUMNS if c in table.columns])


def main(argv: list[str]) -> int:
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
        elif not read(a / name).equals(read(b / name)):
            print(f"differs: {name}")
            differ += 1
    print(f"{len(names)} tables, {differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
