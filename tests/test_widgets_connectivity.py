"""Tests for cnnlib.widgets.connectivity (what one output unit sees)."""

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from cnnlib.local import layer_cost
from cnnlib.plotting.cell_text import CellText
from cnnlib.widgets.connectivity import (
    KINDS,
    explore_connectivity,
    render_connectivity,
    unit_weights,
)

matplotlib.use("Agg")


@pytest.mark.parametrize("seed", range(15))
def test_unit_weights_connect_the_right_pixels(seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(2, 10))
    kernel = int(rng.integers(1, size + 1))
    n_out = size - kernel + 1
    row, col = (int(v) for v in rng.integers(0, n_out, size=2))
    config = (size, kernel, row, col)
    dense = unit_weights("dense", row, col, size, kernel)
    assert np.isfinite(dense).all(), config
    for kind in ("local", "conv"):
        w = unit_weights(kind, row, col, size, kernel)
        seen = np.isfinite(w)
        expected = np.zeros((size, size), dtype=bool)
        expected[row:row + kernel, col:col + kernel] = True
        assert np.array_equal(seen, expected), (kind, config)


def test_conv_shares_weights_and_local_does_not():
    a = unit_weights("conv", 0, 0, 6, 3)[0:3, 0:3]
    b = unit_weights("conv", 2, 3, 6, 3)[2:5, 3:6]
    assert np.array_equal(a, b)
    a = unit_weights("local", 0, 0, 6, 3)[0:3, 0:3]
    b = unit_weights("local", 2, 3, 6, 3)[2:5, 3:6]
    assert not np.allclose(a, b)
    assert not np.allclose(unit_weights("dense", 0, 0, 6, 3),
                           unit_weights("dense", 0, 1, 6, 3))
    # fixed numbers: the same call gives the same picture
    assert np.array_equal(unit_weights("local", 1, 1, 6, 3),
                          unit_weights("local", 1, 1, 6, 3), equal_nan=True)


def test_unit_weights_rejects_bad_arguments():
    with pytest.raises(ValueError, match="unit_weights: kind must be one of"):
        unit_weights("pool", 0, 0, 6, 3)
    with pytest.raises(ValueError, match="row and col must be in 0..3"):
        unit_weights("conv", 4, 0, 6, 3)


def texts(ax):
    """What the cell_text collections on ``ax`` say: title first."""
    return [t for c in ax.collections if isinstance(c, CellText)
            for t in c.get_texts()]


@pytest.mark.parametrize("kernel", [1, 2, 3, 5, 6])
def test_render_connectivity_titles_give_layer_costs(kernel):
    fig = render_connectivity(row=1, col=0, kernel=kernel, size=6)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3  # one per kind: input above output
    titles = ["\n".join(texts(ax)) for ax in fig.axes]
    for k, kind in enumerate(KINDS):
        cost = layer_cost(kind, (6, 6), 1, kernel)
        assert f"{cost.params:,} params" in titles[k], titles
        assert f"{cost.macs:,} mult-adds" in titles[k], titles
    assert "sees 36 pixels" in titles[0]
    assert f"sees {kernel * kernel} pixels" in titles[2]


def test_render_connectivity_clips_the_unit_to_the_output_grid():
    fig = render_connectivity(row=9, col=-3, kernel=5, size=6)
    for ax in fig.axes:
        assert "output unit (1, 0) of 2x2" in texts(ax), texts(ax)
        out = np.asarray(ax.images[-1].get_array())
        assert out.shape == (2, 2) and out[1, 0] == 1 and out.sum() == 1
    # the conv unit's weights sit in its 5x5 window at (1, 0)
    weights = np.ma.getdata(fig.axes[2].images[1].get_array())
    assert np.array_equal(np.isfinite(weights),
                          np.isfinite(unit_weights("conv", 1, 0, 6, 5)))


def test_render_connectivity_rejects_a_kernel_larger_than_the_input():
    with pytest.raises(ValueError, match="render_connectivity: kernel must be"):
        render_connectivity(kernel=7, size=6)


def test_explore_connectivity_builds():
    ipywidgets = pytest.importorskip("ipywidgets")
    box = explore_connectivity()
    assert isinstance(box, ipywidgets.VBox)
    assert "cnnlib-explorer" in box._dom_classes


def test_render_never_opens_pyplot_figures():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    render_connectivity()
    assert plt.get_fignums() == before
