"""How many CPU cores this process may use, and thread counts capped to it.

A thread count above the usable cores never helps and can hurt badly
(onnxruntime with 1000 intra-op threads spends 98 s on one picture), so every
``--threads`` is capped here. "Usable" honours CPU affinity (taskset,
containers), which ``os.cpu_count`` ignores.
"""

from __future__ import annotations

import os


def usable_cores() -> int:
    """The cores this process may run on (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def cap_threads(threads: int) -> int:
    """``threads`` (at least 1) limited to the usable cores."""
    return max(1, min(int(threads), usable_cores()))
