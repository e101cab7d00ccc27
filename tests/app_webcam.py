"""A synthetic "webcam" video of handwritten numbers on paper, with its ground truth.

MNIST *test* digits are written as numbers (2-3 digits each, two lines per
sheet) in pen colours on textured paper; each sheet is filmed for a few frames
with a hand-held camera: perspective that drifts from frame to frame, defocus
blur, a light gradient and a soft shadow, sensor noise, and MJPG compression.
640x480, like a webcam. The ground truth of every frame (each digit's label and
box in frame pixels, the numbers in reading order) comes out with it, and
``score`` compares the app's ``--log`` events against it.

Run as a script to write a video for the benchmark:
    python tests/app_webcam.py /tmp/webcam.avi [SHADOW [SEED [distractors]]]
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

FRAME_SIZE = (640, 480)
SHEET_SIZE = (800, 600)  # sheet coordinates before the perspective
CELL = 96  # an MNIST 28x28 cell scaled to this many sheet pixels (digit ~ 70 px tall)
SHADOW = 0.35  # how much a shadow darkens the paper at most
PENS = [(25, 25, 25), (90, 40, 20), (30, 30, 110), (60, 50, 45)]  # BGR: black, blue, dark red, graphite


@dataclass
class FrameTruth:
    labels: list[int] = field(default_factory=list)  # in reading order
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)  # x, y, w, h in frame pixels
    numbers: list[str] = field(default_factory=list)


@dataclass
class Sheet:
    image: np.ndarray  # BGR sheet, SHEET_SIZE
    labels: list[int]
    corners: list[np.ndarray]  # per digit: the 4 corners of its ink box in sheet coordinates
    numbers: list[str]


def _paper(rng: np.random.Generator) -> np.ndarray:
    w, h = SHEET_SIZE
    tint = np.array([rng.uniform(225, 245), rng.uniform(228, 248), rng.uniform(232, 252)])
    fibre = cv2.resize(rng.normal(0, 1, (h // 8, w // 8)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    grain = rng.normal(0, 1.5, (h, w)).astype(np.float32)
    paper = tint[None, None, :] + (3.0 * fibre + grain)[:, :, None]
    return paper.astype(np.float32)


def make_sheet(images: np.ndarray, labels: np.ndarray, rng: np.random.Generator, distractors: bool = False) -> Sheet:
    """Two numbers of 2-3 digits (five digits in all), one per line, on a sheet of paper.

    ``distractors`` adds marks that are not digits: an underline under the first
    number and a letter in the margin.
    """
    paper = _paper(rng)
    marks = np.zeros(paper.shape[:2], np.uint8)  # the distractors, drawn in the pen's colour at the end
    pen = np.array(PENS[rng.integers(len(PENS))], np.float32)
    counts = [2, 3] if rng.random() < 0.5 else [3, 2]
    picked = rng.choice(len(images), size=sum(counts), replace=False)
    out_labels, corners, numbers = [], [], []
    k = 0
    for line, count in enumerate(counts):
        y = 130 + line * 230 + rng.uniform(-20, 20)
        x = rng.uniform(120, 330)
        cell = CELL * rng.uniform(0.9, 1.1)
        text = ""
        for _ in range(count):
            index = int(picked[k])
            k += 1
            digit = cv2.resize(images[index], (round(cell), round(cell)), interpolation=cv2.INTER_CUBIC)
            alpha = np.clip(digit.astype(np.float32) / 255.0 * rng.uniform(0.85, 1.0), 0, 1)[:, :, None]
            top, left = round(y + rng.uniform(-6, 6)), round(x)
            region = paper[top : top + digit.shape[0], left : left + digit.shape[1]]
            region[:] = region * (1 - alpha) + pen * alpha
            ys, xs = np.nonzero(digit > 60)
            x0, x1, y0, y1 = left + xs.min(), left + xs.max() + 1, top + ys.min(), top + ys.max() + 1
            corners.append(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32))
            out_labels.append(int(labels[index]))
            text += str(int(labels[index]))
            x += cell * rng.uniform(0.78, 0.9)  # handwriting: digits close, sometimes nearly touching
        numbers.append(text)
        if distractors and line == 0:
            left, right = int(corners[0][0, 0]), int(x)
            bottom = int(max(c[2, 1] for c in corners)) + 18
            end = (right + 10, bottom + int(rng.integers(-6, 7)))
            cv2.line(marks, (left - 10, bottom), end, 255, 4, cv2.LINE_AA)
    if distractors:
        letter = "AKXYEHMNRWkxz"[rng.integers(13)]
        origin = (int(rng.uniform(620, 680)), int(rng.uniform(150, 450)))
        cv2.putText(marks, letter, origin, cv2.FONT_HERSHEY_SIMPLEX, 2.2, 255, 5, cv2.LINE_AA)
        alpha = (marks.astype(np.float32) / 255.0)[:, :, None]
        paper[:] = paper * (1 - alpha) + pen * alpha
    return Sheet(paper, out_labels, corners, numbers)


def _camera(rng: np.random.Generator) -> np.ndarray:
    """Where the sheet's corners land in the frame: a tilted, slightly rotated view."""
    w, h = SHEET_SIZE
    fw, fh = FRAME_SIZE
    margin = rng.uniform(-60, -20)  # negative: the sheet overfills the frame (paper everywhere)
    quad = np.array([[margin, margin], [fw - margin, margin], [fw - margin, fh - margin], [margin, fh - margin]])
    quad += rng.uniform(-45, 45, quad.shape)  # perspective / keystone
    return cv2.getPerspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]), np.float32(quad))


def _jitter(homography: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The hand-held camera moves a little between frames."""
    fw, fh = FRAME_SIZE
    src = np.float32([[0, 0], [fw, 0], [fw, fh], [0, fh]])
    dst = src + rng.uniform(-8, 8, src.shape).astype(np.float32)
    return cv2.getPerspectiveTransform(src, dst) @ homography


def _lighting(rng: np.random.Generator, shadow: float) -> np.ndarray:
    """Light falling off across the page, and a soft shadow (a hand, the phone) darkening up to ``shadow``."""
    fw, fh = FRAME_SIZE
    yy, xx = np.mgrid[0:fh, 0:fw].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * (xx / fw - 0.5) + np.sin(angle) * (yy / fh - 0.5)) + 0.5
    light = 1.0 - rng.uniform(0.25, 0.45) * np.clip(ramp, 0, 1)
    shadow_strength = shadow
    blob = np.zeros((fh, fw), np.float32)
    centre = (int(rng.uniform(0, fw)), int(rng.uniform(0, fh)))
    axes = (int(rng.uniform(120, 260)), int(rng.uniform(80, 180)))
    cv2.ellipse(blob, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
    blob = cv2.GaussianBlur(blob, (0, 0), 35)
    return light * (1.0 - rng.uniform(0.6, 1.0) * shadow_strength * blob)


def film(
    sheet: Sheet, homography: np.ndarray, rng: np.random.Generator, shadow: float = SHADOW
) -> tuple[np.ndarray, FrameTruth]:
    fw, fh = FRAME_SIZE
    frame = cv2.warpPerspective(
        sheet.image, homography, FRAME_SIZE, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )
    frame = cv2.GaussianBlur(frame, (0, 0), rng.uniform(0.6, 1.3))
    frame = frame * _lighting(rng, shadow)[:, :, None]
    frame += rng.normal(0, rng.uniform(3, 7), frame.shape).astype(np.float32)
    frame = np.clip(frame, 0, 255).astype(np.uint8)
    truth = FrameTruth(labels=list(sheet.labels), numbers=list(sheet.numbers))
    for corners in sheet.corners:
        warped = cv2.perspectiveTransform(corners[None], homography)[0]
        x0, y0 = np.floor(warped.min(axis=0)).astype(int)
        x1, y1 = np.ceil(warped.max(axis=0)).astype(int)
        truth.boxes.append((int(x0), int(y0), int(x1 - x0), int(y1 - y0)))
    return frame, truth


def make_webcam_video(
    path: str | Path,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    sheets: int = 20,
    frames_per_sheet: int = 4,
    seed: int = 0,
    shadow: float = SHADOW,
    distractors: bool = False,
) -> list[FrameTruth]:
    """Write the video (MJPG .avi, 640x480, 10 fps) and return each frame's ground truth."""
    rng = np.random.default_rng(seed)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, FRAME_SIZE)
    if not writer.isOpened():
        raise RuntimeError(f"cannot write {path} with MJPG")
    truths: list[FrameTruth] = []
    try:
        for _ in range(sheets):
            sheet = make_sheet(images, labels, rng, distractors)
            homography = _camera(rng)
            for _ in range(frames_per_sheet):
                frame, truth = film(sheet, _jitter(homography, rng), rng, shadow)
                writer.write(frame)
                truths.append(truth)
    finally:
        writer.release()
    return truths


def _centre_inside(box, other, slack: float = 0.25) -> bool:
    x, y, w, h = box
    ox, oy, ow, oh = other
    cx, cy = x + w / 2, y + h / 2
    return ox - slack * ow <= cx <= ox + ow * (1 + slack) and oy - slack * oh <= cy <= oy + oh * (1 + slack)


def score(events: list[dict], truths: list[FrameTruth]) -> dict:
    """Digits read correctly (share of the true digits), false digits, whole numbers right.

    A reported digit matches a true digit when its box's centre lies in the
    true box (with some slack for the box drawn around the ink); each true digit
    takes at most one reported digit. A reported digit that matches none is a
    false digit (a shadow, a speck, a piece of a split digit).
    """
    by_frame = {e["frame"]: e for e in events if e.get("event", "frame") == "frame"}
    true_digits = correct = false = reported = frames_right = 0
    for index, truth in enumerate(truths):
        event = by_frame.get(index, {"boxes": [], "digits": [], "numbers": []})
        used: set[int] = set()
        reported += len(event["digits"])
        for box, digit in zip(event["boxes"], event["digits"], strict=True):
            match = next((i for i, tbox in enumerate(truth.boxes) if i not in used and _centre_inside(box, tbox)), None)
            if match is None:
                false += 1
                continue
            used.add(match)
            correct += int(digit == truth.labels[match])
        true_digits += len(truth.labels)
        frames_right += int(event.get("numbers") == truth.numbers)
    frames = len(truths)
    return {
        "frames": frames,
        "frames_logged": len(by_frame),
        "true_digits": true_digits,
        "reported_digits": reported,
        "correct": correct,
        "accuracy": correct / true_digits if true_digits else 0.0,
        "false_digits": false,
        "false_per_frame": false / frames if frames else 0.0,
        "false_share": false / true_digits if true_digits else 0.0,
        "numbers_right": frames_right / frames if frames else 0.0,
    }


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from digitkit.train.mnist import load_mnist

    out = Path(argv[0] if argv else "webcam.avi")
    mnist = load_mnist(log=lambda _msg: None)
    shadow = float(argv[1]) if len(argv) > 1 else SHADOW
    seed = int(argv[2]) if len(argv) > 2 else 0
    distractors = len(argv) > 3 and argv[3] == "distractors"
    images, labels = np.asarray(mnist.test_images), np.asarray(mnist.test_labels)
    truths = make_webcam_video(out, images, labels, shadow=shadow, seed=seed, distractors=distractors)
    truth_path = out.with_suffix(".truth.json")
    truth_path.write_text(json.dumps([t.__dict__ for t in truths]))
    print(f"wrote {out} ({len(truths)} frames) and {truth_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
