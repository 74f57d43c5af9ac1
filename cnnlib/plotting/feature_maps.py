"""Many feature maps at once: tiled into one array (`mosaic`), into one
axes (`show_mosaic`, fast enough for explorers) or one panel each
(`show_maps`), always on one shared colour scale. Import these from
`cnnlib.plotting`.

Taught in notebooks/03_channels_and_feature_maps.ipynb.
"""

import numpy as np

from .base import SIGNED_CMAP, _axes, _bare, symmetric_limit
from .cell_text import draw_cell_text

__all__ = ["mosaic", "show_mosaic", "show_maps"]


def mosaic(maps, ncols=None, pad=1):
    """Tile many 2-D maps into one array, separated by NaN gaps.

    One ``imshow`` of a mosaic is much faster than one axes per map, which
    keeps the explorers responsive.

    Parameters
    ----------
    maps : ndarray, shape (M, H, W)
    ncols : int, optional
        Maps per row (default: about square).
    pad : int
        Width of the NaN gap between maps.

    Returns
    -------
    tiles : ndarray, shape (rows*(H+pad)-pad, ncols*(W+pad)-pad)
    """
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim != 3 or maps.shape[0] == 0:
        raise ValueError(
            f"mosaic: maps must have shape (M, H, W) with M >= 1, got "
            f"{maps.shape}"
        )
    m, h, w = maps.shape
    ncols = int(np.ceil(np.sqrt(m))) if ncols is None else int(ncols)
    nrows = -(-m // ncols)
    tiles = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), np.nan)
    for k in range(m):
        r, c = divmod(k, ncols)
        top, left = r * (h + pad), c * (w + pad)
        tiles[top:top + h, left:left + w] = maps[k]
    return tiles


def show_mosaic(maps, ax=None, ncols=None, pad=1, labels=None, title=None,
                signed=None, vmax=None, colorbar=False, values=False, fmt=None,
                fontsize=8):
    """Many small maps in ONE axes: a fast alternative to `show_maps`.

    Parameters
    ----------
    maps : ndarray, shape (M, H, W)
    ax : matplotlib Axes, optional
    ncols : int, optional
        Maps per row (default: all in one row).
    pad : int
        Blank cells between maps.
    labels : list of str, optional
        Written above each map.
    title : str, optional
    signed : bool, optional
        Zero-centred colours (default: True if any value < 0).
    vmax : float, optional
        Shared colour limit (default: largest ``|value|``).
    colorbar : bool
    values : bool
        Write every number in its cell (small kernels).
    fmt : str, optional
        Number format when ``values`` is True.
    fontsize : float
        For labels and numbers.

    Returns
    -------
    ax : matplotlib Axes

    Notes
    -----
    All maps share one colour scale. Explorers use this to keep the number
    of axes (the slow part of drawing a figure) small.
    """
    maps = np.asarray(maps, dtype=np.float64)
    ncols = len(maps) if ncols is None else int(ncols)
    tiles = mosaic(maps, ncols=ncols, pad=pad)
    if signed is None:
        signed = bool((maps < 0).any())
    h, w = maps.shape[1:]
    ax = _axes(ax)
    if signed:
        v = symmetric_limit(maps) if vmax is None else float(vmax)
        kw = dict(cmap=SIGNED_CMAP, vmin=-v, vmax=v)
    else:
        kw = dict(cmap="gray", vmin=float(maps.min()),
                  vmax=float(maps.max()) if vmax is None else vmax)
    im = ax.imshow(np.ma.masked_invalid(tiles), interpolation="nearest", **kw)
    ax.set_axis_off()
    rows, cols = np.divmod(np.arange(len(maps)), ncols)
    tops, lefts = rows * (h + pad) - 0.5, cols * (w + pad) - 0.5
    if values:
        # numbers and per-tile borders: one artist each (cell_text)
        r, c = np.nonzero(np.isfinite(tiles))
        fmt = fmt or "{:.2g}"
        rgba = im.cmap(im.norm(tiles[r, c]))
        dark = rgba[:, :3] @ np.array([0.299, 0.587, 0.114]) < 0.5
        draw_cell_text(ax, c, r, [fmt.format(t + 0.0) for t in tiles[r, c]],
                       color=np.where(dark, "white", "black"),
                       fontsize=fontsize)
        steps_w, steps_h = np.arange(w + 1), np.arange(h + 1)
        ax.vlines((lefts[:, None] + steps_w).ravel(),
                  np.repeat(tops, w + 1), np.repeat(tops + h, w + 1),
                  colors="0.6", linewidth=0.5)
        ax.hlines((tops[:, None] + steps_h).ravel(),
                  np.repeat(lefts, h + 1), np.repeat(lefts + w, h + 1),
                  colors="0.6", linewidth=0.5)
    if colorbar:
        bar = ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.02)
        bar.ax.locator_params(nbins=4)  # few labels: each Text is slow
    if title:
        ax.set_title(title, fontsize=9)
    labels = list(labels or ())[:len(maps)]
    if labels:
        draw_cell_text(ax, lefts[:len(labels)] + w / 2,
                       tops[:len(labels)] - 0.2, labels,
                       fontsize=fontsize, va="bottom", clip=False,
                       in_layout=True)
    return ax


def show_maps(maps, titles=None, ncols=None, signed=None, fig=None,
              panel_size=1.3, suptitle=None, colorbar=True, own_scale=False):
    """A grid of feature maps, one small panel each, sharing colour limits.

    Parameters
    ----------
    maps : ndarray, shape (M, H, W)
    titles : list of str, optional
        One per map.
    ncols : int, optional
        Panels per row (default: up to 8).
    signed : bool, optional
        Zero-centred colours (default: True if any value < 0).
    fig : matplotlib Figure, optional
        Draw into this figure (default: a new pyplot figure).
    panel_size : float
        Inches per panel.
    suptitle : str, optional
    colorbar : bool
        One shared colour bar for all panels (not with ``own_scale``).
    own_scale : bool
        Give each panel its own colour limits and write its largest
        ``|value|`` in its title: a weak map (one small pixel) is then
        visible next to strong ones.

    Returns
    -------
    fig : matplotlib Figure

    Notes
    -----
    Shared limits make the maps comparable: a pale map really is a weak
    response.
    """
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim != 3:
        raise ValueError(
            f"show_maps: maps must have shape (M, H, W), got {maps.shape}"
        )
    m = maps.shape[0]
    ncols = min(m, 8) if ncols is None else int(ncols)
    nrows = -(-m // ncols)
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(panel_size * ncols + 0.6 * colorbar,
                                  panel_size * nrows + 0.3 * bool(suptitle)))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    if signed is None:
        signed = bool((maps < 0).any())
    if signed:
        v = symmetric_limit(maps)
        kw = dict(cmap=SIGNED_CMAP, vmin=-v, vmax=v)
    else:
        kw = dict(cmap="gray", vmin=float(maps.min()), vmax=float(maps.max()))
    im = None
    for k, ax in enumerate(axes.flat):
        if k < m:
            title = None if titles is None else titles[k]
            if own_scale:
                v = symmetric_limit(maps[k])
                kw = (dict(cmap=SIGNED_CMAP, vmin=-v, vmax=v) if signed else
                      dict(cmap="gray", vmin=min(float(maps[k].min()), 0.0),
                           vmax=v))
                title = f"{title or ''}\n(max |value| {v:.3g})".strip()
            im = ax.imshow(maps[k], interpolation="nearest", **kw)
            _bare(ax)
            if title:
                ax.set_title(title, fontsize=8)
        else:
            ax.axis("off")
    if colorbar and im is not None and not own_scale:
        fig.colorbar(im, ax=axes.ravel().tolist(), fraction=0.02, pad=0.02)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    return fig
