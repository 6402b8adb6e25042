"""Data sources: where the image files of a `data` string come from.

- `bundled` — scikit-image's bundled colour photographs (offline default), grouped by scene.
- `paper` — the authors' published train/test images, fetched with git (`sources.paper`).
- `folder:PATH` — every image under PATH, recursively; near-duplicates grouped, seeded split.
- `pexels` — photos gathered with the authors' Pexels method (`sources.pexels.collect_pexels`),
  then read like a folder.

A source only lists files; `colorize_lib.cache` validates, resizes, splits and caches them.
"""

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class SourceFiles:
    """The files of one data source, named (unique, stable) relative to `root`."""

    source: str  # the data string, e.g. "folder:/photos"
    slug: str  # file-name-safe id of the source, names its cache folder
    root: Path  # the folder the names are relative to (named in errors)
    paths: list[Path]
    names: list[str]
    groups: list[str] | None = None  # photo group per file; None = group near-duplicates
    splits: list[str] | None = None  # "train"/"test" per file when the source fixes the split
    extra: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> extra manifest columns


def resolve_source(source: str) -> SourceFiles:
    """List the files of a `data` string: 'bundled', 'paper', 'pexels' or 'folder:PATH'.
    'paper' fetches the authors' images first if they are not on disk yet."""
    if source == "bundled":
        from .bundled import bundled_files

        return bundled_files()
    if source == "paper":
        from .paper import fetch_paper, paper_files

        return paper_files(fetch_paper())
    if source == "pexels":
        from .pexels import pexels_files

        return pexels_files()
    if source.startswith("folder:"):
        from .folder import folder_files

        path = source.removeprefix("folder:")
        if not path:
            raise ValueError("data source 'folder:' needs a path, e.g. 'folder:/data/photos'")
        return folder_files(Path(path))
    raise ValueError(f"unknown data source {source!r}; expected 'bundled', 'paper', 'pexels' or 'folder:PATH'")
