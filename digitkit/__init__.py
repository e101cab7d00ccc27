"""digitkit: handwritten digit recognition from training to the edge.

The import root for the stages, each in its own top-level folder of the
source tree: ``digitkit.train`` (train/), ``digitkit.export`` (export/),
``digitkit.runtime`` (runtime/) and ``digitkit.benchmarks`` (benchmarks/).
"""

__version__ = "0.1.0"
