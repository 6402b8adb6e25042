"""The steps a Table 1 notebook takes, one call each, so that notebooks 02–05 read like the paper's
method section and share no code: start (config, seed, device, photos), train (one run per seed), results
(evaluate, the table with gray and the paper, saved), curves, samples, finish (provenance).

Every step returns what it made, and the notebook shows it in its own cell; nothing is hidden.
"""

import pandas as pd

from .cache import ImageSet
from .config import ExperimentConfig, make_config
from .crops import test_views
from .data import load_images
from .evaluate import evaluate, gray_row, predict, seed_spread, summary_row
from .metrics import gray_prediction
from .plots import image_grid, plot_curves, save_figure
from .reports import save_experiment, write_run_info
from .runtime import describe_device, pick_device, setup
from .train import Run, fit


def start(
    experiment: str, profile: str, data: str, seed: int = 0, device: str = "auto", **overrides
) -> tuple[ExperimentConfig, ImageSet]:
    """The profile's config for `experiment` with the notebook's overrides (None keeps the profile's),
    every RNG seeded, the device picked (printed), and the photos it trains and tests on."""
    config = make_config(experiment, profile, data, seed=seed, device=device, **overrides)
    print(describe_device(setup(config.seed, device=config.device)))
    return config, load_images(config)


def train(config: ExperimentConfig, images: ImageSet, seeds: list[int] | None = None) -> list[Run]:
    """One run per training seed (`seeds`, or the config's own); the photo split stays the config's.
    A run that exists is resumed or reloaded, never trained twice."""
    return [fit(config.replace(seed=int(s)), images) for s in (seeds or [config.seed])]


def results(notebook: str, runs: list[Run], images: ImageSet) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first run's results row (every metric with its interval over photo groups, its gain over gray,
    the spread over seeds when there are several) and the gray row, saved with the per-view scores of
    every seed (column `seed`: the claims read them all) and the history under the notebook's name;
    returns (table, the first run's per-view scores)."""
    per_seed = [evaluate(r, images) for r in runs]
    table = pd.DataFrame(
        [
            dict(summary_row(runs[0], per_seed[0]), **seed_spread(per_seed)),
            gray_row(per_seed[0], runs[0].config.resolution),
        ]
    )
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
