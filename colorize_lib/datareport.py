"""Tables about a loaded data set, for notebook 01: split sizes, what was skipped and why, each photo's
colourfulness and gray-baseline PSNR, and how the training pixels fall into the AB bins."""

import pandas as pd
import torch

from .data.cache import ImageSet
from .data.crops import test_views
from .data.split import VALIDATION_MIN_TRAIN_GROUPS
from .data.validate import reason_code
from .model.metrics import colorfulness, gray_prediction, psnr
from .model.quantize import ABGrid


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
    """Images and photo groups per split: rows 'train', 'val' (chooses the checkpoint; 0 when the training
    side has too few groups to spare some) and 'test'; columns n_images, n_groups."""
    sides = {"train": image_set.train_names, "val": image_set.val_names, "test": image_set.test_names}
    return pd.DataFrame(
        {
            "split": list(sides),
            "n_images": [len(names) for names in sides.values()],
            "n_groups": [len({image_set.group_of(n) for n in names}) for names in sides.values()],
        }
    )


def selection_rule(image_set: ImageSet) -> str:
    """How every run of this data chooses the checkpoint the tables report, in one sentence."""
    if image_set.has_validation:
        return (
            f"Checkpoints are chosen by validation PSNR on {len(image_set.val_names)} photos "
            f"({len({image_set.group_of(n) for n in image_set.val_names})} groups) carved from the training side; "
            "the test photos choose nothing."
        )
    return (
        f"The training side has {len({image_set.group_of(n) for n in image_set.train_names})} photo groups, too few "
        f"to spare a validation split (at least {VALIDATION_MIN_TRAIN_GROUPS} needed): every run reports its final "
        "epoch; the test photos choose nothing."
    )


def photo_table(images: ImageSet, resolution: int) -> pd.DataFrame:
    """One row per photo: group, split, colourfulness and gray-baseline PSNR at `resolution` (whole photo)."""
    rows = []
    sides = (
        ("train", images.train, images.train_names),
        ("val", images.val, images.val_names),
        ("test", images.test, images.test_names),
    )
    for split, tensor, names in sides:
        if not len(tensor):
            continue
        rgb = test_views(tensor.cpu(), resolution, 1)
        for name, c, g in zip(names, colorfulness(rgb), psnr(gray_prediction(rgb), rgb)):
            rows.append(
                dict(photo=name, group=images.group_of(name), split=split, colorfulness=float(c), gray_psnr=float(g))
            )
    return pd.DataFrame(rows)


def bin_table(freq: torch.Tensor, grid: ABGrid) -> pd.DataFrame:
    """One row per bin: index, centre (a, b) and frequency."""
    c = grid.centres
    return pd.DataFrame(dict(bin=range(grid.n_bins), a=c[:, 0].numpy(), b=c[:, 1].numpy(), frequency=freq.numpy()))
