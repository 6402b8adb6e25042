"""Atomic writes: a reader (or a rerun after a crash) never sees half a file, or half a folder."""

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: Path, suffix: str = ".tmp"):
    """Yield a temporary path beside `path`; it replaces `path` only if the block completes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; reports should be readable
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def replace_folder(tmp: Path, folder: Path, marker: str) -> None:
    """Rename the finished folder `tmp` to `folder`. An older `folder` is moved aside first (a directory
    rename cannot replace a non-empty one) and deleted after. If another process put a finished folder
    there a moment earlier (it holds `marker`, written last), that one is kept and `tmp` deleted."""
    tmp, folder = Path(tmp), Path(folder)
    old = None
    if folder.exists():
        old = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".old"))
        os.replace(folder, old / folder.name)
    try:
        os.replace(tmp, folder)
    except OSError:
        if not (folder / marker).exists():
            raise
        shutil.rmtree(tmp)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
