"""The data chapter (notebook 01): which photos the study has and how they split, which files were left
out and why, how the training pixels fall into the classifier's AB bins, and the PSNR the gray prediction
already reaches on the test photos, against which every later number is read."""

import pandas as pd
import torch

from .data import load_images
from .data.cache import ImageSet
from .data.crops import test_views
from .data.split import VALIDATION_MIN_TRAIN_GROUPS
from .data.validate import reason_code
from .engine.config import ExperimentConfig, make_config
from .engine.device import describe_device, pick_device, setup
from .model.losses import ab_frequencies
from .model.metrics import colorfulness, gray_prediction, psnr
from .model.quantize import ABGrid
from .plots import image_grid, plot_ab_histogram, plot_colorfulness_by_split, save_figure
from .reports import save_table, write_run_info


def start(
    profile: str, data: str, seed: int = 0, device: str = "auto", **overrides
) -> tuple[ExperimentConfig, ImageSet]:
    """The photos as the profile loads them (U-Net LAB's config: the classifier's image size and grid are
    the same), every RNG seeded, the device picked (printed)."""
    config = make_config("unet_lab", profile, data, seed=seed, device=device, **overrides)
    print(describe_device(setup(config.seed, device=config.device)))
    return config, load_images(config)


def photos(config: ExperimentConfig, images: ImageSet) -> pd.DataFrame:
    """One row per photo (split, group, colourfulness, gray PSNR at the training resolution), saved as
    `01_photos` with the split's counts as `01_split`; prints how many files were skipped and how
    checkpoints are chosen."""
    table = photo_table(images, config.resolution)
    save_table(table, "01_photos")
    save_table(split_summary(images), "01_split")
    print(f"{len(images.skipped)} files skipped. {selection_rule(images)}")
    return table


def by_split(table: pd.DataFrame) -> pd.DataFrame:
    """The split at a glance (`photos`' table): photos, groups, mean colourfulness and gray PSNR per split."""
    return table.groupby("split").agg(
        photos=("photo", "count"),
        groups=("group", "nunique"),
        colorfulness=("colorfulness", "mean"),
        gray_psnr=("gray_psnr", "mean"),
    )


def left_out(images: ImageSet) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every file left out with its reason (saved as `01_skipped`) and the count per reason."""
    table = skipped_table(images)
    save_table(table, "01_skipped")
    return table, skipped_counts(images)


def samples(images: ImageSet, n: int = 6):
    """The first `n` training and test photos; saved."""
    shown = torch.cat([images.train[:n], images.test[:n]]).float() / 255
    fig = image_grid({"train / test": shown}, images.train_names[:n] + images.test_names[:n])
    save_figure(fig, "01_samples")
    return fig


def ab_bins(config: ExperimentConfig, images: ImageSet):
    """The training pixels per AB bin of the classifier's grid (notebook 05 weights its loss by them): the
    table saved as `01_ab_bins`, how many bins are used, and the histogram; saved."""
    grid = ABGrid(config.bin_size)
    freq = ab_frequencies(images.train, grid, config.resolution)
    save_table(bin_table(freq, grid), "01_ab_bins")
    unused = float((freq == 0).double().mean())
    print(f"{grid.n_bins} bins; {int((freq > 0).sum())} used by the training photos; {unused:.1%} never used")
    fig = plot_ab_histogram(freq, grid.per_axis, title=f"training pixels per AB bin (b = {grid.bin_size})")
    save_figure(fig, "01_ab_histogram")
    return fig


def colorfulness_by_split(table: pd.DataFrame):
    """Each split's colourfulness (`photos`' table); saved."""
    fig = plot_colorfulness_by_split(table)
    save_figure(fig, "01_colorfulness")
    return fig


def gray_baseline(config: ExperimentConfig, images: ImageSet, table: pd.DataFrame) -> None:
    """The gray prediction's mean PSNR on the test photos (printed), and the provenance table that ends the
    report."""
    test_gray = table[table.split == "test"]["gray_psnr"]
    mean = f"{test_gray.mean():.2f} dB (mean of {len(test_gray)} per-photo values)"
    print(f"gray-baseline PSNR on the test photos: {mean}")
    device = describe_device(pick_device(config.device))
    write_run_info("01_data", config.profile, config.data, device, images=images, seeds=config.seed)


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
