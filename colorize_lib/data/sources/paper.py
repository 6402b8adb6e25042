"""The authors' published images (paper §4.1): `dataset/train` and `dataset/test` of their
repository at a pinned commit, fetched with the git CLI so only that folder is transferred.

The whole repository is about 725 MB; a cone-mode sparse checkout of `dataset/` plus a blob-less,
depth-1 fetch of the one commit downloads only the blobs that folder needs (and, as cone mode always
does, the few files at the top level: README and notebooks).
"""

import os
import subprocess
from pathlib import Path

from ... import paths
from ...reference import PAPER_TEST_IMAGES, PAPER_TRAIN_IMAGES
from .base import SourceFiles

PAPER_REPO = "https://github.com/ADnocap/Recolour-Greyscale"
PAPER_COMMIT = "5a5259149cbfe2c89f0191bc54a167c6ae24dafc"
TRAIN_PATTERN, TEST_PATTERN = "train_img_*.jpg", "val_img_*.jpg"


def _git(args: list[str], cwd: Path) -> str:
    # No prompts (a missing repository must fail, not wait for a password); no detached-HEAD advice.
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0")
    cmd = ["git", "-c", "advice.detachedHead=false", *args]
    try:
        done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    except FileNotFoundError:
        raise RuntimeError("the git command-line tool is needed to fetch the paper's dataset; install git") from None
    if done.returncode != 0:
        raise RuntimeError(f"`git {' '.join(args)}` failed in {cwd} (exit {done.returncode}): {done.stderr.strip()}")
    return done.stdout.strip()


def count_paper_files(dataset: Path) -> tuple[int, int]:
    """(train, test) image counts in a `dataset` folder: train/train_img_*.jpg, test/val_img_*.jpg."""
    return len(list((dataset / "train").glob(TRAIN_PATTERN))), len(list((dataset / "test").glob(TEST_PATTERN)))


def _check_counts(dataset: Path, expected_train: int, expected_test: int) -> None:
    n_train, n_test = count_paper_files(dataset)
    if n_train < expected_train or n_test < expected_test:
        raise RuntimeError(
            f"{dataset} holds {n_train} train/{TRAIN_PATTERN} and {n_test} test/{TEST_PATTERN} files, "
            f"expected {expected_train} and {expected_test}; rerun fetch_paper() to resume the download"
        )


def _head(dest: Path) -> str | None:
    if not (dest / ".git").is_dir():
        return None
    done = subprocess.run(["git", "rev-parse", "--verify", "-q", "HEAD"], cwd=dest, capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def fetch_paper(
    dest: Path | None = None,
    repo_url: str = PAPER_REPO,
    commit: str = PAPER_COMMIT,
    expected_train: int = PAPER_TRAIN_IMAGES,
    expected_test: int = PAPER_TEST_IMAGES,
) -> Path:
    """Fetch `dataset/` of `repo_url` at `commit` into `dest` (default `paths.RAW_DIR / 'paper'`) and
    return `dest / 'dataset'`.

    Resumable: a rerun continues in the same folder (objects already fetched stay). Raises if the
    checked-out folders hold fewer images than expected.
    """
    dest = Path(dest or paths.RAW_DIR / "paper")
    dataset = dest / "dataset"
    if _head(dest) == commit:
        n_train, n_test = count_paper_files(dataset)
        if n_train >= expected_train and n_test >= expected_test:
            return dataset  # already complete: no git traffic
    dest.mkdir(parents=True, exist_ok=True)
    if not (dest / ".git").is_dir():
        _git(["init", "-q"], dest)
    remotes = _git(["remote"], dest).split()
    _git(["remote", "set-url" if "origin" in remotes else "add", "origin", repo_url], dest)
    _git(["sparse-checkout", "set", "--cone", "dataset"], dest)
    _git(["fetch", "-q", "--depth", "1", "--filter=blob:none", "origin", commit], dest)
    # -f: after an interrupted checkout the files already written are untracked and would block
    # a plain checkout; they are the same files, so overwriting them is safe.
    _git(["checkout", "-q", "-f", commit], dest)
    _check_counts(dataset, expected_train, expected_test)
    return dataset


def paper_files(dataset: Path) -> SourceFiles:
    """The images of a fetched `dataset` folder with the authors' own train/test split, named
    'train/train_img_0001.jpg' etc. The split is not recomputed; photos are grouped like a folder's, and
    a training photo in the group of a test photo is skipped (`cache`), as the authors' random split does
    not keep near-duplicates apart."""
    dataset = Path(dataset)
    paths = sorted((dataset / "train").glob(TRAIN_PATTERN)) + sorted((dataset / "test").glob(TEST_PATTERN))
    if not paths:
        raise FileNotFoundError(f"no {TRAIN_PATTERN} or {TEST_PATTERN} files under {dataset}; run fetch_paper()")
    names = [p.relative_to(dataset).as_posix() for p in paths]
    return SourceFiles(
        source="paper",
        slug="paper",
        root=dataset,
        paths=paths,
        names=names,
        splits=[n.split("/", 1)[0] for n in names],
    )
