"""Pictures for the notebooks: images, kernels with their numbers, feature
maps, and tensors drawn as boxes.

Every function draws on a Matplotlib axes and returns it (or the figure).
Pass ``ax`` to draw into an existing figure; without it a new pyplot figure
is made, so a notebook cell can call one function and then ``plt.show()``.
Nothing here calls ``plt.show()`` or changes global style.

Colour conventions kept in every notebook: grey for images and unsigned
values, a zero-centred red/blue map (red positive, blue negative, white
zero) with a colour bar for signed values such as kernels and feature maps.
"""

import numpy as np

__all__ = [
    "SIGNED_CMAP",
    "symmetric_limit",
    "show_image",
    "show_signed",
    "show_values",
    "cell_lines",
    "show_kernel",
    "mosaic",
    "show_mosaic",
    "show_maps",
    "draw_box",
    "show_tensor",
]

SIGNED_CMAP = "RdBu_r"


def _axes(ax, figsize=(3, 3)):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
    return ax


def _bare(ax):
    """Hide ticks but keep the frame: pixel positions carry no meaning."""
    ax.set_xticks([])
    ax.set_yticks([])


def symmetric_limit(*arrays):
    """Largest absolute finite value over ``arrays`` (1.0 if all are zero).

    Used as ``vmin=-v, vmax=v`` so that zero is always white.

    Notes
    -----
    Taught in notebooks/02_convolution.ipynb.
    """
    v = 0.0
    for a in arrays:
        a = np.asarray(a, dtype=np.float64)
        finite = a[np.isfinite(a)]
        if finite.size:
            v = max(v, float(np.abs(finite).max()))
    return v if v > 0 else 1.0


def show_image(img, ax=None, title=None, cmap="gray", vmin=None, vmax=None,
               colorbar=False):
    """Show a 2-D array as an image (no ticks, square pixels).

    Parameters
    ----------
    img : ndarray, shape (H, W) or (H, W, 3)
    ax : matplotlib Axes, optional
    title : str, optional
    cmap : str
        Colour map for 2-D arrays (grey by default).
    vmin, vmax : float, optional
        Colour limits; default: the data range.
    colorbar : bool
        Add a colour bar beside the image.

    Returns
    -------
    ax : matplotlib Axes

    Notes
    -----
    Taught in notebooks/01_local_connectivity.ipynb onwards.
    """
    ax = _axes(ax)
    img = np.asarray(img)
    im = ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax,
                   interpolation="nearest")
    _bare(ax)
    if title:
        ax.set_title(title, fontsize=9)
    if colorbar:
        # pointed ends on the colour bar when values lie beyond the limits
        lo, hi = im.get_clim()
        finite = img[np.isfinite(img)] if img.size else img
        below = finite.size and finite.min() < lo
        above = finite.size and finite.max() > hi
        extend = {(1, 1): "both", (1, 0): "min", (0, 1): "max"}.get(
            (int(bool(below)), int(bool(above))), "neither")
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, extend=extend)
    return ax


def show_signed(img, ax=None, title=None, vmax=None, colorbar=True):
    """Show signed values with a zero-centred colour map and a colour bar.

    Red is positive, blue negative, white exactly zero.

    Parameters
    ----------
    img : ndarray, shape (H, W)
    ax : matplotlib Axes, optional
    title : str, optional
    vmax : float, optional
        Colour limit (``-vmax`` to ``vmax``); default: largest ``|img|``.
    colorbar : bool

    Returns
    -------
    ax : matplotlib Axes

    Notes
    -----
    Taught in notebooks/02_convolution.ipynb.
    """
    v = symmetric_limit(img) if vmax is None else float(vmax)
    return show_image(img, ax=ax, title=title, cmap=SIGNED_CMAP, vmin=-v,
                      vmax=v, colorbar=colorbar)


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

    Notes
    -----
    Taught in notebooks/02_convolution.ipynb.
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
        for (i, j), val in np.ndenumerate(a):
            if np.isfinite(val):
                ax.text(j, i, fmt.format(val + 0.0), ha="center", va="center",
                        fontsize=fontsize,
                        color="white" if dark[i, j] else "black")
    # thin cell borders so equal neighbours stay countable
    h, w = a.shape
    cell_lines(ax, h, w)
    if axis_labels:
        ax.set_xticks(range(w))
        ax.set_yticks(range(h))
        ax.tick_params(labelsize=7, length=0)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
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

    Notes
    -----
    Taught in notebooks/02_convolution.ipynb.
    """
    ax.vlines(np.arange(0.5, w - 1, 1), -0.5, h - 0.5, colors=color,
              linewidth=linewidth)
    ax.hlines(np.arange(0.5, h - 1, 1), -0.5, w - 0.5, colors=color,
              linewidth=linewidth)
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    return ax


def show_kernel(w, ax=None, title=None, fmt=None, fontsize=9):
    """A 2-D kernel as signed coloured cells with its numbers.

    Parameters
    ----------
    w : ndarray, shape (KH, KW)

    Returns
    -------
    ax : matplotlib Axes

    Notes
    -----
    Taught in notebooks/02_convolution.ipynb.
    """
    return show_values(w, ax=ax, title=title, fmt=fmt, signed=True,
                       fontsize=fontsize)


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

    Notes
    -----
    Taught in notebooks/03_channels_and_feature_maps.ipynb.
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
                fontsize=7):
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
    of axes (the slow part of drawing a figure) small. Taught in
    notebooks/03_channels_and_feature_maps.ipynb.
    """
    maps = np.asarray(maps, dtype=np.float64)
    ncols = len(maps) if ncols is None else int(ncols)
    tiles = mosaic(maps, ncols=ncols, pad=pad)
    if signed is None:
        signed = bool((maps < 0).any())
    h, w = maps.shape[1:]
    if values:
        ax = show_values(tiles, ax=ax, title=title, fmt=fmt, signed=signed,
                         vmax=vmax, fontsize=fontsize)
        # cell borders inside each tile only, not across the gaps
        for coll in list(ax.collections):
            coll.remove()
        for side in ax.spines.values():
            side.set_visible(False)
        for k in range(len(maps)):
            r, c = divmod(k, ncols)
            y0, x0 = r * (h + pad) - 0.5, c * (w + pad) - 0.5
            ax.vlines(x0 + np.arange(w + 1), y0, y0 + h, colors="0.6",
                      linewidth=0.5)
            ax.hlines(y0 + np.arange(h + 1), x0, x0 + w, colors="0.6",
                      linewidth=0.5)
    else:
        ax = _axes(ax)
        if signed:
            v = symmetric_limit(maps) if vmax is None else float(vmax)
            kw = dict(cmap=SIGNED_CMAP, vmin=-v, vmax=v)
        else:
            kw = dict(cmap="gray", vmin=float(maps.min()),
                      vmax=float(maps.max()) if vmax is None else vmax)
        im = ax.imshow(np.ma.masked_invalid(tiles), interpolation="nearest",
                       **kw)
        _bare(ax)
        for side in ax.spines.values():
            side.set_visible(False)
        if colorbar:
            ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.02)
        if title:
            ax.set_title(title, fontsize=9)
    for k, label in enumerate(labels or ()):
        r, c = divmod(k, ncols)
        ax.text(c * (w + pad) + (w - 1) / 2, r * (h + pad) - 0.7, label,
                ha="center", va="bottom", fontsize=fontsize)
    return ax


def show_maps(maps, titles=None, ncols=None, signed=None, fig=None,
              panel_size=1.3, suptitle=None, colorbar=True):
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
        One shared colour bar for all panels.

    Returns
    -------
    fig : matplotlib Figure

    Notes
    -----
    Shared limits make the maps comparable: a pale map really is a weak
    response. Taught in notebooks/01_local_connectivity.ipynb and
    notebooks/03_channels_and_feature_maps.ipynb.
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
            im = ax.imshow(maps[k], interpolation="nearest", **kw)
            _bare(ax)
            if titles is not None:
                ax.set_title(titles[k], fontsize=8)
        else:
            ax.axis("off")
    if colorbar and im is not None:
        fig.colorbar(im, ax=axes.ravel().tolist(), fraction=0.02, pad=0.02)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    return fig


def draw_box(ax, x, y, width, height, depth, color="#9ecae1", label=None,
             alpha=0.9, fontsize=8, edgecolor="0.2"):
    """Draw one cuboid in an oblique projection (depth goes up-right).

    Parameters
    ----------
    ax : matplotlib Axes
    x, y : float
        Lower-left corner of the front face, in data units.
    width, height, depth : float
        Box size; ``depth`` is drawn at 45 degrees, half length.
    color : colour
    label : str, optional
        Written under the box.

    Returns
    -------
    ax : matplotlib Axes

    Notes
    -----
    Used by `show_tensor`. Taught in notebooks/01_local_connectivity.ipynb.
    """
    from matplotlib.patches import Polygon

    dx, dy = 0.5 * depth, 0.5 * depth
    front = [(x, y), (x + width, y), (x + width, y + height), (x, y + height)]
    top = [(x, y + height), (x + width, y + height),
           (x + width + dx, y + height + dy), (x + dx, y + height + dy)]
    side = [(x + width, y), (x + width + dx, y + dy),
            (x + width + dx, y + height + dy), (x + width, y + height)]
    for pts, shade in ((side, 0.75), (top, 0.9), (front, 1.0)):
        poly = Polygon(pts, closed=True, facecolor=color, edgecolor=edgecolor,
                       linewidth=0.8, alpha=alpha)
        ax.add_patch(poly)
        if shade < 1.0:
            ax.add_patch(Polygon(pts, closed=True, facecolor="black",
                                 alpha=(1 - shade) * 0.6, linewidth=0))
    if label:
        ax.text(x + width / 2, y - 0.15 * max(height, 1), label, ha="center",
                va="top", fontsize=fontsize)
    return ax


def show_tensor(shape, ax=None, names=None, title=None, color="#9ecae1",
                max_boxes=5):
    """Draw a 3-D or 4-D array shape as boxes: a 4-D array is a row of 3-D
    boxes, one per index of its first axis.

    Parameters
    ----------
    shape : tuple of int, length 3 or 4
        ``(C, H, W)`` or, e.g., ``(N, C, H, W)`` / ``(F, C, KH, KW)``.
    ax : matplotlib Axes, optional
    names : tuple of str, optional
        Axis names, e.g. ``("F", "C", "KH", "KW")``, used in the labels.
    title : str, optional
        Default: the shape with its axis names.
    color : colour
    max_boxes : int
        Draw at most this many boxes along the first axis, then "...".

    Returns
    -------
    ax : matplotlib Axes

    Notes
    -----
    Depth (drawn up-right) is the channel axis C; height and width are the
    spatial axes. Box sides grow with the square root of the size, so 3 and
    224 both stay drawable. Taught in notebooks/01_local_connectivity.ipynb.
    """
    ax = _axes(ax, figsize=(5, 2))
    shape = tuple(int(s) for s in shape)
    if len(shape) not in (3, 4) or min(shape) < 1:
        raise ValueError(
            f"show_tensor: shape must have 3 or 4 positive entries, got {shape}"
        )
    if names is None:
        names = ("N", "C", "H", "W")[-len(shape):]
    lead = shape[0] if len(shape) == 4 else 1
    c, h, w = shape[-3:]
    big = np.sqrt(max(c, h, w))
    bw, bh, bd = (2.0 * np.clip(np.sqrt(s) / big, 0.3, 1.0) for s in (w, h, c))
    n_draw = min(lead, max_boxes)
    step = bw + 0.5 * bd + 0.7
    for i in range(n_draw):
        lab = f"{names[0]}={i}" if len(shape) == 4 else None
        draw_box(ax, i * step, 0.0, bw, bh, bd, color=color, label=lab)
    right = (n_draw - 1) * step + bw + 0.5 * bd
    if lead > n_draw:
        ax.text(right + 0.3, bh / 2, "...", va="center", fontsize=12)
        right += 1.0
    # axis sizes written on the first box only
    ax.text(-0.1, bh / 2, f"{names[-2]}={h}", ha="right", va="center",
            fontsize=8)
    ax.text(0.25 * bd + bw / 2, bh + 0.5 * bd + 0.05, f"{names[-1]}={w}",
            ha="center", va="bottom", fontsize=8)
    if len(shape) == 3:
        ax.text(bw + 0.25 * bd + 0.1, 0.25 * bd - 0.1, f"{names[-3]}={c}",
                ha="left", va="top", fontsize=8)
    ax.set_xlim(-1.0, right + 0.2)
    ax.set_ylim(-0.7, bh + 0.5 * bd + 0.5)
    ax.set_aspect("equal")
    ax.axis("off")
    if title is None:
        title = "(" + ", ".join(f"{n}={s}" for n, s in zip(names, shape)) + ")"
        if len(shape) == 4:
            title += f": {lead} boxes of ({names[1]}, {names[2]}, {names[3]})"
    ax.set_title(title, fontsize=9)
    return ax


# ---- more helpers below ----


# -- notebook 07 (training): probabilities, digit grids, confusion matrix --

__all__ += ["show_probabilities", "show_digits", "show_confusion_matrix"]


def show_probabilities(probs, ax=None, true=None, title=None):
    """Bar chart of one example's class probabilities.

    The predicted (largest) bar is dark blue, the others light; the true
    class, if given, is outlined in red.

    Parameters
    ----------
    probs : ndarray, shape (K,)
    ax : matplotlib Axes, optional
    true : int, optional
        The true class.
    title : str, optional

    Returns
    -------
    ax : matplotlib Axes

    Notes
    -----
    Taught in notebooks/07_training_a_cnn.ipynb.
    """
    ax = _axes(ax, figsize=(4, 2.5))
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 1:
        raise ValueError(
            f"show_probabilities: probs must have shape (K,), got {probs.shape}"
        )
    k = len(probs)
    pred = int(np.argmax(probs))
    colours = ["#1f77b4" if c == pred else "#a6c8e6" for c in range(k)]
    bars = ax.bar(np.arange(k), probs, color=colours)
    if true is not None:
        bars[int(true)].set_edgecolor("#d62728")
        bars[int(true)].set_linewidth(2)
    ax.set_xticks(np.arange(k))
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("class" + ("" if true is None else " (red outline: true)"),
                  fontsize=9)
    ax.set_ylabel("probability", fontsize=9)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def show_digits(images, titles=None, ncols=8, fig=None, panel_size=1.1,
                suptitle=None):
    """A grid of grey-scale digits, each with an optional title.

    Parameters
    ----------
    images : ndarray, shape (M, H, W) or (M, 1, H, W)
    titles : list of str, optional
        One per image (several lines are fine).
    ncols : int
        Images per row.
    fig : matplotlib Figure, optional
        Draw into this figure (default: a new pyplot figure).
    panel_size : float
        Inches per panel.
    suptitle : str, optional

    Returns
    -------
    fig : matplotlib Figure

    Notes
    -----
    Each digit keeps its own grey range. Taught in
    notebooks/07_training_a_cnn.ipynb.
    """
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3 or images.shape[0] == 0:
        raise ValueError(
            f"show_digits: images must have shape (M, H, W) or (M, 1, H, W) "
            f"with M >= 1, got {np.shape(images)}"
        )
    m = images.shape[0]
    ncols = min(m, int(ncols))
    nrows = -(-m // ncols)
    lines = 0 if titles is None else max(str(t).count("\n") + 1 for t in titles)
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(panel_size * ncols,
                                  (panel_size + 0.15 * lines) * nrows
                                  + 0.3 * bool(suptitle)))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k < m:
            show_image(images[k], ax=ax,
                       title=None if titles is None else titles[k])
        else:
            ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    return fig


def show_confusion_matrix(cm, ax=None, title=None, fontsize=8):
    """A confusion matrix with every count written in its cell.

    Rows are true classes, columns predicted classes. The diagonal (right
    answers) is drawn in light grey so that the mistakes, coloured from pale
    to dark red by count, stand out.

    Parameters
    ----------
    cm : ndarray of int, shape (K, K)
        ``cm[i, j]`` = number of examples of class i predicted as j.
    ax : matplotlib Axes, optional
    title : str, optional
    fontsize : float

    Returns
    -------
    ax : matplotlib Axes

    Notes
    -----
    Taught in notebooks/07_training_a_cnn.ipynb.
    """
    ax = _axes(ax, figsize=(4.5, 4.5))
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(
            f"show_confusion_matrix: cm must have shape (K, K), got {cm.shape}"
        )
    k = cm.shape[0]
    off = np.where(np.eye(k, dtype=bool), np.nan, cm.astype(np.float64))
    worst = np.nanmax(off) if k > 1 and np.nanmax(off) > 0 else 1.0
    ax.imshow(np.where(np.eye(k, dtype=bool), 1.0, np.nan), cmap="Greys",
              vmin=0, vmax=6, interpolation="nearest")
    ax.imshow(np.ma.masked_invalid(off), cmap="Reds", vmin=0, vmax=worst * 1.2,
              interpolation="nearest")
    for (i, j), n in np.ndenumerate(cm):
        if n or i == j:
            dark = i != j and n > 0.6 * worst
            ax.text(j, i, f"{n}", ha="center", va="center", fontsize=fontsize,
                    color="white" if dark else "black")
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.tick_params(labelsize=8, length=0)
    ax.set_xlabel("predicted class", fontsize=9)
    ax.set_ylabel("true class", fontsize=9)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


__all__ += ["show_layer_outputs", "show_digits_with_probabilities"]


def show_layer_outputs(outputs, names, fig=None, panel_size=1.6):
    """What one example looks like after every layer of a network.

    Top row: each image-shaped output (input, conv, ReLU, pool) as a mosaic
    of its channels, red positive and blue negative, with its own colour
    limits. Bottom row: each vector (dense layers, scores, probabilities)
    as bars.

    Parameters
    ----------
    outputs : list of ndarray
        One example's outputs, each shape (C, H, W) or (D,).
    names : list of str
        One title per output; the shape is added below it.
    fig : matplotlib Figure, optional
        Draw into this figure (default: a new pyplot figure).
    panel_size : float
        Inches per panel.

    Returns
    -------
    fig : matplotlib Figure

    Notes
    -----
    Taught in notebooks/07_training_a_cnn.ipynb.
    """
    if len(outputs) != len(names):
        raise ValueError(
            f"show_layer_outputs: need one name per output, got "
            f"{len(outputs)} outputs and {len(names)} names"
        )
    outputs = [np.asarray(o, dtype=np.float64) for o in outputs]
    for o, n in zip(outputs, names):
        if o.ndim not in (1, 3):
            raise ValueError(
                f"show_layer_outputs: output {n!r} must have shape (C, H, W) "
                f"or (D,), got {o.shape}"
            )
    maps = [(o, n) for o, n in zip(outputs, names) if o.ndim == 3]
    vecs = [(o, n) for o, n in zip(outputs, names) if o.ndim == 1]
    ncols = max(len(maps), len(vecs), 1)
    nrows = int(bool(maps)) + int(bool(vecs))
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(panel_size * ncols, panel_size * 1.25 * nrows))
    grid = fig.add_gridspec(nrows, ncols, hspace=0.55, wspace=0.25)
    for k, (o, n) in enumerate(maps):
        ax = fig.add_subplot(grid[0, k])
        c = o.shape[0]
        cols = c if c <= 3 else int(np.ceil(np.sqrt(c)))
        v = symmetric_limit(o)
        ax.imshow(mosaic(o, ncols=cols), cmap=SIGNED_CMAP, vmin=-v, vmax=v,
                  interpolation="nearest")
        _bare(ax)
        ax.set_title(f"{n}\n{o.shape}", fontsize=8)
    for k, (o, n) in enumerate(vecs):
        ax = fig.add_subplot(grid[nrows - 1, k])
        colours = np.where(o >= 0, "#d6604d", "#4393c3")
        ax.bar(np.arange(len(o)), o, width=1.0 if len(o) > 20 else 0.8,
               color=colours)
        ax.axhline(0, color="0.5", linewidth=0.5)
        ax.tick_params(labelsize=6)
        if len(o) <= 10:
            ax.set_xticks(range(len(o)))
        ax.set_title(f"{n}\n({len(o)},)", fontsize=8)
    return fig


def show_digits_with_probabilities(images, probs, labels=None, fig=None,
                                   panel_size=1.5):
    """Each digit above a bar chart of the class probabilities it got.

    Parameters
    ----------
    images : ndarray, shape (M, 1, H, W) or (M, H, W)
    probs : ndarray, shape (M, K)
    labels : ndarray of int, shape (M,), optional
        True classes (outlined in red in the bars).
    fig : matplotlib Figure, optional
    panel_size : float

    Returns
    -------
    fig : matplotlib Figure

    Notes
    -----
    Taught in notebooks/07_training_a_cnn.ipynb.
    """
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    probs = np.asarray(probs, dtype=np.float64)
    if images.ndim != 3 or probs.ndim != 2 or len(images) != len(probs) \
            or len(images) == 0:
        raise ValueError(
            f"show_digits_with_probabilities: images (M, H, W) and probs "
            f"(M, K) must match, got {np.shape(images)} and {probs.shape}"
        )
    m = len(images)
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(panel_size * m, panel_size * 2.1))
    axes = fig.subplots(2, m, squeeze=False,
                        gridspec_kw={"height_ratios": [1.2, 1], "hspace": 0.45})
    for k in range(m):
        pred = int(np.argmax(probs[k]))
        head = f"pred {pred} ({probs[k, pred]:.0%})"
        if labels is not None:
            head = f"true {int(labels[k])}\n" + head
        show_image(images[k], ax=axes[0, k], title=head)
        ax = axes[1, k]
        show_probabilities(probs[k], ax=ax,
                           true=None if labels is None else int(labels[k]))
        ax.set_xlabel("")
        ax.tick_params(labelsize=6)
        if k:
            ax.set_ylabel("")
            ax.set_yticklabels([])
    return fig
