"""The runner keeps in-epoch progress out of the executed notebook, whatever folder make is run from."""

import json

import nbformat
import pytest

from colorize_lib.paths import NOTEBOOKS_DIR
from colorize_tools.notebook_runner import run_notebook

pytestmark = pytest.mark.slow  # starts a kernel

CODE = """from colorize_lib.engine.train import epoch_bar
with epoch_bar(3, "demo epoch 1/1") as bar:
    for _ in range(3):
        bar.update(1)
print("trained")"""


def test_progress_reaches_the_log_not_the_notebook_with_a_relative_reports_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("COLORIZE_PROGRESS_AFTER_S", "0")
    monkeypatch.chdir(tmp_path)  # `make reproduce` passes REPORTS=reports: relative to the checkout
    notebook = tmp_path / "notebooks" / "01_demo.ipynb"
    notebook.parent.mkdir()
    demo = nbformat.read(NOTEBOOKS_DIR / "01_data.ipynb", as_version=4)  # the study's kernel and language
    demo.cells = [nbformat.v4.new_code_cell(CODE)]
    nbformat.write(demo, notebook)
    assert (
        run_notebook(
            notebook,
            tmp_path.joinpath("reports", "notebooks", "01_demo.ipynb").relative_to(tmp_path),
            "smoke",
            "bundled",
        )
        == 0
    )  # noqa: E501
    executed = tmp_path / "reports" / "notebooks"
    outputs = [o for c in json.loads((executed / "01_demo.ipynb").read_text())["cells"] for o in c["outputs"]]
    text = "".join("".join(o.get("text", "")) for o in outputs)
    assert "trained" in text and "steps" not in text
    assert "demo epoch 1/1: 3/3 steps" in (executed / "01_demo.ipynb.log").read_text()
    assert not list(executed.glob("*.progress"))
