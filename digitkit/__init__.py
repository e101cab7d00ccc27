"""digitkit: handwritten digit recognition from training to the edge.

The import root for the stages, each in its own top-level folder of the
source tree: ``digitkit.train`` (train/), ``digitkit.export`` (export/),
``digitkit.runtime`` (runtime/) and ``digitkit.benchmarks`` (benchmarks/).
"""

from importlib.metadata import PackageNotFoundError, version

try:  # pyproject.toml holds the version; the installed package's metadata carries it here
    __version__ = version("digitkit")
except PackageNotFoundError:  # a source tree put on sys.path by hand, never installed
    __version__ = "0+unknown"
