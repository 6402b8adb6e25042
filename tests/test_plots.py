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
