"""Results tables as a reader sees them in a report: `show(table)`, the one styling every notebook uses.

Every column of the table is on the page (nothing folded into pandas' "…"), without the 0, 1, 2 index.
Each mean and its interval share a cell, `16.55 [14.60, 18.35]`, under the mean's column name with
`[lo, hi]` added, and a mean over seeds and its standard deviation read `16.55 ± 0.31`; numbers are
rounded to what their intervals support (PSNR and other dB to 0.01, SSIM and AuC to 0.001, ΔE00 and
colourfulness to 0.1). The gray row (a = b = 0) is set apart in grey italics and the paper's columns in
blue. The CSV under tables/ keeps every digit; this only changes how the page shows it.
"""

import html
import math
from numbers import Integral, Real

import pandas as pd

from .scoring.stats import format_p, places_for

GRAY_MODEL = "Gray (a=b=0)"
INTERVAL = ("_lo", "_hi")
SPREAD = ("_seed_mean", "_seed_std")
# Decimals by what a column measures (matched on the name's end); anything else: 3 significant digits.
DECIMALS = (
    (("_db", "psnr", "_dB"), 2),
    (("ssim", "auc", "p_value"), 3),
    (("deltaE00", "colorfulness", "colorfulness_gap", "_gap"), 1),
    (("params_M",), 2),
    (("level",), 4),
)
GRAY_STYLE = "color: #666; font-style: italic; background: #f4f4f4"
STYLES = [
    {"selector": "", "props": "border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1em"},
    {"selector": "th", "props": "background: #f0f0f0; padding: 3px 8px; text-align: left; white-space: nowrap"},
    {"selector": "td", "props": "padding: 3px 8px; border-top: 1px solid #ddd; white-space: nowrap"},
]


def decimals(column: str) -> int | None:
    for ends, places in DECIMALS:
        if any(column == e or column.endswith(e) for e in ends):
            return places
    return None


def number(value, column: str, places: int | None = None) -> str:
    """One value as the page shows it: rounded for its column (or to `places`), integers as integers,
    p-values below 0.001 as '< 0.001', missing as blank."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool) or not isinstance(value, Real):
        return str(value)
    if column.startswith("p_value") or column == "p":
        return format_p(float(value))
    if isinstance(value, Integral) or (float(value).is_integer() and decimals(column) is None and abs(value) < 1e6):
        return f"{int(value):d}"
    places = decimals(column) if places is None else places
    return f"{value:.{places}f}" if places is not None else f"{value:.3g}"


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """The table as strings, one column per shown column: intervals and seed spreads joined to their means."""
    shown = {}
    for column in _sources(table):
        lo, hi = column + INTERVAL[0], column + INTERVAL[1]
        base = column.removesuffix(SPREAD[0])
        if lo in table and hi in table:
            cells = zip(table[column], table[lo], table[hi])
            shown[f"{column} [lo, hi]"] = [_with_interval(m, a, b, column) for m, a, b in cells]
        elif column.endswith(SPREAD[0]) and base + SPREAD[1] in table:
            spread = zip(table[column], table[base + SPREAD[1]])
            shown[f"{column} ± std"] = [_with_spread(m, sd, base) for m, sd in spread]
        else:
            shown[column] = [number(v, column) for v in table[column]]
    return pd.DataFrame(shown)


def show(table: pd.DataFrame):
    """The table styled for a report (a pandas Styler: HTML in Jupyter and in the rendered page)."""
    named = table.index.name is not None  # a named index (the claims' id) is a column for a reader
    table = table.reset_index(drop=not named)
    page, gray = readable(table), _gray_rows(table)
    styler = page.style.hide(axis="index").set_table_styles(STYLES).set_table_attributes('class="results"')
    styler = styler.apply(lambda row: [GRAY_STYLE if gray[row.name] else ""] * len(row), axis=1)
    # Words read from the left, numbers line up on the right (the Jupyter theme right-aligns every cell).
    words = [shown for shown, source in zip(page.columns, _sources(table)) if not _numeric(table[source])]
    styler = styler.set_properties(subset=words, **{"text-align": "left"})
    styler = styler.set_properties(subset=[c for c in page.columns if c not in words], **{"text-align": "right"})
    paper = [c for c in page.columns if c.startswith("paper")]
    if paper:
        styler = styler.set_properties(subset=paper, **{"color": "#1f4e9c"})
    return styler


def _sources(table: pd.DataFrame) -> list[str]:
    """The table column each shown column comes from: all but the bounds and spreads joined to a mean."""
    joined = set()
    for column in table.columns:
        if column + INTERVAL[0] in table and column + INTERVAL[1] in table:
            joined |= {column + INTERVAL[0], column + INTERVAL[1]}
        elif column.endswith(SPREAD[0]) and column.removesuffix(SPREAD[0]) + SPREAD[1] in table:
            joined.add(column.removesuffix(SPREAD[0]) + SPREAD[1])
    return [c for c in table.columns if c not in joined]


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _gray_rows(table: pd.DataFrame) -> list[bool]:
    if "model" in table:
        return [m == GRAY_MODEL for m in table["model"]]
    if "experiment" in table:
        return [e == "gray" for e in table["experiment"]]
    return [False] * len(table)


def _with_interval(mean, lo, hi, column: str) -> str:
    """`mean [lo, hi]`, with more decimals where a bound would otherwise round to zero (`places_for`)."""
    places = decimals(column)
    if places is not None and all(isinstance(v, Real) for v in (lo, hi)):
        places = places_for((lo, hi), places)
    text = number(mean, column, places)
    if text and number(lo, column):
        return f"{text} [{number(lo, column, places)}, {number(hi, column, places)}]"
    return text


def _with_spread(mean, std, column: str) -> str:
    text = number(mean, column)
    return f"{text} ± {number(std, column)}" if text and number(std, column) else text


# What a reader needs to know of a run's config, in this order; the rest is one click away.
READER_SETTINGS = (
    "model",
    "data",
    "resolution",
    "width",
    "epochs",
    "batch_size",
    "samples_per_epoch",
    "lr",
    "loss",
    "alpha",
    "bin_size",
    "crop_scale",
    "test_views",
    "seed",
    "device",
    "amp",
)


class Settings:
    """A config as a report shows it: the settings that matter to a reader, the paper's value beside each
    that differs from it, and the whole config in a collapsed <details> (see `settings`)."""

    def __init__(self, config, paper):
        self.config, self.paper = config, paper
        keep = [k for k in READER_SETTINGS if _applies(k, config)]
        self.rows = pd.DataFrame(
            {
                "setting": keep,
                "this run": [_value(getattr(config, k)) for k in keep],
                "paper": [_value(getattr(paper, k)) if getattr(paper, k) != getattr(config, k) else "" for k in keep],
            }
        )

    def _repr_html_(self) -> str:
        full = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(_value(v))}</td></tr>"
            for k, v in self.config.to_dict().items()
        )
        return (
            show(self.rows).to_html()
            + f"<details><summary>the whole config ({self.config.name}, profile {self.config.profile})</summary>"
            + f"<table class='config'>{full}</table></details>"
        )

    def __repr__(self) -> str:
        return self.rows.to_string(index=False)


def settings(config) -> Settings:
    """`config` as a short table against the paper's settings for the same model (engine.config)."""
    from .engine.config import make_config

    return Settings(config, make_config(config.model, "paper", config.data))


def _applies(key: str, config) -> bool:
    if key == "alpha":
        return config.loss == "mixed"
    if key == "bin_size":
        return config.model == "unet_classif"
    return True


def _value(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
