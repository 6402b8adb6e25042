"""Plot functions take data, return a figure, never show it; save_figure writes a PNG atomically."""

import matplotlib
import numpy as np
import pandas as pd
import torch

from colorize_lib import plots

matplotlib.use("Agg")


def history(shift: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame(
        {"epoch": [1, 2, 3], "steps": [4, 8, 12], "train_loss": [1.0, 0.5, 0.4], "test_psnr": [15 + shift, 16, 17]}
    )


def test_curves_draw_one_line_per_run_with_references_and_marks():
    fig = plots.plot_curves(
        {"a": history(), "b": history(1.0)},
        ["train_loss", "test_psnr"],
        ["train loss", "test PSNR"],
        x="steps",
        reference={"test_psnr": 18.0},
        marks={"paper": 13.5},
    )
    loss_ax, psnr_ax = fig.axes
    assert [ax.get_title() for ax in fig.axes] == ["train loss", "test PSNR"]
    assert len(loss_ax.get_lines()) == 3 and len(psnr_ax.get_lines()) == 4  # 2 runs + the mark (+ gray on PSNR)
    assert loss_ax.get_xlabel() == "optimizer steps"


def test_histograms_and_grids_return_figures():
    per_image = pd.DataFrame({"psnr": np.linspace(15, 20, 8), "gray_psnr": np.linspace(17, 19, 8)})
    assert plots.plot_psnr_histogram(per_image).axes[0].get_xlabel() == "PSNR (dB)"
    photos = pd.DataFrame({"split": ["train"] * 3 + ["test"] * 2, "colorfulness": [10.0, 20, 30, 40, 50]})
    ax = plots.plot_colorfulness_by_split(photos).axes[0]
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"train", "test"}
    grid = plots.image_grid({"truth": torch.rand(3, 3, 8, 8), "model": torch.rand(3, 3, 8, 8)}, ["a", "b", "c"])
    assert len(grid.axes) == 6
    freq = torch.rand(26 * 26)
    assert plots.plot_ab_histogram(freq, 26, title="bins").axes[0].get_title() == "bins"


def test_save_figure_writes_a_png_and_nothing_else(tmp_path):
    path = plots.save_figure(plots.plot_curves({"a": history()}, ["test_psnr"], ["PSNR"]), "curves", tmp_path)
    assert path == tmp_path / "curves.png" and path.read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]


def test_forest_plot_draws_each_model_with_its_interval_gray_and_the_paper():
    table = pd.DataFrame(
        {
            "model": ["CNN baseline", "U-Net LAB", "Gray (a=b=0)"],
            "psnr_db": [16.0, 19.0, 20.0],
            "psnr_db_lo": [15.0, 18.0, 19.0],
            "psnr_db_hi": [17.0, 20.0, 21.0],
            "deltaE00": [17.0, 15.0, 14.0],
            "deltaE00_lo": [16.0, 14.0, 13.0],
            "deltaE00_hi": [18.0, 16.0, 15.0],
            "paper_psnr_db": [11.2, 19.0, None],
        }
    )
    fig = plots.plot_forest(table)
    psnr_ax, de_ax = fig.axes
    assert [t.get_text() for t in psnr_ax.get_yticklabels()] == ["U-Net LAB", "CNN baseline"]  # gray is a line
    gray_lines = [line for line in psnr_ax.get_lines() if list(line.get_xdata()) == [20.0, 20.0]]
    assert gray_lines and "ΔE00" in de_ax.get_xlabel()
    paper = [line for line in psnr_ax.get_lines() if line.get_marker() == "x"]
    assert list(paper[0].get_xdata()) == [19.0, 11.2]
