"""The steps the notebooks take, one call each, so that every notebook reads like the paper's method
section and no two share code:

- a Table 1 model (02–05): start (config, seed, device, photos), train (one run per seed), results
  (evaluate, the table with gray and the paper, saved), curves, samples, look_closer (a before/after
  slider per test photo), finish (provenance);
- the classifier's read-outs (05): its figures, decodings, the field's recipe, the temperature sweep;
- an ablation (06, 07): one run per value of a setting, its table with the gray row, the pairwise
  comparisons, and the training-budget arms;
(The summary's steps, notebook 08, are in `summary`.)

Every step returns what it made, and the notebook shows it in its own cell; nothing is hidden.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from .compare import Comparison
from .data import load_images
from .data.cache import ImageSet
from .data.crops import test_views
from .engine.config import ExperimentConfig, authors_arm_configs, budget_configs, make_config, training_seeds
from .engine.device import describe_device, describe_precision, pick_device, setup
from .engine.train import Run, finished_run_dir, fit, load_run
from .model.metrics import gray_prediction
from .model.quantize import ABGrid
from .plots import image_grid, plot_curves, plot_forest, plot_psnr_histogram, plot_temperature_sweep, save_figure
from .reference import AUTHORS_ARM, PAPER_ALPHA_PSNR, PAPER_CLASSIF_VAL_CE, PAPER_N_BINS, PAPER_PSNR, PAPER_STEPS
from .reports import save_config, save_experiment, save_table, write_run_info
from .scoring import claims as paper_claims
from .scoring.evaluate import (
    bin_ceiling_psnr,
    budget_row,
    compare,
    evaluate,
    gray_row,
    predict,
    seed_spread,
    summary_row,
    temperature_sweep,
    with_decode,
)


def start(
    experiment: str, profile: str, data: str, seed: int = 0, device: str = "auto", **overrides
) -> tuple[ExperimentConfig, ImageSet]:
    """The profile's config for `experiment` with the notebook's overrides (None keeps the profile's),
    every RNG seeded, the device picked (printed), and the photos it trains and tests on."""
    config = make_config(experiment, profile, data, seed=seed, device=device, **overrides)
    device = setup(config.seed, device=config.device)
    print(f"{describe_device(device)}; {describe_precision(device, config.amp)}")
    return config, load_images(config)


def train(config: ExperimentConfig, images: ImageSet, seeds: list[int] | None = None) -> list[Run]:
    """One run per training seed (`seeds`, or the profile's: three from the config's on the cpu profile, see
    `experiments.training_seeds`); the photo split stays the config's. A run that exists is resumed or
    reloaded, never trained twice."""
    return [fit(config.replace(seed=s), images) for s in training_seeds(config, seeds)]


def results(notebook: str, runs: list[Run], images: ImageSet) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The model's results row over all its seeds (every metric's mean over seeds and photos, with its
    interval over photo groups and seeds; the gain over gray; the mean ± standard deviation of the seeds'
    PSNR) and the gray row, saved with the per-view scores of every seed (column `seed`: the claims read
    them all) and the first run's history under the notebook's name; returns (table, the first run's
    per-view scores)."""
    per_seed = [evaluate(r, images) for r in runs]
    row = summary_row(runs[0], pd.concat(per_seed, ignore_index=True))
    row.update(seed_spread(per_seed), n_test_views=len(per_seed[0]))
    table = pd.DataFrame([row, gray_row(per_seed[0], runs[0].config.resolution)])
    save_experiment(notebook, runs[0].config, table, pd.concat(per_seed, ignore_index=True), runs[0].history)
    return table, per_seed[0]


def curves(notebook: str, label: str, run: Run, per_image: pd.DataFrame):
    """Training loss, test loss and PSNR per epoch (paper Fig. 2), gray's PSNR on the test views dashed. The
    validation PSNR, when there is a validation split, is what chose the checkpoint; the test curve is shown
    for reading only and chose nothing."""
    columns, titles = ["train_loss", "test_loss"], ["train loss", "test loss"]
    if "val_psnr" in run.history:
        columns, titles = columns + ["val_psnr"], titles + ["validation PSNR (dB), chooses the checkpoint"]
    fig = plot_curves(
        {label: run.history},
        columns + ["test_psnr"],
        titles + ["test PSNR (dB), per epoch, not used to choose"],
        reference={"test_psnr": per_image["gray_psnr"].mean()},
    )
    save_figure(fig, f"{notebook}_curves")
    return fig


def samples(name: str, runs: dict[str, Run], images: ImageSet, n: int = 6):
    """The first `n` test photos: truth, the gray input, and each run's colorization, one row each."""
    resolution = next(iter(runs.values())).config.resolution
    truth = test_views(images.test, resolution, 1).cpu()[:n]
    rows = {"truth": truth, "gray input": gray_prediction(truth)}
    rows.update({label: predict(run, truth) for label, run in runs.items()})
    fig = image_grid(rows, images.test_names[:n])
    save_figure(fig, f"{name}_samples")
    return fig


def look_closer(runs: dict[str, Run], images: ImageSet, n: int = 24) -> Comparison:
    """Each test photo (the first `n`: a report stays light), each model's colorization laid over the truth
    with a slider between them (compare.py)."""
    resolution = next(iter(runs.values())).config.resolution
    truth = test_views(images.test, resolution, 1).cpu()[:n]
    return Comparison(images.test_names[:n], truth, {label: predict(run, truth) for label, run in runs.items()})


def finish(notebook: str, config: ExperimentConfig, images: ImageSet, seeds: list[int] | None = None) -> None:
    """The provenance table that ends every report (see reports.write_run_info): seeds as `train` took them."""
    device = pick_device(config.device)
    write_run_info(
        notebook,
        config.profile,
        config.data,
        describe_device(device),
        images=images,
        seeds=training_seeds(config, seeds),
        precision=describe_precision(device, config.amp),
    )


# --- the classifier's read-outs (notebook 05) ---------------------------------------------------


def classifier_figures(notebook: str, run: Run, per_image: pd.DataFrame):
    """The PSNR histogram over test views (paper Fig. 1) and the weighted CE per epoch, train and test, with
    the paper's validation CE marked (Fig. 3); both saved. Returns the CE figure."""
    save_figure(plot_psnr_histogram(per_image), f"{notebook}_psnr_histogram")
    fig = plot_curves(
        {
            "train": run.history.rename(columns={"train_loss": "ce"}),
            "test": run.history.rename(columns={"test_loss": "ce"}),
        },
        ["ce"],
        ["weighted cross-entropy"],
        reference={"ce": PAPER_CLASSIF_VAL_CE},
        reference_label=f"paper's val CE ≈ {PAPER_CLASSIF_VAL_CE}",
    )
    save_figure(fig, f"{notebook}_ce")
    return fig


def decodings(notebook: str, run: Run, per_image: pd.DataFrame, images: ImageSet) -> pd.DataFrame:
    """One trained classifier read out by argmax (the paper's eq. 8) and by annealed mean (Zhang et al.),
    with the gray row; saved as `<notebook>_decoding`."""
    annealed = with_decode(run, "annealed_mean")
    table = pd.DataFrame(
        [
            summary_row(run, per_image, "argmax (paper)"),
            summary_row(annealed, evaluate(annealed, images), f"annealed mean (T = {run.config.temperature})"),
            gray_row(per_image, run.config.resolution),
        ]
    )
    save_table(table, f"{notebook}_decoding")
    return table


def recipes(notebook: str, runs: dict[str, Run], images: ImageSet) -> pd.DataFrame:
    """Each classifier recipe (label -> run) read out by argmax and by annealed mean, with the gray row of
    the test views; saved as `<notebook>_field`."""
    rows, gray = [], None
    for label, run in runs.items():
        argmax = evaluate(run, images)
        gray = argmax if gray is None else gray
        annealed = with_decode(run, "annealed_mean")
        rows.append(summary_row(run, argmax, f"{label}, argmax"))
        rows.append(
            summary_row(annealed, evaluate(annealed, images), f"{label}, annealed mean (T = {run.config.temperature})")
        )
    rows.append(gray_row(gray, next(iter(runs.values())).config.resolution))
    table = pd.DataFrame(rows)
    save_table(table, f"{notebook}_field")
    return table


def temperatures(notebook: str, runs: dict[str, Run], images: ImageSet) -> pd.DataFrame:
    """Each classifier (label -> run) decoded at Zhang et al.'s temperatures (0 = argmax): the table and
    its figure, saved as `<notebook>_temperature`."""
    sweeps = {label: temperature_sweep(run, images) for label, run in runs.items()}
    table = pd.concat(sweeps.values())
    save_table(table, f"{notebook}_temperature")
    marks = {"argmax (paper)": 0.0, "T = 0.38 (Zhang et al.)": 0.38}
    save_figure(plot_temperature_sweep(sweeps, marks=marks), f"{notebook}_temperature")
    return table


# --- ablations (notebooks 06 and 07) ------------------------------------------------------------


@dataclass
class Sweep:
    """One run per value of a setting: the configs, the results table (the gray row last), each value's
    per-view scores and each run's history (keyed by its label)."""

    setting: str
    configs: list[ExperimentConfig]
    table: pd.DataFrame
    per_image: dict
    histories: dict[str, pd.DataFrame]


# The setting each ablation varies, the letter that names its runs, and how a value is shown.
ABLATIONS = {"alpha_ablation": ("alpha", "a", "α"), "bin_ablation": ("bin_size", "b", "b")}


def ablation(
    experiment: str, values: list, profile: str, data: str, seed: int = 0, device: str = "auto", **overrides
) -> tuple[list[ExperimentConfig], ImageSet]:
    """One config per value of the ablation's setting (`ABLATIONS`), every RNG seeded, the device picked
    (printed), and the photos they share."""
    setting, letter, _ = ABLATIONS[experiment]
    kind = float if setting == "alpha" else int
    configs = [
        make_config(
            experiment,
            profile,
            data,
            seed=seed,
            device=device,
            **overrides,
            **{setting: kind(v)},
            name=f"{experiment}-{letter}{kind(v):g}",
        )
        for v in values
    ]
    device = setup(seed, device=configs[0].device)
    print(f"{describe_device(device)}; {describe_precision(device, configs[0].amp)}")
    return configs, load_images(configs[0])


def sweep(
    notebook: str,
    configs: list[ExperimentConfig],
    images: ImageSet,
    label: str,
    score: Callable[[Run, ImageSet], pd.DataFrame] = evaluate,
    extra: Callable[[Run, pd.DataFrame, ImageSet], dict] | None = None,
    seeds: int | list[int] | None = None,
) -> Sweep:
    """Train (or reload) each config of `ablation()` with its training seeds (`training_seeds`: the
    profile's, or `seeds`), score every seed (`score`: per-view table), and save the table (one row per
    value: `summary_row` over all its seeds, their spread, the setting and `extra(run, per_image, images)`,
    then the gray row), the first seed's histories and the per-view scores of every seed under the notebook's
    name. `label` names a row, with {} for the value: 'U-Net RGB, α = {}'."""
    setting, _, symbol = _ablation_of(configs[0])
    rows, per_image, histories = [], {}, {}
    for config in configs:
        runs = [fit(config.replace(seed=s), images) for s in training_seeds(config, seeds)]
        value = getattr(config, setting)
        per_seed = [score(run, images) for run in runs]
        scores = per_image[value] = pd.concat(per_seed, ignore_index=True)
        row = dict(summary_row(runs[0], scores, label.format(f"{value:g}")), **{setting: value})
        row.update(seed_spread(per_seed))
        rows.append(dict(row, **(extra(runs[0], per_seed[0], images) if extra else {})))
        histories[f"{symbol} = {value:g}"] = runs[0].history
        save_config(config)
    rows.append(gray_row(per_seed[0], configs[0].resolution))
    table = pd.DataFrame(rows)
    save_table(table, notebook)
    save_table(
        pd.concat([h.assign(**{setting: getattr(c, setting)}) for h, c in zip(histories.values(), configs)]),
        f"{notebook}_history",
    )
    save_table(pd.concat([t.assign(**{setting: v}) for v, t in per_image.items()]), f"{notebook}_per_image")
    return Sweep(setting, configs, table, per_image, histories)


def _ablation_of(config: ExperimentConfig) -> tuple[str, str, str]:
    return ABLATIONS[config.name.split("-")[0]]


def alpha_extra(run: Run, per_image: pd.DataFrame, images: ImageSet) -> dict:
    """The paper's two figures for U-Net RGB at this α: the appendix's, and Table 1's at α = 0.7."""
    alpha = run.config.alpha
    return dict(
        paper_psnr_db=PAPER_ALPHA_PSNR.get(alpha),
        paper_table1_psnr_db=PAPER_PSNR["unet_rgb"] if alpha == 0.7 else None,
    )


def with_bin_ceiling(run: Run, images: ImageSet) -> pd.DataFrame:
    """The classifier's per-view scores plus the grid's ceiling (each true colour snapped to its bin)."""
    views = test_views(images.test, run.config.resolution, run.config.test_views).cpu()
    ceiling = bin_ceiling_psnr(views, ABGrid(run.config.bin_size)).numpy()
    return evaluate(run, images).assign(ceiling_psnr=ceiling)


def bin_extra(run: Run, per_image: pd.DataFrame, images: ImageSet) -> dict:
    """Our grid's classes beside the paper's, the bins the training photos reach, the grid's ceiling and
    the annealed-mean read-out; the paper reports no PSNR per bin size."""
    b = run.config.bin_size
    return dict(
        n_bins=ABGrid(b).n_bins,
        paper_n_bins=PAPER_N_BINS.get(b),
        bins_seen_in_training=int((run.task.weights > 0).sum()),
        ceiling_psnr_db=per_image["ceiling_psnr"].mean(),
        annealed_mean_psnr_db=evaluate(with_decode(run, "annealed_mean"), images)["psnr"].mean(),
        paper_psnr_db=None,
    )


def versus(name: str, result: Sweep, reference) -> pd.DataFrame:
    """Each value of a sweep against `reference` (the paper's setting), paired on the same test photos,
    read as one family (intervals at 1 - 0.05/m, p-values Bonferroni-adjusted); saved as `name`."""
    symbol = _ablation_of(result.configs[0])[2]
    per = result.per_image
    values = [v for v in per if v != reference and reference in per]
    table = pd.DataFrame(
        [
            compare(per[v], per[reference], f"{symbol} = {v:g}", f"{symbol} = {reference:g}", family=len(values))
            for v in values
        ]
    )
    save_table(table, name)
    return table


def sweep_figure(name: str, result: Sweep):
    """The sweep's table at a glance: each value's PSNR and ΔE00 with its interval, gray's line; saved."""
    fig = plot_forest(result.table.drop(columns="paper_psnr_db"))
    save_figure(fig, name)
    return fig


def sweep_curves(name: str, result: Sweep, columns: list[str], titles: list[str]):
    """Each value's curves per epoch, gray's test PSNR dashed; saved as `name`."""
    gray = next(iter(result.per_image.values()))["gray_psnr"].mean()
    fig = plot_curves(result.histories, columns, titles, reference={"test_psnr": gray})
    save_figure(fig, name)
    return fig


@dataclass
class Budget:
    """The training-budget experiment: its table, each run's history (keyed 'model, arm') and per-view
    scores (keyed (model, arm), as `claims.budget_verdicts` reads them)."""

    table: pd.DataFrame
    histories: dict[str, pd.DataFrame]
    per_image: dict[tuple[str, str], pd.DataFrame]


def training_budget(
    notebook: str, profile: str, data: str, images: ImageSet, seeds: int | list[int] | None = None, **overrides
) -> Budget:
    """Table 1's 96² models under each arm of `config.BUDGET_ARMS` (the stated 240 steps, a longer
    budget, the published lr), each with its training seeds (`training_seeds`): trained or reloaded,
    scored, saved as `<notebook>`, its history (first seed) and the per-view scores of every seed
    (`<notebook>_per_image`, columns model and arm). The authors' arm (`experiments.AUTHORS_ARM`) joins,
    scored on STL-10's test photos, where its runs exist."""
    rows, histories, per_image = [], {}, {}
    for arm, config in budget_configs(profile, data, **overrides):
        runs = [fit(config.replace(seed=s), images) for s in training_seeds(config, seeds)]
        per_seed = [evaluate(r, images) for r in runs]
        run, scores = runs[0], pd.concat(per_seed, ignore_index=True)
        per_image[config.model, arm] = scores
        rows.append(dict(budget_row(run, scores, arm), data=data, n_seeds=len(runs)))
        histories[f"{config.model}, {arm}"] = run.history
        save_config(config)
    authors = [(c, finished_run_dir(c)) for c in authors_arm_configs(overrides.get("seed", 0))]
    for config, run_dir in authors:
        if run_dir is None:
            continue
        run = load_run(run_dir, overrides.get("device", "auto"))
        scores = per_image[config.model, AUTHORS_ARM] = evaluate(run, load_images(run.config))
        rows.append(dict(budget_row(run, scores, AUTHORS_ARM), data=run.config.data))
        histories[f"{config.model}, {AUTHORS_ARM}"] = run.history
    missing = [c.name for c, run_dir in authors if run_dir is None]
    if missing:
        print(
            f"{AUTHORS_ARM}: no finished run of {', '.join(missing)}; `make reproduce PROFILE=authors DATA=stl10` "
            "trains them (GPU work, README 'The authors' notebook setting'), and this section reads them."
        )
    table = pd.DataFrame(rows)
    save_table(table, notebook)
    save_table(pd.concat([h.assign(run=name) for name, h in histories.items()]), f"{notebook}_history")
    save_table(
        pd.concat([t.assign(model=m, arm=a) for (m, a), t in per_image.items()], ignore_index=True),
        f"{notebook}_per_image",
    )
    return Budget(table, histories, per_image)


def budget_curves(name: str, budget: Budget):
    """PSNR against Adam steps in both forms (mean of per-image PSNR; PSNR of the pooled MSE), gray dashed,
    the paper's Table 1 and appendix figures dotted, the stated 240 steps as a vertical line; saved."""
    fig = plot_curves(
        budget.histories,
        ["test_psnr", "test_psnr_pooled"],
        ["mean of per-image PSNR (dB)", "PSNR of the pooled MSE (dB)"],
        x="steps",
        reference={
            "test_psnr": budget.table["gray_psnr_db"].iloc[0],
            "test_psnr_pooled": budget.table["gray_psnr_pooled_db"].iloc[0],
        },
        marks={
            "paper Table 1, baseline": PAPER_PSNR["baseline"],
            "paper Table 1, U-Net RGB": PAPER_PSNR["unet_rgb"],
            "paper appendix, U-Net RGB": PAPER_ALPHA_PSNR[0.7],
        },
    )
    fig.axes[0].axvline(PAPER_STEPS, color="k", lw=0.8)
    save_figure(fig, name)
    return fig


def budget_verdicts(notebook: str, budget: Budget, profile: str, data: str) -> pd.DataFrame:
    """The budget's claims judged (`claims.budget_verdicts`) in one family with the gap explanations that
    follow them, saved as `<notebook>_verdicts`."""
    others = paper_claims.gap_tests(budget.per_image)
    verdicts = paper_claims.budget_verdicts(budget.per_image, data, profile, other_tests=others)
    print(paper_claims.family_note(verdicts))
    save_table(verdicts, f"{notebook}_verdicts")
    return verdicts


def budget_explanations(notebook: str, budget: Budget, verdicts: pd.DataFrame) -> pd.DataFrame:
    """Which of the three explanations of the gap between Table 1's U-Net RGB and the appendix the numbers
    support (`claims.explain_gap`), at the level of the verdicts' family, saved as `<notebook>_explanations`."""
    table = paper_claims.explain_gap(budget.per_image, verdicts, level=verdicts.attrs.get("level"))
    save_table(table, f"{notebook}_explanations")
    return table
