"""Photos in, training batches out.

A data source yields photos; each is centre-cropped to a square and resized (Lanczos) to
`image_size`, then split into train and test *by photo group* (a stereo pair or near-duplicates stay
on one side). The result, an `ImageSet` of uint8 tensors, lives on the training device; `CropSampler`
draws random crops (resized to the model's resolution, randomly flipped) from it, so no host-device
copy happens per batch.

Sources (see `colorize_lib.sources`): `bundled` — the colour photographs that scikit-image ships
(offline default); `paper` — the authors' published train/test images, fetched with git;
`folder:PATH` — every image under PATH, near-duplicates grouped; `pexels` — photos collected with the
authors' Pexels method. Every file is validated (`colorize_lib.validate`) and the result cached per
(source, image_size) (`colorize_lib.cache`).
"""

import dataclasses
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.ops import roi_align

# scikit-image's bundled colour *photographs*, file -> photo group (its synthetic charts, logos and
# grayscale samples are left out). motorcycle_left/right are one stereo pair, the same scene a few
# pixels apart, so they form one group and always land on the same side of the split.
BUNDLED_PHOTOS = {
    "astronaut.png": "astronaut",
    "chelsea.png": "chelsea",
    "coffee.png": "coffee",
    "hubble_deep_field.jpg": "hubble_deep_field",
    "ihc.png": "immunohistochemistry",
    "motorcycle_left.png": "motorcycle",
    "motorcycle_right.png": "motorcycle",
    "retina.jpg": "retina",
    "rocket.jpg": "rocket",
}


@dataclass
class ImageSet:
    """Square uint8 photos (N, 3, S, S) per split, with their names."""

    source: str
    train: torch.Tensor
    test: torch.Tensor
    train_names: list[str]
    test_names: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    cache_dir: Path | None = None  # the cache folder it was loaded from (holds manifest.csv)

    @property
    def image_size(self) -> int:
        return int(self.train.shape[-1])

    def to(self, device: torch.device | str) -> "ImageSet":
        self.train, self.test = self.train.to(device), self.test.to(device)
        return self


def square_resize(image: Image.Image, size: int) -> np.ndarray:
    """Centre-crop a PIL image to a square and resize it (Lanczos) to size x size: (size, size, 3) uint8."""
    image = image.convert("RGB")
    w, h = image.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    image = image.crop((left, top, left + s, top + s)).resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)


def split_by_group(groups: list[str], seed: int, test_fraction: float) -> list[bool]:
    """True where a photo goes to test: the round(test_fraction * n_groups) groups (at least one, never
    all) with the smallest seeded hash of their name. Depends only on the group names and the seed,
    so the listing order of the photos does not matter."""
    unique = sorted(set(groups))
    if len(unique) < 2:
        raise ValueError(f"need photos from at least 2 groups to split train/test, got {len(unique)}")
    score = {g: hashlib.sha256(f"{seed}:{g}".encode()).hexdigest() for g in unique}
    k = min(max(1, round(test_fraction * len(unique))), len(unique) - 1)
    test = set(sorted(unique, key=score.get)[:k])
    return [g in test for g in groups]


def load_image_set(source: str, image_size: int, seed: int = 0, test_fraction: float = 0.25,
                   upscale_small: bool = False) -> ImageSet:
    """Load a data source ('bundled', 'paper', 'pexels' or 'folder:PATH') as square uint8 photos of side
    `image_size`, every file validated, split by photo group (or the source's own split), cached on disk
    under `paths.CACHE_DIR`. Files left out are listed in `ImageSet.skipped` with the reason; photos
    smaller than `image_size` are among them unless `upscale_small`."""
    # Imported here: both modules import this one.
    from .cache import load_cached
    from .sources import resolve_source

    return load_cached(resolve_source(source), image_size, seed, test_fraction, upscale_small=upscale_small)


def load_images(config) -> ImageSet:
    """The photos an `ExperimentConfig` trains and tests on: its source, size, split and, when
    `max_test_images` is set, only that many test photos (the rehearsal's short evaluation)."""
    images = load_image_set(config.data, config.image_size, config.seed, config.test_fraction, config.upscale_small)
    if config.max_test_images:
        keep = config.max_test_images
        images = dataclasses.replace(images, test=images.test[:keep], test_names=images.test_names[:keep])
    return images


def to_float(images: torch.Tensor) -> torch.Tensor:
    return images.float().div_(255.0)


def _resize_boxes(images: torch.Tensor, boxes: torch.Tensor, resolution: int) -> torch.Tensor:
    """Crop boxes (K, 5: image index, x0, y0, x1, y1) from float images, each resized to resolution².

    roi_align averages ceil(box/resolution)² samples per output pixel, i.e. it box-filters when
    shrinking, so downscaled crops do not alias.
    """
    return roi_align(images, boxes, output_size=resolution, spatial_scale=1.0, sampling_ratio=-1, aligned=True)


class CropSampler:
    """Random training crops from uint8 photos on any device, drawn with a seeded CPU generator.

    Each epoch is a reproducible function of (seed, epoch): crop side uniform in
    [crop_scale * S, S], position uniform, horizontal flip with probability 1/2.
    """

    def __init__(self, images: torch.Tensor, resolution: int, crop_scale: float, samples_per_epoch: int, seed: int):
        self.images, self.resolution, self.crop_scale, self.seed = images, resolution, crop_scale, seed
        self.samples_per_epoch = samples_per_epoch or len(images)

    def steps(self, batch_size: int) -> int:
        return math.ceil(self.samples_per_epoch / batch_size)

    def epoch(self, epoch: int, batch_size: int):
        """Yield float RGB batches (B, 3, r, r) in [0, 1] on the images' device."""
        g = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
        n, size = len(self.images), self.images.shape[-1]
        total = self.samples_per_epoch
        # One pass over the photos in random order when samples_per_epoch is 0, else draws with replacement.
        order = torch.randperm(n, generator=g) if total == n else torch.randint(n, (total,), generator=g)
        lo = max(1, int(round(self.crop_scale * size)))
        sides = torch.randint(lo, size + 1, (total,), generator=g).float()
        x0 = torch.rand(total, generator=g) * (size - sides)
        y0 = torch.rand(total, generator=g) * (size - sides)
        flips = torch.rand(total, generator=g) < 0.5
        # Drawn on the CPU (the same numbers on every device), moved to the device once per epoch:
        # per-batch copies would make every step wait for the GPU.
        dev = self.images.device
        order, flips = order.to(dev), flips.to(dev).view(-1, 1, 1, 1)
        corners = torch.stack([x0, y0, x0 + sides, y0 + sides], dim=1).to(dev)
        for start in range(0, total, batch_size):
            sl = slice(start, start + batch_size)
            batch = to_float(self.images[order[sl]])
            if lo == size == self.resolution:
                out = batch  # whole photos at the training resolution: nothing to resample
            else:
                rows = torch.arange(len(batch), dtype=torch.float32, device=dev).unsqueeze(1)
                out = _resize_boxes(batch, torch.cat([rows, corners[sl]], dim=1), self.resolution)
            flip = flips[sl]
            yield torch.where(flip, out.flip(-1), out)


def test_views(images: torch.Tensor, resolution: int, views: int) -> torch.Tensor:
    """Deterministic evaluation views (N * views, 3, r, r), float in [0, 1]: the whole photo and,
    with views = 5, its four corner quarters at half size, each resized to the resolution."""
    n, size = len(images), images.shape[-1]
    boxes = [(i, 0, 0, size, size) for i in range(n)]
    if views == 5:
        h = size / 2
        boxes += [(i, x, y, x + h, y + h) for i in range(n) for x in (0, h) for y in (0, h)]
        boxes.sort(key=lambda b: b[0])
    b = torch.tensor(boxes, dtype=torch.float32, device=images.device)
    return _resize_boxes(to_float(images), b, resolution)
