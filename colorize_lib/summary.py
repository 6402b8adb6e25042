"""The steps of the summary (notebook 08), one call each: Table 1 gathered from notebooks 02–05, the
comparisons the paper makes, the regression curves, the four models side by side (paper Fig. 4), the
schedule of every run, the paper's claims judged, the facts of the bin grid, and one photo colorized at
full size. Nothing trains here: the runs are reloaded."""

from dataclasses import dataclass

import pandas as pd
import torch

from .data import load_images
from .data.cache import ImageSet
from .data.crops import test_views
from .engine.config import NOTEBOOK_OF, study_configs
from .engine.inference import Run
from .engine.train import load_run
from .model.metrics import gray_prediction
from .model.quantize import ABGrid
from .paper_claims import BUDGET_CLAIMS, page_claims
from .photos import colorize_photo
from .plots import image_grid, plot_curves, plot_forest, save_figure
from .reference import MODEL_LABELS, PAPER_N_BINS
from .reports import load_config, load_table, save_table
from .scoring import budget as judged
from .scoring.claims import family_note, judge
from .scoring.evaluate import RESULT_COLUMNS, compare, predict
from .scoring.stats import estimate, sample

TABLE1 = ("baseline", "unet_rgb", "unet_lab", "unet_classif")  # the models of Table 1, in its order


def _table1_rows() -> pd.DataFrame:
    """Every column of notebooks 02–05's results rows: each model's row, then each resolution's gray row once."""
    tables = [load_table(NOTEBOOK_OF[m]) for m in TABLE1]
    models = pd.concat([t[t.experiment != "gray"] for t in tables])
    grays = pd.concat([t[t.experiment == "gray"] for t in tables]).drop_duplicates(subset=["resolution", "psnr_db"])
    return pd.concat([models, grays]).reset_index(drop=True)


def table1() -> pd.DataFrame:
    """Table 1 from the results tables of notebooks 02–05: each model's row, then the gray row of each
    resolution once; saved as `table1`."""
    table = _table1_rows()[RESULT_COLUMNS + ["paper_resolution", "n_test_views", "run"]]
    save_table(table, "table1")
    return table


def table1_figure():
    """Table 1 at a glance: each model's PSNR and ΔE00 with its interval, gray's line, the paper's cross;
    saved as `08_table1` (the index page shows it too)."""
    fig = plot_forest(_table1_rows(), title="Table 1: ours with 95% intervals over test photo groups")
    save_figure(fig, "08_table1")
    return fig


def per_image_tables() -> dict[str, pd.DataFrame]:
    """Model -> its per-view scores (every seed) as notebooks 02–05 saved them."""
    return {m: load_table(f"{NOTEBOOK_OF[m]}_per_image") for m in TABLE1}


# The comparisons the paper makes, shown with p-values on page 08: tests of the page's one family.
PAPER_COMPARISONS = (
    ("unet_rgb", "baseline", "psnr"),
    ("unet_lab", "unet_classif", "psnr"),
    ("unet_classif", "unet_lab", "colorfulness"),
)


@dataclass
class PageVerdicts:
    """Every test page 08 shows, judged as one family (Bonferroni over `family` comparisons at `level`):
    the paper's claims, the training budget's, the gap explanations and the paper's comparisons."""

    claims: pd.DataFrame
    budget: pd.DataFrame
    explanations: pd.DataFrame
    family: int
    level: float
    note: str


def page_verdicts(per_image: dict[str, pd.DataFrame], profile: str, data: str) -> PageVerdicts:
    """The paper's claims and the training budget's judged in one call (`paper_claims.page_claims`: each test
    once), with the gap explanations and PAPER_COMPARISONS counted into the same family; saved as `claims`,
    `08_budget_verdicts` and `08_gap_explanations`."""
    budget = budget_tables()
    others = judged.gap_tests(budget) + len(PAPER_COMPARISONS)
    table = judge(
        models=per_image,
        resolutions={m: int(load_table(NOTEBOOK_OF[m])["resolution"].iloc[0]) for m in TABLE1},
        alphas={a: t for a, t in load_table("06_alpha_ablation_per_image").groupby("alpha")},
        classif_val_ce=load_table("05_classification_history")["test_loss"].tolist(),
        profile=profile,
        data=data,
        budget=budget,
        claims=page_claims(),
        other_tests=others,
    )
    family, level = table.attrs["family"], table.attrs["level"]
    explanations = judged.explain_gap(budget, table, level=level)
    budget_ids = [c.id for c in BUDGET_CLAIMS if c.id in table.index]
    claims, verdicts = table.drop(index=budget_ids), table.loc[budget_ids]
    save_table(claims.reset_index(), "claims")
    save_table(verdicts.reset_index(), "08_budget_verdicts")
    save_table(explanations, "08_gap_explanations")
    return PageVerdicts(claims, verdicts, explanations, family, level, family_note(table))


def budget_tables() -> dict[tuple[str, str], pd.DataFrame]:
    """(model, arm) -> the per-view scores (every seed) of notebook 06's training-budget runs."""
    table = load_table("06_training_budget_per_image")
    return {(m, a): t.drop(columns=["model", "arm"]) for (m, a), t in table.groupby(["model", "arm"])}


def paper_comparisons(per_image: dict[str, pd.DataFrame], page: PageVerdicts) -> pd.DataFrame:
    """The comparisons the paper makes, paired on the same photos: U-Net RGB vs baseline and LAB vs the
    classifier in PSNR, the classifier vs LAB in colourfulness, each read at the page's family level
    (interval and Bonferroni-adjusted p-value); saved as `table1_comparisons`."""
    rows = [
        compare(per_image[a], per_image[b], MODEL_LABELS[a], MODEL_LABELS[b], column=c, family=page.family)
        for a, b, c in PAPER_COMPARISONS
    ]
    table = pd.DataFrame(rows)
    save_table(table, "table1_comparisons")
    return table


def regression_curves(name: str):
    """Training loss and test PSNR per epoch of the three regression models (paper Fig. 2); saved."""
    histories = {m: load_table(f"{NOTEBOOK_OF[m]}_history") for m in TABLE1 if m != "unet_classif"}
    fig = plot_curves(histories, ["train_loss", "test_psnr"], ["train loss", "test PSNR (dB)"])
    save_figure(fig, name)
    return fig


def trained_runs() -> tuple[dict[str, Run], ImageSet]:
    """The four Table 1 runs, reloaded (nothing trains), and their photos at the largest image size."""
    runs = {m: load_run(load_config(m)) for m in TABLE1}
    first = runs["baseline"].config
    return runs, load_images(first.replace(image_size=max(r.config.image_size for r in runs.values())))


def four_models(name: str, runs: dict[str, Run], images: ImageSet, n: int = 4):
    """The four models on the same first `n` test photos, each at its own resolution, with gray and the
    truth (paper Fig. 4); saved."""
    rows = {}
    for model, run in runs.items():
        truth = test_views(images.test, run.config.resolution, 1).cpu()[:n]
        rows[f"{model} ({run.config.resolution}²)"] = predict(run, truth)
    rows["gray (a=b=0)"] = gray_prediction(truth)
    rows["truth"] = truth
    fig = image_grid(rows, images.test_names[:n])
    save_figure(fig, name)
    return fig


def schedules(profile: str, data: str, seeds: int | None = None) -> pd.DataFrame:
    """The schedule of every distinct run of the study, each training seed a row (resolution, batch,
    epochs, Adam steps, lr); saved as `schedules`."""
    table = pd.DataFrame(
        [
            dict(
                run=c.name,
                seed=c.seed,
                model=c.model,
                resolution=c.resolution,
                batch=c.batch_size,
                epochs=c.epochs,
                adam_steps=c.adam_steps,
                lr=c.lr,
            )
            for c in study_configs(profile, data, seeds=seeds)
        ]
    )
    save_table(table, "schedules")
    return table


def grid_facts(ceilings: pd.DataFrame | None = None) -> pd.DataFrame:
    """Facts of the bin grid, no verdicts: per bin size, our grid's classes, the paper's count, and the PSNR
    ceiling of a perfect bin classifier (each true colour snapped to its bin centre) on the test views, with
    its 95% interval; saved. `ceilings`: per-view table with columns bin_size and ceiling_psnr (default:
    notebook 07's)."""
    ceilings = load_table("07_bin_ablation_per_image") if ceilings is None else ceilings
    rows = []
    for b, views in ceilings.groupby("bin_size"):
        est = estimate(sample([(views.assign(psnr=views["ceiling_psnr"]), "psnr")]))
        rows.append(
            dict(
                bin_size=int(b),
                n_bins=ABGrid(int(b)).n_bins,
                paper_n_bins=PAPER_N_BINS.get(int(b)),
                ceiling_psnr_db=est.mean,
                ceiling_psnr_db_lo=est.lo,
                ceiling_psnr_db_hi=est.hi,
                n_groups=est.n_groups,
            )
        )
    table = pd.DataFrame(rows)
    save_table(table, "grid_facts")
    return table


def colorize_demo(name: str, runs: dict[str, Run], images: ImageSet):
    """The first test photo at its full cached size through each model, the way `python -m colorize_lib
    colorize` does it (the model's chroma upsampled onto the photo's own L); saved."""
    photo = images.test[0].permute(1, 2, 0).cpu().numpy()  # (S, S, 3) uint8
    panels = {}
    for model, run in runs.items():
        colour, gray = colorize_photo(run, photo)
        panels[f"{model} ({run.config.resolution}² in)"] = colour
    panels = {"gray input": gray, **panels, "original": photo}
    demo = torch.stack([torch.from_numpy(p).permute(2, 0, 1).float() / 255 for p in panels.values()])
    fig = image_grid({f"{photo.shape[1]}x{photo.shape[0]}": demo}, list(panels), size=3.0)
    save_figure(fig, name)
    return fig
