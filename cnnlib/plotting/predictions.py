"""Figures of a trained classifier: class probabilities, digit grids, the
confusion matrix and one example's path through the layers.

Taught in notebooks/07_training_a_cnn.ipynb.
"""

import numpy as np

from .base import SIGNED_CMAP, _axes, _bare, show_image, symmetric_limit
from .feature_maps import mosaic

__all__ = [
    "show_probabilities",
    "show_digits",
    "show_confusion_matrix",
    "show_layer_outputs",
    "show_digits_with_probabilities",
]


def show_probabilities(probs, ax=None, true=None, title=None):
    """Bar chart of one example's class probabilities.

    The predicted (largest) bar is dark blue, the others light; the true
    class, if given, is outlined in red, has a red class number and a red
    triangle above its bar (seen even when its probability is near zero).

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
    ax.set_xticks(np.arange(k))
    if true is not None:
        bars[int(true)].set_edgecolor("#d62728")
        bars[int(true)].set_linewidth(2)
        # A near-zero bar's outline is invisible: mark the class name too.
        label = ax.get_xticklabels()[int(true)]
        label.set_color("#d62728")
        label.set_fontweight("bold")
        ax.plot(int(true), probs[int(true)] + 0.1, marker="v", markersize=6,
                color="#d62728", linestyle="none")
    ax.set_ylim(0, 1.2 if true is not None else 1.05)
    ax.set_yticks([0, 0.5, 1])
    ax.set_xlabel("class" + ("" if true is None
                             else " (\u25bc and bold: true class)"),
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
    Each digit keeps its own grey range.
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




def show_layer_outputs(outputs, names, fig=None, panel_size=1.6,
                       max_cols=None):
    """What one example looks like after every layer of a network.

    Top row: each image-shaped output (input, conv, ReLU, pool) as a mosaic
    of its channels, red positive and blue negative, with its own colour
    limits (maps of 8x8 or smaller: each channel its own, so 16 tiny maps
    stay readable) (a one-channel first output, the input image, in grey; the gaps
    between channels in light grey) and a colour bar giving its scale.
    Bottom row: each vector (dense layers, scores, probabilities) as bars.
    With `max_cols`, each kind wraps onto several rows.

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
    max_cols : int, optional
        At most this many panels per row (default: all in one row).

    Returns
    -------
    fig : matplotlib Figure
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
    if max_cols is not None:
        ncols = min(ncols, max(int(max_cols), 1))
    map_rows = -(-len(maps) // ncols)
    nrows = map_rows + -(-len(vecs) // ncols)
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(panel_size * ncols, panel_size * 1.25 * nrows))
    grid = fig.add_gridspec(nrows, ncols, hspace=0.4, wspace=0.4)
    for k, (o, n) in enumerate(maps):
        _map_panel(fig, fig.add_subplot(grid[k // ncols, k % ncols]), o, n,
                   grey=k == 0 and o.shape[0] == 1 and outputs[0].ndim == 3)
    for k, (o, n) in enumerate(vecs):
        _vector_panel(fig.add_subplot(grid[map_rows + k // ncols, k % ncols]),
                      o, n)
    return fig


def _map_panel(fig, ax, o, name, grey=False):
    """One (C, H, W) output as a mosaic of channels with a colour bar."""
    import matplotlib

    signed_cmap = matplotlib.colormaps[SIGNED_CMAP].with_extremes(bad="0.8")
    c = o.shape[0]
    cols = c if c <= 3 else int(np.ceil(np.sqrt(c)))
    v = symmetric_limit(o)
    kw = dict(cmap=signed_cmap, vmin=-v, vmax=v)
    title = f"{name}\n{o.shape}"
    if grey:
        kw = dict(cmap="gray")
    elif c > 1 and o.shape[1] * o.shape[2] <= 64:
        # many tiny maps (16 of 5x5): on one scale most are pale specks;
        # scaled each to its own largest |value| they show their pattern
        # (the colour bar then reads -1..1)
        peaks = np.array([symmetric_limit(m) for m in o])
        o = o / peaks[:, None, None]
        kw = dict(cmap=signed_cmap, vmin=-1.0, vmax=1.0)
        title += "\neach channel on its own scale"
    im = ax.imshow(np.ma.masked_invalid(mosaic(o, ncols=cols)),
                   interpolation="nearest", **kw)
    _bare(ax)
    ax.set_title(title, fontsize=9)
    bar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
    bar.ax.tick_params(labelsize=8)


def _vector_panel(ax, o, name):
    """One (D,) output as bars, positive red, negative blue."""
    colours = np.where(o >= 0, "#d6604d", "#4393c3")
    ax.bar(np.arange(len(o)), o, width=1.0 if len(o) > 20 else 0.8,
           color=colours)
    ax.axhline(0, color="0.5", linewidth=0.5)
    ax.tick_params(labelsize=8)
    if len(o) <= 10:
        ax.set_xticks(range(len(o)))
    ax.set_title(f"{name}\n({len(o)},)", fontsize=9)


def show_digits_with_probabilities(images, probs, labels=None, fig=None,
                                   panel_size=1.5):
    """Each digit above a bar chart of the class probabilities it got.

    Parameters
    ----------
    images : ndarray, shape (M, 1, H, W) or (M, H, W)
    probs : ndarray, shape (M, K)
    labels : ndarray of int, shape (M,), optional
        True classes (marked in red in the bars).
    fig : matplotlib Figure, optional
    panel_size : float

    Returns
    -------
    fig : matplotlib Figure
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
        ax.tick_params(labelsize=8)
        if k:
            ax.set_ylabel("")
            ax.set_yticklabels([])
    return fig
