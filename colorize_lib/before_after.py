"""Look closer: truth and prediction at the same spot, one test photo at a time.

`BeforeAfter` renders, in a notebook and in its HTML report, one figure per photo: the prediction laid
over the truth and a slider that wipes between them (left of the handle: truth; right: prediction).
Plain HTML and CSS and one inline `oninput` handler; the images are inline PNGs, so the report reads
offline and asks nothing of the web. `make check-reports` moves every slider in Chromium and checks
that what is visible changes (colorize_tools/browser_check.py). JupyterLab shows untrusted outputs
without their handlers: there, `colorize.compare_photo` gives the same comparison as widgets, for any
photo file, through the `colorize` command's path.
"""

import base64
import html
import io

import numpy as np
import torch
from PIL import Image

DISPLAY_PX = 256  # shown side of each photo; small crops are enlarged with visible pixels, not blurred
STYLE = f"""<style>
.compare-set {{ display: flex; flex-wrap: wrap; gap: 12px; }}
.compare {{ margin: 0; font-size: 0.8em; }}
.compare .stage {{ position: relative; width: {DISPLAY_PX}px; }}
.compare img {{ position: absolute; inset: 0; width: 100%; height: 100%; image-rendering: pixelated; }}
.compare input {{ width: {DISPLAY_PX}px; margin: 4px 0 0; }}
</style>"""
# The handler: the slider's value is the share of the width, from the left, that shows the truth.
ON_INPUT = "this.previousElementSibling.lastElementChild.style.clipPath='inset(0 0 0 '+this.value+'%)'"


def png_uri(rgb: torch.Tensor) -> str:
    """(3, H, W) float RGB in [0, 1] -> a data: URI of its PNG."""
    array = (rgb.detach().cpu().clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class BeforeAfter:
    """Before/after figures: `truth` and each model's `predictions` (N, 3, H, W) for the photos `names`."""

    def __init__(self, names: list[str], truth: torch.Tensor, predictions: dict[str, torch.Tensor]):
        self.names, self.truth, self.predictions = list(names), truth, predictions

    def _repr_html_(self) -> str:
        figures, (h, w) = [], self.truth.shape[2:]
        for label, predicted in self.predictions.items():
            for i, name in enumerate(self.names):
                caption = html.escape(f"{name}: ← truth · {label} →")
                figures.append(
                    f"<figure class='compare'><div class='stage' style='aspect-ratio: {w} / {h}'>"
                    f"<img class='truth' alt='truth' src='{png_uri(self.truth[i])}'>"
                    f"<img class='over' alt='{html.escape(label)}' src='{png_uri(predicted[i])}' "
                    "style='clip-path: inset(0 0 0 50%)'></div>"
                    f"<input type='range' min='0' max='100' value='50' aria-label='{caption}' oninput=\"{ON_INPUT}\">"
                    f"<figcaption>{caption}</figcaption></figure>"
                )
        return STYLE + "<div class='compare-set'>" + "".join(figures) + "</div>"

    def __repr__(self) -> str:
        return f"BeforeAfter of {', '.join(self.predictions)} on {len(self.names)} test photos (open the HTML report)"
