"""argparse types shared by every subcommand: ranges are checked where the command line is read.

A value out of range is a usage error (exit code 2) with one line naming the
option and the range, before any model or data set is loaded.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from digitkit.runtime.cores import usable_cores


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None


def int_range(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number in [low, high] (no upper bound when ``high`` is None)."""

    def parse(text: str) -> int:
        value = _int(text)
        if value < low or (high is not None and value > high):
            bounds = f"at least {low}" if high is None else f"between {low} and {high}"
            raise argparse.ArgumentTypeError(f"must be {bounds} (got {value})")
        return value

    parse.__name__ = "whole number"
    return parse


positive_int = int_range(1)


def float_range(low: float, high: float, unit: str = ""):
    """An argparse type: a number in [low, high] (``unit`` names it in the message: "seconds")."""
    what = f" {unit}" if unit else ""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a number{what} between {low:g} and {high:g}, not {text!r}"
            ) from None
        if not low <= value <= high:  # also refuses nan
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g}{what} (got {text})")
        return value

    return parse


fraction = float_range(0.0, 1.0)  # a probability, an accuracy


def threads(text: str) -> int:
    """An argparse type: a thread count, at least 1, capped (with a note on stderr) at the usable cores."""
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    cores = usable_cores()
    if value > cores:
        print(f"digitkit: --threads {value} capped at the {cores} usable CPU cores", file=sys.stderr)
        return cores
    return value


def folder_path(text: str) -> Path:
    """An argparse type: a folder name, never empty (Path('') would be the current folder)."""
    if not text:
        raise argparse.ArgumentTypeError("an empty folder name")
    return Path(text)
