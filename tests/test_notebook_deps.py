"""Notebooks depend on what they import: the library files each one runs, through the package's imports."""

import ast

from colorize_lib.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from colorize_tools.notebook_deps import closure, import_graph, imports_in, main, notebook_files

LIB = PROJECT_ROOT / "colorize_lib"


def names(notebook: str) -> set[str]:
    return {p.relative_to(PROJECT_ROOT).as_posix() for p in notebook_files(NOTEBOOKS_DIR / f"{notebook}.ipynb")}


def test_a_training_notebook_depends_on_the_training_code_and_not_on_the_tooling():
    files = names("02_baseline_cnn")
    assert {"colorize_lib/model/losses.py", "colorize_lib/engine/train.py", "colorize_lib/model/models.py"} <= files
    assert "colorize_lib/study.py" in files and "colorize_lib/data/sources/bundled.py" in files
    assert not any(f.startswith("colorize_tools/") for f in files)
    assert "colorize_lib/photos.py" not in files  # the photo CLI: only notebook 08 uses it


def test_only_the_summary_uses_the_colorize_command():
    users = [
        p.stem for p in sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb")) if "colorize_lib/photos.py" in names(p.stem)
    ]
    assert users == ["08_summary"]


def test_relative_and_absolute_imports_and_the_packages_above_them():
    modules = {"colorize_lib", "colorize_lib.data.sources", "colorize_lib.data.sources.paper", "colorize_lib.paths"}
    tree = ast.parse("from ... import paths\nfrom ..sources.paper import fetch_paper\nimport numpy")
    assert imports_in(tree, "colorize_lib.data.sources.folder", False, modules) == modules


def test_the_closure_follows_the_graph():
    graph = {"a": {"b"}, "b": {"c"}, "c": set(), "d": {"a"}}
    assert closure({"a"}, graph) == {"a", "b", "c"}
    real = import_graph()
    assert "colorize_lib.model.losses" in closure({"colorize_lib.engine.train"}, real)


def test_the_makefile_line_names_every_notebook(capsys):
    notebooks = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
    assert main([str(p) for p in notebooks]) == 0
    rows = dict(entry.split(":", 1) for entry in capsys.readouterr().out.split())
    assert list(rows) == [p.stem for p in notebooks]
    assert all(
        f.startswith("colorize_lib/") and (PROJECT_ROOT / f).is_file() for r in rows.values() for f in r.split(",")
    )
