"""Data sources: where the image files of a `data` string come from.

- `bundled` — scikit-image's bundled colour photographs (offline default), grouped by scene.
- `paper` — the authors' published train/test images, fetched with git (`sources.paper`).
- `stl10` — STL-10's 5,000 train and 8,000 test photos (96x96), downloaded with torchvision,
  STL-10's own split (`sources.stl10`); `stl10:PATH` — a copy already in PATH/stl10_binary.
- `folder:PATH` — every image under PATH, recursively; near-duplicates grouped, seeded split.
- `pexels` — photos gathered with the authors' Pexels method (`sources.pexels.collect_pexels`),
  then read like a folder.

A source only lists files; `colorize_lib.data.cache` validates, resizes, splits and caches them.
"""

from pathlib import Path

from . import bundled, folder, paper, pexels, stl10
from .base import SourceFiles

__all__ = ["SourceFiles", "resolve_source"]


def resolve_source(source: str) -> SourceFiles:
    """List the files of a `data` string: 'bundled', 'paper', 'stl10', 'stl10:PATH', 'pexels' or
    'folder:PATH'. 'paper' and 'stl10' fetch their images first if they are not on disk yet; 'stl10:PATH'
    never downloads."""
    if source == "bundled":
        return bundled.bundled_files()
    if source == "paper":
        return paper.paper_files(paper.fetch_paper())
    if source == "stl10":
        return stl10.stl10_files(stl10.fetch_stl10())
    if source.startswith("stl10:"):
        path = source.removeprefix("stl10:")
        if not path:
            raise ValueError("data source 'stl10:' needs a path, e.g. 'stl10:/data/stl10' (holding stl10_binary/)")
        return stl10.stl10_files(Path(path), source)
    if source == "pexels":
        return pexels.pexels_files()
    if source.startswith("folder:"):
        path = source.removeprefix("folder:")
        if not path:
            raise ValueError("data source 'folder:' needs a path, e.g. 'folder:/data/photos'")
        return folder.folder_files(Path(path))
    raise ValueError(
        f"unknown data source {source!r}; expected 'bundled', 'paper', 'stl10', 'stl10:PATH', 'pexels' or 'folder:PATH'"
    )
