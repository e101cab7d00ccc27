"""Everything the app shows, drawn into numpy images by pure functions.

``draw_screen`` composes draw mode (canvas, prediction panel, key help) and
``stream_screen`` overlays camera/video/image frames. They take the state and
return a new BGR image, so the tests check them without a display and the
window only has to ``imshow`` the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from digitkit.runtime.recognizer import Prediction

from .frames import FrameResult

FONT = cv2.FONT_HERSHEY_SIMPLEX
BOLD = cv2.FONT_HERSHEY_DUPLEX
AA = cv2.LINE_AA

# BGR colours
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
TEXT = (40, 40, 40)
MUTED = (120, 120, 120)
PANEL = (246, 243, 240)
RULE = (215, 210, 205)
SURE = (60, 160, 40)  # green
UNSURE = (0, 140, 255)  # orange
BAR = (200, 120, 40)  # blue
BAR_TOP = (60, 160, 40)
DARK = (30, 30, 30)

PANEL_WIDTH = 330
FOOTER_HEIGHT = 38

DRAW_KEYS = "[c] clear   [u] undo   [s] save   [0-9] type label   [m] fp32/int8   [q] quit"
STREAM_KEYS = "[space] pause   [m] fp32/int8   [q] quit"


def text_size(text: str, scale: float, thickness: int = 1, font: int = FONT) -> tuple[int, int]:
    (w, h), _ = cv2.getTextSize(text, font, scale, thickness)
    return w, h


def put_text(
    image: np.ndarray,
    text: str,
    origin: tuple[int, int],
    *,
    scale: float = 0.55,
    color: tuple[int, int, int] = TEXT,
    thickness: int = 1,
    font: int = FONT,
    background: tuple[int, int, int] | None = None,
    pad: int = 4,
) -> tuple[int, int]:
    """Write ``text`` with its baseline-left at ``origin``; returns its (width, height)."""
    w, h = text_size(text, scale, thickness, font)
    x, y = origin
    if background is not None:
        cv2.rectangle(image, (x - pad, y - h - pad), (x + w + pad, y + pad + 2), background, -1)
    cv2.putText(image, text, (x, y), font, scale, color, thickness, AA)
    return w, h


def as_bgr(picture: np.ndarray) -> np.ndarray:
    if picture.ndim == 2:
        return cv2.cvtColor(picture, cv2.COLOR_GRAY2BGR)
    if picture.shape[2] == 4:
        return cv2.cvtColor(picture, cv2.COLOR_BGRA2BGR)
    if picture.shape[2] == 1:
        return cv2.cvtColor(picture[:, :, 0], cv2.COLOR_GRAY2BGR)
    return picture.copy()


def percent(p: float) -> str:
    return f"{100 * p:.0f}%" if p < 0.995 else f"{100 * p:.1f}%"


# -- pieces ----------------------------------------------------------------------------------------
def draw_bars(image: np.ndarray, top: Sequence[tuple[int, float]], origin: tuple[int, int], width: int) -> int:
    """Top-k probabilities as labelled horizontal bars; returns the height used."""
    x, y = origin
    row = 30
    bar_x = x + 30
    bar_w = width - 30 - 62
    for i, (digit, p) in enumerate(top):
        cy = y + i * row
        put_text(image, str(digit), (x + 4, cy + 19), scale=0.7, color=TEXT, thickness=2, font=BOLD)
        cv2.rectangle(image, (bar_x, cy + 4), (bar_x + bar_w, cy + 22), RULE, -1)
        filled = int(round(bar_w * min(max(p, 0.0), 1.0)))
        if filled > 0:
            cv2.rectangle(image, (bar_x, cy + 4), (bar_x + filled, cy + 22), BAR_TOP if i == 0 else BAR, -1)
        put_text(image, percent(p), (bar_x + bar_w + 8, cy + 19), scale=0.5, color=TEXT)
    return row * len(top)


def draw_insets(
    image: np.ndarray, digits: Sequence[Prediction], origin: tuple[int, int], width: int, focus: int | None = None
) -> int:
    """The 28x28 pictures the model saw, side by side, labelled; returns the height used."""
    if not digits:
        return 0
    x, y = origin
    gap = 6
    scale = max(1, min(4, (width + gap) // (len(digits) * (28 + gap))))
    size = 28 * scale
    per_row = max(1, (width + gap) // (size + gap))
    height = 0
    for i, digit in enumerate(digits):
        cx = x + (i % per_row) * (size + gap)
        cy = y + (i // per_row) * (size + 22 + gap)
        tile: np.ndarray = np.clip(digit.seen * 255.0, 0, 255).astype(np.uint8)
        tile = cv2.resize(tile, (size, size), interpolation=cv2.INTER_NEAREST)
        image[cy : cy + size, cx : cx + size] = as_bgr(tile)
        color = SURE if digit.sure else UNSURE
        border = 3 if focus == i and len(digits) > 1 else 1
        cv2.rectangle(image, (cx - 1, cy - 1), (cx + size, cy + size), color, border)
        label = str(digit.digit) if digit.sure else "?"
        put_text(image, label, (cx + size // 2 - 5, cy + size + 17), scale=0.55, color=color, thickness=1)
        height = (i // per_row) * (size + 22 + gap) + size + 22
    return height


def draw_boxes(image: np.ndarray, result: FrameResult, *, show_rejected: bool = True, scale: float = 0.6) -> None:
    """Boxes around the digits, the digit above each box and its confidence below (in place)."""
    thickness = max(1, round(min(image.shape[:2]) / 240))
    if show_rejected:
        for d in result.rejected:
            x, y, w, h = d.where
            cv2.rectangle(image, (x, y), (x + w, y + h), (150, 150, 150), 1, AA)
    for d in result.digits:
        x, y, w, h = d.where
        cv2.rectangle(image, (x, y), (x + w, y + h), SURE, thickness + 1, AA)
        label = str(d.digit)
        lw, lh = text_size(label, 1.4 * scale, 2, BOLD)
        ty = y - 8 if y > lh + 12 else y + h + lh + 8
        put_text(image, label, (x + (w - lw) // 2, ty), scale=1.4 * scale, color=WHITE, thickness=2, font=BOLD,
                 background=SURE, pad=3)  # fmt: skip
        confidence = f"{100 * d.confidence:.0f}%"
        cw, ch = text_size(confidence, 0.75 * scale)
        cy = y + h + ch + 8 if ty < y else y - 8
        put_text(
            image, confidence, (x + (w - cw) // 2, cy), scale=0.75 * scale, color=WHITE, background=(70, 120, 40), pad=2
        )


def draw_message(image: np.ndarray, message: str) -> None:
    """A message across the middle of the picture (camera lost, bad frame...)."""
    h, w = image.shape[:2]
    tw, th = text_size(message, 0.8, 2)
    scale = 0.8 if tw < w - 40 else 0.8 * (w - 40) / tw
    tw, th = text_size(message, scale, 2)
    x, y = (w - tw) // 2, (h + th) // 2
    overlay = image.copy()
    cv2.rectangle(overlay, (0, y - th - 24), (w, y + 24), DARK, -1)
    cv2.addWeighted(overlay, 0.75, image, 0.25, 0, dst=image)
    put_text(image, message, (x, y), scale=scale, color=(80, 200, 255), thickness=2)


def footer(width: int, keys: str) -> np.ndarray:
    bar = np.full((FOOTER_HEIGHT, width, 3), DARK, np.uint8)
    scale = 0.55
    tw, _ = text_size(keys, scale)
    if tw > width - 24:
        scale *= (width - 24) / tw
    put_text(bar, keys, (12, 25), scale=scale, color=(235, 235, 235))
    return bar


# -- draw mode -------------------------------------------------------------------------------------
@dataclass
class DrawView:
    """What draw mode shows besides the canvas (the session's state, flattened)."""

    result: FrameResult | None  # None: nothing on the canvas
    text: str = ""  # the number read ('?' for digits the model is not sure of)
    status: str = "empty"  # "empty", "ok", "not sure", "no digit"
    focus: int | None = None  # index (in result.candidates) of the digit the bars show
    model: str = "fp32"  # the model's short name and precision ("cnn fp32")
    label: str = ""  # typed label for saving
    message: str = ""  # transient note ("saved ...", "int8 model loaded")
    drawing: bool = False


def draw_screen(canvas: np.ndarray, view: DrawView) -> np.ndarray:
    """Canvas + boxes on the left, the prediction panel on the right, key help below."""
    ch, cw = canvas.shape[:2]
    left = as_bgr(canvas)
    candidates = view.result.candidates if view.result is not None else []
    for i, d in enumerate(candidates):
        x, y, w, h = d.where
        color = SURE if d.sure else UNSURE
        cv2.rectangle(left, (x - 4, y - 4), (x + w + 4, y + h + 4), color, 2 if i == view.focus else 1, AA)
    cv2.rectangle(left, (0, 0), (cw - 1, ch - 1), RULE, 1)
    if not candidates and not view.drawing:
        hint = "draw digits here with the mouse"
        tw, _ = text_size(hint, 0.7)
        put_text(left, hint, ((cw - tw) // 2, ch // 2), scale=0.7, color=(185, 185, 185))

    panel = np.full((ch, PANEL_WIDTH, 3), PANEL, np.uint8)
    cv2.line(panel, (0, 0), (0, ch), RULE, 2)
    x0, inner = 18, PANEL_WIDTH - 36
    y = 30
    put_text(panel, "digitkit", (x0, y), scale=0.7, color=TEXT, thickness=2, font=BOLD)
    model_label = f"model {view.model}"
    mw, _ = text_size(model_label, 0.5)
    put_text(panel, model_label, (PANEL_WIDTH - 18 - mw, y), scale=0.5, color=MUTED)
    y += 16
    cv2.line(panel, (x0, y), (x0 + inner, y), RULE, 1)

    y += 62
    if view.status == "empty" or view.result is None:
        put_text(panel, "-", (x0, y), scale=1.8, color=MUTED, thickness=3, font=BOLD)
        y += 30
        put_text(panel, "nothing drawn yet", (x0, y), scale=0.55, color=MUTED)
    else:
        shown = view.text or "?"
        scale = 1.9
        tw, _ = text_size(shown, scale, 3, BOLD)
        if tw > inner:
            scale *= inner / tw
        color = SURE if view.status == "ok" else UNSURE
        put_text(panel, shown, (x0, y), scale=scale, color=color, thickness=3, font=BOLD)
        y += 30
        if view.status == "ok":
            confidence = min(d.confidence for d in candidates)
            note = f"confidence {percent(confidence)}"
        elif view.status == "no digit":
            note = "no digit found"
        else:
            note = "not sure"
            if candidates:
                note += f" (confidence {percent(min(d.confidence for d in candidates))})"
        put_text(panel, note, (x0, y), scale=0.55, color=color if view.status != "no digit" else MUTED)

    y += 26
    if candidates:
        focus = view.focus if view.focus is not None and view.focus < len(candidates) else len(candidates) - 1
        title = "top 3" if len(candidates) == 1 else f"top 3 - digit {focus + 1} of {len(candidates)}"
        put_text(panel, title, (x0, y), scale=0.5, color=MUTED)
        y += 8
        y += draw_bars(panel, candidates[focus].top(3), (x0, y), inner) + 14
        put_text(panel, "what the model sees (28x28)", (x0, y), scale=0.5, color=MUTED)
        y += 10
        draw_insets(panel, candidates, (x0, y), inner, focus=focus)

    bottom = ch - 14
    if view.message:
        put_text(panel, view.message[:40], (x0, bottom - 24), scale=0.48, color=BAR)
    label = f"label to save: {view.label}" if view.label else "label to save: the prediction"
    put_text(panel, label, (x0, bottom), scale=0.48, color=MUTED)

    top = np.hstack([left, panel])
    return np.vstack([top, footer(top.shape[1], DRAW_KEYS)])


# -- camera / video / image mode -------------------------------------------------------------------
def stream_screen(
    frame: np.ndarray | None,
    result: FrameResult | None,
    *,
    source: str,
    fps: float | None = None,
    model: str = "fp32",
    message: str | None = None,
    note: str = "",
    paused: bool = False,
    size: tuple[int, int] = (640, 480),
) -> np.ndarray:
    """The frame with boxes, digits, confidences, the numbers read, FPS and key help.

    ``message`` (a lost camera, a bad frame) goes across the middle; ``note``
    (the model was switched) in a corner of the header.
    """
    if frame is None:
        image = np.full((size[1], size[0], 3), 40, np.uint8)
    else:
        image = as_bgr(frame)
    h, w = image.shape[:2]
    text_scale = max(0.45, min(1.2, w / 1100))
    if result is not None:
        draw_boxes(image, result, scale=text_scale)
    # header: the numbers read, then source / model / FPS
    header = image.copy()
    cv2.rectangle(header, (0, 0), (w, 64), DARK, -1)
    cv2.addWeighted(header, 0.7, image, 0.3, 0, dst=image)
    read = result.text if result is not None and result.numbers else "-"
    put_text(image, f"read: {read}", (12, 30), scale=0.85, color=WHITE, thickness=2, font=BOLD)
    info = f"{source}   model {model}"
    if fps is not None:
        info += f"   {fps:.1f} FPS"
    if result is not None:
        info += f"   {1000 * result.seconds:.0f} ms/frame"
    if paused:
        info += "   PAUSED"
    put_text(image, info, (12, 54), scale=0.5, color=(200, 200, 200))
    if note:
        nw, _ = text_size(note, 0.45)
        put_text(
            image,
            note,
            (max(12, w - nw - 12), 28),
            scale=0.45 if nw < w - 24 else 0.45 * (w - 24) / nw,
            color=(80, 200, 255),
        )
    if message:
        draw_message(image, message)
    return np.vstack([image, footer(w, STREAM_KEYS)])
