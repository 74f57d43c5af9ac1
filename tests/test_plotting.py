"""Tests for cnnlib.plotting (the figure helpers used by notebooks/widgets)."""

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from cnnlib.plotting import (
    SIGNED_CMAP,
    axis_numbers,
    cell_lines,
    mosaic,
    show_image,
    show_kernel,
    show_maps,
    show_mosaic,
    show_signed,
    show_tensor,
    show_values,
    symmetric_limit,
)
from cnnlib.plotting.cell_text import CellText

matplotlib.use("Agg")


def new_ax():
    return Figure().add_subplot()


def cell_texts(ax):
    """Strings drawn by cell_text collections on ``ax``, in order."""
    return [t for c in ax.collections if isinstance(c, CellText)
            for t in c.get_texts()]


def test_symmetric_limit_ignores_nan_and_defaults_to_one():
    assert symmetric_limit(np.array([-3.0, 2.0])) == 3.0
    assert symmetric_limit(np.array([1.0, np.nan]), np.array([-0.5])) == 1.0
    assert symmetric_limit(np.zeros(4)) == 1.0
    assert symmetric_limit(np.full(3, np.nan)) == 1.0


def test_show_image_returns_axes_without_ticks():
    ax = new_ax()
    out = show_image(np.arange(12.0).reshape(3, 4), ax=ax, title="t")
    assert out is ax
    assert list(ax.get_xticks()) == [] and list(ax.get_yticks()) == []
    assert ax.get_title() == "t"


def test_show_image_makes_its_own_figure_without_ax():
    import matplotlib.pyplot as plt

    ax = show_image(np.eye(3))
    assert ax.figure is not None
    plt.close(ax.figure)


@pytest.mark.parametrize("seed", range(5))
def test_show_signed_is_zero_centred_with_colorbar(seed):
    rng = np.random.default_rng(seed)
    img = rng.normal(size=(5, 6)) + rng.normal()
    ax = new_ax()
    show_signed(img, ax=ax)
    lo, hi = ax.images[0].get_clim()
    assert lo == -hi and hi == pytest.approx(np.abs(img).max()), (seed, lo, hi)
    assert ax.images[0].cmap.name == SIGNED_CMAP
    assert len(ax.figure.axes) == 2  # the colour bar


def test_show_signed_marks_clipped_values_on_the_colorbar():
    ax = new_ax()
    show_signed(np.array([[-5.0, 1.0], [0.0, 2.0]]), ax=ax, vmax=1.0)
    assert ax.figure.axes[1].get_label() == "<colorbar>"
    assert ax.images[0].colorbar.extend == "both"


def test_show_values_writes_every_finite_number():
    a = np.array([[1.0, -2.0, np.nan], [0.0, 3.0, 4.0]])
    ax = new_ax()
    show_values(a, ax=ax, boxes=[(0, 0, 2, 2, "orange")])
    texts = cell_texts(ax)
    assert sorted(texts) == sorted(["1", "-2", "0", "3", "4"]), texts
    assert len(ax.patches) == 1
    lo, hi = ax.images[0].get_clim()
    assert lo == -hi == -4.0


def test_show_values_formats_fractions_and_unsigned():
    ax = new_ax()
    show_values(np.array([[0.25, 0.5]]), ax=ax)
    assert cell_texts(ax) == ["0.2", "0.5"]
    assert ax.images[0].get_clim()[0] == 0.0


def test_show_values_rejects_wrong_rank():
    with pytest.raises(ValueError, match="show_values: values must have shape"):
        show_values(np.zeros((2, 2, 2)), ax=new_ax())


def test_show_kernel_is_signed():
    ax = new_ax()
    show_kernel(np.array([[1.0, 2.0], [3.0, 4.0]]), ax=ax)
    lo, hi = ax.images[0].get_clim()
    assert lo == -hi == -4.0


def test_cell_lines_draws_inner_borders_only():
    ax = new_ax()
    cell_lines(ax, 3, 5)
    vert, horiz = ax.collections
    assert len(vert.get_segments()) == 4 and len(horiz.get_segments()) == 2


def test_show_values_axis_labels_number_rows_and_columns():
    ax = new_ax()
    show_values(np.zeros((2, 4)), ax=ax, axis_labels=True, fontsize=None)
    assert cell_texts(ax) == ["0", "1", "0", "1", "2", "3"]
    ax = axis_numbers(new_ax(), 3, 2, start=-1)
    assert cell_texts(ax) == ["-1", "0", "1", "-1", "0"]


@pytest.mark.parametrize("seed", range(20))
def test_mosaic_places_every_map(seed):
    rng = np.random.default_rng(seed)
    m, h, w = rng.integers(1, 10), rng.integers(1, 6), rng.integers(1, 6)
    ncols = int(rng.integers(1, m + 1))
    pad = int(rng.integers(0, 3))
    maps = rng.normal(size=(m, h, w))
    tiles = mosaic(maps, ncols=ncols, pad=pad)
    nrows = -(-m // ncols)
    config = (m, h, w, ncols, pad)
    assert tiles.shape == (nrows * (h + pad) - pad, ncols * (w + pad) - pad), config
    for k in range(m):
        r, c = divmod(k, ncols)
        got = tiles[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w]
        assert np.array_equal(got, maps[k]), config
    assert np.isnan(tiles).sum() == tiles.size - maps.size, config


def test_mosaic_rejects_bad_input():
    with pytest.raises(ValueError, match="mosaic: maps must have shape"):
        mosaic(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="mosaic"):
        mosaic(np.zeros((0, 3, 3)))


def test_show_maps_shares_colour_limits():
    rng = np.random.default_rng(0)
    maps = rng.normal(size=(5, 4, 4))
    fig = show_maps(maps, titles=list("abcde"), ncols=3, fig=Figure())
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 5
    assert len({im.get_clim() for im in images}) == 1
    v = np.abs(maps).max()
    assert images[0].get_clim() == pytest.approx((-v, v))
    assert [ax.get_title() for ax in fig.axes[:5]] == list("abcde")


def test_show_maps_unsigned_uses_gray():
    fig = show_maps(np.random.default_rng(1).random((2, 3, 3)), fig=Figure(),
                    colorbar=False)
    assert fig.axes[0].images[0].cmap.name == "gray"
    with pytest.raises(ValueError, match="show_maps"):
        show_maps(np.zeros((3, 3)), fig=Figure())


@pytest.mark.parametrize("shape", [(3, 224, 224), (8, 3, 3, 3), (1, 1, 5, 5),
                                   (64, 1, 28, 28)])
def test_show_tensor_draws_boxes(shape):
    ax = new_ax()
    show_tensor(shape, ax=ax)
    lead = shape[0] if len(shape) == 4 else 1
    # three faces plus two shading polygons per box, at most 5 boxes
    assert len(ax.patches) == 5 * min(lead, 5)
    assert str(shape[-1]) in ax.get_title()


def test_show_tensor_rejects_bad_shapes():
    with pytest.raises(ValueError, match="show_tensor"):
        show_tensor((3, 3), ax=new_ax())
    with pytest.raises(ValueError, match="show_tensor"):
        show_tensor((0, 3, 3), ax=new_ax())


@pytest.mark.parametrize("values", [False, True])
def test_show_mosaic_uses_one_axes_and_shared_limits(values):
    rng = np.random.default_rng(4)
    maps = rng.normal(size=(4, 3, 3))
    ax = new_ax()
    show_mosaic(maps, ax=ax, pad=2, labels=["a", "b", "c", "d"], values=values)
    assert len(ax.figure.axes) == 1
    lo, hi = ax.images[0].get_clim()
    assert lo == -hi == pytest.approx(-np.abs(maps).max())
    texts = cell_texts(ax)
    assert texts[-4:] == ["a", "b", "c", "d"]
    assert len(texts) == (4 + 36 if values else 4)
    shown = np.asarray(ax.images[0].get_array())
    assert shown.shape == (3, 4 * 3 + 3 * 2)


def test_show_mosaic_unsigned_with_colorbar():
    ax = new_ax()
    show_mosaic(np.random.default_rng(5).random((3, 4, 4)), ax=ax, ncols=2,
                colorbar=True, title="maps")
    assert ax.images[0].cmap.name == "gray"
    assert len(ax.figure.axes) == 2 and ax.get_title() == "maps"


def test_show_layer_outputs_gives_tiny_maps_their_own_scale():
    from matplotlib.figure import Figure

    from cnnlib.plotting import show_layer_outputs

    rng = np.random.default_rng(0)
    small = rng.normal(size=(16, 5, 5)) * np.arange(1, 17)[:, None, None]
    big = rng.normal(size=(6, 12, 12))
    fig = show_layer_outputs([big, small], ["conv 1", "pool 2"], fig=Figure())
    tiles = [np.ma.filled(ax.images[0].get_array(), np.nan)
             for ax in fig.axes if ax.images and "pool 2" in ax.get_title()]
    mosaic_small = tiles[0]
    for r in range(4):
        for c in range(4):
            tile = mosaic_small[r * 6:r * 6 + 5, c * 6:c * 6 + 5]
            assert np.nanmax(np.abs(tile)) == pytest.approx(1.0)
    titles = [ax.get_title() for ax in fig.axes]
    assert any("own scale" in t for t in titles if "pool 2" in t)
    assert not any("own scale" in t for t in titles if "conv 1" in t)


def test_show_maps_own_scale_writes_each_limit():
    from matplotlib.figure import Figure

    from cnnlib.plotting import show_maps

    maps = np.zeros((2, 4, 4))
    maps[0, 1, 1], maps[1, 2, 2] = 4.0, 1.0
    fig = show_maps(maps, titles=["sum", "ReLU"], fig=Figure(), own_scale=True)
    limits = [ax.images[0].get_clim() for ax in fig.axes if ax.images]
    assert limits[1][1] == 1.0  # the one faint pixel gets the full colour
    assert [ax.get_title() for ax in fig.axes if ax.images] == [
        "sum\n(max |value| 4)", "ReLU\n(max |value| 1)"]


def test_readable_figures_sets_100_dpi_and_restorable_defaults():
    import matplotlib

    from cnnlib.plotting import READABLE_RC, readable_figures

    with matplotlib.rc_context():
        applied = readable_figures()
        assert applied == READABLE_RC
        assert matplotlib.rcParams["figure.dpi"] == 100
        width_px = matplotlib.rcParams["figure.figsize"][0] * 100
        assert width_px <= 600
        smallest = min(v for k, v in READABLE_RC.items() if "size" in k
                       and k != "figure.figsize")
        assert smallest * 100 / 72 >= 10
