"""Drawing a whole explorer on ONE axes, in data units.

Making an axes (with its ticks) and drawing a `Text` are the slow parts of
a Matplotlib figure: a figure of many panels takes longer than the 0.1 s a
slider allows. These helpers put images, number grids and a colour bar at
chosen places on a single axes (usually with ``ax.set_axis_off()``), with
text as outlines (`cnnlib.plotting.cell_text`). Set the axes limits to the whole
layout at the end: ``ax.set_xlim(x0, x1); ax.set_ylim(y1, y0)`` (y down).

A helper of the channels explorer (`cnnlib.widgets.channels`), not taught
on its own.
"""

import numpy as np
from matplotlib.patches import Rectangle

from ..plotting import SIGNED_CMAP, mosaic, symmetric_limit
from ..plotting.cell_text import draw_cell_text

__all__ = ["place_image", "place_values", "colour_bar"]


def place_image(ax, img, left, top, scale=1.0, vmax=None, cmap=SIGNED_CMAP):
    """Draw ``img`` with the centre of its top-left cell at (left, top).

    Parameters
    ----------
    ax : matplotlib Axes
    img : ndarray, shape (H, W)
        NaN cells are left blank (e.g. the gaps of a `mosaic`).
    left, top : float
        Data position; each cell is ``scale`` data units wide.
    scale : float
    vmax : float, optional
        Colour limits -vmax..vmax (default: largest ``|img|``); ignored for
        ``cmap="gray"``, which uses the data range.
    cmap : str

    Returns
    -------
    image : matplotlib AxesImage
    """
    h, w = img.shape
    v = symmetric_limit(img) if vmax is None else vmax
    kw = {} if cmap == "gray" else dict(vmin=-v, vmax=v)
    return ax.imshow(np.ma.masked_invalid(img), cmap=cmap,
                     interpolation="nearest", **kw,
                     extent=(left - 0.5, left - 0.5 + w * scale,
                             top + h * scale, top))


def place_values(ax, kernels, left, top, scale, fmt="{:.2g}", fontsize=8):
    """Small kernels side by side, enlarged, with their numbers and borders.

    Parameters
    ----------
    ax : matplotlib Axes
    kernels : ndarray, shape (M, KH, KW)
        One signed colour scale for all; a one-cell gap between kernels.
    left, top, scale : float
        As for `place_image`.
    fmt : str
    fontsize : float

    Returns
    -------
    image : matplotlib AxesImage
    """
    tiles = mosaic(kernels, ncols=len(kernels), pad=1)
    im = place_image(ax, tiles, left, top, scale)
    r, c = np.nonzero(np.isfinite(tiles))
    rgba = im.cmap(im.norm(tiles[r, c]))
    dark = rgba[:, :3] @ np.array([0.299, 0.587, 0.114]) < 0.5
    x0, y0 = left - 0.5, top
    draw_cell_text(ax, x0 + (c + 0.5) * scale, y0 + (r + 0.5) * scale,
                   [fmt.format(v + 0.0) for v in tiles[r, c]],
                   color=np.where(dark, "white", "black"), fontsize=fontsize)
    kh, kw = kernels.shape[1:]
    lefts = x0 + np.arange(len(kernels)) * (kw + 1) * scale
    xs = (lefts[:, None] + np.arange(kw + 1) * scale).ravel()
    ys = y0 + np.arange(kh + 1) * scale
    ax.vlines(xs, y0, y0 + kh * scale, colors="0.6", linewidth=0.5)
    ax.hlines(np.tile(ys, len(kernels)), np.repeat(lefts, kh + 1),
              np.repeat(lefts + kw * scale, kh + 1), colors="0.6",
              linewidth=0.5)
    return im


def colour_bar(ax, left, top, length, v, width=1.5, fontsize=8):
    """A vertical -v..v colour bar for `SIGNED_CMAP`, labelled v, 0, -v.

    Drawn on ``ax`` itself: no extra axes and no tick objects.

    Returns
    -------
    image : matplotlib AxesImage
    """
    ramp = np.linspace(v, -v, 64)[:, None]
    im = ax.imshow(ramp, cmap=SIGNED_CMAP, vmin=-v, vmax=v, aspect="auto",
                   interpolation="nearest",
                   extent=(left, left + width, top + length, top))
    ax.add_patch(Rectangle((left, top), width, length, fill=False,
                           edgecolor="0.3", linewidth=0.6))
    ys = top + np.array([0.0, 0.5, 1.0]) * length
    ax.hlines(ys, left + width, left + width + 0.5, colors="0.3",
              linewidth=0.6)
    draw_cell_text(ax, np.full(3, left + width + 0.9), ys,
                   [f"{v:.3g}", "0", f"{-v:.3g}"], fontsize=fontsize,
                   ha="left", clip=False)
    return im
