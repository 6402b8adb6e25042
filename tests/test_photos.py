"""Colorizing one's own photos: any size and format in, the input's own L out, bad files named."""

import numpy as np
import pytest
from PIL import Image
from skimage.color import rgb2lab

from colorize_lib.__main__ import main as cli
from colorize_lib.data import load_images
from colorize_lib.data.validate import decode_rgb
from colorize_lib.engine.checkpoint import run_dir_for
from colorize_lib.engine.config import make_config
from colorize_lib.engine.train import fit
from colorize_lib.photos import model_size, photo_jobs


def smooth_photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A colourful (H, W, 3) uint8 photo: smooth gradients and a few discs, so JPEG keeps it close."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    channels = [np.sin(2 * np.pi * (f * x + g * y) + p) for f, g, p in rng.uniform(0.5, 3, (3, 3))]
    rgb = (np.stack(channels, axis=-1) * 0.45 + 0.5) * 255
    return rgb.clip(0, 255).astype(np.uint8)


def write_inputs(folder):
    """The formats people have: a big JPEG, 16-bit gray PNG, CMYK JPEG, RGBA PNG; and two bad files."""
    nested = folder / "holiday"
    nested.mkdir(parents=True)
    Image.fromarray(smooth_photo(2000, 3000)).save(nested / "big.jpg", quality=92)
    gray16 = (smooth_photo(120, 90, 1)[..., 0].astype(np.uint16) * 257).astype(np.uint16)
    Image.fromarray(gray16).save(folder / "gray16.png")
    Image.fromarray(smooth_photo(100, 140, 2)).convert("CMYK").save(folder / "cmyk.jpg", quality=95)
    rgba = np.dstack([smooth_photo(64, 80, 3), np.full((64, 80), 200, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(folder / "rgba.png")
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "notes.txt").write_text("not a photo\n")
    assert Image.open(folder / "gray16.png").mode.startswith("I")
    return {"holiday/big.jpg": (2000, 3000), "gray16.png": (120, 90), "cmyk.jpg": (100, 140), "rgba.png": (64, 80)}


def test_model_size_keeps_aspect_with_the_short_side_at_the_resolution():
    assert model_size(2000, 3000, 32) == (32, 48)
    assert model_size(3000, 2000, 96) == (144, 96)
    assert model_size(50, 5000, 32) == (32, 3200)
    assert model_size(10, 10, 16) == (16, 16)


def test_outputs_of_a_folder_keep_relative_paths_and_never_collide(tmp_path):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    for name in ("a.jpg", "a.png", "sub/b.tif", ".hidden.png"):
        (tmp_path / "in" / name).write_bytes(b"x")
    jobs = photo_jobs([tmp_path / "in"], tmp_path / "out")
    outs = [out.relative_to(tmp_path / "out").as_posix() for _, out in jobs]
    assert outs == ["a.png", "a_png.png", "sub/b.png"]


@pytest.mark.slow
def test_colorize_any_photo_folder_at_full_size_keeping_its_luminance(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COLORIZE_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    config = make_config("unet_lab", "smoke")
    fit(config, load_images(config), log=lambda *_: None)
    sizes = write_inputs(tmp_path / "in")

    code = cli(
        [
            "colorize",
            str(tmp_path / "in"),
            "-o",
            str(tmp_path / "out"),
            "--experiment",
            "unet_lab",
            "--profile",
            "smoke",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "4 colorized" in out and "2 skipped" in out
    assert f"{tmp_path / 'in' / 'empty.jpg'}: zero-bytes" in out
    assert f"{tmp_path / 'in' / 'notes.txt'}: not-an-image" in out
    for name, (h, w) in sizes.items():
        result = np.asarray(Image.open((tmp_path / "out" / name).with_suffix(".png")))
        assert result.shape == (h, w, 3), name
        source = decode_rgb(tmp_path / "in" / name)  # the input as decoded: CMYK, 16-bit, alpha on white
        delta_l = np.abs(rgb2lab(result)[..., 0] - rgb2lab(source)[..., 0])
        assert delta_l.mean() < 1.0, (name, delta_l.mean())
    big = np.asarray(Image.open(tmp_path / "out" / "holiday" / "big.png"))
    assert rgb2lab(big)[..., 1:].std() > 0.5  # it is coloured, not gray

    # --compare: input gray | colorized | original, by run folder this time.
    code = cli(
        [
            "colorize",
            str(tmp_path / "in" / "rgba.png"),
            "-o",
            str(tmp_path / "strips"),
            "--compare",
            "--run",
            str(run_dir_for(config)),
        ]
    )
    strip = np.asarray(Image.open(tmp_path / "strips" / "rgba.png"))
    assert code == 0 and strip.shape == (64, 240, 3)
    gray, colour, original = strip[:, :80], strip[:, 80:160], strip[:, 160:]
    assert np.array_equal(original, decode_rgb(tmp_path / "in" / "rgba.png"))
    assert np.abs(rgb2lab(gray)[..., 1:]).max() < 1.5  # no colour
    assert np.array_equal(colour, np.asarray(Image.open(tmp_path / "out" / "rgba.png")))


def test_nothing_colorized_exits_non_zero(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COLORIZE_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    run = tmp_path / "checkpoints" / "fake"
    run.mkdir(parents=True)
    (tmp_path / "empty.png").write_bytes(b"")
    assert cli(["colorize", str(tmp_path / "empty.png"), "-o", str(tmp_path / "out"), "--run", str(run)]) == 2
    assert "holds no finished run" in capsys.readouterr().err


def test_missing_run_names_the_notebook_and_the_make_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COLORIZE_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    code = cli(
        [
            "colorize",
            str(tmp_path),
            "-o",
            str(tmp_path / "out"),
            "--experiment",
            "unet_classif-field",
            "--profile",
            "smoke",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "no finished run of unet_classif-field for profile 'smoke'" in err
    assert "notebooks/05_classification.ipynb" in err and "make reproduce PROFILE=smoke" in err
    assert cli(["colorize", str(tmp_path), "-o", str(tmp_path / "out"), "--experiment", "nope"]) == 2
    assert "unknown experiment 'nope'" in capsys.readouterr().err
