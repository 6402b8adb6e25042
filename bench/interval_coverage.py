"""One-sided errors of the study's intervals over made-up studies, per data shape, beside the t interval.

    python bench/interval_coverage.py [--studies 1000]

A made-up study is n photo groups whose values (say per-photo PSNR gains) come from one shape, scaled to
mean 0 and sd 1, each shape also mirrored (a long left tail: most photos gain a little, a few lose a lot):
normal, gamma(2), lognormal σ = 0.5 and σ = 1, and a failure mixture (15% of photos fail badly). With
three training seeds each seed shifts every photo (sd 0.3) and each photo a little more (sd 0.2), and the
truth is the recipe's mean over seeds; with one seed the truth is that run's mean. For n = 6, 8, 10, 20
and 50 groups it prints how often the truth lies below the interval and above it (each one-sided error;
a claim "above 0" is falsely held when the truth lies below the interval), at one claim's 95% (nominal
2.5% a side) and at a claims table's family level, 1 - 0.05/18 (18 comparisons; nominal 0.14% a side),
for `stats.estimate` (bootstrap-t over groups) and for the Welch t interval it replaced. tests/test_stats.py
asserts the bootstrap-t's errors per shape; claims.MIN_GROUPS is the smallest n this table supports.
"""

import argparse

import numpy as np
from scipy.special import stdtrit

from colorize_lib.scoring.stats import Sample, estimate

FAMILY_LEVEL = 1 - 0.05 / 18
SEED_SD, NOISE_SD = 0.3, 0.2


def _standard(x: np.ndarray, mean: float, sd: float) -> np.ndarray:
    return (x - mean) / sd


SHAPES = {  # name -> draw(rng, size): mean 0, sd 1, a long right tail (mirrored by the sign)
    "normal": lambda rng, n: rng.normal(0.0, 1.0, n),
    "gamma(2)": lambda rng, n: _standard(rng.gamma(2.0, 1.0, n), 2.0, np.sqrt(2.0)),
    "lognormal 0.5": lambda rng, n: _standard(
        rng.lognormal(0.0, 0.5, n), np.exp(0.125), np.sqrt((np.exp(0.25) - 1) * np.exp(0.25))
    ),
    "lognormal 1": lambda rng, n: _standard(rng.lognormal(0.0, 1.0, n), np.exp(0.5), np.sqrt((np.e - 1) * np.e)),
    # 85% of photos near +0.5, 15% fail near +/-... (a bad failure: 4 sd of the good ones away)
    "failure 15%": lambda rng, n: _failures(rng, n, 0.15),
}


def _failures(rng, n: int, share: float) -> np.ndarray:
    fail = rng.random(n) < share
    x = np.where(fail, rng.normal(4.0, 1.0, n), rng.normal(0.0, 1.0, n))
    mean = share * 4.0
    sd = np.sqrt(share * (1 + 16) + (1 - share) * 1 - mean**2)
    return (x - mean) / sd


def study(rng, shape: str, sign: int, n: int, seeds: int) -> Sample:
    """One made-up study: (seeds, n, 1) group values whose truth is 0."""
    groups = sign * SHAPES[shape](rng, n)
    if seeds == 1:
        values = groups[None]
    else:
        values = groups[None] + rng.normal(0, SEED_SD, (seeds, 1)) + rng.normal(0, NOISE_SD, (seeds, n))
    return Sample((values[:, :, None],), np.ones(n), tuple(map(str, range(n))))


def one_sided_errors(shape: str, sign: int, n: int, seeds: int, studies: int, levels=(0.95, FAMILY_LEVEL)):
    """{(method, level): (share of studies with the truth below the interval, share above it)}."""
    rng = np.random.default_rng([n, seeds, sign + 1, list(SHAPES).index(shape)])
    counts = {(m, lv): [0, 0] for m in ("bootstrap-t", "t") for lv in levels}
    for _ in range(studies):
        est = estimate(study(rng, shape, sign, n, seeds))
        for lv in levels:
            boot = est.bounds(lv)
            half = float(stdtrit(est.df, (1 + lv) / 2)) * est.se
            for method, (lo, hi) in (("bootstrap-t", boot), ("t", (est.mean - half, est.mean + half))):
                counts[(method, lv)][0] += 0 < lo
                counts[(method, lv)][1] += 0 > hi
    return {k: (below / studies, above / studies) for k, (below, above) in counts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--studies", type=int, default=1000)
    parser.add_argument("--groups", default="6,8,10,20,50")
    args = parser.parse_args()
    print(
        f"one-sided errors (truth below the interval / above it), {args.studies} studies a cell; "
        f"nominal 2.50% a side at 95%, {(1 - FAMILY_LEVEL) / 2:.2%} at the family level {FAMILY_LEVEL:.2%}"
    )
    print(
        f"{'shape':22s} {'n':>3s} {'seeds':>5s}   {'bootstrap-t 95%':>15s}   {'t 95%':>13s}   {'bootstrap-t fam.':>16s}"
    )
    for shape in SHAPES:
        for sign, side in ((1, "right tail"), (-1, "left tail")):
            if shape == "normal" and sign == -1:
                continue
            for n in map(int, args.groups.split(",")):
                for seeds in (1, 3):
                    e = one_sided_errors(shape, sign, n, seeds, args.studies)

                    def cell(k, e=e):
                        return f"{e[k][0]:6.2%} /{e[k][1]:6.2%}"

                    name = shape if shape == "normal" else f"{shape}, {side}"
                    print(
                        f"{name:22s} {n:3d} {seeds:5d}   {cell(('bootstrap-t', 0.95)):>15s}   "
                        f"{cell(('t', 0.95)):>13s}   {cell(('bootstrap-t', FAMILY_LEVEL)):>16s}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
