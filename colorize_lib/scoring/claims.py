"""`judge()`: our per-view tables turned into verdicts on the paper's claims (`paper_claims`).

Each claim names what we measure and a test against a threshold or a band; the measurement comes with a
t interval over independent photo groups and training seeds (see stats.py), and the verdict follows
from where the interval lies:

- `held`: the whole interval is on the claimed side of the threshold, or inside the band;
- `not held`: the whole interval is on the other side, or wholly outside the band;
- `inconclusive`: the interval straddles the threshold or a band edge, or the sample is too small for
  any verdict: fewer than `MIN_GROUPS` independent photo groups (the smallest number at which the
  interval kept its level on every data shape bench/interval_coverage.py simulates), or fewer than
  `MIN_SEEDS` training seeds in an arm. Every claim compares what training recipes produce, and a recipe
  trained once cannot say what another seed would change: such an interval is narrower than the truth
  (with no real difference, one seed per arm at a seed sd of 0.1 dB made "skip connections help" hold a
  quarter of the time), so one seed gives no verdict, only its number;
- `not testable`: an input is missing; the claim is tied to the paper's resolution and our runs are at
  another; or the claim is about an absolute level of the authors' photos at the authors' settings
  (a PSNR figure, a range of PSNR, a loss level) and the run is not the paper profile on the paper's
  data. Our number is still shown beside the paper's.

A figure to reproduce is judged by equivalence, not containment: it is reproduced when our interval lies
inside a band of ±`EQUIVALENCE_DB` around it, not reproduced when the interval lies wholly outside, and
inconclusive when it straddles an edge, so a wide interval can never reproduce anything. Where the
paper's figure is the PSNR of the pooled MSE (the appendix), ours is that statistic too.

The claims table is a family of tests. Its family-wise error rate is held at 5% by Bonferroni: each of
the m comparisons that reach a verdict is judged with a (1 - 0.05/m) interval, shown in the `level`
column. A claim measured by several comparisons ("best of three") is held only if every comparison is,
not held if any is not, and inconclusive otherwise.

Facts of the method — the bin counts of the grid and the PSNR ceiling of a perfect bin classifier — are
not findings and get no verdict: notebook 08 tables them apart (`summary.grid_facts`).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..paper_claims import CLAIMS, Claim
from ..reference import AUTHORS_ARM, MODEL_LABELS
from .stats import LEVEL, Interval, Sample, difference, estimate, format_interval, mse_of, photo_of, pooled_psnr, sample

HELD, NOT_HELD, INCONCLUSIVE, NOT_TESTABLE = "held", "not held", "inconclusive", "not testable"
VERDICTS = (HELD, NOT_HELD, INCONCLUSIVE, NOT_TESTABLE)
COLUMNS = ["claim", "where", "paper", "ours", "n_groups", "n_seeds", "level", "verdict", "why"]

# Independent photo groups a verdict needs: the smallest n at which the interval's one-sided error stayed
# under twice the nominal 2.5% (plus the Monte Carlo error) on normal, gamma(2) and lognormal σ = 0.5 data
# with one seed, the worst case, where no seed variance widens it (bench/interval_coverage.py: 6.2-6.8% at
# 6 groups, at most 5.6% from 8 on; bench/RESULTS.md).
MIN_GROUPS = 8
MIN_SEEDS = 3  # training seeds each arm of a verdict needs, so that its interval carries the seed variance
SKEWNESS_LIMIT = 2.0  # |sample skewness| of the groups beyond which a verdict says its interval may undercover
FAMILY_ERROR = 0.05  # family-wise error rate of one claims table (Bonferroni)


class Measured(NamedTuple):
    """One thing a claim compares: a statistic of a sample over photo groups, or a fixed range."""

    label: str  # what it is, when a claim has several
    sample: Sample | None = None
    statistic: Callable[[np.ndarray], np.ndarray] | None = None
    fixed: Interval | None = None  # a range that is not an interval over photos (loss over epochs)


class NotTestable(Exception):
    """A claim cannot be measured from the inputs given; the message says why."""


@dataclass(frozen=True)
class _Inputs:
    models: Mapping[str, pd.DataFrame]
    resolutions: Mapping[str, int]
    alphas: Mapping[float, pd.DataFrame]
    classif_val_ce: Sequence[float] | None
    budget: Mapping[tuple[str, str], pd.DataFrame]

    def table(self, model: str, resolution: int | None) -> pd.DataFrame:
        if model not in self.models:
            raise NotTestable(f"no {MODEL_LABELS[model]} results")
        if resolution is not None:
            ours = self.resolutions.get(model)
            if ours is None:
                raise NotTestable(f"resolution of the {MODEL_LABELS[model]} run not given")
            if ours != resolution:
                raise NotTestable(f"tied to {resolution}² runs; {MODEL_LABELS[model]} ran at {ours}²")
        return self.models[model]


def judge(
    models: Mapping[str, pd.DataFrame | Sequence[pd.DataFrame]] | None = None,
    resolutions: Mapping[str, int] | None = None,
    alphas: Mapping[float, pd.DataFrame] | None = None,
    classif_val_ce: Sequence[float] | None = None,
    *,
    profile: str | None = None,
    data: str | None = None,
    groups: Mapping[str, str] | None = None,
    budget: Mapping[tuple[str, str], pd.DataFrame] | None = None,
    claims: Sequence[Claim] = CLAIMS,
    other_tests: int = 0,
) -> pd.DataFrame:
    """Verdicts on the paper's claims from our results: one row per claim, indexed by claim id.

    Inputs (leave out what a profile did not run; the claims that need it become not testable):
      models: model name ("baseline", "unet_rgb", "unet_lab", "unet_classif") -> its per-view table
        from `evaluate()` (columns image, psnr, colorfulness, true_colorfulness; optional group and
        seed), or a list of such tables, one per training seed.
      resolutions: model name -> the side length its table was evaluated at.
      alphas: α -> per-view table of U-Net RGB trained with that α (columns image, psnr, colorfulness).
      classif_val_ce: the classifier's validation weighted CE, one value per epoch.
      profile, data: the run's profile and data source; absolute claims are testable only for the
        paper profile on the paper's data (unknown: not testable).
      groups: photo -> photo group, for tables without a `group` column (default: each photo its own).
      budget: (model, arm) -> per-view table of a training-budget run (`budget_verdicts`).
      other_tests: comparisons judged elsewhere on the same page (the gap explanations), which join this
        table's family: each comparison is judged at 1 - FAMILY_ERROR / (tested here + other_tests).
    All tables must cover the same photos. Columns: see COLUMNS.
    """
    models = {name: _with_seeds(t) for name, t in (models or {}).items()}
    unknown = sorted(set(models) - set(MODEL_LABELS))
    if unknown:
        raise ValueError(f"models has unknown name(s) {unknown}; expected some of {list(MODEL_LABELS)}")
    tag = _grouper(groups)
    inputs = _Inputs(
        {k: tag(v) for k, v in models.items()},
        dict(resolutions or {}),
        {k: tag(v) for k, v in (alphas or {}).items()},
        classif_val_ce,
        {k: tag(v) for k, v in (budget or {}).items()},
    )
    measured = []
    for claim in claims:
        try:
            comparisons, blocked = _MEASURES[claim.measure](inputs, claim), None
        except NotTestable as reason:
            comparisons, blocked = [], str(reason)
        needs = claim.needs
        if blocked is None and claim.absolute and (profile, data) != (needs["profile"], needs["data"]):
            blocked = (
                f"an absolute level of {needs['what']}: testable only with PROFILE={needs['profile']} "
                f"DATA={needs['data']} (this run: profile {profile or 'not given'}, data {data or 'not given'})"
            )
        measured.append((claim, comparisons, blocked))
    tested = sum(
        1 for _, cs, blocked in measured if blocked is None for c in cs if c.fixed is None and enough(c.sample)
    )
    family = tested + other_tests
    level = 1 - FAMILY_ERROR / family if family else LEVEL
    rows = [_judge_one(claim, comparisons, blocked, level) for claim, comparisons, blocked in measured]
    table = pd.DataFrame(rows, index=pd.Index([c.id for c in claims], name="id"), columns=COLUMNS)
    table = table.astype({"n_groups": "Int64", "n_seeds": "Int64"})  # counts, empty where nothing was measured
    table.attrs.update(tested=tested, family=family, level=level)
    return table


def family_note(table: pd.DataFrame) -> str:
    """One line for the page: how many comparisons the claims table `judge` returned tested, at what level."""
    tested, level = table.attrs.get("tested", 0), table.attrs.get("level", LEVEL)
    if not tested:
        return (
            f"No comparison reached a test (each rests on fewer than {MIN_GROUPS} independent photo groups, or "
            "the claim is not testable here), so no verdict is held or not held; intervals shown are plain 95%."
        )
    family = table.attrs.get("family", tested)
    on_page = f" (with {family - tested} more on this page)" if family > tested else ""
    return (
        f"{tested} comparisons tested{on_page}; family-wise error held at {FAMILY_ERROR:.0%} by Bonferroni over "
        f"{family}: each is judged with a {level:.2%} interval (the level column)."
    )


def _with_seeds(tables: pd.DataFrame | Sequence[pd.DataFrame]) -> pd.DataFrame:
    if isinstance(tables, pd.DataFrame):
        return tables
    return pd.concat([t.assign(seed=i) for i, t in enumerate(tables)], ignore_index=True)


def _grouper(groups: Mapping[str, str] | None) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def tag(table: pd.DataFrame) -> pd.DataFrame:
        if groups is None or "group" in table.columns:
            return table
        photos = table["image"].astype(str).map(photo_of)
        return table.assign(group=photos.map(lambda p: groups.get(p, p)))

    return tag


def enough(data: Sample | None) -> bool:
    return data is not None and data.n_groups >= MIN_GROUPS and data.n_seeds >= MIN_SEEDS


def _judge_one(claim: Claim, comparisons: list[Measured], blocked: str | None, level: float) -> dict:
    row = {"claim": claim.text, "where": claim.where, "paper": claim.paper}
    samples = [c.sample for c in comparisons if c.sample is not None]
    n = {
        "n_groups": min((s.n_groups for s in samples), default=None),
        "n_seeds": min((s.n_seeds for s in samples), default=None),
    }
    if not comparisons:
        return row | n | {"ours": "—", "level": "", "verdict": NOT_TESTABLE, "why": _with_note(blocked, claim)}
    if blocked is not None:  # shown, not judged
        ours = _ours(comparisons, claim, LEVEL)
        level = "" if all(c.sample is None for c in comparisons) else "95%"  # a range over epochs has no level
        return row | n | {"ours": ours, "level": level, "verdict": NOT_TESTABLE, "why": _with_note(blocked, claim)}
    judged = [(c, *_verdict(c, claim, level)) for c in comparisons]
    verdicts = [v for _, v, _ in judged]
    verdict = NOT_HELD if NOT_HELD in verdicts else HELD if all(v == HELD for v in verdicts) else INCONCLUSIVE
    # Explain with the comparisons that decided the verdict.
    if verdict == HELD and len(judged) > 1:
        reasons = [f"all {len(judged)} {judged[0][2]}".replace("interval ", "intervals ", 1)]
    else:
        reasons = [f"{c.label}: {r}" if len(judged) > 1 else r for c, v, r in judged if v == verdict]
    small = any(c.sample is not None and not enough(c.sample) for c in comparisons)
    shown = level if not small and any(c.sample is not None for c in comparisons) else LEVEL
    skewed = [e for e in (_estimate(c, level) for c in comparisons) if e is not None and _skewed(e)]
    if skewed and verdict in (HELD, NOT_HELD):
        reasons.append(
            f"the photo groups' values are skewed (sample skewness {skewed[0].skewness:+.1f}): beyond the shapes "
            "on which the interval was checked, it may undercover"
        )
    return (
        row
        | n
        | {
            "ours": _ours(comparisons, claim, shown),
            "level": "" if all(c.sample is None for c in comparisons) else f"{shown:.2%}".replace(".00%", "%"),
            "verdict": verdict,
            "why": _with_note("; ".join(reasons), claim),
        }
    )


def _ours(comparisons: list[Measured], claim: Claim, level: float) -> str:
    many = len(comparisons) > 1
    return "; ".join((f"{c.label}: " if many else "") + _show(_interval(c, level), claim) for c in comparisons)


def _interval(c: Measured, level: float) -> Interval:
    if c.fixed is not None:
        return c.fixed
    return _estimate(c, level).interval


def _estimate(c: Measured, level: float):
    return None if c.sample is None else estimate(c.sample, c.statistic, level)


def _skewed(e) -> bool:
    """Groups as skewed as the heaviest shapes the interval was checked on (lognormal σ = 1, a 15% failure
    mixture; bench/interval_coverage.py), where its one-sided error grew past twice the nominal."""
    return e.n_groups >= MIN_GROUPS and abs(e.skewness) > SKEWNESS_LIMIT


def seeds_reason(n_seeds: int) -> str:
    """Why a comparison with too few training seeds gets no verdict."""
    seeds = "one training seed" if n_seeds == 1 else f"{n_seeds} training seeds"
    return (
        f"{seeds} per arm: a verdict on a training recipe needs at least {MIN_SEEDS}, so that its interval "
        "carries what another seed changes"
    )


def _show(interval: Interval, claim: Claim) -> str:
    # Differences and slopes carry their sign, so "+0.40 dB" reads as a gain.
    signed = claim.measure in ("gain", "below_truth", "alpha_gain", "alpha_pairs", "alpha_slope")
    return format_interval(interval, claim.unit if not claim.unit.startswith("per") else "", 2, signed)


def _with_note(why: str, claim: Claim) -> str:
    return f"{why}. {claim.note}" if claim.note else why


def _verdict(c: Measured, claim: Claim, level: float) -> tuple[str, str]:
    """One comparison against the claim's test: (verdict, reason)."""
    if c.sample is not None and c.sample.n_groups < MIN_GROUPS:
        photos = f" ({c.sample.n_photos} photos)" if c.sample.n_photos != c.sample.n_groups else ""
        return INCONCLUSIVE, (
            f"{c.sample.n_groups} independent test photo groups{photos}; a verdict needs at least {MIN_GROUPS}"
        )
    if c.sample is not None and c.sample.n_seeds < MIN_SEEDS:
        return INCONCLUSIVE, seeds_reason(c.sample.n_seeds)
    _, lo, hi = _interval(c, level)
    what = "range" if c.fixed is not None else "interval"
    unit = f" {claim.unit}" if claim.unit and not claim.unit.startswith("per") else ""
    if np.isnan(lo) or np.isnan(hi):
        return INCONCLUSIVE, "no interval"
    if claim.test == "within":
        a, b = claim.threshold
        band = f"[{a:g}, {b:g}]{unit}"
        if a <= lo and hi <= b:
            return HELD, f"{what} inside {band}"
        if hi < a or lo > b:
            return NOT_HELD, f"{what} wholly outside {band}"
        return INCONCLUSIVE, f"{what} straddles an edge of {band}"
    t = claim.threshold
    above = claim.test == "above"
    side = "above" if above else "below"
    if (lo > t) if above else (hi < t):
        return HELD, f"{what} wholly {side} {t:g}{unit}"
    if (hi <= t) if above else (lo >= t):
        return NOT_HELD, f"{what} not {side} {t:g}{unit}"
    return INCONCLUSIVE, f"{what} spans {t:g}{unit}"


# --- measures: (inputs, claim) -> comparisons, or NotTestable -----------------------------------


def _gain(inputs: _Inputs, claim: Claim) -> list[Measured]:
    p = claim.params
    table = inputs.table(p["model"], claim.resolution)
    others = {o: inputs.table(o, claim.resolution) for o in p["others"]}
    return [
        Measured(
            f"{MODEL_LABELS[p['model']]} − {MODEL_LABELS[o]}",
            sample([(table, p["metric"]), (t, p["metric"])]),
            difference,
        )
        for o, t in others.items()
    ]


def _below_truth(inputs: _Inputs, claim: Claim) -> list[Measured]:
    model = claim.params["model"]
    table = inputs.table(model, claim.resolution)
    return [
        Measured(f"{MODEL_LABELS[model]} − truth", sample([(table, ["colorfulness", "true_colorfulness"])]), difference)
    ]


def _alpha_sample(inputs: _Inputs, column: str, need: int = 2) -> tuple[Sample, np.ndarray]:
    """The α runs' tables as one sample (a column per α, in increasing α), and the α values."""
    if len(inputs.alphas) < need:
        raise NotTestable(f"needs at least {need} α runs, have {len(inputs.alphas)}")
    alphas = sorted(inputs.alphas)
    tables = [(mse_of(inputs.alphas[a]) if column == "mse" else inputs.alphas[a], column) for a in alphas]
    try:
        data = sample(tables)
    except ValueError as e:
        raise ValueError(f"the α tables must cover the same photos: {e}") from None
    return data, np.array(alphas, dtype=float)


def _pooled_difference(m: np.ndarray) -> np.ndarray:
    return pooled_psnr(m[..., 0]) - pooled_psnr(m[..., 1])


def _alpha_pairs(inputs: _Inputs, claim: Claim) -> list[Measured]:
    if len(inputs.alphas) < 2:
        raise NotTestable(f"needs at least 2 α runs, have {len(inputs.alphas)}")
    alphas = sorted(inputs.alphas)
    return [
        Measured(
            f"α={a:g} − α={b:g}",
            sample([(mse_of(inputs.alphas[a]), "mse"), (mse_of(inputs.alphas[b]), "mse")]),
            _pooled_difference,
        )
        for i, a in enumerate(alphas)
        for b in alphas[i + 1 :]
    ]


def _alpha_gain(inputs: _Inputs, claim: Claim) -> list[Measured]:
    best = claim.params["best"]
    if best not in inputs.alphas:
        raise NotTestable(f"no α = {best:g} run")
    if len(inputs.alphas) < 2:
        raise NotTestable("needs at least 2 α runs")
    return [
        Measured(
            f"α={best:g} − α={a:g}",
            sample([(mse_of(inputs.alphas[best]), "mse"), (mse_of(inputs.alphas[a]), "mse")]),
            _pooled_difference,
        )
        for a in sorted(inputs.alphas)
        if a != best
    ]


def _alpha_slope(inputs: _Inputs, claim: Claim) -> list[Measured]:
    data, alphas = _alpha_sample(inputs, "colorfulness")
    x = alphas - alphas.mean()

    def slope(m: np.ndarray) -> np.ndarray:
        return ((m - m.mean(axis=-1, keepdims=True)) * x).sum(axis=-1) / (x * x).sum()

    return [Measured("slope", data, slope)]


def _share_in_band(inputs: _Inputs, claim: Claim) -> list[Measured]:
    model, (a, b) = claim.params["model"], claim.params["band"]
    table = inputs.table(model, claim.resolution)
    # The paper's histogram is over whole images: use the whole views when the table has them.
    whole = table[table["image"].astype(str).str.endswith(":whole")]
    table = whole if len(whole) else table
    inside = table.assign(inside=table["psnr"].between(a, b).astype(float))
    return [Measured("share", sample([(inside, "inside")]))]


def _settled(inputs: _Inputs, claim: Claim) -> list[Measured]:
    last = claim.params["last"]
    ce = inputs.classif_val_ce
    if ce is None or len(ce) < last:
        raise NotTestable(f"needs the classifier's validation CE for at least {last} epochs")
    tail = np.asarray(ce[-last:], dtype=float)
    return [Measured(f"last {last} epochs", fixed=Interval(float(tail.mean()), float(tail.min()), float(tail.max())))]


def _level(table: pd.DataFrame, form: str, label: str) -> Measured:
    """Mean of per-view PSNR (`form` 'mean', Table 1's form) or PSNR of the pooled MSE ('pooled', the appendix's)."""
    if form == "pooled":
        return Measured(label, sample([(mse_of(table), "mse")]), lambda m: pooled_psnr(m[..., 0]))
    return Measured(label, sample([(table, "psnr")]))


def _model_level(inputs: _Inputs, claim: Claim) -> list[Measured]:
    model = claim.params["model"]
    return [_level(inputs.table(model, claim.resolution), claim.params["form"], MODEL_LABELS[model])]


def _budget(inputs: _Inputs, claim: Claim) -> list[Measured]:
    model, arm = claim.params["model"], claim.params["arm"]
    table = inputs.budget.get((model, arm))
    if table is None:
        how = " (make reproduce PROFILE=authors DATA=stl10 trains it)" if arm == AUTHORS_ARM else ""
        raise NotTestable(f"no {arm} run of {MODEL_LABELS[model]}{how}")
    return [_level(table, claim.params["form"], arm)]


_MEASURES: dict[str, Callable[[_Inputs, Claim], list[Measured]]] = {
    "gain": _gain,
    "below_truth": _below_truth,
    "alpha_pairs": _alpha_pairs,
    "alpha_gain": _alpha_gain,
    "alpha_slope": _alpha_slope,
    "share_in_band": _share_in_band,
    "settled": _settled,
    "model_level": _model_level,
    "budget": _budget,
}
