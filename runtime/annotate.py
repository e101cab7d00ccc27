"""A picture with what was read drawn on it: boxes, digits and confidences, so a person sees why."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from digitkit.runtime.images import load_picture
from digitkit.runtime.vision.orient import turn

SURE = (40, 170, 40)  # BGR: a digit read with confidence
UNSURE = (0, 140, 255)  # a digit the model is not sure of


def annotate(picture: Any, reading) -> np.ndarray:
    """BGR picture (turned as it was read) with a box, the digit and its confidence per digit."""
    image = load_picture(picture)
    image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    image = turn(image, reading.turned)
    side = max(image.shape[:2])
    thickness = max(1, round(side / 500))
    for d in reading.digits:
        x, y, w, h = d.box
        colour = SURE if d.digit is not None else UNSURE
        cv2.rectangle(image, (x, y), (x + w, y + h), colour, thickness)
        label = f"{'?' if d.digit is None else d.digit} {d.confidence:.0%}"
        font = max(0.4, h / 60)
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font, thickness)
        top = max(th + base, y - 2)
        cv2.rectangle(image, (x, top - th - base), (x + tw, top), colour, -1)
        cv2.putText(image, label, (x, top - base), cv2.FONT_HERSHEY_SIMPLEX, font, (255, 255, 255), thickness)
    return image
