"""scikit-image's bundled colour photographs: the offline default source."""

from pathlib import Path

from .base import SourceFiles

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


def bundled_files() -> SourceFiles:
    """The photos of `BUNDLED_PHOTOS`, named by file stem, in their listed scene groups."""
    import skimage.data

    folder = Path(skimage.data.data_dir)
    files = sorted(BUNDLED_PHOTOS)
    return SourceFiles(
        source="bundled",
        slug="bundled",
        root=folder,
        paths=[folder / f for f in files],
        names=[Path(f).stem for f in files],
        groups=[BUNDLED_PHOTOS[f] for f in files],
    )
