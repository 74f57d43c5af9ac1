"""Tests for cnnlib.widgets.backprop (the gradient router explorer)."""

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from cnnlib.plotting.cell_text import CellText
from cnnlib.widgets.backprop import (
    LAYERS,
    default_kernel,
    explore_backprop_route,
    render_backprop_route,
    route_gradient,
)

matplotlib.use("Agg")


def test_max_pool_routes_to_the_window_maximum_only():
    rng = np.random.default_rng(0)
    for trial in range(50):
        h, w = rng.integers(4, 9, size=2)
        x = rng.permutation(h * w).reshape(h, w).astype(float)  # no ties
        k, s = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        h_out, w_out = (h - k) // s + 1, (w - k) // s + 1
        i, j = int(rng.integers(h_out)), int(rng.integers(w_out))
        r = route_gradient(x, "max pool", i, j, k, s)
        win = x[i * s:i * s + k, j * s:j * s + k]
        a, b = np.unravel_index(win.argmax(), win.shape)
        want = np.zeros_like(x)
        want[i * s + a, j * s + b] = 1.0
        np.testing.assert_array_equal(r["dx"], want, err_msg=str((trial, k, s)))
        assert r["out"][i, j] == win.max()


def test_avg_pool_spreads_evenly():
    x = np.arange(36.0).reshape(6, 6)
    r = route_gradient(x, "avg pool", 1, 1, 3, 2)
    want = np.zeros((6, 6))
    want[2:5, 2:5] = 1 / 9
    np.testing.assert_allclose(r["dx"], want)


def test_conv_routes_weights_to_inputs_and_inputs_to_weights():
    rng = np.random.default_rng(1)
    for trial in range(30):
        k, s = int(rng.integers(1, 4)), int(rng.integers(1, 3))
        x = rng.standard_normal((7, 7))
        w = rng.standard_normal((k, k))
        h_out = (7 - k) // s + 1
        i, j = rng.integers(h_out, size=2)
        r = route_gradient(x, "conv", int(i), int(j), k, s, kernel=w)
        want = np.zeros_like(x)
        want[i * s:i * s + k, j * s:j * s + k] = w
        np.testing.assert_allclose(r["dx"], want, atol=1e-12, err_msg=str(trial))
        np.testing.assert_allclose(r["dw"], x[i * s:i * s + k, j * s:j * s + k],
                                   atol=1e-12, err_msg=str(trial))


def test_all_outputs_counts_overlapping_windows():
    x = np.arange(25.0).reshape(5, 5)  # maxima at each window's bottom-right
    r = route_gradient(x, "max pool", size=3, stride=1, all_outputs=True)
    want = np.zeros((5, 5))
    want[2:, 2:] = 1.0
    np.testing.assert_array_equal(r["dx"], want)
    r = route_gradient(x, "conv", size=2, stride=1, all_outputs=True,
                       kernel=np.ones((2, 2)))
    counts = np.array([1, 2, 2, 2, 1])
    np.testing.assert_array_equal(r["dx"], np.outer(counts, counts))


def test_errors_and_default_kernel():
    with pytest.raises(ValueError, match="route_gradient: output cell"):
        route_gradient(np.ones((4, 4)), "max pool", 2, 0)
    with pytest.raises(ValueError, match="route_gradient: layer"):
        route_gradient(np.ones((4, 4)), "min pool")
    k = default_kernel(3)
    assert k.shape == (3, 3) and np.array_equal(k, default_kernel(3))


@pytest.mark.parametrize("layer", LAYERS)
def test_render_returns_figure(layer):
    x = np.random.default_rng(2).random((8, 8))
    fig = render_backprop_route(x, layer, 1, 1, 3, 2)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == (5 if layer == "conv" else 3)
    titles = [t for ax in fig.axes for c in ax.collections
              if isinstance(c, CellText) for t in c.get_texts()]
    assert ("kernel w" in titles) == (layer == "conv"), titles


def test_render_all_outputs_title_names_the_output():
    x5 = np.zeros((5, 5))
    x5[2, 2] = 9.0
    fig = render_backprop_route(x5, "max pool", size=3, stride=1, all_outputs=True)
    titles = [t for c in fig.axes[1].collections if isinstance(c, CellText)
              for t in c.get_texts()]
    assert "output (all 9);\ndout = 1 everywhere" in titles


def test_explorer_builds():
    pytest.importorskip("ipywidgets")
    box = explore_backprop_route(np.ones((6, 6)))
    assert "cnnlib-explorer" in box._dom_classes
