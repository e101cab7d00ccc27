"""The guard file averages several networks: its output is the mean of their P(digit), and it says so."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")

from digitkit.train.guard import averaged, build_guard, export  # noqa: E402


def _members(seeds: list[int]) -> list:
    out = []
    for seed in seeds:
        torch.manual_seed(seed)
        out.append(build_guard().eval())
    return out


def test_the_exported_guard_outputs_the_mean_of_its_members_p_digit(tmp_path):
    members = _members([5, 6])
    path = tmp_path / "guard.onnx"
    export(members, path, [5, 6])

    x = np.random.default_rng(0).random((16, 1, 28, 28), dtype=np.float32)
    with torch.no_grad():
        each = [torch.sigmoid(m(torch.from_numpy(x)))[:, 0].numpy() for m in members]
    assert np.abs(each[0] - each[1]).max() > 1e-3  # two different networks, so the mean is not either one
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (p_digit,) = session.run(None, {"digit": x})
    assert p_digit.shape == (16, 1)
    np.testing.assert_allclose(p_digit[:, 0], (each[0] + each[1]) / 2, atol=1e-5)
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["digitkit.role"] == "guard"
    assert meta["digitkit.members"] == "2 networks (seeds 5, 6), P(digit) averaged"


def test_one_member_is_that_network_alone():
    (member,) = _members([3])
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        np.testing.assert_allclose(averaged([member])(x).numpy(), torch.sigmoid(member(x)).numpy(), atol=1e-6)


def test_the_shipped_guard_names_its_members():
    from digitkit.runtime.recognizer import GUARD, MODELS_DIR

    path = MODELS_DIR / GUARD
    meta = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
    assert meta["digitkit.members"].startswith("2 networks (seeds 1234, 1235)")
