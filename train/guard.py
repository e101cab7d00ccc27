"""Train the digit guard: small CNNs (about 24k parameters each) that tell a digit from a non-digit.

A digit classifier's softmax is confident on things that are not digits (an
"H" is a sure 4, a "T" a sure 7), so a confidence threshold alone cannot
refuse letters. The guard is a second, very small network trained for that
one question: MNIST training digits, some rescanned at 16×16 (``low_resolution``),
some drawn as photos of paper (``pictures.photographed``), Hershey-font digits, the writing styles
of ``train/styles.py`` (a flagged 1, a crossed 7, an open 4, a round or slashed
0) and the real European writers of CVL train (``cvl.py``), as written and
rescanned at 16×16 too, are the positives;
generated non-digits (closed figures among them) with letters in four of the eight
Hershey fonts (``nondigits.CALIBRATION_FONTS``) the negatives, a third of them rescanned the same way so that a
blocky, two-level scan says nothing about digit or not. Real
handwriting from elsewhere must not look foreign to it: with MNIST alone as
the positives it answered "not sure" for a round 0 and a flat-topped 5 photographed
on paper. It sees the same 28×28 input as the
classifier (``vision.to_mnist``) and outputs P(digit); the runtime
multiplies that into the prediction's confidence.

The file holds two such networks, each trained on its own seed's pictures,
and outputs the mean of their P(digit): one network refuses some real digits
and answers some non-digits the other does not, and at the threshold that
keeps 99 % of the calibration digits the pair answered 0.62 % of the
calibration non-digits where either alone answered 1.0 % (docs/styles.md).

    python -m digitkit.train.guard                 # writes runtime/models/digitkit-guard.onnx

The defaults are what produced the shipped file (seeds 1234 and 1235, two threads;
about 25 minutes on a 2-core AMD EPYC, 8 of them making the pictures; CVL train
must be there). Needs the train extra (torch, onnx).
The evaluation (benchmarks/robustness.py) uses other seeds and all eight fonts; the
threshold is chosen on train[50000:], which the guard never saw.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

SEED = 1234
OUT = Path(__file__).resolve().parents[1] / "runtime" / "models" / "digitkit-guard.onnx"


def _pictures_to_mnist(pictures) -> np.ndarray:
    from digitkit.runtime.vision import to_mnist

    out = []
    for p in pictures:
        m = to_mnist(p)
        if m is not None:
            out.append(m)
    return np.stack(out) if out else np.empty((0, 28, 28), np.float32)


def build_data(
    n_mnist: int,
    n_font_digits: int,
    n_non_digits: int,
    seed: int = SEED,
    n_photographed: int = 0,
    n_style: int = 0,
    cvl_repeat: int = 0,
    cvl_rescans: bool = False,
):
    from digitkit.train import nondigits, pictures
    from digitkit.train.mnist import load_mnist

    rng = np.random.default_rng(seed)
    mnist = load_mnist(log=lambda _m: None)
    pick = rng.choice(50_000, n_mnist, replace=False)  # train[50000:] stays out, for calibration
    train_images = np.array(mnist.train_images)[pick]
    digits = _pictures_to_mnist(train_images)
    # a third of them again as low-resolution scans (no USPS or Semeion used); the negatives get the same
    rescans = [low_resolution(x, rng) for x in train_images[: n_mnist // 3]]
    digits = np.concatenate([digits, _pictures_to_mnist(rescans)])
    fonts = [
        nondigits.font_digit(int(rng.integers(10)), rng, int(rng.choice([28, 56, 112])), nondigits.CALIBRATION_FONTS)
        for _ in range(n_font_digits)
    ]
    positives = [digits, _pictures_to_mnist(fonts)]
    if n_photographed:  # digits on paper as a phone sees them: what to_mnist makes of a photo is crisper than MNIST
        positives.append(_pictures_to_mnist(pictures.photographed(train_images[-n_photographed:], rng)))
    if n_style:  # how people elsewhere write (a flagged 1, a crossed 7, an open 4, a round or slashed 0)
        from digitkit.train.styles import style_digits

        positives.append(style_digits(n_style, seed=seed).images.astype(np.float32) / 255)
    if cvl_repeat:  # real European writers (CVL train only: CVL valid's writers choose the threshold)
        from digitkit.train.cvl import load_cvl, load_cvl_raw

        positives.extend([load_cvl("train").images.astype(np.float32) / 255] * cvl_repeat)
        if cvl_rescans:  # and each of them rescanned at 16x16 once, as the MNIST digits above (its own random stream)
            rescan_rng = np.random.default_rng(seed + 1)
            raw = load_cvl_raw("train")[0]
            positives.append(_pictures_to_mnist([low_resolution(p, rescan_rng) for p in raw]))
    positives = np.concatenate(positives)
    weights = {
        "blank": 0.03, "noise": 0.07, "scribble": 0.25, "lines": 0.1, "circles": 0.1, "shapes": 0.1, "letters": 0.35,
    }  # fmt: skip
    negatives = []
    for kind, share in weights.items():
        count = int(n_non_digits * share)
        for _ in range(count):
            size = int(rng.choice([28, 56, 112]))
            if kind == "letters":
                negatives.append(nondigits.letter(rng, size, nondigits.CALIBRATION_FONTS))
            else:
                negatives.append(nondigits.GENERATORS[kind](rng, size))
    # so that a blocky two-level look says nothing about digit or not
    picked = rng.choice(len(negatives), len(negatives) // 3, replace=False)  # every kind, letters among them
    negatives += [low_resolution(negatives[i], rng) for i in picked]
    negatives = _pictures_to_mnist(negatives)
    return positives, negatives


def low_resolution(picture: np.ndarray, rng: np.random.Generator, side: int = 16, scale: int = 4) -> np.ndarray:
    """``picture`` as a ``side``×``side`` scan enlarged ``scale`` times: half of them stored as two levels and
    enlarged by repeating pixels (blocky), the others kept grey and enlarged smoothly."""
    small = cv2.resize(picture, (side, side), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        _, small = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        return cv2.resize(small, (side * scale, side * scale), interpolation=cv2.INTER_NEAREST)
    return cv2.resize(small, (side * scale, side * scale), interpolation=cv2.INTER_LINEAR)


def build_guard():
    from torch import nn

    def block(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]

    return nn.Sequential(
        *block(1, 16), nn.MaxPool2d(2), *block(16, 32), nn.MaxPool2d(2), *block(32, 64),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 1),
    )  # fmt: skip


def _augment(x, generator):
    """Shifts, stroke width, blur and ink-level changes for every sample, digits and non-digits alike.

    The guard must not learn MNIST's exact stroke profile (then real
    handwriting from elsewhere would look foreign), so what varies between
    scans and pens is randomised on both sides.
    """
    import torch
    import torch.nn.functional as F

    n = x.shape[0]
    shift = torch.randint(-2, 3, (2,), generator=generator)
    x = torch.roll(x, shifts=(int(shift[0]), int(shift[1])), dims=(2, 3))
    choice = torch.rand(n, generator=generator)
    thick = F.max_pool2d(x, 3, 1, 1)
    thin = F.pad(-F.max_pool2d(-x, 2, 1, 0), (0, 1, 0, 1))
    x = torch.where((choice < 0.2)[:, None, None, None], thick, x)
    x = torch.where((choice > 0.85)[:, None, None, None], thin, x)
    kernel = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]])[None, None] / 16
    blurred = F.conv2d(x, kernel, padding=1)
    blurred = blurred / blurred.amax(dim=(2, 3), keepdim=True).clamp_min(1e-3)
    blur = torch.rand(n, generator=generator) < 0.3
    x = torch.where(blur[:, None, None, None], blurred, x)
    gamma = torch.exp(torch.empty(n).uniform_(-0.7, 0.7, generator=generator))[:, None, None, None]
    return x.clamp(0, 1) ** gamma


def train(positives: np.ndarray, negatives: np.ndarray, epochs: int, seed: int = SEED):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    x = torch.from_numpy(np.concatenate([positives, negatives])[:, None].astype(np.float32))
    y = torch.cat([torch.ones(len(positives)), torch.zeros(len(negatives))])
    model = build_guard()
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = epochs * ((len(x) + 255) // 256)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=3e-3, total_steps=steps)
    loss_fn = nn.BCEWithLogitsLoss()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=generator)
        total, start = 0.0, time.time()
        for i in range(0, len(x), 256):
            idx = order[i : i + 256]
            batch = _augment(x[idx], generator)
            loss = loss_fn(model(batch)[:, 0], y[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(idx)
        print(f"guard epoch {epoch + 1}/{epochs}: loss {total / len(x):.4f} ({time.time() - start:.0f} s)", flush=True)
    model.eval()
    return model


def averaged(members: list):
    """One module whose output is the mean P(digit) of the trained ``members``."""
    import torch
    from torch import nn

    class Averaged(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.members = nn.ModuleList(members)

        def forward(self, x):
            return torch.stack([torch.sigmoid(m(x)) for m in self.members]).mean(0)

    return Averaged().eval()


def export(members: list, path: Path, seeds: list[int]) -> None:
    import io

    import onnx
    import torch

    from digitkit.runtime.files import atomic_write_bytes

    wrapped = averaged(members)
    buffer = io.BytesIO()
    torch.onnx.export(
        wrapped, torch.zeros(1, 1, 28, 28), buffer, input_names=["digit"], output_names=["p_digit"],
        dynamic_axes={"digit": {0: "N"}, "p_digit": {0: "N"}}, opset_version=17, dynamo=False,
    )  # fmt: skip
    proto = onnx.load_from_string(buffer.getvalue())
    for key, value in {
        "digitkit.role": "guard",
        "digitkit.input": "N,1,28,28 to_mnist output in [0,1], white on black",
        "digitkit.output": "P(digit)",
        "digitkit.members": f"{len(members)} networks (seeds {', '.join(map(str, seeds))}), P(digit) averaged",
        "digitkit.trained_on": "MNIST train[:50000] sample (plain, rescanned at 16x16, drawn as photos) + Hershey digits + "
        "train/styles.py style digits + CVL train (67 European writers; plain, and rescanned at 16x16) vs generated "
        "non-digits (fonts: simplex, duplex, complex, script_simplex; a third also rescanned at 16x16)",
    }.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    atomic_write_bytes(path, proto.SerializeToString())


def main(argv=None) -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--mnist", type=int, default=30_000)
    parser.add_argument("--font-digits", type=int, default=8_000)
    parser.add_argument("--non-digits", type=int, default=80_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--members", type=int, default=2, help="networks averaged, each on its own seed's pictures")
    parser.add_argument("--photographed", type=int, default=8_000, help="MNIST digits drawn as photos of paper")
    parser.add_argument("--style", type=int, default=400, help="style digits (train/styles.py) per variant")
    parser.add_argument("--cvl-repeat", type=int, default=2, help="times CVL train's 7,000 real digits are positives")
    parser.add_argument(
        "--cvl-rescans", action=argparse.BooleanOptionalAction, default=True, help="CVL train rescanned at 16x16 too"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.members < 1:
        parser.error("--members must be at least 1")
    seeds = [SEED + k for k in range(args.members)]
    members = []
    for seed in seeds:
        start = time.time()
        positives, negatives = build_data(
            args.mnist,
            args.font_digits,
            args.non_digits,
            seed=seed,
            n_photographed=args.photographed,
            n_style=args.style,
            cvl_repeat=args.cvl_repeat,
            cvl_rescans=args.cvl_rescans,
        )
        print(
            f"seed {seed}: {len(positives)} digits, {len(negatives)} non-digits ({time.time() - start:.0f} s)",
            flush=True,
        )
        members.append(train(positives, negatives, args.epochs, seed=seed))
    export(members, args.out, seeds)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
