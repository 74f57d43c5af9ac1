"""Tests for cnnlib.widgets.nonlinearity (collapse and activation explorers)."""

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy.signal import convolve2d, correlate2d

from cnnlib.widgets.nonlinearity import (
    ACTIVATIONS,
    KERNELS,
    collapse_outputs,
    compose_kernels,
    correlate_valid,
    explore_activation,
    explore_collapse,
    get_kernel,
    render_activation,
    render_collapse,
)

matplotlib.use("Agg")


def test_compose_kernels_is_full_convolution():
    rng = np.random.default_rng(0)
    for trial in range(30):
        a, b, c, d = rng.integers(1, 6, size=4)
        k1 = rng.standard_normal((a, b))
        k2 = rng.standard_normal((c, d))
        got = compose_kernels(k1, k2)
        want = convolve2d(k1, k2, mode="full")
        np.testing.assert_allclose(got, want, atol=1e-12,
                                   err_msg=f"trial {trial}: {k1.shape} {k2.shape}")


def test_correlate_valid_matches_scipy():
    rng = np.random.default_rng(1)
    for trial in range(20):
        h, w = rng.integers(5, 15, size=2)
        kh, kw = rng.integers(1, 5, size=2)
        x = rng.standard_normal((h, w))
        k = rng.standard_normal((kh, kw))
        np.testing.assert_allclose(correlate_valid(x, k),
                                   correlate2d(x, k, mode="valid"),
                                   atol=1e-12, err_msg=f"trial {trial}")


def test_without_relu_two_convolutions_are_one():
    rng = np.random.default_rng(2)
    names = list(KERNELS)
    for trial in range(30):
        x = rng.random((rng.integers(8, 20), rng.integers(8, 20)))
        k1, k2 = rng.choice(names, 2)
        r = collapse_outputs(x, k1, k2, relu=False)
        scale = np.abs(r["stacked"]).max() + 1e-12
        assert np.abs(r["diff"]).max() < 1e-12 * max(1, scale), (trial, k1, k2)
        assert r["kernel"].shape == (5, 5)
        assert r["stacked"].shape == (x.shape[0] - 4, x.shape[1] - 4)


def test_relu_breaks_the_collapse_for_edge_kernels():
    rng = np.random.default_rng(3)
    x = rng.random((16, 16))
    r = collapse_outputs(x, "vertical edge", "horizontal edge", relu=True)
    assert np.abs(r["diff"]).max() > 1e-3
    assert (r["hidden"] >= 0).all()


def test_get_kernel_errors():
    with pytest.raises(ValueError, match="get_kernel: kernel must be one of"):
        get_kernel("nope")
    with pytest.raises(ValueError, match="2-D"):
        get_kernel(np.ones(3))
    with pytest.raises(ValueError, match="collapse_outputs: image must be"):
        collapse_outputs(np.ones((2, 5, 5)), "blur", "blur")


@pytest.mark.parametrize("relu", [False, True])
def test_render_collapse_returns_figure(relu):
    rng = np.random.default_rng(4)
    fig = render_collapse(rng.random((28, 28)), "blur", "sharpen", relu=relu)
    assert isinstance(fig, Figure)
    # One axes holds the eight tiles; each row adds a shared colour bar.
    assert len(fig.axes) == 3


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_render_activation_returns_figure(activation):
    rng = np.random.default_rng(5)
    fig = render_activation(rng.random((28, 28)), "vertical edge", activation)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 4  # maps, colour bar, histogram, curves


def test_render_activation_bad_name():
    with pytest.raises(ValueError, match="render_activation: activation"):
        render_activation(np.ones((8, 8)), "blur", "softplus")


def test_explorers_build():
    pytest.importorskip("ipywidgets")
    img = np.random.default_rng(6).random((12, 12))
    for box in (explore_collapse(img), explore_activation(img)):
        assert "cnnlib-explorer" in box._dom_classes
