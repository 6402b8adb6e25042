import numpy as np
import pandas as pd
import pytest

from colorize_lib.claims import (
    _MEASURES,
    CLAIMS,
    HELD,
    INCONCLUSIVE,
    NOT_HELD,
    NOT_TESTABLE,
    VERDICTS,
    judge,
)

N_PHOTOS = 40
_BASE = np.random.default_rng(0).normal(18.0, 2.0, N_PHOTOS)  # photo difficulty, shared by all models


def _table(
    shift: float = 0.0,
    noise: float = 0.2,
    colour: float = 20.0,
    true_colour: float = 30.0,
    seed: int = 1,
    views=("whole", "top-left"),
) -> pd.DataFrame:
    """A per-view table on the shared photos: PSNR = photo difficulty + shift + noise."""
    rng = np.random.default_rng(seed)
    rows = [
        (
            f"photo{i:02d}:{v}",
            b + shift + rng.normal(0, noise),
            colour + rng.normal(0, 2),
            true_colour + rng.normal(0, 2),
        )
        for i, b in enumerate(_BASE)
        for v in views
    ]
    return pd.DataFrame(rows, columns=["image", "psnr", "colorfulness", "true_colorfulness"])


def _verdict(claim_id: str, **inputs) -> str:
    out = judge(n_resamples=1000, **inputs)
    return out.loc[claim_id, "verdict"]


def test_claims_are_well_formed_data():
    ids = [c.id for c in CLAIMS]
    assert len(ids) == len(set(ids))
    for c in CLAIMS:
        assert c.measure in _MEASURES, c.id
        assert c.test in ("above", "below", "within"), c.id
        if c.test == "within":
            lo, hi = c.threshold
            assert lo <= hi, c.id
        assert c.text and c.where and c.measured, c.id


def test_output_has_one_row_per_claim_with_the_documented_columns():
    out = judge(n_resamples=200)  # nothing given: every claim is not testable, none crashes
    assert list(out.index) == [c.id for c in CLAIMS]
    assert list(out.columns) == ["claim", "where", "ours", "verdict", "why"]
    assert (out["verdict"] == NOT_TESTABLE).all()
    assert set(out["verdict"]) <= set(VERDICTS)


@pytest.mark.parametrize("gain, expected", [(2.0, HELD), (-1.0, NOT_HELD), (0.0, INCONCLUSIVE)])
def test_skip_connections_claim_follows_the_paired_gain(gain, expected):
    # Noise 1 dB per view on 40 photos: a zero gain gives an interval that spans 0.
    models = {"baseline": _table(0.0, noise=1.0, seed=1), "unet_rgb": _table(gain, noise=1.0, seed=2)}
    assert _verdict("skip_helps", models=models) == expected


def test_skip_connections_claim_is_not_testable_without_the_baseline():
    out = judge(models={"unet_rgb": _table()}, n_resamples=200)
    assert out.loc["skip_helps", "verdict"] == NOT_TESTABLE
    assert "CNN baseline" in out.loc["skip_helps", "why"]


@pytest.mark.parametrize(
    "gain, resolution, expected",
    [
        (2.3, 96, HELD),
        (5.0, 96, NOT_HELD),
        (1.3, 96, INCONCLUSIVE),
        (2.3, 64, NOT_TESTABLE),
    ],
)
def test_the_2p3_db_gain_needs_96_pixel_runs_and_a_gain_near_2p3(gain, resolution, expected):
    models = {"baseline": _table(0.0, seed=1), "unet_rgb": _table(gain, seed=2)}
    out = judge(models=models, resolutions={"baseline": resolution, "unet_rgb": resolution}, n_resamples=1000)
    assert out.loc["skip_gain_2p3", "verdict"] == expected
    if expected == NOT_TESTABLE:
        assert "96²" in out.loc["skip_gain_2p3", "why"] and "64²" in out.loc["skip_gain_2p3", "why"]


def test_resolution_bound_claim_is_not_testable_when_the_resolution_is_not_given():
    models = {"baseline": _table(0.0), "unet_rgb": _table(2.3)}
    out = judge(models=models, n_resamples=200)
    assert out.loc["skip_gain_2p3", "verdict"] == NOT_TESTABLE
    assert "resolution" in out.loc["skip_gain_2p3", "why"]
    assert out.loc["skip_helps", "verdict"] == HELD  # the relative claim needs no resolution


@pytest.mark.parametrize("shift, expected", [(-0.5, HELD), (-2.5, NOT_HELD), (-1.0, INCONCLUSIVE)])
def test_classifier_comparable_to_lab_within_one_db(shift, expected):
    models = {"unet_lab": _table(0.0, seed=3), "unet_classif": _table(shift, seed=4)}
    assert _verdict("classif_comparable", models=models) == expected


def test_best_of_several_fails_if_any_comparison_fails():
    models = {"baseline": _table(-2.0, seed=1), "unet_rgb": _table(1.0, seed=2), "unet_lab": _table(0.0, seed=3)}
    out = judge(models=models, n_resamples=1000)
    assert out.loc["lab_best_regression", "verdict"] == NOT_HELD
    assert "U-Net RGB" in out.loc["lab_best_regression", "why"]  # names the comparison that failed
    models["unet_rgb"] = _table(-1.0, seed=2)
    assert _verdict("lab_best_regression", models=models) == HELD


@pytest.mark.parametrize("colour, expected", [(10.0, HELD), (45.0, NOT_HELD), (30.0, INCONCLUSIVE)])
def test_baseline_desaturated_compares_with_the_true_photos(colour, expected):
    models = {"baseline": _table(colour=colour, true_colour=30.0)}
    assert _verdict("baseline_desaturated", models=models) == expected


def test_classifier_more_colourful_than_every_regression_model():
    models = {
        "baseline": _table(colour=10, seed=1),
        "unet_rgb": _table(colour=12, seed=2),
        "unet_lab": _table(colour=15, seed=3),
        "unet_classif": _table(colour=25, seed=4),
    }
    assert _verdict("classif_more_colourful", models=models) == HELD
    models["unet_lab"] = _table(colour=30, seed=3)
    assert _verdict("classif_more_colourful", models=models) == NOT_HELD


def test_a_single_photo_is_inconclusive_not_certain():
    one = dict(views=("whole", "top-left", "top-right"))
    models = {"baseline": _table(0.0, seed=1, **one).head(3), "unet_rgb": _table(3.0, seed=2, **one).head(3)}
    with pytest.warns(UserWarning, match="one photo"):
        out = judge(models=models, n_resamples=200)
    assert out.loc["skip_helps", "verdict"] == INCONCLUSIVE
    assert "n/a" in out.loc["skip_helps", "ours"] and "single photo" in out.loc["skip_helps", "why"]


def _alphas(psnr_shift: dict, colour: dict, noise: float = 0.05) -> dict:
    return {a: _table(psnr_shift[a], noise=noise, colour=colour[a], seed=10 + i) for i, a in enumerate(psnr_shift)}


def test_alpha_claims():
    alphas = [0.0, 0.3, 0.5, 0.7, 1.0]
    flat = _alphas({a: 0.0 for a in alphas}, {a: 20 - 8 * a for a in alphas})
    out = judge(alphas=flat, n_resamples=1000)
    assert out.loc["alpha_spread", "verdict"] == HELD  # all within a few hundredths of a dB
    assert out.loc["alpha_less_colourful", "verdict"] == HELD
    assert out.loc["alpha_half_best", "verdict"] == INCONCLUSIVE  # equal: the paired diffs span 0

    spread = _alphas({a: a for a in alphas}, {a: 10 + 8 * a for a in alphas})
    out = judge(alphas=spread, n_resamples=1000)
    assert out.loc["alpha_spread", "verdict"] == NOT_HELD
    assert out.loc["alpha_less_colourful", "verdict"] == NOT_HELD
    assert out.loc["alpha_half_best", "verdict"] == NOT_HELD  # 0.7 and 1 are higher

    peaked = _alphas({a: -abs(a - 0.5) for a in alphas}, {a: 20.0 for a in alphas})
    assert _verdict("alpha_half_best", alphas=peaked) == HELD

    without_half = {a: t for a, t in flat.items() if a != 0.5}
    out = judge(alphas={0.3: flat[0.3]}, n_resamples=200)
    assert out.loc["alpha_spread", "verdict"] == NOT_TESTABLE
    assert _verdict("alpha_half_best", alphas=without_half) == NOT_TESTABLE


def test_alpha_tables_on_different_photos_are_an_error():
    tables = {0.5: _table(), 0.7: _table().head(10)}
    with pytest.raises(ValueError, match="same photos"):
        judge(alphas=tables, n_resamples=200)


def test_bin_ceiling_must_fall_with_bin_size():
    finer = {5: _table(22.0, seed=1), 10: _table(17.0, seed=2), 15: _table(14.0, seed=3)}
    assert _verdict("bins_finer_ceiling", bin_ceilings=finer) == HELD
    mixed = {5: _table(14.0, seed=1), 10: _table(17.0, seed=2), 15: _table(14.0, seed=3)}
    assert _verdict("bins_finer_ceiling", bin_ceilings=mixed) == NOT_HELD
    assert _verdict("bins_finer_ceiling", bin_ceilings={10: finer[10]}) == NOT_TESTABLE


@pytest.mark.parametrize("classes, expected", [(196, HELD), (324, NOT_HELD), (None, NOT_TESTABLE)])
def test_class_count_at_b15(classes, expected):
    counts = {5: 2704, 10: 676} | ({15: classes} if classes else {})
    out = judge(bin_classes=counts, n_resamples=200)
    assert out.loc["bins_15_classes", "verdict"] == expected
    assert out.loc["bins_10_classes", "verdict"] == HELD
    if classes:
        assert out.loc["bins_15_classes", "ours"] == str(classes)


def test_most_images_in_17_21_db_reads_the_whole_views():
    # Whole views sit at 19 dB (inside), the crops at 25 dB (outside): only whole views count.
    table = _table(0.0)
    table["psnr"] = np.where(table["image"].str.endswith(":whole"), 19.0, 25.0)
    res = {"unet_classif": 512}
    assert _verdict("classif_17_21", models={"unet_classif": table}, resolutions=res) == HELD
    table["psnr"] = np.where(table["image"].str.endswith(":whole"), 25.0, 19.0)
    assert _verdict("classif_17_21", models={"unet_classif": table}, resolutions=res) == NOT_HELD
    assert _verdict("classif_17_21", models={"unet_classif": table}, resolutions={"unet_classif": 64}) == NOT_TESTABLE


@pytest.mark.parametrize(
    "curve, expected",
    [
        ([4.0, 3.5, 3.3, 3.4, 3.35], HELD),
        ([4.0, 3.0, 2.5, 2.4, 2.45], NOT_HELD),
        ([4.0, 3.8, 3.6, 3.5, 3.4], INCONCLUSIVE),
        ([3.4, 3.3], NOT_TESTABLE),
        (None, NOT_TESTABLE),
    ],
)
def test_classifier_validation_ce_settles_near_3p35(curve, expected):
    assert _verdict("classif_val_ce", classif_val_ce=curve) == expected


def test_the_papers_two_unet_rgb_figures_cannot_both_hold():
    for level, held, other in ((13.5, "unet_rgb_13p5", "unet_rgb_22p9"), (22.9, "unet_rgb_22p9", "unet_rgb_13p5")):
        t = _table(0.0)
        t["psnr"] = t["psnr"] - np.repeat(_BASE, 2) + level  # each view: `level` plus noise
        out = judge(models={"unet_rgb": t}, resolutions={"unet_rgb": 96}, n_resamples=1000)
        assert out.loc[held, "verdict"] == HELD
        assert out.loc[other, "verdict"] == NOT_HELD


def test_unknown_model_name_is_an_error():
    with pytest.raises(ValueError, match=r"unknown name\(s\) \['unet'\]"):
        judge(models={"unet": _table()})


def _views(values, photos=("p1", "p2", "p3", "p4")):
    import pandas as pd

    return pd.DataFrame({"image": [f"{p}:whole" for p in photos], "psnr": values})


def test_budget_verdicts_cover_held_not_held_and_missing_runs():
    from colorize_lib.claims import HELD, INCONCLUSIVE, NOT_HELD, NOT_TESTABLE, budget_verdicts

    tables = {
        ("baseline", "stated (paper)"): _views([11.0, 11.1, 11.3, 11.4]),  # contains 11.2
        ("unet_rgb", "stated (paper)"): _views([20.0, 20.5, 21.0, 21.5]),  # misses 13.5
    }
    v = budget_verdicts(tables, "paper").set_index("claim")["verdict"].tolist()
    assert v == [HELD, NOT_HELD, NOT_TESTABLE]
    tables[("unet_rgb", "long")] = _views([23.0, 23.5, 24.0, 24.5])
    out = budget_verdicts(tables, "bundled")
    assert out["verdict"].iloc[2] == HELD and "not the authors' photos" in out["why"].iloc[2]
    tables[("unet_rgb", "long")] = _views([22.0, 22.5, 23.5, 24.0])  # spans 22.92
    assert budget_verdicts(tables, "paper")["verdict"].iloc[2] == INCONCLUSIVE


def test_budget_claims_name_arms_the_experiment_trains():
    from colorize_lib.claims import BUDGET_CLAIMS
    from colorize_lib.config import BUDGET_ARMS

    assert {c.params["arm"] for c in BUDGET_CLAIMS} <= set(BUDGET_ARMS)
