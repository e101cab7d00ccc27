"""Frame sources: what --source names, video ends, lost cameras, bad frames, bad files."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from digitkit.runtime.app import sources
from digitkit.runtime.app.sources import CameraFrames, SourceError, VideoFrames


def write_video(path, frames: int = 5, size=(160, 120)) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, size)
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), 20 * i, np.uint8))
    writer.release()


def test_parse_follows_the_detection_tool_convention(tmp_path):
    image, video = tmp_path / "a.PNG", tmp_path / "clip.avi"
    image.write_bytes(b"x")
    video.write_bytes(b"x")
    assert sources.parse("draw").kind == "draw"
    assert sources.parse("0") == sources.SourceSpec("camera", 0)
    assert sources.parse(str(image)).kind == "image"
    assert sources.parse(str(video)).kind == "video"
    assert sources.parse("rtsp://cam/stream").kind == "video"
    with pytest.raises(SourceError, match="no such file"):
        sources.parse(str(tmp_path / "missing.mp4"))
    with pytest.raises(SourceError, match="folder"):
        sources.parse(str(tmp_path))


def test_a_video_yields_all_its_frames_then_ends(tmp_path):
    path = tmp_path / "clip.avi"
    write_video(path, frames=7)
    frames = list(sources.open(str(path)))
    assert [f.index for f in frames] == list(range(7))
    assert all(f.image is not None and f.image.shape == (120, 160, 3) for f in frames)


def test_an_unreadable_video_is_a_named_error(tmp_path):
    junk = tmp_path / "broken.avi"
    junk.write_bytes(b"RIFF" + bytes(range(256)) * 20)
    with pytest.raises(SourceError, match="broken.avi"):
        sources.open(str(junk))
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="empty.mp4"):
        sources.open(str(empty))


def test_a_camera_that_does_not_exist_is_a_named_error():
    with pytest.raises(SourceError, match="camera 97 cannot be opened"):
        sources.open("97")


def test_an_image_source_yields_one_frame_and_bad_images_are_named(tmp_path):
    path = tmp_path / "page.png"
    cv2.imwrite(str(path), np.full((50, 80), 255, np.uint8))
    (frame,) = list(sources.open(str(path)))
    assert frame.image.shape[:2] == (50, 80)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 30)
    from digitkit.runtime.errors import DigitkitError

    with pytest.raises(DigitkitError):
        sources.open(str(bad))


class FakeCapture:
    """A camera that delivers ``script`` reads: an array, None (lost) or 'junk' (a bad frame)."""

    def __init__(self, script, opened=True):
        self.script, self.opened = list(script), opened

    def isOpened(self):  # noqa: N802 - OpenCV's name
        return self.opened

    def read(self):
        item = self.script.pop(0) if self.script else None
        if item is None:
            return False, None
        if isinstance(item, str):
            return True, np.zeros((0,), np.uint8)
        return True, item

    def get(self, _prop):
        return 30.0

    def release(self):
        self.opened = False


def test_a_lost_camera_gives_messages_retries_and_comes_back():
    picture = np.full((48, 64, 3), 128, np.uint8)
    captures = [FakeCapture([picture, "junk", None]), FakeCapture([], opened=False), FakeCapture([picture])]
    clock = [0.0]

    def sleep(seconds):
        clock[0] += seconds

    camera = CameraFrames(0, capture_factory=lambda _i: captures.pop(0), clock=lambda: clock[0], sleep=sleep)
    items = [next(camera) for _ in range(6)]
    assert items[0].image is not None
    assert items[1].image is None and "bad frame" in items[1].message
    assert "lost" in items[2].message and "retrying" in items[3].message
    assert items[4].message == "camera 0 is back"
    assert items[5].image is not None


def test_a_camera_lost_for_too_long_gives_up_with_a_named_error():
    clock = [0.0]

    def sleep(seconds):
        clock[0] += seconds

    factory = iter([FakeCapture([None])] + [FakeCapture([], opened=False)] * 20)
    camera = CameraFrames(
        2, give_up_after=3.0, capture_factory=lambda _i: next(factory), clock=lambda: clock[0], sleep=sleep
    )
    with pytest.raises(SourceError, match="camera 2 lost and not back after 3 s"):
        for _ in range(20):
            next(camera)


def test_bad_frames_inside_a_video_are_skipped_with_a_message():
    picture = np.full((48, 64, 3), 128, np.uint8)

    class Clip(FakeCapture):
        position = 0

        def read(self):
            self.position += 1
            return super().read()

        def get(self, prop):
            return (
                10 if prop == cv2.CAP_PROP_FRAME_COUNT else (self.position if prop == cv2.CAP_PROP_POS_FRAMES else 10.0)
            )

    video = VideoFrames("clip.avi", capture_factory=lambda _p: Clip([picture, "junk", picture, None]))
    items = list(video)
    assert [i.image is not None for i in items] == [True, False, True]
    assert "bad frame 1" in items[1].message
