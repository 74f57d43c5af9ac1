"""Tests for cnnlib.widgets.pooling (pooling and receptive-field explorers)."""

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from cnnlib.widgets.pooling import (
    explore_pooling,
    explore_receptive_field,
    pool_map,
    pooling_shift_change,
    relative_change,
    render_pooling,
    render_receptive_field,
    shift_image,
    stack_geometry,
)

matplotlib.use("Agg")


def test_shift_image_matches_roll_away_from_edges():
    rng = np.random.default_rng(0)
    for trial in range(30):
        img = np.zeros((12, 12))
        img[4:8, 4:8] = rng.random((4, 4))
        dx, dy = rng.integers(-3, 4, size=2)
        got = shift_image(img, dx, dy)
        want = np.roll(img, (dy, dx), axis=(0, 1))
        np.testing.assert_array_equal(got, want, err_msg=f"{trial}: {dx},{dy}")
    assert not shift_image(np.ones((3, 3)), 5).any()


def test_pool_map_matches_reshape_reference():
    rng = np.random.default_rng(1)
    for trial in range(20):
        k = int(rng.integers(1, 4))
        h, w = rng.integers(1, 6, size=2) * k
        f = rng.standard_normal((h, w))
        blocks = f.reshape(h // k, k, w // k, k)
        np.testing.assert_allclose(pool_map(f, k, k, "max"),
                                   blocks.max(axis=(1, 3)), err_msg=str(trial))
        np.testing.assert_allclose(pool_map(f, k, k, "avg"),
                                   blocks.mean(axis=(1, 3)), err_msg=str(trial))
    assert pool_map(f, mode="none") is f
    with pytest.raises(ValueError, match="pool_map: mode"):
        pool_map(f, mode="min")


def test_shift_zero_changes_nothing_and_pooling_helps_on_average():
    rng = np.random.default_rng(2)
    raw, pooled = [], []
    for _ in range(10):
        img = np.zeros((28, 28))
        r, c = rng.integers(4, 16, size=2)
        img[r:r + 8, c:c + 2] = 1.0  # a vertical bar
        img[r + 7, c:c + 6] = 1.0
        assert pooling_shift_change(img, 0)["pooled_change"] == 0.0
        res = pooling_shift_change(img, 1, 2, 2, "max")
        raw.append(res["raw_change"])
        pooled.append(res["pooled_change"])
        assert res["pooled"].shape == (13, 13)
    assert np.mean(pooled) < np.mean(raw)


def test_relative_change():
    a = np.array([3.0, 4.0])
    assert relative_change(a, a) == 0.0
    assert relative_change(a, np.zeros(2)) == 1.0
    assert relative_change(np.zeros(2), a) == 0.0


def _brute_force_field(layers, size):
    """Field of the centre output unit: inputs whose gradient is nonzero.

    Every layer is made of ones (a conv of all-ones weights, an average pool),
    so no gradient can cancel; back-propagate a one-hot dout by hand.
    """
    shapes = [size]
    for _kind, k, s in layers:
        shapes.append((shapes[-1] - k) // s + 1)
    g = np.zeros(shapes[-1])
    g[(shapes[-1] - 1) // 2] = 1.0
    for (_kind, k, s), n_in in zip(reversed(layers), reversed(shapes[:-1])):
        back = np.zeros(n_in)
        for i, v in enumerate(g):
            back[i * s:i * s + k] += v
        g = back
    idx = np.flatnonzero(g)
    return idx.min(), idx.max()


def test_stack_geometry_matches_brute_force():
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(200):
        layers = [(str(rng.choice(["conv", "pool"])), int(rng.integers(1, 6)),
                   int(rng.integers(1, 4))) for _ in range(rng.integers(1, 5))]
        try:
            rows = stack_geometry(layers, 28)
        except ValueError:
            continue  # the stack does not fit 28 pixels
        lo, hi = _brute_force_field(layers, 28)
        last = rows[-1]
        unit = (last["out"] - 1) // 2
        centre = last["start"] + unit * last["jump"]
        half = (last["rf"] - 1) / 2
        assert (centre - half, centre + half) == (lo, hi), (layers, rows)
        checked += 1
    assert checked > 50


def test_stack_geometry_skips_none_and_rejects_bad_kinds():
    rows = stack_geometry([("conv", 3, 1), ("none", 9, 9), ("pool", 2, 2)])
    assert [r["out"] for r in rows] == [26, 13]
    assert [r["rf"] for r in rows] == [3, 4]
    with pytest.raises(ValueError, match="kind must be"):
        stack_geometry([("dense", 3, 1)])
    with pytest.raises(ValueError, match="does not fit"):
        stack_geometry([("conv", 7, 1)] * 5, size=20)


def test_renders_return_figures():
    rng = np.random.default_rng(4)
    img = rng.random((28, 28))
    for args in [(2, 2, "max", 1), (3, 1, "avg", 0), (3, 2, "max", 3)]:
        assert isinstance(render_pooling(img, *args), Figure)
    for layers in [[], [("conv", 5, 1)], [("conv", 3, 1), ("pool", 2, 2)] * 2]:
        fig = render_receptive_field(img, layers)
        assert isinstance(fig, Figure) and len(fig.axes) == 2
    with pytest.raises(ValueError, match="square"):
        render_receptive_field(np.ones((28, 20)), [])


def test_explorers_build():
    pytest.importorskip("ipywidgets")
    img = np.random.default_rng(5).random((28, 28))
    for box in (explore_pooling(img), explore_receptive_field(img)):
        assert "cnnlib-explorer" in box._dom_classes
