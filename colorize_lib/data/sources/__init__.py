"""Data sources: where the image files of a `data` string come from.

- `bundled` — scikit-image's bundled colour photographs (offline default), grouped by scene.
- `paper` — the authors' published train/test images, fetched with git (`sources.paper`).
- `folder:PATH` — every image under PATH, recursively; near-duplicates grouped, seeded split.
- `pexels` — photos gathered with the authors' Pexels method (`sources.pexels.collect_pexels`),
  then read like a folder.

A source only lists files; `colorize_lib.data.cache` validates, resizes, splits and caches them.
"""

from pathlib import Path

from . import bundled, folder, paper, pexels
from .base import SourceFiles

__all__ = ["SourceFiles", "resolve_source"]


def resolve_source(source: str) -> SourceFiles:
    """List the files of a `data` string: 'bundled', 'paper', 'pexels' or 'folder:PATH'.
    'paper' fetches the authors' images first if they are not on disk yet."""
    if source == "bundled":
        return bundled.bundled_files()
    if source == "paper":
        return paper.paper_files(paper.fetch_paper())
    if source == "pexels":
        return pexels.pexels_files()
    if source.startswith("folder:"):
        path = source.removeprefix("folder:")
        if not path:
            raise ValueError("data source 'folder:' needs a path, e.g. 'folder:/data/photos'")
        return folder.folder_files(Path(path))
    raise ValueError(f"unknown data source {source!r}; expected 'bundled', 'paper', 'pexels' or 'folder:PATH'")
