"""The authors' dataset: sparse, blob-filtered, pinned git fetch of dataset/ from a local repository."""

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorize_lib import paths
from colorize_lib.data import load_image_set
from colorize_lib.data.cache import load_cached
from colorize_lib.data.sources import paper
from colorize_lib.data.sources.paper import count_paper_files, fetch_paper, paper_files
from colorize_lib.data.validate import square_resize

pytestmark = pytest.mark.slow  # runs git against a local repository


def git(cwd: Path, *args: str) -> str:
    cmd = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", *args]
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def write_jpeg(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8), "RGB")
    path.parent.mkdir(parents=True, exist_ok=True)
    small.resize((64, 64), Image.Resampling.BICUBIC).save(path, quality=95)


@pytest.fixture
def origin(tmp_path) -> tuple[Path, str]:
    """A repository like the authors': dataset/train (3), dataset/test (2), a large file in another
    folder; a later commit adds a fourth training image. Returns (repo, first commit)."""
    repo = tmp_path / "origin"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "uploadpack.allowFilter", "true")
    git(repo, "config", "uploadpack.allowAnySHA1InWant", "true")
    for i in range(1, 4):
        write_jpeg(repo / "dataset" / "train" / f"train_img_{i:04d}.jpg", i)
    for i in range(1, 3):
        write_jpeg(repo / "dataset" / "test" / f"val_img_{i:04d}.jpg", 10 + i)
    (repo / "models").mkdir()
    (repo / "models" / "model.bin").write_bytes(np.random.default_rng(0).bytes(200_000))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "dataset")
    first = git(repo, "rev-parse", "HEAD")
    write_jpeg(repo / "dataset" / "train" / "train_img_0004.jpg", 4)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "one more")
    return repo, first


def test_fetch_transfers_only_dataset_at_the_pinned_commit(origin, tmp_path):
    repo, commit = origin
    dest = tmp_path / "raw" / "paper"
    dataset = fetch_paper(dest, f"file://{repo}", commit, expected_train=3, expected_test=2)
    assert dataset == dest / "dataset"
    assert count_paper_files(dataset) == (3, 2)  # not the 4th image of the later commit
    for name in ("train/train_img_0001.jpg", "test/val_img_0002.jpg"):
        assert (dataset / name).read_bytes() == (repo / "dataset" / name).read_bytes()
    assert not (dest / "models").exists()
    # The blob outside dataset/ was never transferred (blob filter + sparse checkout).
    blob = git(repo, "rev-parse", f"{commit}:models/model.bin")
    objects = git(dest, "rev-list", "--objects", "--missing=print", commit).split("\n")
    assert f"?{blob}" in objects
    assert git(dest, "rev-parse", "HEAD") == commit


def test_complete_fetch_is_not_repeated(origin, tmp_path, monkeypatch):
    repo, commit = origin
    dest = tmp_path / "paper"
    fetch_paper(dest, f"file://{repo}", commit, expected_train=3, expected_test=2)

    def no_git(args, cwd):
        raise AssertionError(f"git {args} ran although the dataset is complete")

    monkeypatch.setattr(paper, "_git", no_git)
    assert fetch_paper(dest, f"file://{repo}", commit, expected_train=3, expected_test=2) == dest / "dataset"


def test_fetch_resumes_in_the_same_folder(origin, tmp_path):
    repo, commit = origin
    dest = tmp_path / "paper"
    # An earlier run stopped after setting up the repository, pointing at an old address.
    dest.mkdir()
    git(dest, "init", "-q")
    git(dest, "remote", "add", "origin", "file:///nowhere")
    fetch_paper(dest, f"file://{repo}", commit, expected_train=3, expected_test=2)
    assert count_paper_files(dest / "dataset") == (3, 2)
    # Another stopped midway through the checkout: a file is missing.
    (dest / "dataset" / "train" / "train_img_0002.jpg").unlink()
    fetch_paper(dest, f"file://{repo}", commit, expected_train=3, expected_test=2)
    assert count_paper_files(dest / "dataset") == (3, 2)


def test_short_count_is_a_clear_error(origin, tmp_path):
    repo, commit = origin
    dest = tmp_path / "paper"
    with pytest.raises(
        RuntimeError,
        match=r"dataset holds 3 train/train_img_\*\.jpg and 2 test/val_img_\*\.jpg "
        r"files, expected 5 and 2",
    ):
        fetch_paper(dest, f"file://{repo}", commit, expected_train=5, expected_test=2)
    with pytest.raises(RuntimeError, match="git .*fetch.* failed in"):
        fetch_paper(tmp_path / "other", f"file://{tmp_path / 'missing'}", commit, expected_train=3, expected_test=2)


def test_paper_split_is_kept_and_independent_of_size(origin, tmp_path, monkeypatch):
    repo, commit = origin
    dataset = fetch_paper(tmp_path / "paper", f"file://{repo}", commit, expected_train=3, expected_test=2)
    for size, seed in ((32, 0), (48, 7)):
        data = load_cached(paper_files(dataset), size, seed=seed, cache_root=tmp_path / "cache")
        assert data.train_names == ["train/train_img_0001.jpg", "train/train_img_0002.jpg", "train/train_img_0003.jpg"]
        assert data.test_names == ["test/val_img_0001.jpg", "test/val_img_0002.jpg"]
        assert data.train.shape == (3, 3, size, size)
    # load_image_set('paper') fetches into RAW_DIR/paper, then validates and caches.
    monkeypatch.setattr(paths, "CACHE_DIR", tmp_path / "cache2")
    monkeypatch.setattr(paper, "fetch_paper", lambda: dataset)
    data = load_image_set("paper", 32)
    assert data.source == "paper" and len(data.test_names) == 2 and data.cache_dir.name == "paper-32"


def test_a_training_photo_of_a_test_photos_scene_is_left_out(tmp_path):
    """The authors split their photos at random: a stereo twin of a test photo may sit in training."""
    import skimage.data

    dataset = tmp_path / "dataset"
    sides = {
        "train": ["astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png"],
        "test": ["motorcycle_right.png", "rocket.jpg"],
    }
    for side, files in sides.items():
        (dataset / side).mkdir(parents=True)
        for i, file in enumerate(files, 1):
            name = f"train_img_{i:04d}.jpg" if side == "train" else f"val_img_{i:04d}.jpg"
            square = square_resize(Image.open(Path(skimage.data.data_dir) / file), 256)  # as the authors' 512 squares
            Image.fromarray(square).save(dataset / side / name, quality=95)
    data = load_cached(paper_files(dataset), 64, cache_root=tmp_path / "cache")
    assert data.test_names == ["test/val_img_0001.jpg", "test/val_img_0002.jpg"]
    assert data.train_names == [f"train/train_img_{i:04d}.jpg" for i in (1, 2, 3)]
    assert [n for n, _ in data.skipped] == ["train/train_img_0004.jpg"]
    assert data.skipped[0][1].startswith("near-duplicate of test/val_img_0001.jpg")
