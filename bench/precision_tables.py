"""Table 1 trained in bf16 against the same study trained in float32: per model, the PSNR difference on the
same test views and seeds, with its paired 95% interval over photo groups and seeds (scoring.stats).

Give two reports folders of the same profile, data and seeds, one made where the CPU computes bf16 and one
with COLORIZE_CPU_BF16=0 (the float32 runs live in their own checkpoint folders, so both can share data/):

    make reproduce                                              # bf16 where the CPU has it
    COLORIZE_CPU_BF16=0 make REPORTS=/tmp/fp32 PROFILE=cpu \\
        /tmp/fp32/notebooks/{02_baseline_cnn,03_unet_rgb,04_unet_lab,05_classification}.ipynb
    python bench/precision_tables.py reports /tmp/fp32
    python bench/precision_tables.py A B --models unet_lab       # folders that ran notebook 04 only

Prints one line per Table 1 model: each precision's mean PSNR over seeds and photos, and bf16 - float32
with its interval and p-value. A difference whose interval excludes 0 and exceeds the models' gaps in
Table 1 would change a conclusion.
"""

import argparse
import json
from pathlib import Path

import pandas as pd

from colorize_lib.engine.config import NOTEBOOK_OF
from colorize_lib.reference import MODEL_LABELS
from colorize_lib.scoring.stats import paired_diff_ci

TABLE1 = ("baseline", "unet_rgb", "unet_lab", "unet_classif")
KEYS = ["image", "seed"]  # one row per test view (`image`) and training seed in a per-image table


def precision_of(reports: Path, notebook: str) -> str:
    info = json.loads((reports / "runs" / f"{notebook}.run.json").read_text())
    return str(info.get("precision") or "float32 (before precisions were recorded)")


def compare(fast: Path, exact: Path, model: str) -> str:
    notebook = NOTEBOOK_OF[model]
    a = pd.read_csv(fast / "tables" / f"{notebook}_per_image.csv")
    b = pd.read_csv(exact / "tables" / f"{notebook}_per_image.csv")
    both = a.merge(b[KEYS + ["psnr"]], on=KEYS, suffixes=("_fast", "_exact"), validate="one_to_one")
    if len(both) != len(a) or len(both) != len(b):
        raise ValueError(f"{notebook}: the two folders score other views or seeds ({len(a)}, {len(b)}, {len(both)})")
    diff = paired_diff_ci(both, both, "psnr_fast", column_b="psnr_exact")
    return (
        f"{MODEL_LABELS[model]}: {precision_of(fast, notebook)} {both['psnr_fast'].mean():.2f} dB, "
        f"{precision_of(exact, notebook)} {both['psnr_exact'].mean():.2f} dB, difference {diff.mean:+.2f} dB "
        f"[{diff.lo:+.2f}, {diff.hi:+.2f}], p = {diff.p_value:.2f} "
        f"({both['seed'].nunique()} seeds, {both['image'].nunique()} views)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("fast", type=Path, help="reports folder of the bf16 study")
    parser.add_argument("exact", type=Path, help="reports folder of the float32 study (COLORIZE_CPU_BF16=0)")
    parser.add_argument("--models", nargs="+", choices=TABLE1, default=TABLE1, help="the models both folders hold")
    args = parser.parse_args()
    for model in args.models:
        print(compare(args.fast, args.exact, model))


if __name__ == "__main__":
    main()
