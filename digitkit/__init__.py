"""digitkit: handwritten digit recognition from training to the edge.

The import root for the stages, each in its own top-level folder of the
source tree: ``digitkit.train`` (train/), ``digitkit.export`` (export/),
``digitkit.runtime`` (runtime/) and ``digitkit.benchmarks`` (benchmarks/).
"""


def __getattr__(name: str) -> str:
    """``__version__`` on first use: importlib.metadata costs every process ~6 MiB and ~20 ms, and a board's
    ``digitkit predict`` or model-only import never asks for it (docs/edge.md)."""
    if name != "__version__":
        raise AttributeError(f"module 'digitkit' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:  # pyproject.toml holds the version; the installed package's metadata carries it here
        value = version("digitkit")
    except PackageNotFoundError:  # a source tree put on sys.path by hand, never installed
        value = "0+unknown"
    globals()["__version__"] = value
    return value
