"""Drive the real ``digitkit app`` window under Xvfb with xdotool (helpers for the GUI tests).

``virtual_display()`` starts a private Xvfb server, ``AppWindow`` starts the app
on it, finds its window, draws strokes with real mouse drags, presses keys and
reads the prediction events back from the app's ``--log`` file.

Run as a script to take the README screenshots:
    python tests/app_gui.py docs/screenshots
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FONT_DIR = "/usr/share/fonts/truetype/dejavu"


def missing_tools() -> str | None:
    """Why the GUI tests cannot run here (None when they can)."""
    for tool in ("Xvfb", "xdotool"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install xvfb xdotool)"
    return None


@contextlib.contextmanager
def virtual_display(size: str = "1280x800x24") -> Iterator[str]:
    """A private X server; yields its DISPLAY (':N')."""
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", size, "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start")
        display = f":{number}"
        _wait_for_display(display)
        yield display
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_for_display(display: str, timeout: float = 15.0) -> None:
    """Until a client can connect (Xvfb announces its number a moment before it accepts clients)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe = subprocess.run(["xdotool", "getdisplaygeometry"], env=app_env(display), capture_output=True)
        if probe.returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"Xvfb on {display} does not accept clients")


def app_env(display: str) -> dict[str, str]:
    env = dict(os.environ, DISPLAY=display, QT_QPA_FONTDIR=FONT_DIR, PYTHONUNBUFFERED="1")
    env.pop("WAYLAND_DISPLAY", None)
    return env


def densify(points: Sequence[tuple[float, float]], step: float) -> list[tuple[float, float]]:
    """The polyline through ``points`` with extra points so that none is more than ``step`` from the next."""
    out = [tuple(points[0])]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        n = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / step))
        out += [(x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n) for k in range(1, n + 1)]
    return out


class AppWindow:
    """A running ``digitkit app`` with a window on ``display``."""

    def __init__(self, display: str, args: Sequence[str], log: Path, *, cwd: Path | None = None):
        self.display = display
        self.log = log
        self.env = app_env(display)
        command = [sys.executable, "-m", "digitkit.runtime.cli", "app", "--log", str(log), *args]
        self.process = subprocess.Popen(
            command, env=self.env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.window = self._find_window()

    def xdotool(self, *args: str) -> str:
        done = subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"xdotool {' '.join(args[:3])}...: {done.stderr.strip()}")
        return done.stdout

    def _find_window(self, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                out, err = self.process.communicate()
                raise RuntimeError(
                    f"the app exited ({self.process.returncode}) before its window showed: {err[-2000:]}"
                )
            found = subprocess.run(
                ["xdotool", "search", "--onlyvisible", "--name", "^digitkit$"],
                env=self.env,
                capture_output=True,
                text=True,
            )
            if found.returncode == 0 and found.stdout.split():
                time.sleep(0.5)  # let Qt map and paint it
                return found.stdout.split()[-1]
            time.sleep(0.2)
        raise RuntimeError("the app's window did not appear within 30 s")

    def geometry(self) -> tuple[int, int, int, int]:
        """x, y, width, height of the window on the screen."""
        values = dict(line.split("=", 1) for line in self.xdotool("getwindowgeometry", "--shell", self.window).split())
        return int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])

    def drag(self, points: Sequence[tuple[float, float]], step: float = 10.0) -> None:
        """One pen stroke: press at the first point, move through the others, release at the last.

        The path is walked in steps of at most ``step`` pixels, like a hand moving
        the mouse: the X server and Qt may merge motion events when the app is
        busy, and then a dense path only loses detail, not shape.
        """
        x, y = points[0]
        args = ["mousemove", "--window", self.window, str(round(x)), str(round(y)), "mousedown", "1"]
        for x, y in densify(points, step)[1:]:
            args += ["sleep", "0.008", "mousemove", "--window", self.window, str(round(x)), str(round(y))]
        args += ["sleep", "0.02", "mouseup", "1"]
        self.xdotool(*args)

    def key(self, name: str) -> None:
        self.xdotool("key", "--window", self.window, name)

    def events(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]

    def wait_events(self, count: int, timeout: float = 20.0) -> list[dict]:
        """Wait until the log holds at least ``count`` events."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.events()
            if len(events) >= count:
                return events
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"expected {count} events in {self.log}, got {len(self.events())}")

    def screenshot(self, path: Path, attempts: int = 5) -> None:
        """The window as a PNG: the screen (ImageMagick's import) cropped to the window.

        Retried while the capture is blank (it can catch Qt between a resize and a paint).
        """
        import cv2

        x, y, width, height = self.geometry()
        for _ in range(attempts):
            command = ["import", "-window", "root", "-crop", f"{width}x{height}+{x}+{y}", "+repage", str(path)]
            subprocess.run(command, env=self.env, check=True, timeout=60)
            picture = cv2.imread(str(path))
            if picture is not None and picture.std() > 10:
                return
            time.sleep(0.5)
        raise RuntimeError(f"the screenshot {path} stayed blank")

    def quit(self, timeout: float = 20.0) -> tuple[int, str]:
        """Press q; returns (exit code, stderr)."""
        with contextlib.suppress(RuntimeError):
            self.key("q")
        try:
            _, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return self.process.returncode, err

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


def take_screenshots(out_dir: Path) -> None:
    """The README pictures: draw mode with a number drawn, camera mode on the synthetic webcam."""
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import numpy as np
    from app_strokes import number_strokes
    from app_webcam import make_webcam_video

    from digitkit.train.mnist import load_mnist

    out_dir.mkdir(parents=True, exist_ok=True)
    model = os.environ.get("DIGITKIT_APP_MODEL")
    model_args = ["--model", model] if model else []
    with tempfile.TemporaryDirectory() as tmp, virtual_display() as display:
        tmp_path = Path(tmp)
        app = AppWindow(display, ["--save-dir", str(tmp_path), *model_args], tmp_path / "draw.jsonl")
        try:
            strokes = number_strokes("2048", origin=(50, 90), height=230)
            for stroke in strokes:
                app.drag(stroke)
            app.wait_events(len(strokes))
            time.sleep(0.5)
            app.screenshot(out_dir / "draw.png")
        finally:
            app.quit()
        mnist = load_mnist(log=lambda _msg: None)
        video = tmp_path / "webcam.avi"
        make_webcam_video(
            video, np.asarray(mnist.test_images), np.asarray(mnist.test_labels), sheets=3, frames_per_sheet=30
        )
        app = AppWindow(display, ["--source", str(video), *model_args], tmp_path / "camera.jsonl")
        try:
            app.wait_events(45)
            app.key("space")  # pause on the current frame
            time.sleep(0.5)
            app.screenshot(out_dir / "camera.png")
        finally:
            app.quit()
    print(f"wrote {out_dir / 'draw.png'} and {out_dir / 'camera.png'}")


if __name__ == "__main__":
    take_screenshots(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
