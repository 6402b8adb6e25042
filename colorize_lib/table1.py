"""Table 1's models (notebooks 02–05): the results row over every seed with the gray row and the paper's
figure, the training curves, sample colorizations, and a before/after slider per test photo."""

import pandas as pd

from .before_after import BeforeAfter
from .data.cache import ImageSet
from .data.crops import test_views
from .engine.inference import Run
from .model.metrics import gray_prediction
from .plots import image_grid, plot_curves, save_figure
from .reports import save_experiment
from .scoring.evaluate import evaluate, gray_row, predict, seed_spread, summary_row


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


def look_closer(runs: dict[str, Run], images: ImageSet, n: int = 24) -> BeforeAfter:
    """Each test photo (the first `n`: a report stays light), each model's colorization laid over the truth
    with a slider between them (compare.py)."""
    resolution = next(iter(runs.values())).config.resolution
    truth = test_views(images.test, resolution, 1).cpu()[:n]
    return BeforeAfter(images.test_names[:n], truth, {label: predict(run, truth) for label, run in runs.items()})
