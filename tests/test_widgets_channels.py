"""Tests for cnnlib.widgets.channels (option one vs option two)."""

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from cnnlib.conv import conv2d_forward_naive, correlate2d
from cnnlib.plotting.cell_text import CellText
from cnnlib.widgets.channels import (
    CORNER_BIAS,
    FILTERS_2D,
    LAYER1,
    LAYER2,
    explore_channels,
    layer1_maps,
    option_one,
    option_two,
    render_channels,
    square_image,
)

matplotlib.use("Agg")


def test_filter_banks_have_the_documented_shapes():
    assert LAYER1.shape == (4, 1, 3, 3)
    assert LAYER2.shape == (8, 4, 3, 3)
    assert FILTERS_2D.shape == (8, 3, 3)


@pytest.mark.parametrize("seed", range(8))
def test_layer1_maps_are_same_size_correlations(seed):
    rng = np.random.default_rng(seed)
    img = rng.random((int(rng.integers(3, 12)), int(rng.integers(3, 12))))
    maps = layer1_maps(img)
    assert maps.shape == (4, *img.shape)
    for f in range(4):
        assert np.allclose(maps[f], correlate2d(img, LAYER1[f, 0], "same")), seed


@pytest.mark.parametrize("seed", range(8))
def test_option_one_never_mixes_maps(seed):
    rng = np.random.default_rng(seed)
    c, f = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    maps = rng.normal(size=(c, 7, 6))
    filters = rng.normal(size=(f, 3, 3))
    out = option_one(maps, filters)
    assert out.shape == (c, f, 7, 6)
    for i in range(c):
        for j in range(f):
            assert np.allclose(out[i, j], correlate2d(maps[i], filters[j], "same"))


@pytest.mark.parametrize("seed", range(8))
def test_option_two_is_a_conv_layer_summing_option_one(seed):
    rng = np.random.default_rng(seed)
    c, f = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    maps = rng.normal(size=(c, 6, 8))
    w = rng.normal(size=(f, c, 3, 3))
    b = rng.normal(size=f)
    out = option_two(maps, w, b)
    ref, _ = conv2d_forward_naive(maps[None], w, b, padding=1)
    assert np.allclose(out, ref[0]), seed
    for j in range(f):
        parts = sum(option_one(maps[i:i + 1], w[j, i:i + 1])[0, 0]
                    for i in range(c))
        assert np.allclose(out[j], parts + b[j]), seed


def test_corner_filter_fires_at_top_left_corner_only():
    for size, lo, hi in [(16, 4, 11), (20, 3, 15), (12, 2, 9)]:
        img = square_image(size, lo, hi)
        maps = layer1_maps(img)
        out = option_two(maps)[0]
        # each edge map alone: the edge (3) beats the corner (2)
        assert maps[0].max() == maps[1].max() == 3 > maps[0][lo, lo]
        kept = np.argwhere(np.maximum(out + CORNER_BIAS, 0) > 0)
        assert kept.tolist() == [[lo, lo]], (size, lo, hi, kept)
        # no option-one map has its maximum at that corner alone
        every = option_one(maps).reshape(-1, size, size)
        for m in np.concatenate([every, -every]):
            assert np.argwhere(m == m.max()).tolist() != [[lo, lo]], (size, lo)


@pytest.mark.parametrize("option", ["one", "two"])
@pytest.mark.parametrize("index", [0, 3, 7])
def test_render_channels_builds_both_options(option, index):
    fig = render_channels(option=option, filter_index=index)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1  # one canvas: axes are slow to build
    (ax,) = fig.axes
    texts = " ".join(t for c in ax.collections if isinstance(c, CellText)
                     for t in c.get_texts())
    expected = "32 output maps" if option == "one" else "all 8 output maps"
    assert expected in texts and f"filter {index}:" in texts
    n_maps = 32 if option == "one" else 8
    finite = [int(np.isfinite(np.ma.filled(im.get_array(), np.nan)).sum())
              for im in ax.images]
    assert n_maps * 16 * 16 in finite, finite
    # the filter slices, shown with their numbers
    slices = LAYER2[index] if option == "two" else np.stack(
        [FILTERS_2D[index]] * 4)
    shown = [f"{v + 0.0:.2g}" for v in slices.transpose(1, 0, 2).ravel()]
    assert shown in [c.get_texts() for c in ax.collections
                     if isinstance(c, CellText)]


def test_render_channels_rejects_bad_arguments():
    with pytest.raises(ValueError, match="render_channels: option"):
        render_channels(option="three")
    with pytest.raises(ValueError, match="render_channels: filter_index"):
        render_channels(filter_index=8)


def test_explore_channels_builds():
    ipywidgets = pytest.importorskip("ipywidgets")
    box = explore_channels()
    assert isinstance(box, ipywidgets.VBox)
    assert "cnnlib-explorer" in box._dom_classes


def test_render_never_opens_pyplot_figures():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    render_channels(option="one")
    render_channels(option="two")
    assert plt.get_fignums() == before
