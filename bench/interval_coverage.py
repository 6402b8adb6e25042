"""Coverage of the study's intervals over made-up studies, beside the percentile bootstrap it replaced.

    python bench/interval_coverage.py [--studies 2000]

Prints, for n = 3, 5, 8 and 30 photo groups, the share of simulated studies whose 95% interval covers the
true mean (half of the studies normal, half skewed like PSNR gains), for `stats.estimate` (t interval with
a jackknife standard error) and for a percentile bootstrap; then the same for 12 groups of 1-3 correlated
photos and 3 training seeds, with and without the seeds in the interval. tests/test_stats.py asserts the
same design within 95% ± 3% at n = 8 and 30.
"""

import argparse

import numpy as np

from colorize_lib.scoring.stats import Sample, estimate


def _numbers(x: np.ndarray) -> Sample:
    return Sample((x[None, :, None],), np.ones(len(x)), tuple(map(str, range(len(x)))))


def means(n: int, studies: int, resamples: int = 4000) -> tuple[float, float]:
    rng = np.random.default_rng(n)
    t_hits = boot_hits = 0
    for i in range(studies):
        x = rng.normal(0.5, 2.0, n) if i % 2 else 0.5 - 1.0 + rng.gamma(4.0, 0.25, n)
        est = estimate(_numbers(x))
        t_hits += est.lo <= 0.5 <= est.hi
        boot = x[rng.integers(0, n, (resamples, n))].mean(axis=1)
        lo, hi = np.quantile(boot, [0.025, 0.975])
        boot_hits += lo <= 0.5 <= hi
    return t_hits / studies, boot_hits / studies


def groups_and_seeds(studies: int) -> tuple[float, float]:
    rng = np.random.default_rng(11)
    sizes = np.array([1, 2, 3] * 4)
    photo_group = np.repeat(np.arange(len(sizes)), sizes)
    names = tuple(map(str, range(len(sizes))))
    both = one = 0
    for _ in range(studies):
        photo = rng.normal(0, 1.0, len(sizes))[photo_group] + rng.normal(0, 0.5, len(photo_group))
        values = photo[None] + rng.normal(0, 0.6, 3)[:, None] + rng.normal(0, 0.2, (3, len(photo_group)))
        group_means = np.stack([np.bincount(photo_group, v) / sizes for v in values])[:, :, None]
        est = estimate(Sample((group_means,), sizes.astype(float), names))
        both += est.lo <= 0 <= est.hi
        first = estimate(Sample((group_means[:1],), sizes.astype(float), names))
        one += first.lo <= 0 <= first.hi
    return both / studies, one / studies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--studies", type=int, default=2000)
    args = parser.parse_args()
    for n in (3, 5, 8, 30):
        t, boot = means(n, args.studies)
        print(f"n = {n:>2} photo groups: t interval covers {t:.1%}, percentile bootstrap {boot:.1%}")
    both, one = groups_and_seeds(args.studies)
    print(f"12 groups of 1-3 photos, 3 seeds: groups and seeds {both:.1%}; first seed, groups only {one:.1%}")


if __name__ == "__main__":
    main()
