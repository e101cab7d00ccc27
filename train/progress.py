"""Progress bars that only draw on a terminal.

tqdm redraws its bar with carriage returns, several times a second: in a log file or a CI log (not a
terminal) that is thousands of lines of one epoch. There the bar stays off and the trainer's own
one line per epoch is the progress report.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from tqdm import tqdm


def progress_bar(iterable: Iterable[Any] | None = None, *, enabled: bool = True, **options: Any) -> tqdm:
    """A tqdm bar on stderr, drawn only when ``enabled`` and stderr is a terminal (else a silent passthrough)."""
    return tqdm(iterable, disable=not (enabled and sys.stderr.isatty()), file=sys.stderr, **options)
