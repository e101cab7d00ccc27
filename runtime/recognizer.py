"""A digit recognizer on onnxruntime: picture in, digit (or an honest "no") out.

The model file says how to feed it (``ModelSpec`` in its metadata), so the
same class runs digitkit's shipped models and third-party MNIST models,
including ones exported for batch 1 only (we loop). Pictures go through
``vision.to_mnist``, the one picture -> model-input path.

The model-file checks and the digit-or-not decision (classifier × guard) live here; sessions and
execution providers in ``sessions``, the metadata in ``model_spec``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from digitkit.runtime.errors import DigitkitError, MissingExtraError
from digitkit.runtime.model_spec import PREFIX, ModelSpec
from digitkit.runtime.sessions import (  # noqa: F401  (ModelError, ProviderError: re-exported)
    ModelError,
    ProviderError,
    open_session,
    run_in_blocks,
)

log = logging.getLogger("digitkit.runtime")

# The shipped models; DIGITKIT_MODELS_DIR points elsewhere (a freshly exported set, a test).
MODELS_DIR = Path(os.environ.get("DIGITKIT_MODELS_DIR") or Path(__file__).resolve().parent / "models")
SHIPPED = {"cnn": "digitkit-cnn", "tiny": "digitkit-tiny"}
GUARD = "digitkit-guard.onnx"  # digit vs non-digit, trained by digitkit.train.guard
PRECISIONS = ("fp32", "int8")

# Below this confidence (top class probability, temperature-scaled, × the guard's P(digit)) the answer is "not sure"
# rather than a guess. Chosen on real digits no model trained on, MNIST train[50000:] and CVL valid's 60 writers,
# and on non-digits drawn with other seeds and four of the eight fonts (python -m digitkit.train.threshold,
# int8 CNN and guard): the rule takes the lowest threshold answering at most 1 % of those non-digits (0.2925,
# rounded up: 0.90 % answered), which keeps 99.69 % of the MNIST digits and 99.30 % of CVL's. No evaluation set
# is used.
DEFAULT_MIN_CONFIDENCE = 0.30

# A crop found among other digits on a page (vision.find_rows) has passed shape checks (as tall as its
# row's digits, not a line), so there the guard's P(digit) is a veto rather than a second confidence: at or above
# PAGE_GUARD_SURE the crop counts as a digit in full, below it the confidence is scaled down in proportion. Real
# handwriting the guard finds odd (an open 4, a crossed 7, digits filmed by a webcam) can score far under 0.5:
# multiplying that in refused 3-11 % of the digits of tests/test_app_webcam.py; a veto at 0.05 reads its 400 digits
# as one at 0.02 does (98.75 %). Letters mostly score less: 5 % of the calibration letters (nondigits.non_digits(300,
# 7), four fonts) reach 0.05 and 12 % reach 0.02, the median 0.0015. A picture on its own (predict, predict_batch)
# keeps the full product.
PAGE_GUARD_SURE = 0.05
# ... provided the page has another crop at least this digit-like (the guard's P(digit)): a picture of letters has
# none (letters of nondigits.letter: 88 % read as digits with the veto alone, 12 % with this rule).
PAGE_VOUCHES = 0.5

# vision.SIZE, kept here so that the model-only path (classify_mnist) never imports vision, and with it OpenCV:
# a device that feeds 28×28 arrays needs only numpy and onnxruntime (docs/edge.md).
MNIST_SIDE = 28
# a model input larger than this a side is no digit classifier (a 30000x30000 input_shape would take minutes and GBs
# per digit)
MAX_INPUT_SIDE = 1024


@dataclass
class Prediction:
    """One digit read, the one record of the API, the CLI's --json, the app and the benchmarks: what it is (or
    an honest no), how sure, the 28×28 the model saw and, read on a page or a frame, where it is."""

    digit: int | None  # None when status is not "ok"
    confidence: float  # top probability × digit_likeness, on a page × min(1, digit_likeness / PAGE_GUARD_SURE); 0: none
    probabilities: np.ndarray  # (10,) float32, sums to 1 (all zeros when no digit was found)
    mnist: np.ndarray | None  # the 28×28 the model saw, None when no digit was found
    status: str  # "ok" | "no digit" | "not sure" (also for a picture of several digits: ``digits_beside``)
    digit_likeness: float = 1.0  # the guard's P(a digit at all), see ``confidence``; 0 when no digit was found
    digits_beside: int = 0  # predict: more digits seen beside this one (the picture holds a number: read it)
    box: tuple[int, int, int, int] | None = None  # read_number, the app: x, y, w, h in the (turned) picture's pixels
    row: int = 0  # read_number, the app: which line of writing (0: top)

    @property
    def where(self) -> tuple[int, int, int, int]:
        """``box``, for a digit read on a page or a frame, where it is always known."""
        if self.box is None:
            raise ValueError("a prediction made on a whole picture has no box")
        return self.box

    @property
    def seen(self) -> np.ndarray:
        """``mnist``, for a digit that was found (a reading's, a frame's), where it is always there."""
        if self.mnist is None:
            raise ValueError("no digit was found: the model saw nothing")
        return self.mnist

    @property
    def sure(self) -> bool:
        """The model is sure enough to answer (``digit`` is set)."""
        return self.digit is not None

    @property
    def best(self) -> int:
        """The most likely digit, sure or not (what the app shows for a digit it is not sure of)."""
        return self.top(1)[0][0]

    def top(self, k: int = 3) -> list[tuple[int, float]]:
        """The k most likely digits with their probabilities, best first."""
        return top_digits(self.probabilities, k)


def top_digits(probabilities: np.ndarray, k: int = 3) -> list[tuple[int, float]]:
    """The k most likely classes of a (10,) probability vector with their probabilities, best first.

    Ties go to the lower digit, so a result (and a test of it) never depends on the sort's whims; every
    ``top`` of the runtime and the app answers through this one function.
    """
    order = np.argsort(-np.asarray(probabilities), kind="stable")[:k]
    return [(int(i), float(probabilities[i])) for i in order]


def shipped_model_path(name: str = "cnn", precision: str = "fp32") -> Path:
    """Path of a model shipped in runtime/models/ (``cnn`` or ``tiny``, ``fp32`` or ``int8``)."""
    if precision not in PRECISIONS:
        raise ModelError(f"unknown precision {precision!r} (expected one of {', '.join(PRECISIONS)})")
    stem = SHIPPED.get(name, name)
    suffix = ".int8.onnx" if precision == "int8" else ".onnx"
    return MODELS_DIR / f"{stem}{suffix}"


def resolve_model(model: str | os.PathLike[str] | None, precision: str = "fp32") -> Path:
    """A model argument -> a file: None is the shipped CNN; ``cnn``/``tiny`` name shipped models."""
    if model is None:
        path = shipped_model_path("cnn", precision)
        if not path.is_file():
            maker = "digitkit quantize" if precision == "int8" else "digitkit export"
            raise ModelError(f"the shipped model {path.name} is missing from {MODELS_DIR} (run: {maker})")
        return path
    path = Path(model)
    if not path.exists() and str(model) in SHIPPED:
        path = shipped_model_path(str(model), precision)
    if not path.exists():
        raise ModelError(f"{path}: no such model file")
    if not path.is_file():
        raise ModelError(f"{path}: not a file")
    return path


class Recognizer:
    """One loaded model and the session that runs it.

    ``provider="auto"`` tries CUDA, then the CPU, and logs (logger
    ``digitkit.runtime``) which one it chose and why. ``threads`` sets
    onnxruntime's intra-op thread count (None: onnxruntime's default).
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        precision: str = "fp32",
        provider: str = "auto",
        threads: int | None = None,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        guard: bool | str | os.PathLike[str] = True,
    ) -> None:
        if precision not in PRECISIONS:
            raise ModelError(f"unknown precision {precision!r} (expected one of {', '.join(PRECISIONS)})")
        if threads is not None and threads < 1:
            raise DigitkitError(f"threads must be at least 1 (got {threads})")
        if not 0.0 <= min_confidence <= 1.0:
            raise DigitkitError(f"min_confidence must be within [0, 1] (got {min_confidence})")
        self.model_path = resolve_model(model, precision)
        self.precision = precision
        if threads is not None:  # more threads than cores only slows onnxruntime down (1000: 98 s a picture)
            from digitkit.runtime.cores import cap_threads

            threads = cap_threads(threads)
        self.threads = threads
        self.min_confidence = float(min_confidence)
        self._session, self.provider, self.provider_reason = open_session(self.model_path, provider, threads)
        self.spec = _read_spec(self._session, self.model_path)
        columns = self.spec.digit_columns()
        self._digit_columns = None if columns == list(range(10)) else columns  # None: already in digit order
        self._input, self._output, self._batch_one = _check_shapes(self._session, self.spec, self.model_path)
        # pixels p in [0, 1] -> (p · pixel_scale − mean) / std, with 1 − p first for black-on-white models
        scale = self.spec.pixel_scale / self.spec.std
        offset = -self.spec.mean / self.spec.std
        if self.spec.polarity == "black-on-white":
            scale, offset = -scale, offset + self.spec.pixel_scale / self.spec.std
        self._scale, self._offset = np.float32(scale), np.float32(offset)
        self.guard_path = _resolve_guard(guard)
        self._guard = None
        if self.guard_path is not None:
            self._guard, _, _ = open_session(self.guard_path, self.provider, threads, quiet=True)
            self._guard_input = self._guard.get_inputs()[0].name

    def __repr__(self) -> str:
        return f"Recognizer({self.model_path.name!r}, provider={self.provider!r}, threads={self.threads})"

    # --- pictures -----------------------------------------------------------------------------
    def predict(self, picture: Any) -> Prediction:
        """One picture (path, array or PIL image) -> a Prediction."""
        return self.predict_batch([picture])[0]

    def predict_batch(self, pictures: Any) -> list[Prediction]:
        """Several pictures -> one Prediction each, with one model call for all the digits found."""
        if isinstance(pictures, (str, os.PathLike)) or (isinstance(pictures, np.ndarray) and pictures.ndim < 3):
            raise DigitkitError(
                f"predict_batch takes a list of pictures, not one {type(pictures).__name__}; for one picture: predict"
            )
        found = [_vision().read_one_digit(p) for p in pictures]
        predictions = self.predict_mnist([digit for digit, _ in found], on_page=False)
        for prediction, (_, beside) in zip(predictions, found, strict=True):
            if beside and prediction.mnist is not None:  # a picture of several digits has no one answer
                prediction.digits_beside = beside
                prediction.digit, prediction.status = None, "not sure"
        return predictions

    def predict_mnist(
        self,
        digits: Sequence[np.ndarray | None],
        *,
        on_page: bool = True,
        rows: list[int] | None = None,
        outputs: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> list[Prediction]:
        """Already-preprocessed 28×28 digits (None for "no digit") -> Predictions.

        ``on_page``: the crops come from ``vision.find_rows`` (a page,
        a camera frame), which already dropped marks not shaped or sized like
        the row's digits; the guard then only vetoes (PAGE_GUARD_SURE). False
        for pictures that are each meant to hold one digit: confidence is the
        top probability × the guard's P(digit). ``rows``: each digit's row on the page; a crop is then vouched
        for by the crops of its own row only (a letter alone in the margin by none). ``outputs``: the
        ``model_outputs`` of these digits, when a caller already has them (the models are not run again).
        """
        found = [d for d in digits if d is not None]
        probs, digit_like = self.model_outputs(found) if outputs is None else outputs
        # the page (or the row) vouches for a crop when another crop on it is surely a digit; a lone mark, or marks
        # none of which is (a word, a letter broken in pieces), are judged each on its own, as ``predict`` judges
        groups = [0] * len(found) if rows is None else [r for r, d in zip(rows, digits, strict=True) if d is not None]
        sure: dict[int, int] = {}
        for group, likeness in zip(groups, digit_like, strict=True):
            sure[group] = sure.get(group, 0) + int(likeness >= PAGE_VOUCHES)
        out, k = [], 0
        for d in digits:
            if d is None:
                out.append(Prediction(None, 0.0, np.zeros(10, np.float32), None, "no digit", 0.0))
                continue
            vouched = on_page and sure[groups[k]] - int(digit_like[k] >= PAGE_VOUCHES) >= 1
            out.append(self._decide(probs[k], float(digit_like[k]), d, vouched))
            k += 1
        return out

    def model_outputs(self, digits: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """28×28 digits -> the classifier's (N, 10) probabilities and the guard's (N,) P(digit), in one batch."""
        batch = np.stack(digits) if digits else np.empty((0, 28, 28), np.float32)
        return self.classify_mnist(batch), self.digit_likeness(batch)

    def _decide(self, probs: np.ndarray, digit_like: float, mnist: np.ndarray, on_page: bool) -> Prediction:
        best = int(np.argmax(probs))
        guard = float(_page_veto(digit_like)) if on_page else digit_like
        confidence = float(probs[best]) * guard
        if confidence < self.min_confidence:
            return Prediction(None, confidence, probs, mnist, "not sure", digit_like)
        return Prediction(best, confidence, probs, mnist, "ok", digit_like)

    def digit_likeness(self, batch: np.ndarray) -> np.ndarray:
        """(N, 28, 28) -> (N,) P(this is a digit at all) from the guard model; ones without a guard."""
        if self._guard is None or len(batch) == 0:
            return np.ones(len(batch), np.float32)
        feed = np.ascontiguousarray(batch[:, None], dtype=np.float32)
        likeness = np.asarray(self._run(self._guard, self._guard_input, None, feed), np.float32)
        if likeness.size != len(batch):
            raise ModelError(
                f"{self.guard_path}: the guard model gives {likeness.size // len(batch)} outputs per digit; a guard "
                "gives one, P(digit)"
            )
        likeness = likeness.reshape(-1)
        if not np.isfinite(likeness).all():
            raise ModelError(f"{self.guard_path}: the guard model gives non-finite scores (NaN or infinity)")
        if likeness.min() < 0 or likeness.max() > 1:
            raise ModelError(f"{self.guard_path}: the guard model gives scores outside [0, 1] (a guard gives P(digit))")
        return likeness

    def page_veto(self, batch: np.ndarray) -> np.ndarray:
        """(N, 28, 28) -> (N,) in [0, 1]: the guard's veto as a page reading applies it (``PAGE_GUARD_SURE``);
        what ``vision.find_rows`` weighs a cut's parts by."""
        return _page_veto(self.digit_likeness(batch))

    # --- the model only -----------------------------------------------------------------------
    def classify_mnist(self, batch: np.ndarray) -> np.ndarray:
        """(N, 28, 28) float32 in [0, 1], white on black -> (N, 10) probabilities. The model only."""
        scores = self.scores(batch)
        if self._digit_columns is not None:  # column d holds digit d, whatever order the file uses
            scores = scores[:, self._digit_columns]
        if self.spec.output == "logits":
            return _softmax(scores, self.spec.temperature)
        sums = scores.sum(axis=1)
        if len(scores) and (scores.min() < -1e-4 or scores.max() > 1 + 1e-4 or np.abs(sums - 1).max() > 1e-3):
            raise ModelError(
                f"{self.model_path}: metadata says the model outputs probabilities, but its outputs are not "
                f"(values {scores.min():.3g} to {scores.max():.3g}, rows summing to up to {sums.max():.3g})"
            )
        return scores

    def scores(self, batch: np.ndarray) -> np.ndarray:
        """(N, 28, 28) float32 in [0, 1], white on black -> (N, 10) of the model's own outputs, checked.

        Logits for digitkit's models (``spec.output``): what the edge check compares across machines,
        where softmax would hide small differences.
        """
        batch = np.asarray(batch, dtype=np.float32)
        if batch.ndim == 2:
            batch = batch[None]
        if batch.ndim == 4 and batch.shape[1] == 1:
            batch = batch[:, 0]
        if batch.ndim != 3 or batch.shape[1:] != (MNIST_SIDE, MNIST_SIDE):
            raise DigitkitError(f"classify_mnist expects (N, 28, 28) digits, got shape {batch.shape}")
        if len(batch) == 0:
            return np.empty((0, 10), np.float32)
        if not np.isfinite(batch).all():  # the input's fault, not the model's
            raise DigitkitError("the digits hold NaN or infinite pixel values; pixels must be numbers in [0, 1]")
        scores = np.asarray(self.run_model(self.model_input(batch)), dtype=np.float32).reshape(len(batch), -1)
        if not np.isfinite(scores).all():  # broken weights (NaN, inf): any digit read from them would be a lie
            raise ModelError(
                f"{self.model_path}: the model gives non-finite scores (NaN or infinity): its weights are broken"
            )
        if scores.shape[1] != len(self.spec.labels):
            raise ModelError(
                f"{self.model_path}: gave {scores.shape[1]} scores per digit, expected {len(self.spec.labels)}"
            )
        return scores

    def run_model(self, tensor: np.ndarray) -> np.ndarray:
        """The model alone on a tensor from ``model_input``: its raw output, unchecked.

        One session call (one per digit for a model declared for batch 1). Public for what must time
        the model without the input's preparation (the benchmarks); everything else calls ``scores``.
        """
        try:
            if self._batch_one:
                outputs = [
                    self._session.run([self._output], {self._input: tensor[i : i + 1]})[0] for i in range(len(tensor))
                ]
                return np.concatenate(outputs, axis=0)
            return self._run(self._session, self._input, [self._output], tensor)
        except Exception as exc:  # onnxruntime's own error types: a model that loads but cannot run
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"{self.model_path}: failed to run ({message})") from None

    def _run(self, session, feed: str, outputs: list[str] | None, tensor: np.ndarray) -> np.ndarray:
        """One session's first output on ``tensor``; on the CUDA provider in blocks of one shape (run_in_blocks)."""

        def run(part: np.ndarray) -> np.ndarray:
            return session.run(outputs, {feed: part})[0]

        return run_in_blocks(run, tensor) if self.provider == "cuda" else run(tensor)

    def model_input(self, batch: np.ndarray) -> np.ndarray:
        """(N, 28, 28) [0, 1] white-on-black digits -> the tensor the model's metadata asks for, in one multiply-add."""
        spec = self.spec
        if (spec.height, spec.width) != batch.shape[1:]:
            import cv2

            batch = np.stack([cv2.resize(d, (spec.width, spec.height), interpolation=cv2.INTER_AREA) for d in batch])
        x = batch * self._scale
        x += self._offset
        x = x[:, None] if spec.layout == "NCHW" else x[..., None]
        return np.ascontiguousarray(x, dtype=np.float32)


def _vision():
    """The picture pipeline, imported on the first picture: it needs OpenCV, which a model-only install lacks."""
    try:
        from digitkit.runtime import vision
    except ModuleNotFoundError as exc:
        if exc.name != "cv2":
            raise
        raise MissingExtraError(
            "reading pictures needs OpenCV: pip install 'digitkit[headless]' (boards, servers)"
            " or 'digitkit[app]' (desktop, with the app's window); see docs/edge.md"
        ) from None
    return vision


def _read_spec(session, path: Path) -> ModelSpec:
    """The model's own description of its input: digitkit's keys, else ONNX's standard image metadata."""
    meta = dict(session.get_modelmeta().custom_metadata_map or {})
    try:
        spec = ModelSpec.from_metadata(meta)
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise ModelError(f"{path}: unreadable digitkit metadata ({type(exc).__name__}: {exc})") from None
    ours = any(k.startswith(PREFIX) for k in meta)
    if not ours and meta.get("Image.NominalPixelRange") == "NominalRange_0_255":
        spec = dataclasses.replace(spec, pixel_scale=255.0)  # e.g. the ONNX Model Zoo's MNIST model
    if spec.std <= 0 or spec.pixel_scale <= 0 or not np.isfinite([spec.mean, spec.std, spec.pixel_scale]).all():
        raise ModelError(
            f"{path}: metadata gives an unusable normalisation (pixel scale {spec.pixel_scale}, mean {spec.mean}, "
            f"std {spec.std}; scale and std must be positive)"
        )
    if not (0 < spec.height <= MAX_INPUT_SIDE and 0 < spec.width <= MAX_INPUT_SIDE):
        raise ModelError(
            f"{path}: metadata input_shape {spec.height}x{spec.width} is not a digit's size (1-{MAX_INPUT_SIDE} px a side)"
        )
    try:
        spec.digit_columns()
    except ValueError as exc:
        raise ModelError(f"{path}: metadata {exc}") from None
    if spec.output not in ("logits", "probabilities"):
        raise ModelError(f"{path}: metadata output {spec.output!r} is neither 'logits' nor 'probabilities'")
    if spec.layout not in ("NCHW", "NHWC"):
        raise ModelError(f"{path}: metadata layout {spec.layout!r} is not NCHW or NHWC")
    if not (np.isfinite(spec.temperature) and spec.temperature > 0):
        raise ModelError(f"{path}: metadata temperature {spec.temperature} is not a positive number")
    return spec


def _page_veto(digit_like: float | np.ndarray) -> np.ndarray:
    """The guard's P(digit) as a page applies it: in full from ``PAGE_GUARD_SURE`` up, in proportion below."""
    return np.minimum(1.0, np.divide(digit_like, PAGE_GUARD_SURE))


def _softmax(scores: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    if temperature != 1.0:
        shifted *= np.float32(1.0 / temperature)  # in place: the temperature costs no array of its own
    exp = np.exp(shifted)
    return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)


def _resolve_guard(guard: bool | str | os.PathLike[str]) -> Path | None:
    """True: the shipped guard if there is one; False: none; a path: that file."""
    if guard is False or guard is None:
        return None
    if guard is True:
        path = MODELS_DIR / GUARD
        if not path.is_file():
            log.info("no digit guard (%s) next to the models: non-digits are refused by confidence alone", GUARD)
            return None
        return path
    path = Path(guard)
    if not path.is_file():
        raise ModelError(f"{path}: no such guard model file")
    return path


def _check_shapes(session, spec: ModelSpec, path: Path) -> tuple[str, str, bool]:
    """One image input shaped like the spec, one output of 10 scores; returns (input, output, batch_one)."""
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1:
        raise ModelError(f"{path}: expected a model with one input, found {len(inputs)}")
    shape = list(inputs[0].shape)
    if len(shape) != 4:
        raise ModelError(f"{path}: input {inputs[0].name!r} has shape {shape}, expected 4 dimensions (N, 1, 28, 28)")
    expected = [1, spec.height, spec.width] if spec.layout == "NCHW" else [spec.height, spec.width, 1]
    for got, want in zip(shape[1:], expected, strict=True):
        if isinstance(got, int) and got != want:
            layout = "N,1,H,W" if spec.layout == "NCHW" else "N,H,W,1"
            raise ModelError(
                f"{path}: input shape {shape} does not fit a {spec.height}×{spec.width} grey digit ({layout})"
            )
    if "float" not in inputs[0].type:
        raise ModelError(f"{path}: input type {inputs[0].type}, expected float")
    out_shape = list(outputs[0].shape)
    classes = out_shape[-1] if out_shape else None
    if isinstance(classes, int) and classes != len(spec.labels):
        raise ModelError(f"{path}: output shape {out_shape} has {classes} classes, expected {len(spec.labels)}")
    batch_one = isinstance(shape[0], int) and shape[0] == 1
    return inputs[0].name, outputs[0].name, batch_one
