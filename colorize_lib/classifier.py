"""The classifier's read-outs (notebook 05): its PSNR histogram and cross-entropy curves, its two decodings,
the field's recipe beside the paper's, and the temperature sweep."""

import pandas as pd

from .data.cache import ImageSet
from .engine.inference import Run
from .plots import plot_curves, plot_psnr_histogram, plot_temperature_sweep, save_figure
from .reference import PAPER_CLASSIF_VAL_CE
from .reports import save_table
from .scoring.evaluate import evaluate, gray_row, summary_row, temperature_sweep, with_decode


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
