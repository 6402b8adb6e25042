"""The training-budget experiment's verdicts (notebooks 06 and 08): its claims judged as `claims.judge`
judges, and the three explanations of the 9 dB between Table 1's U-Net RGB and the appendix's."""

from collections.abc import Mapping

import pandas as pd

from ..paper_claims import BUDGET_CLAIMS, EQUIVALENCE_DB, GAP_ARMS
from ..reference import AUTHORS_ARM, PAPER_ALPHA_PSNR, PAPER_PSNR
from .claims import FAMILY_ERROR, HELD, INCONCLUSIVE, MIN_GROUPS, MIN_SEEDS, NOT_HELD, enough, judge, seeds_reason
from .stats import difference, estimate, format_interval, sample

_APPENDIX_RGB = PAPER_ALPHA_PSNR[0.7]


def budget_verdicts(
    per_view: Mapping[tuple[str, str], pd.DataFrame], data: str, profile: str | None = None, other_tests: int = 0
) -> pd.DataFrame:
    """Verdicts of the training-budget experiment from per-view tables keyed by (model, arm), arm as
    `config.BUDGET_ARMS` names it, judged as `judge()` judges, in one family with `other_tests` more."""
    return judge(budget=per_view, data=data, profile=profile, claims=BUDGET_CLAIMS, other_tests=other_tests)


SUPPORTED, NOT_SUPPORTED, NOT_MADE = "supported", "not supported", "not made"


def gap_tests(per_view: Mapping[tuple[str, str], pd.DataFrame]) -> int:
    """How many paired comparisons `explain_gap` will test on these runs (for the page's family)."""
    stated = per_view.get(("unet_rgb", "stated (paper)"))
    if stated is None:
        return 0
    count = 0
    for _, arm in GAP_ARMS:
        other = per_view.get(("unet_rgb", arm))
        if other is not None and enough(sample([(other, "psnr"), (stated, "psnr")])):
            count += 1
    return count


def explain_gap(
    per_view: Mapping[tuple[str, str], pd.DataFrame], verdicts: pd.DataFrame, level: float | None = None
) -> pd.DataFrame:
    """One row per explanation of U-Net RGB's 13.5 dB (Table 1) against 22.9 dB (appendix): the step budget
    (long − stated) and the learning rate (lr 1e-3 − stated), paired on the same test photos, each interval
    at 1 − FAMILY_ERROR / 2 (Bonferroni over the two, as `judge` controls a claims table): supported when
    the whole interval is a gain, not supported when it excludes a gain of EQUIVALENCE_DB (a tenth of the
    gap), else inconclusive; and the data, the notebook's recipe on STL-10, as the budget claim
    `budget_notebook_stl10` judged it (not made until that run exists). `level`: the page's family level
    instead (`gap_tests` counts what these add to it). Fewer than MIN_SEEDS seeds per arm: inconclusive."""
    gap = _APPENDIX_RGB - PAPER_PSNR["unet_rgb"]
    stated = per_view.get(("unet_rgb", "stated (paper)"))
    arms = GAP_ARMS
    level = level if level is not None else 1 - FAMILY_ERROR / len(arms)
    rows = []
    for name, arm in arms:
        other = per_view.get(("unet_rgb", arm))
        row = dict(explanation=name, evidence=f"U-Net RGB, {arm} − stated (paper), paired")
        if stated is None or other is None:
            rows.append(dict(row, ours="—", share_of_gap=None, verdict=NOT_MADE, why=f"no {arm} or stated run"))
            continue
        d = estimate(sample([(other, "psnr"), (stated, "psnr")]), difference, level)
        verdict = SUPPORTED if d.lo > 0 else NOT_SUPPORTED if d.hi < EQUIVALENCE_DB else INCONCLUSIVE
        why = f"{d.n_groups} photo groups, {level:.1%} interval; the gap is {gap:.1f} dB"
        if d.n_groups < MIN_GROUPS:
            verdict, why = INCONCLUSIVE, f"{why}; a verdict needs at least {MIN_GROUPS} photo groups"
        elif d.n_seeds < MIN_SEEDS:
            verdict, why = INCONCLUSIVE, f"{why}; {seeds_reason(d.n_seeds)}"
        ours = format_interval((d.mean, d.lo, d.hi), "dB", signed=True)
        rows.append(dict(row, ours=ours, share_of_gap=d.mean / gap, verdict=verdict, why=why))
    data = verdicts.loc["budget_notebook_stl10"] if "budget_notebook_stl10" in verdicts.index else None
    verdict = {HELD: SUPPORTED, NOT_HELD: NOT_SUPPORTED, INCONCLUSIVE: INCONCLUSIVE}.get(
        None if data is None else data["verdict"], NOT_MADE
    )
    rows.append(
        dict(
            explanation="data (STL-10, the notebook's recipe)",
            evidence=f"U-Net RGB, {AUTHORS_ARM}, pooled PSNR against {_APPENDIX_RGB} dB ± {EQUIVALENCE_DB:g}",
            ours="—" if data is None else data["ours"],
            share_of_gap=None,
            verdict=verdict,
            why="no budget verdicts" if data is None else data["why"],
        )
    )
    return pd.DataFrame(rows)
