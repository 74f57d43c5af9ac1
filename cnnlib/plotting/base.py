"""What every picture shares: the colour conventions, a new axes when none
is given, and plain images.

Grey for images and unsigned values; a zero-centred red/blue map (red
positive, blue negative, white zero) with a colour bar for signed values
such as kernels and feature maps. Import these from `cnnlib.plotting`.

Taught in notebooks/01_local_connectivity.ipynb onwards.
"""

import numpy as np

__all__ = ["SIGNED_CMAP", "READABLE_RC", "readable_figures",
           "symmetric_limit", "show_image", "show_signed"]

SIGNED_CMAP = "RdBu_r"

# Figures a laptop shows unscaled with text >= 10 px: the inline backend
# draws at 72 dpi, where 8 pt is 8 px; at 100 dpi the smallest text used
# here (7.5 pt) is 10.4 px, and a 6-inch figure is 600 px, what JupyterLab's
# notebook column holds at 1024 px with the file browser open.
READABLE_RC = {
    "figure.dpi": 100,
    "figure.figsize": (6.0, 3.0),
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "legend.fontsize": 8.5,
}


def readable_figures():
    """Set matplotlib's defaults so notebook figures stay readable.

    Call once in a notebook's setup cell, after ``%matplotlib inline``
    (nothing in cnnlib changes global style on import). Keep figures at
    most 6 inches wide and font sizes at least 7.5 pt: the text is then at
    least 10 px on screen even on a 1024 px laptop with the file browser
    open (the explorers follow the same rule).

    Returns
    -------
    dict
        The settings applied (`READABLE_RC`).
    """
    import matplotlib

    matplotlib.rcParams.update(READABLE_RC)
    return dict(READABLE_RC)


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
    """
    v = symmetric_limit(img) if vmax is None else float(vmax)
    return show_image(img, ax=ax, title=title, cmap=SIGNED_CMAP, vmin=-v,
                      vmax=v, colorbar=colorbar)
