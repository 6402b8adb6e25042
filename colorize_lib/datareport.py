"""Tables about a loaded data set for notebook 01: what was skipped and why, and the split sizes."""

import pandas as pd

from .data import ImageSet
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
    return pd.DataFrame({"split": ["train", "test"],
                         "n_images": [len(image_set.train_names), len(image_set.test_names)]})
