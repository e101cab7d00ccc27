"""Training presets: every knob of a run, readable at a glance.

``quick`` is the main job's and the tests' preset (a few minutes on a 2-core
CPU); ``full`` trains the model the runtime ships; ``tiny`` trains the
under-10k-parameter model for microcontroller-class devices; ``dense`` is the
plain-convolution CNN the runtime shipped first, kept for comparison.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace


@dataclass(frozen=True)
class TrainConfig:
    arch: str = "cnn"
    widths: tuple[int, int, int] = (16, 32, 64)
    head: str = "gap"
    dropout: float = 0.0
    epochs: int = 6
    batch_size: int = 128
    max_lr: float = 4e-3
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0
    # batched random affine augmentation
    rotate_deg: float = 10.0
    scale: tuple[float, float] = (0.9, 1.1)
    shift_px: float = 2.0
    shear_deg: float = 8.0
    # writing styles MNIST lacks (issue #12; docs/styles.md), all off unless a preset turns them on:
    # elastic distortion (Simard et al. 2003: alpha 34, sigma 4 px, their best on 28x28 MNIST) of this share of images
    elastic_share: float = 0.0
    elastic_alpha: float = 34.0
    elastic_sigma: float = 4.0
    stroke_share: float = 0.0  # share of images drawn bolder or thinner (half each; augment.augment_batch)
    # share of images whose ink box is widened (or, for a wide digit, heightened) part or all of the way to a square:
    # writing wider than MNIST's, and forms and scanners that stretch each digit to fill its box (augment.widen)
    widen_share: float = 0.0
    style_per_variant: int = 0  # stroke-drawn digits per style variant added to the training set (train/styles.py)
    mnist_style_per_digit: int = 0  # MNIST 0s, 1s and 7s each given a slash, flag or crossbar (train/mnist_styles.py)
    style_seed: int = 12
    seed: int = 0
    subset: int | None = None  # train on the first N images only (tests)
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known}
        return cls(**values)


# the writing styles MNIST lacks (issue #12), in MNIST's own strokes: 1,500 each of MNIST's 0s, 1s and 7s given a
# slash, a flag or a crossbar (train/mnist_styles.py), and a third of each batch's ink boxes stretched toward a
# square (augment.widen). The first recipe also had 12,600 stroke-drawn digits (train/styles.py), elastic distortion
# on half the images and bolder/thinner strokes on a fifth (DRAWN_STYLES): it read the drawings of held-out pens
# >= 90 % yet real foreign writing worse than MNIST alone, and cost MNIST 0.3 pp; this one did too (docs/styles.md).
WRITING_STYLES = dict(mnist_style_per_digit=1500, widen_share=0.3)
DRAWN_STYLES = dict(elastic_share=0.5, stroke_share=0.2, style_per_variant=700, **WRITING_STYLES)
# the shipped digitkit-cnn: depthwise-separable, 37,738 parameters; 99.72 % after 30 epochs. onnxruntime runs it
# over 8x faster than PyTorch eager at batch 1, which no dense CNN of this accuracy reached here.
# arch="tiny" is the depthwise-separable architecture (model.TinyCNN), here at full width: not the tiny preset
_FULL = TrainConfig(arch="tiny", widths=(32, 64, 128), dropout=0.1, epochs=30, max_lr=6e-3, weight_decay=1e-4)
_TINY = TrainConfig(arch="tiny", widths=(16, 32, 48), epochs=15, max_lr=6e-3, weight_decay=1e-4)

PRESETS: dict[str, TrainConfig] = {
    "quick": TrainConfig(),
    "full": _FULL,
    "tiny": _TINY,
    # not shipped: full / tiny plus the writing styles. Three recipes were each checked once on USPS and Semeion
    # and each read Semeion worse than MNIST alone (84.3-85.3 % vs 88.95 % for the CNN): docs/styles.md
    "full-styles": replace(_FULL, **WRITING_STYLES),
    "tiny-styles": replace(_TINY, **WRITING_STYLES),
    # the dense CNN shipped before (167,722 parameters, 99.67 %; batch-1 onnxruntime int8 7.7x eager)
    "dense": TrainConfig(widths=(32, 64, 96), head="flat", dropout=0.25, epochs=20, max_lr=3e-3),
    "smoke": TrainConfig(epochs=2, subset=6000),
}


def preset(name: str, **overrides) -> TrainConfig:
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r} (choose from {', '.join(PRESETS)})")
    return replace(PRESETS[name], **{k: v for k, v in overrides.items() if v is not None})
