"""Tests for cnnlib.widgets.canvas (explorers drawn on one axes)."""

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from cnnlib.plotting.cell_text import CellText
from cnnlib.widgets.canvas import colour_bar, place_image, place_values

matplotlib.use("Agg")


def test_place_image_puts_cells_where_asked():
    ax = Figure().add_subplot()
    img = np.arange(6.0).reshape(2, 3) - 2
    im = place_image(ax, img, left=10, top=4, scale=2.0)
    # cell (0, 0) centred near (left, top + scale/2); y grows downwards
    assert im.get_extent() == [9.5, 15.5, 8.0, 4.0]
    lo, hi = im.get_clim()
    assert lo == -hi == -3.0
    assert place_image(ax, img, 0, 0, cmap="gray").get_clim() == (-2.0, 3.0)


def test_place_values_writes_every_number_once():
    rng = np.random.default_rng(0)
    kernels = np.round(rng.normal(size=(3, 2, 3)), 1)
    ax = Figure().add_subplot()
    place_values(ax, kernels, left=0, top=0, scale=1.5)
    (labels,) = [c for c in ax.collections if isinstance(c, CellText)]
    expected = [f"{v + 0.0:.2g}" for v in kernels.transpose(1, 0, 2).ravel()]
    assert labels.get_texts() == expected
    assert len(labels.get_offsets()) == kernels.size


def test_colour_bar_is_zero_centred_and_labelled():
    ax = Figure().add_subplot()
    im = colour_bar(ax, 0, 0, 10, 2.5)
    assert im.get_clim() == (-2.5, 2.5)
    (labels,) = [c for c in ax.collections if isinstance(c, CellText)]
    assert labels.get_texts() == ["2.5", "0", "-2.5"]
    assert len(ax.figure.axes) == 1  # no extra colour-bar axes
