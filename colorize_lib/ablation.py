"""The ablations (notebooks 06 and 07): one run per value of a setting (α, the bin size) with its training
seeds, the table with the gray row and the paper's figures, each value against the paper's setting, and
the figures."""

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from .data import load_images
from .data.cache import ImageSet
from .data.crops import test_views
from .engine.config import ExperimentConfig, make_config, training_seeds
from .engine.device import describe_device, describe_precision, setup
from .engine.inference import Run
from .engine.train import fit
from .model.quantize import ABGrid
from .plots import plot_curves, plot_forest, save_figure
from .reference import PAPER_ALPHA_PSNR, PAPER_N_BINS, PAPER_PSNR
from .reports import save_config, save_table
from .scoring.evaluate import bin_ceiling_psnr, compare, evaluate, gray_row, seed_spread, summary_row, with_decode


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


def start(
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
    """Train (or reload) each config of `start()` with its training seeds (`training_seeds`: the
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


def figure(name: str, result: Sweep):
    """The sweep's table at a glance: each value's PSNR and ΔE00 with its interval, gray's line; saved."""
    fig = plot_forest(result.table.drop(columns="paper_psnr_db"))
    save_figure(fig, name)
    return fig


def curves(name: str, result: Sweep, columns: list[str], titles: list[str]):
    """Each value's curves per epoch, gray's test PSNR dashed; saved as `name`."""
    gray = next(iter(result.per_image.values()))["gray_psnr"].mean()
    fig = plot_curves(result.histories, columns, titles, reference={"test_psnr": gray})
    save_figure(fig, name)
    return fig
