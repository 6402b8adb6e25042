"""reports/index.html: the notebooks' HTML reports, Table 1, the claims, tables and figures, with how each
notebook ran and a link to what changed since the last run.

    python -m colorize_tools.index     # write reports/index.html from what the notebooks wrote
"""

import html
import json
import sys
from pathlib import Path

import pandas as pd

from colorize_lib.files import atomic_write_text
from colorize_lib.paths import REPORTS_DIR
from colorize_lib.reports import provenance_html
from colorize_lib.tables import show

from . import changes


def _run_infos(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.run.json"))]


INDEX_CSS = (
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
    ".scroll{overflow-x:auto}"
    "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    "th{background:#f4f4f4}table.provenance td{text-align:left}table.provenance td:first-child{color:#555}"
    "img{max-width:100%;border:1px solid #ddd}"
)


def build_index(reports: Path = REPORTS_DIR) -> Path:
    """reports/index.html: the notebooks' HTML reports, tables and figures, with how each ran and,
    when a previous run was kept (`changes.keep_previous`), a page of the numbers that moved since."""
    infos = _run_infos(reports / "runs")
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Colorization study — reports</title>",
        f"<style>{INDEX_CSS}</style></head><body>",
        "<h1>Automatic image colorization with CNNs — reproduction reports</h1>",
    ]
    if infos:
        keys = sorted({(i["profile"], i["data"], i["device"], i["commit"]) for i in infos})
        parts.append(
            "<p>"
            + "<br>".join(
                f"profile <b>{e(p)}</b> · data <b>{e(d)}</b> · device <b>{e(v)}</b> · commit <code>{e(c)}</code>"
                for p, d, v, c in keys
            )
            + "</p>"
        )
    page = changes.write_changes_page(reports)
    if page is not None:
        parts.append(f"<p><a href='{e(page.name)}'>Changed since the last run</a></p>")
    parts.append("<h2>Notebooks</h2><ul>")
    for page in sorted(reports.glob("[0-9][0-9]_*.html")):
        info = next((i for i in infos if i["notebook"] == page.stem), None)
        when = f" — finished {e(info['finished'])}" if info else ""
        details = (
            f"<details><summary>how it ran</summary><div class='scroll'>{provenance_html(info)}</div></details>"
            if info
            else ""
        )
        parts.append(f"<li><a href='{e(page.name)}'>{e(page.stem)}</a>{when}{details}</li>")
    parts.append("</ul>")
    table1 = reports / "tables" / "table1.csv"
    if table1.exists():
        parts.append("<h2>Table 1</h2><div class='scroll'>" + show(pd.read_csv(table1)).to_html() + "</div>")
    claims = reports / "tables" / "claims.csv"
    if claims.exists():  # written by notebook 08: each of the paper's claims with our verdict
        parts.append(
            "<h2>The paper's claims, judged</h2><div class='scroll'>" + show(pd.read_csv(claims)).to_html() + "</div>"
        )
    parts.append("<h2>Tables (CSV)</h2><ul>")
    parts += [
        f"<li><a href='tables/{e(p.name)}'>{e(p.name)}</a></li>" for p in sorted((reports / "tables").glob("*.csv"))
    ]
    parts.append("</ul><h2>Figures</h2>")
    for p in sorted((reports / "figures").glob("*.png")):
        parts.append(
            f"<h3>{e(p.stem)}</h3><a href='figures/{e(p.name)}'><img src='figures/{e(p.name)}' loading='lazy'></a>"
        )
    parts.append("</body></html>")
    path = reports / "index.html"
    atomic_write_text(path, "\n".join(parts))
    return path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv:
        print("usage: python -m colorize_tools.index", file=sys.stderr)
        return 2
    print(build_index())
    return 0


if __name__ == "__main__":
    sys.exit(main())
