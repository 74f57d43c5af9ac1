"""Tests for cnnlib.augment: exact transforms, variation and validation."""

import numpy as np
import pytest

from cnnlib.augment import random_affine
from cnnlib.data import load_mnist


class _FixedRng:
    """Stands in for a Generator: ``uniform`` returns queued values."""

    def __init__(self, *values):
        self.values = list(values)

    def uniform(self, low, high, size):
        return np.full(size, self.values.pop(0), dtype=float)


def test_random_affine_exact_cases():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 5, 7)).astype(np.float32)
    same = random_affine(0, 0, 0)(x, rng)
    assert same.dtype == np.float32
    np.testing.assert_allclose(same, x, atol=1e-6)
    # Rotation by exactly 90 degrees (square images): out[i, j] = x[H-1-j, i].
    sq = x[:, :, :5, :5]
    turned = random_affine(90, 0, 0)(sq, _FixedRng(90, 0, 0))
    np.testing.assert_allclose(turned, np.rot90(sq, -1, axes=(2, 3)), atol=1e-5)
    # A shift of one pixel down and right samples x[i+1, j+1]; the
    # uncovered border gets each image's smallest value.
    moved = random_affine(0, 0, 1)(x, _FixedRng(0, 0, 1))
    np.testing.assert_allclose(moved[:, :, :-1, :-1], x[:, :, 1:, 1:], atol=1e-6)
    lowest = x.min(axis=(1, 2, 3))
    np.testing.assert_allclose(moved[:, :, -1, :], np.broadcast_to(
        lowest[:, None, None], (3, 2, 7)), atol=1e-6)


def test_random_affine_varies_and_validates():
    x = load_mnist("subset", "test", dtype=np.float32, normalize=True)[0][:8]
    out = random_affine()(x, np.random.default_rng(1))
    assert out.shape == x.shape and not np.allclose(out, x)
    assert out.min() >= x.min() - 1e-6 and out.max() <= x.max() + 1e-6
    with pytest.raises(ValueError, match="random_affine: scale"):
        random_affine(scale=1.5)
