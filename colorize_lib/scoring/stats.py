"""Intervals over independent photo groups (and training seeds), for the per-view tables `evaluate()` makes.

A table has one row per test *view* (`astronaut:whole`, `astronaut:top-left`, ...), and may carry a
`group` column (the photo group the split used: a stereo pair or near-duplicates are one group) and a
`seed` column (the training seed of the run that made the row). The unit of independence is the
group: the views of a photo are averaged first, then the photos of a group, and a group counts once
however many photos it holds (its weight in the mean is its number of photos, so the point estimate
stays the mean over photos). Without a `group` column each photo is its own group.

The interval is studentized: a jackknife standard error (leave one group out at a time, recompute the
statistic, read its spread; for the plain mean of n groups this is the textbook s/√n), and for the
quantiles of (statistic − estimate) / standard error a bootstrap over photo groups (bootstrap-t, Efron &
Tibshirani ch. 12.5): `RESAMPLES` resamples of the groups, each with its own jackknife standard error. Where
per-photo gains are skewed (most photos gain a little, a few lose a lot), the t quantiles' symmetric
interval misses on the long side far more often than its level says; the bootstrap-t's own quantiles
follow the skew. bench/interval_coverage.py prints the one-sided error of both, per data shape (normal,
gamma(2), lognormal, a failure mixture, each mirrored), number of groups and seeds, and
tests/test_stats.py asserts it per shape. Below `BOOTSTRAP_FROM` groups there is too little to resample
and the t interval is used; no verdict rests on so few (claims.MIN_GROUPS).

Seeds and groups are crossed sources of variation. When a table has several training seeds, a
delete-one-seed jackknife gives the seed part of the standard error, with a t quantile on its seeds − 1
degrees of freedom; the two parts' half-widths add in quadrature on each side (the method of variance
estimates recovery, Zou & Donner 2008), so a difference that one seed could erase gets a wide interval.
A p-value is read off the same interval: the level at which it first excludes the null.
With a single group there is nothing to learn the spread from: the interval is NaN (printed
"n/a") and a warning is issued, rather than lo = hi = mean, which would read as perfect certainty.
"""

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

# The t distribution from scipy.special: the same functions scipy.stats.t calls, without importing
# scipy.stats (half a second in every notebook kernel).
from scipy.special import stdtrit

LEVEL = 0.95  # coverage of a single interval
RESAMPLES = 10_000  # bootstrap resamples of the groups: enough for the 0.1% tails a claims table's level needs
BOOTSTRAP_FROM = 6  # groups; fewer: the t interval (too few distinct resamples to learn a distribution from)
_SEED = 20261204  # the resamples are fixed: the same data always give the same interval


class Interval(NamedTuple):
    mean: float
    lo: float
    hi: float


class PairedDiff(NamedTuple):
    """Mean of a - b over photos, its interval, and the two-sided p-value of 'no difference'."""

    mean: float
    lo: float
    hi: float
    p_value: float


@dataclass(frozen=True)
class Estimate:
    """A statistic with its interval, standard error and the sample behind it. `se` adds the group and seed
    parts (`se_groups`, `se_seeds`); `df` is the Welch–Satterthwaite degrees of freedom of the t reference
    used below BOOTSTRAP_FROM groups; `t_star` the bootstrap-t draws of the group part (empty: t reference);
    `skewness` the sample skewness of the groups' jackknife pseudo-values (a skewed statistic's groups)."""

    mean: float
    lo: float
    hi: float
    se: float
    df: float
    n_groups: int
    n_photos: int
    n_seeds: int  # the fewest seeds of any table it used (1: seed variance not covered)
    level: float
    se_groups: float = float("nan")
    se_seeds: float = 0.0
    df_seeds: float = float("inf")
    skewness: float = float("nan")
    t_star: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False, compare=False)

    @property
    def interval(self) -> Interval:
        return Interval(self.mean, self.lo, self.hi)

    def bounds(self, level: float) -> tuple[float, float]:
        """The interval at another `level`, from the same standard errors and bootstrap draws."""
        return _bounds(self.mean, self.se_groups, self.se_seeds, self.df_seeds, self.df, self.t_star, level)

    def p_value(self, null: float = 0.0) -> float:
        """Two-sided p-value of 'the statistic equals `null`': one minus the level at which the interval
        first excludes `null` (so p < 1 - level exactly when the interval at `level` excludes it)."""
        if not np.isfinite(self.se) or self.n_groups < 2:
            return float("nan")
        if self.se == 0:
            return 0.0 if self.mean != null else 1.0
        if self.mean == null:
            return 1.0
        side = 0 if null < self.mean else 1  # the bound that moves towards the null as the level grows
        lo, hi = 0.0, 1.0 - 1e-12  # levels: at `lo` the interval excludes the null, at `hi` it does not
        if (self.bounds(hi)[side] > null) if side == 0 else (self.bounds(hi)[side] < null):
            return 1.0 - hi
        for _ in range(40):
            mid = (lo + hi) / 2
            bound = self.bounds(mid)[side]
            excludes = bound > null if side == 0 else bound < null
            lo, hi = (mid, hi) if excludes else (lo, mid)
        return 1.0 - lo


def photo_of(view: str) -> str:
    """`'astronaut:top-left'` -> `'astronaut'`; a name without ':' is its own photo."""
    return view.rsplit(":", 1)[0]


def _check_table(per_view: pd.DataFrame, cols: list[str]) -> None:
    if not isinstance(per_view, pd.DataFrame) or "image" not in per_view.columns:
        raise ValueError("per_view must be a DataFrame with an 'image' column of view names like 'photo:whole'")
    missing = [c for c in cols if c not in per_view.columns]
    if missing:
        raise ValueError(f"per_view has no column(s) {missing}; it has {list(per_view.columns)}")
    if len(per_view) == 0:
        raise ValueError("per_view is empty: no views to average")
    bad = per_view.loc[per_view[cols].astype(float).isna().any(axis=1), "image"].tolist()
    if bad:
        raise ValueError(f"column(s) {cols} have NaN for view(s) {bad[:5]}; expected a number for every view")


def per_photo(per_view: pd.DataFrame, columns: str | Sequence[str]) -> pd.DataFrame:
    """Mean of each column over the views (and seeds) of each photo: one row per photo, sorted by photo."""
    cols = [columns] if isinstance(columns, str) else list(columns)
    _check_table(per_view, cols)
    photos = per_view["image"].astype(str).map(photo_of)
    return per_view[cols].astype(float).groupby(photos.to_numpy()).mean().sort_index()


def photo_groups(per_view: pd.DataFrame) -> pd.Series:
    """Photo -> its group (the `group` column; without one, each photo is its own group), sorted by photo.
    A photo listed in two groups is an error."""
    photos = per_view["image"].astype(str).map(photo_of)
    if "group" not in per_view.columns:
        return pd.Series(photos.unique(), index=photos.unique()).sort_index()
    pairs = pd.DataFrame({"photo": photos.to_numpy(), "group": per_view["group"].astype(str).to_numpy()})
    pairs = pairs.drop_duplicates()
    twice = pairs["photo"][pairs["photo"].duplicated()].tolist()
    if twice:
        raise ValueError(f"photo(s) {twice[:5]} appear in more than one group of the 'group' column")
    return pairs.set_index("photo")["group"].sort_index()


@dataclass(frozen=True)
class Sample:
    """Per-group means of the requested columns: one array (seeds, groups, columns) per table, groups in
    the same order in every table, and each group's number of photos (its weight)."""

    parts: tuple[np.ndarray, ...]
    weights: np.ndarray
    groups: tuple[str, ...]

    @property
    def n_groups(self) -> int:
        return len(self.groups)

    @property
    def n_photos(self) -> int:
        return int(self.weights.sum())

    @property
    def n_seeds(self) -> int:
        return min(p.shape[0] for p in self.parts)


def sample(tables: Sequence[tuple[pd.DataFrame, str | Sequence[str]]]) -> Sample:
    """The group means of columns of one or more per-view tables that cover the same photos (e.g. two
    models, or a model and its gray column), ready for `estimate`. The columns of all tables, in order,
    are the statistic's input."""
    if not tables:
        raise ValueError("sample needs at least one (table, columns) pair")
    parts, reference = [], None
    for i, (table, columns) in enumerate(tables):
        cols = [columns] if isinstance(columns, str) else list(columns)
        _check_table(table, cols)
        groups = photo_groups(table)
        if reference is None:
            reference = groups
        elif list(groups.index) != list(reference.index):
            only_here = sorted(set(groups.index) - set(reference.index))
            only_first = sorted(set(reference.index) - set(groups.index))
            raise ValueError(
                f"tables must cover the same photos: only in table {i}: {only_here[:5]}"
                f"{' ...' if len(only_here) > 5 else ''}, only in table 0: {only_first[:5]}"
                f"{' ...' if len(only_first) > 5 else ''}"
            )
        elif not groups.equals(reference):
            raise ValueError(f"table {i} puts photos in other groups than table 0")
        seeds = table["seed"] if "seed" in table.columns else pd.Series(0, index=table.index)
        per_seed = [per_photo(table[seeds == s], cols) for s in sorted(seeds.unique())]
        for s, frame in zip(sorted(seeds.unique()), per_seed):
            if list(frame.index) != list(reference.index):
                raise ValueError(f"table {i}: seed {s} does not cover every photo of the table")
        parts.append(np.stack([_group_means(f, reference)[0] for f in per_seed]))
    _, weights, names = _group_means(per_photo(tables[0][0], tables[0][1]), reference)
    return Sample(tuple(parts), weights, names)


def _group_means(photo_means: pd.DataFrame, groups: pd.Series) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    grouped = photo_means.groupby(groups.loc[photo_means.index].to_numpy())
    return grouped.mean().to_numpy(), grouped.size().to_numpy().astype(float), tuple(grouped.mean().index)


def _column_means(parts: Sequence[np.ndarray], weights: np.ndarray) -> np.ndarray:
    """(k,) photo-weighted means over groups, averaged over each table's seeds, tables concatenated."""
    return np.concatenate([(p * weights[:, None]).sum(axis=1).mean(axis=0) / weights.sum() for p in parts])


def estimate(
    data: Sample, statistic: Callable[[np.ndarray], np.ndarray] | None = None, level: float = LEVEL
) -> Estimate:
    """The statistic of the column means (identity on a single column when None) with its interval.

    `statistic` maps column means (..., k) to (...), over any leading dimensions. The standard error adds
    a delete-one-group jackknife and, per table with several seeds, a delete-one-seed jackknife; the
    group part's quantiles come from the bootstrap-t over groups (t on g - 1 degrees of freedom below
    BOOTSTRAP_FROM groups), the seed part's from t (see the module docstring). NaN interval, with a
    warning, below two groups.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    if statistic is None:
        if sum(p.shape[2] for p in data.parts) != 1:
            raise ValueError("a statistic is needed for a sample of several columns")
        statistic = _first
    w, parts = data.weights, data.parts
    point = float(statistic(_column_means(parts, w)))
    g = data.n_groups
    if g < 2:
        warnings.warn("only one photo group: no interval (reported as NaN)", stacklevel=2)
        nan = float("nan")
        return Estimate(point, nan, nan, nan, nan, g, data.n_photos, data.n_seeds, level)
    # Leave group j out of every table at once: (g, k) column means.
    sums = [(p * w[:, None]).sum(axis=1) for p in parts]  # (seeds, k) per table
    left_out = np.concatenate(
        [((s[:, None, :] - p * w[:, None]) / (w.sum() - w)[:, None]).mean(axis=0) for s, p in zip(sums, parts)],
        axis=1,
    )
    components = [(_jackknife_var(np.asarray(statistic(left_out), dtype=float)), g - 1)]
    # Leave seed s of one table out, the other tables as they are.
    full = _column_means(parts, w)
    offset = 0
    for p in parts:
        k, n_seeds = p.shape[2], p.shape[0]
        if n_seeds > 1:
            per_seed = (p * w[:, None]).sum(axis=1) / w.sum()  # (seeds, k)
            without = (per_seed.sum(axis=0) - per_seed) / (n_seeds - 1)
            means = np.repeat(full[None], n_seeds, axis=0)
            means[:, offset : offset + k] = without
            components.append((_jackknife_var(np.asarray(statistic(means), dtype=float)), n_seeds - 1))
        offset += k
    var_groups, var_seeds = components[0][0], sum(v for v, _ in components[1:])
    var = var_groups + var_seeds
    se = float(np.sqrt(var))
    df = float(var**2 / sum(v**2 / d for v, d in components if v > 0)) if var > 0 else float(g - 1)
    seed_parts = [(v, d) for v, d in components[1:] if v > 0]
    df_seeds = float(var_seeds**2 / sum(v**2 / d for v, d in seed_parts)) if seed_parts else float("inf")
    by_group = np.concatenate([p.mean(axis=0) for p in parts], axis=1)  # (g, k): each group over its seeds
    resample = g >= BOOTSTRAP_FROM and var_groups > 0
    t_star = _bootstrap_t(by_group, w, statistic, point) if resample else np.empty(0)
    se_groups, se_seeds = float(np.sqrt(var_groups)), float(np.sqrt(var_seeds))
    lo, hi = _bounds(point, se_groups, se_seeds, df_seeds, df, t_star, level)
    return Estimate(
        point,
        lo,
        hi,
        se,
        df,
        g,
        data.n_photos,
        data.n_seeds,
        level,
        se_groups,
        se_seeds,
        df_seeds,
        _pseudo_skewness(np.asarray(statistic(left_out), dtype=float)),
        t_star,
    )


def _bootstrap_t(means: np.ndarray, w: np.ndarray, statistic, point: float, chunk: int = 500) -> np.ndarray:
    """(statistic* - point) / se* over RESAMPLES resamples of the g groups (rows of `means`, weights `w`), each
    se* the resample's own delete-one-group jackknife; resamples whose se* is 0 (every group alike) dropped."""
    g = len(w)
    rng = np.random.default_rng(_SEED)
    out = []
    for start in range(0, RESAMPLES, chunk):
        idx = rng.integers(0, g, (min(chunk, RESAMPLES - start), g))
        wb = w[idx]  # (B, g)
        weighted = (means * w[:, None])[idx]  # (B, g, k): each drawn group's weighted means
        sums, total = weighted.sum(axis=1), wb.sum(axis=1)  # (B, k), (B,)
        stat = np.asarray(statistic(sums / total[:, None]), dtype=float)  # (B,)
        loo = np.asarray(
            statistic((sums[:, None, :] - weighted) / (total[:, None] - wb)[..., None]), dtype=float
        )  # (B, g)
        se = np.sqrt((g - 1) / g * ((loo - loo.mean(axis=1, keepdims=True)) ** 2).sum(axis=1))
        keep = se > 1e-12 * max(1.0, abs(point))
        out.append((stat[keep] - point) / se[keep])
    return np.concatenate(out)


def _bounds(point, se_groups, se_seeds, df_seeds, df, t_star, level) -> tuple[float, float]:
    """lo, hi at `level`: the group part's bootstrap-t (or, without draws, t on `df`) half-widths on each side,
    each joined in quadrature with the seed part's t half-width on its `df_seeds` degrees of freedom."""
    a = (1 - level) / 2
    if len(t_star) == 0:  # too few groups to resample: the Welch t interval over groups and seeds together
        half = float(stdtrit(df, 1 - a)) * float(np.hypot(se_groups, se_seeds))
        return point - half, point + half
    q_lo, q_hi = np.quantile(t_star, [a, 1 - a])
    seeds = float(stdtrit(df_seeds, 1 - a)) * se_seeds if se_seeds > 0 else 0.0
    below, above = max(q_hi, 0.0) * se_groups, max(-q_lo, 0.0) * se_groups
    return point - float(np.hypot(below, seeds)), point + float(np.hypot(above, seeds))


def _pseudo_skewness(left_out: np.ndarray) -> float:
    """Sample skewness of the jackknife pseudo-values (for a mean, the group values themselves)."""
    n = len(left_out)
    if n < 3:
        return float("nan")
    pseudo = n * left_out.mean() - (n - 1) * left_out
    sd = pseudo.std(ddof=1)
    return float(((pseudo - pseudo.mean()) ** 3).mean() / sd**3) if sd > 0 else 0.0


def _first(m: np.ndarray) -> np.ndarray:
    return m[..., 0]


def _jackknife_var(values: np.ndarray) -> float:
    n = len(values)
    return float((n - 1) / n * ((values - values.mean()) ** 2).sum())


def difference(m: np.ndarray) -> np.ndarray:
    """Column 0 minus column 1."""
    return m[..., 0] - m[..., 1]


def mse_of(per_view: pd.DataFrame, column: str = "psnr") -> pd.DataFrame:
    """A copy with `mse` = the per-view MSE behind `column` (PSNR with MAX = 1), for pooled statistics."""
    return per_view.assign(mse=10.0 ** (-per_view[column].astype(float) / 10.0))


def pooled_psnr(mse: np.ndarray) -> np.ndarray:
    """PSNR (MAX = 1) of a mean MSE: the authors' form, 10·log10(1 / mean MSE)."""
    return -10.0 * np.log10(mse)


def mean_ci(per_view: pd.DataFrame, column: str, level: float = LEVEL) -> Interval:
    """Mean of `column` over photos (each photo = the mean of its views and seeds) and its t interval over
    groups (and seeds). Equals the plain mean over views when every photo has the same number of views."""
    return estimate(sample([(per_view, column)]), level=level).interval


def paired_diff_ci(
    a: pd.DataFrame, b: pd.DataFrame, column: str, column_b: str | None = None, level: float = LEVEL
) -> PairedDiff:
    """Mean over photos of a[column] - b[column_b or column], paired by photo group, with its interval and
    the p-value of no difference. Both tables must cover the same photos (their views may differ); a
    ValueError names the photos found in only one of them."""
    pair = [(a, [column, column_b])] if a is b and column_b else [(a, column), (b, column_b or column)]
    est = estimate(sample(pair), difference, level)
    return PairedDiff(est.mean, est.lo, est.hi, est.p_value())


def with_intervals(
    row: Mapping, per_view: pd.DataFrame, columns: Mapping[str, str] | Sequence[str], level: float = LEVEL
) -> dict:
    """A copy of a results row with `<key>_lo` and `<key>_hi` added for each key.

    `columns` maps a row key to the per-view column it summarises (`{"psnr_db": "psnr"}`); a plain
    list uses the same name for both. Also adds `n_photos` and `n_groups` (the unit the interval counts).
    """
    pairs = dict(columns) if isinstance(columns, Mapping) else {c: c for c in columns}
    out = dict(row)
    data = None
    for key, column in pairs.items():
        data = sample([(per_view, column)])
        interval = estimate(data, level=level)
        out[f"{key}_lo"], out[f"{key}_hi"] = interval.lo, interval.hi
    if data is not None:
        out["n_photos"], out["n_groups"] = data.n_photos, data.n_groups
    return out


def places_for(values: Sequence[float], places: int, most: int = 6) -> int:
    """`places` decimals, or more (up to `most`) until every nonzero value shows a nonzero digit: a bound of
    0.0004 must not print as 0.00, which would hide which side of zero it lies on."""
    for v in values:
        if np.isfinite(v) and v != 0:
            while places < most and round(abs(float(v)), places) == 0:
                places += 1
    return places


def format_interval(interval: Sequence[float], unit: str = "", digits: int = 2, signed: bool = False) -> str:
    """`(18.2, 17.9, 18.5)` -> `'18.20 dB [17.90, 18.50]'`, with more digits where a bound would round to
    zero (`places_for`); `signed`: every number carries its sign (`'+0.40 dB [+0.0004, +0.80]'`). A NaN
    interval prints as `[n/a]`."""
    mean, lo, hi = interval[:3]
    sign = "+" if signed else ""
    unit = f" {unit}" if unit else ""
    if np.isnan(lo) or np.isnan(hi):
        return f"{mean:{sign}.{digits}f}{unit} [n/a]"
    d = places_for((lo, hi), digits)
    return f"{mean:{sign}.{d}f}{unit} [{lo:{sign}.{d}f}, {hi:{sign}.{d}f}]"


def format_p(p: float) -> str:
    """A p-value as a page shows it: three decimals, '< 0.001' below that (never '0.000')."""
    if p is None or not np.isfinite(p):
        return ""
    return "< 0.001" if p < 0.001 else f"{p:.3f}"
