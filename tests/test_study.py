"""The notebooks' vocabulary (`study`, the chapters, `summary`) on tiny inputs: an ablation's configs, a sweep's table
and its saved files, the pairwise comparisons, a Table 1 notebook's results, the schedule table."""

import pandas as pd
import pytest

from colorize_lib import ablation, study, summary, table1, training_budget
from colorize_lib.paths import TABLES_DIR


def test_the_schedule_counts_each_distinct_run_once_with_its_adam_steps():
    table = summary.schedules("smoke", "bundled")
    assert table["run"].is_unique and {"baseline", "unet_lab", "unet_classif-field"} <= set(table["run"])
    # Smoke: 2 epochs of 8 crops at batch 4 for the Table 1 runs.
    assert table.set_index("run").loc["baseline", "adam_steps"] == 2 * 2
    assert (TABLES_DIR / "schedules.csv").exists()


def test_an_ablation_names_its_runs_by_the_setting():
    configs, images = ablation.start("bin_ablation", [5, 15], "smoke", "bundled", epochs=1)
    assert [c.name for c in configs] == ["bin_ablation-b5", "bin_ablation-b15"]
    assert [c.bin_size for c in configs] == [5, 15] and all(c.epochs == 1 for c in configs)
    assert len(images.test_names) == 2


@pytest.mark.slow  # trains two tiny runs
def test_a_sweep_writes_its_table_with_the_gray_row_and_compares_each_value():
    configs, images = ablation.start("alpha_ablation", [0.5, 1.0], "smoke", "bundled", epochs=1)
    result = ablation.sweep("test_alpha", configs, images, "U-Net RGB, α = {}", extra=ablation.alpha_extra)
    table = result.table
    assert table["model"].tolist() == ["U-Net RGB, α = 0.5", "U-Net RGB, α = 1", "Gray (a=b=0)"]
    assert table["alpha"].iloc[:2].tolist() == [0.5, 1.0] and table["paper_psnr_db"].iloc[:2].tolist() == [22.94, 22.89]
    assert set(table["selected_by"].iloc[:2]) == {"final epoch"}
    assert list(result.histories) == ["α = 0.5", "α = 1"] and set(result.per_image) == {0.5, 1.0}
    for name in ("test_alpha", "test_alpha_history", "test_alpha_per_image"):
        assert (TABLES_DIR / f"{name}.csv").exists()
    assert pd.read_csv(TABLES_DIR / "test_alpha_per_image.csv")["alpha"].nunique() == 2
    versus = ablation.versus("test_alpha_versus", result, 0.5)
    assert versus["comparison"].tolist() == ["α = 1 − α = 0.5"] and "p_value_adjusted" in versus


@pytest.mark.slow  # trains a tiny run
def test_a_table1_notebook_saves_every_seed_and_the_gray_row():
    config, images = study.start("baseline", "smoke", "bundled", epochs=1)
    runs = study.train(config, images, [0, 1])
    table, per_image = table1.results("test_baseline", runs, images)
    assert table["model"].tolist() == ["CNN baseline", "Gray (a=b=0)"] and table["n_seeds"].iloc[0] == 2
    saved = pd.read_csv(TABLES_DIR / "test_baseline_per_image.csv")
    assert sorted(saved["seed"].unique()) == [0, 1] and set(per_image["seed"]) == {0}
    assert {"group", "psnr", "gray_psnr"} <= set(saved.columns)


@pytest.mark.slow  # trains the smoke budget arms and one stand-in run of the authors' arm
def test_the_budget_reads_the_authors_arm_from_its_own_data_when_it_was_trained(tmp_path, monkeypatch, capsys):
    # The real arm is the authors profile on STL-10 (hours of GPU); its plumbing is the same for a smoke
    # U-Net RGB on the STL-10 stand-in: found by its finished run folder, scored on its own test photos.
    from stl10_standin import standin_from_bundled

    from colorize_lib.engine.config import make_config
    from colorize_lib.engine.train import fit
    from colorize_lib.reference import AUTHORS_ARM

    standin = f"stl10:{standin_from_bundled(tmp_path / 'stl10')}"
    arm = make_config("unet_rgb", "smoke", standin, epochs=1)
    monkeypatch.setattr(training_budget, "authors_arm_configs", lambda seed=0: [arm])
    stated = training_budget.budget_configs("smoke", "bundled", epochs=1)[:1]  # one arm of the study's own: enough here
    monkeypatch.setattr(training_budget, "budget_configs", lambda *args, **kwargs: stated)
    _, images = ablation.start("alpha_ablation", [0.7], "smoke", "bundled", epochs=1)

    before = training_budget.run("test_budget", "smoke", "bundled", images)
    assert AUTHORS_ARM not in set(before.table["arm"]) and "make reproduce PROFILE=authors" in capsys.readouterr().out
    fit(arm)
    after = training_budget.run("test_budget", "smoke", "bundled", images)
    row = after.table.set_index("arm").loc[AUTHORS_ARM]
    assert row["data"] == standin and row["experiment"] == "unet_rgb"
    scores = after.per_image["unet_rgb", AUTHORS_ARM]
    assert len(scores) == 10 and scores["image"].str.startswith("test/").all()  # the stand-in's 10 test photos
    assert set(after.table.loc[after.table["arm"] != AUTHORS_ARM, "data"]) == {"bundled"}
