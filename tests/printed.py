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


def digit_video(path, fourcc: str, frames: int, *, scale: float = 2.5, pen: int = 5) -> None:
    """A 160×120 video of the digits 0-9 in turn, printed black on white, in the codec ``fourcc``."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10, (160, 120))
    for i in range(frames):
        frame = np.full((120, 160, 3), 255, np.uint8)
        cv2.putText(frame, str(i % 10), (50, 95), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), pen)
        writer.write(frame)
    writer.release()
