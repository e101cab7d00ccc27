"""Where frames come from: ``--source draw | <camera index> | <video file> | <image file>``.

The same convention as common detection tools. ``open(source)`` checks the
source up front (a camera that does not exist, a file that is not a video or
picture: a ``SourceError`` naming it) and returns an iterator of ``Frame``
items. Trouble *during* a stream does not raise: a lost camera or a bad frame
becomes a ``Frame`` with no image and a message for the screen, and the source
retries; only a camera that stays lost past ``give_up_after`` seconds raises.
The end of a video file simply ends the iteration.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from digitkit.runtime.errors import DigitkitError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm", ".pnm"}
CAMERA_SIZE = (640, 480)


class SourceError(DigitkitError):
    """A source that cannot be opened or read."""


@dataclass
class Frame:
    """One item of a source: a picture, or a message saying why there is none right now."""

    index: int  # frames read so far from this source (0-based), counting bad ones
    image: np.ndarray | None
    message: str | None = None


@dataclass(frozen=True)
class SourceSpec:
    kind: str  # "draw", "camera", "video" or "image"
    target: str | int  # camera index, file path or stream URL

    @property
    def name(self) -> str:
        return str(self.target)


def parse(source: str) -> SourceSpec:
    """Say what kind of source ``source`` names (without opening it)."""
    text = str(source).strip()
    if text == "" or text.lower() == "draw":
        return SourceSpec("draw", "draw")
    if text.isdigit():
        return SourceSpec("camera", int(text))
    if "://" in text:
        return SourceSpec("video", text)
    path = Path(text)
    if not path.exists():
        raise SourceError(f"source {text!r}: no such file (use 'draw', a camera index such as 0, a video or an image)")
    if path.is_dir():
        raise SourceError(f"source {text!r} is a folder, not a video or image file")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return SourceSpec("image", text)
    return SourceSpec("video", text)


def open(source: str | SourceSpec, *, give_up_after: float | None = 10.0, retry_every: float = 1.0) -> Iterator[Frame]:
    """Open a camera, video or image source and return its frames (see the module doc).

    Callers write ``sources.open(source)``, as they would ``io.open``; inside this module the name hides the
    builtin ``open``, which the module does not use.
    """
    spec = source if isinstance(source, SourceSpec) else parse(source)
    if spec.kind == "image":
        return _image_frames(str(spec.target))
    if spec.kind == "camera":
        return CameraFrames(int(spec.target), give_up_after=give_up_after, retry_every=retry_every)
    if spec.kind == "video":
        return VideoFrames(str(spec.target))
    raise SourceError(f"source {spec.name!r} has no frames to read (draw mode is interactive)")


# -- image ---------------------------------------------------------------------------------------
def _image_frames(path: str) -> Iterator[Frame]:
    from digitkit.runtime.images import load_picture

    picture = load_picture(path)  # raises a DigitkitError naming the problem

    def frames() -> Iterator[Frame]:
        yield Frame(0, picture)

    return frames()


# -- OpenCV captures -----------------------------------------------------------------------------
class Capture(Protocol):
    """What the sources use of a ``cv2.VideoCapture`` (tests pass stand-ins)."""

    def isOpened(self) -> bool: ...

    def get(self, prop: int, /) -> float: ...

    def read(self) -> tuple[bool, Any]: ...

    def release(self) -> None: ...


@contextlib.contextmanager
def _quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's own warnings while probing a device or file (we report the problem ourselves)."""
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is None:
        yield
        return
    level = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        logging.setLogLevel(level)


def _valid(image: object) -> bool:
    return isinstance(image, np.ndarray) and image.size > 0 and image.dtype == np.uint8 and image.ndim in (2, 3)


class VideoFrames:
    """Frames of a video file (or stream URL); ends cleanly at the end of the file."""

    MAX_BAD_IN_A_ROW = 5

    def __init__(self, path: str, capture_factory: Callable[[str], Capture] | None = None):
        self.path = path
        # FFmpeg prints its own lines for a damaged file ("[mjpeg @ 0x...] overread 8"); we report missing
        # frames ourselves, in one line. Read once, when OpenCV first starts FFmpeg; a user's setting wins.
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
        with _quiet_opencv():
            self.capture = (capture_factory or cv2.VideoCapture)(path)
            opened = bool(self.capture.isOpened())
        if not opened:
            if _video_container(path):
                raise SourceError(
                    f"cannot open {path} as a video: its container ({_video_container(path)}) is cut short or damaged"
                )
            raise SourceError(f"cannot open {path} as a video (not a video format OpenCV can read)")
        self.fps = float(self.capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.frame_count = int(self.capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.index = 0
        self.missing = 0  # frames the file announces but that could not be read (a cut or damaged file)
        self._first: np.ndarray | None = self._read_first()

    def _read_first(self) -> np.ndarray:
        _, image = _read_frame(self.capture)
        if image is None:
            self.capture.release()
            raise SourceError(f"cannot read any frame from {self.path} (empty or corrupt video)")
        return image

    def __iter__(self) -> Iterator[Frame]:
        return self

    def __next__(self) -> Frame:
        image: np.ndarray | None
        if self._first is not None:
            image, self._first = self._first, None
            self.index = 1
            return Frame(0, image)
        bad = 0
        while True:
            ok, image = _read_frame(self.capture)
            if image is not None:
                self.index += 1
                return Frame(self.index - 1, image)
            # A failed read is the end of the file, unless the file says there are frames left
            bad += 1
            position = int(self.capture.get(cv2.CAP_PROP_POS_FRAMES) or 0)
            if not self.frame_count or position >= self.frame_count - 1 or bad >= self.MAX_BAD_IN_A_ROW:
                self.close()
                # a container's count can be one off; more than that short is a file cut midway
                if self.frame_count - self.index > 1:
                    self.missing = self.frame_count - self.index
                raise StopIteration
            if ok:  # a frame came back but it is not a picture: report it and go on
                self.index += 1
                return Frame(self.index - 1, None, f"bad frame {self.index - 1} skipped")

    def close(self) -> None:
        self.capture.release()


def _read_frame(capture) -> tuple[bool, np.ndarray | None]:
    """(whether the source answered, the picture if what came back is one)."""
    with _quiet_opencv():
        ok, image = capture.read()
    return ok, image if ok and _valid(image) else None


class CameraFrames:
    """Frames of a live camera. A lost camera yields messages while it is reopened."""

    def __init__(
        self,
        index: int,
        *,
        give_up_after: float | None = 10.0,
        retry_every: float = 1.0,
        capture_factory: Callable[[int], Capture] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.camera = index
        self.give_up_after = give_up_after
        self.retry_every = retry_every
        self._factory = capture_factory or self._open_device
        self._clock = clock
        self._sleep = sleep
        self.index = 0
        self._lost_since: float | None = None
        self.capture = self._factory(index)
        if not self.capture.isOpened():
            raise SourceError(f"camera {index} cannot be opened (no such camera, or it is in use)")
        self.fps = float(self.capture.get(cv2.CAP_PROP_FPS) or 0.0)

    @staticmethod
    def _open_device(index: int):
        with _quiet_opencv():
            capture = cv2.VideoCapture(index)
            if capture.isOpened():
                capture.set(cv2.CAP_PROP_FRAME_WIDTH, CAMERA_SIZE[0])
                capture.set(cv2.CAP_PROP_FRAME_HEIGHT, CAMERA_SIZE[1])
        return capture

    def __iter__(self) -> Iterator[Frame]:
        return self

    def __next__(self) -> Frame:
        if self._lost_since is not None:
            return self._retry()
        ok, image = _read_frame(self.capture)
        if image is not None:
            self.index += 1
            return Frame(self.index - 1, image)
        if ok:  # the camera answered with something that is not a picture
            self.index += 1
            return Frame(self.index - 1, None, "bad frame from the camera, skipped")
        self._lost_since = self._clock()
        self.capture.release()
        return Frame(self.index, None, f"camera {self.camera} lost - retrying")

    def _retry(self) -> Frame:
        lost_for = self._clock() - (self._lost_since or 0.0)
        if self.give_up_after is not None and lost_for > self.give_up_after:
            raise SourceError(f"camera {self.camera} lost and not back after {self.give_up_after:g} s")
        self._sleep(self.retry_every)
        capture = self._factory(self.camera)
        if capture.isOpened():
            self.capture = capture
            self._lost_since = None
            return Frame(self.index, None, f"camera {self.camera} is back")
        return Frame(self.index, None, f"camera {self.camera} lost - retrying ({lost_for:.0f} s)")

    def close(self) -> None:
        self.capture.release()


def describe(spec: SourceSpec) -> str:
    """A short label for the screen and the log."""
    if spec.kind == "camera":
        return f"camera {spec.target}"
    if spec.kind in ("video", "image"):
        return os.path.basename(str(spec.target)) or str(spec.target)
    return spec.kind


# the first bytes of the video containers a phone or OpenCV writes: name -> (offset, signature)
CONTAINERS = {"MP4/MOV": (4, b"ftyp"), "AVI": (8, b"AVI "), "Matroska/WebM": (0, b"\x1a\x45\xdf\xa3")}


def _video_container(path: str) -> str | None:
    """The container a file's first bytes name, if any: such a file that OpenCV cannot open is damaged, not foreign."""
    try:
        with builtins.open(path, "rb") as handle:  # this module's own open() opens a source
            head = handle.read(16)
    except OSError:
        return None
    return next((name for name, (at, sign) in CONTAINERS.items() if head[at : at + len(sign)] == sign), None)
