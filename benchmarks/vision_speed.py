"""How fast the picture -> digits pipeline is, on one thread: the three speed goals of the vision pipeline (#11).

    python -m digitkit.benchmarks.vision_speed

- a 280×280 drawing -> digit (``Recognizer.predict``: to_mnist + model), median;
- a 640×480 camera frame with 5 digits (``process_frame``), median and frames per second;
- a 2000×1500 photo of a page with 40 digits (``read_number``), median.
The pictures are MNIST test digits drawn dark on light paper with sensor noise; the host is printed beside them
(compare timings only side by side, on one machine).
"""

from __future__ import annotations

import cv2
import numpy as np

from digitkit.timing import median_ms


def pictures(digits: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """The three test pictures, drawn from MNIST digits (white on black, 28×28)."""
    rng = np.random.default_rng(seed)
    drawing = 255 - cv2.resize(digits[0], (280, 280), interpolation=cv2.INTER_LINEAR)
    frame = np.full((480, 640), 200, np.uint8)
    for k in range(5):
        d = cv2.resize(digits[1 + k], (70, 70))
        frame[200:270, 60 + 110 * k : 130 + 110 * k] = np.minimum(frame[200:270, 60 + 110 * k : 130 + 110 * k], 255 - d)
    page = np.full((1500, 2000), 225, np.uint8)
    for k in range(40):
        d = cv2.resize(digits[10 + k], (120, 120))
        y, x = 200 + 250 * (k // 10), 100 + 180 * (k % 10)
        page[y : y + 120, x : x + 120] = np.minimum(page[y : y + 120, x : x + 120], 255 - d)
    noisy = {}
    for name, picture in {"drawing": drawing, "frame": frame, "page": page}.items():
        noise = rng.normal(0, 2 if name != "drawing" else 0, picture.shape)
        noisy[name] = np.clip(picture + noise, 0, 255).astype(np.uint8)
    noisy["frame"] = cv2.cvtColor(noisy["frame"], cv2.COLOR_GRAY2BGR)
    return noisy


def main() -> int:
    from digitkit.benchmarks.machine import describe_machine, one_line
    from digitkit.runtime.app.frames import process_frame
    from digitkit.runtime.reading import read_number
    from digitkit.runtime.recognizer import Recognizer
    from digitkit.train.mnist import load_mnist

    cv2.setNumThreads(1)  # one thread for OpenCV too, as for the model
    recognizer = Recognizer(threads=1)
    test = np.array(load_mnist(log=lambda _m: None).test_images[:60])
    shown = pictures(test)
    drawing = median_ms(lambda: recognizer.predict(shown["drawing"]), 300)
    frame = median_ms(lambda: process_frame(shown["frame"], recognizer), 60)
    page_reading = read_number(shown["page"], recognizer)
    page = median_ms(lambda: read_number(shown["page"], recognizer), 10)
    print(f"host: {one_line(describe_machine())}")
    print(f"280×280 drawing -> digit: {drawing:.2f} ms median (goal <= 1 ms)")
    print(f"640×480 frame, 5 digits: {frame:.1f} ms median = {1000 / frame:.0f} FPS (goal >= 30 FPS)")
    print(f"2000×1500 page, 40 digits: {page:.0f} ms median, read {len(page_reading.digits)} digits (goal <= 100 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
