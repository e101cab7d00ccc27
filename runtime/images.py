"""Turn whatever a user hands us into one uint8 image, or a clear error.

Every path that meets a real picture (CLI, app, benchmarks) goes through
``load_picture`` so that the preprocessing behind it sees exactly two shapes:
grey ``(H, W)`` or BGR ``(H, W, 3)``, dtype uint8. Files are decoded with
Pillow because it reports truncated files and oversized images as errors
(OpenCV's ``imread`` returns ``None`` or a half-grey picture instead), and it
lets us refuse a decompression bomb from its header, before decoding a pixel.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from digitkit.runtime.errors import DigitkitError

# Largest picture we decode: 40 megapixels is a large phone photo; a
# 20000 × 20000 PNG (400 MP, 1.2 GB as RGB) is refused from its header.
MAX_PIXELS = 40_000_000
STDIN = "-"  # the file name that means "the picture piped in"


class PictureError(DigitkitError):
    """A picture that cannot be used; the message says which and why."""


class PictureNotFoundError(PictureError):
    """The path names no file."""


class UnreadablePictureError(PictureError):
    """The file exists but is not a complete image we can decode."""


class PictureTooLargeError(PictureError):
    """More pixels than ``MAX_PIXELS`` (a decompression bomb, or just too big)."""


def load_picture(source: Any) -> np.ndarray:
    """A file path, numpy array or PIL image -> uint8 grey ``(H, W)`` or BGR ``(H, W, 3)``.

    Alpha is composited onto a background that contrasts with the drawing
    (a transparent PNG of black strokes becomes black on white); floats in
    [0, 1] are scaled to [0, 255]; 16-bit images are scaled down.
    """
    if isinstance(source, np.ndarray):
        return _from_array(source, "array")
    if isinstance(source, (str, os.PathLike)):
        if str(source) == STDIN:
            return _from_file(Path(STDIN), _read_stdin())
        return _from_file(Path(source))
    if _is_pil_image(source):
        return _from_pil(source, "PIL image")
    raise PictureError(
        f"cannot use a {type(source).__name__} as a picture (expected a file path, a numpy array or a PIL image)"
    )


def _is_pil_image(obj: Any) -> bool:
    # Checked by duck type so that PIL is imported only when a file is read.
    return hasattr(obj, "mode") and hasattr(obj, "size") and hasattr(obj, "getbands")


def _read_stdin() -> bytes:
    """The picture piped in, as Unix tools read ``-`` (read once: a second ``-`` finds stdin empty)."""
    import sys

    data = sys.stdin.buffer.read() if sys.stdin is not None else b""
    if not data:
        raise PictureError("-: no picture on stdin (pipe one in: ... - < picture.png)")
    return data


def _from_file(path: Path, data: bytes | None = None) -> np.ndarray:
    """Decode a file, or ``data`` (stdin's bytes, shown as ``path``)."""
    if data is None and not path.exists():
        if path.is_symlink():
            raise PictureNotFoundError(f"{path}: a symbolic link to nothing (or a loop of links)")
        raise PictureNotFoundError(f"{path}: no such file")
    if data is None and not path.is_file():
        raise PictureError(f"{path}: not a file")
    from PIL import Image

    try:
        with warnings.catch_warnings():
            # our own MAX_PIXELS check below is stricter than Pillow's warning
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path if data is None else io.BytesIO(data))
        with image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise PictureTooLargeError(
                    f"{path}: {width}×{height} pixels is too large (limit {MAX_PIXELS:,} pixels; a decompression bomb?)"
                )
            image.load()
            return _from_pil(_upright(image), str(path))
    except PictureError:
        raise
    except Image.DecompressionBombError as exc:
        raise PictureTooLargeError(f"{path}: too many pixels, a decompression bomb? ({exc})") from None
    except FileNotFoundError:
        raise PictureNotFoundError(f"{path}: no such file") from None
    except PermissionError:
        raise PictureError(f"{path}: permission denied") from None
    except Image.UnidentifiedImageError:
        raise UnreadablePictureError(f"{path}: not an image file (no known image format)") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, MemoryError) as exc:
        # Pillow reports a truncated or corrupt file with these
        reason = str(exc) or type(exc).__name__
        raise UnreadablePictureError(f"{path}: corrupt or truncated image ({reason})") from None


def _upright(image: Any) -> Any:
    """The picture as the camera held it: a phone stores a sideways photo's pixels as shot, plus an
    EXIF Orientation tag that every viewer applies; Pillow's ``exif_transpose`` applies it here too."""
    from PIL import ImageOps

    try:
        return ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError, KeyError, TypeError):  # a broken EXIF block: keep the stored pixels
        return image


def _from_pil(image: Any, name: str) -> np.ndarray:
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise PictureTooLargeError(f"{name}: {width}×{height} pixels is too large (limit {MAX_PIXELS:,} pixels)")
    mode = image.mode
    if mode in (
        "1",
        "L",
        "P",
        "PA",
        "LA",
        "RGB",
        "RGBA",
        "I",
        "I;16",
        "I;16B",
        "I;16L",
        "F",
        "CMYK",
        "YCbCr",
        "LAB",
        "HSV",
    ):
        if mode == "1":
            image = image.convert("L")
        elif mode == "P":
            image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        elif mode in ("PA", "LA"):
            image = image.convert("RGBA")
        elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
            image = image.convert("RGB")
    else:
        image = image.convert("RGB")
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] in (3, 4):
        array = array[:, :, [2, 1, 0, 3][: array.shape[2]]]  # RGB(A) -> BGR(A)
    return _from_array(array, name)


def _from_array(array: np.ndarray, name: str) -> np.ndarray:
    if array.size == 0:
        raise PictureError(f"{name}: empty picture (shape {array.shape})")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise PictureError(
            f"{name}: shape {array.shape} is not a picture (expected (H, W) grey, (H, W, 3) BGR or (H, W, 4) BGRA)"
        )
    if array.shape[0] * array.shape[1] > MAX_PIXELS:
        raise PictureTooLargeError(f"{name}: {array.shape[1]}×{array.shape[0]} pixels is too large")
    array = _to_uint8(array, name)
    if array.ndim == 3 and array.shape[2] == 4:
        array = _composite_alpha(array)
    return np.ascontiguousarray(array)


def _to_uint8(array: np.ndarray, name: str) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all():
            raise PictureError(f"{name}: contains NaN or infinite values")
        top = float(array.max())
        low = float(array.min())
        scale = 255.0 if top <= 1.0 and low >= 0.0 else 1.0  # [0, 1] floats, else already 0..255
        if low < 0.0 and low >= -1.0 and top <= 1.0:  # [-1, 1] floats
            return np.round((array + 1.0) * 127.5).astype(np.uint8)
        return np.clip(np.round(array * scale), 0, 255).astype(np.uint8)
    if np.issubdtype(array.dtype, np.integer):
        top = int(array.max())
        if top <= 255:  # 8-bit values in a wider type
            return np.clip(array, 0, 255).astype(np.uint8)
        full = 4095 if top <= 4095 else 65535  # 12-bit sensors, else 16-bit
        return np.clip(array.astype(np.float32) * (255.0 / full), 0, 255).round().astype(np.uint8)
    raise PictureError(f"{name}: pixel type {array.dtype} is not supported")


def _composite_alpha(bgra: np.ndarray) -> np.ndarray:
    """Flatten BGRA onto white or black, whichever contrasts with the opaque pixels."""
    alpha = bgra[:, :, 3:4].astype(np.float32) / 255.0
    colour = bgra[:, :, :3].astype(np.float32)
    if float(alpha.min()) >= 1.0:
        return np.ascontiguousarray(bgra[:, :, :3])
    weight = float(alpha.sum())
    luminance = float((colour * alpha).sum()) / (3.0 * weight) if weight > 0 else 0.0
    background = 255.0 if luminance < 128.0 else 0.0
    flat = colour * alpha + background * (1.0 - alpha)
    return np.clip(np.round(flat), 0, 255).astype(np.uint8)
