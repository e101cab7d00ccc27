"""End to end on real photos (../shared/data/photos, a development set): skipped, with the reason, without it.

Pages are held to the vision pipeline's goals (#11: mean >= 97 % of digits, every page >= 90 %; measured
98.5 % and 92.9 % when written); single digits to just under what was measured (98.1 %, goal 99 %: the
misread ones are a 4 with a long stem read as 9 and two that the digit guard doubts),
screen drawings to 100 %. `python -m digitkit.benchmarks.photos` prints the per-page table.
"""

from __future__ import annotations

import pytest

from digitkit.benchmarks.photos import PHOTOS, score_pages, score_singles

pytestmark = pytest.mark.skipif(
    not (PHOTOS / "MANIFEST.tsv").is_file(), reason=f"no development photos at {PHOTOS} (../shared is not here)"
)


@pytest.fixture(scope="module")
def recognizer():
    from digitkit.runtime.recognizer import Recognizer

    return Recognizer(threads=1)


def test_pages(recognizer):
    pages = score_pages(recognizer)
    mean = sum(p[1] for p in pages) / len(pages)
    assert len(pages) == 22
    assert mean >= 0.97, [(p[0], round(p[1], 3)) for p in pages]
    assert min(p[1] for p in pages) >= 0.90


def test_single_digits(recognizer):
    accuracy, wrong = score_singles(recognizer, "single")
    assert accuracy >= 0.975, [name for name, _ in wrong]


def test_screen_drawings(recognizer):
    accuracy, wrong = score_singles(recognizer, "screen")
    assert accuracy == 1.0, [name for name, _ in wrong]
