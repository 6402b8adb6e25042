import math

import numpy as np
import pandas as pd
import pytest
from coverage_cells import GROUPS, LEFT_SKEWED, SHAPES, STUDIES

from colorize_lib.scoring.claims import MIN_GROUPS
from colorize_lib.scoring.stats import (
    BOOTSTRAP_FROM,
    RESAMPLES,
    Sample,
    difference,
    estimate,
    format_interval,
    mean_ci,
    mse_of,
    paired_diff_ci,
    per_photo,
    photo_of,
    pooled_psnr,
    sample,
    with_intervals,
)

VIEWS = ["whole", "top-left", "bottom-left", "top-right", "bottom-right"]


def _table(photos: dict[str, list[float]], column: str = "psnr") -> pd.DataFrame:
    """Per-view table: photo name -> the values of its views."""
    rows = [(f"{p}:{VIEWS[i]}", v) for p, vals in photos.items() for i, v in enumerate(vals)]
    return pd.DataFrame(rows, columns=["image", column])


def _random_table(n_photos: int, seed: int, views: int = 5, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return _table({f"p{i:03d}": list(rng.normal(18 + shift, 2, views)) for i in range(n_photos)})


def _numbers(values: np.ndarray) -> Sample:
    """A sample of one column straight from numbers, one group each (what the simulations draw)."""
    return Sample(
        (np.asarray(values, float)[None, :, None],), np.ones(len(values)), tuple(map(str, range(len(values))))
    )


def test_photo_of_splits_at_the_last_colon():
    assert photo_of("astronaut:top-left") == "astronaut"
    assert photo_of("a:b:whole") == "a:b"
    assert photo_of("plain") == "plain"


def test_views_of_one_photo_count_once():
    # Photo a has five views averaging 10, photo b one view of 20: photos weigh equally -> 15,
    # whereas a mean over views would give (50 + 20) / 6.
    table = _table({"a": [8.0, 9.0, 10.0, 11.0, 12.0], "b": [20.0]})
    assert per_photo(table, "psnr")["psnr"].to_dict() == {"a": 10.0, "b": 20.0}
    mean, lo, hi = mean_ci(table, "psnr")
    assert mean == pytest.approx(15.0)
    # Two photos: the t interval with 1 degree of freedom is 15 ± 12.706 · 5 (not [min, max] = [10, 20]).
    assert hi - mean == pytest.approx(12.7062 * 5.0, rel=1e-4) and mean - lo == pytest.approx(hi - mean)


def test_below_bootstrap_from_groups_the_interval_of_a_mean_is_the_textbook_t_interval():
    from scipy import stats

    x = np.random.default_rng(3).normal(18, 2, BOOTSTRAP_FROM - 1)
    n = len(x)
    est = estimate(_numbers(x))
    half = stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / np.sqrt(n)
    assert (est.lo, est.hi) == pytest.approx((x.mean() - half, x.mean() + half))
    assert est.df == pytest.approx(n - 1) and est.n_groups == n and len(est.t_star) == 0


def test_the_bootstrap_t_keeps_the_textbook_standard_error_and_follows_the_skew():
    """From BOOTSTRAP_FROM groups on, the standard error is still s/√n; the quantiles come from resampling the
    groups, so a sample with a long left tail gets a longer lower arm than upper arm (a t interval's are equal)."""
    x = np.random.default_rng(3).normal(18, 2, 12)
    est = estimate(_numbers(x))
    assert est.se_groups == pytest.approx(x.std(ddof=1) / np.sqrt(12)) and len(est.t_star) > 0.99 * RESAMPLES
    assert est.lo < est.mean < est.hi
    assert estimate(_numbers(x)) == est  # the resamples are fixed: the same data, the same interval
    rng = np.random.default_rng(3)
    left = np.concatenate([rng.normal(1.0, 0.3, 13), [-5.0, -6.5]])  # most gain a little, two lose a lot
    skewed = estimate(_numbers(left))
    assert skewed.mean - skewed.lo > 3 * (skewed.hi - skewed.mean)
    assert skewed.skewness < -1


def test_the_p_value_is_read_off_the_interval():
    x = np.random.default_rng(5).normal(0.6, 1.0, 15)
    est = estimate(_numbers(x))
    p = est.p_value()
    lo, _ = est.bounds(1 - p)
    assert 0 < p < 1 and lo == pytest.approx(0.0, abs=1e-6)  # at level 1 - p the interval touches 0
    assert est.bounds(1 - p * 1.01)[0] > 0 > est.bounds(1 - p * 0.99)[0]


@pytest.mark.slow
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seeds", sorted(STUDIES))
def test_each_one_sided_error_stays_near_its_nominal_level_per_data_shape(coverage_runs, shape, seeds):
    """Made-up studies per data shape (bench/interval_coverage.py, seeded: the same studies every run; computed
    in the background by tests/coverage_cells.py), each mirrored: at every number of groups a verdict is
    given at (MIN_GROUPS on), the share of studies whose truth lies below the 95% interval, and the share
    above it, stay under twice the nominal 2.5% plus twice the Monte Carlo error, with one seed (the worst
    case: no seed variance to widen the interval) and with three. The heavier shapes (lognormal σ = 1, a
    failure mixture) are the method's known limits: RESULTS has their table."""
    cells = [c for c in coverage_runs if c["shape"] == shape and c["seeds"] == seeds]
    sides = (1,) if shape == "normal" else (1, -1)
    assert sorted((c["sign"], c["n"]) for c in cells) == sorted((s, n) for s in sides for n in GROUPS)
    assert MIN_GROUPS == min(GROUPS) and all(c["studies"] == STUDIES[seeds] for c in cells)
    limit = 2 * 0.025 + 2 * np.sqrt(0.025 * 0.975 / STUDIES[seeds])
    for c in cells:
        assert max(c["below"], c["above"]) <= limit, c


@pytest.mark.slow
def test_left_skewed_gains_with_no_true_gain_are_rarely_held(coverage_runs):
    """Most photos gain a little, a few lose a lot (the failure mixture with its long tail on the left), true
    mean 0, 10 groups x 3 seeds: 'gain above 0' is held (the whole 95% interval above 0) in at most about 10%
    of 400 studies; the t interval it replaced is shown beside it in RESULTS."""
    cell = coverage_runs[-1]
    assert {k: cell[k] for k in LEFT_SKEWED} == LEFT_SKEWED
    assert cell["below"] <= 0.10, cell


def test_two_files_of_one_group_count_once():
    table = _table({"left": [20.0], "right": [20.2], "c": [15.0], "d": [16.0]})
    table["group"] = ["pair", "pair", "c", "d"]
    data = sample([(table, "psnr")])
    assert data.n_groups == 3 and data.n_photos == 4
    est = estimate(data)
    # The point estimate is still the mean over photos; its uncertainty has 2 degrees of freedom, not 3.
    assert est.mean == pytest.approx(table["psnr"].mean())
    assert est.df == pytest.approx(2)
    alone = estimate(sample([(table.drop(columns="group"), "psnr")]))
    assert alone.n_groups == 4 and alone.hi - alone.lo < est.hi - est.lo


def test_a_photo_in_two_groups_is_an_error():
    table = _table({"a": [1.0, 2.0], "b": [3.0]})
    table["group"] = ["g1", "g2", "g2"]
    with pytest.raises(ValueError, match=r"photo\(s\) \['a'\] appear in more than one group"):
        sample([(table, "psnr")])


def test_seeds_widen_the_interval_of_a_difference_one_seed_could_erase():
    base = _random_table(30, seed=1)
    runs_a = [base.assign(psnr=base["psnr"] + g, seed=s) for s, g in enumerate([1.0, 1.1, -0.8])]
    b = base.assign(psnr=base["psnr"] - 0.0)
    one_seed = paired_diff_ci(runs_a[0], b, "psnr")
    assert one_seed.lo > 0.9  # seed 0 alone: a clear gain
    three = paired_diff_ci(pd.concat(runs_a), b, "psnr")
    assert three.lo < 0 < three.hi  # the third seed erases it
    assert three.mean == pytest.approx(np.mean([1.0, 1.1, -0.8]))


def test_pooled_psnr_is_computed_inside_every_replicate():
    table = _random_table(12, seed=4)
    est = estimate(sample([(mse_of(table), "mse")]), lambda m: pooled_psnr(m[..., 0]))
    mse = 10 ** (-table["psnr"] / 10)
    assert est.mean == pytest.approx(-10 * np.log10(mse.mean()))
    assert est.mean <= table["psnr"].mean()  # pooled PSNR never exceeds the mean of per-view PSNR
    assert est.lo < est.mean < est.hi
    # Not the interval of the mean PSNR shifted: the statistic itself is recomputed in each replicate.
    plain = estimate(sample([(table, "psnr")]))
    assert est.hi - est.lo != pytest.approx(plain.hi - plain.lo)


@pytest.mark.parametrize("seed", range(3))
def test_interval_contains_the_mean_and_narrows_with_more_photos(seed):
    small, large = _random_table(10, seed), _random_table(200, seed)
    for table in (small, large):
        mean, lo, hi = mean_ci(table, "psnr")
        assert lo < mean < hi
        assert mean == pytest.approx(table["psnr"].mean())  # equal views per photo
    width = lambda iv: iv.hi - iv.lo  # noqa: E731
    assert width(mean_ci(large, "psnr")) < width(mean_ci(small, "psnr"))


def test_paired_diff_of_a_table_with_itself_is_exactly_zero():
    table = _random_table(25, seed=2)
    d = paired_diff_ci(table, table, "psnr")
    assert (d.mean, d.lo, d.hi, d.p_value) == (0.0, 0.0, 0.0, 1.0)


def test_paired_diff_pairs_by_photo_and_sees_a_consistent_gain():
    a = _random_table(40, seed=3)
    b = a.assign(psnr=a["psnr"] - 0.5 + np.random.default_rng(0).normal(0, 0.05, len(a)))
    b = b.sample(frac=1.0, random_state=0)  # row order must not matter
    d = paired_diff_ci(a, b, "psnr")
    assert 0.45 < d.lo < d.mean < d.hi < 0.55  # pairing removes the 2 dB spread between photos
    assert d.p_value < 1e-10
    assert paired_diff_ci(b, a, "psnr").mean == pytest.approx(-d.mean)


def test_paired_diff_can_compare_two_columns_of_one_table():
    table = _random_table(20, seed=6)
    table["gray_psnr"] = table["psnr"] - 1.0
    d = paired_diff_ci(table, table, "psnr", column_b="gray_psnr")
    assert d.mean == pytest.approx(1.0) and d.lo == pytest.approx(1.0) and d.hi == pytest.approx(1.0)


def test_paired_diff_requires_the_same_photos_and_names_the_missing_ones():
    a = _table({"x": [1.0], "y": [2.0], "z": [3.0]})
    b = _table({"x": [1.0], "y": [2.0], "w": [3.0]})
    with pytest.raises(ValueError, match=r"only in table 1: \['w'\].*only in table 0: \['z'\]"):
        paired_diff_ci(a, b, "psnr")


def test_one_photo_gives_a_nan_interval_with_a_warning():
    table = _table({"solo": [17.0, 19.0, 18.0]})
    with pytest.warns(UserWarning, match="one photo group"):
        mean, lo, hi = mean_ci(table, "psnr")
    assert mean == pytest.approx(18.0) and math.isnan(lo) and math.isnan(hi)
    assert format_interval((mean, lo, hi), "dB") == "18.00 dB [n/a]"


def test_statistic_sees_paired_columns():
    # Column 1 = column 0 + 3 on every photo: any replicate's difference is exactly 3.
    values = np.random.default_rng(0).normal(size=(15, 1)) + np.array([[0.0, 3.0]])
    data = Sample((values[None],), np.ones(15), tuple(map(str, range(15))))
    est = estimate(data, lambda m: m[..., 1] - m[..., 0])
    np.testing.assert_allclose([est.mean, est.lo, est.hi], [3.0, 3.0, 3.0])
    assert estimate(data, difference).mean == pytest.approx(-3.0)


def test_with_intervals_adds_lo_hi_per_key_and_keeps_the_row():
    table = _random_table(12, seed=8)
    table["colorfulness"] = table["psnr"] * 2
    row = {"model": "m", "psnr_db": table["psnr"].mean()}
    out = with_intervals(row, table, {"psnr_db": "psnr", "colorfulness": "colorfulness"})
    assert row == {"model": "m", "psnr_db": table["psnr"].mean()}  # not modified in place
    assert out["psnr_db_lo"] < out["psnr_db"] < out["psnr_db_hi"]
    assert out["colorfulness_lo"] == pytest.approx(2 * out["psnr_db_lo"])
    assert out["n_photos"] == 12 and out["n_groups"] == 12


def test_bad_tables_name_the_problem():
    with pytest.raises(ValueError, match="'image' column"):
        mean_ci(pd.DataFrame({"psnr": [1.0]}), "psnr")
    with pytest.raises(ValueError, match="no column"):
        mean_ci(_table({"a": [1.0]}), "ssim")
    with pytest.raises(ValueError, match=r"NaN for view\(s\) \['b:whole'\]"):
        mean_ci(_table({"a": [1.0], "b": [float("nan")]}), "psnr")
    with pytest.raises(ValueError, match="level"):
        mean_ci(_table({"a": [1.0], "b": [2.0]}), "psnr", level=1.5)


def test_rounding_never_hides_a_sign_or_a_significance():
    from colorize_lib.scoring.stats import format_p

    assert format_interval((0.005, 0.0004, 0.0096), "dB", signed=True) == "+0.0050 dB [+0.0004, +0.0096]"
    assert format_interval((18.2, 17.9, 18.5), "dB") == "18.20 dB [17.90, 18.50]"
    assert format_interval((-0.3, -0.61, -0.004), signed=True) == "-0.300 [-0.610, -0.004]"
    assert format_p(0.00031) == "< 0.001" and format_p(0.0412) == "0.041" and format_p(float("nan")) == ""
