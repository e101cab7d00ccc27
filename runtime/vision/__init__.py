"""The one picture -> digits pipeline, in stages a reader can name.

    load       images.load_picture (EXIF orientation, alpha, 16-bit) -> grey
    binarise   binarise.py   local (adaptive) threshold at a working scale, window from the writing's size
               polarity.py   which way round the ink is (dark on light, or light on dark)
    lines      lines.py      the faint printed lines of squared or lined paper are not ink
    components components.py connected pieces of ink; how each stands out of its surroundings
    clean      clean.py      drop what is not writing: page and table edges, shadows, specks, faint marks
    group      group.py      pieces of one digit -> digits; digits -> rows (slanted rows too)
    split      split.py      cut touching digits, only when recognition says so
    normalise  normalise.py  each digit as MNIST was made: 20×20 box, centre of mass in 28×28
    orient     orient.py     a sideways page: try the other orientations when the reading is weak

``pipeline.py`` runs them, under the tuning numbers of ``config.VisionConfig``; ``stages.py`` draws what
each made (``digitkit read --stages DIR``). One digit (``to_mnist``) and many (``read_number``, the app's
frames) go through the same stages: a single-digit picture is a page with one digit.
"""

from digitkit.runtime.vision.config import VisionConfig
from digitkit.runtime.vision.normalise import BOX, CENTRE, SIZE
from digitkit.runtime.vision.pipeline import Digit, Page, find_digits, find_rows, read_one_digit, to_mnist

__all__ = [
    "BOX",
    "CENTRE",
    "SIZE",
    "VisionConfig",
    "Digit",
    "Page",
    "find_digits",
    "find_rows",
    "read_one_digit",
    "to_mnist",
]
