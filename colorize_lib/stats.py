"""Bootstrap intervals over photos, for the per-view tables `evaluate()` makes.

A table has one row per test *view* (`astronaut:whole`, `astronaut:top-left`, ...). Views of one
photo are not independent samples, so every function here first averages the views of each photo
(the photo is the part of the name before the last ':'), then resamples *photos* with replacement:
a photo with five views counts exactly as much as a photo with one. Intervals are percentile
bootstrap intervals from a seeded numpy Generator, so the same seed gives the same interval.

With a single photo there is nothing to resample: the interval is NaN (printed as "n/a") and a
warning is issued, rather than lo = hi = mean, which would read as perfect certainty.
"""

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

N_RESAMPLES = 10_000
LEVEL = 0.95  # central share of the bootstrap distribution the interval covers
_CHUNK = 1_000  # resamples drawn at a time: bounds memory at (chunk, photos, columns)


class Interval(NamedTuple):
    mean: float
    lo: float
    hi: float


class PairedDiff(NamedTuple):
    """Mean of a - b over photos, its interval, and the share of resamples in which a - b > 0."""

    mean: float
    lo: float
    hi: float
    share_positive: float


def photo_of(view: str) -> str:
    """`'astronaut:top-left'` -> `'astronaut'`; a name without ':' is its own photo."""
    return view.rsplit(":", 1)[0]


def per_photo(per_view: pd.DataFrame, columns: str | Sequence[str]) -> pd.DataFrame:
    """Mean of each column over the views of each photo: one row per photo, indexed and sorted by photo."""
    cols = [columns] if isinstance(columns, str) else list(columns)
    if not isinstance(per_view, pd.DataFrame) or "image" not in per_view.columns:
        raise ValueError("per_view must be a DataFrame with an 'image' column of view names like 'photo:whole'")
    missing = [c for c in cols if c not in per_view.columns]
    if missing:
        raise ValueError(f"per_view has no column(s) {missing}; it has {list(per_view.columns)}")
    if len(per_view) == 0:
        raise ValueError("per_view is empty: no views to average")
    values = per_view[cols].astype(float)
    bad = per_view.loc[values.isna().any(axis=1), "image"].tolist()
    if bad:
        raise ValueError(f"column(s) {cols} have NaN for view(s) {bad[:5]}; expected a number for every view")
    photos = per_view["image"].astype(str).map(photo_of)
    return values.groupby(photos.to_numpy()).mean().sort_index()


def resample_means(values: np.ndarray, seed: int = 0, n_resamples: int = N_RESAMPLES) -> np.ndarray:
    """Column means of `n_resamples` bootstrap resamples of the rows: (n, k) -> (n_resamples, k).

    The same row indices are used for every column, so columns stay paired (photo i of column 0
    is drawn together with photo i of column 1).
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or len(values) == 0:
        raise ValueError(f"values must be a non-empty (photos, columns) array, got shape {values.shape}")
    if not isinstance(n_resamples, int) or n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive int, got {n_resamples!r}")
    rng = np.random.default_rng(seed)
    n = len(values)
    out = []
    for start in range(0, n_resamples, _CHUNK):
        idx = rng.integers(0, n, size=(min(_CHUNK, n_resamples - start), n))
        out.append(values[idx].mean(axis=1))
    return np.concatenate(out)


def bootstrap(
    values: np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray],
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
    level: float = LEVEL,
) -> tuple[Interval, np.ndarray]:
    """Percentile interval of a statistic of the column means, resampling rows (photos).

    `values` is (photos, k); `statistic` maps column means (..., k) to (...) — e.g. a difference of
    two columns or the spread of k columns. Returns the interval (the statistic of the observed
    means, and the percentiles of the resampled ones) and the resampled statistics themselves.
    NaN interval, with a warning, when there is a single photo.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    values = np.asarray(values, dtype=float)
    means = resample_means(values, seed, n_resamples)
    point = float(statistic(values.mean(axis=0)))
    stats = np.asarray(statistic(means), dtype=float)
    if len(values) < 2:
        warnings.warn("only one photo: no bootstrap interval (reported as NaN)", stacklevel=3)
        return Interval(point, float("nan"), float("nan")), stats
    lo, hi = np.quantile(stats, [(1 - level) / 2, (1 + level) / 2])
    return Interval(point, float(lo), float(hi)), stats


def mean_ci(
    per_view: pd.DataFrame, column: str, seed: int = 0, n_resamples: int = N_RESAMPLES, level: float = LEVEL
) -> Interval:
    """Mean of `column` over photos (each photo = the mean of its views) and its bootstrap interval.

    Equals the plain mean over views when every photo has the same number of views, as
    `evaluate()` makes them.
    """
    values = per_photo(per_view, column).to_numpy()
    interval, _ = bootstrap(values, lambda m: m[..., 0], seed, n_resamples, level)
    return interval


def paired_diff_ci(
    a: pd.DataFrame,
    b: pd.DataFrame,
    column: str,
    seed: int = 0,
    column_b: str | None = None,
    n_resamples: int = N_RESAMPLES,
    level: float = LEVEL,
) -> PairedDiff:
    """Mean over photos of a[column] - b[column_b or column], paired by photo, with its interval.

    Both tables must cover the same photos (their views may differ); a ValueError names the
    photos found in only one of them. `share_positive` is the share of resamples with a mean
    difference > 0: near 1 or 0 means the sign is stable under resampling photos, near 0.5 not.
    """
    pa, pb = per_photo(a, column)[column], per_photo(b, column_b or column)[column_b or column]
    only_a, only_b = sorted(set(pa.index) - set(pb.index)), sorted(set(pb.index) - set(pa.index))
    if only_a or only_b:
        raise ValueError(
            f"paired tables must cover the same photos: only in a: {only_a[:5]}"
            f"{' ...' if len(only_a) > 5 else ''}, only in b: {only_b[:5]}{' ...' if len(only_b) > 5 else ''}"
        )
    diff = (pa - pb.loc[pa.index]).to_numpy()[:, None]
    interval, stats = bootstrap(diff, lambda m: m[..., 0], seed, n_resamples, level)
    return PairedDiff(*interval, share_positive=float((stats > 0).mean()))


def with_intervals(
    row: Mapping,
    per_view: pd.DataFrame,
    columns: Mapping[str, str] | Sequence[str],
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
    level: float = LEVEL,
) -> dict:
    """A copy of a results row with `<key>_lo` and `<key>_hi` added for each key.

    `columns` maps a row key to the per-view column it summarises (`{"psnr_db": "psnr"}`); a plain
    list uses the same name for both. Also adds `n_photos`, the unit the interval resamples.
    """
    pairs = dict(columns) if isinstance(columns, Mapping) else {c: c for c in columns}
    out = dict(row)
    for key, column in pairs.items():
        interval = mean_ci(per_view, column, seed, n_resamples, level)
        out[f"{key}_lo"], out[f"{key}_hi"] = interval.lo, interval.hi
    out["n_photos"] = per_view["image"].astype(str).map(photo_of).nunique()
    return out


def format_interval(interval: Sequence[float], unit: str = "", digits: int = 2, signed: bool = False) -> str:
    """`(18.2, 17.9, 18.5)` -> `'18.20 dB [17.90, 18.50]'`; a NaN interval prints as `[n/a]`."""
    mean, lo, hi = interval[:3]
    sign = "+" if signed else ""
    unit = f" {unit}" if unit else ""
    if np.isnan(lo) or np.isnan(hi):
        return f"{mean:{sign}.{digits}f}{unit} [n/a]"
    return f"{mean:{sign}.{digits}f}{unit} [{lo:.{digits}f}, {hi:.{digits}f}]"
