"""The notebooks read like the method, not like copies of each other: no block of 4 or more code lines
appears in two of them (blank lines and comments aside), none has more than 60 code lines (the work is in
the library), and their parameter cells hold no profile values (profiles are data in config.PROFILES)."""

import itertools
import json

import pytest

from colorize_lib.paths import NOTEBOOKS_DIR

NOTEBOOKS = sorted(p.stem for p in NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
BLOCK = 4
MAX_CODE_LINES = 60


def code_lines(name: str) -> list[str]:
    nb = json.loads((NOTEBOOKS_DIR / f"{name}.ipynb").read_text())
    lines = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and "parameters" not in cell["metadata"].get("tags", []):
            lines += [
                s.strip() for s in "".join(cell["source"]).splitlines() if s.strip() and not s.strip().startswith("#")
            ]
    return lines


def blocks(lines: list[str]) -> set[tuple[str, ...]]:
    return {tuple(lines[i : i + BLOCK]) for i in range(len(lines) - BLOCK + 1)}


def test_the_block_finder_finds_a_shared_block():
    assert blocks(list("abcdef")) & blocks(list("xbcdey")) == {("b", "c", "d", "e")}


@pytest.mark.parametrize("a, b", list(itertools.combinations(NOTEBOOKS, 2)))
def test_no_block_of_code_is_shared_between_two_notebooks(a, b):
    shared = blocks(code_lines(a)) & blocks(code_lines(b))
    assert not shared, f"{a} and {b} share {sorted(shared)[0]}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_notebook_is_short_the_library_does_the_work(name):
    assert len(code_lines(name)) <= MAX_CODE_LINES


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_parameter_cells_leave_profile_values_to_the_profiles(name):
    nb = json.loads((NOTEBOOKS_DIR / f"{name}.ipynb").read_text())
    params = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    text = "".join(params["source"])
    assert "paper:" not in text and "(paper" not in text, text
