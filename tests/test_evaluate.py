"""Results rows: every metric for the model and for gray, intervals over photos, paired comparisons."""

import pytest

from colorize_lib.data import load_images
from colorize_lib.engine.config import make_config
from colorize_lib.engine.train import fit
from colorize_lib.scoring.evaluate import ROW_METRICS, compare, evaluate, gray_row, summary_row

pytestmark = pytest.mark.slow  # trains a model


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    config = make_config("unet_lab", "smoke", test_views=5, epochs=1)
    images = load_images(config)
    run = fit(config, images, tmp_path_factory.mktemp("run"), log=lambda *_: None)
    return run, images, evaluate(run, images)


def test_every_metric_for_model_and_gray_on_the_same_views(evaluated):
    run, images, per_image = evaluated
    assert len(per_image) == 5 * len(images.test_names)
    for column in ROW_METRICS.values():
        assert per_image[column].notna().all() and per_image[f"gray_{column}"].notna().all()
    assert (per_image["gray_colorfulness"] < per_image["true_colorfulness"]).all()  # gray has (almost) no colour


def test_rows_carry_intervals_over_photos_and_the_paired_gain_over_gray(evaluated):
    run, images, per_image = evaluated
    row, gray = summary_row(run, per_image), gray_row(per_image, run.config.resolution)
    for key in ROW_METRICS:
        for r in (row, gray):
            assert r[f"{key}_lo"] <= r[key] <= r[f"{key}_hi"], key
    assert row["n_photos"] == len(images.test_names) and row["n_test_views"] == len(per_image)
    assert row["delta_vs_gray_db"] == pytest.approx(row["psnr_db"] - row["gray_psnr_db"])
    assert row["delta_vs_gray_db_lo"] <= row["delta_vs_gray_db"] <= row["delta_vs_gray_db_hi"]
    same = compare(per_image, per_image, "a", "a")
    assert same["difference"] == same["difference_lo"] == same["difference_hi"] == 0.0


def test_seed_spread_is_over_seed_means():
    import math

    import pandas as pd

    from colorize_lib.scoring.evaluate import seed_spread

    tables = [pd.DataFrame({"image": ["a:whole", "b:whole"], "psnr": [p, p + 2]}) for p in (20.0, 21.0, 22.0)]
    spread = seed_spread(tables)
    assert spread == {"n_seeds": 3, "psnr_db_seed_mean": 22.0, "psnr_db_seed_std": 1.0}
    assert math.isnan(seed_spread(tables[:1])["psnr_db_seed_std"])


def test_temperature_sweep_decodes_one_field_classifier_at_every_temperature(tmp_path):
    from colorize_lib.engine.config import field_classifier_config
    from colorize_lib.scoring.evaluate import TEMPERATURES, temperature_sweep, with_decode

    config = field_classifier_config("smoke", epochs=1)
    images = load_images(config)
    run = fit(config, images, tmp_path / "run", log=lambda *_: None)
    assert run.model.out.out_channels == run.task.grid.n_bins < 300  # in-gamut classes only
    sweep = temperature_sweep(run, images)
    assert sweep["temperature"].tolist() == list(TEMPERATURES)
    assert sweep["decode"].tolist() == ["annealed_mean"] * 6 + ["argmax"]
    assert sweep[["psnr", "colorfulness", "colorfulness_gap", "deltaE00"]].notna().all().all()
    assert sweep["gray_psnr"].nunique() == 1
    # The argmax row is the run as trained (decode argmax); T = 0.38 is the annealed-mean readout.
    argmax = evaluate(run, images)["psnr"].mean()
    annealed = evaluate(with_decode(run, "annealed_mean"), images)["psnr"].mean()
    assert sweep["psnr"].iloc[-1] == pytest.approx(argmax)
    assert sweep.set_index("temperature").loc[0.38, "psnr"] == pytest.approx(annealed)
