"""scikit-image's bundled colour photographs: the offline default source."""

from pathlib import Path

from ..data import BUNDLED_PHOTOS
from . import SourceFiles


def bundled_files() -> SourceFiles:
    """The photos of `data.BUNDLED_PHOTOS`, named by file stem, in their listed scene groups."""
    import skimage.data

    folder = Path(skimage.data.data_dir)
    files = sorted(BUNDLED_PHOTOS)
    return SourceFiles(source="bundled", slug="bundled", root=folder, paths=[folder / f for f in files],
                       names=[Path(f).stem for f in files], groups=[BUNDLED_PHOTOS[f] for f in files])
