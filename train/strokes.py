"""Digits as pen strokes, in the writing styles MNIST's writers rarely used.

MNIST's writers were American census staff and students; elsewhere people write
a 1 with a long up-stroke flag, cross their 7s, leave the 4 open at the top,
slash their zeros and curl the 9's tail. Each variant below is a function that
draws one digit as a list of strokes (polylines) in a box of height 1 (x right,
y down, the writing roughly in [0, 0.6] x [0, 1]), every control point jittered
by ``rng`` so that no two drawings are the same. ``train/styles.py`` renders them
with varied pens and passes them through the runtime's own normalisation.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Stroke = np.ndarray  # (K, 2) float: x, y
Draw = Callable[[np.random.Generator], list[Stroke]]

JITTER = 0.03  # standard deviation of each control point's jitter, in digit heights (by eye: shapes stay legible)


def _p(rng: np.random.Generator, x: float, y: float, spread: float = JITTER) -> np.ndarray:
    return np.array([x, y]) + rng.normal(0.0, spread, 2)


def line(*points: np.ndarray) -> Stroke:
    """A polyline through the points, densely sampled (so later warps bend it)."""
    out = [np.linspace(a, b, 12, endpoint=False) for a, b in zip(points[:-1], points[1:], strict=True)]
    return np.concatenate([*out, points[-1][None]])


def arc(rng: np.random.Generator, cx: float, cy: float, rx: float, ry: float, start: float, end: float) -> Stroke:
    """An elliptic arc, angles in degrees (0 right, 90 down, as y points down), radii jittered."""
    rx, ry = rx * rng.uniform(0.9, 1.1), ry * rng.uniform(0.9, 1.1)
    cx, cy = _p(rng, cx, cy, JITTER / 2)
    t = np.radians(np.linspace(start, end, max(8, int(abs(end - start) / 8))))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def bezier(*points: np.ndarray, n: int = 24) -> Stroke:
    """A cubic Bézier through four control points."""
    p0, p1, p2, p3 = points
    t = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t**2 * p2 + t**3 * p3


def _oval(rng: np.random.Generator) -> Stroke:
    start = rng.uniform(-110, -60)
    return arc(rng, 0.3, 0.5, 0.27, 0.48, start, start + rng.uniform(355, 375))


def zero(rng):
    return [_oval(rng)]


def zero_slashed(rng):
    """Ø: the slash runs corner to corner, past the oval."""
    over = rng.uniform(0.0, 0.1)
    return [_oval(rng), line(_p(rng, 0.05 - over, 0.95 + over), _p(rng, 0.55 + over, 0.05 - over))]


def one(rng):
    return [line(_p(rng, 0.3, 0.0), _p(rng, 0.3, 1.0))]


def _flag(rng: np.random.Generator, top: np.ndarray) -> Stroke:
    """The European 1's up-stroke: from low on the left up to the stem's top (long: a third to half the height)."""
    length = rng.uniform(0.3, 0.55)
    angle = np.radians(rng.uniform(25, 65))  # below the horizontal
    return line(top + length * np.array([-np.cos(angle), np.sin(angle)]), top)


def one_flag(rng):
    top, bottom = _p(rng, 0.4, 0.0), _p(rng, 0.4, 1.0)
    return [np.concatenate([_flag(rng, top), line(top, bottom)])]


def one_flag_base(rng):
    top, bottom = _p(rng, 0.35, 0.0), _p(rng, 0.35, 1.0)
    base = line(_p(rng, 0.12, 1.0), _p(rng, 0.6, 1.0))
    return [np.concatenate([_flag(rng, top), line(top, bottom)]), base]


def two(rng):
    bend = arc(rng, 0.3, 0.28, 0.26, 0.25, rng.uniform(170, 200), 380)
    foot = line(bend[-1], _p(rng, 0.03, 1.0), _p(rng, 0.6, 1.0))
    return [np.concatenate([bend, foot])]


def three(rng):
    upper = arc(rng, 0.3, 0.26, 0.25, 0.25, rng.uniform(-200, -160), 90)
    lower = arc(rng, 0.3, 0.73, 0.28, 0.27, -90, rng.uniform(150, 190))
    return [np.concatenate([upper, lower])]


def three_flat_top(rng):
    """A 3 with a flat top and a pointed middle (Ʒ), common in Europe."""
    top = line(_p(rng, 0.05, 0.0), _p(rng, 0.55, 0.0), _p(rng, 0.22, 0.4))
    lower = arc(rng, 0.3, 0.7, 0.28, 0.3, -120, rng.uniform(150, 190))
    return [np.concatenate([top, lower])]


def four_closed(rng):
    apex, corner, right = _p(rng, 0.42, 0.0), _p(rng, 0.0, 0.65), _p(rng, 0.62, 0.65)
    return [line(apex, corner, right), line(apex, _p(rng, 0.42, 1.0))]


def four_open(rng):
    """The open 4: a down-stroke and a bar, the stem apart from them at the top."""
    return [
        line(_p(rng, 0.08, 0.0), _p(rng, 0.04, 0.6), _p(rng, 0.62, 0.6)),
        line(_p(rng, 0.45, 0.05), _p(rng, 0.45, 1.0)),
    ]


def five(rng):
    bar = line(_p(rng, 0.58, 0.0), _p(rng, 0.1, 0.0))
    belly = arc(rng, 0.3, 0.68, 0.28, 0.3, rng.uniform(-150, -130), rng.uniform(140, 165))
    return [bar, np.concatenate([line(_p(rng, 0.1, 0.0), belly[0]), belly])]


def six(rng):
    sweep = bezier(_p(rng, 0.5, 0.0), _p(rng, 0.15, 0.1), _p(rng, 0.0, 0.45), _p(rng, 0.04, 0.72))
    loop = arc(rng, 0.3, 0.72, 0.26, 0.26, 180, rng.uniform(-200, -170))
    return [np.concatenate([sweep, loop])]


def _seven_body(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _p(rng, 0.0, 0.02), _p(rng, 0.6, 0.0), _p(rng, 0.2, 1.0)


def seven(rng):
    start, corner, foot = _seven_body(rng)
    return [line(start, corner, foot)]


def seven_crossed(rng):
    start, corner, foot = _seven_body(rng)
    y = rng.uniform(0.42, 0.58)
    x = corner[0] + (foot[0] - corner[0]) * (y - corner[1]) / (foot[1] - corner[1])  # where the bar meets the stem
    half = rng.uniform(0.15, 0.25)
    return [line(start, corner, foot), line(_p(rng, x - half, y), _p(rng, x + half, y))]


def seven_hooked(rng):
    """A 7 whose bar starts with a down-tick on the left."""
    start, corner, foot = _seven_body(rng)
    return [line(_p(rng, 0.0, rng.uniform(0.15, 0.3)), start, corner, foot)]


def eight(rng):
    upper = arc(rng, 0.3, 0.25, 0.22, 0.24, -90, 270)
    lower = arc(rng, 0.3, 0.72, 0.28, 0.27, -90, 270)
    return [upper, lower]


def _nine_loop(rng: np.random.Generator) -> Stroke:
    return arc(rng, 0.3, 0.28, 0.27, 0.27, 0, rng.uniform(355, 375))


def nine_straight(rng):
    loop = _nine_loop(rng)
    return [np.concatenate([loop, line(loop[-1], _p(rng, 0.5, 1.0))])]


def nine_curled(rng):
    """A 9 whose tail curls back to the left at the bottom."""
    loop = _nine_loop(rng)
    tail = bezier(loop[-1], _p(rng, 0.6, 0.8), _p(rng, 0.5, 1.02), _p(rng, 0.1, 0.9))
    return [np.concatenate([loop, tail])]


# name -> (digit, draw). The names are the rows of the per-style table.
VARIANTS: dict[str, tuple[int, Draw]] = {
    "0 oval": (0, zero),
    "0 slashed": (0, zero_slashed),
    "1 stem": (1, one),
    "1 flag (European)": (1, one_flag),
    "1 flag and base": (1, one_flag_base),
    "2": (2, two),
    "3": (3, three),
    "3 flat top": (3, three_flat_top),
    "4 closed": (4, four_closed),
    "4 open": (4, four_open),
    "5": (5, five),
    "6": (6, six),
    "7": (7, seven),
    "7 crossed": (7, seven_crossed),
    "7 hooked start": (7, seven_hooked),
    "8": (8, eight),
    "9 straight tail": (9, nine_straight),
    "9 curled tail": (9, nine_curled),
}
