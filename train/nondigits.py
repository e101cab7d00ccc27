"""Pictures that are not digits, drawn with OpenCV: what a recognizer must refuse.

Six kinds: blank paper, noise, scribbles, straight lines, circles, and letters
rendered with OpenCV's Hershey fonts. Shapes that are fairly read as digits
are left out: letters O o D Q (0), I i l j (1), Z z (2), S s (5), B (8), b G
(6), g q (9); a single upright or slanted stroke (1), two strokes meeting at
a corner (7), one ring (0), two stacked rings (8), a short single curve.
Answering "0" for an "O" is not a mistake.

Every picture is a 2-D uint8 array with a random polarity (dark ink on
light paper, or the reverse), paper level and size, so what is tested is the
whole path from a picture, not a 28×28 shortcut. The same generator, seeded
differently, gives the calibration set and the evaluation set; fonts can be
split between the two so that the evaluation also has fonts never seen.
"""

from __future__ import annotations

import cv2
import numpy as np

KINDS = ("blank", "noise", "scribble", "lines", "circles", "shapes", "letters")
LOOK_ALIKES = set("OoDQIiljZzSsBbGgq")
LETTERS = "".join(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in LOOK_ALIKES)
FONTS = {
    "simplex": cv2.FONT_HERSHEY_SIMPLEX,
    "plain": cv2.FONT_HERSHEY_PLAIN,
    "duplex": cv2.FONT_HERSHEY_DUPLEX,
    "complex": cv2.FONT_HERSHEY_COMPLEX,
    "triplex": cv2.FONT_HERSHEY_TRIPLEX,
    "complex_small": cv2.FONT_HERSHEY_COMPLEX_SMALL,
    "script_simplex": cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
    "script_complex": cv2.FONT_HERSHEY_SCRIPT_COMPLEX,
}
CALIBRATION_FONTS = ("simplex", "duplex", "complex", "script_simplex")
EVALUATION_FONTS = tuple(FONTS)  # all eight: four of them never seen in calibration


def _canvas(rng: np.random.Generator, size: int) -> tuple[np.ndarray, int, int]:
    """(ink-free picture, ink level, paper level): dark on light or light on dark."""
    if rng.random() < 0.6:
        paper, ink = int(rng.integers(170, 256)), int(rng.integers(0, 90))
    else:
        paper, ink = int(rng.integers(0, 70)), int(rng.integers(170, 256))
    return np.full((size, size), paper, np.uint8), ink, paper


def _finish(picture: np.ndarray, rng: np.random.Generator, paper: int) -> np.ndarray:
    """Slight blur and sensor noise, sometimes a smooth light gradient."""
    out = picture.astype(np.float32)
    if rng.random() < 0.5:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 1.5))
    if rng.random() < 0.3:
        size = out.shape[0]
        ramp = np.linspace(-1, 1, size, dtype=np.float32)
        gx, gy = rng.uniform(-25, 25, 2)
        out += gx * ramp[None, :] + gy * ramp[:, None]
    out += rng.normal(0, rng.uniform(0, 4), out.shape).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def _thickness(rng: np.random.Generator, size: int) -> int:
    return max(1, int(round(size * rng.uniform(0.015, 0.08))))


def blank(rng: np.random.Generator, size: int) -> np.ndarray:
    picture, _, paper = _canvas(rng, size)
    return _finish(picture, rng, paper)


def noise(rng: np.random.Generator, size: int) -> np.ndarray:
    picture, ink, paper = _canvas(rng, size)
    kind = rng.integers(3)
    if kind == 0:  # gaussian
        out = picture.astype(np.float32) + rng.normal(0, rng.uniform(15, 60), picture.shape)
    elif kind == 1:  # salt and pepper
        out = picture.astype(np.float32)
        out[rng.random(picture.shape) < rng.uniform(0.01, 0.2)] = ink
    else:  # blotchy: low-resolution noise blown up
        small = rng.normal(0, rng.uniform(20, 70), (int(rng.integers(3, 12)),) * 2).astype(np.float32)
        out = picture.astype(np.float32) + cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
    return np.clip(out, 0, 255).astype(np.uint8)


def scribble(rng: np.random.Generator, size: int) -> np.ndarray:
    """A tangle: a long pen path that keeps turning back on itself (a random walk with momentum).

    Long enough to cross itself several times; a short single curve would be
    a fair 1, 2, 6 or 7 and is not drawn.
    """
    picture, ink, paper = _canvas(rng, size)
    steps = int(rng.integers(80, 200))
    position = rng.uniform(0.35, 0.65, 2) * size
    velocity = rng.normal(0, 1, 2)
    turn = rng.uniform(0.8, 1.6)
    points = []
    for _ in range(steps):
        velocity = 0.75 * velocity + rng.normal(0, turn, 2)
        velocity *= size * 0.025 / max(np.linalg.norm(velocity), 1e-6)
        position = position + velocity
        for axis in range(2):  # bounce off the margins (clipping would slide along them: a 7 or an L)
            if not size * 0.15 <= position[axis] <= size * 0.85:
                velocity[axis] = -velocity[axis]
                position[axis] = np.clip(position[axis], size * 0.15, size * 0.85)
        points.append(position.copy())
    pts = np.array(points, np.int32).reshape(-1, 1, 2)
    cv2.polylines(picture, [pts], False, ink, _thickness(rng, size), cv2.LINE_AA)
    return _finish(picture, rng, paper)


def _segment(picture, ink, centre, angle_deg, length, thickness) -> None:
    dx, dy = np.cos(np.radians(angle_deg)) * length / 2, np.sin(np.radians(angle_deg)) * length / 2
    p, q = (int(centre[0] - dx), int(centre[1] - dy)), (int(centre[0] + dx), int(centre[1] + dy))
    cv2.line(picture, p, q, ink, thickness, cv2.LINE_AA)


def lines(rng: np.random.Generator, size: int) -> np.ndarray:
    """A dash, an equals sign, a cross (×) or a hash (#).

    A single slanted or upright stroke is how people write 1, and two strokes
    meeting at a corner a 7, so neither is drawn.
    """
    picture, ink, paper = _canvas(rng, size)
    thickness = _thickness(rng, size)
    centre = rng.uniform(0.4, 0.6, 2) * size
    length = rng.uniform(0.45, 0.85) * size
    kind = rng.integers(4)
    tilt = rng.uniform(-20, 20)
    if kind == 0:  # dash
        _segment(picture, ink, centre, tilt, length, thickness)
    elif kind == 1:  # equals
        gap = rng.uniform(0.12, 0.3) * size
        for sign in (-1, 1):
            _segment(picture, ink, centre + np.array([0, sign * gap / 2]), tilt, length, thickness)
    elif kind == 2:  # cross ×
        spread = rng.uniform(30, 60)
        _segment(picture, ink, centre, 90 + tilt - spread, length, thickness)
        _segment(picture, ink, centre, 90 + tilt + spread, length, thickness)
    else:  # hash #
        gap = rng.uniform(0.2, 0.35) * size
        for sign in (-1, 1):
            _segment(picture, ink, centre + np.array([0, sign * gap / 2]), tilt, length, thickness)
            _segment(picture, ink, centre + np.array([sign * gap / 2, 0]), 90 + tilt + 10, length, thickness)
    return _finish(picture, rng, paper)


def circles(rng: np.random.Generator, size: int) -> np.ndarray:
    """A filled disc, a bullseye, or a tangle of three to five overlapping rings.

    A single ring is a 0 and two stacked rings an 8, so neither is drawn.
    """
    picture, ink, paper = _canvas(rng, size)
    kind = rng.integers(3)
    thickness = _thickness(rng, size)
    centre = rng.uniform(0.4, 0.6, 2) * size
    if kind == 0:
        c = tuple(int(v) for v in centre)
        cv2.circle(picture, c, int(rng.uniform(0.12, 0.35) * size), ink, -1, cv2.LINE_AA)
    elif kind == 1:
        c = tuple(int(v) for v in centre)
        outer = rng.uniform(0.25, 0.4) * size
        cv2.circle(picture, c, max(2, int(outer)), ink, thickness, cv2.LINE_AA)
        for k in range(1, int(rng.integers(2, 4))):
            cv2.circle(picture, c, max(1, int(outer * (1 - 0.33 * k))), ink, thickness if k < 2 else -1, cv2.LINE_AA)
    else:
        radius = rng.uniform(0.18, 0.3) * size
        for _ in range(int(rng.integers(3, 6))):
            c = tuple(int(v) for v in centre + rng.uniform(-0.6, 0.6, 2) * radius)
            cv2.circle(picture, c, int(radius * rng.uniform(0.8, 1.2)), ink, thickness, cv2.LINE_AA)
    return _finish(picture, rng, paper)


def shapes(rng: np.random.Generator, size: int) -> np.ndarray:
    """A triangle, a square, a diamond, a pentagon or a five-pointed star, outlined or filled, turned at random.

    Closed straight-sided figures: a ring reads as a 0 and a triangle did too (99.9 %), so a figure needs
    refusing as surely as a letter. Nothing open or curved, which a digit could be.
    """
    picture, ink, paper = _canvas(rng, size)
    centre = rng.uniform(0.42, 0.58, 2) * size
    radius = rng.uniform(0.22, 0.4) * size
    kind = int(rng.integers(5))
    corners = (3, 4, 4, 5, 10)[kind]
    angles = rng.uniform(0, 2 * np.pi) + np.arange(corners) * 2 * np.pi / corners
    reach = np.full(corners, radius)
    if kind == 2:  # a diamond: a square stretched along one axis
        reach[1::2] *= rng.uniform(0.5, 0.8)
    if kind == 4:  # a star: every other corner pulled in
        reach[1::2] *= rng.uniform(0.35, 0.5)
    points = np.stack([centre[0] + reach * np.cos(angles), centre[1] + reach * np.sin(angles)], axis=1)
    polygon = [np.round(points).astype(np.int32)]
    if rng.random() < 0.25:
        cv2.fillPoly(picture, polygon, ink, cv2.LINE_AA)
    else:
        cv2.polylines(picture, polygon, True, ink, _thickness(rng, size), cv2.LINE_AA)
    return _finish(picture, rng, paper)


def letter(rng: np.random.Generator, size: int, fonts: tuple[str, ...] = EVALUATION_FONTS) -> np.ndarray:
    """One letter (no digit look-alike) in a Hershey font, sized, slanted and placed at random."""
    picture, ink, paper = _canvas(rng, size)
    text = LETTERS[int(rng.integers(len(LETTERS)))]
    font = FONTS[fonts[int(rng.integers(len(fonts)))]]
    if rng.random() < 0.3:
        font |= cv2.FONT_ITALIC
    thickness = _thickness(rng, size)
    (w, h), base = cv2.getTextSize(text, font, 1.0, thickness)
    scale = rng.uniform(0.35, 0.75) * size / max(w, h + base, 1)
    thickness = max(1, int(thickness * min(1.0, scale)))
    (w, h), base = cv2.getTextSize(text, font, scale, thickness)
    x = int((size - w) / 2 + rng.uniform(-0.1, 0.1) * size)
    y = int((size + h) / 2 + rng.uniform(-0.1, 0.1) * size)
    layer = np.zeros((size, size), np.uint8)
    cv2.putText(layer, text, (x, y), font, scale, 255, thickness, cv2.LINE_AA)
    m = cv2.getRotationMatrix2D((size / 2, size / 2), rng.uniform(-15, 15), 1.0)
    m[0, 1] += rng.uniform(-0.2, 0.2)
    layer = cv2.warpAffine(layer, m, (size, size)).astype(np.float32) / 255
    out = picture.astype(np.float32) * (1 - layer) + ink * layer
    return _finish(out.astype(np.uint8), rng, paper)


def font_digit(
    digit: int, rng: np.random.Generator, size: int, fonts: tuple[str, ...] = EVALUATION_FONTS
) -> np.ndarray:
    """A digit drawn the same way as ``letter`` (so that fonts alone do not mark a non-digit)."""
    picture, ink, paper = _canvas(rng, size)
    font = FONTS[fonts[int(rng.integers(len(fonts)))]]
    if rng.random() < 0.3:
        font |= cv2.FONT_ITALIC
    thickness = _thickness(rng, size)
    (w, h), base = cv2.getTextSize(str(digit), font, 1.0, thickness)
    scale = rng.uniform(0.35, 0.75) * size / max(w, h + base, 1)
    thickness = max(1, int(thickness * min(1.0, scale)))
    (w, h), base = cv2.getTextSize(str(digit), font, scale, thickness)
    x = int((size - w) / 2 + rng.uniform(-0.1, 0.1) * size)
    y = int((size + h) / 2 + rng.uniform(-0.1, 0.1) * size)
    layer = np.zeros((size, size), np.uint8)
    cv2.putText(layer, str(digit), (x, y), font, scale, 255, thickness, cv2.LINE_AA)
    m = cv2.getRotationMatrix2D((size / 2, size / 2), rng.uniform(-12, 12), 1.0)
    m[0, 1] += rng.uniform(-0.2, 0.2)
    layer = cv2.warpAffine(layer, m, (size, size)).astype(np.float32) / 255
    out = picture.astype(np.float32) * (1 - layer) + ink * layer
    return _finish(out.astype(np.uint8), rng, paper)


GENERATORS = {
    "blank": blank,
    "noise": noise,
    "scribble": scribble,
    "lines": lines,
    "circles": circles,
    "shapes": shapes,
    "letters": letter,
}


def non_digits(per_kind: int, seed: int, *, fonts: tuple[str, ...] = EVALUATION_FONTS) -> dict[str, list[np.ndarray]]:
    """``per_kind`` pictures of each kind; sizes vary from 28 to 280 pixels."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[np.ndarray]] = {}
    for kind in KINDS:
        pictures = []
        for _ in range(per_kind):
            size = int(rng.choice([28, 56, 112, 200, 280]))
            if kind == "letters":
                pictures.append(letter(rng, size, fonts))
            else:
                pictures.append(GENERATORS[kind](rng, size))
        out[kind] = pictures
    return out


# --- what a camera sees around the writing -------------------------------------------------------------------
# Photos add clutter of their own: the edge of a table beside the sheet, a soft shadow, a blank sheet lying on a
# table. The picture pipeline drops most of it (runtime/vision/clean.py); what it lets through must be refused.
# An evaluation set only: a guard trained with it as negatives read real single digits worse.
def table_edge(rng: np.random.Generator, size: int) -> np.ndarray:
    """Paper with a dark strip of table along one side (a sheet photographed off-centre)."""
    picture = np.full((size, size), int(rng.integers(170, 250)), np.uint8)
    width = max(2, int(size * rng.uniform(0.03, 0.25)))
    picture[:, :width] = int(rng.integers(10, 110))
    return _finish(np.rot90(picture, int(rng.integers(4))).copy(), rng, int(picture[0, -1]))


def shadow(rng: np.random.Generator, size: int) -> np.ndarray:
    """Paper under a soft shadow (a hand, a phone) covering part of it."""
    paper = int(rng.integers(170, 250))
    out = np.full((size, size), float(paper), np.float32)
    mask = np.zeros((size, size), np.float32)
    centre = (int(rng.integers(0, size)), int(rng.integers(0, size)))
    axes = (int(size * rng.uniform(0.2, 0.6)), int(size * rng.uniform(0.2, 0.6)))
    cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), size * rng.uniform(0.02, 0.1))
    out -= mask * rng.uniform(30, 110)
    return _finish(np.clip(out, 0, 255).astype(np.uint8), rng, paper)


def sheet_on_table(rng: np.random.Generator, size: int) -> np.ndarray:
    """A blank sheet lying on a dark table, tilted a little."""
    picture = np.full((size, size), int(rng.integers(10, 110)), np.uint8)
    half = size * rng.uniform(0.25, 0.45)
    corners = cv2.boxPoints(
        (
            (size / 2 + rng.uniform(-0.1, 0.1) * size, size / 2),
            (2 * half, 2 * half * rng.uniform(0.7, 1.3)),
            float(rng.uniform(-15, 15)),
        )
    )
    cv2.fillConvexPoly(picture, corners.astype(np.int32), int(rng.integers(170, 250)))
    return _finish(picture, rng, int(picture[0, 0]))


CLUTTER = {"table edge": table_edge, "shadow": shadow, "sheet on a table": sheet_on_table}


def photo_clutter(per_kind: int, seed: int) -> dict[str, list[np.ndarray]]:
    """``per_kind`` pictures of each kind of ``CLUTTER``; sizes vary from 56 to 400 pixels."""
    rng = np.random.default_rng(seed)
    return {
        kind: [make(rng, int(rng.choice([56, 112, 200, 280, 400]))) for _ in range(per_kind)]
        for kind, make in CLUTTER.items()
    }
