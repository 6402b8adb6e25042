"""Progress within a training epoch.

On a terminal: a tqdm bar that refreshes freely and disappears at the end of the epoch, where the
per-epoch line (`train._progress_line`) takes its place.

Run headless by `make reproduce`: appended to the file COLORIZE_PROGRESS_FILE names, which the runner
follows into the terminal and the notebook's log, so the executed notebook and its HTML report keep only
the per-epoch lines. In a notebook a reader runs: in the cell.

Elsewhere (a notebook kernel, a log file): nothing for epochs shorter than
`COLORIZE_PROGRESS_AFTER_S` seconds (default 5), then at most four plain status lines per epoch, each
written as `\\r<status>` and the last ended by a newline. A reader of the stream (the runner, a log)
sees a few lines; a notebook executed with `coalesce_streams` keeps only the final line of each bar,
because everything before a carriage return on a line is dropped. tqdm.auto is not used: in a
kernel it renders a widget that the HTML report shows as "0%".
"""

import math
import os
import sys

from tqdm import tqdm

PLAIN_UPDATES = 4  # plain status lines per epoch at most (plus the final one)
PLAIN_FORMAT = "{desc}: {n_fmt}/{total_fmt} steps ({percentage:.0f}%), {elapsed} elapsed, ~{remaining} left"


def plain_after_s() -> float:
    """Seconds an epoch runs before plain progress lines appear; `COLORIZE_PROGRESS_AFTER_S` overrides."""
    raw = os.environ.get("COLORIZE_PROGRESS_AFTER_S", "5")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(
            f"environment variable COLORIZE_PROGRESS_AFTER_S = {raw!r} is invalid: expected a number of seconds >= 0"
        ) from None
    if value < 0 or not math.isfinite(value):
        raise ValueError(
            f"environment variable COLORIZE_PROGRESS_AFTER_S = {raw!r} is invalid: expected a number of seconds >= 0"
        )
    return value


def epoch_bar(steps: int, desc: str, enabled: bool = True, stream=None) -> tqdm:
    """A progress bar over an epoch's `steps` on `stream` (default: stderr, see the module docstring);
    call .update(1) per step and .close() at the end. `enabled=False` (other ranks than 0) gives a bar
    that prints nothing."""
    stream = default_stream() if stream is None else stream
    if _is_terminal(stream):
        return tqdm(
            total=steps, desc=desc, unit="step", file=stream, leave=False, disable=not enabled, dynamic_ncols=True
        )
    after = plain_after_s()
    # miniters and mininterval together bound the lines: a refresh needs a quarter of the epoch's
    # steps *and* `after` seconds since the last one; delay keeps short epochs silent.
    # maxinterval=inf: tqdm's monitor thread would otherwise drop miniters to 1 after 10 s without a
    # refresh and print on every later step.
    return tqdm(
        total=steps,
        desc=desc,
        file=stream,
        leave=True,
        disable=not enabled,
        delay=after,
        mininterval=after,
        maxinterval=math.inf,
        miniters=max(1, math.ceil(steps / PLAIN_UPDATES)),
        bar_format=PLAIN_FORMAT,
        ascii=True,
    )


_progress_files: dict[str, object] = {}  # path -> its open, line-buffered handle, one per process


def default_stream():
    """sys.stderr, or the file COLORIZE_PROGRESS_FILE names (a headless run), opened once for appending."""
    path = os.environ.get("COLORIZE_PROGRESS_FILE")
    if not path:
        return sys.stderr
    if path not in _progress_files:
        try:
            _progress_files[path] = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 (kept open)
        except OSError as e:  # progress must never stop a training: say where it goes instead
            print(f"progress file {path} cannot be opened ({e.strerror}); progress goes to stderr", file=sys.stderr)
            _progress_files[path] = sys.stderr
    return _progress_files[path]


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False
