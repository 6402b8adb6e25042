"""The steps a Table 1 notebook takes, one call each, so that notebooks 02–05 read like the paper's
method section and share no code: start (config, seed, device), train (one run per seed), results
(evaluate, the table with gray and the paper, saved), curves, samples, finish (provenance).

Every step returns what it made, and the notebook shows it in its own cell; nothing is hidden.
"""

import pandas as pd

from .cache import ImageSet
from .config import ExperimentConfig, make_config
from .crops import test_views
from .evaluate import evaluate, gray_row, predict, seed_spread, summary_row
from .metrics import gray_prediction
from .plots import image_grid, plot_curves, save_figure
from .reports import save_experiment, write_run_info
from .runtime import describe_device, pick_device, setup
from .train import Run, fit


def start(
    experiment: str, profile: str, data: str, seed: int = 0, device: str = "auto", **overrides
) -> ExperimentConfig:
    """The profile's config for `experiment` with the notebook's overrides (None keeps the profile's),
    every RNG seeded and the device picked (printed)."""
    config = make_config(experiment, profile, data, seed=seed, device=device, **overrides)
    print(describe_device(setup(config.seed, device=config.device)))
    return config


def train(config: ExperimentConfig, images: ImageSet, seeds: list[int] | None = None) -> list[Run]:
    """One run per training seed (`seeds`, or the config's own); the photo split stays the config's.
    A run that exists is resumed or reloaded, never trained twice."""
    return [fit(config.replace(seed=int(s)), images) for s in (seeds or [config.seed])]


def results(notebook: str, runs: list[Run], images: ImageSet) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first run's results row (every metric with its interval over photos, its gain over gray, the
    spread over seeds when there are several) and the gray row, saved with the per-view scores and the
    history under the notebook's name; returns (table, per-view scores)."""
    per_image = evaluate(runs[0], images)
    spread = seed_spread([per_image] + [evaluate(r, images) for r in runs[1:]])
    table = pd.DataFrame(
        [dict(summary_row(runs[0], per_image), **spread), gray_row(per_image, runs[0].config.resolution)]
    )
    save_experiment(notebook, runs[0].config, table, per_image, runs[0].history)
    return table, per_image


def curves(notebook: str, label: str, run: Run, per_image: pd.DataFrame):
    """Training loss, test loss and test PSNR per epoch (paper Fig. 2), gray's PSNR on the same views dashed."""
    fig = plot_curves(
        {label: run.history},
        ["train_loss", "test_loss", "test_psnr"],
        ["train loss", "test loss", "test PSNR (dB)"],
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


def finish(notebook: str, config: ExperimentConfig, images: ImageSet, seeds: list[int] | None = None) -> None:
    """The provenance table that ends every report (see reports.write_run_info)."""
    write_run_info(
        notebook,
        config.profile,
        config.data,
        describe_device(pick_device(config.device)),
        images=images,
        seeds=[int(s) for s in (seeds or [config.seed])],
    )
