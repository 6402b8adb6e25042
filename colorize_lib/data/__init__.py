"""The one entry point to the photos: a `data` string in, a validated, split, cached `ImageSet` out.

The pipeline, one module a step, every import pointing down it: `sources` list a source's files;
`validate` checks each file and normalises it (8-bit RGB, centre-cropped square, Lanczos-resized to
`image_size`); `split` puts photo *groups* on one side (a stereo pair or near-duplicates never
straddle train and test); `cache` stores the result once per (source, size); this module loads it;
`crops` turns it into training crops and evaluation views on the training device.

Sources: `bundled` — the colour photographs that scikit-image ships (offline default); `paper` — the
authors' published train/test images, fetched with git; `stl10` — STL-10's train/test photos (96x96),
downloaded with torchvision (`stl10:PATH`: a copy already on disk); `folder:PATH` — every image under
PATH; `pexels` — photos collected with the authors' Pexels method.
"""

import dataclasses

from .cache import ImageSet, load_cached
from .sources import resolve_source

__all__ = ["ImageSet", "load_image_set", "load_images"]


def load_image_set(
    source: str,
    image_size: int,
    seed: int = 0,
    test_fraction: float = 0.25,
    upscale_small: bool = False,
    val_fraction: float = 0.0,
) -> ImageSet:
    """Load a data source ('bundled', 'paper', 'stl10', 'stl10:PATH', 'pexels' or 'folder:PATH') as
    square uint8 photos of side `image_size`, every file validated, split by photo group (or the source's
    own split), cached on disk under `paths.CACHE_DIR`. Files left out are listed in `ImageSet.skipped`
    with the reason; photos smaller than `image_size` are among them unless `upscale_small`. `val_fraction`
    > 0 carves a validation split of groups from the training side where it has enough groups
    (`split.validation_groups`)."""
    return load_cached(
        resolve_source(source), image_size, seed, test_fraction, upscale_small=upscale_small, val_fraction=val_fraction
    )


def load_images(config) -> ImageSet:
    """The photos an `ExperimentConfig` trains and tests on: its source, size, split and, when
    `max_test_images` is set, only that many test photos (the rehearsal's short evaluation)."""
    images = load_image_set(
        config.data, config.image_size, config.seed, config.test_fraction, config.upscale_small, config.val_fraction
    )
    if config.max_test_images:
        keep = config.max_test_images
        images = dataclasses.replace(images, test=images.test[:keep], test_names=images.test_names[:keep])
    return images
