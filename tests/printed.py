"""Printed text as the tests draw it: dark Hershey-font text on white, one line, with a margin."""

from __future__ import annotations

import cv2
import numpy as np

FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX)


def printed(
    text: str, font: int, *, height: int = 140, scale: float = 2.4, pen: int = 5, advance: int = 60
) -> np.ndarray:
    """``text`` in ``font`` on a white picture ``height`` tall, ``advance`` pixels of width a character."""
    picture = np.full((height, 60 + advance * len(text)), 255, np.uint8)
    cv2.putText(picture, text, (25, height - 40), font, scale, 0, pen, cv2.LINE_AA)
    return picture
