import math

import numpy as np
import pandas as pd
import pytest

from colorize_lib.stats import (
    bootstrap,
    format_interval,
    mean_ci,
    paired_diff_ci,
    per_photo,
    photo_of,
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


def test_photo_of_splits_at_the_last_colon():
    assert photo_of("astronaut:top-left") == "astronaut"
    assert photo_of("a:b:whole") == "a:b"
    assert photo_of("plain") == "plain"


def test_views_of_one_photo_count_once():
    # Photo a has five views averaging 10, photo b one view of 20: photos weigh equally -> 15,
    # whereas a mean over views would give (50 + 20) / 6.
    table = _table({"a": [8.0, 9.0, 10.0, 11.0, 12.0], "b": [20.0]})
    assert per_photo(table, "psnr")["psnr"].to_dict() == {"a": 10.0, "b": 20.0}
    mean, lo, hi = mean_ci(table, "psnr", n_resamples=2000)
    assert mean == pytest.approx(15.0)
    # Resampling two photos gives means 10, 15 or 20 only: the interval ends are among them.
    assert lo == pytest.approx(10.0) and hi == pytest.approx(20.0)


def test_identical_seeds_give_identical_intervals_and_others_differ():
    table = _random_table(30, seed=1)
    assert mean_ci(table, "psnr", seed=4) == mean_ci(table, "psnr", seed=4)
    assert mean_ci(table, "psnr", seed=4)[1:] != mean_ci(table, "psnr", seed=5)[1:]


@pytest.mark.parametrize("seed", range(5))
def test_interval_contains_the_mean_and_narrows_with_more_photos(seed):
    small, large = _random_table(10, seed), _random_table(200, seed)
    for table in (small, large):
        mean, lo, hi = mean_ci(table, "psnr", seed=seed)
        assert lo < mean < hi
        assert mean == pytest.approx(table["psnr"].mean())  # equal views per photo
    width = lambda iv: iv.hi - iv.lo  # noqa: E731
    assert width(mean_ci(large, "psnr")) < width(mean_ci(small, "psnr"))


def test_paired_diff_of_a_table_with_itself_is_exactly_zero():
    table = _random_table(25, seed=2)
    d = paired_diff_ci(table, table, "psnr")
    assert (d.mean, d.lo, d.hi, d.share_positive) == (0.0, 0.0, 0.0, 0.0)


def test_paired_diff_pairs_by_photo_and_sees_a_consistent_gain():
    a = _random_table(40, seed=3)
    b = a.assign(psnr=a["psnr"] - 0.5 + np.random.default_rng(0).normal(0, 0.05, len(a)))
    b = b.sample(frac=1.0, random_state=0)  # row order must not matter
    d = paired_diff_ci(a, b, "psnr")
    assert 0.45 < d.lo < d.mean < d.hi < 0.55  # pairing removes the 2 dB spread between photos
    assert d.share_positive == 1.0
    assert paired_diff_ci(b, a, "psnr").share_positive == 0.0


def test_paired_diff_can_compare_two_columns_of_one_table():
    table = _random_table(20, seed=6)
    table["gray_psnr"] = table["psnr"] - 1.0
    d = paired_diff_ci(table, table, "psnr", column_b="gray_psnr")
    assert d.mean == pytest.approx(1.0) and d.lo == pytest.approx(1.0) and d.hi == pytest.approx(1.0)


def test_paired_diff_requires_the_same_photos_and_names_the_missing_ones():
    a = _table({"x": [1.0], "y": [2.0], "z": [3.0]})
    b = _table({"x": [1.0], "y": [2.0], "w": [3.0]})
    with pytest.raises(ValueError, match=r"only in a: \['z'\].*only in b: \['w'\]"):
        paired_diff_ci(a, b, "psnr")


def test_one_photo_gives_a_nan_interval_with_a_warning():
    table = _table({"solo": [17.0, 19.0, 18.0]})
    with pytest.warns(UserWarning, match="one photo"):
        mean, lo, hi = mean_ci(table, "psnr")
    assert mean == pytest.approx(18.0) and math.isnan(lo) and math.isnan(hi)
    assert format_interval((mean, lo, hi), "dB") == "18.00 dB [n/a]"


def test_bootstrap_statistic_sees_paired_columns():
    # Column 1 = column 0 + 3 on every photo: any resample's difference is exactly 3.
    values = np.random.default_rng(0).normal(size=(15, 1)) + np.array([[0.0, 3.0]])
    interval, stats = bootstrap(values, lambda m: m[..., 1] - m[..., 0], n_resamples=500)
    assert stats.shape == (500,)
    np.testing.assert_allclose([*interval], [3.0, 3.0, 3.0])


def test_with_intervals_adds_lo_hi_per_key_and_keeps_the_row():
    table = _random_table(12, seed=8)
    table["colorfulness"] = table["psnr"] * 2
    row = {"model": "m", "psnr_db": table["psnr"].mean()}
    out = with_intervals(row, table, {"psnr_db": "psnr", "colorfulness": "colorfulness"})
    assert row == {"model": "m", "psnr_db": table["psnr"].mean()}  # not modified in place
    assert out["psnr_db_lo"] < out["psnr_db"] < out["psnr_db_hi"]
    assert out["colorfulness_lo"] == pytest.approx(2 * out["psnr_db_lo"])
    assert out["n_photos"] == 12


def test_bad_tables_name_the_problem():
    with pytest.raises(ValueError, match="'image' column"):
        mean_ci(pd.DataFrame({"psnr": [1.0]}), "psnr")
    with pytest.raises(ValueError, match="no column"):
        mean_ci(_table({"a": [1.0]}), "ssim")
    with pytest.raises(ValueError, match=r"NaN for view\(s\) \['b:whole'\]"):
        mean_ci(_table({"a": [1.0], "b": [float("nan")]}), "psnr")
    with pytest.raises(ValueError, match="n_resamples"):
        mean_ci(_table({"a": [1.0], "b": [2.0]}), "psnr", n_resamples=0)
