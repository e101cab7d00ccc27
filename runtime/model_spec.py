"""How to feed a model, read from the model file itself.

digitkit writes these keys into an ONNX file's ``metadata_props`` at export;
the runtime reads them instead of hard-coding constants. A model without them
(a third-party MNIST model) gets the conventional defaults: one 28×28 grey
channel, white ink on black, pixels in [0, 1], no normalisation, logits out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

PREFIX = "digitkit."
PREPROCESS_VERSION = 1


@dataclass(frozen=True)
class ModelSpec:
    layout: str = "NCHW"
    height: int = 28
    width: int = 28
    pixel_scale: float = 1.0  # the model's input value for full ink (1.0, or 255.0)
    mean: float = 0.0  # subtracted after scaling pixels to [0, pixel_scale]
    std: float = 1.0
    polarity: str = "white-on-black"
    labels: tuple[str, ...] = tuple(str(d) for d in range(10))
    output: str = "logits"  # or "probabilities"
    temperature: float = 1.0  # logits are divided by it before softmax (fitted on held-out real writing)
    preprocess_version: int = PREPROCESS_VERSION
    extra: dict[str, str] = field(default_factory=dict)  # accuracy, checkpoint hash, ...

    def digit_columns(self) -> list[int]:
        """The output column of each digit 0-9 (``labels`` name the columns); ValueError unless the labels are
        the ten digits once each."""
        try:
            digits = [int(label) for label in self.labels]
        except (TypeError, ValueError):
            digits = []
        if sorted(digits) != list(range(10)):
            raise ValueError(f"labels {list(self.labels)} are not the digits 0-9 once each")
        return [digits.index(d) for d in range(10)]

    def to_metadata(self) -> dict[str, str]:
        props = {
            "layout": self.layout,
            "input_shape": f"N,1,{self.height},{self.width}",
            "pixel_scale": repr(self.pixel_scale),
            "mean": repr(self.mean),
            "std": repr(self.std),
            "polarity": self.polarity,
            "labels": json.dumps(list(self.labels)),
            "output": self.output,
            "preprocess_version": str(self.preprocess_version),
        }
        if self.temperature != 1.0:
            props["temperature"] = repr(self.temperature)
        props.update(self.extra)
        return {PREFIX + k: v for k, v in props.items()}

    @classmethod
    def from_metadata(cls, props: dict[str, str]) -> ModelSpec:
        ours = {k[len(PREFIX) :]: v for k, v in props.items() if k.startswith(PREFIX)}
        if not ours:
            return cls()
        _, _, h, w = ours.get("input_shape", "N,1,28,28").split(",")
        known = {
            "layout",
            "input_shape",
            "pixel_scale",
            "mean",
            "std",
            "polarity",
            "labels",
            "output",
            "temperature",
            "preprocess_version",
        }
        return cls(
            layout=ours.get("layout", "NCHW"),
            height=int(h),
            width=int(w),
            pixel_scale=float(ours.get("pixel_scale", 1.0)),
            mean=float(ours.get("mean", 0.0)),
            std=float(ours.get("std", 1.0)),
            polarity=ours.get("polarity", "white-on-black"),
            labels=tuple(json.loads(ours["labels"])) if "labels" in ours else cls.labels,
            output=ours.get("output", "logits"),
            temperature=float(ours.get("temperature", 1.0)),
            preprocess_version=int(ours.get("preprocess_version", PREPROCESS_VERSION)),
            extra={k: v for k, v in ours.items() if k not in known},
        )
