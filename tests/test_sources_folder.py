"""`folder:PATH`: any directory of images, every common format, recursively."""

import numpy as np
import pytest
from PIL import Image

from colorize_lib import paths
from colorize_lib.data import load_image_set
from colorize_lib.data.sources.folder import folder_files, folder_slug

FORMATS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "bmp": "BMP", "tif": "TIFF", "tiff": "TIFF"}


def photo(seed: int, w: int = 64, h: int = 64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8), "RGB")
    return np.asarray(small.resize((w, h), Image.Resampling.BICUBIC))


def test_every_format_loads_through_load_image_set(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "CACHE_DIR", tmp_path / "cache")
    root = tmp_path / "photos"
    names = ["a.JPG", "b.jpeg", "c.PNG", "d/e.webp", "d/f.bmp", "d/g/h.tif", "i.TIFF"]
    for i, name in enumerate(names):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(photo(i)).save(root / name, format=FORMATS[name.rsplit(".", 1)[1].lower()])
    (root / "readme.txt").write_text("not a photo")
    data = load_image_set(f"folder:{root}", 32, seed=0, test_fraction=0.3)
    assert sorted(data.train_names + data.test_names) == sorted(names)
    assert data.skipped == [] and len(data.test_names) == 2  # round(0.3 * 7) groups
    assert data.cache_dir == tmp_path / "cache" / f"{folder_slug(root)}-32"
    again = load_image_set(f"folder:{root}", 32, seed=0, test_fraction=0.3)
    assert again.test_names == data.test_names and (again.train == data.train).all()


def test_slug_tells_same_named_folders_apart(tmp_path):
    (tmp_path / "x" / "photos").mkdir(parents=True)
    (tmp_path / "y" / "photos").mkdir(parents=True)
    a, b = folder_slug(tmp_path / "x" / "photos"), folder_slug(tmp_path / "y" / "photos")
    assert a != b and a.startswith("folder-photos-") and b.startswith("folder-photos-")
    assert folder_slug(tmp_path / "we ird:name").startswith("folder-we_ird_name-")


def test_names_are_relative_paths(tmp_path):
    (tmp_path / "s").mkdir()
    Image.fromarray(photo(1)).save(tmp_path / "s" / "p.png")
    files = folder_files(tmp_path)
    assert files.names == ["s/p.png"] and files.groups is None and files.splits is None
    with pytest.raises(FileNotFoundError, match="does not exist"):
        folder_files(tmp_path / "absent")
