"""Progress within an epoch: a few plain lines off a terminal, one final line once carriage returns
are applied (what a notebook executed with coalesce_streams keeps), silence for short epochs."""

import io
import re

import pytest

from colorize_lib.engine.train import PLAIN_UPDATES, epoch_bar


def _coalesced_lines(text: str) -> list[str]:
    # The rule nbclient's coalesce_streams applies: text before a carriage return on a line is dropped.
    return [line for line in re.sub(r".*\r(?=[^\n])", "", text).split("\n") if line]


def test_plain_bar_refreshes_a_few_times_and_keeps_one_final_line(monkeypatch):
    monkeypatch.setenv("COLORIZE_PROGRESS_AFTER_S", "0")
    out = io.StringIO()
    with epoch_bar(40, "unet_lab epoch 3/12", stream=out) as bar:
        for _ in range(40):
            bar.update(1)
    text = out.getvalue()
    refreshes = [s for s in re.split(r"[\r\n]", text) if s]
    assert 2 < len(refreshes) <= PLAIN_UPDATES + 2  # the start, a few updates, the final line
    assert _coalesced_lines(text) == [refreshes[-1]]
    assert refreshes[-1].startswith("unet_lab epoch 3/12: 40/40 steps (100%)")


def test_plain_bar_is_silent_for_an_epoch_shorter_than_the_threshold(monkeypatch):
    monkeypatch.setenv("COLORIZE_PROGRESS_AFTER_S", "30")
    out = io.StringIO()
    with epoch_bar(10, "baseline epoch 1/2", stream=out) as bar:
        bar.update(10)
    assert out.getvalue() == ""


def test_terminal_bar_is_cleared_at_the_end(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out = Terminal()
    with epoch_bar(5, "baseline epoch 1/2", stream=out) as bar:
        bar.update(5)
    text = out.getvalue()
    assert "baseline epoch 1/2" in text and "|" in text  # a drawn bar
    assert "\n" not in text and text.split("\r")[-2].strip() == ""  # blanked: the epoch line follows


def test_bad_threshold_names_the_variable(monkeypatch):
    monkeypatch.setenv("COLORIZE_PROGRESS_AFTER_S", "soon")
    with pytest.raises(ValueError, match="COLORIZE_PROGRESS_AFTER_S"):
        epoch_bar(5, "x", stream=io.StringIO())
