"""The one-sided errors tests/test_stats.py holds to their limits, from bench/interval_coverage.py's simulated
studies through the library's own `estimate`. About 20,000 studies, a minute and more of one core: the
scenario `coverage_runs` computes them in a process of its own, beside the other tests.

    python tests/coverage_cells.py      # prints the cells as JSON
"""

import importlib.util
import json
import sys
from pathlib import Path

from colorize_lib.scoring.claims import MIN_GROUPS

BENCH = Path(__file__).resolve().parents[1] / "bench"
SHAPES = ("normal", "gamma(2)", "lognormal 0.5")  # the shapes a verdict must keep its level on
GROUPS = (MIN_GROUPS, 10, 20)
# Studies per cell, by seeds: the Monte Carlo error of a 2.5% rate is then 0.8% (400) and 0.5% (1,000); one seed,
# the worst case, is run at the bench's 1,000 studies, so its rates are the ones RESULTS shows.
STUDIES = {1: 1000, 3: 400}
LEFT_SKEWED = dict(shape="failure 15%", sign=-1, n=10, seeds=3, studies=400)  # most gain a little, a few lose a lot


def simulation():
    spec = importlib.util.spec_from_file_location("interval_coverage", BENCH / "interval_coverage.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cells() -> list[dict]:
    """A dict per (shape, seeds, side, groups), with the share of studies whose truth lies below the 95%
    bootstrap-t interval and the share above it; the left-skewed failure mixture last."""
    sim = simulation()
    wanted = [
        dict(shape=shape, sign=sign, n=n, seeds=seeds, studies=STUDIES[seeds])
        for shape in SHAPES
        for seeds in STUDIES
        for sign in ((1, -1) if shape != "normal" else (1,))
        for n in GROUPS
    ]
    out = []
    for cell in [*wanted, LEFT_SKEWED]:
        errors = sim.one_sided_errors(cell["shape"], cell["sign"], cell["n"], cell["seeds"], cell["studies"], (0.95,))
        below, above = errors[("bootstrap-t", 0.95)]
        out.append(dict(cell, below=below, above=above))
    return out


if __name__ == "__main__":
    json.dump(cells(), sys.stdout, indent=1)
