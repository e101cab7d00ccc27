"""The ``digitkit`` command.

It lives with the runtime because the runtime is in every install. Each
stage contributes its subcommands through a light ``cli`` module (argparse
only); the stage's real code, and its heavy dependencies, are imported only
when its subcommand runs. A subcommand whose extra is not installed says
which extra to install.

The error policy lives in ``main``: every expected failure (bad input, bad
environment, full disk, broken pipe, Ctrl-C) ends with one line and an exit
code from ``digitkit.runtime.errors`` (docs/errors.md); ``--debug`` (or DIGITKIT_DEBUG=1) adds the
traceback before that line, for bugs and bug reports, and the exit code stays the same.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

from digitkit.runtime.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_FAILURE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_MISSING_EXTRA,
    EXIT_USAGE,
    DigitkitError,
    MissingExtraError,
    UsageError,
)

# module that registers the subcommands -> the extra its handlers need
STAGES = {
    "digitkit.train.cli": "train",
    "digitkit.train.study.cli": "train",
    "digitkit.export.cli": "train",
    "digitkit.runtime.predict_cli": None,
    "digitkit.runtime.app.cli": None,
    "digitkit.runtime.web_cli": None,
    "digitkit.benchmarks.cli": None,
}

# top-level modules that only an extra installs -> that extra
EXTRA_OF_MODULE = {
    "torch": "train", "torchvision": "train", "onnx": "train", "onnxscript": "train", "sklearn": "train",
    "skl2onnx": "train", "matplotlib": "train", "tqdm": "train", "pytest": "dev",
    "cv2": "headless",  # pictures; the desktop app wants the other OpenCV extra, "app" (docs/edge.md)
}  # fmt: skip


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (naming the option) and exit code 2, not the whole usage text."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see: {self.prog} --help)\n")


class VersionAction(argparse.Action):
    """``--version``, looked up only when asked: importlib.metadata costs every command ~6 MiB and ~20 ms (docs/edge.md)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_args: object) -> None:
        from digitkit import __version__

        print(f"digitkit {__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="digitkit", description="Handwritten digit recognition from training to the edge.")
    parser.add_argument("--version", action=VersionAction)
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error (also: DIGITKIT_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in STAGES:
        importlib.import_module(module_name).register(sub)
    parser.subcommands = sub.choices  # type: ignore[attr-defined]  # for _parse's usage errors
    return parser


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """parse_args, but arguments the subcommand does not know are its usage error ("digitkit predict: ..."),
    not the top-level parser's."""
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        owner = getattr(parser, "subcommands", {}).get(getattr(args, "command", None), parser)
        owner.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def missing_extra(exc: ModuleNotFoundError) -> MissingExtraError | None:
    root = (exc.name or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(root)
    if extra is None:
        return None
    return MissingExtraError(
        f"this command needs {root}, from the '{extra}' extra: pip install 'digitkit[{extra}]' (or: pip install -e '.[{extra}]' in a clone)"
    )


def _debug_first(argv: list[str]) -> list[str]:
    """``--debug`` may be given anywhere before ``--``; argparse wants it before the subcommand."""
    end = argv.index("--") if "--" in argv else len(argv)
    flags = [a for a in argv[:end] if a == "--debug"]
    return flags[:1] + [a for a in argv[:end] if a != "--debug"] + argv[end:]


def _describe_os_error(exc: OSError) -> str:
    """An OSError as one line: the file, then the system's words for the problem."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename is not None:
        target = f"{exc.filename} -> {exc.filename2}" if exc.filename2 is not None else str(exc.filename)
        return f"{target}: {reason}"
    return reason


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (a test's capture)
        pass


class _GuardedStdout:
    """Standard output whose write errors say that it was standard output (an OSError of print() names no file)."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        if self._stream is None:  # started with stdout closed (>&-)
            raise DigitkitError("cannot write the output: standard output is closed")
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _stdout_error(exc) from None

    def flush(self) -> None:
        if self._stream is None:
            return
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _stdout_error(exc) from None

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _stdout_error(exc: OSError) -> DigitkitError:
    _silence_stdout()
    return DigitkitError(f"cannot write the output (standard output): {exc.strerror or exc}")


def _flush_stdout() -> None:
    sys.stdout.flush()  # _GuardedStdout turns a failure into a DigitkitError


def main(argv: Sequence[str] | None = None) -> int:
    argv = _debug_first(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    args = _parse(parser, argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    debug = args.debug = args.debug or os.environ.get("DIGITKIT_DEBUG", "") not in ("", "0")  # handlers read it
    if sys.stderr is None:  # started with stderr closed (2>&-): an error line must not land in the output
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the rest of the process
    name = f"digitkit {args.command}"
    stdout, sys.stdout = sys.stdout, _GuardedStdout(sys.stdout)
    try:
        result = args.handler(args)
        _flush_stdout()  # a reader that went away, or /dev/full, shows up here at the latest
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except (KeyboardInterrupt, Exception) as exc:
        return _failed(name, exc, debug)
    finally:
        sys.stdout = stdout
    return int(result or 0)


def _failed(name: str, exc: BaseException, debug: bool) -> int:
    """One line on stderr naming what went wrong (the traceback too with --debug), and the exit code for it."""
    if isinstance(exc, KeyboardInterrupt):
        line, code = "interrupted", EXIT_INTERRUPTED
    elif isinstance(exc, ModuleNotFoundError) and (extra := missing_extra(exc)) is not None:
        line, code = str(extra), EXIT_MISSING_EXTRA
    elif isinstance(exc, DigitkitError):
        line, code = f"error: {_one_line(str(exc))}", EXIT_USAGE if isinstance(exc, UsageError) else EXIT_FAILURE
    elif isinstance(exc, OSError):  # the environment: a full disk, a read-only folder, a file that vanished
        line, code = f"error: {_describe_os_error(exc)}", EXIT_FAILURE
    elif isinstance(exc, MemoryError):
        line, code = "error: out of memory", EXIT_FAILURE
    else:  # a bug: still one line, and the way to the traceback
        return _internal(name, exc, debug)
    if debug:
        traceback.print_exc()
    print(f"{name}: {line}", file=sys.stderr)
    return code


def _one_line(message: str) -> str:
    lines = [line for line in message.strip().splitlines() if line.strip()]
    return lines[0] if lines else "failed"


def _internal(name: str, exc: BaseException, debug: bool = False) -> int:
    if debug:
        traceback.print_exc()
    print(
        f"{name}: internal error: {type(exc).__name__}: {_one_line(str(exc))} "
        "(a bug in digitkit; run again with --debug for the traceback)",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
