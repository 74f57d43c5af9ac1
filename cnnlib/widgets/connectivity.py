"""Explorer: which input pixels one output unit sees, and with which weights,
in a fully connected, a locally connected and a convolutional layer.

Taught in notebooks/01_local_connectivity.ipynb.
"""

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..local import layer_cost
from ..plotting import SIGNED_CMAP
from ..plotting.cell_text import draw_cell_text, draw_title
from .base import DPI, explorer

__all__ = ["KINDS", "unit_weights", "render_connectivity", "explore_connectivity"]

KINDS = ("dense", "local", "conv")
_TITLES = {"dense": "fully connected", "local": "locally connected",
           "conv": "convolutional"}
_OUT_CMAP = ListedColormap(["#f0f0f0", "#ff7f00"])
_NONE_CMAP = ListedColormap(["#e8e8e8"])


def unit_weights(kind, row, col, size, kernel):
    """The weights of output unit (row, col), laid out on the input grid.

    Made-up but fixed numbers (seeded), so that moving the unit shows what
    changes: a dense or local unit has its own weights, a conv unit reuses
    the one shared kernel.

    Parameters
    ----------
    kind : {'dense', 'local', 'conv'}
    row, col : int
        Output position, ``0 <= row, col < size - kernel + 1``.
    size, kernel : int
        Square input and kernel sizes.

    Returns
    -------
    weights : ndarray, shape (size, size)
        The weight on each input pixel; NaN where the unit has no
        connection.
    """
    if kind not in KINDS:
        raise ValueError(
            f"unit_weights: kind must be one of {KINDS}, got {kind!r}")
    n_out = size - kernel + 1
    if not (0 <= row < n_out and 0 <= col < n_out):
        raise ValueError(
            f"unit_weights: row and col must be in 0..{n_out - 1} for a "
            f"{kernel}x{kernel} kernel on a {size}x{size} input, got "
            f"({row}, {col})")
    weights = np.full((size, size), np.nan)
    if kind == "dense":
        rng = np.random.default_rng([1, row, col])
        return rng.normal(size=(size, size))
    if kind == "local":
        rng = np.random.default_rng([2, row, col, kernel])
    else:  # one kernel for every position: the seed ignores row and col
        rng = np.random.default_rng([3, kernel])
    weights[row:row + kernel, col:col + kernel] = rng.normal(
        size=(kernel, kernel))
    return weights


def render_connectivity(row=1, col=1, kernel=3, size=6):
    """Input pixels and weights of one output unit, for the three kinds.

    Parameters
    ----------
    row, col : int
        Output unit; clipped to the output grid (size - kernel + 1 square),
        so dragging the kernel slider never fails.
    kernel : int
        Kernel size of the local and conv layers (one filter, stride 1).
    size : int
        Input height = width.

    Returns
    -------
    fig : matplotlib Figure
        Top row: the input grid; coloured cells are the pixels this unit
        sees, the colour is the weight on that pixel (red positive, blue
        negative). Bottom row: the output grid with the unit in orange.
        Titles give the whole layer's parameter and multiply-add counts
        (one filter, biases included). Moving the unit changes the dense
        and local weights; the conv weights move along unchanged.
    """
    if not 1 <= kernel <= size:
        raise ValueError(
            f"render_connectivity: kernel must be 1..{size} for a "
            f"{size}x{size} input, got {kernel}")
    n_out = size - kernel + 1
    row, col = min(max(int(row), 0), n_out - 1), min(max(int(col), 0), n_out - 1)
    # one axes per kind, input grid above output grid in the same data
    # units: half the axes of a grid of panels, and axes are slow to make
    fig = Figure(figsize=(6.0, 4.4), dpi=DPI)
    axes = fig.subplots(1, 3)
    gap = 2.2  # rows between the grids, room for the output label
    top = size + gap - 0.5  # y of the output grid's upper edge
    shift = (size - n_out) / 2  # output grid centred under the input
    out = np.zeros((n_out, n_out))
    out[row, col] = 1
    for ax, kind in zip(axes, KINDS):
        wts = unit_weights(kind, row, col, size, kernel)
        seen = int(np.isfinite(wts).sum())
        ax.set_axis_off()
        ax.imshow(np.zeros((size, size)), cmap=_NONE_CMAP,
                  interpolation="nearest")  # grey: no connection
        ax.imshow(np.ma.masked_invalid(wts), cmap=SIGNED_CMAP, vmin=-2.5,
                  vmax=2.5, interpolation="nearest")
        ax.imshow(out, cmap=_OUT_CMAP, vmin=0, vmax=1, interpolation="nearest",
                  extent=(shift - 0.5, shift + n_out - 0.5, top + n_out, top))
        _grid(ax, size, size, 0.0, -0.5)
        _grid(ax, n_out, n_out, shift, top)
        if kind != "dense":
            ax.add_patch(Rectangle((col - 0.5, row - 0.5), kernel, kernel,
                                   fill=False, edgecolor="k", linewidth=2))
        cost = layer_cost(kind, (size, size), 1, kernel)
        share = "shared weights" if kind == "conv" else "own weights"
        # text as outlines (cell_text): Text artists were half the time
        draw_title(ax, f"{_TITLES[kind]}\nsees {seen} pixels, {share}\n"
                       f"{cost.params:,} params, {cost.macs:,} mult-adds")
        draw_cell_text(ax, [(size - 1) / 2], [top - 0.3],
                       [f"output unit ({row}, {col}) of {n_out}x{n_out}"],
                       va="bottom", clip=False)
        ax.set_xlim(-0.5, size - 0.5)
        ax.set_ylim(top + max(n_out, 1) + 0.1, -0.6)
    draw_cell_text(axes[1], [0.5], [0.005], ["colour = weight (red +, blue "
                   "-), grey = no connection"], fontsize=8, va="bottom",
                   coords="figure")
    fig.subplots_adjust(left=0.02, right=0.98, top=0.86, bottom=0.05,
                        wspace=0.1)
    return fig


def _grid(ax, h, w, x0, y0):
    """White cell borders and a dark frame for an h x w grid at (x0, y0)."""
    xs, ys = x0 - 0.5 + np.arange(w + 1), y0 + np.arange(h + 1)
    ax.vlines(xs[1:-1], y0, y0 + h, colors="white", linewidth=1)
    ax.hlines(ys[1:-1], x0 - 0.5, x0 + w - 0.5, colors="white", linewidth=1)
    ax.add_patch(Rectangle((x0 - 0.5, y0), w, h, fill=False,
                           edgecolor="0.2", linewidth=0.8, clip_on=False))


def explore_connectivity(size=6):
    """Live `render_connectivity`: output unit (row, col) and kernel size.
    """
    import ipywidgets as wd

    n_out = size - 3 + 1
    row = wd.IntSlider(value=1, min=0, max=n_out - 1, description="unit row",
                       tooltip="unit row: output row of the unit shown")
    col = wd.IntSlider(value=1, min=0, max=n_out - 1, description="unit col",
                       tooltip="unit col: output column of the unit shown")
    kernel = wd.IntSlider(value=3, min=1, max=size, description="kernel",
                          tooltip="kernel: height = width of the kernel")

    def follow_kernel(change):
        # the output grid is (size - kernel + 1) square: no dead values
        for s in (row, col):
            s.max = size - change["new"]

    kernel.observe(follow_kernel, names="value")
    return explorer(
        lambda **v: render_connectivity(size=size, **v),
        {"row": row, "col": col, "kernel": kernel},
        title="What does one output unit see?")
