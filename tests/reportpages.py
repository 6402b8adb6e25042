"""Small executed notebooks and HTML pages for the report tests, built in code (no kernel needed)."""

import base64
import io
from pathlib import Path

import nbformat
import pandas as pd
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from PIL import Image

CODE_MARKER = "code_that_must_not_show = 1"


def png_bytes(color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buf, "PNG")
    return buf.getvalue()


def executed_notebook(path: Path) -> Path:
    """Markdown with math, a wide DataFrame as an execute_result, a PNG figure as display_data."""
    wide = pd.DataFrame([[i * j for j in range(40)] for i in range(3)], columns=[f"column_{j}" for j in range(40)])
    nb = new_notebook(
        cells=[
            new_markdown_cell("# A report\nThe loss is $L = \\sum_i w_i \\lVert y_i \\rVert$."),
            new_code_cell(
                f"{CODE_MARKER}\nwide",
                execution_count=1,
                outputs=[
                    new_output(
                        "execute_result", execution_count=1, data={"text/html": wide.to_html(), "text/plain": "wide"}
                    )
                ],
            ),
            new_code_cell(
                "fig",
                execution_count=2,
                outputs=[
                    new_output(
                        "display_data",
                        data={"image/png": base64.b64encode(png_bytes()).decode(), "text/plain": "<Figure size 8x8>"},
                    )
                ],
            ),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path
