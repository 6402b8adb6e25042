"""How `python -m colorize_lib colorize` should show a photo to the model: resized, or tiled at full size.

For each test photo of a data source, read at its original size, a trained run colorizes the photo's
L in several ways, and the output (the photo's own full-resolution L + the upsampled predicted AB) is
scored against the original colours: PSNR (RGB, MAX = 1), mean CIEDE2000 and the colourfulness gap.

- `resize Nx`: the shorter side resized to N x the run's training resolution, the model run on the
  whole photo (it is fully convolutional), AB upsampled bilinearly. 1x is what the command does.
- `tiles`: the photo at full size cut into non-overlapping tiles of the training resolution (edge
  tiles padded by reflection), each colorized alone, the AB stitched back.
- `gray`: a = b = 0, the do-nothing baseline every model has to beat.

    python bench/colorize_scale.py                              # unet_lab, cpu profile, bundled data
    python bench/colorize_scale.py --experiment unet_classif --profile smoke

It needs a finished run (`make reproduce` for that profile trains it).
"""

import argparse

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from colorize_lib.data import load_image_set
from colorize_lib.data.sources import resolve_source
from colorize_lib.engine.device import configure_threads
from colorize_lib.engine.train import load_run
from colorize_lib.model.metrics import psnr
from colorize_lib.photos import SIDE_MULTIPLE, find_run, luminance, photo_from_lab, predict_ab, read_photo
from colorize_lib.photos import colorize_photo as colorize_resized
from colorize_lib.scoring.quality import colorfulness_gap, delta_e00

SCALES = (1, 2, 4)


def colorize_tiled(colorizer, rgb: np.ndarray) -> np.ndarray:
    """The photo at full size, tiles of the training resolution colorized one by one and stitched."""
    tile = colorizer.config.resolution
    assert tile % SIDE_MULTIPLE == 0
    lum = luminance(rgb)
    h, w = lum.shape[2:]
    padded = F.pad(lum, (0, -w % tile, 0, -h % tile), mode="reflect" if min(h, w) > tile else "replicate")
    rows, cols = padded.shape[2] // tile, padded.shape[3] // tile
    tiles = padded.unfold(2, tile, tile).unfold(3, tile, tile)  # (1, 1, rows, cols, tile, tile)
    tiles = tiles.permute(0, 2, 3, 1, 4, 5).reshape(rows * cols, 1, tile, tile)
    ab = predict_ab(colorizer, tiles)  # (rows * cols, 2, tile, tile)
    ab = ab.reshape(rows, cols, 2, tile, tile).permute(2, 0, 3, 1, 4).reshape(1, 2, rows * tile, cols * tile)
    return photo_from_lab(lum, ab[:, :, :h, :w])[0]


def scores(out: np.ndarray, truth: np.ndarray) -> dict:
    def batch(x):
        return torch.from_numpy(x).permute(2, 0, 1)[None].double().div_(255.0)

    p, t = batch(out), batch(truth)
    return dict(
        psnr=float(psnr(p, t)[0]),
        delta_e00=float(delta_e00(p, t)[0]),
        colorfulness_gap=float(colorfulness_gap(p, t)[0]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiment", default="unet_lab")
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--data", default="bundled")
    args = parser.parse_args()
    configure_threads()
    colorizer = load_run(find_run(args.experiment, args.profile, args.data), "cpu")
    cfg = colorizer.config
    images = load_image_set(cfg.data, cfg.image_size, cfg.seed, cfg.test_fraction, cfg.upscale_small)
    files = resolve_source(cfg.data)
    path_of = dict(zip(files.names, files.paths))
    print(f"{cfg.name} ({cfg.model}, {cfg.resolution}² crops of {cfg.image_size}² photos): {colorizer.run_dir}")
    rows = []
    for name in images.test_names:
        truth = read_photo(path_of[name])
        h, w = truth.shape[:2]
        ways = {"gray": photo_from_lab(luminance(truth), torch.zeros(1, 2, h, w))[0]}
        for s in SCALES:
            ways[f"resize {s}x ({s * cfg.resolution} px)"] = colorize_resized(colorizer, truth, s * cfg.resolution)[0]
        ways[f"tiles of {cfg.resolution} px"] = colorize_tiled(colorizer, truth)
        rows += [dict(photo=f"{name} ({w}x{h})", way=way, **scores(out, truth)) for way, out in ways.items()]
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 160)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print("\nmean over the test photos:")
    print(table.groupby("way", sort=False)[["psnr", "delta_e00", "colorfulness_gap"]].mean().round(2).to_string())


if __name__ == "__main__":
    main()
