"""Shared fixtures: the real MNIST set, and ../shared (foreign data, evaluations only).

Core behaviour is tested with the shipped models and pictures the tests draw; ../shared (USPS, Semeion,
photos, the ONNX Model Zoo's MNIST files) only adds evaluations on foreign data, which skip without it.
DIGITKIT_SHARED points elsewhere (``DIGITKIT_SHARED=/nonexistent`` runs the suite as a fresh clone would).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DIGITKIT_SHARED", REPO.parent / "shared"))
ZOO_MODEL = SHARED / "models" / "third_party" / "mnist-zoo-opset7.onnx"
ZOO_MODEL_BATCH = SHARED / "models" / "third_party" / "mnist-zoo-opset8-batch.onnx"


@pytest.fixture(scope="session")
def mnist():
    """The verified MNIST arrays (fetched once into the data cache if missing)."""
    pytest.importorskip("torch", reason="MNIST loading lives in the train extra")
    from digitkit.train.mnist import load_mnist

    return load_mnist(log=lambda _msg: None)


@pytest.fixture(scope="session")
def mnist_test_u8(mnist) -> tuple[np.ndarray, np.ndarray]:
    return np.array(mnist.test_images), np.array(mnist.test_labels, dtype=np.int64)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"evaluation on foreign data: {SHARED} (../shared, not part of the repo) is not present")
    return SHARED


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Evaluations on ../shared (the ``shared_dir`` fixture, the development photos) carry the ``shared`` mark:
    ``make test-fast`` leaves them out with the slow tier."""
    for item in items:
        if "shared_dir" in getattr(item, "fixturenames", ()) or item.module.__name__.endswith("test_vision_photos"):
            item.add_marker(pytest.mark.shared)
