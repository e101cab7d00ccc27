"""All the files of one export step, or none of them.

``export`` and ``quantize`` each write a model and its evidence (the ``.ort``
copy, the mobile report, the verify report, the quantization choice). Written
one by one, a full disk or a Ctrl-C halfway leaves a model without its
evidence, or old evidence beside a new model. Here every file of the step is
written into a staging folder beside the target and moved into place only
when the step has finished; renames within one folder need no space and
cannot fail halfway. A staging folder left by a killed run is removed by the
next run for the same target.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from digitkit.runtime.errors import DigitkitError

STAGING_MARK = ".staging-"


def _stale(target: Path) -> list[Path]:
    return [p for p in target.parent.glob(f".{target.name}{STAGING_MARK}*") if p.is_dir()]


@contextlib.contextmanager
def staged_outputs(target: str | os.PathLike[str], owned_suffixes: Sequence[str] = ()) -> Iterator[Path]:
    """Yield the path to write ``target`` at (inside a staging folder); its siblings go beside it.

    On success every file in the staging folder is moved into ``target``'s folder. Files named
    ``<target stem><suffix>`` for ``owned_suffixes`` that this run did not write are removed then:
    they describe an older model (e.g. a ``.ort`` left from before a ``--no-mobile`` export).
    On failure nothing is moved and the staging folder is removed.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in _stale(target):  # a run that was killed while writing
        shutil.rmtree(stale, ignore_errors=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}{STAGING_MARK}", dir=target.parent))
    try:
        try:
            yield stage / target.name
        except OSError as exc:  # a full disk, a folder that went read-only: say it of the target, not the stage
            reason = exc.strerror or str(exc) or type(exc).__name__
            raise DigitkitError(f"{target}: cannot write its files ({reason}); nothing was written") from None
        written = sorted(p for p in stage.iterdir() if p.is_file())
        stem = target.name.removesuffix(".onnx")
        for suffix in owned_suffixes:
            old = target.with_name(stem + suffix)
            if not (stage / old.name).exists() and old.exists():
                old.unlink()
        # the model last: until it is replaced, the old model's evidence is the only evidence there is
        for path in sorted(written, key=lambda p: p.name == target.name):
            os.replace(path, target.parent / path.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
