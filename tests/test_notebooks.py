"""Every notebook runs headless under papermill on the smoke profile and writes what it promises."""

import json

import pandas as pd
import papermill
import pytest

from colorize_lib.paths import NOTEBOOKS_DIR

pytestmark = pytest.mark.slow  # runs every notebook through papermill

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def test_the_eight_notebooks_exist():
    assert [p.stem[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07", "08"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_clean_with_profile_and_data_parameters(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)
    params = papermill.inspect_notebook(str(path))
    assert {"profile", "data"} <= set(params)
    assert params["profile"]["default"] == '"cpu"' and params["profile"]["inferred_type_name"] == "str"


# `smoke_run` (conftest.py): the folder of the smoke `make reproduce` that tests/test_reproduce_progress.py
# interrupts and completes, started in the background when collection ends; these tests only read it.


def test_smoke_run_writes_table1_with_gray_row_and_paper_figures(smoke_run):
    table1 = pd.read_csv(smoke_run / "reports" / "tables" / "table1.csv")
    assert table1["model"].tolist() == [
        "CNN baseline",
        "U-Net RGB",
        "U-Net LAB",
        "U-Net classification",
        "Gray (a=b=0)",
    ]
    assert table1["paper_psnr_db"].tolist()[:4] == [11.2, 13.5, 19.0, 18.2]
    assert table1["psnr_db"].notna().all() and (table1["psnr_db"] > 0).all()
    gray = table1.iloc[-1]
    assert gray["psnr_db"] == pytest.approx(gray["gray_psnr_db"])
    # Every model row is compared to the gray baseline on the same views.
    assert (table1["gray_psnr_db"].iloc[:4] == gray["gray_psnr_db"]).all()


def test_smoke_run_writes_every_experiments_results(smoke_run):
    tables = smoke_run / "reports" / "tables"
    for nb in ("02_baseline_cnn", "03_unet_rgb", "04_unet_lab", "05_classification"):
        summary = pd.read_csv(tables / f"{nb}.csv")
        assert summary["model"].iloc[-1] == "Gray (a=b=0)"
        history = pd.read_csv(tables / f"{nb}_history.csv")
        assert history["epoch"].tolist() == [1, 2]
        assert {"train_loss", "test_loss", "test_psnr", "seconds", "images_per_s"} <= set(history)
    alpha = pd.read_csv(tables / "06_alpha_ablation.csv")
    assert alpha["alpha"].dropna().tolist() == [0.0, 0.3, 0.5, 0.7, 1.0]
    assert alpha.loc[alpha["alpha"] == 0.5, "paper_psnr_db"].item() == 22.94
    bins = pd.read_csv(tables / "07_bin_ablation.csv")
    assert bins["n_bins"].dropna().astype(int).tolist() == [2704, 676, 324]
    assert bins["paper_n_bins"].dropna().astype(int).tolist() == [2704, 676, 196]
    assert (bins["ceiling_psnr_db"].dropna() > 25).all()
    ab = pd.read_csv(tables / "01_ab_bins.csv")
    assert len(ab) == 676 and ab["frequency"].sum() == pytest.approx(1.0)


def test_smoke_run_writes_figures_and_run_info(smoke_run):
    reports = smoke_run / "reports"
    figures = {p.name for p in (reports / "figures").glob("*.png")}
    for name in (
        "01_samples.png",
        "01_ab_histogram.png",
        "05_classification_psnr_histogram.png",
        "05_classification_ce.png",
        "05_classification_temperature.png",
        "05_classification_field_samples.png",
        "06_alpha_ablation_psnr.png",
        "08_four_models.png",
        "08_colorize_demo.png",
        "08_table1.png",
        "06_alpha_ablation_forest.png",
        "07_bin_ablation_forest.png",
    ):
        assert name in figures
    infos = [json.loads(p.read_text()) for p in (reports / "runs").glob("*.run.json")]
    assert sorted(i["notebook"] for i in infos) == [p.stem for p in NOTEBOOKS]
    assert all(i["profile"] == "smoke" and i["device"].startswith("cpu") for i in infos)
    # Every notebook that trains or reloads models says in which precision (engine/precision.py).
    assert all(i["precision"].split()[0] in ("bf16", "float32") for i in infos if i["notebook"] != "01_data")


def test_index_page_links_results_with_how_they_ran(smoke_run):
    from colorize_tools.index import build_index

    reports = smoke_run / "reports"
    page = build_index(reports).read_text()
    assert "profile <b>smoke</b>" in page and "data <b>bundled</b>" in page and "device <b>cpu" in page
    assert "<h2>Table 1</h2>" in page and "Gray (a=b=0)" in page and "U-Net classification" in page
    assert "href='02_baseline_cnn.html'" in page and "href='tables/table1.csv'" in page
    assert "src='figures/08_four_models.png'" in page
    assert "The paper's claims, judged" in page


def test_training_budget_table_and_figure(smoke_run):
    budget = pd.read_csv(smoke_run / "reports" / "tables" / "06_training_budget.csv")
    assert sorted(set(budget["arm"])) == ["long", "published lr 1e-3", "stated (paper)"]
    assert budget["model"].value_counts().to_dict() == {"CNN baseline": 3, "U-Net RGB": 3}
    stated = budget[budget["arm"] == "stated (paper)"]
    assert (stated["steps"] == 2 * 2).all() and (stated["lr"] == 1e-4).all()  # smoke: 2 epochs of 2 steps
    assert budget[["final_psnr_db", "final_psnr_pooled_db", "gray_psnr_db"]].notna().all().all()
    assert (smoke_run / "reports" / "figures" / "06_training_budget_psnr_vs_steps.png").exists()


# Every table with a row per trained model: each says how that model's checkpoint was chosen.
RESULTS_TABLES = (
    "02_baseline_cnn",
    "03_unet_rgb",
    "04_unet_lab",
    "05_classification",
    "05_classification_decoding",
    "05_classification_field",
    "06_alpha_ablation",
    "06_training_budget",
    "07_bin_ablation",
    "table1",
)


def test_every_results_table_says_how_its_checkpoints_were_chosen_never_by_test(smoke_run):
    tables = smoke_run / "reports" / "tables"
    for name in RESULTS_TABLES:
        table = pd.read_csv(tables / f"{name}.csv")
        models = table[~table["model"].str.startswith("Gray")]
        assert "selected_by" in table, name
        # The bundled photos have 6 training groups, too few to spare a validation split: final epoch.
        assert set(models["selected_by"]) == {"final epoch"}, name
    for name in ("02_baseline_cnn", "05_classification"):
        history = pd.read_csv(tables / f"{name}_history.csv")
        table = pd.read_csv(tables / f"{name}.csv")
        assert "val_psnr" not in history and table["selected_epoch"].iloc[0] == history["epoch"].max()


def test_claims_on_the_bundled_photos_hold_or_fail_nothing(smoke_run):
    """Two test photos are below the photo groups a verdict needs: nothing is held or not held."""
    from colorize_lib.scoring.claims import MIN_GROUPS

    tables = smoke_run / "reports" / "tables"
    claims = pd.read_csv(tables / "claims.csv").set_index("id")
    assert set(claims["verdict"]) <= {"inconclusive", "not testable"}
    assert claims.loc["skip_helps", "verdict"] == "inconclusive" and claims.loc["skip_helps", "n_groups"] == 2
    assert f"a verdict needs at least {MIN_GROUPS}" in claims.loc["skip_helps", "why"]
    assert claims.loc["unet_rgb_13p5", "verdict"] == "not testable"
    budget = pd.read_csv(tables / "06_training_budget_verdicts.csv")
    assert (budget["verdict"] == "not testable").all()
    explanations = pd.read_csv(tables / "06_training_budget_explanations.csv")
    assert explanations["verdict"].tolist() == ["inconclusive", "inconclusive", "not made"]  # 2 test photos, no STL-10
    assert explanations["explanation"].tolist()[:2] == ["step budget", "learning rate"]
    facts = pd.read_csv(tables / "grid_facts.csv")
    assert facts["n_bins"].tolist() == [2704, 676, 324] and "verdict" not in facts


def test_each_distinct_experiment_trains_once(smoke_run):
    # 4 main models + alphas 0, 0.3, 0.5, 1 (0.7 is 03's U-Net RGB) + bins 5, 15 (10 is 05's classifier):
    # 10 runs for the 12 rows; + the training-budget arms (stated and long per model; the smoke
    # profile's lr 1e-3 arm is the Table 1 run) + 05's field classifier.
    runs = [p for p in (smoke_run / "data" / "checkpoints").iterdir() if (p / "selected.pt").exists()]
    assert len(runs) == 10 + 4 + 1, sorted(p.name for p in runs)
    tables = smoke_run / "reports" / "tables"
    classif = pd.read_csv(tables / "05_classification.csv").iloc[0]
    b10 = pd.read_csv(tables / "07_bin_ablation.csv").set_index("bin_size").loc[10]
    assert b10["run"] == classif["run"] and b10["psnr_db"] == classif["psnr_db"]
    rgb = pd.read_csv(tables / "03_unet_rgb.csv").iloc[0]
    a07 = pd.read_csv(tables / "06_alpha_ablation.csv").set_index("alpha").loc[0.7]
    assert a07["run"] == rgb["run"] and a07["psnr_db"] == rgb["psnr_db"]


def test_field_classifier_against_the_paper_and_its_temperature_sweep(smoke_run):
    tables = smoke_run / "reports" / "tables"
    recipes = pd.read_csv(tables / "05_classification_field.csv")
    assert recipes["experiment"].tolist() == ["unet_classif"] * 2 + ["unet_classif-field"] * 2 + ["gray"]
    assert recipes["run"].iloc[0] != recipes["run"].iloc[2]
    for column in ("psnr_db", "colorfulness_gap", "deltaE00"):
        assert (recipes[f"{column}_lo"] <= recipes[column]).all() and (recipes[column] <= recipes[f"{column}_hi"]).all()
    sweep = pd.read_csv(tables / "05_classification_temperature.csv")
    assert sorted(sweep["experiment"].unique()) == ["unet_classif", "unet_classif-field"]
    assert len(sweep) == 14 and sweep["psnr"].notna().all()


def test_tables_carry_intervals_over_photos_and_claims_get_verdicts(smoke_run):
    from colorize_lib.scoring.claims import VERDICTS

    tables = smoke_run / "reports" / "tables"
    table1 = pd.read_csv(tables / "table1.csv")
    for column in ("psnr_db_lo", "psnr_db_hi", "delta_vs_gray_db_lo", "ssim", "deltaE00", "auc"):
        assert column in table1
    models = table1.iloc[:4]
    # Intervals resample photos: the classifier's row counts its 2 test photos, not its views.
    assert (models["n_photos"] == 2).all()
    for name in ("06_alpha_ablation", "07_bin_ablation"):
        assert {"psnr_db_lo", "psnr_db_hi"} <= set(pd.read_csv(tables / f"{name}.csv"))
    claims = pd.read_csv(tables / "claims.csv")
    assert len(claims) >= 12 and set(claims["verdict"]) <= set(VERDICTS)
    assert {"claim", "where", "ours", "verdict", "why"} <= set(claims)


def test_no_report_of_a_clean_run_shows_a_stderr_block(smoke_run):
    reports = smoke_run / "reports"
    for notebook in sorted((reports / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        outputs = [o for c in json.loads(notebook.read_text())["cells"] for o in c.get("outputs", [])]
        stderr = ["".join(o["text"]) for o in outputs if o["output_type"] == "stream" and o["name"] == "stderr"]
        assert stderr == [], f"{notebook.name}: {stderr}"
        page = (reports / f"{notebook.stem}.html").read_text()
        assert 'data-mime-type="application/vnd.jupyter.stderr"' not in page, notebook.stem


# The results tables each report shows (tables.show), by the CSV each is saved as.
SHOWN_TABLES = {
    "02_baseline_cnn": ["02_baseline_cnn"],
    "03_unet_rgb": ["03_unet_rgb"],
    "04_unet_lab": ["04_unet_lab"],
    "05_classification": [
        "05_classification",
        "05_classification_decoding",
        "05_classification_field",
        "05_classification_temperature",
    ],
    "06_alpha_ablation": [
        "06_alpha_ablation",
        "06_alpha_comparisons",
        "06_training_budget",
        "06_training_budget_verdicts",
        "06_training_budget_explanations",
    ],
    "07_bin_ablation": ["07_bin_ablation", "07_bin_comparisons"],
    "08_summary": [
        "table1",
        "table1_comparisons",
        "claims",
        "08_budget_verdicts",
        "08_gap_explanations",
        "grid_facts",
        "schedules",
        "06_alpha_ablation",
    ],
}


def test_every_results_table_is_on_its_page_whole(smoke_run):
    """Each results CSV's columns are all headers of the report's tables (an interval's bounds and a seed
    spread under the mean they belong to), and no table is folded into pandas' "…" column."""
    import re

    reports = smoke_run / "reports"
    for notebook, tables in SHOWN_TABLES.items():
        page = (reports / f"{notebook}.html").read_text()
        cells = re.findall(r"<th[^>]*>(.*?)</th>", page, re.S)
        headers = {re.sub(r"<[^>]+>", "", h).strip().split(" ")[0] for h in cells}
        for table in tables:
            for column in pd.read_csv(reports / "tables" / f"{table}.csv").columns:
                owner = re.sub(r"_seed_std$", "_seed_mean", re.sub(r"_(lo|hi)$", "", column))
                assert column in headers or owner in headers, (notebook, table, column)
        assert not re.search(r"<t[dh][^>]*>\s*(…|\.\.\.)\s*</t[dh]>", page) and "rows × " not in page, notebook
