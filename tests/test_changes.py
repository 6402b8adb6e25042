import math

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_notebook

from colorize_lib import reports
from colorize_tools import changes as changes_tool
from colorize_tools.index import build_index

pytestmark = pytest.mark.slow  # runs nbdime


def test_compare_table_matches_rows_by_their_text_columns():
    old = pd.DataFrame(dict(model=["a", "b", "gray"], psnr_db=[20.0, 21.0, 19.0], seconds=[1.0, 2.0, 3.0]))
    new = pd.DataFrame(dict(model=["b", "a", "new"], psnr_db=[21.0, 20.5, 18.0], seconds=[9.0, 9.0, 9.0]))
    changes = changes_tool.compare_table(old, new)
    moved = changes[changes["column"] == "psnr_db"]
    assert moved[["row", "old", "new"]].values.tolist() == [["a", 20.0, 20.5]]  # b moved rows, not values
    assert moved["delta"].item() == pytest.approx(0.5)
    rows = changes[changes["column"] == "(row)"].set_index("row")
    assert rows.loc["gray", "new"] == "—" and rows.loc["new", "old"] == "—"
    assert "seconds" not in set(changes["column"])  # speed moves between identical runs


def test_compare_table_ignores_tiny_and_shared_nan_but_not_a_value_appearing():
    old = pd.DataFrame(dict(x=[1.0, math.nan, math.nan]))
    new = pd.DataFrame(dict(x=[1.0 + 1e-12, math.nan, 2.0]))  # no text column: rows match by position
    changes = changes_tool.compare_table(old, new)
    assert changes[["row", "column", "new"]].values.tolist() == [["#3", "x", 2.0]]


def test_compare_tables_over_folders(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir(), new.mkdir()
    pd.DataFrame(dict(model=["m"], psnr_db=[20.0])).to_csv(old / "t1.csv", index=False)
    pd.DataFrame(dict(model=["m"], psnr_db=[22.0])).to_csv(new / "t1.csv", index=False)
    pd.DataFrame(dict(model=["m"], psnr_db=[1.0])).to_csv(old / "gone.csv", index=False)
    pd.DataFrame(dict(model=["m"], psnr_db=[1.0])).to_csv(new / "same.csv", index=False)
    pd.DataFrame(dict(model=["m"], psnr_db=[1.0])).to_csv(old / "same.csv", index=False)
    changes = changes_tool.compare_tables(old, new)
    assert changes[["table", "column"]].values.tolist() == [["gone", "(table)"], ["t1", "psnr_db"]]
    assert changes.loc[changes["table"] == "t1", "delta"].item() == 2.0
    with pytest.raises(FileNotFoundError, match="old_dir"):
        changes_tool.compare_tables(tmp_path / "nowhere", new)


def test_keep_previous_then_index_links_the_changes(tmp_path, capsys):
    assert changes_tool.keep_previous(tmp_path) is None  # nothing run yet: nothing kept
    (tmp_path / "notebooks").mkdir()
    nbformat.write(new_notebook(), tmp_path / "notebooks" / "02_baseline_cnn.ipynb")
    (tmp_path / "notebooks" / "03_unet_rgb.failed.ipynb").write_text("{}")
    reports.save_table(pd.DataFrame(dict(model=["m"], psnr_db=[20.0])), "02_baseline_cnn", tmp_path / "tables")
    kept = changes_tool.keep_previous(tmp_path)
    assert sorted(p.name for p in (kept / "notebooks").iterdir()) == ["02_baseline_cnn.ipynb"]
    reports.save_table(pd.DataFrame(dict(model=["m"], psnr_db=[20.25])), "02_baseline_cnn", tmp_path / "tables")
    page = build_index(tmp_path).read_text()
    assert "href='changes.html'" in page
    changes = (tmp_path / "changes.html").read_text()
    assert "1 numbers moved in 1 tables" in changes and "20.25" in changes
    assert changes_tool.main(["diff", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "== 02_baseline_cnn: output differences" in out
    assert "02_baseline_cnn m psnr_db 20 20.25 0.25" in " ".join(out.split())


def test_diff_without_a_previous_run_says_so(tmp_path, capsys):
    assert changes_tool.main(["diff", str(tmp_path)]) == 1
    assert "no previous run kept" in capsys.readouterr().err


def test_a_row_made_by_another_run_is_the_same_row_with_moved_numbers():
    from colorize_tools.changes import compare_table

    old = pd.DataFrame({"model": ["U-Net LAB"], "run": ["unet_lab-aaaa"], "psnr_db": [20.0]})
    new = pd.DataFrame({"model": ["U-Net LAB"], "run": ["unet_lab-bbbb"], "psnr_db": [21.5]})
    moved = compare_table(old, new)
    assert moved[["column", "old", "new", "delta"]].values.tolist() == [["psnr_db", 20.0, 21.5, 1.5]]


def test_a_verdict_that_changed_is_listed_under_its_claim():
    from colorize_tools.changes import compare_table

    old = pd.DataFrame({"claim": ["LAB is best"], "ours": ["1.0 dB [0.5, 1.5]"], "verdict": ["held"]})
    new = pd.DataFrame({"claim": ["LAB is best"], "ours": ["0.2 dB [-0.3, 0.7]"], "verdict": ["inconclusive"]})
    moved = compare_table(old, new)
    assert moved["row"].tolist() == ["LAB is best", "LAB is best"]
    assert moved[["column", "old", "new"]].values.tolist() == [
        ["ours", "1.0 dB [0.5, 1.5]", "0.2 dB [-0.3, 0.7]"],
        ["verdict", "held", "inconclusive"],
    ]
