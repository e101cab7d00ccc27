"""The training batch's augmentation: the affine part and the elastic distortion."""

from dataclasses import replace

import pytest

torch = pytest.importorskip("torch")

from digitkit.train.augment import augment_batch  # noqa: E402
from digitkit.train.config import TrainConfig  # noqa: E402

STILL = TrainConfig(rotate_deg=0.0, scale=(1.0, 1.0), shift_px=0.0, shear_deg=0.0)


def _strokes(n: int = 8) -> torch.Tensor:
    """A vertical and a horizontal bar, 2 px wide, on black."""
    x = torch.zeros(n, 1, 28, 28)
    x[:, :, 6:22, 13:15] = 1.0
    x[:, :, 13:15, 8:20] = 1.0
    return x


def test_no_distortion_leaves_the_digit_as_it_is():
    x = _strokes()
    assert torch.allclose(augment_batch(x, STILL, torch.Generator().manual_seed(0)), x, atol=1e-5)


@pytest.mark.parametrize("pixels", [1.0, 2.0, 3.0])
def test_elastic_distortion_bends_strokes_by_about_its_size_and_keeps_the_ink(pixels):
    x = _strokes(64)
    y = augment_batch(x, replace(STILL, elastic_px=pixels), torch.Generator().manual_seed(0))
    assert y.shape == x.shape
    moved = (y - x).abs().sum(dim=(1, 2, 3)) / x.sum(dim=(1, 2, 3))
    assert (moved > 0.05).all()  # every image bent
    assert abs(float(y.sum() / x.sum()) - 1) < 0.1  # ink neither made nor lost (within resampling)
    # the vertical bar (rows without the horizontal one) moves sideways by up to about `pixels`, not more
    rows = torch.cat([y[:, 0, 8:12, :], y[:, 0, 16:20, :]], dim=1)
    centre = (rows * torch.arange(28.0)).sum(-1) / rows.sum(-1).clamp_min(1e-6)
    shift = (centre - 13.5).abs()
    assert shift.max() <= pixels + 1.0
    assert shift.max() >= pixels * 0.3


def test_elastic_distortion_is_random_per_image_and_repeatable_per_seed():
    cfg = replace(STILL, elastic_px=2.0)
    a = augment_batch(_strokes(), cfg, torch.Generator().manual_seed(3))
    b = augment_batch(_strokes(), cfg, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert not torch.allclose(a[0], a[1])
