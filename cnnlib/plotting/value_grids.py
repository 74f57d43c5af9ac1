"""Small matrices drawn as coloured cells with every number written in.

The hand-checkable pictures: inputs, kernels, products and outputs of a
convolution. The numbers are drawn as one artist per grid
(`cnnlib.plotting.cell_text`), which keeps the explorers that use them fast. Import
these from `cnnlib.plotting`.

Taught in notebooks/02_convolution.ipynb.
"""

import numpy as np

from .base import SIGNED_CMAP, _axes, _bare, symmetric_limit
from .cell_text import draw_cell_text

__all__ = ["show_values", "cell_lines", "axis_numbers", "show_kernel"]


def show_values(values, ax=None, title=None, fmt=None, signed=None,
                vmax=None, cmap=None, fontsize=9, boxes=(), axis_labels=False):
    """Draw a small matrix as coloured cells with each number written in.

    The hand-checkable picture: every entry is visible. NaN cells are left
    blank (e.g. output cells not computed yet).

    Parameters
    ----------
    values : ndarray, shape (H, W)
    ax : matplotlib Axes, optional
    title : str, optional
    fmt : str, optional
        Format for the numbers, e.g. ``"{:.0f}"``; default: integers when
        all values are whole numbers, else one decimal.
    signed : bool, optional
        Zero-centred red/blue colours (default: True if any value < 0).
    vmax : float, optional
        Colour limit; default: largest ``|value|``.
    cmap : str, optional
        Overrides the colour map (e.g. ``"Greys"``).
    fontsize : float
        Size of the numbers; None writes no numbers.
    boxes : sequence of (row, col, height, width, colour)
        Rectangles to outline, e.g. the window a kernel covers.
    axis_labels : bool
        Label rows and columns 0, 1, 2, ... (for index-based exercises).

    Returns
    -------
    ax : matplotlib Axes
    """
    from matplotlib.patches import Rectangle

    ax = _axes(ax)
    a = np.asarray(values, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(
            f"show_values: values must have shape (H, W) (2-D), got {a.shape}"
        )
    finite = a[np.isfinite(a)]
    if signed is None:
        signed = bool(finite.size) and bool((finite < 0).any())
    if signed:
        v = symmetric_limit(a) if vmax is None else float(vmax)
        vmin, cm = -v, cmap or SIGNED_CMAP
    else:
        v = (float(finite.max()) if finite.size else 1.0) if vmax is None else vmax
        lo = float(finite.min()) if finite.size else 0.0
        vmin, cm = min(lo, 0.0), cmap or "Greys"
        v = v if v > vmin else vmin + 1.0
    im = ax.imshow(np.ma.masked_invalid(a), cmap=cm, vmin=vmin, vmax=v,
                   interpolation="nearest")
    if fmt is None:
        whole = finite.size == 0 or np.all(finite == np.round(finite))
        fmt = "{:.0f}" if whole else "{:.1f}"
    if fontsize:
        rgba = im.cmap(im.norm(np.where(np.isfinite(a), a, 0.0)))
        dark = rgba[..., :3] @ np.array([0.299, 0.587, 0.114]) < 0.5
        rows, cols = np.nonzero(np.isfinite(a))
        # one artist for the whole grid: far faster than a Text per cell
        draw_cell_text(ax, cols, rows,
                       [fmt.format(v + 0.0) for v in a[rows, cols]],
                       color=np.where(dark[rows, cols], "white", "black"),
                       fontsize=fontsize)
    # thin cell borders so equal neighbours stay countable
    h, w = a.shape
    cell_lines(ax, h, w)
    _bare(ax)
    if axis_labels:
        axis_numbers(ax, h, w)
    for r, c, bh, bw, colour in boxes:
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), bw, bh, fill=False,
                               edgecolor=colour, linewidth=2.5))
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def cell_lines(ax, h, w, color="0.75", linewidth=0.5):
    """Draw the borders between the cells of an ``h x w`` image on ``ax``.

    Two line collections: far cheaper to draw than a minor-tick grid, which
    keeps the explorers fast.

    Returns
    -------
    ax : matplotlib Axes
    """
    ax.vlines(np.arange(0.5, w - 1, 1), -0.5, h - 0.5, colors=color,
              linewidth=linewidth)
    ax.hlines(np.arange(0.5, h - 1, 1), -0.5, w - 0.5, colors=color,
              linewidth=linewidth)
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    return ax


def axis_numbers(ax, h, w, start=0, color="0.3", fontsize=8):
    """Label the rows and columns of an ``h x w`` grid start, start+1, ...

    Written beside the grid like tick labels, but as one artist each (see
    `cnnlib.plotting.cell_text`): tick objects are slow to make and draw.

    Returns
    -------
    ax : matplotlib Axes
    """
    common = dict(color=color, fontsize=fontsize, clip=False, in_layout=True)
    draw_cell_text(ax, np.full(h, -0.5), np.arange(h),
                   [str(i + start) for i in range(h)], ha="right",
                   offset=(-4, 0), **common)
    draw_cell_text(ax, np.arange(w), np.full(w, h - 0.5),
                   [str(i + start) for i in range(w)], va="top",
                   offset=(0, -4), **common)
    return ax


def show_kernel(w, ax=None, title=None, fmt=None, fontsize=9):
    """A 2-D kernel as signed coloured cells with its numbers.

    Parameters
    ----------
    w : ndarray, shape (KH, KW)

    Returns
    -------
    ax : matplotlib Axes
    """
    return show_values(w, ax=ax, title=title, fmt=fmt, signed=True,
                       fontsize=fontsize)
