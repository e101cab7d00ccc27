"""The camera pipeline on a synthetic webcam video: digits read right, few false digits.

The video (made here, see app_webcam.py) shows MNIST *test* digits written as
numbers on paper, filmed at 640x480 with perspective, blur, uneven light, a
shadow and noise. The app runs on it exactly as a user would run it on a file:
``digitkit app --source video.avi --headless --log events.jsonl``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from app_models import accuracy_model, model_args
from app_webcam import FRAME_SIZE, make_webcam_video, score


@pytest.fixture(scope="module")
def webcam(tmp_path_factory, mnist_test_u8):
    images, labels = mnist_test_u8
    path = tmp_path_factory.mktemp("webcam") / "webcam.avi"
    truths = make_webcam_video(path, images, labels, sheets=20, frames_per_sheet=4, seed=2024)
    return path, truths


def test_the_synthetic_video_is_what_it_claims(webcam):
    import cv2

    path, truths = webcam
    capture = cv2.VideoCapture(str(path))
    ok, frame = capture.read()
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    assert ok and frame.shape == (FRAME_SIZE[1], FRAME_SIZE[0], 3) and count == len(truths) == 80
    assert all(len(t.labels) == 5 and "".join(t.numbers) == "".join(map(str, t.labels)) for t in truths)
    grey = frame.mean(axis=2)
    assert grey.std() > 5  # uneven light, not a flat page
    for x, y, w, h in truths[0].boxes:  # each digit's box holds dark ink
        assert grey[y : y + h, x : x + w].min() < np.median(grey) - 60


def run_app(video, log, model: str | None) -> list[dict]:
    command = [sys.executable, "-m", "digitkit.runtime.cli", "app", "--source", str(video), "--headless"]
    done = subprocess.run(
        [*command, "--log", str(log), *model_args(model)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_headless_app_reads_the_webcam_digits(webcam, tmp_path):
    model = accuracy_model()
    path, truths = webcam
    result = score(run_app(path, tmp_path / "events.jsonl", model), truths)
    print("webcam:", json.dumps(result))
    assert result["frames_logged"] == len(truths)
    assert result["accuracy"] >= 0.97, result
    assert result["false_share"] <= 0.01, result  # false digits per frame, as a share of the frame's digits


def test_marks_that_are_not_digits_are_rejected(mnist_test_u8, tmp_path):
    model = accuracy_model()
    images, labels = mnist_test_u8
    video = tmp_path / "marks.avi"
    truths = make_webcam_video(video, images, labels, sheets=10, frames_per_sheet=4, seed=7, distractors=True)
    result = score(run_app(video, tmp_path / "events.jsonl", model), truths)
    print("webcam with non-digit marks:", json.dumps(result))
    assert result["accuracy"] >= 0.97, result
    assert result["false_share"] <= 0.01, result
