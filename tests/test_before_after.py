"""compare: the report's before/after sliders and the reader's own photo compared in JupyterLab."""

import re

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from colorize_lib.before_after import BeforeAfter
from colorize_lib.engine.config import make_config
from colorize_lib.engine.inference import Run
from colorize_lib.engine.train import build
from colorize_lib.photos import compare_photo


def untrained(experiment: str) -> Run:
    config = make_config(experiment, "smoke")
    model, task = build(config)
    return Run(config, model.eval(), task, pd.DataFrame(), None, torch.device("cpu"))


def test_a_slider_per_photo_and_model_with_inline_images_only():
    truth, predicted = torch.rand(2, 3, 8, 12), torch.rand(2, 3, 8, 12)
    page = BeforeAfter(["a.jpg", "b.jpg"], truth, {"m1": predicted, "m2": predicted})._repr_html_()
    assert page.count("<figure class='compare'>") == 4 and page.count("type='range'") == 4
    sources = re.findall(r"src='([^']*)'", page)
    assert len(sources) == 8 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "http" not in page and "aspect-ratio: 12 / 8" in page
    assert "a.jpg: ← truth · m2 →" in page


@pytest.fixture
def photo_file(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "mine.png"
    Image.fromarray(rng.integers(0, 255, (90, 1300, 3), dtype=np.uint8)).save(path)  # wide: shown smaller
    return path


def test_a_readers_photo_through_each_model_as_widgets_that_redraw(photo_file):
    shown = compare_photo({"baseline": untrained("baseline"), "U-Net LAB": untrained("unet_lab")}, photo_file)
    assert shown.truth.shape == (44, 640, 3) and set(shown.colours) == {"baseline", "U-Net LAB"}
    box = shown.widget()
    _, pick, image, slider = box.children
    before = image.value
    slider.value = 0  # all model
    assert image.value != before and image.value == shown.wiped("baseline", 0)
    pick.value = "U-Net LAB"
    assert image.value == shown.wiped("U-Net LAB", 0)
    assert Image.open(__import__("io").BytesIO(shown.wiped("baseline", 100))).size == (640, 44)
    assert shown.static()._repr_html_().count("<figure class='compare'>") == 2  # the HTML report's version


def test_headless_runs_show_the_static_version(photo_file, monkeypatch, capsys):
    shown = compare_photo({"baseline": untrained("baseline")}, photo_file)
    displayed = []
    monkeypatch.setattr("IPython.display.display", lambda obj: displayed.append(obj))
    monkeypatch.setenv("COLORIZE_HEADLESS", "1")
    shown._ipython_display_()
    monkeypatch.delenv("COLORIZE_HEADLESS")
    shown._ipython_display_()
    assert isinstance(displayed[0], BeforeAfter) and type(displayed[1]).__name__ == "VBox"


def test_a_missing_photo_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="photo .*nope.jpg does not exist"):
        compare_photo({"baseline": untrained("baseline")}, tmp_path / "nope.jpg")
