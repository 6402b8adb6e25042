"""tables.show: every column of a results table on the page, means with their intervals, gray set apart."""

import re

import pandas as pd

from colorize_lib.tables import number, readable, show


def results_table() -> pd.DataFrame:
    rows = [
        dict(model="CNN baseline", run="baseline-0123456789", epochs=12, params_M=0.61, psnr_db=16.552578,
             psnr_db_lo=14.601234, psnr_db_hi=18.349876, ssim=0.81234, deltaE00=12.3456, n_photos=2.0,
             psnr_db_seed_mean=16.55, psnr_db_seed_std=0.3071, paper_psnr_db=11.2, lr=0.001),
        dict(model="Gray (a=b=0)", run=None, epochs=None, params_M=0.0, psnr_db=20.13, psnr_db_lo=16.95,
             psnr_db_hi=23.32, ssim=0.9, deltaE00=10.0, n_photos=2.0, psnr_db_seed_mean=None,
             psnr_db_seed_std=None, paper_psnr_db=None, lr=None),
    ]  # fmt: skip
    return pd.DataFrame(rows)


def headers(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", html, re.S)]


def test_every_csv_column_is_on_the_page_and_nothing_is_folded():
    table = results_table()
    html = show(table).to_html()
    shown = headers(html)
    for column in table.columns:
        owner = column.removesuffix("_lo").removesuffix("_hi").removesuffix("_std").removesuffix("_seed")
        assert any(h.split(" ")[0] in (column, owner, owner + "_seed_mean") for h in shown), (column, shown)
    assert "…" not in html and "..." not in html
    assert "psnr_db [lo, hi]" in shown and "psnr_db_seed_mean ± std" in shown
    assert not re.search(r"<th[^>]*>\s*0\s*</th>", html)  # no index column


def test_means_carry_their_intervals_rounded_to_what_they_support():
    page = readable(results_table())
    assert page.loc[0, "psnr_db [lo, hi]"] == "16.55 [14.60, 18.35]"
    assert page.loc[0, "psnr_db_seed_mean ± std"] == "16.55 ± 0.31"
    assert page.loc[0, "ssim"] == "0.812" and page.loc[0, "deltaE00"] == "12.3"
    assert page.loc[0, "n_photos"] == "2" and page.loc[0, "epochs"] == "12" and page.loc[0, "lr"] == "0.001"
    assert page.loc[1, "psnr_db_seed_mean ± std"] == "" and page.loc[1, "paper_psnr_db"] == ""
    assert number(float("nan"), "psnr_db") == "" and number("final epoch", "selected_by") == "final epoch"


def test_the_gray_row_and_the_papers_columns_are_set_apart():
    html = show(results_table()).to_html()
    styles = dict(re.findall(r"#(T_\w+_row\d+_col\d+)\s*\{([^}]*)\}", html))
    gray_cells = [k for k, v in styles.items() if "italic" in v]
    assert gray_cells and all("_row1_" in k for k in gray_cells)  # the gray row only
    assert any("#1f4e9c" in v for v in styles.values())  # the paper's column


def test_settings_show_what_matters_beside_the_paper_and_the_whole_config_folded():
    from colorize_lib.engine.config import make_config
    from colorize_lib.tables import settings

    shown = settings(make_config("unet_lab", "cpu"))
    rows = shown.rows.set_index("setting")
    assert rows.loc["resolution", "this run"] == "64" and rows.loc["resolution", "paper"] == "512"
    assert rows.loc["model", "paper"] == ""  # the same as the paper's: nothing beside it
    assert "bin_size" not in rows.index and "alpha" in rows.index  # only what applies to the model
    page = shown._repr_html_()
    assert "<details><summary>the whole config" in page and "soft_sigma" in page  # every setting, folded
    assert "soft_sigma" not in show(shown.rows).to_html()


def test_a_named_index_is_a_column_and_a_plain_one_is_dropped():
    claims = pd.DataFrame({"verdict": ["held"]}, index=pd.Index(["skip_helps"], name="id"))
    assert list(readable(claims.reset_index()).columns) == ["id", "verdict"]
    assert "skip_helps" in show(claims).to_html() and ">id<" in show(claims).to_html().replace(" ", "")


def test_a_bound_near_zero_and_a_small_p_value_keep_their_meaning_on_the_page():
    table = pd.DataFrame(
        [
            dict(
                comparison="a − b",
                difference=0.0051,
                difference_lo=0.0004,
                difference_hi=0.0098,
                p_value_adjusted=0.0003,
            )
        ]
    )
    page = readable(table)
    assert page["difference [lo, hi]"].iloc[0] == "0.0051 [0.0004, 0.0098]"
    assert page["p_value_adjusted"].iloc[0] == "< 0.001" and number(0.0412, "p_value") == "0.041"
