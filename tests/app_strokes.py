"""Pen strokes for the digits 0-9, as a person would draw them with a mouse.

Used by the draw-mode tests: the same strokes go through ``DrawSession.stroke``
(no display) and through real mouse drags with xdotool under Xvfb. Points are
in a unit box (x right, y down) scaled into a cell of the canvas.
"""

from __future__ import annotations

import math

Stroke = list[tuple[float, float]]


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, stop: float, n: int = 16) -> Stroke:
    """Points on an ellipse from angle ``start`` to ``stop`` (degrees, 0 = right, 90 = down)."""
    return [
        (cx + rx * math.cos(math.radians(start + (stop - start) * i / n)),
         cy + ry * math.sin(math.radians(start + (stop - start) * i / n)))
        for i in range(n + 1)
    ]  # fmt: skip


DIGIT_STROKES: dict[int, list[Stroke]] = {
    0: [_arc(0.5, 0.5, 0.3, 0.42, -90, 275, 24)],
    1: [[(0.42, 0.18), (0.56, 0.08), (0.55, 0.5), (0.54, 0.92)]],
    2: [_arc(0.5, 0.32, 0.28, 0.22, 200, 370, 10) + [(0.6, 0.6), (0.2, 0.9), (0.85, 0.9)]],
    3: [_arc(0.48, 0.3, 0.28, 0.2, 200, 450, 12)[:-2] + _arc(0.48, 0.7, 0.3, 0.22, -90, 160, 12)],
    4: [[(0.6, 0.08), (0.15, 0.62), (0.85, 0.62)], [(0.64, 0.3), (0.64, 0.95)]],
    5: [[(0.78, 0.1), (0.32, 0.1), (0.27, 0.45)] + _arc(0.5, 0.66, 0.3, 0.25, -120, 150, 14)],
    6: [[(0.7, 0.08), (0.45, 0.3), (0.3, 0.55)] + _arc(0.5, 0.7, 0.22, 0.22, 180, 540, 18)],
    7: [[(0.15, 0.12), (0.85, 0.12), (0.55, 0.55), (0.4, 0.92)]],
    8: [_arc(0.5, 0.28, 0.22, 0.2, 90, 450, 16), _arc(0.5, 0.7, 0.26, 0.22, -90, 270, 16)],
    9: [_arc(0.5, 0.3, 0.24, 0.21, 0, 360, 16), [(0.74, 0.3), (0.7, 0.6), (0.64, 0.95)]],
}


def number_strokes(
    text: str, *, origin: tuple[float, float] = (60, 60), height: float = 260, spacing: float = 0.8
) -> list[Stroke]:
    """The strokes of a number written left to right, in canvas pixels."""
    strokes: list[Stroke] = []
    x0, y0 = origin
    width = height * 0.75
    for i, char in enumerate(text):
        left = x0 + i * width * spacing * 1.25
        for stroke in DIGIT_STROKES[int(char)]:
            strokes.append([(left + u * width, y0 + v * height) for u, v in stroke])
    return strokes
