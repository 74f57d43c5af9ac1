"""Array shapes drawn as 3-D boxes: (C, H, W) as one box, (N, C, H, W) as a
row of boxes.

Taught in notebooks/01_local_connectivity.ipynb.
"""

import numpy as np

from .base import _axes

__all__ = ["draw_box", "show_tensor"]


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
    Used by `show_tensor`.
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
    224 both stay drawable.
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
    # depth (the channel axis) labelled on the first box too
    ax.text(bw + 0.25 * bd + 0.05, 0.25 * bd - 0.05, f"{names[-3]}={c}",
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
