"""Tables about a loaded data set, for notebook 01: split sizes, what was skipped and why, each photo's
colourfulness and gray-baseline PSNR, and how the training pixels fall into the AB bins."""

import pandas as pd
import torch

from .cache import ImageSet
from .crops import test_views
from .metrics import colorfulness, gray_prediction, psnr
from .quantize import ABGrid
from .validate import reason_code


def skipped_table(image_set: ImageSet) -> pd.DataFrame:
    """One row per skipped file: file, reason code (e.g. 'too-small') and the full reason."""
    rows = [(file, reason_code(reason), reason) for file, reason in image_set.skipped]
    return pd.DataFrame(rows, columns=["file", "code", "reason"])


def skipped_counts(image_set: ImageSet) -> pd.DataFrame:
    """Number of skipped files per reason code, most frequent first."""
    table = skipped_table(image_set)
    counts = table.groupby("code").size().sort_values(ascending=False, kind="stable")
    return counts.rename("n_files").reset_index()


def split_summary(image_set: ImageSet) -> pd.DataFrame:
    """Images per split: rows 'train' and 'test', column n_images."""
    return pd.DataFrame(
        {"split": ["train", "test"], "n_images": [len(image_set.train_names), len(image_set.test_names)]}
    )


def photo_table(images: ImageSet, resolution: int) -> pd.DataFrame:
    """One row per photo: split, colourfulness and gray-baseline PSNR at `resolution` (whole photo)."""
    rows = []
    for split, tensor, names in (("train", images.train, images.train_names), ("test", images.test, images.test_names)):
        if not len(tensor):
            continue
        rgb = test_views(tensor.cpu(), resolution, 1)
        for name, c, g in zip(names, colorfulness(rgb), psnr(gray_prediction(rgb), rgb)):
            rows.append(dict(photo=name, split=split, colorfulness=float(c), gray_psnr=float(g)))
    return pd.DataFrame(rows)


def bin_table(freq: torch.Tensor, grid: ABGrid) -> pd.DataFrame:
    """One row per bin: index, centre (a, b) and frequency."""
    c = grid.centres
    return pd.DataFrame(dict(bin=range(grid.n_bins), a=c[:, 0].numpy(), b=c[:, 1].numpy(), frequency=freq.numpy()))
