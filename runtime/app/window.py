"""The thin highgui layer: show the sessions' screens, forward mouse and keys.

All decisions are in DrawSession / StreamSession; this module only owns the
OpenCV window (created with WINDOW_GUI_NORMAL so that Qt adds no toolbar and
mouse coordinates are image coordinates) and the event loop.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator

import cv2

from digitkit.runtime.errors import DigitkitError

from .draw import DrawSession
from .sources import Frame
from .stream import StreamSession

TITLE = "digitkit"
KEY_SPACE, KEY_ESC = 32, 27


def open_window(title: str = TITLE) -> None:
    """Create the window, or a DigitkitError when there is no display to show it on."""
    if os.name == "posix" and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise DigitkitError("no display to open a window on (set DISPLAY, or use --headless)")
    display = os.environ.get("DISPLAY", "")
    if not os.environ.get("WAYLAND_DISPLAY") and not _local_display_reachable(display):
        # Qt would abort the whole process (SIGABRT) on a display it cannot connect to
        raise DigitkitError(f"cannot connect to display {display} (is the X server running? or use --headless)")
    # Qt needs fonts; point it at a common folder when the user has not chosen one
    if "QT_QPA_FONTDIR" not in os.environ and os.path.isdir("/usr/share/fonts/truetype/dejavu"):
        os.environ["QT_QPA_FONTDIR"] = "/usr/share/fonts/truetype/dejavu"
    if gui_backend() == "NONE":
        raise DigitkitError(
            "this OpenCV is the headless build (no windows): pip uninstall -y opencv-python-headless opencv-python"
            " && pip install 'digitkit[app]' (docs/edge.md), or use --headless"
        )
    try:
        cv2.namedWindow(title, cv2.WINDOW_GUI_NORMAL | cv2.WINDOW_AUTOSIZE)
    except cv2.error as exc:
        raise DigitkitError(f"cannot open a window: {str(exc).strip().splitlines()[-1]} (use --headless)") from None


def gui_backend() -> str:
    """The window toolkit this cv2 was built with ("QT5", "GTK3", ...; "NONE" for opencv-python-headless).

    Both OpenCV wheels install the same ``cv2`` module, so the package name says nothing about the files
    that won; the build information does.
    """
    for line in cv2.getBuildInformation().splitlines():
        if line.strip().startswith("GUI:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def _local_display_reachable(display: str) -> bool:
    """False only for a local X display (':N') with no socket, neither a file nor an abstract one."""
    match = re.fullmatch(r"(?:unix)?:(\d+)(?:\.\d+)?", display)
    if match is None:
        return True  # a remote display: Qt will say
    socket = f"/tmp/.X11-unix/X{match.group(1)}"
    if os.path.exists(socket):
        return True
    try:
        with open("/proc/net/unix", encoding="ascii", errors="replace") as table:
            return any(line.rstrip().endswith("@" + socket) for line in table)
    except OSError:
        return True  # cannot tell: let Qt try


def window_closed(title: str = TITLE) -> bool:
    try:
        return cv2.getWindowProperty(title, cv2.WND_PROP_VISIBLE) < 1
    except cv2.error:
        return True


def run_draw(session: DrawSession, title: str = TITLE) -> None:
    """Draw mode: until [q], Esc or the window is closed."""
    open_window(title)

    def on_mouse(event: int, x: int, y: int, _flags: int, _param: object) -> None:
        session.mouse(event, x, y)

    cv2.setMouseCallback(title, on_mouse)
    try:
        cv2.imshow(title, session.screen())
        while True:
            key = cv2.waitKey(15)
            if not session.key(key):
                break
            session.tick()
            if session.dirty:
                cv2.imshow(title, session.screen())
            if window_closed(title):
                break
    finally:
        cv2.destroyAllWindows()
        cv2.waitKey(1)


def run_stream(session: StreamSession, frames: Iterator[Frame], *, fps_limit: float = 0.0, title: str = TITLE) -> None:
    """Camera/video/image mode: until the source ends (then until a key for a still image), [q] or close."""
    open_window(title)
    period = 1.0 / fps_limit if fps_limit > 0 else 0.0
    try:
        ended = False
        delay = 1
        while True:
            if not session.paused and not ended:
                started = time.perf_counter()
                item = next(frames, None)
                if item is None:
                    ended = True
                    if session.totals.frames > 1:  # a video: the end of the file ends the app
                        break
                else:
                    session.step(item)
                    cv2.imshow(title, session.screen())
                # a video file plays at its own speed at most; a camera as fast as it delivers
                delay = max(1, int(1000 * (period - (time.perf_counter() - started))))
            key = cv2.waitKey(delay if not (session.paused or ended) else 30)
            if key != -1:
                char = key & 0xFF
                if char in (ord("q"), ord("Q"), KEY_ESC):
                    break
                if char == KEY_SPACE:
                    session.paused = not session.paused
                    cv2.imshow(title, session.screen())
                elif char in (ord("m"), ord("M")):
                    session.switch_model()
                    cv2.imshow(title, session.screen())
            if window_closed(title):
                break
    finally:
        cv2.destroyAllWindows()
        cv2.waitKey(1)
