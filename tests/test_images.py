"""load_picture: every kind of input becomes uint8 grey/BGR, every bad one a clear DigitkitError."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.images import (
    PictureError,
    PictureNotFoundError,
    PictureTooLargeError,
    UnreadablePictureError,
    load_picture,
)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """A tiny file whose header announces a huge grey image (the pixels are never there)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


@pytest.fixture
def digit_png(tmp_path):
    picture = np.full((64, 64), 255, np.uint8)
    cv2.putText(picture, "7", (14, 54), cv2.FONT_HERSHEY_SIMPLEX, 2, 0, 6)
    path = tmp_path / "seven.png"
    cv2.imwrite(str(path), picture)
    return path, picture


def test_reads_png_as_grey_or_bgr(digit_png):
    path, picture = digit_png
    loaded = load_picture(path)
    assert loaded.dtype == np.uint8 and loaded.shape[:2] == picture.shape
    grey = loaded if loaded.ndim == 2 else cv2.cvtColor(loaded, cv2.COLOR_BGR2GRAY)
    assert np.array_equal(grey, picture)
    assert np.array_equal(load_picture(str(path)), loaded)


def test_colour_jpeg_keeps_bgr_order(tmp_path):
    picture = np.zeros((32, 32, 3), np.uint8)
    picture[..., 2] = 250  # red in BGR
    path = tmp_path / "red.png"
    cv2.imwrite(str(path), picture)
    loaded = load_picture(path)
    assert loaded.shape == (32, 32, 3) and loaded[..., 2].mean() > 240 and loaded[..., 0].mean() < 10


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(PictureNotFoundError, match="nope.png: no such file"):
        load_picture(tmp_path / "nope.png")


def test_directory_is_not_a_picture(tmp_path):
    with pytest.raises(PictureError, match="not a file"):
        load_picture(tmp_path)


def test_text_file_is_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is not an image\n")
    with pytest.raises(UnreadablePictureError, match="not an image file"):
        load_picture(path)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_truncated_file_is_reported(tmp_path, suffix):
    rng = np.random.default_rng(0)
    picture = rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)
    full = tmp_path / f"full{suffix}"
    cv2.imwrite(str(full), picture)
    data = full.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadablePictureError, match="truncated"):
        load_picture(cut)


def test_decompression_bomb_is_refused_from_the_header(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(bomb_png())
    with pytest.raises(PictureTooLargeError, match="too many pixels|too large"):
        load_picture(path)


def test_nan_array():
    array = np.zeros((28, 28), np.float32)
    array[3, 4] = np.nan
    with pytest.raises(PictureError, match="NaN"):
        load_picture(array)


@pytest.mark.parametrize("shape", [(0, 0), (0, 28), (28, 0, 3)])
def test_empty_array(shape):
    with pytest.raises(PictureError, match="empty"):
        load_picture(np.zeros(shape, np.uint8))


@pytest.mark.parametrize("shape", [(28,), (28, 28, 2), (2, 28, 28, 1), (28, 28, 5)])
def test_wrong_shaped_array(shape):
    with pytest.raises(PictureError, match="not a picture"):
        load_picture(np.zeros(shape, np.uint8))


def test_not_a_picture_type():
    with pytest.raises(PictureError, match="cannot use a int"):
        load_picture(42)


def test_every_error_is_a_digitkit_error():
    for cls in (PictureError, PictureNotFoundError, UnreadablePictureError, PictureTooLargeError):
        assert issubclass(cls, DigitkitError)


def test_float_and_other_dtypes_are_converted():
    ramp = np.linspace(0, 1, 28 * 28, dtype=np.float64).reshape(28, 28)
    assert load_picture(ramp).max() == 255 and load_picture(ramp).dtype == np.uint8
    assert load_picture(ramp * 255).max() == 255
    assert load_picture((ramp * 65535).astype(np.uint16)).max() == 255
    assert load_picture(ramp > 0.5).max() == 255
    assert load_picture(ramp * 2 - 1).min() == 0  # [-1, 1] floats
    assert load_picture(ramp[..., None]).shape == (28, 28)


def test_transparent_drawing_is_composited_to_contrast():
    bgra = np.zeros((40, 40, 4), np.uint8)  # transparent black everywhere
    bgra[10:30, 18:22] = (0, 0, 0, 255)  # an opaque black stroke
    flat = load_picture(bgra)
    assert flat.shape == (40, 40, 3)
    assert flat[0, 0].min() == 255 and flat[20, 20].max() == 0  # black stroke on white


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "P", "1", "I;16", "LA", "CMYK"])
def test_pil_images_of_any_mode(mode):
    image = Image.new("L", (30, 20), 255)
    image.paste(0, (10, 5, 20, 15))
    converted = image.convert(mode)
    loaded = load_picture(converted)
    assert loaded.dtype == np.uint8 and loaded.shape[:2] == (20, 30)
    grey = loaded if loaded.ndim == 2 else cv2.cvtColor(loaded, cv2.COLOR_BGR2GRAY)
    assert grey[10, 15] < 60 and grey[1, 1] > 190
