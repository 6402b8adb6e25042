import hashlib
import json

import torch

from colorize_lib import reports
from colorize_lib.data import ImageSet
from colorize_lib.engine import device
from colorize_lib.provenance import FIELDS, as_table
from colorize_tools.index import build_index


def image_set(tmp_path):
    cache = tmp_path / "cache" / "bundled-32"
    cache.mkdir(parents=True)
    (cache / "manifest.csv").write_text("file,sha256,split\na.png,00,train\nb.png,11,test\n")
    blank = torch.zeros(1, 3, 4, 4, dtype=torch.uint8)
    return ImageSet("bundled", blank.repeat(3, 1, 1, 1), blank, ["a", "b", "c"], ["d"], cache_dir=cache)


def test_run_info_pins_the_report_to_its_inputs(tmp_path, monkeypatch):
    monkeypatch.setattr(device, "_STARTED", None)
    device.setup(3)
    images = image_set(tmp_path)
    path = reports.write_run_info(
        "02_baseline_cnn",
        "smoke",
        "bundled",
        "cpu (2 cores)",
        tmp_path / "runs",
        images=images,
        seeds=[3, 3, 4],
        show=False,
    )
    info = json.loads(path.read_text())
    expected_sha = hashlib.sha256((images.cache_dir / "manifest.csv").read_bytes()).hexdigest()
    assert info["manifest_sha256"] == expected_sha
    assert (info["n_train"], info["n_test"], info["data_source"]) == (3, 1, "bundled")
    assert info["seeds"] == [3, 4]
    assert info["torch"] == torch.__version__ and info["python"].count(".") == 2
    assert info["started"] == device.started()[0].isoformat(timespec="seconds")
    assert info["wall_s"] >= 0 and info["dirty"] in (True, False, None)
    assert info["profile"] == "smoke" and info["notebook"] == "02_baseline_cnn"


def test_old_run_info_and_missing_setup_show_dashes(tmp_path, monkeypatch):
    monkeypatch.setattr(device, "_STARTED", None)
    path = reports.write_run_info("01_data", "cpu", "bundled", "cpu", tmp_path, show=False)
    info = json.loads(path.read_text())
    assert info["started"] is None and info["manifest_sha256"] is None and info["seeds"] is None
    table = as_table(dict(notebook="01_data", profile="cpu", data="bundled", device="cpu", commit="abc"))
    assert list(table["item"]) == [label for _, label in FIELDS]
    values = dict(zip(table["item"], table["value"]))
    assert values["profile"] == "cpu" and values["data manifest SHA-256"] == "—"


def test_setup_keeps_the_first_start_time(monkeypatch):
    monkeypatch.setattr(device, "_STARTED", None)
    device.setup(0)
    first = device.started()
    device.setup(1)  # fit() calls setup again: the notebook's start must not move
    assert device.started() == first


def test_index_shows_a_provenance_table_per_notebook(tmp_path, monkeypatch):
    monkeypatch.setattr(device, "_STARTED", None)
    device.setup(0)
    for name in ("01_data", "02_baseline_cnn"):
        reports.write_run_info(
            name,
            "smoke",
            "bundled",
            "cpu (2 cores)",
            tmp_path / "runs",
            images=image_set(tmp_path / name),
            seeds=0,
            show=False,
        )
        (tmp_path / f"{name}.html").write_text("<html></html>")
    page = build_index(tmp_path).read_text()
    assert page.count('class="dataframe provenance"') == 2
    assert "data manifest SHA-256" in page and "profile <b>smoke</b>" in page
    assert "Changed since the last run" not in page  # no previous run kept
