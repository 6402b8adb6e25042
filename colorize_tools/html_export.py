"""Render an executed notebook as a report that reads anywhere, offline.

    python -m colorize_tools.html_export IN.ipynb OUT.html

nbconvert's `lab` template, with the code hidden (the executed notebook is the place to read code),
figures inlined, and nothing loaded from the web: the stock page pulls require.js, MathJax and
mermaid from a CDN, which fails offline and leaks a request per view. Without MathJax, `$...$` math
shows as its TeX source, which reads fine for the few formulas in these notebooks. Wide tables scroll
sideways instead of being cut at the page's right edge.
"""

import sys
from pathlib import Path

import nbformat
from jinja2 import DictLoader
from nbconvert import HTMLExporter

from colorize_lib.files import atomic_write_text

# Extends the lab template (found on the exporter's own search path) and empties every block that
# would put a <script src="https://..."> in the page.
OFFLINE_TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<style type="text/css">
/* Wide DataFrames scroll sideways inside their output instead of being clipped. */
.jp-OutputArea-output { overflow-x: auto; }
.jp-RenderedHTMLCommon table { max-width: none; }
/* Without code cells the prompts only waste the left margin. */
.jp-OutputPrompt, .jp-InputPrompt { display: none; }
main { max-width: 1100px; margin: 0 auto; }
</style>
{%- endblock extra_css -%}
"""


def exporter() -> HTMLExporter:
    exp = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"offline.html.j2": OFFLINE_TEMPLATE})])
    exp.template_file = "offline.html.j2"
    exp.exclude_input = True
    exp.exclude_input_prompt = True
    exp.exclude_output_prompt = True
    exp.embed_images = True  # markdown images too; cell outputs are inlined as data: URLs anyway
    return exp


def render(notebook: Path, out: Path) -> Path:
    """Write `notebook` (executed .ipynb) as an offline HTML report at `out`, atomically."""
    notebook, out = Path(notebook), Path(out)
    if notebook.suffix != ".ipynb" or not notebook.is_file():
        raise FileNotFoundError(f"notebook {notebook} is not an existing .ipynb file: expected an executed notebook")
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception as e:  # nbformat raises several types for a file that is not a notebook
        raise ValueError(f"notebook {notebook} cannot be read as a Jupyter notebook: {e}") from None
    body, _ = exporter().from_notebook_node(nb, resources={"metadata": {"name": notebook.stem}})
    atomic_write_text(out, body)
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m colorize_tools.html_export IN.ipynb OUT.html", file=sys.stderr)
        return 2
    render(Path(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
