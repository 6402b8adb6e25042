"""Where things live. Derived from the package location so notebooks work from any directory.

`COLORIZE_DATA_DIR` and `COLORIZE_REPORTS_DIR` move the two writable trees elsewhere (the tests use
them to run the notebooks without touching the project's own data/ and reports/), and
`COLORIZE_CHECKPOINT_DIR` the training runs alone. Every path of the project is named here.
"""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("COLORIZE_DATA_DIR", PROJECT_ROOT / "data"))
RAW_DIR = DATA_DIR / "raw"
CACHE_DIR = DATA_DIR / "cache"
CHECKPOINT_DIR = DATA_DIR / "checkpoints"
REPORTS_DIR = Path(os.environ.get("COLORIZE_REPORTS_DIR", PROJECT_ROOT / "reports"))
FIGURES_DIR = REPORTS_DIR / "figures"
TABLES_DIR = REPORTS_DIR / "tables"
RUNS_DIR = REPORTS_DIR / "runs"  # the configs notebooks trained with, and how each notebook ran
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"


def checkpoint_root() -> Path:
    """Where training runs live: `$COLORIZE_CHECKPOINT_DIR` when set (read at each call, so a test or a
    job script can point one process elsewhere), else data/checkpoints."""
    return Path(os.environ.get("COLORIZE_CHECKPOINT_DIR") or CHECKPOINT_DIR)
