import re

import pytest
from reportpages import CODE_MARKER, executed_notebook

from colorize_tools.html_export import main, render

pytestmark = pytest.mark.slow  # renders notebooks with nbconvert


@pytest.fixture
def page(tmp_path):
    return render(executed_notebook(tmp_path / "09_demo.ipynb"), tmp_path / "09_demo.html").read_text()


def test_report_loads_nothing_from_the_web(page):
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<script" not in page  # require.js, MathJax and mermaid loaders are gone


def test_report_hides_code_and_keeps_outputs(page):
    assert CODE_MARKER not in page
    assert "column_39" in page  # the whole wide table is there, not cut
    assert re.search(r"<img[^>]+src=\"data:image/png;base64,", page)
    assert r"\sum_i w_i" in page  # math stays readable as TeX source
    assert "overflow-x: auto" in page


def test_report_is_written_atomically_and_replaces_the_old_one(tmp_path):
    nb = executed_notebook(tmp_path / "09_demo.ipynb")
    out = tmp_path / "09_demo.html"
    out.write_text("stale")
    assert main([str(nb), str(out)]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_bad_input_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.ipynb"):
        render(tmp_path / "missing.ipynb", tmp_path / "x.html")
    junk = tmp_path / "junk.ipynb"
    junk.write_text("not json")
    with pytest.raises(ValueError, match="junk.ipynb cannot be read"):
        render(junk, tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()
