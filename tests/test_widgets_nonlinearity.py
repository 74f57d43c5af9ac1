"""Tests for cnnlib.widgets.nonlinearity (collapse and activation explorers)."""

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy.signal import convolve2d, correlate2d

from cnnlib.kernels import KERNELS
from cnnlib.widgets.nonlinearity import (
    ACTIVATIONS,
    collapse_outputs,
    explore_activation,
    explore_collapse,
    render_activation,
    render_collapse,
)

matplotlib.use("Agg")


def test_collapse_outputs_match_scipy():
    # independent reference: scipy's correlate / convolve
    rng = np.random.default_rng(0)
    for trial in range(20):
        x = rng.standard_normal(rng.integers(8, 16, size=2))
        k1, k2 = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
        r = collapse_outputs(x, k1, k2, relu=True)
        hidden = np.maximum(correlate2d(x, k1, mode="valid"), 0)
        np.testing.assert_allclose(r["hidden"], hidden, atol=1e-12)
        np.testing.assert_allclose(r["stacked"],
                                   correlate2d(hidden, k2, mode="valid"),
                                   atol=1e-12, err_msg=f"trial {trial}")
        np.testing.assert_allclose(r["kernel"],
                                   convolve2d(k1, k2, mode="full"), atol=1e-12)


def test_named_kernels_are_the_course_vocabulary():
    r = collapse_outputs(np.ones((9, 9)), "vertical edge", "Sobel y")
    np.testing.assert_array_equal(
        r["kernel"], convolve2d(KERNELS["vertical edge"], KERNELS["Sobel y"]))


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


def test_kernel_errors_name_the_function():
    with pytest.raises(ValueError, match="collapse_outputs: kernel must be "
                                         "one of"):
        collapse_outputs(np.ones((5, 5)), "nope", "box blur")
    with pytest.raises(ValueError, match="collapse_outputs: kernel must be a "
                                         "name or a 2-D array"):
        collapse_outputs(np.ones((5, 5)), np.ones(3), "box blur")
    with pytest.raises(ValueError, match="collapse_outputs: image must be"):
        collapse_outputs(np.ones((2, 5, 5)), "box blur", "box blur")


@pytest.mark.parametrize("relu", [False, True])
def test_render_collapse_returns_figure(relu):
    rng = np.random.default_rng(4)
    fig = render_collapse(rng.random((28, 28)), "box blur", "sharpen",
                         relu=relu)
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
        render_activation(np.ones((8, 8)), "box blur", "softplus")


def test_explorers_build():
    pytest.importorskip("ipywidgets")
    img = np.random.default_rng(6).random((12, 12))
    for box in (explore_collapse(img), explore_activation(img)):
        assert "cnnlib-explorer" in box._dom_classes
