"""What the edge check feeds both machines: the 10,000 MNIST test digits and a few pictures made from them.

Runs on the host (it reads MNIST with ``digitkit.train.mnist``, fetching it once if needed). The
pictures are what a device user hands ``digitkit predict`` and ``digitkit read``: single digits
written dark on light paper at 5x MNIST's size, and a row of four digits on one page.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from digitkit.train.idx import decode_idx
from digitkit.train.mnist import ensure_mnist

SINGLES = (0, 1, 2, 3, 4)  # test-set indices of the single-digit pictures
PAGE = (7, 11, 18, 61)  # test-set indices written side by side on the page


def mnist_test_digits() -> tuple[np.ndarray, np.ndarray]:
    """(10000, 28, 28) uint8 digits and their (10000,) labels, from the verified IDX files."""
    folder = ensure_mnist(log=lambda _message: None)
    images = decode_idx((folder / "t10k-images-idx3-ubyte").read_bytes())
    labels = decode_idx((folder / "t10k-labels-idx1-ubyte").read_bytes())
    return images.astype(np.uint8), labels.astype(np.int64)


def on_paper(digit: np.ndarray, scale: int = 5) -> Image.Image:
    """White-on-black MNIST ink -> dark ink on light paper, ``scale`` times larger."""
    height, width = digit.shape
    paper = Image.fromarray(255 - digit).resize((width * scale, height * scale), Image.Resampling.BICUBIC)
    return paper.point(lambda v: int(40 + v * 0.8))  # grey ink on off-white paper, not pure 0/255


def write(out: Path) -> list[str]:
    """Write digits.npy, labels.npy, single-*.png and page.png into ``out``; the expected readings."""
    out.mkdir(parents=True, exist_ok=True)
    images, labels = mnist_test_digits()
    np.save(out / "digits.npy", images)
    np.save(out / "labels.npy", labels)
    expected = []
    for i in SINGLES:
        on_paper(images[i]).save(out / f"single-{i}.png")
        expected.append(f"single-{i}.png: {labels[i]}")
    row = np.hstack([np.pad(images[i], ((8, 8), (6, 6))) for i in PAGE])
    on_paper(row, scale=4).save(out / "page.png")
    expected.append("page.png: " + "".join(str(labels[i]) for i in PAGE))
    return expected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    for line in write(args.out):
        print(f"inputs: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
