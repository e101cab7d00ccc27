"""End to end on real photos (../shared/data/photos, a development set): skipped, with the reason, without it.

The floors sit just under the figures measured on the final commit of the session (pages 95.9 %, single 97.4 %,
screen 100 %; `python -m digitkit.benchmarks.photos`), so that a change that reads real pictures
worse fails here. The issue's goals (97 % / 99 % / 100 %) are above them.
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
    assert mean >= 0.955, [(p[0], round(p[1], 3)) for p in pages]
    assert min(p[1] for p in pages) >= 0.75


def test_single_digits(recognizer):
    accuracy, wrong = score_singles(recognizer, "single")
    assert accuracy >= 0.965, [name for name, _ in wrong]


def test_screen_drawings(recognizer):
    accuracy, wrong = score_singles(recognizer, "screen")
    assert accuracy == 1.0, [name for name, _ in wrong]
