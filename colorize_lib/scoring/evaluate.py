"""Evaluation, separate from training: per-image tables, predictions, and summary rows."""

import dataclasses

import numpy as np
import pandas as pd
import torch

from ..data.cache import ImageSet
from ..data.crops import test_views, view_names
from ..engine.inference import Run, eval_batch_size, infer
from ..engine.tasks import Task
from ..model.color import AB_SCALE, join_lab, split_lab
from ..model.metrics import colorfulness, gray_prediction, psnr
from ..model.models import count_parameters
from ..model.quantize import ABGrid
from ..reference import MODEL_LABELS, PAPER_ALPHA_PSNR, PAPER_PSNR, PAPER_RESOLUTION
from .quality import image_metrics
from .stats import paired_diff_ci, photo_of, with_intervals


def predict(run: Run, rgb: torch.Tensor) -> torch.Tensor:
    """Colorize the luminance of RGB images (N, 3, H, W) in [0, 1] with a trained run, through the same
    inference path (batch size, autocast) as its training-time evaluation; returns RGB on the CPU."""
    cfg = run.config
    return infer(run.model, run.task, rgb.cpu(), eval_batch_size(cfg), run.precision).rgb


@torch.no_grad()
def evaluate(run: Run, data: ImageSet) -> pd.DataFrame:
    """One row per test view (`photo:view`) with its photo group and the run's seed: every metric of
    `quality.image_metrics` for the model and, prefixed `gray_`, for the gray baseline (a = b = 0) on the
    same view, and the truth's colourfulness. Metrics are computed on the run's device."""
    cfg = run.config
    views = test_views(data.test.to(run.device), cfg.resolution, cfg.test_views)
    pred = predict(run, views).to(run.device)
    names = view_names(data.test_names, cfg.test_views)
    table = {"image": names, "group": [data.group_of(photo_of(v)) for v in names], "seed": cfg.seed}
    table.update({k: v.cpu().numpy() for k, v in image_metrics(pred, views).items()})
    table.update({f"gray_{k}": v.cpu().numpy() for k, v in image_metrics(gray_prediction(views), views).items()})
    table["true_colorfulness"] = colorfulness(views).cpu().numpy()
    return pd.DataFrame(table)


# Row keys of a results table and the per-view columns they average: each gets a 95% t interval over
# independent photo groups (views of one photo, photos of one group are not independent; stats.py).
ROW_METRICS = {
    "psnr_db": "psnr",
    "ssim": "ssim",
    "deltaE00": "deltaE00",
    "colorfulness": "colorfulness",
    "colorfulness_gap": "colorfulness_gap",
    "auc": "auc",
}


# The columns of Table 1 (notebook 08): ours with its interval, gray's gain, the other metrics, the paper.
RESULT_COLUMNS = [
    "model",
    "resolution",
    "params_M",
    "selected_by",
    "selected_epoch",
    "psnr_db",
    "psnr_db_lo",
    "psnr_db_hi",
    "final_epoch_psnr_db",
    "gray_psnr_db",
    "delta_vs_gray_db",
    "delta_vs_gray_db_lo",
    "delta_vs_gray_db_hi",
    "ssim",
    "deltaE00",
    "colorfulness",
    "colorfulness_gap",
    "auc",
    "n_photos",
    "n_groups",
    "n_seeds",
    "psnr_db_seed_mean",
    "psnr_db_seed_std",
    "paper_psnr_db",
]


def _metric_means(per_image: pd.DataFrame, prefix: str = "") -> dict:
    """Mean of every metric over the views, with its interval over photos."""
    columns = {key: prefix + column for key, column in ROW_METRICS.items()}
    row = {key: per_image[column].mean() for key, column in columns.items()}
    return with_intervals(row, per_image, columns)


def _vs_gray(per_image: pd.DataFrame) -> dict:
    """The model's PSNR minus gray's on the same views: paired over photos, with its interval."""
    diff = paired_diff_ci(per_image, per_image, "psnr", column_b="gray_psnr")
    return {"delta_vs_gray_db": diff.mean, "delta_vs_gray_db_lo": diff.lo, "delta_vs_gray_db_hi": diff.hi}


def summary_row(run: Run, per_image: pd.DataFrame, label: str | None = None) -> dict:
    """A results-table row: ours, the gray baseline on the same views, and the paper's figure."""
    cfg = run.config
    return {
        "model": label or MODEL_LABELS[cfg.model],
        "experiment": cfg.name,
        "run": run.run_dir.name,  # the checkpoint folder: rows of two tables with the same run are one model
        "resolution": cfg.resolution,
        "params_M": round(count_parameters(run.model) / 1e6, 3),
        "epochs": cfg.epochs,
        # The checkpoint reported: best validation PSNR, or the final epoch; never chosen on the test photos.
        "selected_by": run.selected_by,
        "selected_epoch": run.selected_epoch,
        "final_epoch_psnr_db": float(run.history["test_psnr"].iloc[-1]),
        **_metric_means(per_image),
        "psnr_std_db": per_image["psnr"].std(ddof=0),
        "psnr_of_mean_mse_db": psnr_of_mean_mse(per_image["psnr"]),
        "gray_psnr_db": per_image["gray_psnr"].mean(),
        **_vs_gray(per_image),
        **seed_spread([per_image]),  # one seed; notebooks with several replace these three
        "true_colorfulness": per_image["true_colorfulness"].mean(),
        "paper_psnr_db": PAPER_PSNR.get(cfg.model),
        "paper_resolution": PAPER_RESOLUTION.get(cfg.model),
        "n_test_views": len(per_image),
    }


def psnr_of_mean_mse(per_image_psnr: pd.Series) -> float:
    """PSNR of the dataset-mean MSE (the paper's appendix form); differs from the mean of per-image PSNR."""
    mse = (10.0 ** (-per_image_psnr / 10.0)).mean()
    return float(10.0 * np.log10(1.0 / mse))


def gray_row(per_image: pd.DataFrame, resolution: int) -> dict:
    """The do-nothing row every table carries: keep L, a = b = 0, on the same test views."""
    return {
        "model": "Gray (a=b=0)",
        "experiment": "gray",
        "resolution": resolution,
        "params_M": 0.0,
        **_metric_means(per_image, prefix="gray_"),
        "psnr_std_db": per_image["gray_psnr"].std(ddof=0),
        "psnr_of_mean_mse_db": psnr_of_mean_mse(per_image["gray_psnr"]),
        "gray_psnr_db": per_image["gray_psnr"].mean(),
        "delta_vs_gray_db": 0.0,
        "true_colorfulness": per_image["true_colorfulness"].mean(),
        "n_test_views": len(per_image),
    }


@torch.no_grad()
def bin_ceiling_psnr(rgb: torch.Tensor, grid: ABGrid) -> torch.Tensor:
    """PSNR of a perfect bin classifier: each pixel's true AB snapped to its bin centre. (N,) dB."""
    x, ab = split_lab(rgb)
    snapped = grid.decode(grid.encode(ab * AB_SCALE)) / AB_SCALE
    return psnr(join_lab(x, snapped), rgb)


def with_decode(run: Run, decode: str, **changes) -> Run:
    """The same trained classifier read out another way (argmax or annealed mean, e.g. temperature=0.2)."""
    config = run.config.replace(decode=decode, **changes)
    task = Task(config, run.task.weights).attach(run.model)
    return dataclasses.replace(run, config=config, task=task)


# Zhang et al.'s annealed-mean temperatures (their Fig. 5); 0 stands for the argmax, the paper's decoding.
TEMPERATURES = (1.0, 0.77, 0.58, 0.38, 0.29, 0.14, 0.0)


@torch.no_grad()
def temperature_sweep(run: Run, data: ImageSet, temperatures: tuple[float, ...] = TEMPERATURES) -> pd.DataFrame:
    """The same trained classifier decoded at each temperature (0 = argmax) on the run's test views: one
    row per T with the mean PSNR (dB), colourfulness, colourfulness gap and ΔE00 over the views, and gray's
    PSNR on the same views. T = 1 is the plain mean of the predicted distribution, T -> 0 its mode."""
    if run.task.kind != "bins":
        raise ValueError(f"temperature_sweep needs a classifier run, got model {run.config.model!r}")
    if any(not t >= 0 for t in temperatures):
        raise ValueError(f"temperatures must be >= 0 (0 = argmax), got {temperatures}")
    cfg = run.config
    views = test_views(data.test.to(run.device), cfg.resolution, cfg.test_views)
    gray = image_metrics(gray_prediction(views), views)["psnr"].mean()
    rows = []
    for t in temperatures:
        decoded = with_decode(run, "argmax") if t == 0 else with_decode(run, "annealed_mean", temperature=t)
        metrics = image_metrics(predict(decoded, views).to(run.device), views)
        rows.append(
            {
                "temperature": t,
                "decode": "argmax" if t == 0 else "annealed_mean",
                "experiment": cfg.name,
                "selected_by": run.selected_by,
                **{k: float(metrics[k].mean()) for k in ("psnr", "colorfulness", "colorfulness_gap", "deltaE00")},
                "gray_psnr": float(gray),
            }
        )
    return pd.DataFrame(rows)


def seed_spread(per_seed: list[pd.DataFrame]) -> dict:
    """PSNR over training seeds (one per-view table per seed, same test views): mean and standard
    deviation of each seed's mean. It measures what another seed would change; the per-image interval
    of a row measures what other test photos would change. Both are needed to read a difference."""
    means = np.array([t["psnr"].mean() for t in per_seed])
    return {
        "n_seeds": len(means),
        "psnr_db_seed_mean": float(means.mean()),
        "psnr_db_seed_std": float(means.std(ddof=1)) if len(means) > 1 else float("nan"),
    }


def budget_row(run: Run, per_image: pd.DataFrame, arm: str) -> dict:
    """A row of the training-budget table: the run's last epoch (its whole budget) in both PSNR forms, the
    selected model's score, gray on the same views and the paper's two figures for the model."""
    cfg, last = run.config, run.history.iloc[-1]
    return {
        "model": MODEL_LABELS[cfg.model],
        "arm": arm,
        "experiment": cfg.name,
        "run": run.run_dir.name,
        "lr": cfg.lr,
        "batch_size": cfg.batch_size,
        "steps": int(last["steps"]),
        "final_psnr_db": float(last["test_psnr"]),
        "final_psnr_pooled_db": float(last["test_psnr_pooled"]),
        "selected_by": run.selected_by,
        "selected_epoch": run.selected_epoch,
        "psnr_db": per_image["psnr"].mean(),
        "psnr_pooled_db": psnr_of_mean_mse(per_image["psnr"]),
        "gray_psnr_db": per_image["gray_psnr"].mean(),
        "gray_psnr_pooled_db": psnr_of_mean_mse(per_image["gray_psnr"]),
        "paper_table1_psnr_db": PAPER_PSNR.get(cfg.model),
        "paper_appendix_psnr_db": PAPER_ALPHA_PSNR.get(cfg.alpha) if cfg.model == "unet_rgb" else None,
    }


def compare(
    a: pd.DataFrame, b: pd.DataFrame, label_a: str, label_b: str, column: str = "psnr", family: int = 1
) -> dict:
    """A paired comparison the paper makes (e.g. U-Net RGB vs the baseline): mean of a - b over the same
    test photos, with its interval over photo groups (and seeds) and the p-value of no difference. Shown
    among `family` tests (a page's): the interval at 1 - 0.05/family and the p-value Bonferroni-adjusted
    (min(1, p × family)), so it reads at the page's family-wise level."""
    diff = paired_diff_ci(a, b, column, level=1 - 0.05 / family)
    return {
        "comparison": f"{label_a} − {label_b}",
        "metric": column,
        "difference": diff.mean,
        "difference_lo": diff.lo,
        "difference_hi": diff.hi,
        "p_value_adjusted": min(1.0, diff.p_value * family),
        "family": family,
    }
