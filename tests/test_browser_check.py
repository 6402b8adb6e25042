"""The browser check on a clean report and on broken ones; needs Debian's chromium. A developer's machine
without it skips these tests (the reason says so); CI never does (.ci/run installs chromium, CI=true)."""

import os
from pathlib import Path

import pytest
from reportpages import executed_notebook

from colorize_tools.browser_check import CHROMIUM, main
from colorize_tools.html_export import render

pytestmark = [
    pytest.mark.slow,  # starts a browser
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason=f"{CHROMIUM} not installed (apt-get install chromium); CI installs it and never skips",
    ),
]


@pytest.fixture
def reports(tmp_path):
    render(executed_notebook(tmp_path / "nb.ipynb"), tmp_path / "reports" / "09_demo.html")
    return tmp_path / "reports"


def test_clean_report_passes_and_is_photographed(reports, capsys):
    assert main([str(reports)]) == 0
    assert "1 pages in Chromium: 0 with problems" in capsys.readouterr().out
    assert (reports / "check" / "09_demo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


BROKEN = {
    "10_image": ('<img src="figures/missing.png">', "broken image: figures/missing.png"),
    "11_script": (
        '<script src="http://example.invalid/mathjax.js"></script>',
        "request to a non-local URL: http://example.invalid",
    ),
    "12_css": (
        '<link rel="stylesheet" href="https://example.invalid/x.css">',
        "request to a non-local URL: https://example.invalid",
    ),
    "13_console": ("<script>console.error('plot failed')</script>", "console error: plot failed"),
    "14_exception": ("<script>notDefinedAnywhere()</script>", "uncaught exception: ReferenceError"),
}


def test_each_broken_report_fails_with_its_reason(reports, capsys):
    clean = (reports / "09_demo.html").read_text()
    for name, (injected, _) in BROKEN.items():
        (reports / f"{name}.html").write_text(clean.replace("</main>", injected + "</main>"))
    assert main([str(reports)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith("checked 6 pages in Chromium: 5 with problems")
    assert not any("09_demo.html" in line for line in lines[:-1])
    for name, (_, expected) in BROKEN.items():
        assert any(line.startswith(str(reports / f"{name}.html")) and expected in line for line in lines), name


def test_comparison_sliders_are_dragged_and_must_change_the_photo(reports, capsys):
    import torch

    from colorize_lib.before_after import ON_INPUT, BeforeAfter

    truth = torch.zeros(2, 3, 16, 16)
    truth[:, 0] = 1.0  # red truth, blue prediction: any wipe shows
    predicted = torch.zeros(2, 3, 16, 16)
    predicted[:, 2] = 1.0
    widget = BeforeAfter(["a", "b"], truth, {"model": predicted})._repr_html_()
    clean = (reports / "09_demo.html").read_text()
    (reports / "09_demo.html").write_text(clean.replace("</main>", widget + "</main>"))
    (reports / "15_stuck.html").write_text(clean.replace("</main>", widget.replace(ON_INPUT, "") + "</main>"))
    assert main([str(reports)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith("checked 2 pages in Chromium: 1 with problems; 4 comparison sliders dragged")
    stuck = [line for line in lines if "does not change the photo" in line]
    assert len(stuck) == 2 and all(line.startswith(str(reports / "15_stuck.html")) for line in stuck)


def test_the_smoke_studys_reports_pass_in_chromium(smoke_run, tmp_path, capsys):
    """Every page of the suite's smoke `make reproduce` (the one CI reads as the study's reports), opened as
    `make check-reports` does: a copy, so the screenshot it takes does not join the reports other tests read."""
    import shutil

    reports = shutil.copytree(smoke_run / "reports", tmp_path / "reports")
    pages = sorted(p.name for p in reports.glob("*.html"))
    assert "index.html" in pages and len(pages) >= 9, pages  # the index and one page a notebook
    status = main([str(reports)])
    out = capsys.readouterr().out
    assert status == 0, out[-3000:]
    assert f"checked {len(pages)} pages in Chromium: 0 with problems" in out
    assert (reports / "check" / "01_data.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
