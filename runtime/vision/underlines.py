"""Stage (after components): an underline through the digits' feet is not writing.

Drawn as dark as the writing, it is no printed line (``lines.py`` leaves it in), but
it joins every digit it touches into one piece with it. A long level run of the mask
(``Lines.runs``, found by ``lines.py``) is such a rule when it is far longer than
the piece it lies in is tall; it goes with its ends, and the pieces are found again.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from digitkit.runtime.vision.binarise import Binarised
from digitkit.runtime.vision.components import Pieces, find_pieces, label
from digitkit.runtime.vision.config import active_config

_AROUND = np.ones((3, 3), np.uint8)


def without_underlines(binarised: Binarised, pieces: Pieces, runs: np.ndarray | None) -> tuple[Binarised, Pieces]:
    """The binarised picture and its pieces with the underlines (``_rules``) taken out of its mask: as dark as
    the writing, they go whatever their level. Most pictures have none, and keep the pieces they came with."""
    rules = None if runs is None else _rules(pieces, runs)
    if rules is None:
        return binarised, pieces
    cleaned = replace(binarised, mask=(binarised.mask & ~rules).view(np.uint8))
    return cleaned, find_pieces(cleaned)


def _rules(pieces: Pieces, level: np.ndarray) -> np.ndarray | None:
    """0/1 pixels of the level lines drawn across the writing, as dark as it: an underline through the digits'
    feet. A level run is one when it is ``rule_length`` times longer than the piece of ink it lies in is tall:
    a 2's base or a 7's bar is about as long as its digit is tall. A line touching nothing is left alone (a
    dash), and upright runs are: a 1's stem with its flag is such a run beside a short stroke."""
    cfg = active_config()
    # a rule is rule_length times longer than its piece is tall, and no run is longer than their box is wide
    if not (cfg.rule_length * pieces.boxes[1:, 3] <= cv2.boundingRect(level)[2]).any():
        return None
    out = None
    count, labels, stats = label(level)
    for k in range(1, count):
        width, depth = int(stats[k, cv2.CC_STAT_WIDTH]), int(stats[k, cv2.CC_STAT_HEIGHT])
        if width < cfg.rule_length * cfg.rule_touch * depth:
            continue  # too short for its thickness to be ruled across anything, even were it ink all along
        segment = (labels == k).view(np.uint8)
        inked = (segment > 0) & (pieces.labels > 0)
        # its length is where it is ink: the runs were found before lines.py took the printed lines out, and a grid
        # line's run keeps only the pixels where it crosses the digits (a 2's base lying along it among them)
        length = np.count_nonzero(inked.any(axis=0))
        if length < cfg.rule_length * cfg.rule_touch * depth:
            continue
        piece = int(np.bincount(pieces.labels[inked]).argmax())
        tall = int(pieces.boxes[piece, 3])
        if tall >= cfg.rule_touch * depth and length >= cfg.rule_length * tall:
            own = pieces.labels == piece
            line = segment | _line_ends(own, segment)
            # ... and what the line touches is still there without it: a stroke of its own drawn tilted (a 2's base
            # written apart from its body) is as tall as that with its ends, and nothing is left beside it
            rest = np.flatnonzero((own & (line == 0)).any(axis=1))
            if rest.size and rest[-1] - rest[0] + 1 >= cfg.rule_touch * depth:
                out = line if out is None else out | line
    return out


def _line_ends(piece: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """0/1: the parts of ``piece`` beside a rule's run that are flat (three times wider than tall): the ends of a
    tilted line step off the run's rows, and left in the mask would join the digits nearest them."""
    rest = (piece & (segment == 0)).view(np.uint8)
    _, labels, stats = label(rest)
    keep = stats[:, cv2.CC_STAT_WIDTH] >= 3 * stats[:, cv2.CC_STAT_HEIGHT]  # flat
    touching = np.zeros_like(keep)
    touching[labels[cv2.dilate(segment, _AROUND) > 0]] = True
    keep &= touching
    keep[0] = False  # the background
    return keep[labels].view(np.uint8)
