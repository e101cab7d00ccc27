"""Training progress bars draw on a terminal and stay out of logs."""

from __future__ import annotations

import io
import sys

import pytest

pytest.importorskip("tqdm", reason="progress bars live in the train extra")

from digitkit.train.progress import progress_bar  # noqa: E402


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _drive(stream: io.StringIO, monkeypatch, enabled: bool = True) -> list[int]:
    monkeypatch.setattr(sys, "stderr", stream)
    return list(progress_bar(range(500), enabled=enabled, desc="epoch 1/1", mininterval=0))


def test_a_log_file_gets_no_bar(monkeypatch):
    log = io.StringIO()
    assert _drive(log, monkeypatch) == list(range(500))  # the loop itself is untouched
    assert log.getvalue() == ""


def test_a_terminal_gets_the_bar(monkeypatch):
    terminal = _Terminal()
    assert _drive(terminal, monkeypatch) == list(range(500))
    assert "epoch 1/1" in terminal.getvalue() and "\r" in terminal.getvalue()


def test_a_bar_turned_off_stays_off_on_a_terminal(monkeypatch):
    terminal = _Terminal()
    _drive(terminal, monkeypatch, enabled=False)
    assert terminal.getvalue() == ""
