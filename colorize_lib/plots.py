"""Figures. Each function takes data, returns the figure and never calls plt.show(); the single-panel
ones also take `ax=` to draw into a panel of a larger figure. `save_figure` writes PNGs into
reports/figures/ at a fixed dpi."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from .files import atomic_path
from .paths import FIGURES_DIR

DPI = 120


def _image(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().clamp(0, 1).permute(1, 2, 0).numpy()


def image_grid(rows: dict[str, torch.Tensor], col_titles: list[str] | None = None, size: float = 1.8):
    """Rows of RGB images: {row label: (N, 3, H, W)}; every row has the same N."""
    n_rows, n_cols = len(rows), len(next(iter(rows.values())))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(size * n_cols, size * n_rows), squeeze=False)
    for r, (label, images) in enumerate(rows.items()):
        for c in range(n_cols):
            ax = axes[r, c]
            ax.imshow(_image(images[c]))
            ax.set_xticks([]), ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(label, fontsize=9)
            if r == 0 and col_titles:
                ax.set_title(col_titles[c], fontsize=8)
    fig.tight_layout()
    return fig


def plot_curves(
    histories: dict[str, pd.DataFrame],
    columns: list[str],
    titles: list[str] | None = None,
    reference: dict[str, float] | None = None,
    reference_label: str = "gray (a=b=0)",
    x: str = "epoch",
    marks: dict[str, float] | None = None,
):
    """One panel per history column (e.g. train_loss, test_psnr) with a line per run, against `x`
    (a history column: epoch, or steps for optimizer steps). `reference` maps a column to a dashed
    horizontal line labelled `reference_label` (e.g. the gray-baseline PSNR); `marks` adds dotted
    lines {label: value} to every panel (e.g. the paper's figures)."""
    fig, axes = plt.subplots(1, len(columns), figsize=(4.2 * len(columns), 3.2), squeeze=False)
    for ax, col, title in zip(axes[0], columns, titles or columns):
        for name, h in histories.items():
            ax.plot(h[x], h[col], marker="o", ms=3, label=name)
        if reference and col in reference:
            ax.axhline(reference[col], color="gray", ls="--", lw=1, label=reference_label)
        for i, (label, value) in enumerate((marks or {}).items()):
            ax.axhline(value, color=f"C{len(histories) + i}", ls=":", lw=1.2, label=label)
        ax.set_xlabel("optimizer steps" if x == "steps" else x), ax.set_title(title, fontsize=10), ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_psnr_histogram(per_image: pd.DataFrame, ax=None, bins: int = 20):
    """Distribution of per-image PSNR, model and gray baseline (paper Fig. 1)."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(5, 3.2))
    lo = min(per_image["psnr"].min(), per_image["gray_psnr"].min())
    hi = max(per_image["psnr"].max(), per_image["gray_psnr"].max())
    edges = np.linspace(lo, hi, bins + 1)
    ax.hist(
        per_image["gray_psnr"],
        bins=edges,
        alpha=0.5,
        color="gray",
        label=f"gray, mean {per_image['gray_psnr'].mean():.2f}",
    )
    ax.hist(per_image["psnr"], bins=edges, alpha=0.7, label=f"model, mean {per_image['psnr'].mean():.2f}")
    ax.set_xlabel("PSNR (dB)"), ax.set_ylabel("test views"), ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_ab_histogram(freq: torch.Tensor, per_axis: int, extent: float = 128.0, ax=None, title: str = ""):
    """Heat map of bin frequencies over the AB plane (log scale; white = bin never used)."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(4, 3.6))
    grid = freq.reshape(per_axis, per_axis).numpy()
    shown = np.where(grid > 0, np.log10(np.where(grid > 0, grid, 1)), np.nan)
    im = ax.imshow(shown.T, origin="lower", extent=(-extent, extent, -extent, extent), cmap="viridis")
    fig.colorbar(im, ax=ax, label="log10 frequency")
    ax.set_xlabel("a"), ax.set_ylabel("b"), ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_colorfulness_by_split(photos: pd.DataFrame, ax=None, bins: int = 10):
    """Histogram of the photos' colourfulness, one colour per split (`dataset.photo_table`)."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(5, 3))
    for split, rows in photos.groupby("split"):
        ax.hist(rows["colorfulness"], bins=bins, alpha=0.6, label=split)
    ax.set_xlabel("colourfulness (Hasler & Süsstrunk)")
    ax.set_ylabel("photos")
    ax.legend()
    fig.tight_layout()
    return fig


FOREST_METRICS = {"psnr_db": "PSNR (dB), higher is better", "deltaE00": "ΔE00, lower is better"}


def plot_forest(table: pd.DataFrame, metrics: dict[str, str] = FOREST_METRICS, title: str = ""):
    """A results table as dots with their 95% intervals (`<metric>_lo`, `<metric>_hi`), one row per model
    and one panel per metric: the gray row (model 'Gray ...') as a dashed vertical line, the paper's figure
    (`paper_psnr_db`, PSNR panel) as a cross beside ours."""
    gray = table[table["model"].astype(str).str.startswith("Gray")]
    models = table[~table.index.isin(gray.index)].iloc[::-1]  # first row on top
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 0.5 * len(models) + 1.4), squeeze=False)
    y = np.arange(len(models))
    for ax, (metric, label) in zip(axes[0], metrics.items()):
        mean = models[metric].astype(float).to_numpy()
        lo, hi = models[f"{metric}_lo"].astype(float).to_numpy(), models[f"{metric}_hi"].astype(float).to_numpy()
        ax.errorbar(mean, y, xerr=[mean - lo, hi - mean], fmt="o", color="C0", capsize=3, label="ours, 95% interval")
        if len(gray):
            ax.axvline(float(gray[metric].iloc[0]), color="gray", ls="--", lw=1, label="gray (a=b=0)")
        if metric == "psnr_db" and "paper_psnr_db" in models:
            paper = models["paper_psnr_db"].astype(float).to_numpy()
            ax.plot(paper, y, "x", color="C3", ms=7, label="paper")
        ax.set_yticks(y, models["model"].astype(str).tolist())
        ax.set_xlabel(label)
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="best")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def save_figure(fig, name: str, folder: Path = FIGURES_DIR) -> Path:
    """Write `name`.png atomically at the project's dpi; returns the path. In a notebook, the file written
    is what the cell shows (see `_show_saved`)."""
    path = Path(folder) / f"{name}.png"
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=DPI, bbox_inches="tight")
    _show_saved(fig, path)
    return path


def _show_saved(fig, path: Path) -> None:
    """Under the notebook's inline backend, show the PNG just written, at the size the backend would have
    drawn the figure, and close the figure: the backend would otherwise render it a second time when the
    cell ends (about 0.1-0.2 s a figure). Elsewhere (a script, Agg) nothing happens."""
    if "inline" not in plt.get_backend():
        return
    from IPython.display import Image, display

    image = Image(filename=str(path))
    width = int.from_bytes(image.data[16:20], "big")  # the PNG header's IHDR width, in pixels
    display(Image(data=image.data, format="png", width=round(width * fig.dpi / DPI)))
    plt.close(fig)


def plot_temperature_sweep(sweeps: dict[str, pd.DataFrame], marks: dict[str, float] | None = None):
    """PSNR and colourfulness against the annealed-mean temperature (`evaluate.temperature_sweep` tables),
    a line per model, T = 0 being the argmax; gray's PSNR dashed; `marks` {label: T} as dotted verticals
    (e.g. the paper's argmax at 0 and Zhang's 0.38)."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for name, sweep in sweeps.items():
        s = sweep.sort_values("temperature")
        for ax, col in zip(axes, ("psnr", "colorfulness")):
            ax.plot(s["temperature"], s[col], marker="o", ms=3, label=name)
    gray = next(iter(sweeps.values()))["gray_psnr"].iloc[0]
    axes[0].axhline(gray, color="gray", ls="--", lw=1, label="gray (a=b=0)")
    for i, (label, t) in enumerate((marks or {}).items()):
        for ax in axes:
            ax.axvline(t, color=f"C{len(sweeps) + i}", ls=":", lw=1.2, label=label)
    for ax, title in zip(axes, ("test PSNR (dB)", "colourfulness (Hasler-Süsstrunk)")):
        ax.set_xlabel("temperature T (0 = argmax)"), ax.set_title(title, fontsize=10), ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return fig
