"""Any folder of images, searched recursively."""

import hashlib
import re
from pathlib import Path

from ..validate import list_images
from .base import SourceFiles


def folder_slug(folder: Path, prefix: str = "folder") -> str:
    """A cache-folder name for a folder: its base name plus a hash of its absolute path, so two
    folders with the same name do not share a cache."""
    folder = folder.expanduser().resolve()
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:8]
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", folder.name) or "root"
    return f"{prefix}-{base}-{digest}"


def folder_files(folder: Path, source: str | None = None) -> SourceFiles:
    """Every image file under `folder`, named by its path relative to it ('sub/a.jpg'). Groups are
    left to near-duplicate detection and the split to the seed."""
    folder = Path(folder).expanduser()
    paths = list_images(folder)
    names = [p.relative_to(folder).as_posix() for p in paths]
    return SourceFiles(
        source=source or f"folder:{folder}", slug=folder_slug(folder), root=folder, paths=paths, names=names
    )
