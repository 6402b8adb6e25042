"""What every data source hands on: its files, named, with groups and splits where it knows them."""

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
    splits: list[str] | None = None  # "train"/"test" per file when the source fixes the split (test kept whole)
    extra: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> extra manifest columns
